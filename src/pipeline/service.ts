/**
 * Runs as the rest of the service sees them: run a record, import a one-off file,
 * approve or discard a held run, and read a run's report. Each queues a run row
 * and executes it in the import process.
 */
import { and, asc, between, desc, eq, inArray, isNull, lt, or, type SQL, sql } from "drizzle-orm";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import { runChanges, runs } from "../db/schema/autocomm.ts";
import { getRecord } from "../records/store.ts";
import { type AttendanceMode, coreCatalog, type ImportTable } from "../sis/catalog.ts";
import { getRun, queueRun, recordSettings, runImportProcess, type Trigger } from "./launch.ts";
import type { RunSettings } from "./run.ts";
import { borrowExecutor } from "./executor.ts";
import { removeRunStage } from "./stage.ts";
import { readRunReport, type RunReport } from "./run_store.ts";
import type { ImportWorker } from "./worker.ts";
import { leaseEnd } from "./lease.ts";

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
 * (`worker.ts`); a process that died leaves it interrupted.
 */
export async function executeQueued(
  deps: RunDeps,
  runId: number,
  worker?: ImportWorker,
): Promise<void> {
  await (worker ? worker.run(runId) : runImportProcess(deps.config, runId));
  // The process is done with the run: a stage file left behind means it died.
  await removeRunStage(deps.config.databaseUrl, runId);
  await deps.db.update(runs).set({
    status: "interrupted",
    message: "The import process stopped before the run finished; nothing was changed",
    endedAt: new Date().toISOString(),
    leaseExpiresAt: null,
  }).where(and(eq(runs.id, runId), inArray(runs.status, ["queued", "running"])));
}

/** The active (queued or running) run of a record, if any. */
export async function activeRunOf(db: Db, recordId: number): Promise<number | undefined> {
  const [row] = await db.select({ id: runs.id }).from(runs).where(
    and(
      eq(runs.recordId, recordId),
      inArray(runs.status, ["queued", "running", "waiting"]),
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
  const settings = recordSettings(record, deps.config);
  try {
    return await queueRun(deps.db, settings, {
      recordId,
      trigger: options.trigger,
      preview: options.preview ?? false,
      ...(options.slotKey !== undefined ? { slotKey: options.slotKey } : {}),
    });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const active = await activeRunOf(deps.db, recordId);
    if (active !== undefined) throw new RunInProgress(active);
    throw error;
  }
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
  let approval: number;
  try {
    approval = await queueRun(deps.db, held.options as unknown as RunSettings, {
      recordId: held.recordId,
      trigger: options.trigger ?? "approval",
      approvesRunId: runId,
    });
  } catch (error) {
    if (isUniqueViolation(error) && held.recordId !== null) {
      const active = await activeRunOf(deps.db, held.recordId);
      if (active !== undefined) throw new RunInProgress(active);
    }
    throw error;
  }
  await (options.execute ?? ((id) => executeQueued(deps, id)))(approval);
  const after = await getRun(deps.db, runId);
  if (after?.status === "approved" && held.heldPath) {
    await Deno.remove(held.heldPath).catch(() => {});
    await deps.db.update(runs).set({ heldPath: null }).where(eq(runs.id, runId));
  }
  return approval;
}

/** Discards a held run and its kept file. */
export async function discardRun(
  deps: RunDeps,
  runId: number,
  reason = "Discarded by a person",
): Promise<void> {
  const held = await getRun(deps.db, runId);
  if (!held) throw new RunStateError(`There is no run ${runId}`);
  const done = await deps.db.update(runs).set({
    status: "discarded",
    message: reason,
    heldPath: null,
  })
    .where(and(eq(runs.id, runId), eq(runs.status, "held"))).returning({ id: runs.id });
  if (done.length === 0) throw new RunStateError(`Run ${runId} is ${held.status}, not held`);
  if (held.heldPath) await Deno.remove(held.heldPath).catch(() => {});
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

/** Runs, newest first. */
export async function listRuns(
  db: Db,
  options: { recordId?: number; limit?: number; offset?: number } = {},
) {
  const q = db.select().from(runs);
  return await (options.recordId === undefined ? q : q.where(eq(runs.recordId, options.recordId)))
    .orderBy(desc(runs.id)).limit(options.limit ?? 50).offset(options.offset ?? 0);
}

/** Number of runs (of a record). */
export async function countRuns(db: Db, recordId?: number): Promise<number> {
  const q = db.select({ n: sql<number>`count(*)` }).from(runs);
  const [row] = await (recordId === undefined ? q : q.where(eq(runs.recordId, recordId)));
  return Number(row?.n ?? 0);
}

/**
 * Gives the queued runs `runIds` (of this process's queue) a fresh lease. Only leases
 * past half their time are renewed, so that most calls do not write at all.
 */
export async function renewQueuedLeases(
  db: Db,
  runIds: readonly number[],
  options: { now: Date; seconds: number },
): Promise<void> {
  if (runIds.length === 0) return;
  const soon = leaseEnd(options.now, options.seconds / 2).toISOString();
  const stale = and(
    inArray(runs.id, [...runIds]),
    eq(runs.status, "queued"),
    or(isNull(runs.leaseExpiresAt), lt(runs.leaseExpiresAt, soon)),
  );
  const found = await db.select({ id: runs.id }).from(runs).where(stale);
  if (found.length === 0) return;
  await db.update(runs).set({
    leaseExpiresAt: leaseEnd(options.now, options.seconds).toISOString(),
  }).where(stale);
}
