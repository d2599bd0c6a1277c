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
 *   lease has expired belongs to a process that died: `expireLeases` marks it
 *   interrupted, and the record can run again.
 *
 * The writes of a run's state live in `pipeline/run_state_db.ts` (leases, waiting
 * runs) and `pipeline/service.ts` (queueing, starting); this module re-exports the
 * ones the scheduler uses.
 */
import { eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { runs } from "../db/schema/autocomm.ts";
import {
  isUniqueViolation,
  queueRecordRun,
  type RunDeps,
  RunInProgress,
  RunStateError,
  type StartQueue,
} from "../pipeline/service.ts";
import {
  type ExpiredRun,
  expireLeases,
  type ExpireLeasesOptions,
  giveUpWaiting,
  requeueWaiting,
} from "../pipeline/run_state_db.ts";
import { SERVICE_STOPPED } from "../pipeline/signals.ts";

export { expireLeases, giveUpWaiting, requeueWaiting };
export type { ExpiredRun, ExpireLeasesOptions };

/** The part of the run queue the scheduler uses. */
export type ScheduleQueue = StartQueue;

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
    // The record's active run (RunInProgress), or the slot key (another tick).
    if (!(error instanceof RunInProgress) && !isUniqueViolation(error)) throw error;
    const taken = await claimedKeys(deps.db, [options.slotKey]);
    if (taken.size > 0) return { outcome: "taken" };
    return {
      outcome: "busy",
      activeRunId: error instanceof RunInProgress ? error.runId : undefined,
    };
  }
}

/**
 * The suffix of the slot key of a scheduled slot's one retry: a slot whose run the
 * service stopped (inline mode: the platform stopped the instance, `signals.ts`) is
 * claimed once more under `<slot key>#retry`; the unique slot key makes that claim
 * once across instances, and a retry is never retried.
 */
export const RETRY_SUFFIX = "#retry";

/**
 * Scheduled slots whose run the service stopped (interrupted with
 * `SERVICE_STOPPED`'s message) since `since`, not retried yet.
 */
export async function stoppedSlots(
  db: Db,
  since: Date,
): Promise<{ recordId: number; slotKey: string }[]> {
  const rows = await db.all<{ record_id: number; slot_key: string }>(sql`
    SELECT r.record_id, r.slot_key FROM ${runs} r
    WHERE r.status = 'interrupted' AND r.slot_key IS NOT NULL AND r.record_id IS NOT NULL
      AND r.slot_key NOT LIKE ${"%" + RETRY_SUFFIX}
      AND r.message LIKE ${SERVICE_STOPPED + "%"}
      AND coalesce(r.ended_at, r.queued_at) >= ${since.toISOString()}
      AND NOT EXISTS (SELECT 1 FROM ${runs} x WHERE x.slot_key = r.slot_key || ${RETRY_SUFFIX})
    ORDER BY r.id`);
  return rows.map((r) => ({ recordId: Number(r.record_id), slotKey: r.slot_key + RETRY_SUFFIX }));
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
