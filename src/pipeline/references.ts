/**
 * Reference data a warm import process (`child.ts --serve`) keeps from one run to the
 * next: what `lookups.ts` loads at the start of every run — the existing records'
 * keys of the table, a school's sections, the course catalog and teachers a sections
 * file refers to — read again while the process waits for its next run instead of at
 * that run's start (a courses re-import of 3,000 rows spent a tenth of its time
 * loading its keys).
 *
 * Kept data is only used while it is exactly what the run would read itself:
 *
 * - It is read between runs, after the last run's commit or rollback, and kept with
 *   the embedded file's data version from before the reads.
 * - A run uses it only when its own snapshot has that data version: no other
 *   connection has committed since it was read. The process's own connection writes
 *   only in runs, and every run ends by dropping all of it ({@linkcode end}).
 *
 * What is kept is what the last run loaded, or would have loaded had its table not
 * been empty (up to {@linkcode ReferenceCache.maxRows} rows each), so memory stays
 * bounded by one run's reference data. Remote databases
 * have no data version here: runs on them never use it.
 */
import type { SqlExecutor } from "./executor.ts";

/** The embedded file's data version: it changes when another connection commits. */
export async function dataVersion(exec: SqlExecutor): Promise<number> {
  const [row] = await exec.all("PRAGMA data_version");
  return Number(row?.["data_version"]);
}

/** A loaded value and how many rows it was read from. */
export interface Loaded<T> {
  value: T;
  rows: number;
}

type Loader = (exec: SqlExecutor) => Promise<Loaded<unknown>>;

/** The reference data of one warm import process (one connection). */
export class ReferenceCache {
  /** The data version the kept values were read at (by the last refresh). */
  #version: number | null = null;
  readonly #values = new Map<string, unknown>();
  /** What the current (or last) run loaded, to read again between runs. */
  readonly #loaders = new Map<string, Loader>();
  /** Whether a run is between {@linkcode begin} and {@linkcode end}. */
  #open = false;
  /** Values served from what was kept, since the process started (for tests). */
  hits = 0;

  /** `maxRows`: larger values are loaded for their run only, never kept. */
  constructor(readonly maxRows = 100_000) {}

  /**
   * A run's snapshot at `version` begins: what was kept is usable if no other
   * connection has committed since it was read.
   */
  begin(version: number): void {
    if (version !== this.#version) this.#values.clear();
    this.#loaders.clear();
    this.#open = true;
  }

  /**
   * The value under `key`: the kept one, or what `load` reads now (in the run's
   * snapshot). Outside a run ({@linkcode begin} not called: a remote database, a
   * one-off run) it always loads.
   */
  async get<T>(
    exec: SqlExecutor,
    key: string,
    load: (exec: SqlExecutor) => Promise<Loaded<T>>,
  ): Promise<T> {
    if (!this.#open) return (await load(exec)).value;
    if (this.#values.has(key)) {
      this.hits++;
      this.#loaders.set(key, load);
      return this.#values.get(key) as T;
    }
    const loaded = await load(exec);
    if (loaded.rows <= this.maxRows) {
      this.#values.set(key, loaded.value);
      this.#loaders.set(key, load);
    }
    return loaded.value;
  }

  /**
   * Something the run does not load but the next run of its kind will (a first
   * import's table is empty now; its re-import looks up its keys): read between runs.
   */
  later<T>(key: string, load: (exec: SqlExecutor) => Promise<Loaded<T>>): void {
    if (this.#open) this.#loaders.set(key, load);
  }

  /**
   * The run has ended, committed or not: its own writes may have changed anything
   * read, so nothing is kept.
   */
  end(): void {
    this.#values.clear();
    this.#open = false;
  }

  /**
   * Between runs: reads again what the last run loaded (or will want). It is kept
   * with the data version from before the reads: another connection's commit during
   * them, or after, gives the next run's snapshot another version, and that run
   * reads for itself.
   */
  async refresh(exec: SqlExecutor): Promise<void> {
    if (this.#open || this.#loaders.size === 0) return;
    const version = await dataVersion(exec);
    for (const [key, load] of this.#loaders) {
      const loaded = await load(exec);
      if (loaded.rows <= this.maxRows) this.#values.set(key, loaded.value);
    }
    this.#version = version;
  }
}
