/**
 * Section expressions (SPEC §2, "Section expressions").
 *
 * A section expression names the periods and days a section meets, using the school's own
 * abbreviations: `1(A)`, `1(A-E)`, `3(M,W,F)`, `1-2(A) 3(B) 4(A)`, `1(A-B,D-E)`, `7(A1-B1,A3)`,
 * `HR(A)`.
 *
 * Grammar (informal):
 *
 *     expression := term (whitespace+ term)*          -- leading/trailing whitespace is ignored
 *     term       := periods "(" days ")"
 *     periods    := period | period "-" period
 *     days       := item ("," item)*
 *     item       := day | day "-" day
 *
 * Tokenising: abbreviations may contain letters and digits (`HR`, `0`, `10`, `A1`), so the period
 * part is everything before `(`, split on a single `-`; the day list is split on `,`, then each
 * item on a single `-`.
 *
 * Whitespace: terms are separated by one or more whitespace characters. The period part may not
 * contain whitespace (`1 (A)` and `1 - 2(A)` are errors, since whitespace separates terms).
 * Inside the parentheses, whitespace around commas, around hyphens and just inside the
 * parentheses is tolerated (`1( A , B - D )` is `1(A,B-D)`), but whitespace between two
 * abbreviations with no comma (`1(A B)`) is an error.
 *
 * Matching: abbreviations are matched case-insensitively (an exact-case match wins if the school
 * has two abbreviations differing only in case). The returned meetings use the school's own
 * spelling.
 *
 * Ranges follow the school's sort order, not alphabetical order: `X-Y` includes every period (or
 * day) whose sortOrder lies between X's and Y's, inclusive. A reversed range (`E-A`, `3-1`) is an
 * error. `A-A` is just A.
 *
 * Duplicate meetings are not an error: the result is de-duplicated and sorted by period
 * sortOrder, then day sortOrder (ties broken by the order the school lists them).
 *
 * The parser never throws; problems are reported as `{ ok: false, message }`, naming the
 * expression and the first problem found.
 */

export interface PeriodDef {
  abbreviation: string;
  sortOrder: number;
}

export interface DayDef {
  abbreviation: string;
  sortOrder: number;
}

/** One (period, day) meeting, using the school's abbreviations as defined (canonical case). */
export interface Meeting {
  period: string;
  day: string;
}

export type ExpressionResult =
  | { ok: true; meetings: Meeting[] }
  | { ok: false; message: string };

interface Def {
  abbreviation: string;
  sortOrder: number;
  /** Position in the school's list, used to break sortOrder ties deterministically. */
  index: number;
}

class ExpressionError extends Error {}

/** Resolves abbreviations (case-insensitively) and ranges for one kind of thing. */
class Catalogue {
  readonly #exact = new Map<string, Def>();
  readonly #folded = new Map<string, Def>();
  readonly #defs: Def[];
  readonly kind: string;

  constructor(defs: readonly { abbreviation: string; sortOrder: number }[], kind: string) {
    this.kind = kind;
    this.#defs = defs.map((d, index) => ({
      abbreviation: d.abbreviation,
      sortOrder: d.sortOrder,
      index,
    }));
    for (const def of this.#defs) {
      if (!this.#exact.has(def.abbreviation)) this.#exact.set(def.abbreviation, def);
      const folded = def.abbreviation.toLowerCase();
      if (!this.#folded.has(folded)) this.#folded.set(folded, def);
    }
  }

  lookup(text: string): Def {
    const def = this.#exact.get(text) ?? this.#folded.get(text.toLowerCase());
    if (def === undefined) throw new ExpressionError(`the school has no ${this.kind} ${text}`);
    return def;
  }

  /** Parses `X` or `X-Y` (already trimmed; spaces around the `-` allowed) into the defs it names. */
  resolve(text: string): Def[] {
    const parts = text.split("-").map((p) => p.trim());
    if (parts.some((p) => /\s/.test(p))) {
      throw new ExpressionError(
        `"${text}" is not a ${this.kind} or ${this.kind} range (separate ${this.kind}s with commas)`,
      );
    }
    const [startText, endText] = parts;
    if (parts.length === 1 && startText) return [this.lookup(startText)];
    if (parts.length !== 2 || !startText || !endText) {
      throw new ExpressionError(
        `the ${this.kind} range "${text}" is malformed (a range is written like "X-Y")`,
      );
    }
    const start = this.lookup(startText);
    const end = this.lookup(endText);
    if (start.sortOrder > end.sortOrder) {
      throw new ExpressionError(
        `the ${this.kind} range "${text}" is reversed: ${start.abbreviation} comes after ` +
          `${end.abbreviation} in the school's ${this.kind}s`,
      );
    }
    return this.#defs.filter((d) => d.sortOrder >= start.sortOrder && d.sortOrder <= end.sortOrder);
  }
}

const isSpace = (ch: string | undefined): boolean => ch !== undefined && /\s/.test(ch);

/** Parses a section expression against a school's periods and days. */
export function parseExpression(
  expression: string,
  periods: readonly PeriodDef[],
  days: readonly DayDef[],
): ExpressionResult {
  const text = typeof expression === "string" ? expression.trim() : "";
  if (text === "") return { ok: false, message: "Cannot read expression: it is empty" };
  try {
    const meetings = parse(
      text,
      new Catalogue(periods ?? [], "period"),
      new Catalogue(days ?? [], "day"),
    );
    return { ok: true, meetings };
  } catch (e) {
    const problem = e instanceof ExpressionError ? e.message : `unexpected error (${String(e)})`;
    return { ok: false, message: `Cannot read expression "${text}": ${problem}` };
  }
}

function parse(text: string, periods: Catalogue, days: Catalogue): Meeting[] {
  const pairs: { period: Def; day: Def }[] = [];
  let pos = 0;
  while (pos < text.length) {
    // Period part: everything up to "(" (stopping early at whitespace or ")" to report errors).
    const periodStart = pos;
    while (pos < text.length && text[pos] !== "(" && text[pos] !== ")" && !isSpace(text[pos])) {
      pos++;
    }
    const periodText = text.slice(periodStart, pos);
    const next = text[pos];
    if (next === ")") {
      const where = periodText === "" ? "" : ` after "${periodText}"`;
      throw new ExpressionError(`unbalanced parentheses: ")"${where} has no "("`);
    }
    if (next !== "(") {
      throw new ExpressionError(
        `"${periodText}" has no days in parentheses (write a term like "${periodText}(A)")`,
      );
    }
    if (periodText === "") {
      throw new ExpressionError(`a term is missing its period before "("`);
    }
    if (periodText.includes(",")) {
      throw new ExpressionError(
        `"${periodText}" is not a period or period range (write one term per period, or a range)`,
      );
    }

    // Day list: between "(" and the matching ")".
    const open = pos;
    pos++;
    while (pos < text.length && text[pos] !== ")" && text[pos] !== "(") pos++;
    if (pos >= text.length) {
      throw new ExpressionError(
        `unbalanced parentheses: "(" after "${periodText}" is never closed`,
      );
    }
    if (text[pos] === "(") {
      throw new ExpressionError(`unbalanced parentheses: "(" inside the days of "${periodText}"`);
    }
    const dayText = text.slice(open + 1, pos);
    pos++; // past ")"

    // After ")": end of expression or whitespace before the next term.
    if (pos < text.length && !isSpace(text[pos])) {
      let end = pos;
      while (end < text.length && !isSpace(text[end])) end++;
      const extra = text.slice(pos, end);
      if (extra.startsWith(")")) {
        throw new ExpressionError(
          `unbalanced parentheses: an extra ")" after "${periodText}(${dayText})"`,
        );
      }
      throw new ExpressionError(
        `unexpected text "${extra}" after "${periodText}(${dayText})" (separate terms with spaces)`,
      );
    }
    while (isSpace(text[pos])) pos++;

    // Resolve the term.
    const termPeriods = periods.resolve(periodText);
    if (dayText.trim() === "") {
      throw new ExpressionError(`"${periodText}()" has no days in its parentheses`);
    }
    const termDays: Def[] = [];
    for (const item of dayText.split(",")) {
      const trimmed = item.trim();
      if (trimmed === "") {
        throw new ExpressionError(`the days "(${dayText})" have an empty item between commas`);
      }
      termDays.push(...days.resolve(trimmed));
    }
    for (const period of termPeriods) {
      for (const day of termDays) pairs.push({ period, day });
    }
  }

  const seen = new Set<string>();
  const unique = pairs.filter(({ period, day }) => {
    const key = `${period.index}:${day.index}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  unique.sort((a, b) =>
    a.period.sortOrder - b.period.sortOrder || a.period.index - b.period.index ||
    a.day.sortOrder - b.day.sortOrder || a.day.index - b.day.index
  );
  return unique.map(({ period, day }) => ({ period: period.abbreviation, day: day.abbreviation }));
}

/** The distinct period abbreviations of a list of meetings, in order. */
export function meetingPeriods(meetings: readonly Meeting[]): string[] {
  const result: string[] = [];
  const seen = new Set<string>();
  for (const { period } of meetings) {
    if (!seen.has(period)) {
      seen.add(period);
      result.push(period);
    }
  }
  return result;
}
