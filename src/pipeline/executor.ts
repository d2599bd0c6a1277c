/**
 * The import's own connection to the database. The embedded file is opened with
 * `node:sqlite` (`executor_sqlite.ts`, in the import process of `child.ts` — the only
 * SQLite library in that process) for its fast reused prepared statements
 * (docs/performance.md); a remote libSQL server is reached with `@libsql/client`'s fetch-only
 * entry. Both sit behind this one small interface, so every stage and every SQL
 * statement is the same on both paths.
 */
import type { Client, InValue, Transaction } from "@libsql/client";
import { filePathOf } from "../db/url.ts";
import type { SideWriter } from "./side_writer.ts";

/** Re-exported for the stages that name the embedded file's path. */
export { filePathOf };

/** A value a statement takes or returns. */
export type SqlValue = string | number | bigint | null | Uint8Array;
/** A row, keyed by column name. */
export type SqlRow = Record<string, SqlValue>;

/** The statements an import needs. */
export interface SqlExecutor {
  /** True for the embedded file (temporary tables live on the connection). */
  readonly embedded: boolean;
  /** Rows of a query. */
  all(sql: string, args?: readonly SqlValue[]): Promise<SqlRow[]>;
  /** Runs one statement; returns the rows it changed. */
  run(sql: string, args?: readonly SqlValue[]): Promise<number>;
  /** Runs a script of several statements without arguments. */
  exec(sql: string): Promise<void>;
  /** Runs one statement once per argument list (a prepared statement, or a batch). */
  many(sql: string, rows: readonly (readonly SqlValue[])[]): Promise<void>;
  /**
   * Runs one statement on a connection of its own, outside any transaction this one
   * has open (the run's lease: a renewal inside the staging transaction would take the
   * database's write lock until staging ends). It waits at most a second for the lock.
   */
  runOutside(sql: string, args?: readonly SqlValue[]): Promise<number>;
  /** Starts the write transaction of the apply (BEGIN IMMEDIATE). */
  begin(): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  /** True while a transaction of {@linkcode begin} is open. */
  readonly inTransaction: boolean;
  /**
   * The embedded file's path and its staging thread (`side_writer.ts`), on the
   * `node:sqlite` connection only.
   */
  readonly side?: { readonly file: string; readonly writer: SideWriter } | undefined;
  close(): void;
}

/** What {@linkcode openExecutor} needs of the configuration. */
export interface ExecutorConfig {
  readonly databaseUrl: string;
  readonly databaseAuthToken?: string | undefined;
  readonly busyTimeoutMs: number;
}

/**
 * Opens the import connection the configuration names. `node:sqlite`
 * (`executor_sqlite.ts`) is loaded only for the embedded file, `@libsql/client`'s
 * fetch-only entry only for a remote server: on the embedded file `node:sqlite` must
 * stay the only SQLite library of the process (two SQLite libraries opening one file
 * in one process can lose each other's locks), and a service on a remote database may
 * run where native code cannot be loaded at all (the serverless profile).
 */
export async function openExecutor(config: ExecutorConfig): Promise<SqlExecutor> {
  const path = filePathOf(config.databaseUrl);
  if (path !== undefined) {
    // A specifier made at run time: Deno loads the target of every literal
    // `import("…")` when the process starts, and a service on a remote database
    // (the serverless profile) must never load `node:sqlite`.
    const embedded = ["./executor", "sqlite.ts"].join("_");
    const { NodeSqliteExecutor } = await import(embedded) as typeof import("./executor_sqlite.ts");
    return new NodeSqliteExecutor(path, config.busyTimeoutMs);
  }
  // The fetch-only entry of `@libsql/client` (no native addon), by a specifier made at
  // run time too: an import process on the embedded file never loads it.
  const web = ["@libsql", "client", "web"].join("/");
  const { createClient } = await import(web) as typeof import("@libsql/client/web");
  return new LibsqlExecutor(
    createClient({
      url: config.databaseUrl,
      ...(config.databaseAuthToken ? { authToken: config.databaseAuthToken } : {}),
      timeout: config.busyTimeoutMs,
    }),
  );
}

function toRow(columns: readonly string[], row: Record<string, unknown>): SqlRow {
  const out: SqlRow = {};
  for (const c of columns) {
    const v = row[c];
    out[c] = v instanceof ArrayBuffer ? new Uint8Array(v) : (v ?? null) as SqlValue;
  }
  return out;
}

/**
 * The executor over a libSQL client the caller already has (the service's and the
 * CLI's Drizzle connection): for the few plain-SQL reads and writes of runs that
 * the import process and the rest of the service share. Closing it leaves the
 * client open.
 */
export function borrowExecutor(client: Client): SqlExecutor {
  return new LibsqlExecutor(client, false);
}

class LibsqlExecutor implements SqlExecutor {
  readonly embedded = false;
  #client: Client;
  #tx: Transaction | undefined;
  #owned: boolean;

  constructor(client: Client, owned = true) {
    this.#client = client;
    this.#owned = owned;
  }

  get inTransaction() {
    return this.#tx !== undefined;
  }

  get #target(): Client | Transaction {
    return this.#tx ?? this.#client;
  }

  async all(sql: string, args: readonly SqlValue[] = []): Promise<SqlRow[]> {
    const rs = await this.#target.execute({ sql, args: args as InValue[] });
    return rs.rows.map((r) => toRow(rs.columns, r as unknown as Record<string, unknown>));
  }

  async run(sql: string, args: readonly SqlValue[] = []): Promise<number> {
    const rs = await this.#target.execute({ sql, args: args as InValue[] });
    return rs.rowsAffected;
  }

  /** Every statement of the client outside `#tx` is a request of its own. */
  async runOutside(sql: string, args: readonly SqlValue[] = []): Promise<number> {
    const rs = await this.#client.execute({ sql, args: args as InValue[] });
    return rs.rowsAffected;
  }

  async exec(sql: string): Promise<void> {
    if (this.#tx) {
      for (const statement of splitStatements(sql)) await this.#tx.execute(statement);
    } else {
      await this.#client.executeMultiple(sql);
    }
  }

  async many(sql: string, rows: readonly (readonly SqlValue[])[]): Promise<void> {
    const CHUNK = 500;
    for (let i = 0; i < rows.length; i += CHUNK) {
      const statements = rows.slice(i, i + CHUNK).map((args) => ({ sql, args: args as InValue[] }));
      if (this.#tx) await this.#tx.batch(statements);
      else await this.#client.batch(statements, "write");
    }
  }

  async begin(): Promise<void> {
    this.#tx = await this.#client.transaction("write");
  }

  async commit(): Promise<void> {
    const tx = this.#tx;
    this.#tx = undefined;
    await tx?.commit();
  }

  async rollback(): Promise<void> {
    const tx = this.#tx;
    this.#tx = undefined;
    if (tx && !tx.closed) await tx.rollback();
  }

  close(): void {
    this.#tx?.close();
    if (this.#owned) this.#client.close();
  }
}

/** Splits a script on semicolons that end statements (our scripts have no literals with `;`). */
function splitStatements(sql: string): string[] {
  return sql.split(/;\s*(?:\n|$)/).map((s) => s.trim()).filter((s) => s !== "");
}
