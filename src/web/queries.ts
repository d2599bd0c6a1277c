/** Read queries the pages and the API need beyond the record store and the run service. */
import { and, asc, count, desc, eq, gte, inArray, isNotNull, lt, type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import {
  connections,
  records,
  runChanges,
  runErrors,
  runNotes,
  runs,
} from "../db/schema/autocomm.ts";
import { schools } from "../sis/schema.ts";
import { changesOf } from "../pipeline/service.ts";
import { progressFile } from "../pipeline/lease.ts";
import {
  percentRead,
  RUN_STAGES,
  type RunProgressState,
  type RunStage,
} from "../pipeline/run_state.ts";
import { zeroPad, zonedDate, zonedParts } from "../util/time.ts";

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

/**
 * Statuses the overview counts as a record's failure: the run ended without applying
 * its file (failed, file rejected, interrupted, no file, empty file).
 */
export const FAILED_STATUSES = ["failed", "rejected", "interrupted", "no_file", "empty"] as const;

/** Statuses of runs that committed their file: the ones whose row counts are changes made. */
export const COMMITTED_STATUSES = ["succeeded", "succeeded_with_errors"] as const;

/**
 * Which runs a list shows: every field is optional and they all apply. `from`/`to` are
 * instants (ISO text) the run was queued at or after / before.
 */
export interface RunFilter {
  statuses?: readonly string[];
  table?: string;
  school?: number;
  recordId?: number;
  trigger?: string;
  from?: string;
  to?: string;
}

/** A run as the overview lists it: the row, its record's name, its progress while running. */
export interface RunListItem {
  run: RunRow;
  recordName: string | null;
  progress: RunProgress | null;
}

/**
 * The conditions of `filter`; `scope` is the session's school (0: District Office, which
 * may see every school's runs; any other school sees only its own).
 */
function runConditions(filter: RunFilter, scope: number): SQL | undefined {
  return and(
    filter.statuses?.length ? inArray(runs.status, [...filter.statuses]) : undefined,
    filter.table !== undefined ? eq(runs.table, filter.table) : undefined,
    filter.school !== undefined ? eq(runs.schoolId, filter.school) : undefined,
    scope !== 0 ? eq(runs.schoolId, scope) : undefined,
    filter.recordId !== undefined ? eq(runs.recordId, filter.recordId) : undefined,
    filter.trigger !== undefined ? eq(runs.trigger, filter.trigger) : undefined,
    filter.from !== undefined ? gte(runs.queuedAt, filter.from) : undefined,
    filter.to !== undefined ? lt(runs.queuedAt, filter.to) : undefined,
  );
}

/** Options of {@linkcode listRunsFiltered}. */
export interface RunListOptions extends PageOptions {
  /** The session's school (0: all schools). */
  scope: number;
  /** The service's data folder, where a running run's latest progress may be. */
  dataDir: string;
}

/** A page of the runs `filter` picks, newest first, with the total. */
export async function listRunsFiltered(
  db: Db,
  filter: RunFilter,
  options: RunListOptions,
): Promise<{ total: number; items: RunListItem[] }> {
  const where = runConditions(filter, options.scope);
  const [total] = await db.select({ n: count() }).from(runs).where(where);
  const rows = await db.select({ run: runs, recordName: records.name }).from(runs)
    .leftJoin(records, eq(records.id, runs.recordId)).where(where)
    .orderBy(desc(runs.id)).limit(options.limit ?? 50).offset(options.offset ?? 0);
  const items: RunListItem[] = [];
  for (const r of rows) {
    items.push({
      run: r.run,
      recordName: r.recordName,
      progress: await runProgressOf(r.run, options.dataDir),
    });
  }
  return { total: total?.n ?? 0, items };
}

/** The progress of the running runs among `rows`, by run id. */
export async function progressOf(
  rows: readonly RunRow[],
  dataDir: string,
): Promise<Map<number, RunProgress | null>> {
  const out = new Map<number, RunProgress | null>();
  for (const run of rows) {
    if (run.status === "running") out.set(run.id, await runProgressOf(run, dataDir));
  }
  return out;
}

/** How far a running run has got, as the pages and the API show it. */
export interface RunProgress {
  stage: RunStage;
  rowsRead: number;
  bytesRead: number;
  fileSize: number | null;
  /** Share of the file read, in whole percent; null while the size is not known. */
  percent: number | null;
  /** When this was measured (ISO text). */
  at: string;
}

/**
 * A running run's progress: its row's (written by its import process, `lease.ts`), or
 * the progress file's when that is newer (the embedded file's import writes there while
 * its row may not be written). Null for a run that is not running, or has not reported.
 */
export async function runProgressOf(run: RunRow, dataDir: string): Promise<RunProgress | null> {
  if (run.status !== "running") return null;
  let best: RunProgressState | null = run.stage !== null && run.progressAt !== null
    ? {
      stage: (RUN_STAGES as readonly string[]).includes(run.stage)
        ? run.stage as RunStage
        : "reading",
      rowsRead: run.rowsRead ?? 0,
      bytesRead: run.bytesRead ?? 0,
      fileSize: run.fileSize,
      at: run.progressAt,
    }
    : null;
  try {
    const text = await Deno.readTextFile(progressFile(dataDir, run.id));
    const fromFile = JSON.parse(text) as RunProgressState;
    if (typeof fromFile.at === "string" && (best === null || fromFile.at > best.at)) {
      best = fromFile;
    }
  } catch {
    // No file (the row is current), or a file being replaced: the row it is.
  }
  if (best === null) return null;
  const percent = best.stage === "reading" || best.stage === "fetching" ? percentRead(best) : 100;
  return {
    stage: best.stage,
    rowsRead: best.rowsRead,
    bytesRead: best.bytesRead,
    fileSize: best.fileSize,
    percent: best.stage === "fetching" && best.fileSize === null ? null : percent,
    at: best.at,
  };
}

/** A record the 24-hour summary names, with the run to look at. */
export interface RecordMention {
  recordId: number;
  name: string;
  schoolId: number;
  /** Its runs in the window with the status in question. */
  runs: number;
  /** The newest of them. */
  lastRunId: number;
}

/** A scheduled slot no run was claimed for. */
export interface MissedSlot {
  recordId: number;
  name: string;
  schoolId: number;
  /** The slot's key (`runs.slot_key`): `recordId@YYYY-MM-DDTHH:MM`, local time. */
  slotKey: string;
  /** The instant the slot was due (ISO text). */
  at: string;
}

/** The last 24 hours at a glance. */
export interface DaySummary {
  /** The window: runs queued at or after `from`, up to `to` (ISO text). */
  from: string;
  to: string;
  /** Runs by status (previews left out). */
  byStatus: Record<string, number>;
  /** Records with a run that ended without applying its file ({@linkcode FAILED_STATUSES}). */
  failed: RecordMention[];
  /** Records with a run still held for approval. */
  held: RecordMention[];
  /** Records whose schedule had a slot in the window that no run was claimed for. */
  missed: MissedSlot[];
  /** Rows changed by the committed runs ({@linkcode COMMITTED_STATUSES}), and rows they rejected. */
  rows: { inserted: number; updated: number; removed: number; rejected: number };
}

/** How long after its time a slot with no run counts as missed (the tick claims at the minute). */
export const MISSED_AFTER_MINUTES = 5;

/**
 * The last 24 hours before `now` for the session's school (`scope`; 0: every school):
 * runs by status, the records that failed, are held or missed a scheduled slot, and the
 * rows the committed runs inserted, updated, removed and rejected. Previews are left out.
 */
export async function daySummary(
  db: Db,
  now: Date,
  options: { scope: number; timeZone: string },
): Promise<DaySummary> {
  const from = new Date(now.getTime() - 24 * 3600_000).toISOString();
  const to = now.toISOString();
  const where = and(runConditions({ from, to }, options.scope), eq(runs.preview, false));
  const statuses = await db.select({ status: runs.status, n: count() }).from(runs).where(where)
    .groupBy(runs.status);
  const [sums] = await db.select({
    inserted: sql<number>`coalesce(sum(${runs.inserted}), 0)`,
    updated: sql<number>`coalesce(sum(${runs.updated}), 0)`,
    removed: sql<number>`coalesce(sum(${runs.removed} + ${runs.inactivated}), 0)`,
    rejected: sql<number>`coalesce(sum(${runs.rejected}), 0)`,
  }).from(runs).where(and(where, inArray(runs.status, [...COMMITTED_STATUSES])));
  return {
    from,
    to,
    byStatus: Object.fromEntries(statuses.map((s) => [s.status, s.n])),
    failed: await mentions(db, and(where, inArray(runs.status, [...FAILED_STATUSES]))),
    held: await mentions(db, and(where, eq(runs.status, "held"))),
    missed: await missedSlots(db, now, options),
    rows: {
      inserted: Number(sums?.inserted ?? 0),
      updated: Number(sums?.updated ?? 0),
      removed: Number(sums?.removed ?? 0),
      rejected: Number(sums?.rejected ?? 0),
    },
  };
}

/** The records of the runs `where` picks, with how many and the newest. */
async function mentions(db: Db, where: SQL | undefined): Promise<RecordMention[]> {
  const rows = await db.select({
    recordId: records.id,
    name: records.name,
    schoolId: records.schoolId,
    runs: count(),
    lastRunId: sql<number>`max(${runs.id})`,
  }).from(runs).innerJoin(records, eq(records.id, runs.recordId))
    .where(and(where, isNotNull(runs.recordId)))
    .groupBy(records.id).orderBy(asc(records.schoolId), sql`lower(${records.name})`);
  return rows.map((r) => ({ ...r, lastRunId: Number(r.lastRunId) }));
}

/** The instant a wall-clock time of `date` (YYYY-MM-DD) is in `timeZone`. */
export function wallInstant(
  date: string,
  clock: { hour: number; minute: number },
  timeZone: string,
): Date {
  const naive = Date.parse(`${date}T00:00:00Z`) + (clock.hour * 60 + clock.minute) * 60_000;
  let guess = naive;
  // Two corrections settle the zone's offset, also next to a change of it.
  for (let i = 0; i < 2; i++) {
    const p = zonedParts(new Date(guess), timeZone);
    const seen = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute);
    guess += naive - seen;
  }
  return new Date(guess);
}

/** Day letters by `Date.getUTCDay()`: the schedule's letters (U Sunday, H Thursday). */
const DAY_LETTERS = "UMTWHFS";

/**
 * Scheduled slots from 24 hours before `now` up to {@linkcode MISSED_AFTER_MINUTES}
 * before it that no run claimed. A record with execution on is due at its hour and
 * minute (local time) on each day whose letter its days name; the scheduler claims
 * each such slot by queueing a run with the key `recordId@YYYY-MM-DDTHH:MM` (local
 * time, `runs.slot_key`), so a slot whose key no run has was missed. Slots before the
 * record was created, and local times a clock change skipped, are not counted.
 */
async function missedSlots(
  db: Db,
  now: Date,
  options: { scope: number; timeZone: string },
): Promise<MissedSlot[]> {
  const start = now.getTime() - 24 * 3600_000;
  const end = now.getTime() - MISSED_AFTER_MINUTES * 60_000;
  const zone = options.timeZone;
  const candidates = await db.select().from(records).where(and(
    eq(records.executionOff, false),
    options.scope !== 0 ? eq(records.schoolId, options.scope) : undefined,
  ));
  const dates = [...new Set([start, now.getTime()].map((t) => zonedDate(new Date(t), zone)))];
  const due: MissedSlot[] = [];
  for (const record of candidates) {
    for (const date of dates) {
      const day = DAY_LETTERS[new Date(`${date}T00:00:00Z`).getUTCDay()]!;
      if (!record.days.toUpperCase().includes(day)) continue;
      const at = wallInstant(date, record, zone);
      if (at.getTime() <= start || at.getTime() > end) continue;
      if (Date.parse(record.createdAt) > at.getTime()) continue;
      const seen = zonedParts(at, zone);
      if (seen.hour !== record.hour || seen.minute !== record.minute) continue; // skipped
      due.push({
        recordId: record.id,
        name: record.name,
        schoolId: record.schoolId,
        slotKey: `${record.id}@${date}T${zeroPad(record.hour)}:${zeroPad(record.minute)}`,
        at: at.toISOString(),
      });
    }
  }
  const claimed = new Set<string>();
  for (let i = 0; i < due.length; i += 500) {
    const keys = due.slice(i, i + 500).map((d) => d.slotKey);
    const rows = await db.select({ key: runs.slotKey }).from(runs).where(
      inArray(runs.slotKey, keys),
    );
    for (const r of rows) if (r.key !== null) claimed.add(r.key);
  }
  return due.filter((d) => !claimed.has(d.slotKey)).sort((a, b) => b.at.localeCompare(a.at));
}

/** The filters of a runs list as they come in a URL's query (every value as text). */
export interface RunFilterQuery {
  /** Statuses, each repeated (`status=failed&status=held`) or comma-separated. */
  status?: readonly string[];
  table?: string | undefined;
  school?: string | undefined;
  record?: string | undefined;
  trigger?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

/** A filter value that breaks its rule. */
export interface FilterProblem {
  field: string;
  message: string;
}

const LOCAL_DATE = /^\d{4}-\d{2}-\d{2}$/;
const LOCAL_MINUTE = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})$/;

/**
 * The instant a `from`/`to` value names: a local date (`YYYY-MM-DD`, in the service's
 * time zone: its start, or for `to` the start of the next day, so that the day is in
 * the range), a local minute (`YYYY-MM-DDTHH:MM`), or an ISO instant with its offset.
 */
function instantOf(value: string, options: { end: boolean; timeZone: string }): string | null {
  if (LOCAL_DATE.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
    const start = wallInstant(value, { hour: 0, minute: 0 }, options.timeZone);
    if (!options.end) return start.toISOString();
    const next = new Date(Date.parse(`${value}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    return wallInstant(next, { hour: 0, minute: 0 }, options.timeZone).toISOString();
  }
  const minute = LOCAL_MINUTE.exec(value);
  if (minute && !Number.isNaN(Date.parse(`${minute[1]}T00:00:00Z`))) {
    const clock = { hour: Number(minute[2]), minute: Number(minute[3]) };
    if (clock.hour > 23 || clock.minute > 59) return null;
    return wallInstant(minute[1]!, clock, options.timeZone).toISOString();
  }
  if (/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:\d{2})$/.test(value) && !Number.isNaN(Date.parse(value))) {
    return new Date(value).toISOString();
  }
  return null;
}

/** A whole number of at least `min` from text, or null. */
function wholeOf(value: string, min: number): number | null {
  if (!/^\d{1,15}$/.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= min ? n : null;
}

/**
 * The {@linkcode RunFilter} of a query, and the values that break a rule: a status,
 * table or trigger that does not exist, a school or record that is not a whole number,
 * a date that cannot be read, or a range that ends before it starts. The page and the
 * API read their filters with this one function.
 */
export function runFilterOf(
  query: RunFilterQuery,
  options: {
    timeZone: string;
    statuses: readonly string[];
    tables: readonly string[];
    triggers: readonly string[];
  },
): { filter: RunFilter; problems: FilterProblem[] } {
  const problems: FilterProblem[] = [];
  const filter: RunFilter = {};
  const blank = (v: string | undefined): v is undefined => v === undefined || v.trim() === "";
  const statuses = (query.status ?? []).flatMap((s) => s.split(",")).map((s) => s.trim())
    .filter(Boolean);
  const unknown = statuses.filter((s) => !options.statuses.includes(s));
  if (unknown.length > 0) {
    problems.push({ field: "status", message: `expected one of ${options.statuses.join(", ")}` });
  } else if (statuses.length > 0) filter.statuses = [...new Set(statuses)];
  const oneOf = (field: "table" | "trigger", allowed: readonly string[]) => {
    const v = query[field];
    if (blank(v)) return;
    if (allowed.includes(v.trim())) filter[field] = v.trim();
    else problems.push({ field, message: `expected one of ${allowed.join(", ")}` });
  };
  oneOf("table", options.tables);
  oneOf("trigger", options.triggers);
  const whole = (field: "school" | "record", min: number) => {
    const v = query[field];
    if (blank(v)) return;
    const n = wholeOf(v.trim(), min);
    if (n === null) problems.push({ field, message: `expected a whole number from ${min}` });
    else if (field === "school") filter.school = n;
    else filter.recordId = n;
  };
  whole("school", 0);
  whole("record", 1);
  for (const field of ["from", "to"] as const) {
    const v = query[field];
    if (blank(v)) continue;
    const at = instantOf(v.trim(), { end: field === "to", timeZone: options.timeZone });
    if (at === null) {
      problems.push({
        field,
        message: "expected a date (YYYY-MM-DD), a local time (YYYY-MM-DDTHH:MM) or an ISO instant",
      });
    } else filter[field] = at;
  }
  if (filter.from !== undefined && filter.to !== undefined && filter.to <= filter.from) {
    problems.push({ field: "to", message: "the range ends before it starts" });
  }
  return { filter, problems };
}
