/**
 * One run: status, trigger, times, file, counts, notes, errors (paged), the
 * rejected-rows download, and for a held run what would be removed, with Approve
 * and Discard.
 */
import type { StoredProblemCode } from "../../problems.ts";
import type { StoredRecord } from "../../records/store.ts";
import type { Identity } from "../context.ts";
import { hasRole } from "../auth/roles.ts";
import { bytes, isActiveStatus, tableLabel, TRIGGER_LABELS } from "../format.ts";
import type { RunProgress, RunRow } from "../queries.ts";
import { RunProgressPanel } from "./runs_overview.tsx";
import { Notice, Pager, Status, Time } from "./components.tsx";
import { removalMeaning } from "./approval_page.tsx";
import { Layout } from "./layout.tsx";
import { CallbackStatus } from "./callback_status.tsx";
import type { HostCallbackRow } from "../../host/callback.ts";
import {
  type ChangeRow,
  ChangesTable,
  Counts,
  type ErrorRow,
  ErrorsTable,
} from "./preview_panel.tsx";

/** What the run page shows. */
export interface RunPageProps {
  timeZone: string;
  identity: Identity;
  run: RunRow;
  record: StoredRecord | undefined;
  notes: { code: StoredProblemCode; message: string; line: number | null }[];
  errors: ErrorRow[];
  errorTotal: number;
  errorPage: number;
  errorPageSize: number;
  /** Change log sample: what a held run or a preview would do, or what the run did. */
  changes: ChangeRow[];
  changeTotal: number;
  approvals: RunRow[];
  notice?: string | undefined;
  /** The host completion callback of the run, if one was attempted. */
  callback?: HostCallbackRow | undefined;
  /** How far the run has got, while it is running. */
  progress?: RunProgress | null;
}

/**
 * The run page: its parts in order are the facts (record, trigger, times, file,
 * deliveries), the counts, the held-run panel, the approval runs, the changes, the
 * notes and the row errors. Each part is a component of its own; a new fact goes in
 * one of the {@linkcode RunFacts} row groups.
 */
export function RunPage(props: RunPageProps) {
  const { run, record, identity } = props;
  const zone = props.timeZone;
  const title = `Run #${run.id}`;
  const listHref = `/?school=${run.schoolId}`;
  return (
    <Layout
      title={title}
      timeZone={zone}
      identity={identity}
      refreshSeconds={isActiveStatus(run.status) ? 3 : run.status === "waiting" ? 30 : undefined}
      liveProgress={run.status === "running"}
      breadcrumbs={[
        { label: "AutoComm Setup", href: listHref },
        ...(record ? [{ label: record.name, href: `/records/${record.id}/runs` }] : []),
        { label: title },
      ]}
    >
      <h1>
        {title}: <Status status={run.status} />
      </h1>
      {props.notice ? <Notice>{props.notice}</Notice> : ""}
      {isActiveStatus(run.status)
        ? <p class="hint" role="status">This run is under way; the page refreshes by itself.</p>
        : ""}
      {run.status === "running"
        ? <RunProgressPanel run={run} progress={props.progress ?? null} />
        : ""}
      {run.message ? <p class={`message message-${run.status}`}>{run.message}</p> : ""}

      <RunFacts run={run} record={record} zone={zone} callback={props.callback} />

      <h2>Counts</h2>
      <Counts run={run} />

      {run.status === "held" ? <HeldRunPanel run={run} identity={identity} /> : ""}
      <ApprovalRuns approvals={props.approvals} />
      <RunChanges run={run} changes={props.changes} changeTotal={props.changeTotal} />
      <RunNotes notes={props.notes} />
      <RunErrors
        run={run}
        errors={props.errors}
        errorTotal={props.errorTotal}
        errorPage={props.errorPage}
        errorPageSize={props.errorPageSize}
      />
    </Layout>
  );
}

/** What the fact rows of a run are given. */
interface RunFactProps {
  run: RunRow;
  zone: string;
}

/** The table of a run's facts, in row groups: summary, times, file, deliveries. */
function RunFacts(
  props: RunFactProps & {
    record: StoredRecord | undefined;
    callback: HostCallbackRow | undefined;
  },
) {
  return (
    <table class="facts">
      <tbody>
        <RunSummaryRows run={props.run} record={props.record} />
        <RunTimeRows run={props.run} zone={props.zone} />
        <RunFileRows run={props.run} />
        <RunDeliveryRows run={props.run} zone={props.zone} callback={props.callback} />
      </tbody>
    </table>
  );
}

/** The record (or why there is none), table and school; the trigger. */
function RunSummaryRows(props: { run: RunRow; record: StoredRecord | undefined }) {
  const { run, record } = props;
  return (
    <>
      <tr>
        <th scope="row">Record</th>
        <td>
          {record
            ? <a href={`/records/${record.id}/runs`}>{record.name}</a>
            : run.recordId === null
            ? (
              <span class="muted">
                {run.preview ? "Unsaved record (preview)" : "One-off import"}
              </span>
            )
            : <span class="muted">Deleted record #{run.recordId}</span>} ·{" "}
          {tableLabel(run.table, (run.options as { attendanceMode?: string }).attendanceMode)}{" "}
          · school {run.schoolId === 0 ? "District Office" : run.schoolId}
        </td>
      </tr>
      <tr>
        <th scope="row">Trigger</th>
        <td>
          {TRIGGER_LABELS[run.trigger] ?? run.trigger}
          {run.preview ? " (preview: nothing is changed)" : ""}
          {run.approvesRunId !== null
            ? (
              <>
                {" "}of held run <a href={`/runs/${run.approvesRunId}`}>#{run.approvesRunId}</a>
              </>
            )
            : ""}
        </td>
      </tr>
    </>
  );
}

/** When the run was queued, started and ended. */
function RunTimeRows(props: RunFactProps) {
  const { run, zone } = props;
  return (
    <>
      <tr>
        <th scope="row">Queued</th>
        <td>
          <Time iso={run.queuedAt} zone={zone} />
        </td>
      </tr>
      <tr>
        <th scope="row">Started</th>
        <td>
          <Time iso={run.startedAt} zone={zone} />
        </td>
      </tr>
      <tr>
        <th scope="row">Ended</th>
        <td>
          <Time iso={run.endedAt} zone={zone} />
        </td>
      </tr>
    </>
  );
}

/** The file the run read: name, size and SHA-256. */
function RunFileRows(props: { run: RunRow }) {
  const { run } = props;
  return (
    <>
      <tr>
        <th scope="row">File</th>
        <td>
          {run.fileName ? <code>{run.fileName}</code> : <span class="muted">—</span>}
          {run.fileSize !== null ? ` · ${bytes(run.fileSize)}` : ""}
        </td>
      </tr>
      <tr>
        <th scope="row">SHA-256</th>
        <td>
          {run.fileSha256
            ? <code class="hash">{run.fileSha256}</code>
            : <span class="muted">—</span>}
        </td>
      </tr>
    </>
  );
}

/**
 * What went out about the run (the completion report, the host's callback), and how
 * long a held run waits.
 */
function RunDeliveryRows(props: RunFactProps & { callback: HostCallbackRow | undefined }) {
  const { run, zone } = props;
  return (
    <>
      {run.emailStatus
        ? (
          <tr>
            <th scope="row">Completion report</th>
            <td>
              {run.emailStatus}
              {run.emailError ? ` — ${run.emailError}` : ""}
            </td>
          </tr>
        )
        : ""}
      <CallbackStatus callback={props.callback} zone={zone} />
      {run.status === "held" && run.heldUntil
        ? (
          <tr>
            <th scope="row">Held until</th>
            <td>
              <Time iso={run.heldUntil} zone={zone} /> (then discarded)
            </td>
          </tr>
        )
        : ""}
    </>
  );
}

/**
 * A held run: what holding means, what "remove" means for its table (in the words of
 * the table's rules), and links to the Approve and Discard
 * confirmations for an editor.
 */
function HeldRunPanel(props: { run: RunRow; identity: Identity }) {
  const { run, identity } = props;
  const canDecide = hasRole(identity.role, "editor") && run.status === "held";
  return (
    <section class="held" aria-labelledby="held-title">
      <h2 id="held-title">Held for approval</h2>
      <p>
        Synchronize Mode would remove {run.removed}{" "}
        record(s), more than the removal limit allows. Nothing has changed. Approving applies
        exactly the kept file, once; discarding deletes it.
      </p>
      <p>{removalMeaning(run.table)}</p>
      {canDecide
        ? (
          <div class="buttons">
            <a class="button danger" href={`/runs/${run.id}/approve`}>Approve…</a>
            <a class="button secondary" href={`/runs/${run.id}/discard`}>Discard…</a>
          </div>
        )
        : <p class="muted">An editor can approve or discard this run.</p>}
    </section>
  );
}

/** The runs that approved this held run, with their status. */
function ApprovalRuns(props: { approvals: RunRow[] }) {
  if (props.approvals.length === 0) return null;
  return (
    <p>
      Approval run(s): {props.approvals.map((a) => (
        <>
          <a href={`/runs/${a.id}`}>#{a.id}</a> <Status status={a.status} />
          {" "}
        </>
      ))}
    </p>
  );
}

/**
 * The change log sample: what a held run would remove, what a preview would change,
 * or what the run changed. Shown for held runs and previews even when empty.
 */
function RunChanges(props: { run: RunRow; changes: ChangeRow[]; changeTotal: number }) {
  const { run } = props;
  if (!(props.changeTotal > 0 || run.status === "held" || run.preview)) return null;
  return (
    <section aria-labelledby="changes-title">
      <h2 id="changes-title">
        {run.status === "held"
          ? "What would be removed"
          : run.preview
          ? "What would change"
          : "Changes"}
      </h2>
      <ChangesTable
        changes={props.changes}
        caption={props.changeTotal > props.changes.length
          ? `First ${props.changes.length} of ${props.changeTotal}`
          : `${props.changeTotal} change(s)`}
      />
    </section>
  );
}

/** The run's notes, with their line when they have one. */
function RunNotes(props: { notes: RunPageProps["notes"] }) {
  if (props.notes.length === 0) return null;
  return (
    <section aria-labelledby="notes-title">
      <h2 id="notes-title">Notes</h2>
      <ul class="notes">
        {props.notes.map((n) => (
          <li>
            {n.line !== null ? <span class="muted">line {n.line}:</span> : ""}
            {n.message}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** One page of the run's row errors, the pager, and the rejected-rows download. */
function RunErrors(
  props: Pick<RunPageProps, "errors" | "errorTotal" | "errorPage" | "errorPageSize"> & {
    run: RunRow;
  },
) {
  const { run } = props;
  return (
    <section aria-labelledby="errors-title">
      <h2 id="errors-title">Row errors ({props.errorTotal})</h2>
      {props.errorTotal > 0
        ? (
          <p>
            <a class="button secondary" href={`/runs/${run.id}/rejected.csv`} download>
              Download rejected rows (CSV)
            </a>
          </p>
        )
        : ""}
      <ErrorsTable errors={props.errors} caption={`Row errors, page ${props.errorPage}`} />
      <Pager
        page={props.errorPage}
        pageSize={props.errorPageSize}
        total={props.errorTotal}
        href={(p) => `/runs/${run.id}?errors_page=${p}#errors-title`}
        label="Pages of row errors"
      />
    </section>
  );
}
