/**
 * The one owner of a run's state: its status, times, counts, lease and outcome
 * message (`runs` columns). Every write of them is a statement built here:
 *
 * - a **transition** (`transitionStatement`) moves a run from one status to another
 *   and is allowed only along {@linkcode TRANSITIONS}; its `WHERE` checks the status
 *   the run must still have, so a run another process moved on is left alone and the
 *   caller sees 0 rows changed;
 * - a **lease renewal** (`renewLeaseStatement`) changes only `lease_expires_at`, of
 *   runs still in the status given.
 *
 * The statements are plain SQL text with `?` parameters, run by the import process
 * on its `SqlExecutor` and by the service through Drizzle (`run_state_db.ts`), so
 * this module loads no Drizzle. It also holds the one wording of each outcome: the
 * message of an interrupted run ({@linkcode interruptedMessage}) and the words pages
 * and e-mail show for a status ({@linkcode STATUS_WORDING}).
 *
 * The e-mail columns (`email_status`, `email_error`) are not run state: they are the
 * delivery of the completion report of a run that has ended, claimed and written by
 * `mail/completion.ts`, and never change the run's status.
 */
import type { SqlValue } from "./executor.ts";
import type { RunSettings } from "./run.ts";

/** Every status a run can have. */
export type RunStatus =
  | "queued"
  | "running"
  | "waiting"
  | "succeeded"
  | "succeeded_with_errors"
  | "rejected"
  | "failed"
  | "held"
  | "approved"
  | "discarded"
  | "no_file"
  | "empty"
  | "interrupted"
  | "preview";

/**
 * The allowed transitions: the statuses a run may move to from each status. A run
 * is created `queued`; a status with no way out is final.
 *
 * - queued → running (an import process claims it), interrupted (its process died
 *   before it started), failed (the run could not be executed at all);
 * - waiting (its file was still being written) → queued (retried), running (claimed
 *   straight away), no_file (gave up after an hour), failed, interrupted;
 * - running → waiting, interrupted, and every outcome of an execution;
 * - held → approved (its approval run committed) or discarded.
 */
export const TRANSITIONS: { readonly [S in RunStatus]: readonly RunStatus[] } = {
  queued: ["running", "interrupted", "failed"],
  waiting: ["queued", "running", "no_file", "failed", "interrupted"],
  running: [
    "waiting",
    "succeeded",
    "succeeded_with_errors",
    "rejected",
    "failed",
    "held",
    "no_file",
    "empty",
    "interrupted",
    "preview",
  ],
  held: ["approved", "discarded"],
  succeeded: [],
  succeeded_with_errors: [],
  rejected: [],
  failed: [],
  approved: [],
  discarded: [],
  no_file: [],
  empty: [],
  interrupted: [],
  preview: [],
};

/** Every status, in the order of {@linkcode TRANSITIONS}. */
export const RUN_STATUSES = Object.keys(TRANSITIONS) as readonly RunStatus[];

/** Statuses of a record's active run: at most one per record (`runs_one_active`). */
export const ACTIVE_STATUSES = ["queued", "running", "waiting"] as const satisfies RunStatus[];

/** True when a run of status `from` may move to `to`. */
export function canTransition(from: RunStatus, to: RunStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The statuses a run may move to `to` from. */
export function statusesBefore(to: RunStatus): RunStatus[] {
  return RUN_STATUSES.filter((from) => canTransition(from, to));
}

/** A refused transition: a bug in the caller, never a state of the data. */
export class TransitionRefused extends Error {
  constructor(from: RunStatus, to: RunStatus) {
    super(`A run cannot go from ${from} to ${to}`);
    this.name = "TransitionRefused";
  }
}

/** Why a run was interrupted; {@linkcode interruptedMessage} words each. */
export type InterruptReason =
  /** A signal asked the process executing it to stop (Ctrl-C, a service manager). */
  | { signal: "SIGINT" | "SIGTERM" }
  /** The process that started it (the service, the command) is gone. */
  | "owner_gone"
  /** Another process marked it interrupted while it ran (its lease had expired). */
  | "lease_lost"
  /** Its import process exited (died or was killed at the run timeout) before it ended. */
  | "process_stopped"
  /** The service process whose queue held it stopped before it started (lease expired). */
  | "queue_gone"
  /** Its process stopped before it ended, as its expired lease shows. */
  | "lease_expired"
  /** It took longer than the longest a run may take (`AUTOCOMM_RUN_TIMEOUT_SECONDS`). */
  | { timeoutSeconds: number }
  /** Asked to stop for no reason given. */
  | "stopped";

/** The message of a run interrupted for `reason`: the one wording of each reason. */
export function interruptedMessage(reason: InterruptReason): string {
  if (typeof reason === "object") {
    return "signal" in reason
      ? `Stopped by ${reason.signal} before it finished; nothing was changed`
      : `Stopped after ${reason.timeoutSeconds} s, the longest a run may take (AUTOCOMM_RUN_TIMEOUT_SECONDS); nothing was changed`;
  }
  switch (reason) {
    case "owner_gone":
      return "The process that started the run (the service or the command) stopped before the run finished; nothing was changed";
    case "lease_lost":
      return "Another process marked the run interrupted (its lease had expired); nothing was changed";
    case "process_stopped":
      return "The import process stopped before the run finished; nothing was changed";
    case "queue_gone":
      return "The service process that queued the run stopped before it started; nothing was changed";
    case "lease_expired":
      return "The run's process stopped before the run finished (its lease expired); nothing was changed";
    case "stopped":
      return "The run was stopped before it finished";
  }
}

/** Why a held run was discarded; {@linkcode discardedMessage} words each. */
export type DiscardReason =
  /** A person discarded it (`by`: their name, when known). */
  | { by: string | undefined }
  /** Nobody approved it within 24 hours (the hourly process). */
  | "expired"
  /** A later run of the same record committed. */
  | "superseded";

/** The message of a run discarded for `reason`: the one wording of each reason. */
export function discardedMessage(reason: DiscardReason): string {
  if (typeof reason === "object") return `Discarded by ${reason.by ?? "a person"}`;
  return reason === "expired"
    ? "Discarded: not approved within 24 hours"
    : "Discarded: a later run of the record committed";
}

/** The message of a waiting run given up on: its file never settled within the hour. */
export const STILL_BEING_WRITTEN =
  "The file was still being written an hour after the run was queued (it kept changing within the minimum file age); nothing was changed";

/** The message of a run that failed for `cause` before it could change anything. */
export function failedMessage(cause: string): string {
  return `The run failed and changed nothing: ${cause}`;
}

/** How a status is worded: on pages (`label`) and in the completion e-mail (`mail`). */
export interface StatusWording {
  label: string;
  mail: string;
}

/** The words for every status, on pages and in e-mail: the one table of them. */
export const STATUS_WORDING: { readonly [S in RunStatus]: StatusWording } = {
  queued: { label: "Queued", mail: "queued" },
  running: { label: "Running", mail: "running" },
  waiting: { label: "Waiting for the file", mail: "waiting" },
  succeeded: { label: "Succeeded", mail: "succeeded" },
  succeeded_with_errors: { label: "Succeeded with errors", mail: "succeeded with errors" },
  rejected: {
    label: "File rejected",
    mail: "rejected (the file was refused; nothing changed)",
  },
  failed: { label: "Failed", mail: "failed (nothing changed)" },
  held: { label: "Held for approval", mail: "held for approval (nothing changed)" },
  approved: { label: "Approved", mail: "approved" },
  discarded: { label: "Discarded", mail: "discarded" },
  no_file: { label: "No file", mail: "no file" },
  empty: { label: "Empty file", mail: "empty file (nothing changed)" },
  interrupted: { label: "Interrupted", mail: "interrupted (nothing changed)" },
  preview: { label: "Preview", mail: "preview" },
};

/** The words of a stored status for `where`; an unknown status as it is, `_` read as spaces in e-mail. */
export function statusWords(status: string, where: keyof StatusWording): string {
  const wording = (STATUS_WORDING as Record<string, StatusWording | undefined>)[status];
  if (wording) return wording[where];
  return where === "mail" ? status.replace(/_/g, " ") : status;
}

/** A statement on the `runs` table: SQL text with `?` parameters and their values. */
export interface RunStatement {
  sql: string;
  args: SqlValue[];
}

/** A condition added to a statement's `WHERE` (SQL with `?` parameters). */
export interface RunCondition {
  sql: string;
  args: SqlValue[];
}

/** How a run was started. */
export type Trigger = "schedule" | "run_now" | "webhook" | "api" | "cli" | "approval";

/** Options of a new run ({@linkcode insertRunStatement}). */
export interface QueueRunOptions {
  recordId?: number | null;
  trigger: Trigger;
  preview?: boolean;
  slotKey?: string | null;
  approvesRunId?: number | null;
}

/**
 * The statement that creates a run row (status queued) with the settings snapshot
 * and returns its id: `insertRun` (`run_store.ts`) runs it on an executor, `queueRun`
 * (`launch.ts`) through Drizzle, inside a caller's transaction when there is one.
 */
export function insertRunStatement(
  settings: RunSettings,
  options: QueueRunOptions,
): RunStatement {
  return {
    sql:
      `INSERT INTO runs (record_id, school_id, table_name, trigger, status, slot_key, options, preview, queued_at, approves_run_id, file_name)
       VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?) RETURNING id`,
    args: [
      options.recordId ?? null,
      settings.schoolId,
      settings.table,
      options.trigger,
      options.slotKey ?? null,
      JSON.stringify(settings),
      options.preview ? 1 : 0,
      new Date().toISOString(),
      options.approvesRunId ?? null,
      settings.file?.split("/").pop() ?? settings.path?.split(/[\\/]/).pop() ?? null,
    ],
  };
}

/** Options of {@linkcode transitionStatement}. */
export interface TransitionOptions {
  /**
   * The statuses the run must have now; each must be allowed to move to the new
   * status. Default: every status that may.
   */
  from?: readonly RunStatus[];
  /** Other columns of the run's state to write (column name → value). */
  set?: Readonly<Record<string, SqlValue>>;
  /** More conditions of the `WHERE`, on the run's columns. */
  also?: RunCondition;
  /** Columns the statement returns (`RETURNING`), for callers that read them. */
  returning?: readonly string[];
}

/** The runs a statement writes: one id, several, or those a condition picks. */
export type RunTarget = number | readonly number[] | RunCondition;

function idCondition(target: RunTarget): RunCondition {
  if (typeof target === "number") return { sql: "id = ?", args: [target] };
  if ("sql" in target) return { sql: `(${target.sql})`, args: [...target.args] };
  return { sql: `id IN (${target.map(() => "?").join(", ")})`, args: [...target] };
}

function quoted(statuses: readonly string[]): string {
  return statuses.map((s) => `'${s}'`).join(", ");
}

/**
 * The statement that moves the run(s) to `to` when each still has one of the
 * statuses in `options.from`, writing the other columns of `options.set` with it.
 * Throws {@linkcode TransitionRefused} for a `from` that may not move to `to`.
 */
export function transitionStatement(
  runIds: RunTarget,
  to: RunStatus,
  options: TransitionOptions = {},
): RunStatement {
  const from = options.from ?? statusesBefore(to);
  for (const f of from) if (!canTransition(f, to)) throw new TransitionRefused(f, to);
  const set = options.set ?? {};
  const columns = Object.keys(set);
  const ids = idCondition(runIds);
  const where = [ids.sql, `status IN (${quoted(from)})`];
  if (options.also) where.push(`(${options.also.sql})`);
  const returning = options.returning?.length
    ? ` RETURNING ${options.returning.map((c) => `"${c}"`).join(", ")}`
    : "";
  return {
    sql: `UPDATE runs SET status = ?${columns.map((c) => `, "${c}" = ?`).join("")} WHERE ${
      where.join(" AND ")
    }${returning}`,
    args: [
      to,
      ...columns.map((c) => set[c]!),
      ...ids.args,
      ...(options.also?.args ?? []),
    ],
  };
}

/** Options of {@linkcode renewLeaseStatement}. */
export interface RenewLeaseOptions {
  /** The status the runs must still have: a lease is only renewed by its holder. */
  status: "queued" | "running";
  /** Only leases that are unset or end before this instant (ISO text) are renewed. */
  endingBefore?: string;
}

/** The statement that gives the run(s) a lease ending `until` (ISO text). */
export function renewLeaseStatement(
  runIds: RunTarget,
  until: string,
  options: RenewLeaseOptions,
): RunStatement {
  const ids = idCondition(runIds);
  const stale = options.endingBefore === undefined
    ? ""
    : " AND (lease_expires_at IS NULL OR lease_expires_at < ?)";
  return {
    sql:
      `UPDATE runs SET lease_expires_at = ? WHERE ${ids.sql} AND status = '${options.status}'${stale}`,
    args: [
      until,
      ...ids.args,
      ...(options.endingBefore === undefined ? [] : [options.endingBefore]),
    ],
  };
}

/** When a lease of `seconds` taken at `now` ends. */
export function leaseEnd(now: Date, seconds: number): Date {
  return new Date(now.getTime() + seconds * 1000);
}

/**
 * The stages of a run under way, in order: fetching (opening or downloading the file),
 * reading (decoding, parsing and staging its rows), checking (validating the staged
 * rows against the SIS), applying (writing them), reporting (the run's report).
 */
export const RUN_STAGES = ["fetching", "reading", "checking", "applying", "reporting"] as const;

/** A stage of a run under way. */
export type RunStage = typeof RUN_STAGES[number];

/** The words for each stage, on pages and in the command line's progress bar. */
export const STAGE_LABELS: { readonly [S in RunStage]: string } = {
  fetching: "Fetching the file",
  reading: "Reading the file",
  checking: "Checking the rows",
  applying: "Applying the changes",
  reporting: "Writing the report",
};

/** How far a run under way has got. */
export interface RunProgressState {
  stage: RunStage;
  /** Data records read so far. */
  rowsRead: number;
  /** Bytes of the file read so far. */
  bytesRead: number;
  /** The file's size, once known (null: not yet). */
  fileSize: number | null;
  /** When this was measured (ISO text). */
  at: string;
}

/**
 * The statement that records a running run's progress (`stage`, `rows_read`,
 * `bytes_read`, `progress_at`, and the file's size once known). It changes only a run
 * still running, never its status, and takes the write lock for one row's update: the
 * import process runs it on its own connection (`SqlExecutor.runOutside`), as it renews
 * the lease, at most about once a second (`lease.ts`, `RunProgress`).
 */
export function progressStatement(runId: number, progress: RunProgressState): RunStatement {
  const size = progress.fileSize === null ? "" : ", file_size = ?";
  return {
    sql:
      `UPDATE runs SET stage = ?, rows_read = ?, bytes_read = ?, progress_at = ?${size} WHERE id = ? AND status = 'running'`,
    args: [
      progress.stage,
      progress.rowsRead,
      progress.bytesRead,
      progress.at,
      ...(progress.fileSize === null ? [] : [progress.fileSize]),
      runId,
    ],
  };
}

/**
 * The share of the file read, in whole percent (0–100), or null when the size is not
 * known. Reading is most of a run; checking and applying show 100 %.
 */
export function percentRead(progress: { bytesRead: number | null; fileSize: number | null }) {
  if (progress.fileSize === null || progress.bytesRead === null) return null;
  if (progress.fileSize <= 0) return 100;
  return Math.min(100, Math.floor((progress.bytesRead * 100) / progress.fileSize));
}
