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
import {
  interruptedMessage,
  leaseEnd,
  progressStatement,
  renewLeaseStatement,
  type RunProgressState,
  type RunStage,
} from "./run_state.ts";

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

/** Where a run's progress is also written when its row may not be (see {@linkcode RunProgress}). */
export function progressFile(dataDir: string, runId: number): string {
  return `${dataDir}/tmp/run-${runId}.progress.json`;
}

/** What {@linkcode RunProgress} reads on its timer: counters the run keeps anyway. */
export interface ProgressCounters {
  /** Data records read so far. */
  rows(): number;
  /** Bytes of the file read so far. */
  bytes(): number;
}

/** Options of {@linkcode RunProgress}. */
export interface RunProgressOptions {
  /** How often the progress is measured and reported, in milliseconds (default 1000). */
  everyMs?: number;
  /** Called with each new measurement (the import process prints it as an event line). */
  onReport?: (progress: RunProgressState) => void;
  /** The service's data folder: the progress file goes under its `tmp/`. */
  dataDir?: string;
}

/**
 * A running run's progress: the stage it is in and how much of the file it has read.
 * Nothing is done per row: the run keeps its counters as it reads, and a timer reads
 * them about once a second, reports the measurement (also at each new stage) and writes
 * it to the run's row (`progressStatement`) on the executor's own connection
 * (`SqlExecutor.runOutside`), as the lease is renewed — so that any instance of the
 * service can show it.
 *
 * The row is not written while the apply's transaction is open (it holds the write
 * lock), nor — on the embedded file — from the moment staging takes its snapshot of the
 * SIS ({@linkcode holdDatabase}): a write from another connection changes the file's
 * data version, and the apply would then have to look every row's existing record up
 * again. Meanwhile the progress goes to a small file under the data folder
 * ({@linkcode progressFile}), which the pages read beside the row; it is removed when
 * the run ends.
 */
export class RunProgress implements Disposable {
  readonly #exec: SqlExecutor;
  readonly #runId: number;
  readonly #options: RunProgressOptions;
  readonly #timer: ReturnType<typeof setInterval>;
  #stage: RunStage = "fetching";
  #size: number | null = null;
  #counters: ProgressCounters | null = null;
  #held = false;
  /** The last measurement reported, and the last one stored (as a key). */
  #reported = "";
  #stored = "";
  #writing = false;
  #fileWritten = false;
  #disposed = false;

  constructor(exec: SqlExecutor, runId: number, options: RunProgressOptions = {}) {
    this.#exec = exec;
    this.#runId = runId;
    this.#options = options;
    this.#timer = setInterval(() => void this.#store(), options.everyMs ?? 1000);
  }

  /** The run entered `stage`; `size` is the file's size once known, `counters` what to read. */
  enter(stage: RunStage, options: { size?: number; counters?: ProgressCounters } = {}): void {
    this.#stage = stage;
    if (options.size !== undefined) this.#size = options.size;
    if (options.counters) this.#counters = options.counters;
    this.#report();
  }

  /** From now on the row is not written (the embedded file's staging snapshot is open). */
  holdDatabase(): void {
    this.#held = true;
  }

  /** The current measurement. */
  get current(): RunProgressState {
    return {
      stage: this.#stage,
      rowsRead: this.#counters?.rows() ?? 0,
      bytesRead: this.#counters?.bytes() ?? 0,
      fileSize: this.#size,
      at: new Date().toISOString(),
    };
  }

  /** Reports the current measurement when it changed; returns it and its key. */
  #report(): { progress: RunProgressState; key: string } {
    const progress = this.current;
    const key = `${progress.stage} ${progress.rowsRead} ${progress.bytesRead} ${progress.fileSize}`;
    if (key !== this.#reported) {
      this.#reported = key;
      this.#options.onReport?.(progress);
    }
    return { progress, key };
  }

  /**
   * Reports and stores the current measurement (on the timer only: a run shorter than
   * a second writes nothing, so that small files pay nothing for their progress).
   */
  async #store(): Promise<void> {
    const { progress, key } = this.#report();
    if (key === this.#stored || this.#writing) return;
    this.#stored = key;
    this.#writing = true;
    try {
      if (!this.#held && !this.#exec.inTransaction) {
        const statement = progressStatement(this.#runId, progress);
        await this.#exec.runOutside(statement.sql, statement.args);
      } else if (this.#options.dataDir !== undefined) {
        await this.#writeFile(this.#options.dataDir, progress);
      }
    } catch {
      // Busy or unreachable: the next measurement tries again. Progress is never worth
      // a run's failure.
    } finally {
      this.#writing = false;
    }
  }

  async #writeFile(dataDir: string, progress: RunProgressState): Promise<void> {
    const path = progressFile(dataDir, this.#runId);
    if (!this.#fileWritten) await Deno.mkdir(`${dataDir}/tmp`, { recursive: true });
    this.#fileWritten = true;
    // Written aside and renamed, so that a reader never sees half of it.
    await Deno.writeTextFile(`${path}.part`, JSON.stringify(progress));
    await Deno.rename(`${path}.part`, path);
    if (this.#disposed) await Deno.remove(path).catch(() => {});
  }

  [Symbol.dispose](): void {
    clearInterval(this.#timer);
    this.#disposed = true;
    if (this.#fileWritten && this.#options.dataDir !== undefined) {
      const path = progressFile(this.#options.dataDir, this.#runId);
      try {
        Deno.removeSync(path);
      } catch {
        // already gone
      }
    }
  }
}
