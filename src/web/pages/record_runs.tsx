/** A record's run history, newest first, paged, with its settings and actions. */
import type { StoredRecord } from "../../records/store.ts";
import type { Identity } from "../context.ts";
import { hasRole } from "../auth/roles.ts";
import { clock, daysText, tableLabel, TRIGGER_LABELS } from "../format.ts";
import type { RunRow } from "../queries.ts";
import { Csrf, Pager, Status, TableScroll, Time } from "./components.tsx";
import { Layout } from "./layout.tsx";
import { TrendChart } from "./trend_chart.tsx";

/** What the history page shows. */
export interface RecordRunsProps {
  timeZone: string;
  identity: Identity;
  record: StoredRecord;
  runs: RunRow[];
  /** The runs of the trend chart, newest first. */
  trend: RunRow[];
  total: number;
  page: number;
  pageSize: number;
}

/**
 * The history page: the record's settings in a line, its actions, the trend of its
 * last runs, and a page of its runs.
 */
export function RecordRuns(props: RecordRunsProps) {
  const { record: r, identity } = props;
  const zone = props.timeZone;
  return (
    <Layout
      title={`Runs of ${r.name}`}
      timeZone={zone}
      identity={identity}
      breadcrumbs={[
        { label: "AutoComm Setup", href: `/?school=${r.schoolId}` },
        { label: r.name },
      ]}
    >
      <h1>Runs of {r.name}</h1>
      <p>
        {tableLabel(r.table, r.attendanceMode)} · <code>{r.path}</code> · {clock(r.hour, r.minute)}
        {" "}
        <span class="zone">{zone}</span> · {daysText(r.days)} · execution{" "}
        {r.executionOff ? "off" : "on"}
      </p>
      <RecordActions record={r} identity={identity} />
      <TrendChart runs={props.trend} zone={zone} recordName={r.name} />
      {props.runs.length === 0
        ? <p class="empty">This record has not run yet.</p>
        : (
          <TableScroll label={`Runs of ${r.name}`}>
            <RunTable runs={props.runs} zone={zone} recordName={r.name} />
          </TableScroll>
        )}
      <Pager
        page={props.page}
        pageSize={props.pageSize}
        total={props.total}
        href={(p) => `/records/${r.id}/runs?page=${p}`}
        label="Pages of runs"
      />
    </Layout>
  );
}

/** Run Now and Preview for runners, Edit for editors. */
function RecordActions(props: { record: StoredRecord; identity: Identity }) {
  const { record: r, identity } = props;
  return (
    <div class="buttons">
      {hasRole(identity.role, "runner")
        ? (
          <form method="post" action={`/records/${r.id}/run`} class="inline">
            <Csrf token={identity.csrfToken} />
            <button type="submit" class="button">Run Now</button>
          </form>
        )
        : ""}
      {hasRole(identity.role, "runner")
        ? (
          <form method="post" action={`/records/${r.id}/preview`} class="inline">
            <Csrf token={identity.csrfToken} />
            <button type="submit" class="button secondary">Preview</button>
          </form>
        )
        : ""}
      {hasRole(identity.role, "editor")
        ? <a class="button secondary" href={`/records/${r.id}/edit`}>Edit</a>
        : ""}
    </div>
  );
}

/** A page of runs, newest first: status, trigger, times and the main counts. */
function RunTable(props: { runs: RunRow[]; zone: string; recordName: string }) {
  const { zone } = props;
  return (
    <table class="list">
      <caption class="visually-hidden">Runs of {props.recordName}, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Run</th>
          <th scope="col">Status</th>
          <th scope="col">Trigger</th>
          <th scope="col">Started ({zone})</th>
          <th scope="col">Ended ({zone})</th>
          <th scope="col" class="num">Read</th>
          <th scope="col" class="num">Inserted</th>
          <th scope="col" class="num">Updated</th>
          <th scope="col" class="num">Rejected</th>
          <th scope="col" class="num">Removed</th>
        </tr>
      </thead>
      <tbody>
        {props.runs.map((run) => (
          <tr>
            <td>
              <a href={`/runs/${run.id}`}>
                <span class="visually-hidden">{`Run `}</span>#{run.id}
              </a>
            </td>
            <td>
              <Status status={run.status} />
            </td>
            <td>
              {TRIGGER_LABELS[run.trigger] ?? run.trigger}
              {run.preview ? " (preview)" : ""}
            </td>
            <td>
              <Time iso={run.startedAt ?? run.queuedAt} zone={zone} />
            </td>
            <td>
              <Time iso={run.endedAt} zone={zone} />
            </td>
            <td class="num">{run.read}</td>
            <td class="num">{run.inserted}</td>
            <td class="num">{run.updated}</td>
            <td class="num">{run.rejected}</td>
            <td class="num">{run.removed}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
