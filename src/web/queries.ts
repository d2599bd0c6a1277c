/** Read queries the pages and the API need beyond the record store and the run service. */
import { and, asc, count, desc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { connections, runChanges, runErrors, runNotes, runs } from "../db/schema/autocomm.ts";
import { schools } from "../sis/schema.ts";
import { changesOf } from "../pipeline/service.ts";

/** A run row. */
export type RunRow = typeof runs.$inferSelect;

/** A school as the pages list it. */
export interface SchoolRow {
  schoolNumber: number;
  name: string;
  attendanceMethod: string;
}

/**
 * Every school, District Office (0) first; with `scope` (a session confined to a
 * school, see `auth/school_scope.ts`) only that school.
 */
export async function listSchools(
  db: Db,
  options: { scope?: number | undefined } = {},
): Promise<SchoolRow[]> {
  return await db.select().from(schools).where(
    options.scope === undefined ? undefined : eq(schools.schoolNumber, options.scope),
  ).orderBy(asc(schools.schoolNumber));
}

/** One school, if it exists. */
export async function getSchool(db: Db, schoolNumber: number): Promise<SchoolRow | undefined> {
  const [row] = await db.select().from(schools).where(eq(schools.schoolNumber, schoolNumber));
  return row;
}

/** Connections a record may read from (download enabled), by name. */
export async function downloadConnections(db: Db): Promise<{ id: number; name: string }[]> {
  return await db.select({ id: connections.id, name: connections.name }).from(connections)
    .where(eq(connections.allowDownload, true)).orderBy(asc(connections.name));
}

/** The latest run (previews excluded) of each record. */
export async function lastRuns(db: Db, recordIds: readonly number[]): Promise<Map<number, RunRow>> {
  if (recordIds.length === 0) return new Map();
  const latest = db.select({ id: sql<number>`max(${runs.id})` }).from(runs).where(
    and(inArray(runs.recordId, [...recordIds]), eq(runs.preview, false)),
  ).groupBy(runs.recordId);
  const rows = await db.select().from(runs).where(inArray(runs.id, latest));
  return new Map(rows.map((r) => [r.recordId!, r]));
}

/** Options of the paged queries: `limit` (default 50) and `offset` (default 0). */
export interface PageOptions {
  limit?: number;
  offset?: number;
}

/** A page of a run's row errors, in file order, with the total. */
export async function runErrorsPage(db: Db, runId: number, options: PageOptions = {}) {
  const [total] = await db.select({ n: count() }).from(runErrors).where(eq(runErrors.runId, runId));
  const errors = await db.select({
    line: runErrors.line,
    field: runErrors.field,
    code: runErrors.code,
    message: runErrors.message,
  }).from(runErrors).where(eq(runErrors.runId, runId))
    .orderBy(asc(runErrors.line), asc(runErrors.id))
    .limit(options.limit ?? 50).offset(options.offset ?? 0);
  return { total: total?.n ?? 0, errors };
}

/** Number of change-log entries of a run, by action. */
export async function changeCounts(db: Db, runId: number): Promise<Record<string, number>> {
  const rows = await db.select({ action: runChanges.action, n: count() }).from(runChanges)
    .where(await changesOf(db, runId)).groupBy(runChanges.action);
  return Object.fromEntries(rows.map((r) => [r.action, r.n]));
}

/** Number of change-log entries of a run. */
export async function countChanges(db: Db, runId: number): Promise<number> {
  const [row] = await db.select({ n: count() }).from(runChanges).where(
    await changesOf(db, runId),
  );
  return row?.n ?? 0;
}

/** Runs that approve the held run `runId`, newest first. */
export async function approvalsOf(db: Db, runId: number): Promise<RunRow[]> {
  return await db.select().from(runs).where(eq(runs.approvesRunId, runId)).orderBy(desc(runs.id));
}

/** A run's file-level notes, in order. */
export async function runNotesOf(db: Db, runId: number) {
  return await db.select({ code: runNotes.code, message: runNotes.message, line: runNotes.line })
    .from(runNotes).where(eq(runNotes.runId, runId)).orderBy(asc(runNotes.id));
}
