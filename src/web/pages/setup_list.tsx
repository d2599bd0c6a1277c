/** AutoComm Setup: the school context's records, in sort order then by name. */
import type { StoredRecord } from "../../records/store.ts";
import type { Identity } from "../context.ts";
import { hasRole } from "../auth/roles.ts";
import { clock, daysText, tableLabel } from "../format.ts";
import type { RunProgress, RunRow, SchoolRow } from "../queries.ts";
import { Csrf, Notice, TableScroll, Time, VisuallyHidden } from "./components.tsx";
import { RunStatusCell } from "./runs_overview.tsx";
import { Layout } from "./layout.tsx";

/** What the list page shows. */
export interface SetupListProps {
  timeZone: string;
  identity: Identity;
  school: SchoolRow;
  schools: SchoolRow[];
  records: StoredRecord[];
  lastRuns: Map<number, RunRow>;
  /** The progress of the last runs that are running, by run id. */
  progress?: Map<number, RunProgress | null>;
  notice?: string | undefined;
}

/**
 * The list page: the school context switch, what the role may do (New, Managed
 * connections), and the table of records with their last run and actions.
 */
export function SetupList(props: SetupListProps) {
  const { identity, school } = props;
  const canEdit = hasRole(identity.role, "editor");
  const isAdmin = hasRole(identity.role, "admin");
  const q = `?school=${school.schoolNumber}`;
  return (
    <Layout
      title="AutoComm Setup"
      timeZone={props.timeZone}
      identity={identity}
      school={school.schoolNumber}
      breadcrumbs={[{ label: "System" }, { label: "Data Management" }, { label: "AutoComm Setup" }]}
      liveProgress={[...props.lastRuns.values()].some((r) => r.status === "running")}
    >
      <div class="title-row">
        <h1>AutoComm Setup — {school.name}</h1>
        <SchoolSwitch school={school} schools={props.schools} />
      </div>
      {props.notice ? <Notice>{props.notice}</Notice> : ""}
      {school.schoolNumber === 0
        ? (
          <p class="hint">
            District Office context: only Students and Teachers records can be created or changed
            here.
          </p>
        )
        : ""}
      {canEdit || isAdmin
        ? (
          <p>
            {canEdit ? <a class="button" href={`/records/new${q}`}>New</a> : ""}
            {isAdmin
              ? (
                <>
                  {" "}
                  <a class="button secondary" href="/connections">Managed connections</a>
                </>
              )
              : ""}
          </p>
        )
        : ""}
      {props.records.length === 0
        ? <p class="empty">No AutoComm records in this school yet.</p>
        : (
          <TableScroll label={`AutoComm records of ${props.school.name}`}>
            <RecordTable {...props} />
          </TableScroll>
        )}
    </Layout>
  );
}

/** The school context switch (a GET form, so it works without script). */
function SchoolSwitch(props: { school: SchoolRow; schools: SchoolRow[] }) {
  return (
    <form method="get" action="/" class="context-switch">
      <label for="school-switch">School context</label>
      <select id="school-switch" name="school">
        {props.schools.map((s) => (
          <option
            value={String(s.schoolNumber)}
            selected={s.schoolNumber === props.school.schoolNumber}
          >
            {s.schoolNumber === 0 ? "District Office" : `${s.name} (${s.schoolNumber})`}
          </option>
        ))}
      </select>
      <button type="submit" class="button secondary">Switch</button>
    </form>
  );
}

/** The records of the school context, one row each. */
function RecordTable(props: SetupListProps) {
  return (
    <table class="list cards">
      <caption class="visually-hidden">AutoComm records of {props.school.name}</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Table</th>
          <th scope="col">When ({props.timeZone})</th>
          <th scope="col">Days</th>
          <th scope="col">Execution</th>
          <th scope="col">Last run</th>
          <th scope="col">
            <span class="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {props.records.map((r) => (
          <RecordRow
            record={r}
            last={props.lastRuns.get(r.id)}
            progress={props.progress}
            identity={props.identity}
            timeZone={props.timeZone}
          />
        ))}
      </tbody>
    </table>
  );
}

/**
 * One record: its name (to Edit for editors, to its runs for others), table, time,
 * days, execution, last run, and the actions the role allows.
 */
function RecordRow(
  props: {
    record: StoredRecord;
    last: RunRow | undefined;
    identity: Identity;
    timeZone: string;
    progress?: Map<number, RunProgress | null> | undefined;
  },
) {
  const { record: r, last, identity } = props;
  const canEdit = hasRole(identity.role, "editor");
  const canRun = hasRole(identity.role, "runner");
  return (
    <tr>
      <td class="card-title">
        <a href={canEdit ? `/records/${r.id}/edit` : `/records/${r.id}/runs`}>
          {r.name}
        </a>
        {r.sortOrder !== null ? <span class="muted small sort-order">Sort {r.sortOrder}</span> : ""}
      </td>
      <td data-label="Table">{tableLabel(r.table, r.attendanceMode)}</td>
      <td data-label="When">
        {clock(r.hour, r.minute)} <span class="zone">{props.timeZone}</span>
      </td>
      <td data-label="Days">{daysText(r.days)}</td>
      <td data-label="Execution">
        {r.executionOff ? <span class="off">Off</span> : <span class="on">On</span>}
      </td>
      <td data-label="Last run">
        {last
          ? (
            <a href={`/runs/${last.id}`}>
              <VisuallyHidden>{`Last run of ${r.name}: `}</VisuallyHidden>
              <RunStatusCell run={last} progress={props.progress?.get(last.id) ?? null} />
              <br />
              <span class="small">
                <Time iso={last.endedAt ?? last.startedAt ?? last.queuedAt} zone={props.timeZone} />
              </span>
            </a>
          )
          : <span class="muted">Never run</span>}
      </td>
      <td class="actions">
        {canEdit
          ? (
            <a href={`/records/${r.id}/edit`}>
              Edit<VisuallyHidden>{` ${r.name}`}</VisuallyHidden>
            </a>
          )
          : ""}
        {canEdit
          ? (
            <a href={`/records/${r.id}/delete`}>
              Delete<VisuallyHidden>{` ${r.name}`}</VisuallyHidden>
            </a>
          )
          : ""}
        <a href={`/records/${r.id}/runs`}>
          Runs<VisuallyHidden>{` of ${r.name}`}</VisuallyHidden>
        </a>
        {canRun
          ? (
            <form method="post" action={`/records/${r.id}/run`} class="inline">
              <Csrf token={identity.csrfToken} />
              <button type="submit" class="button small" aria-label={`Run Now: ${r.name}`}>
                Run Now
              </button>
            </form>
          )
          : ""}
      </td>
    </tr>
  );
}
