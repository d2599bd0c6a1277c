/**
 * The tables' reference checks of one staged row (`rowCheck`), run on reference data
 * as the map stage loads it. A staged row is laid out as `[line, rej, mask, …]`.
 */
import assert from "node:assert/strict";
import type { Cell, References, RowCheckSink, TermInfo } from "../../../src/sis/tables/checks.ts";
import { ATTENDANCE } from "../../../src/sis/tables/attendance.ts";
import { SCHEDULES } from "../../../src/sis/tables/schedules.ts";
import { STUDENTS } from "../../../src/sis/tables/students.ts";

const term = (termId: number, firstDay: string, lastDay: string, after: string): TermInfo => ({
  termId,
  firstDay,
  lastDay,
  after,
});

function references(overrides: Partial<References> = {}): References {
  return {
    schools: new Set([0, 100]),
    terms: new Map(),
    courses: new Set(),
    teachers: new Map(),
    students: new Set(),
    codes: new Map(),
    sections: new Map(),
    termsBySchool: new Map(),
    ...overrides,
  };
}

const sink = (): RowCheckSink => ({ errors: [], conditional: [], marks: [] });

const NONE = -1;
const at = {
  student: NONE,
  school: NONE,
  term: NONE,
  course: NONE,
  section: NONE,
  refId: NONE,
  refText: NONE,
  def: NONE,
};

Deno.test("a new student's exit date defaults to the day after the longest term holding the entry date", () => {
  // Row: line, rej, mask, k_student_number, v_schoolid, v_entrydate, def.
  const fields: Record<string, { maskPosition: number; slot: number }> = {
    SchoolID: { maskPosition: 0, slot: 4 },
    EntryDate: { maskPosition: 1, slot: 5 },
  };
  const check = STUDENTS.rowCheck!(
    references({
      termsBySchool: new Map([[100, [
        term(3501, "2025-08-18", "2025-12-19", "2025-12-20"),
        term(3500, "2025-08-18", "2026-05-29", "2026-05-30"),
      ]]]),
    }),
    { at: { ...at, def: 6 }, field: (name) => fields[name] ?? null, today: "2026-01-15" },
  );
  const row: Cell[] = [2, 0, "11", 1001, 100, "2025-09-01", null];
  const out = sink();
  check(row, 2, false, out);
  assert.equal(row[6], "2026-05-30");
  assert.equal(out.errors.length, 0);

  const outside: Cell[] = [3, 0, "11", 1002, 100, "2026-07-01", null];
  check(outside, 3, false, out);
  assert.equal(outside[6], null);
  assert.deepEqual(out.conditional.map((e) => [e.line, e.code, e.field]), [
    [3, "no_term", "EntryDate"],
  ]);

  const unknownSchool: Cell[] = [4, 0, "11", 1003, 300, "2025-09-01", null];
  check(unknownSchool, 4, false, out);
  assert.deepEqual(out.errors.map((e) => [e.line, e.code, e.message]), [
    [4, "missing_reference", "SchoolID: there is no school 300"],
  ]);
});

Deno.test("a schedule row names an existing student and section, and gets its term's default DateLeft", () => {
  // Row: line, rej, mask, k_student_number, k_schoolid, k_termid, k_course_number,
  // k_section_number, ref_id, def.
  const layout = {
    at: { ...at, student: 3, school: 4, term: 5, course: 6, section: 7, refId: 8, def: 9 },
    field: () => null,
    today: "2026-01-15",
  };
  const check = SCHEDULES.rowCheck!(
    references({
      students: new Set([1001]),
      terms: new Map([[
        100,
        new Map([[3500, term(3500, "2025-08-18", "2026-05-29", "2026-05-30")]]),
      ]]),
      sections: new Map([[100, {
        get: (t: number, c: string, s: string) =>
          t === 3500 && c === "M1" && s === "1" ? 42 : undefined,
      }]]),
    }),
    layout,
  );
  const out = sink();
  const ok: Cell[] = [2, 0, "", 1001, 100, 3500, "M1", "1", null, null];
  check(ok, 2, false, out);
  assert.deepEqual([ok[8], ok[9]], [42, "2026-05-30"]);
  const bad: Cell[] = [3, 0, "", 1009, 100, 3500, "M1", "2", null, null];
  check(bad, 3, false, out);
  assert.deepEqual(out.errors.map((e) => [e.line, e.field, e.code]), [
    [3, "Student_Number", "missing_reference"],
    [3, "Section_Number", "missing_reference"],
  ]);
  // The student's error sorts before the section's.
  assert.ok(out.errors[0]!.ord < out.errors[1]!.ord);
});

Deno.test("an attendance code is resolved from its id or its text, case-insensitively, and both must agree", () => {
  // Row: line, rej, mask, k_student_number, k_schoolid, v_attendance_codeid, v_att_code,
  // ref_id, ref_text.
  const fields: Record<string, { maskPosition: number; slot: number }> = {
    Attendance_CodeID: { maskPosition: 0, slot: 5 },
    Att_Code: { maskPosition: 1, slot: 6 },
  };
  const check = ATTENDANCE.rowCheck!(
    references({
      students: new Set([1001]),
      codes: new Map([[100, {
        byId: new Map([[11, "A"], [12, "T"]]),
        byUpper: new Map([["A", 11], ["T", 12]]),
      }]]),
    }),
    {
      at: { ...at, student: 3, school: 4, refId: 7, refText: 8 },
      field: (name) => fields[name] ?? null,
      today: "2026-01-15",
    },
  );
  const out = sink();
  const byText: Cell[] = [2, 0, "01", 1001, 100, null, "t", null, null];
  check(byText, 2, false, out);
  assert.deepEqual([byText[7], byText[8]], [12, "T"]);
  const mismatch: Cell[] = [3, 0, "11", 1001, 100, 11, "T", null, null];
  check(mismatch, 3, false, out);
  assert.deepEqual(out.errors.map((e) => [e.line, e.code]), [[3, "code_mismatch"]]);
  const none: Cell[] = [4, 0, "00", 1001, 100, null, null, null, null];
  check(none, 4, false, out);
  assert.deepEqual(out.conditional.map((e) => [e.line, e.code, e.field]), [
    [4, "missing_required", "Attendance_CodeID"],
  ]);
});
