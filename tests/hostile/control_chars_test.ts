/**
 * Control characters in data, through real files imported by the CLI: NUL is never
 * stored, other C0 controls and DEL are row errors (`bad_character`) except tab, and
 * except tab, line feed and carriage return in a free-text field (Att_Comment).
 */
import assert from "node:assert/strict";
import { Sandbox, STUDENT_FIELDS, TEACHER_FIELDS, tsv, usDay } from "../support/sandbox.ts";

const codes = (r: { errors: { line: number; field: string; code: string }[] }) =>
  r.errors.map((e) => [e.line, e.field, e.code]);

/** No message holds any of the values written into the file. */
function assertNoValues(
  report: { errors: { message: string }[] },
  values: readonly string[],
): void {
  for (const e of report.errors) {
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(e.message, /[\x00-\x08\x0a-\x1f\x7f]/, e.message);
    for (const v of values) assert.ok(!e.message.includes(v), `${e.message} holds "${v}"`);
  }
}

Deno.test("a NUL in a required name, an optional field or a number is a bad_character row error naming line and field, never the value", async () => {
  await using sb = await Sandbox.create();
  const day = usDay(-10);
  const { report } = await sb.import(
    tsv(
      ["1001", "Nul\0Inside", "Lee", "3", day, "", ""],
      ["1002", "Ann", "Lee", "3", day, "Qzx\0Wvy", ""],
      ["1003", "Bob", "Ray", "3\0", day, "", ""],
      ["1004", "\0", "Ray", "3", day, "", "R\x0012"],
      ["1005", "Cy", "Do", "3", day, "", "R12"],
    ),
    { table: "students", fields: [...STUDENT_FIELDS, "Middle_Name", "Home_Room"] },
  );
  assert.equal(report.status, "succeeded_with_errors", JSON.stringify(report));
  assert.deepEqual(codes(report), [
    [1, "First_Name", "bad_character"],
    [2, "Middle_Name", "bad_character"],
    [3, "Grade_Level", "bad_character"],
    [4, "First_Name", "bad_character"],
    [4, "Home_Room", "bad_character"],
  ]);
  assert.match(report.errors[0]!.message, /^First_Name: .*U\+0000 \(NUL\)/);
  assertNoValues(report, ["Nul", "Inside", "Qzx", "Wvy", "R12"]);
  assert.equal(report.counts["inserted"], 1);
  assert.equal(report.counts["rejected"], 4);
  const students = await sb.sis("students");
  assert.deepEqual(students.map((s) => s["Student_Number"]), [1005]);
  assert.equal(students[0]!["Home_Room"], "R12");
});

Deno.test("other C0 controls and DEL in a quoted field are refused; a tab inside a quoted field is kept", async () => {
  await using sb = await Sandbox.create();
  const fields = [...TEACHER_FIELDS, "Title"];
  const { report } = await sb.import(
    [
      'T1\tAda\tLovelace\t"Head\x01Math"',
      'T2\tAlan\tTuring\t"\x1b[31mRed"',
      'T3\tGrace\tHopper\t"Rub\x7fout"',
      'T4\tEdsger\tDijkstra\t"Head\tof Math"',
      'T5\tBarbara\tLiskov\t"Head\nof Math"',
      "T6\tKen\tThompson\tBell\x07",
      'T7\tDennis\tRitchie\t"Form\x0cfeed"',
    ].join("\n") + "\n",
    { table: "teachers", fields },
  );
  assert.deepEqual(codes(report), [
    [1, "Title", "bad_character"],
    [2, "Title", "bad_character"],
    [3, "Title", "bad_character"],
    [5, "Title", "bad_character"],
    [7, "Title", "bad_character"],
    [8, "Title", "bad_character"],
  ]);
  assert.match(report.errors[1]!.message, /U\+001B/);
  assert.match(report.errors[2]!.message, /U\+007F \(DEL\)/);
  assert.match(report.errors[3]!.message, /U\+000A \(line feed\)/);
  assertNoValues(report, ["Head", "Red", "Rub", "Bell", "Form"]);
  const teachers = await sb.sis("teachers");
  assert.deepEqual(teachers.map((t) => [t["TeacherNumber"], t["Title"]]), [
    ["T4", "Head\tof Math"],
  ]);
});

Deno.test("a free-text comment keeps tab, line feed and carriage return, never NUL or other controls", async () => {
  await using sb = await Sandbox.create();
  const students = await sb.import(
    tsv(
      ["1001", "Ann", "Lee", "3", usDay(-30)],
      ["1002", "Bob", "Ray", "3", usDay(-30)],
      ["1003", "Cy", "Do", "3", usDay(-30)],
      ["1004", "Di", "Ek", "3", usDay(-30)],
    ),
    { table: "students", fields: STUDENT_FIELDS },
  );
  assert.equal(students.report.status, "succeeded", JSON.stringify(students.report));
  const day = usDay(-1);
  const { report } = await sb.import(
    [
      `1001\t${day}\tA\t"Bus late\nsecond line\twith a tab"`,
      `1002\t${day}\tA\t"Car\rtrouble"`,
      `1003\t${day}\tA\t"Nul\0Kqz"`,
      `1004\t${day}\tA\t"Esc\x1bKqy"`,
    ].join("\n") + "\n",
    { table: "attendance", fields: ["Student_Number", "Att_Date", "Att_Code", "Att_Comment"] },
  );
  assert.deepEqual(codes(report), [
    [4, "Att_Comment", "bad_character"],
    [5, "Att_Comment", "bad_character"],
  ]);
  assertNoValues(report, ["Nul", "Kqz", "Esc", "Kqy"]);
  const rows = await sb.sis("attendance");
  assert.deepEqual(rows.map((r) => [r["Student_Number"], r["Att_Comment"]]), [
    [1001, "Bus late\nsecond line\twith a tab"],
    [1002, "Car\rtrouble"],
  ]);
});
