/**
 * The six import tables: keys, fields needed to create, references, school
 * ownership and the apply rules, through real imports.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/config.ts";
import { openDatabase } from "../../src/db/client.ts";
import { createRecord } from "../../src/records/store.ts";
import { runCli } from "../support/cli.ts";
import { startSmtpServer } from "../support/smtp.ts";
import {
  importArgs,
  isoDay,
  Sandbox,
  seedSchool,
  STUDENT_FIELDS,
  TEACHER_FIELDS,
  tsv,
  usDay,
} from "../support/sandbox.ts";

const codes = (r: { errors: { line: number; field: string; code: string }[] }) =>
  r.errors.map((e) => [e.line, e.field, e.code]);

Deno.test("a new student gets the record's school, status 0 and the exit date of the longest term holding the entry date", async () => {
  await using sb = await Sandbox.create();
  const { report } = await sb.import(tsv(["1001", "José", "García", "3", usDay(-10)]), {
    table: "students",
    fields: STUDENT_FIELDS,
  });
  assert.equal(report.status, "succeeded", JSON.stringify(report));
  const s = await sb.row("students", "Student_Number", 1001);
  assert.equal(s?.["SchoolID"], 100);
  assert.equal(s?.["Enroll_Status"], 0);
  assert.equal(s?.["EntryDate"], isoDay(-10));
  // Terms: year (-100..200) and S1 (-100..50) hold the date; the year is longer.
  assert.equal(s?.["ExitDate"], isoDay(201));
});

Deno.test("a new student whose entry date no term holds is a row error", async () => {
  await using sb = await Sandbox.create();
  const { report } = await sb.import(tsv(["1001", "José", "García", "3", usDay(-400)]), {
    table: "students",
    fields: STUDENT_FIELDS,
  });
  assert.deepEqual(codes(report), [[1, "EntryDate", "no_term"]]);
  const given = await sb.import(tsv(["1001", "José", "García", "3", usDay(-400), usDay(-300)]), {
    table: "students",
    fields: [...STUDENT_FIELDS, "ExitDate"],
  });
  assert.equal(given.report.counts["inserted"], 1, JSON.stringify(given.report));
});

Deno.test("a new record missing a field needed to create it is a row error naming the field", async () => {
  await using sb = await Sandbox.create();
  const { report } = await sb.import(tsv(["1001", "José", "", "3", usDay(-10)]), {
    table: "students",
    fields: STUDENT_FIELDS,
  });
  assert.deepEqual(codes(report), [[1, "Last_Name", "missing_required"]]);
  assert.match(report.errors[0]!.message, /Last_Name: required to create a new student/);
});

Deno.test("with Update existing off an existing record is skipped; with it on it is updated or unchanged", async () => {
  await using sb = await Sandbox.create();
  await sb.import(tsv(["T1", "Ada", "Lovelace"], ["T2", "Alan", "Turing"]), {
    table: "teachers",
    fields: TEACHER_FIELDS,
  });
  const off = await sb.import(tsv(["T1", "Augusta", "Lovelace"], ["T3", "Grace", "Hopper"]), {
    table: "teachers",
    fields: TEACHER_FIELDS,
  });
  assert.deepEqual(
    [off.report.counts["inserted"], off.report.counts["skipped"], off.report.counts["updated"]],
    [1, 1, 0],
  );
  assert.equal((await sb.row("teachers", "TeacherNumber", "T1"))?.["First_Name"], "Ada");
  const on = await sb.import(tsv(["T1", "Augusta", "Lovelace"], ["T2", "Alan", "Turing"]), {
    table: "teachers",
    fields: TEACHER_FIELDS,
    updateExisting: true,
  });
  assert.deepEqual([on.report.counts["updated"], on.report.counts["unchanged"]], [1, 1]);
  assert.equal((await sb.row("teachers", "TeacherNumber", "T1"))?.["First_Name"], "Augusta");
  const c = on.report.counts;
  assert.equal(
    c["read"],
    c["inserted"]! + c["updated"]! + c["unchanged"]! + c["skipped"]! + c["rejected"]!,
  );
  // The change log names the changed field; First_Name is personal, so its values are masked.
  const log = await sb.ok(["runs", "show", String(on.report.runId)]);
  assert.match(
    log.stdout,
    /update \{"TeacherNumber":"T1","SchoolID":100\} \{"First_Name":\["\(personal\)","\(personal\)"\]\}/,
  );
});

Deno.test("a blank cell clears an optional field unless Ignore blank cells is set; a blank required field is a row error", async () => {
  await using sb = await Sandbox.create();
  const fields = [...TEACHER_FIELDS, "Title"];
  await sb.import(
    tsv(["T1", "Ada", "Lovelace", "Teacher"], ["T2", "Alan", "Turing", "Principal"]),
    { table: "teachers", fields },
  );
  const kept = await sb.import(tsv(["T1", "Ada", "Lovelace", ""], ["T2", "", "Turing", "Head"]), {
    table: "teachers",
    fields,
    updateExisting: true,
    ignoreBlankCells: true,
  });
  assert.equal(kept.report.status, "succeeded", JSON.stringify(kept.report));
  assert.equal((await sb.row("teachers", "TeacherNumber", "T1"))?.["Title"], "Teacher");
  assert.equal((await sb.row("teachers", "TeacherNumber", "T2"))?.["First_Name"], "Alan");
  const cleared = await sb.import(
    tsv(["T1", "Ada", "Lovelace", ""], ["T2", "", "Turing", "Head"]),
    {
      table: "teachers",
      fields,
      updateExisting: true,
    },
  );
  assert.deepEqual(codes(cleared.report), [[2, "First_Name", "required_blank"]]);
  assert.equal((await sb.row("teachers", "TeacherNumber", "T1"))?.["Title"], null);
  assert.equal((await sb.row("teachers", "TeacherNumber", "T2"))?.["Title"], "Head");
});

Deno.test("a row of another school is wrong_school; the District Office may load any school", async () => {
  await using sb = await Sandbox.create();
  const { report } = await sb.import(tsv(["T1", "200", "Ada", "Lovelace"]), {
    table: "teachers",
    fields: ["TeacherNumber", "SchoolID", "First_Name", "Last_Name"],
  });
  assert.deepEqual(codes(report), [[1, "SchoolID", "wrong_school"]]);
  assert.match(report.errors[0]!.message, /SchoolID 200 is not this record's school \(100\)/);
  const district = await sb.import(
    tsv(["T1", "200", "Ada", "Lovelace"], ["T1", "100", "Ada", "Lovelace"]),
    {
      table: "teachers",
      fields: ["TeacherNumber", "SchoolID", "First_Name", "Last_Name"],
      school: 0,
    },
  );
  assert.equal(district.report.counts["inserted"], 2, JSON.stringify(district.report));
  assert.deepEqual(
    (await sb.sis("teachers")).map((t) => [t["TeacherNumber"], t["SchoolID"], t["Status"]]),
    [
      ["T1", 100, 1],
      ["T1", 200, 1],
    ],
  );
});

Deno.test("a student active at another school is enrolled_elsewhere; the District Office moves them and keeps the old enrollment", async () => {
  await using sb = await Sandbox.create();
  await sb.import(tsv(["1001", "José", "García", "3", usDay(-90)]), {
    table: "students",
    fields: STUDENT_FIELDS,
    school: 200,
  });
  const at100 = await sb.import(tsv(["1001", "José", "García", "3", usDay(-5)]), {
    table: "students",
    fields: STUDENT_FIELDS,
    updateExisting: true,
  });
  assert.deepEqual(codes(at100.report), [[1, "SchoolID", "enrolled_elsewhere"]]);
  assert.equal((await sb.row("students", "Student_Number", 1001))?.["SchoolID"], 200);
  const moved = await sb.import(tsv(["1001", "100", "José", "García", "3", usDay(-5)]), {
    table: "students",
    fields: ["Student_Number", "SchoolID", "First_Name", "Last_Name", "Grade_Level", "EntryDate"],
    school: 0,
    updateExisting: true,
  });
  assert.equal(moved.report.counts["updated"], 1, JSON.stringify(moved.report));
  const s = await sb.row("students", "Student_Number", 1001);
  assert.deepEqual([s?.["SchoolID"], s?.["EntryDate"], s?.["Enroll_Status"]], [100, isoDay(-5), 0]);
  const history = await sb.query(
    "SELECT schoolid, entrydate, exitdate FROM reenrollments WHERE student_number = 1001",
  );
  assert.deepEqual(history, [{ schoolid: 200, entrydate: isoDay(-90), exitdate: isoDay(-5) }]);
});

Deno.test("a new student in District Office context needs a SchoolID", async () => {
  await using sb = await Sandbox.create();
  const { report } = await sb.import(tsv(["1001", "José", "García", "3", usDay(-5)]), {
    table: "students",
    fields: STUDENT_FIELDS,
    school: 0,
  });
  assert.deepEqual(codes(report), [[1, "SchoolID", "missing_required"]]);
});

Deno.test("extension fields import in both spellings and update like core fields", async () => {
  await using sb = await Sandbox.create();
  const fields = [
    ...STUDENT_FIELDS,
    "U_StudentsUserFields.homeroom_number",
    "[U_StudentsUserFields].[email]",
  ];
  await sb.import(tsv(["1001", "José", "García", "3", usDay(-5), "3A", "jose@example.org"]), {
    table: "students",
    fields,
  });
  let s = await sb.row("students", "Student_Number", 1001);
  assert.deepEqual(
    [s?.["U_StudentsUserFields.homeroom_number"], s?.["U_StudentsUserFields.email"]],
    ["3A", "jose@example.org"],
  );
  const again = await sb.import(
    tsv(["1001", "José", "García", "3", usDay(-5), "3B", "jose@example.org"]),
    {
      table: "students",
      fields,
      updateExisting: true,
    },
  );
  assert.equal(again.report.counts["updated"], 1, JSON.stringify(again.report));
  s = await sb.row("students", "Student_Number", 1001);
  assert.equal(s?.["U_StudentsUserFields.homeroom_number"], "3B");
  const same = await sb.import(
    tsv(["1001", "José", "García", "3", usDay(-5), "3B", "jose@example.org"]),
    {
      table: "students",
      fields,
      updateExisting: true,
    },
  );
  assert.equal(same.report.counts["unchanged"], 1);
});

Deno.test("Mark inactive: a student whose exit date has come is transferred out and their schedules dropped", async () => {
  await using sb = await Sandbox.create();
  await seedSchool(sb);
  await sb.import(tsv(["1001", "3600", "MATH", "1", usDay(-80)]), {
    table: "schedules",
    fields: ["Student_Number", "TermID", "Course_Number", "Section_Number", "DateEnrolled"],
  });
  const { report } = await sb.import(
    tsv(["1001", "José", "García", "3", usDay(-90), usDay(0)], [
      "1002",
      "Zoë",
      "Brontë",
      "3",
      usDay(-90),
      usDay(30),
    ]),
    {
      table: "students",
      fields: [...STUDENT_FIELDS, "ExitDate"],
      updateExisting: true,
      inactivateExited: true,
    },
  );
  assert.equal(report.counts["inactivated"], 1, JSON.stringify(report));
  assert.equal((await sb.row("students", "Student_Number", 1001))?.["Enroll_Status"], 2);
  assert.equal((await sb.row("students", "Student_Number", 1002))?.["Enroll_Status"], 0);
  const cc = await sb.row("schedules", "Student_Number", 1001);
  assert.deepEqual([cc?.["Dropped"], cc?.["DateLeft"]], [1, isoDay(0)]);
});

Deno.test("teachers are keyed per school and a new one is current", async () => {
  await using sb = await Sandbox.create();
  await sb.import(tsv(["T1", "Ada", "Lovelace"]), { table: "teachers", fields: TEACHER_FIELDS });
  await sb.import(tsv(["T1", "Ada", "Lovelace"]), {
    table: "teachers",
    fields: TEACHER_FIELDS,
    school: 200,
  });
  assert.deepEqual((await sb.sis("teachers")).map((t) => [t["SchoolID"], t["Status"]]), [[100, 1], [
    200,
    1,
  ]]);
});

Deno.test("a course goes to the district catalog and is offered at the importing school", async () => {
  await using sb = await Sandbox.create();
  await sb.import(tsv(["MATH", "Mathematics"]), {
    table: "courses",
    fields: ["Course_Number", "Course_Name"],
  });
  const { report } = await sb.import(tsv(["MATH", "Mathematics"]), {
    table: "courses",
    fields: ["Course_Number", "Course_Name"],
    school: 200,
  });
  assert.equal(
    report.counts["updated"],
    1,
    "offering an existing course at another school is an update",
  );
  assert.deepEqual(
    (await sb.sis("courses")).map((c) => [c["SchoolID"], c["Course_Number"], c["Offered"]]),
    [
      [100, "MATH", 1],
      [200, "MATH", 1],
    ],
  );
  assert.equal((await sb.query("SELECT count(*) AS n FROM courses"))[0]!["n"], 1);
});

Deno.test("a section's expression is stored with its meetings; a bad expression and missing references are row errors", async () => {
  await using sb = await Sandbox.create();
  await seedSchool(sb);
  const fields = ["TermID", "Course_Number", "Section_Number", "Expression", "Teacher"];
  const { report } = await sb.import(
    tsv(
      ["3600", "ELA", "2", "1-2(A) 3(B-C)", "T2"],
      ["3600", "ELA", "3", "9(A)", "T2"],
      ["3600", "ART", "1", "1(A)", "T2"],
      ["3999", "ELA", "4", "1(A)", "T2"],
      ["3600", "ELA", "5", "1(A)", "T9"],
    ),
    { table: "sections", fields },
  );
  assert.deepEqual(codes(report), [
    [2, "Expression", "bad_expression"],
    [3, "Course_Number", "missing_reference"],
    [4, "TermID", "missing_reference"],
    [5, "Teacher", "missing_reference"],
  ]);
  assert.match(report.errors[0]!.message, /no period 9/);
  const meetings = await sb.query(
    `SELECT m.period, m.day FROM section_meetings m JOIN sections s ON s.id = m.section_id
     WHERE s.course_number = 'ELA' AND s.section_number = '2' ORDER BY m.period, m.day`,
  );
  assert.deepEqual(meetings.map((m) => `${m["period"]}${m["day"]}`), ["1A", "2A", "3B", "3C"]);
  assert.equal(
    (await sb.sis("sections")).find((s) => s["Section_Number"] === "2")?.["Expression"],
    "1-2(A) 3(B-C)",
  );
});

Deno.test("a section's meetings follow its expression: a changed one replaces them, an unchanged row keeps them", async () => {
  await using sb = await Sandbox.create();
  await seedSchool(sb);
  const fields = ["TermID", "Course_Number", "Section_Number", "Expression", "Teacher"];
  const meetingsOf = async () =>
    Object.fromEntries(
      (await sb.query(
        "SELECT section_number, meetings FROM sections WHERE section_number IN ('7', '8') ORDER BY section_number",
      ))
        .map((r) => [String(r["section_number"]), r["meetings"]]),
    );
  await sb.import(
    tsv(["3600", "ELA", "7", "3(C) 1(B-C)", "T2"], ["3600", "ELA", "8", "2(A)", "T2"]),
    {
      table: "sections",
      fields,
    },
  );
  // Each period's days, in the school's order whatever the expression's.
  assert.deepEqual(await meetingsOf(), { "7": '{"1":["B","C"],"3":["C"]}', "8": '{"2":["A"]}' });
  const { report } = await sb.import(
    tsv(["3600", "ELA", "7", "4(A)", "T2"], ["3600", "ELA", "8", "2(A)", "T2"]),
    { table: "sections", fields, updateExisting: true },
  );
  assert.deepEqual([report.counts["updated"], report.counts["unchanged"]], [1, 1]);
  assert.deepEqual(await meetingsOf(), { "7": '{"4":["A"]}', "8": '{"2":["A"]}' });
  const rows = await sb.query(
    "SELECT s.section_number, m.period, m.day FROM section_meetings m JOIN sections s ON s.id = m.section_id WHERE s.section_number IN ('7', '8') ORDER BY 1, 2, 3",
  );
  assert.deepEqual(rows.map((r) => Object.values(r).join("")), ["74A", "82A"]);
});

Deno.test("a schedule row needs its student and section; DateLeft defaults after the term and a past DateLeft is dropped", async () => {
  await using sb = await Sandbox.create();
  await seedSchool(sb);
  const fields = [
    "Student_Number",
    "TermID",
    "Course_Number",
    "Section_Number",
    "DateEnrolled",
    "DateLeft",
  ];
  const { report } = await sb.import(
    tsv(
      ["1001", "3600", "MATH", "1", usDay(-80), ""],
      ["1002", "3600", "MATH", "1", usDay(-80), usDay(-1)],
      ["9999", "3600", "MATH", "1", usDay(-80), ""],
      ["1003", "3600", "MATH", "7", usDay(-80), ""],
      ["1003", "3600", "ELA", "1", usDay(-80), usDay(-85)],
    ),
    { table: "schedules", fields },
  );
  assert.deepEqual(codes(report), [
    [3, "Student_Number", "missing_reference"],
    [4, "Section_Number", "missing_reference"],
    [5, "DateLeft", "bad_date"],
  ]);
  assert.equal(report.counts["inserted"], 2);
  assert.equal(report.counts["inactivated"], 1);
  const rows = await sb.sis("schedules");
  const r1 = rows.find((r) => r["Student_Number"] === 1001);
  const r2 = rows.find((r) => r["Student_Number"] === 1002);
  assert.deepEqual([r1?.["DateLeft"], r1?.["Dropped"]], [isoDay(201), 0]);
  assert.deepEqual([r2?.["DateLeft"], r2?.["Dropped"]], [isoDay(-1), 1]);
});

Deno.test("daily attendance takes a code by id or by text and checks both", async () => {
  await using sb = await Sandbox.create();
  await seedSchool(sb);
  const { report } = await sb.import(
    tsv(
      ["1001", usDay(-1), "11", ""],
      ["1002", usDay(-1), "", "t"],
      ["1003", usDay(-1), "99", ""],
      ["9999", usDay(-1), "11", ""],
      ["1001", usDay(-2), "10", "A"],
      ["1002", usDay(-2), "", ""],
    ),
    {
      table: "attendance",
      fields: ["Student_Number", "Att_Date", "Attendance_CodeID", "Att_Code"],
    },
  );
  assert.deepEqual(codes(report), [
    [3, "Attendance_CodeID", "missing_reference"],
    [4, "Student_Number", "missing_reference"],
    [5, "Att_Code", "code_mismatch"],
    [6, "Attendance_CodeID", "missing_required"],
  ]);
  const rows = await sb.sis("attendance");
  assert.deepEqual(
    rows.map((r) => [r["Student_Number"], r["Attendance_CodeID"], r["Att_Code"], r["Mode"]]),
    [
      [1001, 11, "A", "daily"],
      [1002, 12, "T", "daily"],
    ],
  );
});

Deno.test("meeting attendance needs the student's enrollment in the section that day and one of its periods", async () => {
  await using sb = await Sandbox.create();
  const teachers = await sb.import(tsv(["T1", "Ada", "Lovelace"]), {
    table: "teachers",
    fields: TEACHER_FIELDS,
    school: 200,
  });
  assert.equal(teachers.report.status, "succeeded");
  await sb.import(tsv(["BIO", "Biology"]), {
    table: "courses",
    fields: ["Course_Number", "Course_Name"],
    school: 200,
  });
  await sb.import(tsv(["3600", "BIO", "1", "1-2(M,W,F)", "T1"]), {
    table: "sections",
    fields: ["TermID", "Course_Number", "Section_Number", "Expression", "Teacher"],
    school: 200,
  });
  await sb.import(
    tsv(["2001", "Ana", "Ruiz", "10", usDay(-90)], ["2002", "Ben", "Ng", "10", usDay(-90)]),
    {
      table: "students",
      fields: STUDENT_FIELDS,
      school: 200,
    },
  );
  await sb.import(tsv(["2001", "3600", "BIO", "1", usDay(-30)]), {
    table: "schedules",
    fields: ["Student_Number", "TermID", "Course_Number", "Section_Number", "DateEnrolled"],
    school: 200,
  });
  const fields = [
    "Student_Number",
    "Att_Date",
    "Course_Number",
    "Section_Number",
    "Att_Code",
    "Period",
  ];
  const { report } = await sb.import(
    tsv(
      ["2001", usDay(-1), "BIO", "1", "A", "2"],
      ["2002", usDay(-1), "BIO", "1", "A", "1"],
      ["2001", usDay(-40), "BIO", "1", "A", "1"],
      ["2001", usDay(-2), "BIO", "1", "T", "HR"],
      ["2001", usDay(-3), "BIO", "9", "T", ""],
    ),
    { table: "attendance", fields, attendanceMode: "meeting", school: 200 },
  );
  assert.deepEqual(codes(report), [
    [2, "Section_Number", "not_enrolled"],
    [3, "Section_Number", "not_enrolled"],
    [4, "Period", "bad_period"],
    [5, "Section_Number", "missing_reference"],
  ]);
  assert.deepEqual(
    (await sb.sis("attendance", 200)).map((
      r,
    ) => [r["Student_Number"], r["Course_Number"], r["Period"], r["Mode"]]),
    [
      [2001, "BIO", "2", "meeting"],
    ],
  );
});

Deno.test("an attendance mode the school does not record is refused", async () => {
  await using sb = await Sandbox.create();
  const file = await sb.write("a.txt", "1\n");
  const result = await sb.cli([
    "import",
    "--table",
    "attendance",
    "--attendance-mode",
    "meeting",
    "--fields",
    "Student_Number,Att_Date,Course_Number,Section_Number,Att_Code",
    "--school",
    "100",
    file,
  ]);
  assert.equal(result.code, 64);
  assert.match(result.stderr, /records attendance by daily only/);
});

Deno.test("row errors never repeat the values of personal fields", async () => {
  await using sb = await Sandbox.create();
  const secret = "Zebediah-Secretname";
  const { report } = await sb.import(
    tsv([
      "1001",
      secret + "x".repeat(40),
      "García",
      "3",
      usDay(-5),
      "31/31/2010",
      "not-a-phone-but-secret-" + secret,
    ]),
    { table: "students", fields: [...STUDENT_FIELDS, "DOB", "Home_Phone"] },
  );
  assert.ok(report.errors.length >= 2);
  assert.ok(!JSON.stringify(report).includes("Zebediah"), JSON.stringify(report));
  assert.ok(!JSON.stringify(report).includes("31/31/2010"));
});

Deno.test("a personal date written in a free form never appears in an error, note, report, mail or log", async () => {
  // The slash and dash forms fail in their own branches of the date reader; these
  // reach its last message, which must not repeat the cell either.
  const FREE_FORMS = ["March 4 2015", "4 March 2015", "Mar. 4, 2015", "2015/03/04", "3.4.2015"];
  const leaked = (text: string) =>
    FREE_FORMS.filter((v) => text.includes(v)).concat(/March|Mar\./.test(text) ? ["March"] : []);
  await using smtp = await startSmtpServer();
  await using sb = await Sandbox.create({
    env: { SMTP_URL: smtp.url, AUTOCOMM_LOG_LEVEL: "debug" },
  });
  const fields = [...STUDENT_FIELDS, "DOB"];
  const rows = FREE_FORMS.map((dob, i) => [`${1001 + i}`, "Ann", "Lee", "3", usDay(-5), dob]);
  const content = tsv(["1000", "Bo", "Ng", "3", usDay(-5), "03/04/2015"], ...rows);

  // A one-off import: its report, its output and its log (its import process's too).
  const file = await sb.write("free-form.txt", content);
  const imported = await sb.cli(importArgs(file, { table: "students", fields }));
  const report = JSON.parse(imported.stdout);
  assert.equal(report.status, "succeeded_with_errors", imported.stdout + imported.stderr);
  assert.deepEqual(
    report.errors.map((e: { line: number; field: string; code: string }) => [
      e.line,
      e.field,
      e.code,
    ]),
    FREE_FORMS.map((_, i) => [i + 2, "DOB", "bad_date"]),
  );
  assert.deepEqual(leaked(imported.stdout), [], imported.stdout);
  assert.deepEqual(leaked(imported.stderr), [], imported.stderr);
  const shown = await sb.ok(["runs", "show", String(report.runId)]);
  assert.match(shown.stdout, /bad_date/);
  assert.deepEqual(leaked(shown.stdout + shown.stderr), [], shown.stdout);
  const stored = await sb.query(
    `SELECT message FROM runs UNION ALL SELECT message FROM run_errors
     UNION ALL SELECT message FROM run_notes UNION ALL SELECT changes FROM run_changes`,
  );
  assert.deepEqual(leaked(JSON.stringify(stored)), [], JSON.stringify(stored));

  // A stored record's run mails its completion report; the command logs the run.
  await sb.write("students.txt", content);
  const database = await openDatabase(loadConfig({ env: sb.env }));
  let recordId: number;
  try {
    const [record] = await createRecord(database.db, {
      schoolId: 100,
      name: "Students with dates",
      table: "students",
      hour: 2,
      minute: 30,
      days: "MTWHF",
      path: "students.txt",
      fieldDelimiter: "tab",
      recordDelimiter: "LF",
      charset: "utf-8",
      updateExisting: true,
      fields,
      emailTo: "office@example.org",
      minFileAgeSeconds: 0,
    });
    recordId = record!.id;
  } finally {
    database.close();
  }
  const ran = await sb.cli(["run", String(recordId), "--json"]);
  assert.equal(ran.code, 0, ran.stdout + ran.stderr);
  assert.equal(JSON.parse(ran.stdout).errors.length, FREE_FORMS.length, ran.stdout);
  const [mail] = await smtp.waitFor(1);
  assert.match(mail!.text ?? "", /Line 2, DOB \[bad_date\]/);
  for (const part of [mail!.subject ?? "", mail!.text ?? "", String(mail!.html)]) {
    assert.deepEqual(leaked(part), [], part);
  }
  assert.match(ran.stderr, /"event":"report_sent"/);
  assert.deepEqual(leaked(ran.stdout), [], ran.stdout);
  assert.deepEqual(leaked(ran.stderr), [], ran.stderr);

  // Without SMTP_URL the completion report goes to the log instead.
  const { SMTP_URL: _, ...noSmtp } = sb.env;
  const logged = await runCli(["run", String(recordId), "--json"], noSmtp);
  assert.equal(logged.code, 0, logged.stdout + logged.stderr);
  assert.match(logged.stderr, /"event":"mail_not_sent".*Line 2, DOB \[bad_date\]/);
  assert.deepEqual(leaked(logged.stdout), [], logged.stdout);
  assert.deepEqual(leaked(logged.stderr), [], logged.stderr);
});

Deno.test("a mapped Enroll_Status or Status is written on update", async () => {
  await using sb = await Sandbox.create();
  const fields = [...STUDENT_FIELDS, "Enroll_Status"];
  await sb.import(tsv(["1001", "José", "García", "3", usDay(-10), "0"]), {
    table: "students",
    fields,
  });
  const { report } = await sb.import(tsv(["1001", "José", "García", "3", usDay(-10), "3"]), {
    table: "students",
    fields,
    updateExisting: true,
  });
  assert.equal(report.counts["updated"], 1, JSON.stringify(report));
  assert.equal((await sb.row("students", "Student_Number", 1001))?.["Enroll_Status"], 3);
  const tf = [...TEACHER_FIELDS, "Status"];
  await sb.import(tsv(["T1", "Ada", "Lovelace", "1"]), { table: "teachers", fields: tf });
  await sb.import(tsv(["T1", "Ada", "Lovelace", "2"]), {
    table: "teachers",
    fields: tf,
    updateExisting: true,
  });
  assert.equal((await sb.row("teachers", "TeacherNumber", "T1"))?.["Status"], 2);
});

Deno.test("with Update existing off a returning record is reactivated and nothing else changes", async () => {
  await using sb = await Sandbox.create();
  const teachers = (...rows: string[][]) => tsv(...rows);
  const all = [1, 2, 3, 4].map((n) => [`T${n}`, `First${n}`, `Last${n}`]);
  await sb.import(teachers(...all), { table: "teachers", fields: TEACHER_FIELDS });
  await sb.import(teachers(...all.slice(0, 3)), {
    table: "teachers",
    fields: TEACHER_FIELDS,
    synchronize: true,
    removalLimit: 100,
  });
  assert.equal((await sb.row("teachers", "TeacherNumber", "T4"))?.["Status"], 2);
  const { report } = await sb.import(teachers(...all.slice(0, 3), ["T4", "Renamed", "Person"]), {
    table: "teachers",
    fields: TEACHER_FIELDS,
  });
  assert.equal(report.counts["updated"], 1, JSON.stringify(report));
  const t4 = await sb.row("teachers", "TeacherNumber", "T4");
  assert.deepEqual([t4?.["Status"], t4?.["First_Name"]], [1, "First4"]);
});
