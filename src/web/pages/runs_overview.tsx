/**
 * The runs overview (`/runs`): the last 24 hours at a glance, then every run the
 * session may see, newest first, paged and filtered by a GET form (so the filters are
 * in the address and a link can be shared). Also the live progress of a run under way,
 * shown here and on the run page: the page carries the numbers as they were when it
 * was made, and `/assets/progress.js` keeps them current (without JavaScript, the page
 * refreshes itself).
 */
import { localTime, STATUS_LABELS, tableLabel, TRIGGER_LABELS } from "../format.ts";
import type { Identity } from "../context.ts";
import type {
  DaySummary,
  FilterProblem,
  RunFilterQuery,
  RunListItem,
  RunProgress,
  RunRow,
} from "../queries.ts";
import { FAILED_STATUSES } from "../queries.ts";
import { RUN_STATUSES, STAGE_LABELS } from "../../pipeline/run_state.ts";
import { IMPORT_TABLES } from "../../sis/catalog.ts";
import { Notice, Pager, Status } from "./components.tsx";
import { Layout } from "./layout.tsx";

export { STAGE_LABELS };

/** "41 %" while the file is read, else the stage in words. */
export function progressShort(progress: RunProgress | null): string {
  if (progress === null) return "starting";
  if (progress.stage === "reading" && progress.percent !== null) return `${progress.percent} %`;
  return STAGE_LABELS[progress.stage].toLowerCase();
}

/** A duration in seconds as people read it: `0.4 s`, `12 s`, `3 min 5 s`, `1 h 2 min`. */
export function durationText(ms: number): string {
  if (ms < 0) return "—";
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** How long a run took (or, under way, has taken so far); "—" before it started. */
export function runDuration(run: RunRow, now: Date): string {
  if (!run.startedAt) return "—";
  const end = run.endedAt ? Date.parse(run.endedAt) : now.getTime();
  return durationText(end - Date.parse(run.startedAt));
}

/** A run's status; a running one with its progress ("Running — 41 %"), kept current by the script. */
export function RunStatusCell(props: { run: RunRow; progress: RunProgress | null }) {
  const { run } = props;
  if (run.status !== "running") return <Status status={run.status} />;
  return (
    <span data-progress-run={String(run.id)}>
      <Status status={run.status} /> —{" "}
      <span data-field="short">{progressShort(props.progress)}</span>
    </span>
  );
}

/** The progress panel of a run under way (on its page), kept current by the script. */
export function RunProgressPanel(props: { run: RunRow; progress: RunProgress | null }) {
  const { run, progress } = props;
  const percent = progress?.percent ?? null;
  return (
    <section
      class="run-progress"
      aria-labelledby="progress-title"
      data-progress-run={String(run.id)}
      data-reload-when-done=""
    >
      <h2 id="progress-title">Progress</h2>
      <progress max={100} value={percent ?? 0} aria-labelledby="progress-title" data-field="bar">
        {percent ?? 0} %
      </progress>
      <dl class="progress-facts">
        <div>
          <dt>Stage</dt>
          <dd data-field="stage">{progress ? STAGE_LABELS[progress.stage] : "Starting"}</dd>
        </div>
        <div>
          <dt>Rows read</dt>
          <dd data-field="rows">{(progress?.rowsRead ?? 0).toLocaleString("en-US")}</dd>
        </div>
        <div>
          <dt>File read</dt>
          <dd data-field="bytes">{bytesRead(progress)}</dd>
        </div>
      </dl>
      <p class="hint">
        <a href={`/runs/${run.id}`}>Refresh</a> to see the latest numbers.
      </p>
    </section>
  );
}

/** A size in short: bytes, KB or MB with one decimal. */
function size(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1048576) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1048576).toFixed(1)} MB`;
}

/** "3.1 MB of 7.5 MB (41 %)", or what is known of it. */
export function bytesRead(progress: RunProgress | null): string {
  if (!progress) return "—";
  if (progress.fileSize === null) return size(progress.bytesRead);
  const share = progress.percent === null ? "" : ` (${progress.percent} %)`;
  return `${size(progress.bytesRead)} of ${size(progress.fileSize)}${share}`;
}

/** What the overview page shows. */
export interface RunsOverviewProps {
  timeZone: string;
  identity: Identity;
  summary: DaySummary;
  items: RunListItem[];
  total: number;
  page: number;
  pageSize: number;
  /** The filters as given (the form shows them again). */
  query: RunFilterQuery;
  problems: FilterProblem[];
  /** The schools the session may pick (its own only, for a school's session). */
  schools: { schoolNumber: number; name: string }[];
  /** The records the session may pick. */
  records: { id: number; name: string; schoolId: number }[];
  now: Date;
}

/** The overview page: the last 24 hours, the filter form, a page of runs. */
export function RunsOverview(props: RunsOverviewProps) {
  const zone = props.timeZone;
  const active = props.items.some((i) => i.run.status === "running" || i.run.status === "queued");
  const running = props.items.some((i) => i.run.status === "running");
  const shown = queryString(props.query);
  return (
    <Layout
      title="Runs"
      timeZone={zone}
      identity={props.identity}
      breadcrumbs={[{ label: "AutoComm Setup", href: "/" }, { label: "Runs" }]}
      {...(active ? { refreshSeconds: 10 } : {})}
      liveProgress={running}
    >
      <h1>Runs</h1>
      <DaySummaryPanel summary={props.summary} zone={zone} />
      <h2 id="runs-title">All runs</h2>
      {props.problems.length > 0
        ? (
          <Notice kind="bad">
            Some filters were not used:{" "}
            {props.problems.map((p) => `${p.field}: ${p.message}`).join("; ")}.
          </Notice>
        )
        : ""}
      <RunFilters query={props.query} schools={props.schools} records={props.records} />
      <p class="muted" role="status">
        {props.total === 1 ? "1 run" : `${props.total.toLocaleString("en-US")} runs`}, newest first.
      </p>
      {props.items.length === 0
        ? <p class="empty">No runs match these filters.</p>
        : <OverviewTable items={props.items} zone={zone} now={props.now} />}
      <Pager
        page={props.page}
        pageSize={props.pageSize}
        total={props.total}
        href={(p) => `/runs?${shown}${shown ? "&" : ""}page=${p}`}
        label="Pages of runs"
      />
    </Layout>
  );
}

/** The query string of a filter (empty values left out), for links that keep it. */
export function queryString(query: RunFilterQuery): string {
  const params = new URLSearchParams();
  for (const s of query.status ?? []) params.append("status", s);
  for (const key of ["table", "school", "record", "trigger", "from", "to"] as const) {
    const v = query[key];
    if (v !== undefined && v !== "") params.set(key, v);
  }
  return params.toString();
}

/** A link into the list: the window of the summary and `query`. */
function listHref(summary: DaySummary, query: RunFilterQuery): string {
  return `/runs?${queryString({ ...query, from: summary.from, to: summary.to })}`;
}

/** The last 24 hours: runs by status, records to look at, rows changed. */
function DaySummaryPanel(props: { summary: DaySummary; zone: string }) {
  const s = props.summary;
  const statuses = RUN_STATUSES.filter((st) => (s.byStatus[st] ?? 0) > 0);
  const committed = ["succeeded", "succeeded_with_errors"];
  return (
    <section class="day-summary" aria-labelledby="day-title">
      <h2 id="day-title">Last 24 hours</h2>
      <div class="summary-grid">
        <div class="summary-box">
          <h3>Runs by status</h3>
          {statuses.length === 0 ? <p class="muted">No runs.</p> : (
            <ul class="plain">
              {statuses.map((st) => (
                <li>
                  <a href={listHref(s, { status: [st] })}>
                    {s.byStatus[st]} {STATUS_LABELS[st] ?? st}
                  </a>
                </li>
              ))}
            </ul>
          )}
        </div>
        <RecordList
          title="Failed"
          empty="No record failed."
          items={s.failed.map((f) => ({
            ...f,
            href: listHref(s, { status: [...FAILED_STATUSES], record: String(f.recordId) }),
            note: f.runs === 1 ? "1 run" : `${f.runs} runs`,
          }))}
        />
        <RecordList
          title="Held for approval"
          empty="No run is held."
          items={s.held.map((h) => ({
            ...h,
            href: `/runs/${h.lastRunId}`,
            note: `run #${h.lastRunId}`,
          }))}
        />
        <RecordList
          title="Did not run at their scheduled time"
          empty="No scheduled run was missed."
          items={s.missed.map((m) => ({
            ...m,
            href: `/runs?${queryString({ record: String(m.recordId) })}`,
            note: `due ${m.slotKey.split("@")[1]!.replace("T", " ")} ${props.zone}`,
          }))}
        />
        <div class="summary-box">
          <h3>Rows</h3>
          <ul class="plain">
            {(["inserted", "updated", "removed", "rejected"] as const).map((k) => (
              <li>
                <a href={listHref(s, { status: committed })}>
                  {s.rows[k].toLocaleString("en-US")} {k}
                </a>
              </li>
            ))}
          </ul>
        </div>
      </div>
    </section>
  );
}

/** A box of the summary that names records, each with a link. */
function RecordList(props: {
  title: string;
  empty: string;
  items: { recordId: number; name: string; schoolId: number; href: string; note: string }[];
}) {
  return (
    <div class="summary-box">
      <h3>{props.title}</h3>
      {props.items.length === 0 ? <p class="muted">{props.empty}</p> : (
        <ul class="plain">
          {props.items.map((i) => (
            <li>
              <a href={i.href}>{i.name}</a>{" "}
              <span class="muted">
                ({i.schoolId === 0 ? "District Office" : `school ${i.schoolId}`}, {i.note})
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The GET form of the filters. */
function RunFilters(
  props: {
    query: RunFilterQuery;
    schools: RunsOverviewProps["schools"];
    records: RunsOverviewProps["records"];
  },
) {
  const q = props.query;
  const picked = new Set((q.status ?? []).flatMap((s) => s.split(",")));
  return (
    <form method="get" action="/runs" class="run-filters" aria-labelledby="runs-title">
      <fieldset class="statuses">
        <legend>Status</legend>
        {RUN_STATUSES.map((st) => (
          <label class="check">
            <input type="checkbox" name="status" value={st} checked={picked.has(st)} />{" "}
            {STATUS_LABELS[st] ?? st}
          </label>
        ))}
      </fieldset>
      <div class="filter-fields">
        <label>
          Table
          <select name="table">
            <option value="">Any</option>
            {IMPORT_TABLES.map((t) => (
              <option value={t} selected={q.table === t}>{tableLabel(t)}</option>
            ))}
          </select>
        </label>
        <label>
          School
          <select name="school">
            <option value="">Any</option>
            {props.schools.map((s) => (
              <option value={String(s.schoolNumber)} selected={q.school === String(s.schoolNumber)}>
                {s.schoolNumber === 0 ? "District Office" : `${s.schoolNumber} ${s.name}`}
              </option>
            ))}
          </select>
        </label>
        <label>
          Record
          <select name="record">
            <option value="">Any</option>
            {props.records.map((r) => (
              <option value={String(r.id)} selected={q.record === String(r.id)}>
                {r.name} ({r.schoolId === 0 ? "District Office" : `school ${r.schoolId}`})
              </option>
            ))}
          </select>
        </label>
        <label>
          Trigger
          <select name="trigger">
            <option value="">Any</option>
            {Object.entries(TRIGGER_LABELS).map(([t, label]) => (
              <option value={t} selected={q.trigger === t}>{label}</option>
            ))}
          </select>
        </label>
        <label>
          From <span class="muted">(YYYY-MM-DD)</span>
          <input type="text" name="from" value={q.from ?? ""} size={16} />
        </label>
        <label>
          To <span class="muted">(YYYY-MM-DD, included)</span>
          <input type="text" name="to" value={q.to ?? ""} size={16} />
        </label>
      </div>
      <div class="buttons">
        <button type="submit" class="button">Show runs</button>
        <a class="button secondary" href="/runs">Clear filters</a>
      </div>
    </form>
  );
}

/** A page of runs: record, school, table, trigger, status, start, duration, counts. */
function OverviewTable(props: { items: RunListItem[]; zone: string; now: Date }) {
  const { zone } = props;
  return (
    <div class="table-scroll" role="region" aria-labelledby="runs-caption" tabindex={0}>
      <table class="list runs-overview">
        <caption id="runs-caption" class="visually-hidden">Runs, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Record</th>
            <th scope="col">School</th>
            <th scope="col">Table</th>
            <th scope="col">Trigger</th>
            <th scope="col">Status</th>
            <th scope="col">Started ({zone})</th>
            <th scope="col" class="num">Duration</th>
            <th scope="col" class="num">Read</th>
            <th scope="col" class="num">Inserted</th>
            <th scope="col" class="num">Updated</th>
            <th scope="col" class="num">Removed</th>
            <th scope="col" class="num">Rejected</th>
          </tr>
        </thead>
        <tbody>
          {props.items.map(({ run, recordName, progress }) => (
            <tr>
              <td>
                <a href={`/runs/${run.id}`} aria-label={`Run ${run.id}`}>#{run.id}</a>
              </td>
              <td>
                {recordName !== null && run.recordId !== null
                  ? <a href={`/records/${run.recordId}/runs`}>{recordName}</a>
                  : run.recordId === null
                  ? <span class="muted">One-off import</span>
                  : <span class="muted">Deleted record #{run.recordId}</span>}
              </td>
              <td>{run.schoolId === 0 ? "District Office" : run.schoolId}</td>
              <td>
                {tableLabel(run.table, (run.options as { attendanceMode?: string }).attendanceMode)}
              </td>
              <td>
                {TRIGGER_LABELS[run.trigger] ?? run.trigger}
                {run.preview ? " (preview)" : ""}
              </td>
              <td>
                <RunStatusCell run={run} progress={progress} />
              </td>
              <td>
                <time datetime={run.startedAt ?? run.queuedAt}>
                  {localTime(run.startedAt ?? run.queuedAt, zone)}
                </time>
              </td>
              <td class="num">{runDuration(run, props.now)}</td>
              <td class="num">{progress ? progress.rowsRead : run.read}</td>
              <td class="num">{run.inserted}</td>
              <td class="num">{run.updated}</td>
              <td class="num">{run.removed + run.inactivated}</td>
              <td class="num">{run.rejected}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
