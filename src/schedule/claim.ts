/**
 * Claims in the database, because `Deno.cron` state lives in one process only:
 *
 * - a **slot** is claimed by inserting the run row with its unique slot key
 *   (`runs.slot_key`); a second insert of the same key, from another tick or
 *   another service process, fails and is skipped;
 * - a **record** has at most one active (queued, running or waiting) run: the
 *   unique index `runs_one_active` refuses a second;
 * - a **lease** (`runs.lease_expires_at`, `pipeline/lease.ts`) marks a run as owned by
 *   a live process: a running run's import process renews it; a queued run's lease is
 *   kept fresh by the process whose queue holds it (`renewQueuedLeases`). A run whose
 *   lease has expired belongs to a process that died: {@linkcode expireLeases} marks
 *   it interrupted, and the record can run again.
 */
import { and, eq, inArray, isNotNull, lt, notInArray, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { runs } from "../db/schema/autocomm.ts";
import {
  activeRunOf,
  isUniqueViolation,
  queueRecordRun,
  renewQueuedLeases,
  type RunDeps,
  RunInProgress,
  RunStateError,
} from "../pipeline/service.ts";

/** The part of the run queue the scheduler uses. */
export interface ScheduleQueue {
  enqueue(runId: number): void;
  /**
   * Ids of runs waiting in this process's queue (not yet started). When the queue
   * exposes them, their leases are renewed each tick, and a queued run whose
   * process died is marked interrupted like a running one.
   */
  readonly pending?: readonly number[];
}

/** A run {@linkcode expireLeases} marked interrupted. */
export interface ExpiredRun {
  runId: number;
  recordId: number | null;
  /** What the run was doing when its process died. */
  was: "queued" | "running";
}

/** Options of {@linkcode expireLeases}. */
export interface ExpireLeasesOptions {
  /**
   * Runs waiting in this process's own queue: alive whatever their lease says (its
   * renewal may have waited behind another process's write lock).
   */
  own?: readonly number[];
}

/**
 * Marks interrupted every queued or running run whose lease ended before `now`:
 * its process died (the import's transaction died with it, so nothing changed).
 * Call it on every tick and before every Run Now, so the record can run again.
 * Reads first and writes only when there is something to mark, so it does not wait
 * for the database's write lock while an import applies.
 */
export async function expireLeases(
  db: Db,
  now: Date,
  options: ExpireLeasesOptions = {},
): Promise<ExpiredRun[]> {
  const at = now.toISOString();
  const own = options.own ?? [];
  const expired = and(
    inArray(runs.status, ["queued", "running"]),
    isNotNull(runs.leaseExpiresAt),
    lt(runs.leaseExpiresAt, at),
    own.length > 0 ? notInArray(runs.id, [...own]) : undefined,
  );
  const found = await db.select({ id: runs.id, status: runs.status }).from(runs).where(expired);
  if (found.length === 0) return [];
  const out: ExpiredRun[] = [];
  for (const { id, status } of found) {
    const [row] = await db.update(runs).set({
      status: "interrupted",
      message: sql`CASE ${runs.status} WHEN 'queued'
        THEN 'The service process that queued the run stopped before it started; nothing was changed'
        ELSE 'The run''s process stopped before the run finished (its lease expired); nothing was changed' END`,
      endedAt: at,
      leaseExpiresAt: null,
    }).where(and(eq(runs.id, id), eq(runs.status, status), expired)).returning({
      id: runs.id,
      recordId: runs.recordId,
    });
    if (row) {
      out.push({
        runId: row.id,
        recordId: row.recordId,
        was: status === "queued" ? "queued" : "running",
      });
    }
  }
  return out;
}

/** What enqueueing needs. */
export interface EnqueueDeps {
  db: Db;
  queue: ScheduleQueue;
  config: { readonly runLeaseSeconds: number };
}

/**
 * Enqueues a queued run in this process. When the queue reports its pending runs
 * the run gets a lease first, so that it is marked interrupted if this process
 * dies before starting it.
 */
export async function enqueueRun(deps: EnqueueDeps, runId: number, now = new Date()) {
  if (deps.queue.pending !== undefined) {
    await renewQueuedLeases(deps.db, [runId], { now, seconds: deps.config.runLeaseSeconds });
  }
  deps.queue.enqueue(runId);
}

/** The result of claiming one slot. */
export type ClaimResult =
  /** The run row was inserted: this tick owns the slot. */
  | { outcome: "claimed"; runId: number }
  /** Another tick or process claimed the slot first. */
  | { outcome: "taken" }
  /** The record has an active run; the slot stays open and later ticks of the hour retry it. */
  | { outcome: "busy"; activeRunId: number | undefined }
  /** The record is gone. */
  | { outcome: "gone" };

/** The slot keys among `keys` that are already claimed. */
export async function claimedKeys(db: Db, keys: readonly string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (let i = 0; i < keys.length; i += 500) {
    const rows = await db.select({ key: runs.slotKey }).from(runs).where(
      inArray(runs.slotKey, keys.slice(i, i + 500)),
    );
    for (const r of rows) if (r.key !== null) out.add(r.key);
  }
  return out;
}

/**
 * Claims one slot of a record: queues its run with the slot key. Tells apart a
 * slot someone else claimed from a record that is still running.
 */
export async function claimSlot(
  deps: RunDeps,
  recordId: number,
  options: { slotKey: string },
): Promise<ClaimResult> {
  try {
    const runId = await queueRecordRun(deps, recordId, {
      trigger: "schedule",
      slotKey: options.slotKey,
    });
    return { outcome: "claimed", runId };
  } catch (error) {
    if (error instanceof RunStateError) return { outcome: "gone" };
    if (!(error instanceof RunInProgress) && !isUniqueViolation(error)) throw error;
    const taken = await claimedKeys(deps.db, [options.slotKey]);
    if (taken.size > 0) return { outcome: "taken" };
    return {
      outcome: "busy",
      activeRunId: error instanceof RunInProgress
        ? error.runId
        : await activeRunOf(deps.db, recordId),
    };
  }
}

/** Runs of status waiting, for the tick's retry. */
export async function waitingRuns(db: Db) {
  return await db.select({
    id: runs.id,
    recordId: runs.recordId,
    queuedAt: runs.queuedAt,
    preview: runs.preview,
  }).from(runs).where(eq(runs.status, "waiting")).orderBy(runs.id);
}

/** Moves a waiting run back to queued; false when another process did it first. */
export async function requeueWaiting(
  db: Db,
  runId: number,
  options: { leaseUntil: Date | null },
): Promise<boolean> {
  const done = await db.update(runs).set({
    status: "queued",
    leaseExpiresAt: options.leaseUntil?.toISOString() ?? null,
  })
    .where(and(eq(runs.id, runId), eq(runs.status, "waiting"))).returning({ id: runs.id });
  return done.length > 0;
}

/** Ends a waiting run whose file never settled; false when it is no longer waiting. */
export async function giveUpWaiting(
  db: Db,
  runId: number,
  options: { now: Date; message: string },
): Promise<boolean> {
  const done = await db.update(runs).set({
    status: "no_file",
    message: options.message,
    endedAt: options.now.toISOString(),
    leaseExpiresAt: null,
  }).where(and(eq(runs.id, runId), eq(runs.status, "waiting"))).returning({ id: runs.id });
  return done.length > 0;
}
