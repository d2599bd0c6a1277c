/**
 * The minute tick: what `Deno.cron` calls every minute, and what tests call with
 * any instant. It only claims and enqueues — runs execute in the run queue's import
 * processes, e-mail goes out in the background — so it returns quickly while an
 * import is applying. In order:
 *
 * 1. runs whose lease expired are marked interrupted (their process died);
 * 2. at minute 00 of a local hour (and on the first tick of a process), the hourly
 *    process's housekeeping (`hourly.ts`); its retry of unsent reports runs in the
 *    background;
 * 3. waiting runs (file still being written) are queued again, each minute, until
 *    an hour after they were first queued; then they end `no_file`;
 * 4. every (record, slot) due from the start of the current local hour up to now
 *    and not yet claimed is claimed — in one write transaction, in run order (slot,
 *    then sort order, then name), so one process gets a minute's records together
 *    and runs them one after another — and enqueued. A slot another tick or process
 *    claimed is skipped silently; a slot whose record is still running stays open
 *    and later ticks of the same hour try it again (logged as `schedule_slot_busy`).
 */
import { eq } from "drizzle-orm";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import { records } from "../db/schema/autocomm.ts";
import { type MailDeps, retryUnsentReports, sendCompletionReport } from "../mail/completion.ts";
import {
  claimedKeys,
  type ClaimResult,
  claimSlot,
  type ExpiredRun,
  expireLeases,
  giveUpWaiting,
  requeueWaiting,
  type ScheduleQueue,
  waitingRuns,
} from "./claim.ts";
import {
  type DueSlot,
  dueThisHour,
  hourKey,
  type Schedulable,
  wallMinuteOf,
  wallText,
} from "./due.ts";
import { housekeeping, type HousekeepingResult } from "./hourly.ts";
import { retryHostCallbacks } from "../host/callback.ts";
import { removeRunStage } from "../pipeline/stage.ts";
import { leaseEnd } from "../pipeline/run_state.ts";
import { renewQueuedLeases } from "../pipeline/run_state_db.ts";

/** What the scheduler needs. */
export interface ScheduleDeps extends MailDeps {
  db: Db;
  config: Config;
  queue: ScheduleQueue;
}

/** What a process remembers between ticks. */
export interface ScheduleState {
  /** The local hour (`YYYY-MM-DDTHH`) whose hourly process this process has run. */
  lastHourly?: string;
}

/** A fresh state: the first tick runs the hourly process. */
export function createScheduleState(): ScheduleState {
  return {};
}

/** Options of {@linkcode tick}. */
export interface TickOptions {
  /**
   * The process's memory between ticks. With it the hourly process also runs on
   * the first tick of an hour this process has not seen at minute 00 (after a
   * restart); without it, only at minute 00.
   */
  state?: ScheduleState;
}

/** A slot claimed by this tick. */
export interface ClaimedSlot {
  runId: number;
  recordId: number;
  slotKey: string;
}

/** What a tick did. */
export interface TickResult {
  /** The local wall minute of the tick. */
  wall: string;
  /** The hourly housekeeping, when it ran. */
  hourly: HousekeepingResult | null;
  /** Runs marked interrupted because their lease expired. */
  interrupted: ExpiredRun[];
  /** Waiting runs queued again. */
  requeued: number[];
  /** Waiting runs ended because their file never settled within the hour. */
  gaveUp: number[];
  /** Slots claimed and enqueued, in run order. */
  claimed: ClaimedSlot[];
  /** Slots another tick or process had claimed. */
  taken: string[];
  /** Slots whose record still has an active run; later ticks of the hour retry them. */
  busy: { slotKey: string; recordId: number; activeRunId: number | undefined }[];
  /** Resolves when the reports this tick started in the background have been sent. */
  reports: Promise<void>;
}

/** How long a waiting run is retried after it was first queued. */
export const WAIT_LIMIT_MS = 3600 * 1000;

/** Records whose execution is on, as scheduling needs them. */
async function schedulableRecords(db: Db): Promise<Schedulable[]> {
  return await db.select({
    id: records.id,
    name: records.name,
    hour: records.hour,
    minute: records.minute,
    days: records.days,
    executionOff: records.executionOff,
    sortOrder: records.sortOrder,
    updatedAt: records.updatedAt,
  }).from(records).where(eq(records.executionOff, false));
}

/** The minute tick (see the module's notes). Never waits for a run to execute. */
export async function tick(
  deps: ScheduleDeps,
  instant: Date,
  options: TickOptions = {},
): Promise<TickResult> {
  const { db, config, logger } = deps;
  const wall = wallMinuteOf(instant, config.timeZone);
  const background: (() => Promise<unknown>)[] = [];
  const result: TickResult = {
    wall: wallText(wall),
    hourly: null,
    interrupted: [],
    requeued: [],
    gaveUp: [],
    claimed: [],
    taken: [],
    busy: [],
    reports: Promise.resolve(),
  };

  // A step that fails (typically: the database stayed locked longer than the busy
  // timeout) is logged and the tick goes on; the next tick does it again.
  const step = async (name: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (error) {
      logger.error("tick_step_failed", {
        step: name,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  };

  // 1. Leases.
  await step("leases", async () => {
    result.interrupted.push(...await expireLeases(db, instant, { own: deps.queue.pending ?? [] }));
  });

  // 2. The hourly process.
  const hour = hourKey(instant, config.timeZone);
  const state = options.state;
  if (wall.minute === 0 || (state !== undefined && state.lastHourly !== hour)) {
    await step("hourly", async () => {
      result.hourly = await housekeeping(deps, instant);
      result.interrupted.push(...result.hourly.interrupted);
      if (state) state.lastHourly = hour;
    });
    background.push(
      () => retryUnsentReports(deps, instant),
      () => retryHostCallbacks(deps, instant),
    );
  }
  for (const run of result.interrupted) {
    logger.warn("run_interrupted", { runId: run.runId, recordId: run.recordId, was: run.was });
    // Its process died: the stage file of a large file's run may be left behind.
    await step("stage_files", () => removeRunStage(config.databaseUrl, run.runId));
    if (run.recordId !== null) background.push(() => sendCompletionReport(deps, run.runId));
  }

  // 3. Waiting runs.
  await step("waiting", async () => {
    for (const run of await waitingRuns(db)) {
      if (instant.getTime() - Date.parse(run.queuedAt) >= WAIT_LIMIT_MS) {
        const ended = await giveUpWaiting(db, run.id, { now: instant });
        if (ended) {
          result.gaveUp.push(run.id);
          logger.warn("run_gave_up_waiting", { runId: run.id, recordId: run.recordId });
          background.push(() => sendCompletionReport(deps, run.id));
        }
      } else if (
        !run.preview &&
        await requeueWaiting(db, run.id, {
          leaseUntil: deps.queue.pending !== undefined
            ? leaseEnd(instant, config.runLeaseSeconds)
            : null,
        })
      ) {
        result.requeued.push(run.id);
        deps.queue.enqueue(run.id);
      }
    }
  });

  // 4. Due slots.
  const due = dueThisHour(await schedulableRecords(db), instant, config.timeZone);
  const already = await claimedKeys(db, due.map((d) => d.key));
  const todo = due.filter((d) => !already.has(d.key));
  let outcomes: [DueSlot, ClaimResult][] = [];
  if (todo.length > 0) {
    try {
      outcomes = await db.transaction(async (tx) => {
        const txDeps = { db: tx as unknown as Db, config };
        const out: [DueSlot, ClaimResult][] = [];
        for (const d of todo) {
          out.push([d, await claimSlot(txDeps, d.record.id, { slotKey: d.key })]);
        }
        if (deps.queue.pending !== undefined) {
          const ids = out.flatMap(([, r]) => r.outcome === "claimed" ? [r.runId] : []);
          await renewQueuedLeases(txDeps.db, ids, {
            now: instant,
            seconds: config.runLeaseSeconds,
          });
        }
        return out;
      });
    } catch (error) {
      // Typically the database stayed locked longer than the busy timeout; the
      // slots stay open and the next tick of the hour claims them.
      logger.warn("schedule_claim_failed", {
        slots: todo.map((d) => d.key),
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  for (const key of already) result.taken.push(key);
  for (const [d, r] of outcomes) {
    if (r.outcome === "claimed") {
      result.claimed.push({ runId: r.runId, recordId: d.record.id, slotKey: d.key });
      logger.info("schedule_claimed", { recordId: d.record.id, slot: d.key, runId: r.runId });
      deps.queue.enqueue(r.runId);
    } else if (r.outcome === "taken") {
      result.taken.push(d.key);
    } else if (r.outcome === "busy") {
      result.busy.push({ slotKey: d.key, recordId: d.record.id, activeRunId: r.activeRunId });
      logger.warn("schedule_slot_busy", {
        recordId: d.record.id,
        slot: d.key,
        activeRunId: r.activeRunId,
        retry: "on the next tick of this hour",
      });
    }
  }

  // 5. Keep the leases of this process's queued runs fresh.
  const pending = deps.queue.pending;
  if (pending !== undefined && pending.length > 0) {
    await step(
      "renew_leases",
      () => renewQueuedLeases(db, pending, { now: instant, seconds: config.runLeaseSeconds }),
    );
  }

  result.reports = (async () => {
    for (const job of background) {
      try {
        await job();
      } catch (error) {
        logger.error("report_job_failed", { error: String(error) });
      }
    }
  })();
  return result;
}
