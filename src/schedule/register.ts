/**
 * The one place schedules are registered: a `Deno.cron` job that ticks every
 * minute. Call {@linkcode registerSchedules} once, at the top level of
 * `src/main.ts`, before `Deno.serve`.
 */
import { isDatabaseBusy } from "../db/busy.ts";
import { errorText } from "../log.ts";
import { createScheduleState, type ScheduleDeps, tick } from "./tick.ts";

/** The name of the minute job. */
export const TICK_JOB = "autocomm-tick";

/** Options of {@linkcode registerSchedules}. */
export interface RegisterOptions {
  /**
   * The handler waits until the runs it claimed have ended (and their reports are
   * sent): inline mode, where a platform stops an instance soon after its last request
   * or cron handler returns, and would lose runs still executing.
   */
  awaitRuns?: boolean;
}

/**
 * Registers the minute tick. Each tick claims and enqueues, then returns — or, with
 * `awaitRuns`, returns once the runs it claimed have ended.
 */
export function registerSchedules(deps: ScheduleDeps, options: RegisterOptions = {}): void {
  const state = createScheduleState();
  Deno.cron(TICK_JOB, "* * * * *", async () => {
    try {
      const result = await tick(deps, new Date(), { state });
      if (options.awaitRuns) {
        // The queue runs one at a time: once it is idle, the claimed runs have ended.
        await deps.queue.idle?.();
        await result.reports.catch(() => {});
      }
      // Reports go out in the background; the tick does not wait for them.
      result.reports.catch(() => {});
    } catch (error) {
      // A busy database leaves the minute's slots unclaimed: a later tick of the hour
      // catches them up.
      if (isDatabaseBusy(error)) deps.logger.warn("tick_database_busy", {});
      else deps.logger.error("tick_failed", { error: errorText(error) });
    }
  });
}
