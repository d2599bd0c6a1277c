/**
 * Which records are due, and when: pure functions of an instant, a time zone and
 * the records (no database). A record is due at a local minute when its execution
 * is not turned off, the minute's day letter is in its days (MTWHFSU: H is
 * Thursday, U is Sunday) and its hour and minute are the minute's.
 *
 * Time is read as **wall minutes**: the local date and time of the service's time
 * zone (`AUTOCOMM_TIMEZONE`). The tick of an instant reaches every wall minute after
 * the previous instant's wall minute up to its own, so
 *
 * - on a spring-forward day the wall minutes of the gap (02:00–02:59 in
 *   America/New_York) are reached by the first minute after it (03:00): a record
 *   set to 02:30 runs at 03:00, once;
 * - on a fall-back day the repeated hour reaches no new wall minute the second
 *   time, and the slot key (the wall time) of a minute claimed in the first pass
 *   collides in the second: a record set to 01:30 runs once.
 */
import { zeroPad, zonedParts } from "../util/time.ts";

/** The letters of Days to Execute, Sunday first (JavaScript's `getUTCDay()` order). */
export const DAY_LETTERS = ["U", "M", "T", "W", "H", "F", "S"] as const;
/** A day letter: M T W H F S U. */
export type DayLetter = typeof DAY_LETTERS[number];

/** A local date and time to the minute (a wall minute) in some time zone. */
export interface WallMinute {
  /** The local date, YYYY-MM-DD. */
  readonly date: string;
  readonly hour: number;
  readonly minute: number;
  /** The day letter of `date`. */
  readonly day: DayLetter;
}

function dayOf(date: string): DayLetter {
  return DAY_LETTERS[new Date(`${date}T00:00:00Z`).getUTCDay()]!;
}

/** The wall minute of `instant` in `timeZone` (seconds are dropped). */
export function wallMinuteOf(instant: Date, timeZone: string): WallMinute {
  const p = zonedParts(instant, timeZone);
  const date = `${zeroPad(p.year, 4)}-${zeroPad(p.month)}-${zeroPad(p.day)}`;
  return { date, hour: p.hour, minute: p.minute, day: dayOf(date) };
}

/** `YYYY-MM-DDTHH:MM`: the wall minute as the slot key writes it. */
export function wallText(wall: WallMinute): string {
  return `${wall.date}T${zeroPad(wall.hour)}:${zeroPad(wall.minute)}`;
}

/** The wall minute as a count of minutes on a naive (zone-less) clock. */
function ordinal(wall: WallMinute): number {
  return Date.parse(`${wallText(wall)}:00Z`) / 60_000;
}

function fromOrdinal(n: number): WallMinute {
  const d = new Date(n * 60_000);
  const date = d.toISOString().slice(0, 10);
  return { date, hour: d.getUTCHours(), minute: d.getUTCMinutes(), day: dayOf(date) };
}

/** Most wall minutes one instant can reach (a daylight-saving gap is one or two hours). */
const MAX_GAP_MINUTES = 24 * 60;

/**
 * The wall minutes after `after` up to and including `upTo`, in order: one minute
 * normally, the whole gap and the minute after it when the clock jumps forward,
 * none when it goes back.
 */
export function wallMinutesBetween(after: WallMinute, upTo: WallMinute): WallMinute[] {
  const from = ordinal(after);
  const to = ordinal(upTo);
  if (to <= from) return [];
  const out: WallMinute[] = [];
  for (let n = Math.max(from + 1, to - MAX_GAP_MINUTES); n <= to; n++) out.push(fromOrdinal(n));
  return out;
}

/** The start of the minute of `instant`. */
export function floorMinute(instant: Date): Date {
  return new Date(Math.floor(instant.getTime() / 60_000) * 60_000);
}

/** A wall minute a tick reaches, and the instant it became due. */
export interface Slot {
  readonly wall: WallMinute;
  /** The instant (start of a minute) at which the wall minute became due. */
  readonly at: Date;
}

/** The wall minutes the minute of `instant` reaches (see the module's notes). */
export function slotsAt(instant: Date, timeZone: string): Slot[] {
  const at = floorMinute(instant);
  const previous = wallMinuteOf(new Date(at.getTime() - 60_000), timeZone);
  return wallMinutesBetween(previous, wallMinuteOf(at, timeZone)).map((wall) => ({ wall, at }));
}

/**
 * Every slot from the start of the current local hour up to the minute of
 * `instant`, oldest first: what a tick considers, so that minutes missed while the
 * service was down are caught up within the same hour.
 */
export function slotsThisHour(instant: Date, timeZone: string): Slot[] {
  const at = floorMinute(instant);
  const minute = wallMinuteOf(at, timeZone).minute;
  const out: Slot[] = [];
  for (let k = minute; k >= 0; k--) {
    out.push(...slotsAt(new Date(at.getTime() - k * 60_000), timeZone));
  }
  return out;
}

/** What scheduling needs of a record. */
export interface Schedulable {
  readonly id: number;
  readonly name: string;
  readonly hour: number;
  readonly minute: number;
  /** Letters from MTWHFSU, any order and case. */
  readonly days: string;
  readonly executionOff: boolean;
  readonly sortOrder: number | null;
  /** When the record was last saved (ISO 8601); slots due before it are not run. */
  readonly updatedAt?: string;
}

/** True when `record` is due at the wall minute. */
export function isDue(record: Schedulable, wall: WallMinute): boolean {
  return !record.executionOff && record.hour === wall.hour && record.minute === wall.minute &&
    record.days.toUpperCase().includes(wall.day);
}

/** The order due records run in: sort order, then those without one, by name. */
export function compareRecords(a: Schedulable, b: Schedulable): number {
  if (a.sortOrder !== null && b.sortOrder !== null && a.sortOrder !== b.sortOrder) {
    return a.sortOrder - b.sortOrder;
  }
  if (a.sortOrder === null && b.sortOrder !== null) return 1;
  if (a.sortOrder !== null && b.sortOrder === null) return -1;
  const byName = a.name.toLowerCase().localeCompare(b.name.toLowerCase());
  return byName !== 0 ? byName : a.id - b.id;
}

/** The records due at the wall minute, in the order they run. */
export function dueRecords<T extends Schedulable>(records: readonly T[], wall: WallMinute): T[] {
  return records.filter((r) => isDue(r, wall)).sort(compareRecords);
}

/** The claim of a (record, local date and time): `<recordId>@YYYY-MM-DDTHH:MM`. */
export function slotKey(recordId: number, wall: WallMinute): string {
  return `${recordId}@${wallText(wall)}`;
}

/** One record due at one slot. */
export interface DueSlot<T extends Schedulable = Schedulable> {
  readonly record: T;
  readonly slot: Slot;
  readonly key: string;
}

/**
 * The (record, slot) pairs due from the start of the current local hour up to
 * `instant`, in the order they run: by slot, then by sort order and name. A slot
 * that became due before the record was last saved is left out: a record runs
 * only at times that came after it was set up as it is.
 */
export function dueThisHour<T extends Schedulable>(
  records: readonly T[],
  instant: Date,
  timeZone: string,
): DueSlot<T>[] {
  const out: DueSlot<T>[] = [];
  for (const slot of slotsThisHour(instant, timeZone)) {
    for (const record of dueRecords(records, slot.wall)) {
      if (record.updatedAt !== undefined && slot.at.getTime() < Date.parse(record.updatedAt)) {
        continue;
      }
      out.push({ record, slot, key: slotKey(record.id, slot.wall) });
    }
  }
  return out;
}

/** `YYYY-MM-DDTHH` of the wall hour of `instant`: the hourly process's hour. */
export function hourKey(instant: Date, timeZone: string): string {
  return wallText(wallMinuteOf(instant, timeZone)).slice(0, 13);
}
