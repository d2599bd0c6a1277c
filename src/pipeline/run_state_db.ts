/**
 * The service's side of `run_state.ts`: runs its statements through Drizzle, on the
 * database or inside a caller's transaction, so that the service writes a run's state
 * with the same SQL as the import process; and the service's writes of run state that
 * several modules share — leases that expired, the queue's leases, waiting runs.
 *
 * A **lease** (`runs.lease_expires_at`, `lease.ts`) marks a run as owned by a live
 * process: a running run's import process renews it; a queued run's lease is kept
 * fresh by the process whose queue holds it ({@linkcode renewQueuedLeases}). A run
 * whose lease has expired belongs to a process that died: {@linkcode expireLeases}
 * marks it interrupted, and the record can run again.
 */
import {
  and,
  eq,
  inArray,
  isNotNull,
  isNull,
  lt,
  notInArray,
  or,
  type SQL,
  sql,
} from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { runs } from "../db/schema/autocomm.ts";
import {
  interruptedMessage,
  type InterruptReason,
  leaseEnd,
  renewLeaseStatement,
  type RunStatement,
  STILL_BEING_WRITTEN,
  transitionStatement,
} from "./run_state.ts";

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

/** A run {@linkcode expireLeases} marked interrupted. */
export interface ExpiredRun {
  runId: number;
  recordId: number | null;
  /** What the run was doing when its process died. */
  was: "queued" | "running";
}

/** Options of {@linkcode expireLeases}. */
export interface ExpireLeasesOptions {
  /**
   * Runs waiting in this process's own queue: alive whatever their lease says (its
   * renewal may have waited behind another process's write lock).
   */
  own?: readonly number[];
}

/**
 * Marks interrupted every queued or running run whose lease ended before `now`:
 * its process died (the import's transaction died with it, so nothing changed).
 * Called on every tick and before every Run Now, so the record can run again.
 * Reads first and writes only when there is something to mark, so it does not wait
 * for the database's write lock while an import applies.
 */
export async function expireLeases(
  db: Db,
  now: Date,
  options: ExpireLeasesOptions = {},
): Promise<ExpiredRun[]> {
  const at = now.toISOString();
  const own = options.own ?? [];
  const found = await db.select({ id: runs.id, status: runs.status }).from(runs).where(
    and(
      inArray(runs.status, ["queued", "running"]),
      isNotNull(runs.leaseExpiresAt),
      lt(runs.leaseExpiresAt, at),
      own.length > 0 ? notInArray(runs.id, [...own]) : undefined,
    ),
  );
  const out: ExpiredRun[] = [];
  for (const { id, status } of found) {
    const was = status === "queued" ? "queued" : "running";
    const [row] = await writeRunsReturning<{ id: number; record_id: number | null }>(
      db,
      transitionStatement(id, "interrupted", {
        from: [was],
        set: {
          message: interruptedMessage(was === "queued" ? "queue_gone" : "lease_expired"),
          ended_at: at,
          lease_expires_at: null,
        },
        also: { sql: "lease_expires_at IS NOT NULL AND lease_expires_at < ?", args: [at] },
        returning: ["id", "record_id"],
      }),
    );
    if (row) out.push({ runId: Number(row.id), recordId: row.record_id, was });
  }
  return out;
}

/**
 * Marks interrupted a queued or running run whose import process has exited (it
 * died, or was killed at the run timeout: `reason`) without ending it; false when it
 * had ended.
 */
export async function interruptAbandoned(
  db: Db,
  runId: number,
  now: Date,
  reason: InterruptReason = "process_stopped",
): Promise<boolean> {
  return await writeRuns(
    db,
    transitionStatement(runId, "interrupted", {
      from: ["queued", "running"],
      set: {
        message: interruptedMessage(reason),
        ended_at: now.toISOString(),
        lease_expires_at: null,
      },
    }),
  ) > 0;
}

/**
 * Gives the queued runs `runIds` (of this process's queue) a fresh lease. Only leases
 * past half their time are renewed, so that most calls do not write at all.
 */
export async function renewQueuedLeases(
  db: Db,
  runIds: readonly number[],
  options: { now: Date; seconds: number },
): Promise<void> {
  if (runIds.length === 0) return;
  const soon = leaseEnd(options.now, options.seconds / 2).toISOString();
  const found = await db.select({ id: runs.id }).from(runs).where(and(
    inArray(runs.id, [...runIds]),
    eq(runs.status, "queued"),
    or(isNull(runs.leaseExpiresAt), lt(runs.leaseExpiresAt, soon)),
  ));
  if (found.length === 0) return;
  await writeRuns(
    db,
    renewLeaseStatement(
      runIds,
      leaseEnd(options.now, options.seconds).toISOString(),
      { status: "queued", endingBefore: soon },
    ),
  );
}

/** Moves a waiting run back to queued; false when another process did it first. */
export async function requeueWaiting(
  db: Db,
  runId: number,
  options: { leaseUntil: Date | null },
): Promise<boolean> {
  return await writeRuns(
    db,
    transitionStatement(runId, "queued", {
      from: ["waiting"],
      set: { lease_expires_at: options.leaseUntil?.toISOString() ?? null },
    }),
  ) > 0;
}

/**
 * Ends a waiting run whose file never settled (`no_file`, {@linkcode STILL_BEING_WRITTEN});
 * false when it is no longer waiting.
 */
export async function giveUpWaiting(
  db: Db,
  runId: number,
  options: { now: Date },
): Promise<boolean> {
  return await writeRuns(
    db,
    transitionStatement(runId, "no_file", {
      from: ["waiting"],
      set: {
        message: STILL_BEING_WRITTEN,
        ended_at: options.now.toISOString(),
        lease_expires_at: null,
      },
    }),
  ) > 0;
}

/**
 * Discards a held run with `reason` and forgets its kept file's path; false when it
 * is no longer held.
 */
export async function discardHeld(db: Db, runId: number, reason: string): Promise<boolean> {
  return await writeRuns(
    db,
    transitionStatement(runId, "discarded", {
      from: ["held"],
      set: { message: reason, held_path: null },
    }),
  ) > 0;
}
