/**
 * The service's run queue: runs are applied one at a time per process (and, the
 * database's write lock being one, one at a time per database), in the queue's warm
 * import process (`worker.ts`), so the process that serves pages never blocks on an
 * apply.
 */
import { errorText, type Logger } from "../log.ts";
import { renewEveryMs } from "./lease.ts";
import { executeQueued, renewQueuedLeases, type RunDeps } from "./service.ts";
import { ImportWorker } from "./worker.ts";

/** A queue of run ids executed one after another. */
export interface RunQueue {
  /**
   * Adds a queued run; it starts when the runs before it have finished. The
   * promise resolves when this run has ended (callers may ignore it).
   */
  enqueue(runId: number): Promise<void>;
  /** Resolves when every run enqueued so far has finished. */
  idle(): Promise<void>;
  /** Runs waiting or executing. */
  readonly size: number;
  /** Ids of the runs waiting for their turn (not the one executing). */
  readonly pending: readonly number[];
  /** Starts the warm import process now rather than at the first run. */
  warm(): void;
  /**
   * Waits for the runs enqueued so far, then ends the import process and the renewal
   * of leases. Runs enqueued afterwards each get an import process of their own.
   */
  close(): Promise<void>;
}

/** Options of {@linkcode createRunQueue}. */
export interface RunQueueOptions {
  logger?: Logger;
  /** Called after each run ends (e-mail reports, host callbacks); errors are logged. */
  onFinished?: (runId: number) => Promise<void>;
}

/**
 * Creates a queue that executes runs in its import process, one at a time, and keeps
 * the leases of the runs waiting in it fresh (the import process renews the lease of
 * the run it executes).
 */
export function createRunQueue(deps: RunDeps, options: RunQueueOptions = {}): RunQueue {
  const worker = new ImportWorker(deps.config);
  const pending: number[] = [];
  const seconds = deps.config.runLeaseSeconds;
  const renewal = setInterval(() => {
    if (pending.length === 0) return;
    renewQueuedLeases(deps.db, pending, { now: new Date(), seconds }).catch((error) => {
      options.logger?.warn("lease_renewal_failed", { error: errorText(error) });
    });
  }, renewEveryMs(seconds));
  Deno.unrefTimer(renewal);
  let tail: Promise<void> = Promise.resolve();
  let active = 0;
  return {
    enqueue(runId: number) {
      pending.push(runId);
      active++;
      const done = tail.then(async () => {
        pending.shift();
        try {
          await executeQueued(deps, runId, worker);
        } catch (error) {
          options.logger?.error("run_failed_to_start", { runId, error: String(error) });
        }
        try {
          await options.onFinished?.(runId);
        } catch (error) {
          options.logger?.error("run_after_hook_failed", { runId, error: String(error) });
        } finally {
          active--;
        }
      });
      tail = done;
      return done;
    },
    idle: () => tail,
    get size() {
      return active;
    },
    get pending() {
      return [...pending];
    },
    warm: () => worker.start(),
    async close() {
      await tail;
      clearInterval(renewal);
      await worker.close();
    },
  };
}
