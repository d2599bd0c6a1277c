/**
 * Synchronize Mode: its scope, what "active" means per table, rows rejected for
 * other fields counted as present, history kept and re-activation, the removal
 * limit that holds a run, and approving or discarding a held run.
 */
import assert from "node:assert/strict";
import {
  isoDay,
  Sandbox,
  seedSchool,
  STUDENT_FIELDS,
  TEACHER_FIELDS,
  tsv,
  usDay,
} from "../support/sandbox.ts";

const teachers = (...numbers: number[]) =>
  tsv(...numbers.map((n) => [`T${n}`, `First${n}`, `Last${n}`]));
const statusOf = async (sb: Sandbox) =>
  Object.fromEntries((await sb.sis("teachers", 100)).map((t) => [t["TeacherNumber"], t["Status"]]));

Deno.test("a teacher missing from the file is set to Status 2 and comes back when listed again", async () => {
  await using sb = await Sandbox.create();
  await sb.import(teachers(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), {
    table: "teachers",
    fields: TEACHER_FIELDS,
  });
  const { report } = await sb.import(teachers(1, 2, 3, 4, 5, 6, 7, 8, 9), {
    table: "teachers",
    fields: TEACHER_FIELDS,
    synchronize: true,
  });
  assert.equal(report.status, "succeeded", JSON.stringify(report));
  assert.equal(report.counts["removed"], 1);
  assert.equal((await statusOf(sb))["T10"], 2);
  const back = await sb.import(teachers(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), {
    table: "teachers",
    fields: TEACHER_FIELDS,
    synchronize: true,
  });
  assert.equal(back.report.counts["updated"], 1, JSON.stringify(back.report));
  assert.equal(back.report.counts["removed"], 0);
  assert.equal((await statusOf(sb))["T10"], 1);
});

Deno.test("synchronize never touches another school", async () => {
  await using sb = await Sandbox.create();
  await sb.import(teachers(1, 2), { table: "teachers", fields: TEACHER_FIELDS });
  await sb.import(teachers(3), { table: "teachers", fields: TEACHER_FIELDS, school: 200 });
  await sb.import(teachers(1), {
    table: "teachers",
    fields: TEACHER_FIELDS,
    synchronize: true,
    removalLimit: 100,
  });
  const all = await sb.sis("teachers");
  assert.deepEqual(all.map((t) => [t["SchoolID"], t["TeacherNumber"], t["Status"]]), [
    [100, "T1", 1],
    [100, "T2", 2],
    [200, "T3", 1],
  ]);
});

Deno.test("synchronizing a school's students never transfers out a student of another school", async () => {
  await using sb = await Sandbox.create();
  const student = (n: number) => [`${n}`, `F${n}`, `L${n}`, "3", usDay(-50)];
  await sb.import(tsv(student(1001), student(1002), student(1003)), {
    table: "students",
    fields: STUDENT_FIELDS,
  });
  await sb.import(tsv(student(2001)), { table: "students", fields: STUDENT_FIELDS, school: 200 });
  const { report } = await sb.import(tsv(student(1001), student(1002)), {
    table: "students",
    fields: STUDENT_FIELDS,
    synchronize: true,
    removalLimit: 100,
  });
  assert.equal(report.status, "succeeded", JSON.stringify(report));
  assert.equal(report.counts["removed"], 1);
  const all = await sb.sis("students");
  assert.deepEqual(all.map((s) => [s["SchoolID"], s["Student_Number"], s["Enroll_Status"]]), [
    [100, 1001, 0],
    [100, 1002, 0],
    [100, 1003, 2],
    [200, 2001, 0],
  ]);
  const exits = Object.fromEntries(all.map((s) => [s["Student_Number"], s["ExitDate"]]));
  assert.equal(exits[1003], isoDay(0));
  assert.notEqual(exits[2001], isoDay(0), "the other school's student keeps its ExitDate");
});

Deno.test("a row rejected for another field still counts as present: a typo never transfers a student out", async () => {
  await using sb = await Sandbox.create();
  const rows = [1, 2, 3, 4, 5, 6].map((
    n,
  ) => [`${1000 + n}`, `F${n}`, `L${n}`, "3", usDay(-50), "2015-01-01"]);
  const fields = [...STUDENT_FIELDS, "DOB"];
  await sb.import(tsv(...rows), { table: "students", fields });
  rows[2]![5] = "2015-02-31";
  const { report } = await sb.import(tsv(...rows), {
    table: "students",
    fields,
    updateExisting: true,
    synchronize: true,
  });
  assert.deepEqual(report.errors.map((e) => [e.line, e.field, e.code]), [[3, "DOB", "bad_date"]]);
  assert.equal(report.counts["removed"], 0);
  assert.equal((await sb.row("students", "Student_Number", 1003))?.["Enroll_Status"], 0);
});

Deno.test("a student missing from the file is transferred out with schedules dropped; pre-registered students are left alone", async () => {
  await using sb = await Sandbox.create();
  await seedSchool(sb);
  await sb.import(tsv(["1004", "Pre", "Reg", "3", usDay(10), "-1"]), {
    table: "students",
    fields: [...STUDENT_FIELDS, "Enroll_Status"],
  });
  await sb.import(tsv(["1003", "3600", "MATH", "1", usDay(-80)]), {
    table: "schedules",
    fields: ["Student_Number", "TermID", "Course_Number", "Section_Number", "DateEnrolled"],
  });
  const { report } = await sb.import(
    tsv(["1001", "José", "García", "3", usDay(-90)], ["1002", "Zoë", "Brontë", "3", usDay(-90)]),
    {
      table: "students",
      fields: STUDENT_FIELDS,
      synchronize: true,
      removalLimit: 50,
    },
  );
  assert.equal(report.counts["removed"], 1, JSON.stringify(report));
  const s = await sb.row("students", "Student_Number", 1003);
  assert.deepEqual([s?.["Enroll_Status"], s?.["ExitDate"]], [2, isoDay(0)]);
  assert.equal((await sb.row("students", "Student_Number", 1004))?.["Enroll_Status"], -1);
  const cc = await sb.row("schedules", "Student_Number", 1003);
  assert.deepEqual([cc?.["Dropped"], cc?.["DateLeft"]], [1, isoDay(0)]);
  const log = await sb.ok(["runs", "show", String(report.runId)]);
  assert.match(log.stdout, /remove \{"Student_Number":1003\}/);
});

Deno.test("sections and schedules synchronize only within the terms the file names", async () => {
  await using sb = await Sandbox.create();
  await seedSchool(sb);
  // Sections: 3600 MATH.1, 3600 ELA.1, 3601 MATH.2. A file for term 3600 only lists MATH.1.
  const { report } = await sb.import(tsv(["3600", "MATH", "1", "1(A-E)", "T1"]), {
    table: "sections",
    fields: ["TermID", "Course_Number", "Section_Number", "Expression", "Teacher"],
    synchronize: true,
    removalLimit: 100,
  });
  assert.equal(report.counts["removed"], 1, JSON.stringify(report));
  const sections = await sb.sis("sections");
  assert.deepEqual(
    sections.map((s) => [s["TermID"], s["Course_Number"], s["Section_Number"], s["Inactive"]]),
    [
      [3600, "ELA", "1", 1],
      [3600, "MATH", "1", 0],
      [3601, "MATH", "2", 0],
    ],
  );
});

Deno.test("courses no longer listed are un-offered at the school and stay in the catalog", async () => {
  await using sb = await Sandbox.create();
  await sb.import(tsv(["MATH", "Math"], ["ELA", "English"]), {
    table: "courses",
    fields: ["Course_Number", "Course_Name"],
  });
  const { report } = await sb.import(tsv(["MATH", "Math"]), {
    table: "courses",
    fields: ["Course_Number", "Course_Name"],
    synchronize: true,
    removalLimit: 100,
  });
  assert.equal(report.counts["removed"], 1);
  assert.deepEqual((await sb.sis("courses")).map((c) => [c["Course_Number"], c["Offered"]]), [[
    "ELA",
    0,
  ], ["MATH", 1]]);

  // Listed again: the school offers it again (an update, even with Update existing off);
  // MATH is left as it was.
  const back = await sb.import(tsv(["MATH", "Math"], ["ELA", "English"]), {
    table: "courses",
    fields: ["Course_Number", "Course_Name"],
  });
  assert.equal(back.report.counts["updated"], 1, JSON.stringify(back.report.counts));
  assert.equal(back.report.counts["skipped"], 1);
  assert.deepEqual((await sb.sis("courses")).map((c) => [c["Course_Number"], c["Offered"]]), [[
    "ELA",
    1,
  ], ["MATH", 1]]);
});

Deno.test("attendance missing from the file is deleted, only on the dates the file names", async () => {
  await using sb = await Sandbox.create();
  await seedSchool(sb);
  const fields = ["Student_Number", "Att_Date", "Att_Code"];
  await sb.import(
    tsv(["1001", usDay(-1), "A"], ["1002", usDay(-1), "T"], ["1001", usDay(-2), "A"]),
    { table: "attendance", fields },
  );
  const { report } = await sb.import(tsv(["1001", usDay(-1), "A"]), {
    table: "attendance",
    fields,
    synchronize: true,
    removalLimit: 100,
  });
  assert.equal(report.counts["removed"], 1, JSON.stringify(report));
  assert.deepEqual((await sb.sis("attendance")).map((a) => [a["Student_Number"], a["Att_Date"]]), [
    [1001, isoDay(-2)],
    [1001, isoDay(-1)],
  ]);
});

Deno.test("a file with no data records never synchronizes", async () => {
  await using sb = await Sandbox.create();
  await sb.import(teachers(1, 2, 3, 4, 5, 6), { table: "teachers", fields: TEACHER_FIELDS });
  const before = await sb.checksum();
  const { report } = await sb.import("number_of_records=0\n", {
    table: "teachers",
    fields: TEACHER_FIELDS,
    synchronize: true,
    removalLimit: 100,
    expectRecordCount: true,
  });
  assert.equal(report.status, "empty");
  assert.equal(await sb.checksum(), before);
});

Deno.test("the removal limit holds a run: nothing applied, the file kept, the keys listed; approval applies it once", async () => {
  await using sb = await Sandbox.create();
  await sb.import(teachers(...Array.from({ length: 20 }, (_, i) => i + 1)), {
    table: "teachers",
    fields: TEACHER_FIELDS,
  });
  const before = await sb.checksum();
  // 6 of 20 missing (30 % > 10 %, and at least 5): held. T21 is new.
  const { code, report } = await sb.import(
    teachers(...Array.from({ length: 14 }, (_, i) => i + 1), 21),
    {
      table: "teachers",
      fields: TEACHER_FIELDS,
      synchronize: true,
    },
  );
  assert.equal(report.status, "held", JSON.stringify(report));
  assert.equal(code, 2);
  assert.equal(report.counts["removed"], 6);
  assert.match(report.message ?? "", /remove 6 of 20/);
  assert.equal(await sb.checksum(), before, "a held run changed the SIS");
  const shown = await sb.ok(["runs", "show", String(report.runId)]);
  for (let n = 15; n <= 20; n++) {
    assert.match(shown.stdout, new RegExp(`remove \\{"TeacherNumber":"T${n}","SchoolID":100\\}`));
  }
  const [held] = await sb.query("SELECT held_path, held_until FROM runs WHERE id = ?", [
    report.runId,
  ]);
  assert.ok(String(held?.["held_path"]).includes("/held/"));
  await Deno.stat(String(held?.["held_path"]));

  const approved = await sb.cli(["runs", "approve", String(report.runId), "--json"]);
  assert.equal(approved.code, 0, approved.stderr);
  const approval = JSON.parse(approved.stdout.split("\n").find((l) => l.startsWith("{"))!);
  assert.equal(approval.status, "succeeded");
  assert.equal(approval.counts.removed, 6);
  assert.equal(approval.counts.inserted, 1);
  const status = await statusOf(sb);
  assert.equal(status["T20"], 2);
  assert.equal(status["T21"], 1);
  const [after] = await sb.query("SELECT status, held_path FROM runs WHERE id = ?", [report.runId]);
  assert.deepEqual(after, { status: "approved", held_path: null });
  await assert.rejects(() => Deno.stat(String(held?.["held_path"])));
  const again = await sb.cli(["runs", "approve", String(report.runId)]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /not held/);
  const [trigger] = await sb.query("SELECT trigger FROM runs WHERE id = ?", [approval.runId]);
  assert.equal(trigger?.["trigger"], "approval");
});

Deno.test("an approval whose kept file is not the file that was held applies nothing", async () => {
  await using sb = await Sandbox.create();
  const all = Array.from({ length: 20 }, (_, i) => i + 1);
  await sb.import(teachers(...all), { table: "teachers", fields: TEACHER_FIELDS });
  const { report } = await sb.import(teachers(1, 2, 3, 4, 5), {
    table: "teachers",
    fields: TEACHER_FIELDS,
    synchronize: true,
  });
  assert.equal(report.status, "held");
  const [held] = await sb.query("SELECT held_path FROM runs WHERE id = ?", [report.runId]);
  // Someone with access to the data folder swaps the kept file.
  await Deno.writeTextFile(String(held?.["held_path"]), teachers(1));
  const before = await sb.checksum();
  const approved = await sb.cli(["runs", "approve", String(report.runId), "--json"]);
  const approval = JSON.parse(approved.stdout.split("\n").find((l) => l.startsWith("{"))!);
  assert.equal(approval.status, "rejected");
  assert.match(
    approval.message,
    /not the file that was held \(its SHA-256 differs\); nothing was applied/,
  );
  assert.equal(await sb.checksum(), before);
  const [still] = await sb.query("SELECT status FROM runs WHERE id = ?", [report.runId]);
  assert.equal(still?.["status"], "held", "the held run can still be discarded");
});

Deno.test("a held run can be discarded, which deletes its kept file and changes nothing", async () => {
  await using sb = await Sandbox.create();
  await sb.import(teachers(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), {
    table: "teachers",
    fields: TEACHER_FIELDS,
  });
  const before = await sb.checksum();
  const { report } = await sb.import(teachers(1), {
    table: "teachers",
    fields: TEACHER_FIELDS,
    synchronize: true,
  });
  assert.equal(report.status, "held");
  const [held] = await sb.query("SELECT held_path FROM runs WHERE id = ?", [report.runId]);
  const discarded = await sb.cli(["runs", "discard", String(report.runId)]);
  assert.equal(discarded.code, 0, discarded.stderr);
  const [after] = await sb.query("SELECT status FROM runs WHERE id = ?", [report.runId]);
  assert.equal(after?.["status"], "discarded");
  await assert.rejects(() => Deno.stat(String(held?.["held_path"])));
  assert.equal(await sb.checksum(), before);
});

Deno.test("fewer than 5 removals never hold a run", async () => {
  await using sb = await Sandbox.create();
  await sb.import(teachers(1, 2, 3, 4, 5), { table: "teachers", fields: TEACHER_FIELDS });
  const { report } = await sb.import(teachers(1), {
    table: "teachers",
    fields: TEACHER_FIELDS,
    synchronize: true,
  });
  assert.equal(report.status, "succeeded");
  assert.equal(report.counts["removed"], 4);
});
