/** Wall-clock readings of instants in an IANA time zone (one cached formatter per zone). */

/** The calendar and clock fields of an instant in a time zone. */
export interface ZonedParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * True when `zone` is an IANA time zone name this runtime knows. The check builds
 * the formatter the zone's readings use, so the time zone data is loaded once per
 * process (about 15 ms); UTC needs none.
 */
export function isTimeZone(zone: string): boolean {
  if (zone === "UTC") return true;
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock fields of `instant` in `timeZone`. */
export function zonedParts(instant: Date, timeZone: string): ZonedParts {
  if (timeZone === "UTC") {
    return {
      year: instant.getUTCFullYear(),
      month: instant.getUTCMonth() + 1,
      day: instant.getUTCDate(),
      hour: instant.getUTCHours(),
      minute: instant.getUTCMinutes(),
      second: instant.getUTCSeconds(),
    };
  }
  const out: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(instant)) {
    if (p.type !== "literal") out[p.type] = Number(p.value);
  }
  return {
    year: out["year"] ?? NaN,
    month: out["month"] ?? NaN,
    day: out["day"] ?? NaN,
    hour: (out["hour"] ?? NaN) % 24,
    minute: out["minute"] ?? NaN,
    second: out["second"] ?? NaN,
  };
}

/** `n` in at least `width` digits, zeros in front: the fields of dates and clock times. */
export function zeroPad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** `YYYY-MM-DD` of `instant` in `timeZone`. */
export function zonedDate(instant: Date, timeZone: string): string {
  const p = zonedParts(instant, timeZone);
  return `${zeroPad(p.year, 4)}-${zeroPad(p.month)}-${zeroPad(p.day)}`;
}

/** An ISO instant as `YYYY-MM-DD HH:MM:SS` in `timeZone` (the text itself when it is no date). */
export function localTime(iso: string, timeZone: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const p = zonedParts(date, timeZone);
  return `${zonedDate(date, timeZone)} ${zeroPad(p.hour)}:${zeroPad(p.minute)}:${
    zeroPad(p.second)
  }`;
}
