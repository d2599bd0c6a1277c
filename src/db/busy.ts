/**
 * What the service does when the database's write lock is not free.
 *
 * A statement that waits longer than the busy timeout fails with `SQLITE_BUSY`.
 * On the embedded file, `@libsql/client` 0.18.0 (native `libsql` 0.5.29) leaves such
 * a statement in progress: it is never reset, so the connection it ran on keeps an
 * implicit transaction open until the garbage collector finalizes the statement.
 * Every later write on that pooled connection is acknowledged, visible to the
 * connection itself and to nobody else, and lost when the transaction is finally
 * rolled back (libsql-client-ts issue #352; the fix is libsql-js pull requests #237
 * and #238, not released when this was written). {@linkcode BusySafeClient} therefore
 * never uses a client again after a busy error: it retires it (closing its
 * connections as soon as no operation of ours is still on them) and opens a fresh one.
 * When a `libsql` release carries the fix, pin it in `deno.json` and check that
 * `tests/db/busy_test.ts` still passes without this wrapper before removing it.
 */
import type {
  Client,
  InArgs,
  InStatement,
  Replicated,
  ResultSet,
  Transaction,
  TransactionMode,
} from "@libsql/client";

/** Seconds a client is told to wait before trying a write again that found the database busy. */
export const BUSY_RETRY_AFTER_SECONDS = 5;

/**
 * True when `error` or an error it wraps (its `cause`s, e.g. Drizzle's query error
 * around the client's) has a `code` or a message that `test` accepts.
 */
function anyCause(error: unknown, test: (code: unknown, message: string) => boolean): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; depth++) {
    if (test((e as { code?: unknown }).code, e.message)) return true;
    e = e.cause;
  }
  return false;
}

/** True for an error (or an error it wraps, e.g. Drizzle's query error) that says the database was locked. */
export function isDatabaseBusy(error: unknown): boolean {
  return anyCause(
    error,
    (code, message) =>
      (typeof code === "string" && /^SQLITE_(BUSY|LOCKED)/.test(code)) ||
      /\bdatabase (table )?is locked\b|\bSQLITE_BUSY\b/.test(message),
  );
}

/**
 * True for an error that says a libSQL server ended the transaction: sqld lets a write
 * transaction keep its lock for 5 seconds, then gives the lock to another connection
 * that asks for it (even for a statement that changes nothing) and rolls the
 * transaction back (`TRANSACTION_TIMEOUT`). Nothing of it was applied.
 */
export function isTransactionTimeout(error: unknown): boolean {
  return anyCause(
    error,
    (code, message) => code === "TRANSACTION_TIMEOUT" || /\bTRANSACTION_TIMEOUT\b/.test(message),
  );
}

/** Options of {@linkcode BusySafeClient}. */
export interface BusySafeClientOptions {
  /** Told each time a busy error retires a client (for the log). */
  onRetire?: () => void;
}

/**
 * A `Client` that hands every operation to a current `@libsql/client` client and
 * replaces that client after an operation on it failed because the database was
 * busy (see the module's comment). Transactions stay on the client they began on.
 */
export class BusySafeClient implements Client {
  readonly #open: () => Client;
  readonly #options: BusySafeClientOptions;
  #current: Client;
  /** Operations and transactions under way, per client. */
  readonly #users = new Map<Client, number>();
  /** Clients no longer handed out, closed when their last user is done. */
  readonly #retired = new Set<Client>();
  #closed = false;

  constructor(open: () => Client, options: BusySafeClientOptions = {}) {
    this.#open = open;
    this.#options = options;
    this.#current = open();
  }

  get closed(): boolean {
    return this.#closed;
  }

  get protocol(): string {
    return this.#current.protocol;
  }

  execute(stmt: InStatement): Promise<ResultSet>;
  execute(sql: string, args?: InArgs): Promise<ResultSet>;
  execute(stmtOrSql: InStatement | string, args?: InArgs): Promise<ResultSet> {
    return this.#use((c) =>
      typeof stmtOrSql === "string" ? c.execute(stmtOrSql, args) : c.execute(stmtOrSql)
    );
  }

  batch(
    stmts: Array<InStatement | [string, InArgs?]>,
    mode?: TransactionMode,
  ): Promise<Array<ResultSet>> {
    return this.#use((c) => c.batch(stmts, mode));
  }

  migrate(stmts: Array<InStatement>): Promise<Array<ResultSet>> {
    return this.#use((c) => c.migrate(stmts));
  }

  executeMultiple(sql: string): Promise<void> {
    return this.#use((c) => c.executeMultiple(sql));
  }

  sync(): Promise<Replicated> {
    return this.#use((c) => c.sync());
  }

  async transaction(mode?: TransactionMode): Promise<Transaction> {
    const client = this.#borrow();
    let tx: Transaction;
    try {
      tx = await client.transaction(mode);
    } catch (error) {
      this.#failed(client, error);
      this.#giveBack(client);
      throw error;
    }
    return new BusySafeTransaction(tx, {
      failed: (error) => this.#failed(client, error),
      done: () => this.#giveBack(client),
    });
  }

  reconnect(): void {
    this.#current.reconnect();
    this.#closed = false;
  }

  close(): void {
    this.#closed = true;
    this.#current.close();
    for (const client of this.#retired) client.close();
    this.#retired.clear();
  }

  async #use<T>(operation: (client: Client) => Promise<T>): Promise<T> {
    const client = this.#borrow();
    try {
      return await operation(client);
    } catch (error) {
      this.#failed(client, error);
      throw error;
    } finally {
      this.#giveBack(client);
    }
  }

  #borrow(): Client {
    const client = this.#current;
    this.#users.set(client, (this.#users.get(client) ?? 0) + 1);
    return client;
  }

  #giveBack(client: Client): void {
    const left = (this.#users.get(client) ?? 1) - 1;
    if (left > 0) {
      this.#users.set(client, left);
      return;
    }
    this.#users.delete(client);
    if (this.#retired.delete(client)) client.close();
  }

  #failed(client: Client, error: unknown): void {
    if (!isDatabaseBusy(error) || client !== this.#current || this.#closed) return;
    this.#retired.add(client);
    this.#current = this.#open();
    this.#options.onRetire?.();
  }
}

interface TransactionHooks {
  failed(error: unknown): void;
  done(): void;
}

/** A transaction that tells its client of busy errors and of its end (exactly once). */
class BusySafeTransaction implements Transaction {
  readonly #tx: Transaction;
  #hooks: TransactionHooks | undefined;

  constructor(tx: Transaction, hooks: TransactionHooks) {
    this.#tx = tx;
    this.#hooks = hooks;
  }

  get closed(): boolean {
    return this.#tx.closed;
  }

  execute(stmt: InStatement): Promise<ResultSet> {
    return this.#watch(() => this.#tx.execute(stmt));
  }

  batch(stmts: Array<InStatement>): Promise<Array<ResultSet>> {
    return this.#watch(() => this.#tx.batch(stmts));
  }

  executeMultiple(sql: string): Promise<void> {
    return this.#watch(() => this.#tx.executeMultiple(sql));
  }

  async commit(): Promise<void> {
    try {
      await this.#watch(() => this.#tx.commit());
    } finally {
      this.#end();
    }
  }

  async rollback(): Promise<void> {
    try {
      await this.#tx.rollback();
    } finally {
      this.#end();
    }
  }

  close(): void {
    try {
      this.#tx.close();
    } finally {
      this.#end();
    }
  }

  async #watch<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      this.#hooks?.failed(error);
      throw error;
    }
  }

  #end(): void {
    const hooks = this.#hooks;
    this.#hooks = undefined;
    hooks?.done();
  }
}
