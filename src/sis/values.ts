/**
 * Reading cell values: trimmed text, integers that may be written
 * `224401.0`, decimals, booleans, and dates as MM/DD/YYYY, M/D/YYYY or YYYY-MM-DD
 * (`0/0/0` and `00/00/0000` mean blank), and the control characters no value may
 * hold. Results are values, not exceptions, and messages never repeat the value (it
 * may be personal data).
 */
import type { RowErrorCode } from "../problems.ts";
import { describeCharacter } from "../util/text.ts";
import { zonedDate } from "../util/time.ts";

/** A read value, or why it could not be read. */
export type ValueResult<T> =
  | { ok: true; value: T }
  | { ok: false; code: RowErrorCode; message: string };

const ok = <T>(value: T): ValueResult<T> => ({ ok: true, value });
const bad = <T>(code: RowErrorCode, message: string): ValueResult<T> => ({
  ok: false,
  code,
  message,
});

/**
 * Free-text fields (comments): a line feed or carriage return inside their quotes is
 * kept, as a tab is everywhere. Catalog names; no other field is free text.
 */
export const FREE_TEXT_FIELDS: ReadonlySet<string> = new Set(["Att_Comment"]);

/** Characters no value may hold: NUL, the C0 controls other than tab, and DEL. */
// deno-lint-ignore no-control-regex
export const REFUSED_CHARACTERS = /[\x00-\x08\x0a-\x1f\x7f]/;
/** Characters no free-text value may hold: the same, but line feed and carriage return are kept. */
// deno-lint-ignore no-control-regex
export const REFUSED_FREE_TEXT_CHARACTERS = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;

/**
 * The `bad_character` result of a value that holds a refused control character, or
 * null when it holds none. Names the character and where it is, never the value.
 */
export function refusedCharacter(text: string, freeText = false): ValueResult<never> | null {
  const pattern = freeText ? REFUSED_FREE_TEXT_CHARACTERS : REFUSED_CHARACTERS;
  const at = text.search(pattern);
  if (at < 0) return null;
  const kept = freeText ? "tab, line feed and carriage return" : "tab";
  return bad(
    "bad_character",
    `holds the control character ${describeCharacter(text.charCodeAt(at))} at character ${
      at + 1
    }; no control character other than ${kept} is accepted here`,
  );
}

function isRealDate(y: number, m: number, d: number): boolean {
  if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) return false;
  const days = [
    31,
    (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28,
    31,
    30,
    31,
    30,
    31,
    31,
    30,
    31,
    30,
    31,
  ];
  return d <= days[m - 1]!;
}

const iso = (y: number, m: number, d: number) =>
  `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;

/** A date as `YYYY-MM-DD`, or null for a blank date. */
export function parseDate(text: string): ValueResult<string | null> {
  if (text === "") return ok(null);
  let m = /^(\d{1,2})\/(\d{1,2})\/(\d{1,4})$/.exec(text);
  if (m) {
    const month = Number(m[1]), day = Number(m[2]), year = Number(m[3]);
    if (month === 0 && day === 0 && year === 0) return ok(null);
    if (m[3]!.length !== 4) {
      return bad("bad_date", "not a date (use MM/DD/YYYY or YYYY-MM-DD with a 4-digit year)");
    }
    if (!isRealDate(year, month, day)) {
      return bad("bad_date", "not a real date (month/day out of range)");
    }
    return ok(iso(year, month, day));
  }
  m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(text);
  if (m) {
    const year = Number(m[1]), month = Number(m[2]), day = Number(m[3]);
    if (year === 0 && month === 0 && day === 0) return ok(null);
    if (!isRealDate(year, month, day)) {
      return bad("bad_date", "not a real date (month/day out of range)");
    }
    return ok(iso(year, month, day));
  }
  return bad("bad_date", "not a date (use MM/DD/YYYY, M/D/YYYY or YYYY-MM-DD)");
}

/** An integer; `224401.0` is 224401. Null for blank. */
export function parseInteger(text: string, min?: number, max?: number): ValueResult<number | null> {
  if (text === "") return ok(null);
  const m = /^([+-]?\d+)(?:\.0*)?$/.exec(text);
  if (!m) return bad("bad_integer", "not a whole number");
  const value = Number(m[1]);
  if (!Number.isSafeInteger(value)) return bad("out_of_range", "the number is too large");
  if (min !== undefined && value < min) return bad("out_of_range", `must be at least ${min}`);
  if (max !== undefined && value > max) return bad("out_of_range", `must be at most ${max}`);
  return ok(value === 0 ? 0 : value);
}

/** A decimal number. Null for blank. */
export function parseDecimal(text: string): ValueResult<number | null> {
  if (text === "") return ok(null);
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(text)) return bad("bad_decimal", "not a number");
  return ok(Number(text));
}

const TRUE = new Set(["true", "t", "1", "yes", "y"]);
const FALSE = new Set(["false", "f", "0", "no", "n"]);

/** A boolean as 1 or 0: true/false, t/f, 1/0, yes/no. Null for blank. */
export function parseBoolean(text: string): ValueResult<number | null> {
  if (text === "") return ok(null);
  const t = text.toLowerCase();
  if (TRUE.has(t)) return ok(1);
  if (FALSE.has(t)) return ok(0);
  return bad("bad_boolean", "not true/false, t/f, 1/0 or yes/no");
}

/** Today's date (YYYY-MM-DD) in an IANA time zone. */
export function todayIn(timeZone: string, now: Date = new Date()): string {
  return zonedDate(now, timeZone);
}
