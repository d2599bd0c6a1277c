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
 *    and later ticks of the same hour try it again (logged as `schedule_slot_busy`);
 * 5. a slot of the last hour whose run the service stopped (inline mode: the platform
 *    stopped the instance) is claimed once more and enqueued (`claim.ts`).
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
  stoppedSlots,
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

/** One tick under way: what it needs, its instant, what it did so far, its background jobs. */
class Ticking {
  readonly result: TickResult;
  /** Jobs (reports to send) run one after another once the tick's own work is done. */
  readonly background: (() => Promise<unknown>)[] = [];

  constructor(readonly deps: ScheduleDeps, readonly instant: Date) {
    this.result = {
      wall: wallText(wallMinuteOf(instant, deps.config.timeZone)),
      hourly: null,
      interrupted: [],
      requeued: [],
      gaveUp: [],
      claimed: [],
      taken: [],
      busy: [],
      reports: Promise.resolve(),
    };
  }

  /**
   * Runs one step of the tick. A step that fails (typically: the database stayed
   * locked longer than the busy timeout) is logged and the tick goes on; the next tick
   * does it again.
   */
  async step(name: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (error) {
      this.deps.logger.error("tick_step_failed", {
        step: name,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}

/**
 * Step 2: the hourly process, at minute 00 or on the first tick of an hour this
 * process has not seen (with a state); its retry of unsent reports goes to the
 * background.
 */
async function hourlyStep(t: Ticking, state: ScheduleState | undefined): Promise<void> {
  const { deps, instant, result } = t;
  const hour = hourKey(instant, deps.config.timeZone);
  const wall = wallMinuteOf(instant, deps.config.timeZone);
  if (wall.minute !== 0 && (state === undefined || state.lastHourly === hour)) return;
  await t.step("hourly", async () => {
    result.hourly = await housekeeping(deps, instant);
    result.interrupted.push(...result.hourly.interrupted);
    if (state) state.lastHourly = hour;
  });
  t.background.push(
    () => retryUnsentReports(deps, instant),
    () => retryHostCallbacks(deps, instant),
  );
}

/**
 * After steps 1 and 2: each interrupted run is logged, its left-behind stage file
 * removed (its process died), and a record's run reported in the background.
 */
async function afterInterrupted(t: Ticking): Promise<void> {
  const { deps } = t;
  for (const run of t.result.interrupted) {
    deps.logger.warn("run_interrupted", { runId: run.runId, recordId: run.recordId, was: run.was });
    await t.step("stage_files", () => removeRunStage(deps.config.databaseUrl, run.runId));
    if (run.recordId !== null) t.background.push(() => sendCompletionReport(deps, run.runId));
  }
}

/**
 * Step 3: waiting runs (not previews) are queued again, until an hour after they were
 * first queued; then they end `no_file` and are reported.
 */
async function waitingStep(t: Ticking): Promise<void> {
  const { deps, instant, result } = t;
  const { db, config, logger } = deps;
  for (const run of await waitingRuns(db)) {
    if (instant.getTime() - Date.parse(run.queuedAt) >= WAIT_LIMIT_MS) {
      const ended = await giveUpWaiting(db, run.id, { now: instant });
      if (ended) {
        result.gaveUp.push(run.id);
        logger.warn("run_gave_up_waiting", { runId: run.id, recordId: run.recordId });
        t.background.push(() => sendCompletionReport(deps, run.id));
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
}

/**
 * Claims `todo` in one write transaction, in order (a queue that holds leases renews
 * the claimed runs' leases in it). When the transaction fails (typically the database
 * stayed locked longer than the busy timeout) nothing is claimed: the slots stay open
 * and the next tick of the hour claims them.
 */
async function claimTogether(t: Ticking, todo: DueSlot[]): Promise<[DueSlot, ClaimResult][]> {
  const { deps: { db, config, logger, queue }, instant } = t;
  try {
    return await db.transaction(async (tx) => {
      const txDeps = { db: tx as unknown as Db, config };
      const out: [DueSlot, ClaimResult][] = [];
      for (const d of todo) {
        out.push([d, await claimSlot(txDeps, d.record.id, { slotKey: d.key })]);
      }
      if (queue.pending !== undefined) {
        const ids = out.flatMap(([, r]) => r.outcome === "claimed" ? [r.runId] : []);
        await renewQueuedLeases(txDeps.db, ids, { now: instant, seconds: config.runLeaseSeconds });
      }
      return out;
    });
  } catch (error) {
    logger.warn("schedule_claim_failed", {
      slots: todo.map((d) => d.key),
      error: error instanceof Error ? error.message : String(error),
    });
    return [];
  }
}

/** Step 4: the due slots not yet claimed are claimed together; claimed runs are enqueued. */
async function dueSlotsStep(t: Ticking): Promise<void> {
  const { deps: { db, config, logger, queue }, instant, result } = t;
  const due = dueThisHour(await schedulableRecords(db), instant, config.timeZone);
  const already = await claimedKeys(db, due.map((d) => d.key));
  const todo = due.filter((d) => !already.has(d.key));
  const outcomes = todo.length > 0 ? await claimTogether(t, todo) : [];
  for (const key of already) result.taken.push(key);
  for (const [d, r] of outcomes) {
    if (r.outcome === "claimed") {
      result.claimed.push({ runId: r.runId, recordId: d.record.id, slotKey: d.key });
      logger.info("schedule_claimed", { recordId: d.record.id, slot: d.key, runId: r.runId });
      queue.enqueue(r.runId);
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
}

/**
 * Step 4b: a slot of the last hour whose run the service stopped (inline mode) is
 * claimed once more (`claim.ts`, `RETRY_SUFFIX`) and enqueued; a record still running
 * leaves it for a later tick.
 */
async function retryStoppedStep(t: Ticking): Promise<void> {
  const { deps: { db, config, logger, queue }, instant, result } = t;
  const since = new Date(instant.getTime() - 3600 * 1000);
  for (const slot of await stoppedSlots(db, since)) {
    const r = await claimSlot({ db, config }, slot.recordId, { slotKey: slot.slotKey });
    if (r.outcome !== "claimed") continue;
    if (queue.pending !== undefined) {
      await renewQueuedLeases(db, [r.runId], { now: instant, seconds: config.runLeaseSeconds });
    }
    result.claimed.push({ runId: r.runId, recordId: slot.recordId, slotKey: slot.slotKey });
    logger.info("schedule_retry_claimed", {
      recordId: slot.recordId,
      slot: slot.slotKey,
      runId: r.runId,
    });
    queue.enqueue(r.runId);
  }
}

/** Runs the background jobs one after another; a job that fails is logged. */
async function runBackground(t: Ticking): Promise<void> {
  for (const job of t.background) {
    try {
      await job();
    } catch (error) {
      t.deps.logger.error("report_job_failed", { error: String(error) });
    }
  }
}

/** The minute tick (see the module's notes). Never waits for a run to execute. */
export async function tick(
  deps: ScheduleDeps,
  instant: Date,
  options: TickOptions = {},
): Promise<TickResult> {
  const { db, config } = deps;
  const t = new Ticking(deps, instant);
  const result = t.result;
  // 1. Leases.
  await t.step("leases", async () => {
    result.interrupted.push(...await expireLeases(db, instant, { own: deps.queue.pending ?? [] }));
  });
  await hourlyStep(t, options.state);
  await afterInterrupted(t);
  await t.step("waiting", () => waitingStep(t));
  await dueSlotsStep(t);
  await t.step("retry_stopped", () => retryStoppedStep(t));
  // 5. Keep the leases of this process's queued runs fresh.
  const pending = deps.queue.pending;
  if (pending !== undefined && pending.length > 0) {
    await t.step(
      "renew_leases",
      () => renewQueuedLeases(db, pending, { now: instant, seconds: config.runLeaseSeconds }),
    );
  }
  result.reports = runBackground(t);
  return result;
}
