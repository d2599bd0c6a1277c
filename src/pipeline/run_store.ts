/**
 * The run rows in plain SQL over an {@linkcode SqlExecutor}: queue a run, read its
 * report, and the setup a run needs. One implementation for every caller — the
 * service and the CLI commands reach it through their libSQL client
 * (`borrowExecutor`), and `autocomm import` through the `node:sqlite` connection it
 * executes the run on, so that command loads neither Drizzle nor the libSQL client.
 */
import type { StoredProblemCode } from "../problems.ts";
import type { SqlExecutor, SqlValue } from "./executor.ts";
import type { RunSettings } from "./run.ts";
import { insertRunStatement, type QueueRunOptions, type Trigger } from "./run_state.ts";
import type { ExtensionDefinition, ImportTable } from "../sis/catalog.ts";

export { insertRunStatement };
export type { QueueRunOptions, Trigger };

/** Creates the run row (status queued); returns its id. */
export async function insertRun(
  exec: SqlExecutor,
  settings: RunSettings,
  options: QueueRunOptions,
): Promise<number> {
  const statement = insertRunStatement(settings, options);
  const [row] = await exec.all(statement.sql, statement.args);
  return Number(row!["id"]);
}

/** The counts of a run report, in the order the CLI prints them. */
const COUNTS = [
  ["read", "read"],
  ["inserted", "inserted"],
  ["updated", "updated"],
  ["unchanged", "unchanged"],
  ["skipped", "skipped"],
  ["rejected", "rejected"],
  ["removed", "removed"],
  ["inactivated", "inactivated"],
  ["blankLines", "blank_lines"],
  ["shortRows", "short_rows"],
] as const;

/** The counts of a run. */
export type ReportCounts = Record<typeof COUNTS[number][0], number>;

/** The report of a run as the CLI, the API and the completion e-mail give it. */
export interface RunReport {
  runId: number;
  recordId: number | null;
  status: string;
  trigger: string;
  message: string | null;
  file: { name: string | null; size: number | null; sha256: string | null };
  startedAt: string | null;
  endedAt: string | null;
  counts: ReportCounts;
  /** Codes as stored: an older run may hold a code since renamed. */
  errors: { line: number; field: string; code: StoredProblemCode; message: string }[];
  notes: (
    | { code: StoredProblemCode; message: string }
    | { code: StoredProblemCode; message: string; line: number }
  )[];
}

const text = (v: SqlValue | undefined) => (v === null || v === undefined ? null : String(v));
const int = (v: SqlValue | undefined) => (v === null || v === undefined ? null : Number(v));

/** A run's report, or undefined when there is no such run. */
export async function readRunReport(
  exec: SqlExecutor,
  runId: number,
  options: { errorLimit?: number } = {},
): Promise<RunReport | undefined> {
  const [run] = await exec.all("SELECT * FROM runs WHERE id = ?", [runId]);
  if (!run) return undefined;
  const errors = await exec.all(
    "SELECT line, field, code, message FROM run_errors WHERE run_id = ? ORDER BY line, id LIMIT ?",
    [runId, options.errorLimit ?? 1_000_000],
  );
  const notes = await exec.all(
    "SELECT code, message, line FROM run_notes WHERE run_id = ? ORDER BY id",
    [runId],
  );
  const counts = {} as ReportCounts;
  for (const [name, column] of COUNTS) counts[name] = Number(run[column] ?? 0);
  return {
    runId,
    recordId: int(run["record_id"]),
    status: String(run["status"]),
    trigger: String(run["trigger"]),
    message: text(run["message"]),
    file: {
      name: text(run["file_name"]),
      size: int(run["file_size"]),
      sha256: text(run["file_sha256"]),
    },
    startedAt: text(run["started_at"]),
    endedAt: text(run["ended_at"]),
    counts,
    errors: errors.map((e) => ({
      line: Number(e["line"]),
      field: String(e["field"]),
      code: String(e["code"]),
      message: String(e["message"]),
    })),
    notes: notes.map((n) => {
      const note = { code: String(n["code"]), message: String(n["message"]) };
      return n["line"] === null ? note : { ...note, line: Number(n["line"]) };
    }),
  };
}

/** The extension tables and their fields, as the field catalog takes them. */
export async function readExtensionTables(exec: SqlExecutor): Promise<ExtensionDefinition[]> {
  const rows = await exec.all(
    `SELECT e.name, e.base_table, f.name AS field, f.type, f.max_length
     FROM extension_tables e JOIN extension_fields f ON f.extension_table = e.name ORDER BY e.name, f.name`,
  );
  const extensions = new Map<
    string,
    ExtensionDefinition & { fields: ExtensionDefinition["fields"][number][] }
  >();
  for (const r of rows) {
    const name = String(r["name"]);
    let ext = extensions.get(name);
    if (!ext) {
      ext = { table: String(r["base_table"]) as ImportTable, name, fields: [] };
      extensions.set(name, ext);
    }
    ext.fields.push({
      name: String(r["field"]),
      type: String(r["type"]) as "text",
      ...(r["max_length"] !== null ? { maxLength: Number(r["max_length"]) } : {}),
    });
  }
  return [...extensions.values()];
}

/** A school's attendance method (daily, meeting or both), or undefined for no such school. */
export async function schoolAttendanceMethod(
  exec: SqlExecutor,
  schoolNumber: number,
): Promise<string | undefined> {
  const [row] = await exec.all("SELECT attendance_method FROM schools WHERE school_number = ?", [
    schoolNumber,
  ]);
  return row ? String(row["attendance_method"]) : undefined;
}
