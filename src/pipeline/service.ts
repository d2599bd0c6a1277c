/**
 * Runs as the rest of the service sees them: start a record's run now
 * ({@linkcode startRecordRun}, the one way pages, the API and the webhook start one),
 * run a record, approve or discard a held run, and read a run's report. Each queues a
 * run row and executes it in the import process. Run state is written through
 * `run_state.ts` (`run_state_db.ts` on this side).
 */
import { and, asc, between, desc, eq, inArray, type SQL, sql } from "drizzle-orm";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import { runChanges, runs } from "../db/schema/autocomm.ts";
import { getRecord, type StoredRecord } from "../records/store.ts";
import { type AttendanceMode, coreCatalog, type ImportTable } from "../sis/catalog.ts";
import {
  getRun,
  KILLED_AT_TIMEOUT,
  queueRun,
  type QueueRunOptions,
  recordSettings,
  runImportProcess,
  type Trigger,
} from "./launch.ts";
import { executeRunToEnd, INLINE_YIELD_MS, runEnvironment, type RunSettings } from "./run.ts";
import { borrowExecutor, openExecutor } from "./executor.ts";
import { removeRunStage } from "./stage.ts";
import { HELD_IN_DATABASE, removeHeldChunks } from "./fetch.ts";
import { readRunReport, type RunReport } from "./run_store.ts";
import type { ImportWorker } from "./worker.ts";
import {
  ACTIVE_STATUSES,
  discardedMessage,
  type DiscardReason,
  interruptedMessage,
} from "./run_state.ts";
import {
  discardHeld,
  expireLeases,
  interruptAbandoned,
  renewQueuedLeases,
} from "./run_state_db.ts";

export { renewQueuedLeases };

/** What running needs. */
export interface RunDeps {
  db: Db;
  config: Config;
}

/** A run already in progress for the record. */
export class RunInProgress extends Error {
  readonly runId: number;
  constructor(runId: number) {
    super(`The record is already running (run ${runId})`);
    this.name = "RunInProgress";
    this.runId = runId;
  }
}

/** A run cannot be approved or discarded in its state. */
export class RunStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RunStateError";
  }
}

/**
 * Executes a queued run in an import process of its own, or in the warm one given
 * (`worker.ts`); a process that died leaves it interrupted. With
 * `AUTOCOMM_IMPORT_MODE=inline` it runs in this process ({@linkcode executeInline}).
 */
export async function executeQueued(
  deps: RunDeps,
  runId: number,
  worker?: ImportWorker,
): Promise<void> {
  if (deps.config.importMode === "inline") return await executeInline(deps, runId);
  const code = await (worker ? worker.run(runId) : runImportProcess(deps.config, runId));
  // The process is done with the run: a stage file left behind means it died.
  await removeRunStage(deps.config.databaseUrl, runId);
  await interruptAbandoned(
    deps.db,
    runId,
    new Date(),
    code === KILLED_AT_TIMEOUT ? { timeoutSeconds: deps.config.runTimeoutSeconds } : undefined,
  );
}

/** Options of {@linkcode executeInline}. */
export interface InlineOptions {
  /** Stops the run at its next safe point (the service is stopping). */
  signal?: AbortSignal;
}

/**
 * Executes a queued run in this process's event loop (inline mode, the serverless
 * profile: `import_mode.ts`), on an import connection of its own over the remote
 * server, letting the loop serve requests between batches. Never throws for the run's
 * own failures (they end the run); a run still active afterwards is interrupted.
 */
export async function executeInline(
  deps: RunDeps,
  runId: number,
  options: InlineOptions = {},
): Promise<void> {
  // The run timeout, as an import process is killed at it: the run stops at its next
  // safe point, or at once if a request to the server is what it waits for.
  const seconds = deps.config.runTimeoutSeconds;
  const timeout = new AbortController();
  const timer = setTimeout(
    () => timeout.abort(interruptedMessage({ timeoutSeconds: seconds })),
    seconds * 1000,
  );
  const signal = options.signal
    ? AbortSignal.any([options.signal, timeout.signal])
    : timeout.signal;
  const exec = await openExecutor(deps.config, { signal });
  try {
    await executeRunToEnd(exec, runId, {
      ...runEnvironment(deps.config),
      inline: true,
      yieldEveryMs: INLINE_YIELD_MS,
      signal,
    });
  } finally {
    clearTimeout(timer);
    exec.close();
  }
  await interruptAbandoned(deps.db, runId, new Date());
}

/** The active (queued or running) run of a record, if any. */
export async function activeRunOf(db: Db, recordId: number): Promise<number | undefined> {
  const [row] = await db.select({ id: runs.id }).from(runs).where(
    and(
      eq(runs.recordId, recordId),
      inArray(runs.status, [...ACTIVE_STATUSES]),
      eq(runs.preview, false),
    ),
  ).limit(1);
  return row?.id;
}

/** Options of {@linkcode runRecord}. */
export interface RunRecordOptions {
  trigger: Trigger;
  preview?: boolean;
}

/**
 * Queues a run of a stored record (status queued) and returns its id. A record
 * with a queued, running or waiting run answers {@linkcode RunInProgress}: the
 * unique index on active runs is the claim, so two callers cannot both start one.
 */
export async function queueRecordRun(
  deps: RunDeps,
  recordId: number,
  options: RunRecordOptions & { slotKey?: string },
): Promise<number> {
  const record = await getRecord(deps.db, recordId);
  if (!record) throw new RunStateError(`There is no record ${recordId}`);
  return await queueClaimingRecord(deps.db, recordSettings(record, deps.config), {
    recordId,
    trigger: options.trigger,
    preview: options.preview ?? false,
    ...(options.slotKey !== undefined ? { slotKey: options.slotKey } : {}),
  });
}

/**
 * Queues a run (`queueRun`); a run of a record claims the record's one active run
 * (`runs_one_active`), and a record whose active run holds it answers
 * {@linkcode RunInProgress} — the one place a unique violation becomes that. A
 * violation with no active run left is either the slot key (another tick claimed the
 * slot; thrown as it is) or an active run that ended meanwhile: then it is tried once
 * more. `db` may be a transaction.
 */
async function queueClaimingRecord(
  db: Db,
  settings: RunSettings,
  options: QueueRunOptions,
): Promise<number> {
  for (let attempt = 0;; attempt++) {
    try {
      return await queueRun(db, settings, options);
    } catch (error) {
      if (!isUniqueViolation(error) || options.recordId == null) throw error;
      const active = await activeRunOf(db, options.recordId);
      if (active !== undefined) throw new RunInProgress(active);
      if (options.slotKey != null || attempt > 0) throw error;
    }
  }
}

/** The part of a run queue that starting a run uses (`queue.ts`'s `RunQueue`). */
export interface StartQueue {
  enqueue(runId: number): unknown;
  /**
   * Ids of runs waiting in this process's queue (not yet started). When the queue
   * exposes them, their leases are renewed, and a queued run whose process died is
   * marked interrupted like a running one.
   */
  readonly pending?: readonly number[];
  /** Resolves when every run enqueued so far has ended (`queue.ts`). */
  idle?(): Promise<void>;
}

/** What starting a run needs. */
export interface StartDeps {
  db: Db;
  config: Config;
  queue: StartQueue;
}

/**
 * Enqueues a queued run in this process. When the queue reports its pending runs
 * the run gets a lease first, so that it is marked interrupted if this process
 * dies before starting it.
 */
export async function enqueueRun(
  deps: Pick<StartDeps, "db" | "queue"> & { config: { readonly runLeaseSeconds: number } },
  runId: number,
  now = new Date(),
) {
  if (deps.queue.pending !== undefined) {
    await renewQueuedLeases(deps.db, [runId], { now, seconds: deps.config.runLeaseSeconds });
  }
  deps.queue.enqueue(runId);
}

/** Options of {@linkcode startRecordRun}. */
export interface StartRunOptions {
  trigger: Trigger;
  /** Validate only, change nothing. Default false. */
  preview?: boolean;
}

/**
 * Starts a run of a stored record now — Run Now on a page, the API, the webhook:
 * queues it and hands it to the run queue; returns its id. A run whose process died
 * (lease expired) is marked interrupted first, so it no longer blocks the record. A
 * record with an active run throws {@linkcode RunInProgress}; a record that does not
 * exist, {@linkcode RunStateError}.
 */
export async function startRecordRun(
  deps: StartDeps,
  recordId: number,
  options: StartRunOptions,
): Promise<number> {
  const now = new Date();
  await expireLeases(deps.db, now, { own: deps.queue.pending ?? [] });
  const runId = await queueRecordRun(deps, recordId, {
    trigger: options.trigger,
    preview: options.preview ?? false,
  });
  await enqueueRun(deps, runId, now);
  return runId;
}

/**
 * Starts a preview of record settings that are not saved — the New or Edit form as
 * it is filled in — and returns the run's id. It is the same run as a stored
 * record's preview (nothing is committed; a preview never waits for the minimum file
 * age), run of `recordId` when the settings are an edit of that record (its page
 * finds the result) or of no record. Previews claim no record, so a record that is
 * running may still be previewed.
 */
export async function startSettingsPreview(
  deps: StartDeps,
  settings: Omit<StoredRecord, "id" | "createdAt" | "updatedAt">,
  options: { recordId: number | null },
): Promise<number> {
  const runId = await queueRun(deps.db, recordSettings(settings, deps.config), {
    recordId: options.recordId,
    trigger: "run_now",
    preview: true,
  });
  await enqueueRun(deps, runId);
  return runId;
}

/** True for a UNIQUE constraint failure (a claim someone else holds), however wrapped. */
export function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const { message, code, cause } = e as { message?: unknown; code?: unknown; cause?: unknown };
    if (
      /UNIQUE constraint failed|SQLITE_CONSTRAINT_(UNIQUE|PRIMARYKEY)/i.test(
        `${message ?? ""} ${code ?? ""}`,
      )
    ) {
      return true;
    }
    e = cause;
  }
  return false;
}

/** Queues and executes a run of a stored record to its end; returns the run id. */
export async function runRecord(
  deps: RunDeps,
  recordId: number,
  options: RunRecordOptions,
): Promise<number> {
  const runId = await queueRecordRun(deps, recordId, options);
  await executeQueued(deps, runId);
  return runId;
}

/** Options of {@linkcode approveRun}. */
export interface ApproveOptions {
  /** How the approval run is started; default "approval". */
  trigger?: Trigger;
  /**
   * Executes the queued approval run to its end. Default: in the import process
   * right away; the service passes its run queue so runs stay one at a time.
   */
  execute?: (approvalRunId: number) => Promise<void>;
}

/**
 * Applies a held run's kept file once; returns the approval run's id. The held run
 * becomes `approved` only when the approval commits (so a failed approval can be
 * retried), and the one-active-run claim of its record keeps two approvals from
 * running at once.
 */
export async function approveRun(
  deps: RunDeps,
  runId: number,
  options: ApproveOptions = {},
): Promise<number> {
  const held = await getRun(deps.db, runId);
  if (!held) throw new RunStateError(`There is no run ${runId}`);
  if (held.status !== "held") throw new RunStateError(`Run ${runId} is ${held.status}, not held`);
  const approval = await queueClaimingRecord(deps.db, held.options as unknown as RunSettings, {
    recordId: held.recordId,
    trigger: options.trigger ?? "approval",
    approvesRunId: runId,
  });
  await (options.execute ?? ((id) => executeQueued(deps, id)))(approval);
  const after = await getRun(deps.db, runId);
  if (after?.status === "approved" && held.heldPath) {
    await removeHeldFile(deps.db, runId, held.heldPath);
    await deps.db.update(runs).set({ heldPath: null }).where(eq(runs.id, runId));
  }
  return approval;
}

/** Removes a held run's kept file: a file under the data folder, or its rows in the database. */
async function removeHeldFile(db: Db, runId: number, heldPath: string): Promise<void> {
  if (heldPath === HELD_IN_DATABASE) {
    await removeHeldChunks(borrowExecutor(db.$client), runId);
  } else {
    await Deno.remove(heldPath).catch(() => {});
  }
}

/** Discards a held run and its kept file. */
export async function discardRun(
  deps: RunDeps,
  runId: number,
  reason: DiscardReason = { by: undefined },
): Promise<void> {
  const held = await getRun(deps.db, runId);
  if (!held) throw new RunStateError(`There is no run ${runId}`);
  if (!await discardHeld(deps.db, runId, discardedMessage(reason))) {
    throw new RunStateError(`Run ${runId} is ${held.status}, not held`);
  }
  if (held.heldPath) await removeHeldFile(deps.db, runId, held.heldPath);
}

/** The report of a run as the CLI and the API print it. */
export async function runReport(
  db: Db,
  runId: number,
  options: { errorLimit?: number } = {},
): Promise<RunReport> {
  const report = await readRunReport(borrowExecutor(db.$client), runId, options);
  if (!report) throw new RunStateError(`There is no run ${runId}`);
  return report;
}

/**
 * Which change-log entries are a run's: the range of ids kept on its run row (the
 * entries have no index of their own; see the schema). False for a run without
 * entries.
 */
export async function changesOf(db: Db, runId: number): Promise<SQL> {
  const [run] = await db.select({ from: runs.changesFrom, to: runs.changesTo }).from(runs)
    .where(eq(runs.id, runId));
  return changeRange(runId, run?.from ?? null, run?.to ?? null);
}

function changeRange(runId: number, from: number | null, to: number | null): SQL {
  if (from === null || to === null) return sql`0`;
  return and(eq(runChanges.runId, runId), between(runChanges.id, from, to))!;
}

/**
 * A stored change-log key as a JSON object of catalog names: the log stores the
 * values as an array in the order of the table's catalog key (`apply.ts`).
 */
export function namedKey(key: string, names: readonly string[]): string {
  if (!key.startsWith("[")) return key;
  const values = JSON.parse(key) as unknown[];
  return JSON.stringify(Object.fromEntries(names.map((name, i) => [name, values[i] ?? null])));
}

/** The change log of a run (what it did, or for a held run or preview, would do). */
export async function runChangeLog(
  db: Db,
  runId: number,
  options: { limit?: number; offset?: number } = {},
) {
  const [run] = await db.select({
    options: runs.options,
    from: runs.changesFrom,
    to: runs.changesTo,
  }).from(runs).where(eq(runs.id, runId));
  if (!run) return [];
  const mode = (run.options as { attendanceMode?: AttendanceMode | null }).attendanceMode ??
    "daily";
  const rows = await db.select({
    table: runChanges.table,
    action: runChanges.action,
    key: runChanges.key,
    changes: runChanges.changes,
  }).from(runChanges).where(changeRange(runId, run.from, run.to)).orderBy(asc(runChanges.id))
    .limit(options.limit ?? 1000).offset(options.offset ?? 0);
  return rows.map((r) => ({
    ...r,
    key: namedKey(r.key, coreCatalog(r.table as ImportTable, mode).key),
  }));
}

/** Which runs {@linkcode listRuns} and {@linkcode countRuns} take: a record's, a school's (both: and). */
function runFilter(recordId: number | undefined, schoolId: number | undefined) {
  return and(
    recordId === undefined ? undefined : eq(runs.recordId, recordId),
    schoolId === undefined ? undefined : eq(runs.schoolId, schoolId),
  );
}

/** Runs, newest first (of a record, of a school). */
export async function listRuns(
  db: Db,
  options: { recordId?: number; schoolId?: number | undefined; limit?: number; offset?: number } =
    {},
) {
  return await db.select().from(runs).where(runFilter(options.recordId, options.schoolId))
    .orderBy(desc(runs.id)).limit(options.limit ?? 50).offset(options.offset ?? 0);
}

/** Number of runs (of a record, of a school). */
export async function countRuns(
  db: Db,
  recordId?: number,
  options: { schoolId?: number | undefined } = {},
): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)` }).from(runs).where(
    runFilter(recordId, options.schoolId),
  );
  return Number(row?.n ?? 0);
}
