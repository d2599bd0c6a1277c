/**
 * The service's run queue: runs are applied one at a time per process (and, the
 * database's write lock being one, one at a time per database). In `process` mode
 * they run in the queue's warm import process (`worker.ts`), so the process that
 * serves pages never blocks on an apply; in `inline` mode (the serverless profile,
 * `import_mode.ts`) in this process's event loop, which the run lets go between
 * batches so that requests keep being answered.
 */
import { errorText, type Logger } from "../log.ts";
import type { ImportMode } from "./import_mode.ts";
import { renewEveryMs } from "./lease.ts";
import { transitionStatement } from "./run_state.ts";
import { borrowExecutor } from "./executor.ts";
import { executeInline, executeQueued, renewQueuedLeases, type RunDeps } from "./service.ts";
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
  /**
   * Inline mode: stops the executing run at its next safe point (nothing applied,
   * interrupted with `message`), marks the runs waiting in the queue interrupted the
   * same way, and resolves once the executing run has ended. Later runs are not
   * started. In process mode the import process stops its run on its own signal.
   */
  stop(message: string): Promise<void>;
}

/** Options of {@linkcode createRunQueue}. */
export interface RunQueueOptions {
  logger?: Logger;
  /** Called after each run ends (e-mail reports, host callbacks); errors are logged. */
  onFinished?: (runId: number) => Promise<void>;
  /** Where runs execute (`import_mode.ts`); default: `AUTOCOMM_IMPORT_MODE`, else `process`. */
  mode?: ImportMode;
}

/**
 * Creates a queue that executes runs in its import process, one at a time, and keeps
 * the leases of the runs waiting in it fresh (the import process renews the lease of
 * the run it executes).
 */
export function createRunQueue(deps: RunDeps, options: RunQueueOptions = {}): RunQueue {
  const inline = (options.mode ?? deps.config.importMode) === "inline";
  const worker = new ImportWorker(deps.config);
  const stopping = new AbortController();
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
          if (stopping.signal.aborted) return;
          if (inline) await executeInline(deps, runId, { signal: stopping.signal });
          else await executeQueued(deps, runId, worker);
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
    warm: () => inline ? undefined : worker.start(),
    async stop(message: string) {
      if (!inline) return;
      stopping.abort(message);
      if (pending.length > 0) {
        const waiting = transitionStatement([...pending], "interrupted", {
          from: ["queued"],
          set: { message, ended_at: new Date().toISOString(), lease_expires_at: null },
        });
        await borrowExecutor(deps.db.$client).run(waiting.sql, waiting.args);
      }
      await tail;
    },
    async close() {
      await tail;
      clearInterval(renewal);
      await worker.close();
    },
  };
}
