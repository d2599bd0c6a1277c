/**
 * The import's own connection to the database. The embedded file is opened with
 * `node:sqlite` (`executor_sqlite.ts`, in the import process of `child.ts` — the only
 * SQLite library in that process) for its fast reused prepared statements
 * (docs/performance.md); a remote libSQL server is reached with `@libsql/client`'s fetch-only
 * entry. Both sit behind this one small interface, so every stage and every SQL
 * statement is the same on both paths.
 */
import type { Client, InValue, Transaction } from "@libsql/client";
import { isDatabaseBusy } from "../db/busy.ts";
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
export async function openExecutor(
  config: ExecutorConfig,
  options: OpenExecutorOptions = {},
): Promise<SqlExecutor> {
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
  const requests = options.signal ? new AbortableRequests(options.signal) : undefined;
  return new LibsqlExecutor(
    createClient({
      url: config.databaseUrl,
      ...(config.databaseAuthToken ? { authToken: config.databaseAuthToken } : {}),
      timeout: config.busyTimeoutMs,
      ...(requests ? { fetch: requests.fetch } : {}),
    }),
    { busyTimeoutMs: config.busyTimeoutMs, ...(requests ? { requests } : {}) },
  );
}

/** Options of {@linkcode openExecutor}. */
export interface OpenExecutorOptions {
  /**
   * Over a libSQL server: when it aborts, the requests under way are aborted (a request
   * the server never answers would otherwise keep the run forever), except a commit,
   * which is let finish. Requests made afterwards (the rollback, the run's end) go on.
   */
  signal?: AbortSignal;
}

/**
 * The client's requests, aborted together when a signal aborts — except while a commit
 * is under way: aborting it would leave unknown whether the server committed, so the
 * abort waits for its answer.
 */
class AbortableRequests {
  #controller = new AbortController();
  #committing = 0;
  #pending: unknown = undefined;
  #aborted = false;

  constructor(signal: AbortSignal) {
    const abort = () => this.#abort(signal.reason);
    if (signal.aborted) abort();
    else signal.addEventListener("abort", abort, { once: true });
  }

  /** The `fetch` given to the client. */
  readonly fetch = (input: Request | string | URL, init?: RequestInit): Promise<Response> =>
    fetch(input, { ...init, signal: this.#controller.signal });

  #abort(reason: unknown): void {
    if (this.#aborted) return;
    if (this.#committing > 0) {
      this.#pending = reason ?? new Error("aborted");
      return;
    }
    this.#aborted = true;
    this.#controller.abort(reason);
    this.#controller = new AbortController();
  }

  /** Runs `commit` with aborts held back until it is answered. */
  async commit<T>(commit: () => Promise<T>): Promise<T> {
    this.#committing++;
    try {
      return await commit();
    } finally {
      this.#committing--;
      if (this.#committing === 0 && this.#pending !== undefined) this.#abort(this.#pending);
    }
  }
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
  return new LibsqlExecutor(client, { owned: false });
}

/** How long a write outside a transaction is tried again while the server says busy. */
const DEFAULT_BUSY_MS = 10_000;

/**
 * The executor over a libSQL server. Its writes outside a transaction go one at a time
 * (the stager's request, the progress, the lease: never two of this process at once),
 * and one the server refuses as busy is tried again until `busyTimeoutMs` has passed:
 * a libSQL server (sqld 0.24) answers SQLITE_BUSY at once, without waiting, to a write
 * when two others are waiting for its write lock, and with several writes of one client
 * under way at once it was seen to stop answering at all, its CPU busy. A write refused
 * as busy was not applied (each is its own transaction), so trying it again is safe.
 */
class LibsqlExecutor implements SqlExecutor {
  readonly embedded = false;
  #client: Client;
  #tx: Transaction | undefined;
  #owned: boolean;
  readonly #busyMs: number;
  /** The write outside a transaction under way; the next one starts after it. */
  #lane: Promise<unknown> = Promise.resolve();
  readonly #requests: AbortableRequests | undefined;

  constructor(
    client: Client,
    options: { owned?: boolean; busyTimeoutMs?: number; requests?: AbortableRequests } = {},
  ) {
    this.#client = client;
    this.#owned = options.owned ?? true;
    this.#busyMs = options.busyTimeoutMs ?? DEFAULT_BUSY_MS;
    this.#requests = options.requests;
  }

  /**
   * Runs `write` after the writes before it, and again while the server says busy
   * unless `retry` is false (a script of several statements: some may have been
   * applied before the one refused).
   */
  #write<T>(write: () => Promise<T>, retry = true): Promise<T> {
    const run = async (): Promise<T> => {
      const until = Date.now() + this.#busyMs;
      for (let wait = 20;; wait = Math.min(wait * 2, 500)) {
        try {
          return await write();
        } catch (error) {
          if (!retry || !isDatabaseBusy(error) || Date.now() + wait > until) throw error;
          await new Promise((r) => setTimeout(r, wait));
        }
      }
    };
    const result = this.#lane.then(run, run);
    this.#lane = result.catch(() => {});
    return result;
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
    const stmt = { sql, args: args as InValue[] };
    const tx = this.#tx;
    const rs = tx ? await tx.execute(stmt) : await this.#write(() => this.#client.execute(stmt));
    return rs.rowsAffected;
  }

  /** Every statement of the client outside `#tx` is a request of its own. */
  async runOutside(sql: string, args: readonly SqlValue[] = []): Promise<number> {
    const stmt = { sql, args: args as InValue[] };
    const rs = await this.#write(() => this.#client.execute(stmt));
    return rs.rowsAffected;
  }

  async exec(sql: string): Promise<void> {
    const tx = this.#tx;
    if (tx) {
      for (const statement of splitStatements(sql)) await tx.execute(statement);
    } else {
      await this.#write(() => this.#client.executeMultiple(sql), false);
    }
  }

  /**
   * Every request to the server costs a round trip (~1 ms and more on loopback, and
   * the server's work per statement). A plain `INSERT INTO t (…) VALUES (?, …)` goes
   * as {@linkcode jsonInsert} statements — each reads up to
   * {@linkcode JSON_STATEMENT_CHARS} of rows from one JSON argument — in requests of at
   * most {@linkcode JSON_REQUEST_CHARS}; any other statement, or rows with a value JSON
   * cannot carry (bytes), as a `batch` of single-row statements, 500 a request.
   */
  async many(sql: string, rows: readonly (readonly SqlValue[])[]): Promise<void> {
    const json = rows.length > 1 ? jsonInsert(sql) : null;
    const chunks = json ? jsonChunks(rows) : null;
    if (json && chunks) {
      let request: { sql: string; args: InValue[] }[] = [];
      let size = 0;
      for (const chunk of chunks) {
        if (request.length > 0 && size + chunk.length > JSON_REQUEST_CHARS) {
          await this.#batch(request);
          request = [];
          size = 0;
        }
        // As bytes: the client sends a request as JSON (Hrana 2), where a text argument
        // has every quote of its JSON escaped again and parsed again by the server;
        // bytes go as base64 and the statement reads them as text. 2,000 students rows:
        // 29.7–35.4 ms a request instead of 35.9–42.8 ms (sqld on loopback).
        request.push({ sql: json, args: [UTF8.encode(chunk)] });
        size += chunk.length;
      }
      if (request.length > 0) await this.#batch(request);
      return;
    }
    const CHUNK = 500;
    for (let i = 0; i < rows.length; i += CHUNK) {
      await this.#batch(rows.slice(i, i + CHUNK).map((args) => ({ sql, args: args as InValue[] })));
    }
  }

  /** One request: in the open transaction, or a transaction of its own. */
  async #batch(statements: { sql: string; args: InValue[] }[]): Promise<void> {
    const tx = this.#tx;
    if (tx) await tx.batch(statements);
    else await this.#write(() => this.#client.batch(statements, "write"));
  }

  async begin(): Promise<void> {
    this.#tx = await this.#write(() => this.#client.transaction("write"));
  }

  async commit(): Promise<void> {
    const tx = this.#tx;
    this.#tx = undefined;
    if (!tx) return;
    if (this.#requests) await this.#requests.commit(() => tx.commit());
    else await tx.commit();
  }

  async rollback(): Promise<void> {
    const tx = this.#tx;
    this.#tx = undefined;
    if (!tx || tx.closed) return;
    try {
      await tx.rollback();
    } finally {
      // Ends the server's stream even when the rollback failed (a request of the
      // transaction was aborted), so that its write lock is given up now.
      tx.close();
    }
  }

  close(): void {
    this.#tx?.close();
    if (this.#owned) this.#client.close();
  }
}

/** Most characters of JSON one statement of {@linkcode LibsqlExecutor.many} reads. */
const JSON_STATEMENT_CHARS = 1 << 20;
/**
 * Most characters of JSON arguments in one request of {@linkcode LibsqlExecutor.many}:
 * sent as base64, a third larger, the request's body stays under about 8 MiB.
 */
const JSON_REQUEST_CHARS = 6 << 20;
const UTF8 = new TextEncoder();

/** `INSERT INTO name (a, b, …) VALUES (…)`, the values `?` or plain literals. */
const PLAIN_INSERT =
  /^\s*INSERT\s+INTO\s+([\w.]+)\s*\(([\w\s,]+)\)\s*VALUES\s*\(((?:\s*(?:\?|NULL|-?\d+|'[^',]*')\s*,)*\s*(?:\?|NULL|-?\d+|'[^',]*')\s*)\)\s*$/i;

/**
 * The statement that inserts many rows of a plain single-row INSERT at once, reading
 * them from one argument, a JSON array of rows (each an array of the statement's `?`
 * values in order) given as its UTF-8 bytes: `INSERT INTO t (a, b) WITH json_rows(v) AS
 * MATERIALIZED (SELECT jsonb(value) FROM json_each(CAST(? AS TEXT))) SELECT
 * json_extract(v, '$[0]'), json_extract(v, '$[1]') FROM json_rows` (bytes given to
 * `json_each` itself would be read as JSONB). Each row is parsed once into JSONB:
 * `value ->> 0, value ->> 1, …` straight from `json_each` parsed the row's text again
 * for every column, which made the inserts 2–3 times slower on sqld
 * (docs/performance.md). Needs SQLite 3.45 (sqld 0.24) or later. Rows go in the array's
 * order. Null for any other statement.
 */
export function jsonInsert(sql: string): string | null {
  const m = PLAIN_INSERT.exec(sql);
  if (!m) return null;
  let slot = 0;
  const values = m[3]!.split(",").map((v) => {
    const t = v.trim();
    return t === "?" ? `json_extract(v, '$[${slot++}]')` : t;
  });
  if (values.length !== m[2]!.split(",").length) return null;
  return `INSERT INTO ${m[1]} (${
    m[2]!.trim()
  }) WITH json_rows(v) AS MATERIALIZED (SELECT jsonb(value) FROM json_each(CAST(? AS TEXT))) SELECT ${
    values.join(", ")
  } FROM json_rows`;
}

/**
 * The rows as JSON arrays of at most {@linkcode JSON_STATEMENT_CHARS} (a longer row
 * alone), or null when a value has no JSON form (bytes, a number that is not finite).
 * A number is written with a fraction (`5.0`) so that the server reads it as a REAL,
 * as a bound JavaScript number is (a TEXT column stores `5.0` either way).
 */
export function jsonChunks(rows: readonly (readonly SqlValue[])[]): string[] | null {
  const chunks: string[] = [];
  let parts: string[] = [];
  let size = 0;
  for (const row of rows) {
    let out = "[";
    for (let i = 0; i < row.length; i++) {
      const v = row[i];
      const text = typeof v === "string"
        ? JSON.stringify(v)
        : v === null || v === undefined
        ? "null"
        : typeof v === "number"
        ? numberJson(v)
        : typeof v === "bigint"
        ? String(v)
        : undefined;
      if (text === undefined) return null;
      out += i === 0 ? text : `,${text}`;
    }
    out += "]";
    if (parts.length > 0 && size + out.length > JSON_STATEMENT_CHARS) {
      chunks.push(`[${parts.join(",")}]`);
      parts = [];
      size = 0;
    }
    parts.push(out);
    size += out.length + 1;
  }
  if (parts.length > 0) chunks.push(`[${parts.join(",")}]`);
  return chunks;
}

/** A finite number as JSON that reads back as a REAL; undefined for NaN and infinities. */
function numberJson(v: number): string | undefined {
  if (!Number.isFinite(v)) return undefined;
  const text = String(v);
  return /[.e]/.test(text) ? text : `${text}.0`;
}

/** Splits a script on semicolons that end statements (our scripts have no literals with `;`). */
function splitStatements(sql: string): string[] {
  return sql.split(/;\s*(?:\n|$)/).map((s) => s.trim()).filter((s) => s !== "");
}
