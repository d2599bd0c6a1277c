/**
 * The import connection on the embedded file: `node:sqlite`, for its fast reused
 * prepared statements (docs/performance.md), with the staging thread of
 * `side_writer.ts`. This module is loaded only when a run opens a `file:` database
 * (`openExecutor` in `executor.ts` imports it at run time), so that a service on a
 * remote database — the serverless profile — never loads `node:sqlite`.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { SqlExecutor, SqlRow, SqlValue } from "./executor.ts";
import { SideWriter } from "./side_writer.ts";

/** Most prepared statements a node:sqlite connection keeps. */
const MAX_STATEMENTS = 256;

/** The `node:sqlite` executor of an embedded file. */
export class NodeSqliteExecutor implements SqlExecutor {
  readonly embedded = true;
  #db: DatabaseSync;
  #statements = new Map<string, StatementSync>();
  #inTx = false;
  #path: string;
  #busyTimeoutMs: number;
  #writer: SideWriter | null = null;
  /** The connection of {@linkcode runOutside}, opened at its first use. */
  #outside: DatabaseSync | null = null;

  constructor(path: string, busyTimeoutMs: number) {
    this.#path = path;
    this.#busyTimeoutMs = busyTimeoutMs;
    this.#db = new DatabaseSync(path, { timeout: busyTimeoutMs });
    // Staging tables live in the temporary database; with temp_store FILE they spill
    // to a temporary file past their own bounded cache (16 MiB) instead of holding the
    // whole file in memory (and its undo in memory again during the transaction). The
    // SIS file's cache is 40 MiB: larger ones bought no time in bench/profile.ts and
    // the import process must stay under 300 MB.
    this.#db.exec(
      "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA temp_store = FILE; PRAGMA cache_size = -40960; PRAGMA temp.cache_size = -16384;",
    );
  }

  get inTransaction() {
    return this.#inTx;
  }

  get side() {
    this.#writer ??= new SideWriter(this.#path, this.#busyTimeoutMs);
    return { file: this.#path, writer: this.#writer };
  }

  #prepare(sql: string): StatementSync {
    let s = this.#statements.get(sql);
    if (!s) {
      // Each run's staging tables have names of their own: a connection that serves
      // run after run (the warm import process) starts the cache again now and then.
      if (this.#statements.size >= MAX_STATEMENTS) this.#statements.clear();
      s = this.#db.prepare(sql);
      s.setReadBigInts(false);
      this.#statements.set(sql, s);
    }
    return s;
  }

  all(sql: string, args: readonly SqlValue[] = []): Promise<SqlRow[]> {
    return Promise.resolve(this.#prepare(sql).all(...args) as SqlRow[]);
  }

  run(sql: string, args: readonly SqlValue[] = []): Promise<number> {
    return Promise.resolve(Number(this.#prepare(sql).run(...args).changes));
  }

  exec(sql: string): Promise<void> {
    this.#db.exec(sql);
    return Promise.resolve();
  }

  many(sql: string, rows: readonly (readonly SqlValue[])[]): Promise<void> {
    const s = this.#prepare(sql);
    for (const r of rows) s.run(...r);
    return Promise.resolve();
  }

  begin(): Promise<void> {
    this.#db.exec("BEGIN IMMEDIATE");
    this.#inTx = true;
    return Promise.resolve();
  }

  commit(): Promise<void> {
    this.#db.exec("COMMIT");
    this.#inTx = false;
    return Promise.resolve();
  }

  rollback(): Promise<void> {
    if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
    this.#inTx = false;
    return Promise.resolve();
  }

  runOutside(sql: string, args: readonly SqlValue[] = []): Promise<number> {
    this.#outside ??= new DatabaseSync(this.#path, {
      timeout: Math.min(1000, this.#busyTimeoutMs),
    });
    return Promise.resolve(Number(this.#outside.prepare(sql).run(...args).changes));
  }

  close(): void {
    this.#writer?.close();
    this.#statements.clear();
    if (this.#outside?.isOpen) this.#outside.close();
    if (this.#db.isOpen) this.#db.close();
  }
}
