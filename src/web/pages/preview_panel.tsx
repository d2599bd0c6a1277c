/** What a preview (or a held run) would change: counts, a sample of the change log, errors. */
import type { StoredProblemCode } from "../../problems.ts";
import { changesText, keyText, maskPersonalChanges } from "../format.ts";
import type { RunRow } from "../queries.ts";
import { Status, Time } from "./components.tsx";

/** One change-log entry. */
export interface ChangeRow {
  table: string;
  action: string;
  key: string;
  changes: string | null;
}

/** One row error. */
export interface ErrorRow {
  line: number;
  field: string;
  code: StoredProblemCode;
  message: string;
}

/** What {@linkcode PreviewPanel} shows. */
export interface PreviewResult {
  run: RunRow;
  changes: ChangeRow[];
  changeTotal: number;
  errors: ErrorRow[];
  errorTotal: number;
  /** The preview's file notes (a file read within the minimum file age among them). */
  notes?: { code: StoredProblemCode; message: string; line: number | null }[];
}

const ACTION_LABELS: Record<string, string> = {
  insert: "Insert",
  update: "Update",
  remove: "Remove",
  inactivate: "Inactivate",
  reactivate: "Reactivate",
  drop: "Drop",
};

/** Personal fields' values are not shown, only that they change. */
function redact(table: string, changes: string | null): string {
  return changesText(maskPersonalChanges(table, changes));
}

/** The change log as a table. */
export function ChangesTable(props: { changes: ChangeRow[]; caption: string }) {
  if (props.changes.length === 0) return <p class="muted">No changes.</p>;
  return (
    <table class="list compact">
      <caption>{props.caption}</caption>
      <thead>
        <tr>
          <th scope="col">Action</th>
          <th scope="col">Table</th>
          <th scope="col">Key</th>
          <th scope="col">Fields changed</th>
        </tr>
      </thead>
      <tbody>
        {props.changes.map((c) => (
          <tr>
            <td>{ACTION_LABELS[c.action] ?? c.action}</td>
            <td>{c.table}</td>
            <td>
              <code>{keyText(c.key)}</code>
            </td>
            <td>{redact(c.table, c.changes)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Row errors as a table. */
export function ErrorsTable(props: { errors: ErrorRow[]; caption: string }) {
  if (props.errors.length === 0) return <p class="muted">No row errors.</p>;
  return (
    <table class="list compact">
      <caption>{props.caption}</caption>
      <thead>
        <tr>
          <th scope="col">Line</th>
          <th scope="col">Field</th>
          <th scope="col">Code</th>
          <th scope="col">Message</th>
        </tr>
      </thead>
      <tbody>
        {props.errors.map((e) => (
          <tr>
            <td class="num">{e.line}</td>
            <td>{e.field || <span class="muted">(row)</span>}</td>
            <td>
              <code>{e.code}</code>
            </td>
            <td>{e.message}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The counts of a run as a definition list. */
export function Counts(props: { run: RunRow }) {
  const r = props.run;
  const items: [string, number][] = [
    ["Read", r.read],
    ["Inserted", r.inserted],
    ["Updated", r.updated],
    ["Unchanged", r.unchanged],
    ["Skipped", r.skipped],
    ["Rejected", r.rejected],
    ["Removed", r.removed],
    ["Inactivated", r.inactivated],
    ["Blank lines", r.blankLines],
    ["Short rows", r.shortRows],
  ];
  return (
    <dl class="counts">
      {items.map(([label, n]) => (
        <div
          class={n > 0 && (label === "Rejected" || label === "Removed")
            ? "count attention"
            : "count"}
        >
          <dt>{label}</dt>
          <dd>{n}</dd>
        </div>
      ))}
    </dl>
  );
}

export function PreviewPanel(props: PreviewResult & { timeZone: string }) {
  const { run } = props;
  return (
    <div class="preview-result" id="preview-result" tabindex={-1}>
      <h3>
        Preview run <a href={`/runs/${run.id}`}>#{run.id}</a>: <Status status={run.status} />
      </h3>
      <p class="small">
        <Time iso={run.endedAt ?? run.queuedAt} zone={props.timeZone} />
        {run.fileName ? ` · file ${run.fileName}` : ""}
      </p>
      {run.message ? <p class="message">{run.message}</p> : ""}
      {props.notes && props.notes.length > 0
        ? (
          <ul class="notes" aria-label="Notes of the preview">
            {props.notes.map((n) => (
              <li>
                {n.line !== null ? <span class="muted">line {n.line}:</span> : ""} {n.message}
              </li>
            ))}
          </ul>
        )
        : ""}
      <Counts run={run} />
      <ChangesTable
        changes={props.changes}
        caption={props.changeTotal > props.changes.length
          ? `First ${props.changes.length} of ${props.changeTotal} changes that would be made`
          : `Changes that would be made (${props.changeTotal})`}
      />
      <ErrorsTable
        errors={props.errors}
        caption={props.errorTotal > props.errors.length
          ? `First ${props.errors.length} of ${props.errorTotal} row errors`
          : `Row errors (${props.errorTotal})`}
      />
      {props.errorTotal > props.errors.length
        ? (
          <p>
            <a href={`/runs/${run.id}`}>All row errors of the preview</a>
          </p>
        )
        : ""}
    </div>
  );
}
