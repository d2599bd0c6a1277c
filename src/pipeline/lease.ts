/**
 * A run's lease (`runs.lease_expires_at`) says that a live process holds it: the
 * service whose queue a queued run waits in, or the import process executing a running
 * one. The holder renews it every third of its length (`Config.runLeaseSeconds`,
 * default 60 s); a run whose lease ended belongs to a process that died, and the
 * scheduler's tick and every Run Now mark it interrupted (`run_state_db.ts`), so a
 * record is free again a minute or two after its service was killed.
 *
 * An import process renews its running run's lease on a connection of its own
 * (`SqlExecutor.runOutside`), so that a renewal during staging never takes the write
 * lock inside the staging transaction, and not while the apply's transaction is open:
 * that transaction holds the database's write lock, so no other process can mark the
 * run interrupted meanwhile, and its commit checks that the run is still its own
 * (`run.ts`). The queued runs' leases are renewed by the run queue
 * (`queue.ts`, `renewQueuedLeases` in `run_state_db.ts`). This module loads no Drizzle:
 * the import process uses it; its statements come from `run_state.ts`.
 */
import type { SqlExecutor } from "./executor.ts";
import { interruptedMessage, leaseEnd, renewLeaseStatement } from "./run_state.ts";

export { leaseEnd };

/** What a run ends with when another process marked it interrupted meanwhile. */
export const LEASE_LOST = interruptedMessage("lease_lost");

/** How often a lease of `seconds` is renewed, in milliseconds. */
export function renewEveryMs(seconds: number): number {
  return Math.max(1000, Math.floor((seconds * 1000) / 3));
}

/**
 * Renews a running run's lease from the process that executes it, every third of the
 * lease, until disposed. `lost` is aborted when the run is no longer running as far
 * as the database knows (another process marked it interrupted): the run must stop
 * and change nothing.
 */
export class RunLease implements Disposable {
  readonly #controller = new AbortController();
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(exec: SqlExecutor, runId: number, options: { seconds: number }) {
    this.#timer = setInterval(async () => {
      if (exec.inTransaction || this.#controller.signal.aborted) return;
      try {
        const renewal = renewLeaseStatement(
          runId,
          leaseEnd(new Date(), options.seconds).toISOString(),
          { status: "running" },
        );
        const renewed = await exec.runOutside(renewal.sql, renewal.args);
        if (renewed === 0) {
          this.#controller.abort(LEASE_LOST);
        }
      } catch {
        // The database is busy or unreachable: the next renewal tries again.
      }
    }, renewEveryMs(options.seconds));
  }

  /** Aborted when the run is no longer this process's. */
  get lost(): AbortSignal {
    return this.#controller.signal;
  }

  [Symbol.dispose](): void {
    clearInterval(this.#timer);
  }
}
