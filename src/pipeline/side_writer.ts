/**
 * Staging on two cores. Binding a large file's rows into SQLite costs about as much
 * as decoding, parsing, mapping and checking them (bench/profile.ts: students, 0.67 s
 * of statements beside 0.8 s of JavaScript), and both ran one after the other on the
 * import's one thread. For a large file on the embedded database the staged rows
 * therefore go into a stage file of the run's own (`<database>-stage-<runId>`),
 * attached to the import's connection, and a second connection on a thread of its
 * own (`side_thread.ts`) writes them there while the import's thread reads on.
 *
 * The import's connection creates the stage file's tables and reads them after
 * {@linkcode SideWriter.finish}; the thread never touches the SIS database. The stage
 * file is scratch: no journal on disk, no sync, deleted when the run ends.
 */
import type { DuplicateLines } from "./duplicates.ts";
import type { SqlValue } from "./executor.ts";

/**
 * Where a staged row's values are in a statement's arguments, for the duplicate-key
 * hashes the thread takes as it writes (`duplicates.ts`): each row takes `width`
 * arguments, its line first, its key values at `keys`.
 */
export interface StagedKeys {
  width: number;
  keys: number[];
  /** A guess of the rows to come (sizes the table of hashes). */
  expectedRows: number;
}

/** A message to the staging thread. */
export type SideRequest =
  | { op: "open"; file: string; sis: string; busyTimeoutMs: number; staged: StagedKeys }
  | { op: "run"; statements: [string, SqlValue[]][] }
  | { op: "finish" }
  | { op: "abort" };

/** The staging thread's answer: exactly one to each request. */
export type SideReply =
  | { op: "ack" }
  | { op: "finished"; duplicates: DuplicateLines }
  | { op: "aborted" }
  | { op: "error"; message: string };

/**
 * Requests the import's thread may be ahead of the staging thread: enough to keep
 * it busy, few enough that the rows waiting for it stay a few hundred kilobytes.
 */
const IN_FLIGHT = 8;

/**
 * The staging thread of one run at a time: started when a run opens its stage file
 * (some 10 ms, while the import's thread reads on) and ended when the run's staging
 * is done.
 */
export class SideWriter {
  readonly #sis: string;
  readonly #busyTimeoutMs: number;
  #worker: Worker | null = null;
  /** Requests not answered yet. */
  #pending = 0;
  /** The first failure since `open`. */
  #error: string | null = null;
  #wake: (() => void) | null = null;
  /** What the thread's hashes found, from its `finished` answer. */
  #duplicates: DuplicateLines | null = null;

  /** `sis`: the SIS database's file, attached by the thread for reading. */
  constructor(sis: string, busyTimeoutMs: number) {
    this.#sis = sis;
    this.#busyTimeoutMs = busyTimeoutMs;
  }

  /**
   * Starts the thread ahead of {@linkcode open} (its start, some 10 ms, then overlaps
   * the run's own preparations).
   */
  start(): void {
    this.#start();
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(new URL("./side_thread.ts", import.meta.url), { type: "module" });
    worker.onmessage = (event: MessageEvent<SideReply>) => {
      this.#pending--;
      if (event.data.op === "error") this.#error ??= event.data.message;
      if (event.data.op === "finished") this.#duplicates = event.data.duplicates;
      this.#notify();
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#error ??= `The staging thread failed: ${event.message}`;
      this.#worker?.terminate();
      this.#worker = null;
      this.#pending = 0;
      this.#notify();
    };
    this.#worker = worker;
    return worker;
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  #post(request: SideRequest): void {
    if (!this.#worker) throw new Error(this.#error ?? "The staging thread is not running");
    this.#pending++;
    this.#worker.postMessage(request);
  }

  /** Waits until at most `n` requests are unanswered; throws the thread's failure. */
  async #settle(n: number): Promise<void> {
    while (this.#pending > n && this.#worker) {
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    if (this.#error !== null) throw new Error(this.#error);
  }

  /**
   * Opens `file` (its tables already created) and begins writing it; `staged` says
   * where the rows' lines and keys are in the statements to come.
   */
  open(file: string, staged: StagedKeys): void {
    this.#start();
    this.#error = null;
    this.#duplicates = null;
    this.#post({
      op: "open",
      file,
      sis: this.#sis,
      busyTimeoutMs: this.#busyTimeoutMs,
      staged,
    });
  }

  /** Hands statements to the thread; waits only when it is {@linkcode IN_FLIGHT} behind. */
  async run(statements: [string, SqlValue[]][]): Promise<void> {
    if (this.#error !== null) throw new Error(this.#error);
    this.#post({ op: "run", statements });
    await this.#settle(IN_FLIGHT);
  }

  /**
   * Waits for every statement, commits, closes the file and ends the thread (its
   * memory goes back before the apply needs the import connection's caches); returns
   * the lines that may repeat a key.
   */
  async finish(): Promise<DuplicateLines> {
    this.#post({ op: "finish" });
    try {
      await this.#settle(0);
    } finally {
      this.close();
    }
    if (!this.#duplicates) throw new Error("The staging thread did not finish");
    return this.#duplicates;
  }

  /** Drops what was not committed, closes the file and ends the thread (after a failure or a stop). */
  async abort(): Promise<void> {
    if (!this.#worker) return;
    this.#post({ op: "abort" });
    await this.#settle(0).catch(() => {});
    this.close();
  }

  /** Ends the thread. */
  close(): void {
    this.#worker?.terminate();
    this.#worker = null;
    this.#pending = 0;
    this.#notify();
  }
}
