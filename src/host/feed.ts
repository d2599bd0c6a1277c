/**
 * The change feed a host SIS follows (`GET /api/v1/changes`): every key that committed
 * runs inserted, updated, re-activated, inactivated, removed or dropped, in commit
 * order, read from the change log (`run_changes`).
 *
 * Rules:
 * - Only entries of committed runs: status `succeeded` or `succeeded_with_errors`, not
 *   a preview. A held run's entries (what it would remove) and a preview's (what it
 *   would do) are never in the feed; an approved held run is applied by its approval
 *   run, whose own entries are.
 * - Commit order is id order: the database has one writer, a run writes its entries
 *   inside its one write transaction, and the same transaction writes its final status
 *   (`run.ts`), so entries and status become visible together and every later commit
 *   gets higher ids. As a second guard, a page stops before the first entry whose run
 *   is still queued, running or waiting, so paging never passes an entry that is not
 *   final yet.
 * - A cursor is opaque (base64url of `1.<last id>.<gap seen>`): the id of the last
 *   change-log row passed (given to the caller, or not visible to it), and the highest
 *   removed id it was already told about. Passing back `next` gives the entries after
 *   it, each exactly once.
 * - Retention (`src/schedule/hourly.ts`) records the highest change id of a committed
 *   run it deleted (`change_feed_state`). A cursor below it first gets a gap entry
 *   `{gap: true, from, to, message}` — entries between those cursors may be gone — and
 *   the entries still kept after it follow. The gap is reported once per cursor line.
 * - A school context other than 0 sees only the entries of its school's runs.
 * - Values of personal fields are included (the host owns that data); nothing of the
 *   feed is logged.
 */
import { asc, eq, gt, sql } from "drizzle-orm";
import { Buffer } from "node:buffer";
import type { Db } from "../db/client.ts";
import { changeFeedState, runChanges, runs } from "../db/schema/autocomm.ts";
import { namedKey } from "../pipeline/service.ts";
import { type AttendanceMode, coreCatalog, type ImportTable } from "../sis/catalog.ts";

/** Statuses of runs whose change-log entries are committed changes. */
export const FEED_STATUSES = ["succeeded", "succeeded_with_errors"] as const;
/** Statuses of runs not final yet: a page stops before their entries. */
const NOT_FINAL = ["queued", "running", "waiting"] as const;

/** Largest page. */
export const FEED_MAX_LIMIT = 1000;
/** Page size when none is asked for. */
export const FEED_DEFAULT_LIMIT = 100;

/** A position in the feed. */
export interface FeedPosition {
  /** The id of the last change-log entry before the position (0: the start). */
  after: number;
  /** The highest removed id the holder of the cursor was already told about. */
  gapSeen: number;
}

/** The start of the feed. */
export const FEED_START: FeedPosition = { after: 0, gapSeen: 0 };

/** A cursor that is not one of the feed's. */
export class BadCursor extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BadCursor";
  }
}

/** The opaque text of a position. */
export function encodeCursor(position: FeedPosition): string {
  return Buffer.from(`1.${position.after}.${position.gapSeen}`).toString("base64url");
}

/** The position a cursor names; {@linkcode BadCursor} when it is not a cursor of the feed. */
export function decodeCursor(cursor: string): FeedPosition {
  const fail = () =>
    new BadCursor(
      "since is not a cursor of the change feed: pass the `next` (or an entry's `cursor`) of an earlier answer unchanged, or leave it out to start from the beginning",
    );
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cursor)) throw fail();
  const m = /^1\.(0|[1-9]\d{0,14})\.(0|[1-9]\d{0,14})$/.exec(
    Buffer.from(cursor, "base64url").toString(),
  );
  if (!m) throw fail();
  return { after: Number(m[1]), gapSeen: Number(m[2]) };
}

/** An entry's action as the feed words it. */
export type FeedAction =
  | "inserted"
  | "updated"
  | "reactivated"
  | "inactivated"
  | "removed"
  | "dropped";

/** How a change-log action reads in the feed. */
export const FEED_ACTIONS: Readonly<Record<string, FeedAction>> = {
  insert: "inserted",
  update: "updated",
  reactivate: "reactivated",
  inactivate: "inactivated",
  remove: "removed",
  drop: "dropped",
};

/** One change of the feed. */
export interface FeedChange {
  cursor: string;
  runId: number;
  recordId: number | null;
  table: string;
  schoolId: number;
  action: FeedAction;
  key: Record<string, unknown>;
  /** Updates: field → {old, new}; otherwise null. */
  changes: Record<string, { old: unknown; new: unknown }> | null;
  committedAt: string | null;
}

/** Entries retention removed before the holder of the cursor read them. */
export interface FeedGap {
  gap: true;
  cursor: string;
  from: string;
  to: string;
  message: string;
}

/** A page of the feed. */
export interface FeedPage {
  entries: (FeedChange | FeedGap)[];
  /** The cursor to pass next time; equal to `since` when nothing is new. */
  next: string;
  /** True when more entries are ready now. */
  more: boolean;
}

/** Options of {@linkcode readFeed}. */
export interface ReadFeedOptions {
  /** A cursor of an earlier answer; none: from the start. */
  since?: string;
  /** 1–{@linkcode FEED_MAX_LIMIT} change entries (a gap entry comes on top). */
  limit?: number;
  /** A school context: 0 (or none) sees every school. */
  schoolId?: number;
}

/** The highest change-log id that retention removed from a committed run (0: none). */
export async function removedThrough(db: Db): Promise<number> {
  const [row] = await db.select({ n: changeFeedState.removedThrough }).from(changeFeedState)
    .where(eq(changeFeedState.id, 1));
  return row?.n ?? 0;
}

/**
 * The statement that records that retention removed committed entries up to `id`
 * (it never lowers the mark); run it in the batch that deletes them.
 */
export function noteRemoved(db: Db, id: number) {
  return db.run(
    sql`INSERT INTO change_feed_state (id, removed_through) VALUES (1, ${id})
        ON CONFLICT (id) DO UPDATE SET removed_through = max(removed_through, excluded.removed_through)`,
  );
}

/** True when a run's change-log entries are in the feed. */
export function inFeed(run: { status: string; preview: boolean }): boolean {
  return !run.preview && (FEED_STATUSES as readonly string[]).includes(run.status);
}

/** `{field: [old, new]}` as stored → `{field: {old, new}}`. */
function changePairs(text: string | null): FeedChange["changes"] {
  if (text === null) return null;
  const stored = JSON.parse(text) as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(stored).map(([field, pair]) =>
      Array.isArray(pair) ? [field, { old: pair[0] ?? null, new: pair[1] ?? null }] : [
        field,
        { old: null, new: pair ?? null },
      ]
    ),
  );
}

/** A gap entry for a holder at `since`, when retention removed entries it has not seen. */
function gapFor(since: FeedPosition, removed: number): FeedGap | undefined {
  if (removed <= Math.max(since.after, since.gapSeen)) return undefined;
  return {
    gap: true,
    cursor: encodeCursor({ after: since.after, gapSeen: removed }),
    from: encodeCursor(since),
    to: encodeCursor({ after: removed, gapSeen: removed }),
    message:
      `Change-log entries up to this point were removed by retention (AUTOCOMM_RUN_RETENTION_DAYS) before they were read; entries between "from" and "to" may be missing. Re-read the affected tables in full, then go on with "cursor".`,
  };
}

/** Rows of the change log read at a time while a page is gathered. */
const SCAN_BATCH = 1000;
/** Most rows one request looks at (entries the caller cannot see included); then `more`. */
const SCAN_MAX = 20_000;

/** Up to `n` change-log entries after id `after`, with their runs, in id order. */
async function scanAfter(db: Db, after: number, n: number) {
  return await db.select({
    id: runChanges.id,
    runId: runChanges.runId,
    table: runChanges.table,
    action: runChanges.action,
    key: runChanges.key,
    changes: runChanges.changes,
    recordId: runs.recordId,
    schoolId: runs.schoolId,
    status: runs.status,
    preview: runs.preview,
    options: runs.options,
    endedAt: runs.endedAt,
  }).from(runChanges).innerJoin(runs, eq(runs.id, runChanges.runId))
    .where(gt(runChanges.id, after)).orderBy(asc(runChanges.id)).limit(n);
}

type ScannedRow = Awaited<ReturnType<typeof scanAfter>>[number];

/** A change-log row as a feed entry, with the cursor just after it. */
function feedChange(row: ScannedRow, position: FeedPosition): FeedChange {
  const mode = (row.options as { attendanceMode?: AttendanceMode | null }).attendanceMode ??
    "daily";
  return {
    cursor: encodeCursor(position),
    runId: row.runId,
    recordId: row.recordId,
    table: row.table,
    schoolId: row.schoolId,
    action: FEED_ACTIONS[row.action] ?? (row.action as FeedAction),
    key: JSON.parse(namedKey(row.key, coreCatalog(row.table as ImportTable, mode).key)),
    changes: changePairs(row.changes),
    committedAt: row.endedAt,
  };
}

/**
 * A page of the feed after `since` (see the module's rules); {@linkcode BadCursor} when
 * `since` is not a cursor of the feed. The rows are read in id order; the page stops
 * before the first row whose run is not final. Rows the caller does not see — of held
 * runs, previews, another school — are passed over for good (their runs are final, so
 * they never become visible), and `next` moves past them even when no entry is
 * returned, so that a school's host does not read them again on every call.
 */
export async function readFeed(db: Db, options: ReadFeedOptions = {}): Promise<FeedPage> {
  const since = options.since === undefined ? FEED_START : decodeCursor(options.since);
  const limit = Math.min(Math.max(options.limit ?? FEED_DEFAULT_LIMIT, 1), FEED_MAX_LIMIT);
  const school = options.schoolId ?? 0;
  const entries: FeedPage["entries"] = [];
  let position = since;
  const gap = gapFor(since, await removedThrough(db));
  if (gap) {
    entries.push(gap);
    position = decodeCursor(gap.cursor);
  }
  let changes = 0;
  let scanned = 0;
  let more = false;
  scan: for (;;) {
    const rows = await scanAfter(db, position.after, SCAN_BATCH);
    for (const row of rows) {
      if ((NOT_FINAL as readonly string[]).includes(row.status)) break scan;
      if (changes === limit) {
        more = true;
        break scan;
      }
      position = { after: row.id, gapSeen: position.gapSeen };
      if (inFeed(row) && (school === 0 || row.schoolId === school)) {
        entries.push(feedChange(row, position));
        changes++;
      }
    }
    scanned += rows.length;
    if (rows.length < SCAN_BATCH) break;
    if (scanned >= SCAN_MAX) {
      more = true;
      break;
    }
  }
  const moved = position.after !== since.after || position.gapSeen !== since.gapSeen;
  return {
    entries,
    next: moved ? encodeCursor(position) : options.since ?? encodeCursor(since),
    more,
  };
}

/**
 * The feed cursor just after a committed run's entries, for its completion callback;
 * null for a run whose entries are not in the feed (nothing committed, a preview, held).
 */
export function cursorAfterRun(
  run: { status: string; preview: boolean; changesTo: number | null },
): string | null {
  if (run.changesTo === null || !inFeed(run)) return null;
  return encodeCursor({ after: run.changesTo, gapSeen: 0 });
}
