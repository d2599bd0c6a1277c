/**
 * The service's warm import process: one `child.ts --serve` process kept between runs,
 * given run ids on its standard input. A run then starts without a new Deno process
 * (about 35 ms of start-up, loading and first compilation), and its JavaScript is
 * already optimized by the runs before: a 3,000-row file takes ~20 ms instead of ~60.
 * Runs are still off the process that serves pages, and still one transaction each.
 *
 * The run queue (`queue.ts`) owns one and gives it one run at a time; a run asked of it
 * while another is executing gets a process of its own (`runImportProcess`). The
 * process is started at the first run (or by {@linkcode ImportWorker.start}), replaced
 * at once when it retires after a run that left it large (`child.ts`), and replaced at
 * the next run when it died or was killed at a run's timeout.
 */
import type { Config } from "../config.ts";
import { killAfter } from "../util/process.ts";
import {
  eventLines,
  KILLED_AT_TIMEOUT,
  runImportProcess,
  type RunProcessOptions,
  spawnImportProcess,
} from "./launch.ts";

interface Serving {
  child: Deno.ChildProcess;
  stdin: WritableStreamDefaultWriter<Uint8Array>;
  events: AsyncIterator<Record<string, unknown>>;
  /** Resolves with the exit status once the process has ended. */
  exited: Promise<Deno.CommandStatus>;
  gone: boolean;
}

const ENDS = new Set(["done", "skipped", "failed"]);

/** A warm import process, reused run after run (see the module's comment). */
export class ImportWorker implements AsyncDisposable {
  readonly #config: Config;
  #serving: Serving | null = null;
  #busy = false;
  /** The run executing in the process, until it has ended. */
  #current: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** Processes that retired or were killed, until they have exited. */
  readonly #ending = new Set<Promise<unknown>>();

  constructor(config: Config) {
    this.#config = config;
  }

  /** The pid of the waiting process, if one is started. */
  get pid(): number | undefined {
    return this.#serving && !this.#serving.gone ? this.#serving.child.pid : undefined;
  }

  /** Starts the process now instead of at the first run (the service does, at start). */
  start(): void {
    if (this.#closed || (this.#serving && !this.#serving.gone)) return;
    const child = spawnImportProcess(this.#config, ["--serve"]);
    const serving: Serving = {
      child,
      stdin: child.stdin.getWriter(),
      events: eventLines(child.stdout)[Symbol.asyncIterator](),
      exited: child.status,
      gone: false,
    };
    serving.exited.then(() => serving.gone = true, () => serving.gone = true);
    this.#serving = serving;
  }

  /**
   * Executes a queued run in the warm process and waits for its end; returns 0 when the
   * run ended (whatever its status), {@linkcode KILLED_AT_TIMEOUT} when the process was
   * killed at the run timeout, 1 when the run failed or the process died before the run
   * ended (the caller marks such a run interrupted).
   */
  async run(runId: number, options: RunProcessOptions = {}): Promise<number> {
    if (this.#closed || this.#busy) return await runImportProcess(this.#config, runId, options);
    this.#busy = true;
    const current = (async () => {
      // A process that died while waiting never took the run: it goes to a new one.
      for (let attempt = 0;; attempt++) {
        const outcome = await this.#runOnce(runId, options);
        if (outcome !== "not_taken" || attempt === 1) {
          return outcome === "ended" ? 0 : outcome === "timed_out" ? KILLED_AT_TIMEOUT : 1;
        }
      }
    })();
    this.#current = current.catch(() => {});
    try {
      return await current;
    } finally {
      this.#busy = false;
    }
  }

  async #runOnce(
    runId: number,
    options: RunProcessOptions,
  ): Promise<"ended" | "failed" | "timed_out" | "not_taken"> {
    this.start();
    const serving = this.#serving!;
    let taken = false;
    using killer = killAfter(
      serving.child,
      (options.timeoutSeconds ?? this.#config.runTimeoutSeconds) * 1000,
    );
    try {
      await serving.stdin.write(new TextEncoder().encode(`${runId}\n`));
      for (;;) {
        const next = await serving.events.next();
        if (next.done) break;
        const event = next.value;
        if (event["runId"] !== runId) continue;
        if (event["event"] === "accepted") taken = true;
        else if (event["event"] === "progress") options.onProgress?.(event);
        else if (event["event"] === "stage") options.onStage?.(event);
        else if (ENDS.has(String(event["event"]))) {
          if (event["retiring"] === true) {
            this.#retire(serving);
            this.start();
          }
          return event["event"] === "failed" ? "failed" : "ended";
        }
      }
    } catch {
      // The pipe broke: the process is gone.
    }
    this.#retire(serving);
    if (killer.fired) return "timed_out";
    return taken ? "failed" : "not_taken";
  }

  /** Lets a process go: its input is closed and its exit awaited in the background. */
  #retire(serving: Serving): void {
    if (this.#serving === serving) this.#serving = null;
    const ended = (async () => {
      await serving.stdin.close().catch(() => {});
      {
        using _killer = killAfter(serving.child, 10_000);
        await serving.exited.catch(() => {});
      }
      // Read the output to its end, so that nothing of the process stays open.
      while (!(await serving.events.next().catch(() => ({ done: true }))).done) {
        // skip
      }
    })();
    this.#ending.add(ended);
    ended.finally(() => this.#ending.delete(ended));
  }

  /**
   * Ends the process once its run (if any) has ended, and resolves when it has exited;
   * runs asked afterwards get a process of their own.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#current;
    if (this.#serving) this.#retire(this.#serving);
    await Promise.all([...this.#ending]);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
