/**
 * The hourly process, run by the tick at minute 00 of each local hour before the
 * records due then (and by the first tick after the service starts):
 *
 * 1. runs whose process died (lease expired) are marked interrupted;
 * 2. held runs not approved within 24 hours (`held_until`) are discarded and
 *    their kept files deleted (and files kept in the database that no run needs,
 *    and a remote server's staging tables whose run is no longer queued or running);
 * 3. finished runs older than `AUTOCOMM_RUN_RETENTION_DAYS` are deleted with their
 *    errors, notes and change log (the highest change id of a committed run deleted
 *    is kept, so that the change feed reports the gap to a host that had not read
 *    it: `src/host/feed.ts`); webhook delivery ids older than a day too;
 * 4. completion reports whose send failed are retried
 *    ({@linkcode retryUnsentReports}), and host completion callbacks that are due
 *    ({@linkcode retryHostCallbacks}: with backoff, for up to 24 hours).
 *
 * Every step claims row by row (conditional updates and deletes), so two service
 * processes running it in the same hour do each thing once.
 */
import { and, between, eq, inArray, isNotNull, lt, sql } from "drizzle-orm";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import {
  heldFileChunks,
  hostCallbacks,
  runChanges,
  runErrors,
  runNotes,
  runs,
  webhookDeliveries,
} from "../db/schema/autocomm.ts";
import type { Logger } from "../log.ts";
import { type MailDeps, type RetryResult, retryUnsentReports } from "../mail/completion.ts";
import { discardRun, RunStateError } from "../pipeline/service.ts";
import { stageTableRun } from "../pipeline/stage.ts";
import { inFeed, noteRemoved } from "../host/feed.ts";
import { type CallbackRetryResult, retryHostCallbacks } from "../host/callback.ts";
import { type ExpiredRun, expireLeases } from "./claim.ts";

/** What the housekeeping needs. */
export interface HousekeepingDeps {
  db: Db;
  config: Config;
  logger: Logger;
}

/** What the housekeeping did. */
export interface HousekeepingResult {
  interrupted: ExpiredRun[];
  /** Held runs discarded after 24 hours. */
  discarded: number[];
  /** Runs deleted by retention. */
  deletedRuns: number;
}

/** How long a webhook delivery id is remembered (its timestamp is valid for 5 minutes). */
const DELIVERY_MEMORY_MS = 24 * 3600 * 1000;
const RETENTION_BATCH = 500;

/** Discards held runs whose 24 hours have passed; returns their ids. */
export async function expireHeldRuns(deps: HousekeepingDeps, now: Date): Promise<number[]> {
  const due = await deps.db.select({ id: runs.id }).from(runs).where(
    and(eq(runs.status, "held"), isNotNull(runs.heldUntil), lt(runs.heldUntil, now.toISOString())),
  );
  const out: number[] = [];
  for (const { id } of due) {
    try {
      await discardRun(deps, id, "expired");
      out.push(id);
    } catch (error) {
      // Approved or discarded meanwhile, by a person or another process.
      if (!(error instanceof RunStateError)) throw error;
    }
  }
  return out;
}

/**
 * Deletes finished runs that ended more than `runRetentionDays` ago, with their
 * errors, notes and change log. Held and active runs are kept.
 */
export async function applyRetention(deps: HousekeepingDeps, now: Date): Promise<number> {
  const before = new Date(now.getTime() - deps.config.runRetentionDays * 86_400_000)
    .toISOString();
  const old = and(
    sql`${runs.status} NOT IN ('queued', 'running', 'waiting', 'held')`,
    lt(sql`coalesce(${runs.endedAt}, ${runs.queuedAt})`, before),
  );
  let deleted = 0;
  for (;;) {
    const found = await deps.db.select({
      id: runs.id,
      from: runs.changesFrom,
      to: runs.changesTo,
      status: runs.status,
      preview: runs.preview,
    }).from(runs).where(old).limit(RETENTION_BATCH);
    const batch = found.map((r) => r.id);
    if (batch.length === 0) break;
    // A run's change log is the range of ids on its row (the entries have no run index).
    const changes = found.flatMap((r) =>
      r.from == null || r.to == null
        ? []
        : [deps.db.delete(runChanges).where(between(runChanges.id, r.from, r.to))]
    );
    // The change feed's gap mark: the highest entry of a committed run removed.
    const removed = Math.max(0, ...found.map((r) => inFeed(r) ? r.to ?? 0 : 0));
    await deps.db.batch([
      noteRemoved(deps.db, removed),
      deps.db.delete(runErrors).where(inArray(runErrors.runId, batch)),
      deps.db.delete(runNotes).where(inArray(runNotes.runId, batch)),
      deps.db.delete(hostCallbacks).where(inArray(hostCallbacks.runId, batch)),
      ...changes,
      deps.db.delete(runs).where(and(inArray(runs.id, batch), old)),
    ]);
    deleted += batch.length;
    if (batch.length < RETENTION_BATCH) break;
  }
  const forget = new Date(now.getTime() - DELIVERY_MEMORY_MS).toISOString();
  const [stale] = await deps.db.select({ n: sql<number>`count(*)` }).from(webhookDeliveries)
    .where(lt(webhookDeliveries.receivedAt, forget));
  if (Number(stale?.n ?? 0) > 0) {
    await deps.db.delete(webhookDeliveries).where(lt(webhookDeliveries.receivedAt, forget));
  }
  return deleted;
}

/** Steps 1–3 of the hourly process: database housekeeping. */
export async function housekeeping(
  deps: HousekeepingDeps,
  now: Date,
): Promise<HousekeepingResult> {
  const interrupted = await expireLeases(deps.db, now);
  const discarded = await expireHeldRuns(deps, now);
  const deletedRuns = await applyRetention(deps, now);
  await removeOrphanChunks(deps.db);
  const droppedStages = await removeOrphanStages(deps.db);
  if (interrupted.length > 0 || discarded.length > 0 || deletedRuns > 0 || droppedStages > 0) {
    deps.logger.info("hourly_housekeeping", {
      interrupted: interrupted.map((r) => r.runId),
      discarded,
      deletedRuns,
      droppedStages,
    });
  }
  return { interrupted, discarded, deletedRuns };
}

/**
 * Removes files kept in the database (`held_file_chunks`, inline mode) that no run
 * needs any more: neither held nor still active — what a run that failed or was killed
 * left behind.
 */
export async function removeOrphanChunks(db: Db): Promise<void> {
  const orphan =
    sql`${heldFileChunks.runId} NOT IN (SELECT ${runs.id} FROM ${runs} WHERE ${runs.status} IN ('held', 'queued', 'running', 'waiting'))`;
  // Read first: on a libSQL server even a DELETE that finds nothing asks for the write
  // lock, and takes it from an import's apply that has held it for 5 s (ending it).
  const [any] = await db.select({ id: heldFileChunks.runId }).from(heldFileChunks).where(orphan)
    .limit(1);
  if (any) await db.delete(heldFileChunks).where(orphan);
}

/**
 * Drops staging tables on a remote server (`stage_<run>`, `stage_errors_<run>`, …:
 * `src/pipeline/stage.ts`) whose run is no longer queued or running: what an import
 * process that was killed, or that gave up waiting for the lock to drop them, left
 * behind. (On the embedded file staging tables are the connection's own TEMP tables;
 * none are in the file.) Returns how many were dropped.
 */
export async function removeOrphanStages(db: Db): Promise<number> {
  const tables = await db.all<{ name: string }>(
    sql`SELECT name FROM sqlite_schema WHERE type = 'table' AND name GLOB 'stage_*'`,
  );
  const owned = tables.flatMap((t) => {
    const runId = stageTableRun(t.name);
    return runId === null ? [] : [{ name: t.name, runId }];
  });
  if (owned.length === 0) return 0;
  const active = new Set(
    (await db.select({ id: runs.id }).from(runs).where(
      inArray(runs.status, ["queued", "running"]),
    )).map((r) => r.id),
  );
  let dropped = 0;
  for (const t of owned.filter((o) => !active.has(o.runId))) {
    await db.run(sql.raw(`DROP TABLE IF EXISTS "${t.name}"`));
    dropped++;
  }
  return dropped;
}

/** What the whole hourly process did. */
export interface HourlyResult extends HousekeepingResult {
  reports: RetryResult;
  callbacks: CallbackRetryResult;
}

/**
 * The whole hourly process: housekeeping, then the retry of unsent reports and of
 * host callbacks that are due (the tick runs those two in the background).
 */
export async function runHourly(
  deps: HousekeepingDeps & MailDeps,
  now: Date,
): Promise<HourlyResult> {
  const done = await housekeeping(deps, now);
  const reports = await retryUnsentReports(deps, now);
  const callbacks = await retryHostCallbacks(deps, now);
  return { ...done, reports, callbacks };
}
