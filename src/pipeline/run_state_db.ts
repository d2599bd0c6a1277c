/**
 * The service's side of `run_state.ts`: runs its statements through Drizzle, on the
 * database or inside a caller's transaction, so that the service writes a run's state
 * with the same SQL as the import process.
 */
import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import type { RunStatement } from "./run_state.ts";

/** A statement of `run_state.ts` (or `run_store.ts`) as Drizzle SQL. */
export function drizzleSql(statement: RunStatement): SQL {
  const parts = statement.sql.split("?");
  if (parts.length !== statement.args.length + 1) {
    throw new Error("A run statement's parameters do not match its values");
  }
  return sql.join(
    parts.flatMap((part, i) =>
      i < statement.args.length ? [sql.raw(part), sql`${statement.args[i]}`] : [sql.raw(part)]
    ),
  );
}

/** Runs a statement; returns how many runs it changed. `db` may be a transaction. */
export async function writeRuns(db: Db, statement: RunStatement): Promise<number> {
  const result = await db.run(drizzleSql(statement));
  return result.rowsAffected;
}

/** Runs a statement with `RETURNING`; returns its rows. `db` may be a transaction. */
export async function writeRunsReturning<T>(db: Db, statement: RunStatement): Promise<T[]> {
  return await db.all<T>(drizzleSql(statement));
}
