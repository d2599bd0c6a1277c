import assert from "node:assert/strict";
import {
  type DayDef,
  type Meeting,
  meetingPeriods,
  parseExpression,
  type PeriodDef,
} from "../../src/sis/expressions.ts";

// ---------------------------------------------------------------------------------------------
// Schools
// ---------------------------------------------------------------------------------------------

const defs = (...abbreviations: string[]): { abbreviation: string; sortOrder: number }[] =>
  abbreviations.map((abbreviation, i) => ({ abbreviation, sortOrder: i + 1 }));

/** Periods 1..8, days A..E (a rotating letter-day school). */
const letterPeriods: PeriodDef[] = defs("1", "2", "3", "4", "5", "6", "7", "8");
const letterDays: DayDef[] = defs("A", "B", "C", "D", "E");

/** Days M,T,W,H,F in week order, which is not alphabetical order (F < H < M < T < W). */
const weekDays: DayDef[] = defs("M", "T", "W", "H", "F");

/** Days A1,B1,A2,B2,A3,B3 in that order (alphabetically A1 < A2 < A3 < B1 < B2 < B3). */
const pairedDays: DayDef[] = defs("A1", "B1", "A2", "B2", "A3", "B3");

/**
 * Periods with letters and two digits, listed out of order on purpose. Sort order:
 * 0, HR, 1, 2, 3, 4, Lch, 5, 6, 7, 8, 9, 10, Adv. Alphabetically "10" < "9" and "Adv" < "HR".
 */
const mixedPeriods: PeriodDef[] = [
  { abbreviation: "10", sortOrder: 120 },
  { abbreviation: "HR", sortOrder: 5 },
  { abbreviation: "Adv", sortOrder: 130 },
  { abbreviation: "0", sortOrder: 0 },
  { abbreviation: "Lch", sortOrder: 45 },
  ...[1, 2, 3, 4].map((n) => ({ abbreviation: String(n), sortOrder: n * 10 })),
  ...[5, 6, 7, 8, 9].map((n) => ({ abbreviation: String(n), sortOrder: n * 10 + 10 })),
];

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** Builds the expected meetings from [period, day] pairs. */
function m(...pairs: [string, string][]): Meeting[] {
  return pairs.map(([period, day]) => ({ period, day }));
}

function parseOk(expression: string, periods: readonly PeriodDef[], days: readonly DayDef[]) {
  const result = parseExpression(expression, periods, days);
  if (!result.ok) assert.fail(`expected "${expression}" to parse, got: ${result.message}`);
  return result.meetings;
}

function parseErr(expression: string, periods: readonly PeriodDef[], days: readonly DayDef[]) {
  const result = parseExpression(expression, periods, days);
  if (result.ok) {
    assert.fail(`expected "${expression}" to fail, got: ${JSON.stringify(result.meetings)}`);
  }
  assert.equal(typeof result.message, "string");
  assert.ok(result.message.length > 0);
  return result.message;
}

const letterOk = (expression: string) => parseOk(expression, letterPeriods, letterDays);
const letterErr = (expression: string) => parseErr(expression, letterPeriods, letterDays);

// ---------------------------------------------------------------------------------------------
// The forms in the spec
// ---------------------------------------------------------------------------------------------

Deno.test("a single period on a single day is one meeting", () => {
  assert.deepEqual(letterOk("1(A)"), m(["1", "A"]));
});

Deno.test("a day range covers every day from the first to the last", () => {
  assert.deepEqual(
    letterOk("1(A-E)"),
    m(["1", "A"], ["1", "B"], ["1", "C"], ["1", "D"], ["1", "E"]),
  );
});

Deno.test("a comma list of days names each of them", () => {
  assert.deepEqual(
    parseOk("3(M,W,F)", letterPeriods, weekDays),
    m(["3", "M"], ["3", "W"], ["3", "F"]),
  );
});

Deno.test("several terms separated by spaces are combined", () => {
  assert.deepEqual(letterOk("1-2(A) 3(B) 4(A)"), m(["1", "A"], ["2", "A"], ["3", "B"], ["4", "A"]));
});

Deno.test("a comma list of day ranges covers each range", () => {
  assert.deepEqual(letterOk("1(A-B,D-E)"), m(["1", "A"], ["1", "B"], ["1", "D"], ["1", "E"]));
});

Deno.test("two-character days can be listed and ranged by the school's sort order", () => {
  assert.deepEqual(
    parseOk("7(A1-B1,A3)", letterPeriods, pairedDays),
    m(["7", "A1"], ["7", "B1"], ["7", "A3"]),
  );
});

Deno.test("a letter period such as HR is accepted", () => {
  assert.deepEqual(parseOk("HR(A)", mixedPeriods, letterDays), m(["HR", "A"]));
});

Deno.test("period 0 and two-digit period 10 are accepted", () => {
  assert.deepEqual(parseOk("0(B) 10(C)", mixedPeriods, letterDays), m(["0", "B"], ["10", "C"]));
});

Deno.test("a period range crosses every period in between for every listed day", () => {
  assert.deepEqual(
    letterOk("2-4(A,C)"),
    m(["2", "A"], ["2", "C"], ["3", "A"], ["3", "C"], ["4", "A"], ["4", "C"]),
  );
});

Deno.test("a range from a day to itself is just that day", () => {
  assert.deepEqual(letterOk("1(C-C)"), m(["1", "C"]));
  assert.deepEqual(letterOk("5-5(A)"), m(["5", "A"]));
});

// ---------------------------------------------------------------------------------------------
// Ranges follow the school's sort order
// ---------------------------------------------------------------------------------------------

Deno.test("a weekday range follows week order, not alphabetical order", () => {
  assert.deepEqual(
    parseOk("1(M-H)", letterPeriods, weekDays),
    m(["1", "M"], ["1", "T"], ["1", "W"], ["1", "H"]),
  );
  assert.deepEqual(
    parseOk("1(W-F)", letterPeriods, weekDays),
    m(["1", "W"], ["1", "H"], ["1", "F"]),
  );
});

Deno.test("a weekday range that is alphabetical but backwards in week order is reversed", () => {
  // F < M alphabetically, but F comes after M in the week.
  const message = parseErr("1(F-M)", letterPeriods, weekDays);
  assert.match(message, /reversed/);
  assert.match(message, /F-M/);
});

Deno.test("a paired-day range includes the days between in the school's order", () => {
  assert.deepEqual(
    parseOk("1(B1-A3)", letterPeriods, pairedDays),
    m(["1", "B1"], ["1", "A2"], ["1", "B2"], ["1", "A3"]),
  );
  assert.deepEqual(
    parseOk("1(A1-A2)", letterPeriods, pairedDays),
    m(["1", "A1"], ["1", "B1"], ["1", "A2"]),
  );
});

Deno.test("a paired-day range that is alphabetical but backwards in sort order is reversed", () => {
  // A2 < B1 alphabetically, but B1 comes before A2 in the school's order.
  assert.match(parseErr("1(A2-B1)", letterPeriods, pairedDays), /reversed/);
});

Deno.test("a period range follows sort order, so 9-10 includes both and 10-9 is reversed", () => {
  assert.deepEqual(parseOk("9-10(A)", mixedPeriods, letterDays), m(["9", "A"], ["10", "A"]));
  assert.match(parseErr("10-9(A)", mixedPeriods, letterDays), /reversed/);
});

Deno.test("a period range includes letter periods that sort between its ends", () => {
  assert.deepEqual(
    parseOk("0-2(A)", mixedPeriods, letterDays),
    m(["0", "A"], ["HR", "A"], ["1", "A"], ["2", "A"]),
  );
  assert.deepEqual(
    parseOk("4-5(A)", mixedPeriods, letterDays),
    m(["4", "A"], ["Lch", "A"], ["5", "A"]),
  );
});

Deno.test("a period range may start or end at a letter period", () => {
  assert.deepEqual(
    parseOk("HR-1(A)", mixedPeriods, letterDays),
    m(["HR", "A"], ["1", "A"]),
  );
  assert.deepEqual(
    parseOk("10-Adv(A)", mixedPeriods, letterDays),
    m(["10", "A"], ["Adv", "A"]),
  );
});

Deno.test("meetings are sorted by sort order even when the school lists periods out of order", () => {
  assert.deepEqual(
    parseOk("Adv(A) 10(A) 0(A) HR(A)", mixedPeriods, letterDays),
    m(["0", "A"], ["HR", "A"], ["10", "A"], ["Adv", "A"]),
  );
});

// ---------------------------------------------------------------------------------------------
// Case, order, duplicates, whitespace
// ---------------------------------------------------------------------------------------------

Deno.test("abbreviations match case-insensitively and results use the school's spelling", () => {
  assert.deepEqual(parseOk("hr(a)", mixedPeriods, letterDays), m(["HR", "A"]));
  assert.deepEqual(parseOk("ADV(b-C)", mixedPeriods, letterDays), m(["Adv", "B"], ["Adv", "C"]));
  assert.deepEqual(parseOk("lCH(A)", mixedPeriods, letterDays), m(["Lch", "A"]));
  assert.deepEqual(
    parseOk("1(m,w,f)", letterPeriods, weekDays),
    m(["1", "M"], ["1", "W"], ["1", "F"]),
  );
  assert.deepEqual(
    parseOk("2(a1-b1,a3)", letterPeriods, pairedDays),
    m(["2", "A1"], ["2", "B1"], ["2", "A3"]),
  );
});

Deno.test("a school's lower-case abbreviations are returned in lower case", () => {
  const days = defs("a", "b", "c");
  assert.deepEqual(parseOk("1(A-B)", letterPeriods, days), m(["1", "a"], ["1", "b"]));
});

Deno.test("an exact-case match wins when two abbreviations differ only in case", () => {
  const days = [{ abbreviation: "a", sortOrder: 1 }, { abbreviation: "A", sortOrder: 2 }];
  assert.deepEqual(parseOk("1(A)", letterPeriods, days), m(["1", "A"]));
  assert.deepEqual(parseOk("1(a)", letterPeriods, days), m(["1", "a"]));
});

Deno.test("meetings are sorted by period, then day, whatever order the terms are written in", () => {
  assert.deepEqual(
    letterOk("4(C) 1(E) 1(A) 3(B-C) 1(C)"),
    m(["1", "A"], ["1", "C"], ["1", "E"], ["3", "B"], ["3", "C"], ["4", "C"]),
  );
  assert.deepEqual(
    parseOk("1(F,M,H)", letterPeriods, weekDays),
    m(["1", "M"], ["1", "H"], ["1", "F"]),
  );
});

Deno.test("duplicate meetings are not an error and appear only once", () => {
  assert.deepEqual(letterOk("1(A,A)"), m(["1", "A"]));
  assert.deepEqual(letterOk("1(A-C,B)"), m(["1", "A"], ["1", "B"], ["1", "C"]));
  assert.deepEqual(letterOk("1-2(A) 2(A) 1(a)"), m(["1", "A"], ["2", "A"]));
  assert.deepEqual(letterOk("1(A) 1(A)"), m(["1", "A"]));
});

Deno.test("leading and trailing whitespace is ignored", () => {
  assert.deepEqual(letterOk("   1(A)  "), m(["1", "A"]));
  assert.deepEqual(letterOk("\t1(A)\n"), m(["1", "A"]));
});

Deno.test("terms may be separated by several spaces or tabs", () => {
  assert.deepEqual(letterOk("1(A)    2(B)\t3(C)"), m(["1", "A"], ["2", "B"], ["3", "C"]));
});

Deno.test("whitespace around commas and hyphens inside the parentheses is tolerated", () => {
  assert.deepEqual(letterOk("1(A, B)"), m(["1", "A"], ["1", "B"]));
  assert.deepEqual(letterOk("1( A - C , E )"), m(["1", "A"], ["1", "B"], ["1", "C"], ["1", "E"]));
});

Deno.test("an expression over a school with a single period and day parses", () => {
  assert.deepEqual(parseOk("X(Y)", defs("X"), defs("Y")), m(["X", "Y"]));
});

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

Deno.test("an empty expression is an error", () => {
  assert.match(letterErr(""), /empty/);
});

Deno.test("an expression of only whitespace is an error", () => {
  assert.match(letterErr("   \t "), /empty/);
});

Deno.test("an unknown period is named in the error", () => {
  assert.equal(letterErr("9(A)"), `Cannot read expression "9(A)": the school has no period 9`);
});

Deno.test("an unknown day is named in the error", () => {
  assert.equal(letterErr("1(Z)"), `Cannot read expression "1(Z)": the school has no day Z`);
});

Deno.test("an unknown day in a later term or list item is still an error", () => {
  assert.match(letterErr("1(A) 2(B,Q)"), /the school has no day Q/);
  assert.match(parseErr("1(M,S)", letterPeriods, weekDays), /the school has no day S/);
});

Deno.test("an unknown end of a range is named in the error", () => {
  assert.match(letterErr("1(A-Z)"), /the school has no day Z/);
  assert.match(letterErr("1-9(A)"), /the school has no period 9/);
  assert.match(parseErr("1(A1-C1)", letterPeriods, pairedDays), /the school has no day C1/);
});

Deno.test("a day from another school's scheme is unknown", () => {
  assert.match(parseErr("1(M)", letterPeriods, letterDays), /the school has no day M/);
  assert.match(parseErr("1(A)", letterPeriods, pairedDays), /the school has no day A$/);
});

Deno.test("a letter period the school does not have is unknown", () => {
  assert.match(letterErr("HR(A)"), /the school has no period HR/);
});

Deno.test("a school with no periods or days rejects every expression", () => {
  assert.match(parseErr("1(A)", [], letterDays), /no period 1/);
  assert.match(parseErr("1(A)", letterPeriods, []), /no day A/);
});

Deno.test("a reversed day range is an error", () => {
  const message = letterErr("1(E-A)");
  assert.match(message, /^Cannot read expression "1\(E-A\)": /);
  assert.match(message, /day range "E-A" is reversed/);
});

Deno.test("a reversed period range is an error", () => {
  assert.match(letterErr("3-1(A)"), /period range "3-1" is reversed/);
});

Deno.test("a term without parentheses is an error", () => {
  assert.match(letterErr("1"), /"1" has no days in parentheses/);
  assert.match(letterErr("1(A) 2"), /"2" has no days in parentheses/);
  assert.match(letterErr("1A"), /has no days in parentheses/);
});

Deno.test("a space between the period and its parentheses is an error", () => {
  assert.match(letterErr("1 (A)"), /"1" has no days in parentheses/);
});

Deno.test("a term without a period is an error", () => {
  assert.match(letterErr("(A)"), /missing its period/);
  assert.match(letterErr("1(A) (B)"), /missing its period/);
});

Deno.test("an unclosed parenthesis is an error", () => {
  assert.match(letterErr("1(A"), /unbalanced parentheses: "\(" after "1" is never closed/);
  assert.match(letterErr("1(A 2(B)"), /unbalanced parentheses/);
});

Deno.test("a closing parenthesis without an opening one is an error", () => {
  assert.match(letterErr("1A)"), /unbalanced parentheses/);
  assert.match(letterErr(")"), /unbalanced parentheses/);
});

Deno.test("an extra closing parenthesis is an error", () => {
  assert.match(letterErr("1(A))"), /unbalanced parentheses: an extra "\)"/);
});

Deno.test("nested parentheses are an error", () => {
  assert.match(letterErr("1((A))"), /unbalanced parentheses/);
});

Deno.test("text straight after the closing parenthesis is an error", () => {
  assert.match(letterErr("1(A)x"), /unexpected text "x" after "1\(A\)"/);
  assert.match(letterErr("1(A)2(B)"), /unexpected text "2\(B\)"/);
  assert.match(letterErr("1(A),2(B)"), /unexpected text ",2\(B\)"/);
});

Deno.test("an empty day list is an error", () => {
  assert.match(letterErr("1()"), /"1\(\)" has no days/);
  assert.match(letterErr("1(  )"), /has no days/);
});

Deno.test("an empty item in a day list is an error", () => {
  assert.match(letterErr("1(A,)"), /empty item/);
  assert.match(letterErr("1(,A)"), /empty item/);
  assert.match(letterErr("1(A,,B)"), /empty item/);
});

Deno.test("a period range missing its end is malformed", () => {
  assert.match(letterErr("1-(A)"), /period range "1-" is malformed/);
});

Deno.test("a period range missing its start is malformed", () => {
  assert.match(letterErr("-1(A)"), /period range "-1" is malformed/);
});

Deno.test("a period range with two hyphens is malformed", () => {
  assert.match(letterErr("1-2-3(A)"), /period range "1-2-3" is malformed/);
  assert.match(letterErr("1--2(A)"), /malformed/);
});

Deno.test("a day range missing its end is malformed", () => {
  assert.match(letterErr("1(A-)"), /day range "A-" is malformed/);
  assert.match(letterErr("1(A - )"), /malformed/);
});

Deno.test("a day range missing its start is malformed", () => {
  assert.match(letterErr("1(-A)"), /day range "-A" is malformed/);
});

Deno.test("a lone hyphen as a day or period is malformed", () => {
  assert.match(letterErr("1(-)"), /malformed/);
  assert.match(letterErr("-(A)"), /malformed/);
});

Deno.test("a day range with two hyphens is malformed", () => {
  assert.match(letterErr("1(A-B-C)"), /day range "A-B-C" is malformed/);
});

Deno.test("days separated by a space instead of a comma are an error", () => {
  assert.match(letterErr("1(A B)"), /separate days with commas/);
});

Deno.test("a comma list of periods is an error", () => {
  assert.match(letterErr("1,2(A)"), /"1,2" is not a period or period range/);
});

Deno.test("every error message names the expression", () => {
  for (const bad of ["1(A)x", "1()", "9(A)", "1(Z)", "1(E-A)", "1-(A)", "1(A-)", "1(A"]) {
    assert.ok(
      letterErr(bad).startsWith(`Cannot read expression "${bad}": `),
      `message for ${bad} should name the expression`,
    );
  }
});

Deno.test("the error names the first problem when there are several", () => {
  assert.match(letterErr("9(A) 1(Z)"), /no period 9/);
});

Deno.test("a non-string expression is an error rather than an exception", () => {
  assert.match(
    parseErr(undefined as unknown as string, letterPeriods, letterDays),
    /empty/,
  );
  assert.match(parseErr(null as unknown as string, letterPeriods, letterDays), /empty/);
});

Deno.test("parseExpression never throws for odd input", () => {
  const odd = [
    "(",
    ")",
    "()",
    "((",
    "))",
    ")(",
    "-",
    ",",
    "1(,)",
    "1(-,-)",
    "\u0000(A)",
    "1(A)\u00a0",
  ];
  for (const expression of odd) {
    assert.doesNotThrow(() => parseExpression(expression, letterPeriods, letterDays), expression);
  }
});

// ---------------------------------------------------------------------------------------------
// meetingPeriods
// ---------------------------------------------------------------------------------------------

Deno.test("meetingPeriods lists each period once in meeting order", () => {
  const meetings = letterOk("1-2(A-C) 4(A) 2(E)");
  assert.deepEqual(meetingPeriods(meetings), ["1", "2", "4"]);
});

Deno.test("meetingPeriods keeps the school's spelling and sort order", () => {
  const meetings = parseOk("adv(A) hr(B-C) 10(A)", mixedPeriods, letterDays);
  assert.deepEqual(meetingPeriods(meetings), ["HR", "10", "Adv"]);
});

Deno.test("meetingPeriods of no meetings is empty", () => {
  assert.deepEqual(meetingPeriods([]), []);
});

Deno.test("meetingPeriods keeps the order it is given", () => {
  assert.deepEqual(meetingPeriods(m(["3", "A"], ["1", "A"], ["3", "B"])), ["3", "1"]);
});
