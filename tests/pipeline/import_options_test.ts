/**
 * Every file option of an AutoComm record, through the real CLI import (which
 * executes the run in its own process): delimiters, record ends, character sets, the record count
 * line, headers, blank lines, short rows and value formats. Every file-level
 * rejection checks that the database did not change.
 */
import assert from "node:assert/strict";
import { Sandbox, STUDENT_FIELDS, TEACHER_FIELDS, tsv, usDay } from "../support/sandbox.ts";

const bytes = (...parts: (string | number[])[]) => {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === "string") out.push(...new TextEncoder().encode(p));
    else out.push(...p);
  }
  return new Uint8Array(out);
};

/** Imports `content` expecting a file-level rejection that changes nothing. */
async function expectRejected(
  sb: Sandbox,
  content: string | Uint8Array,
  options: Parameters<Sandbox["import"]>[1],
  message: RegExp,
) {
  const before = await sb.checksum();
  const { code, report } = await sb.import(content, options);
  assert.equal(report.status, "rejected", JSON.stringify(report));
  assert.equal(code, 2);
  assert.match(report.message ?? "", message);
  assert.equal(await sb.checksum(), before, "a rejected file changed the database");
  return report;
}

Deno.test("a comma file reads quoted fields, doubled quotes and a quoted stretch inside a field", async () => {
  await using sb = await Sandbox.create();
  const { report } = await sb.import(
    'T1,"Lovelace, Ada","Teacher ""A"""\nT2,Turing,Suite"," 4\n',
    { table: "teachers", fields: ["TeacherNumber", "Last_Name", "Title"], fieldDelimiter: "comma" },
  );
  assert.equal(report.status, "succeeded_with_errors", JSON.stringify(report));
  // First_Name is required to create a teacher; the file has no First_Name column.
  assert.deepEqual(report.errors.map((e) => [e.line, e.field, e.code]), [
    [1, "First_Name", "missing_required"],
    [2, "First_Name", "missing_required"],
  ]);
  const ok = await sb.import(
    'T1,Ada,"Lovelace, Ada","Teacher ""A"""\nT2,Alan,Turing,Suite"," 4\n',
    {
      table: "teachers",
      fields: ["TeacherNumber", "First_Name", "Last_Name", "Title"],
      fieldDelimiter: "comma",
    },
  );
  assert.equal(ok.report.status, "succeeded", JSON.stringify(ok.report));
  assert.equal((await sb.row("teachers", "TeacherNumber", "T1"))?.["Title"], 'Teacher "A"');
  assert.equal((await sb.row("teachers", "TeacherNumber", "T2"))?.["Title"], "Suite, 4");
});

Deno.test("a tab file keeps a quote that is not at the start of a field", async () => {
  await using sb = await Sandbox.create();
  const { report } = await sb.import(
    tsv(["T1", "Ada", "Lovelace", `5'10"`], ["T2", "Alan", "Turing", '"Head, Math"']),
    {
      table: "teachers",
      fields: [...TEACHER_FIELDS, "Title"],
    },
  );
  assert.equal(report.status, "succeeded", JSON.stringify(report));
  assert.equal((await sb.row("teachers", "TeacherNumber", "T1"))?.["Title"], `5'10"`);
  assert.equal((await sb.row("teachers", "TeacherNumber", "T2"))?.["Title"], "Head, Math");
});

Deno.test("an unclosed quote rejects the file with its line and column", async () => {
  await using sb = await Sandbox.create();
  await expectRejected(
    sb,
    'T1,Ada,Lovelace\nT2,"Alan,Turing\nT3,Grace,Hopper\n',
    { table: "teachers", fields: TEACHER_FIELDS, fieldDelimiter: "comma" },
    /line 2.*column 4/,
  );
});

for (
  const [setting, content, note] of [
    ["LF", "T1\tAda\tLovelace\r\nT2\tAlan\tTuring\r\n", /CRLF/],
    ["CRLF", "T1\tAda\tLovelace\nT2\tAlan\tTuring\n", /LF/],
    ["CR", "T1\tAda\tLovelace\rT2\tAlan\tTuring\r", null],
  ] as const
) {
  Deno.test(`a file is read with the record delimiter ${setting}${note ? " and the other line end noted" : ""}`, async () => {
    await using sb = await Sandbox.create();
    const { report } = await sb.import(content, {
      table: "teachers",
      fields: TEACHER_FIELDS,
      recordDelimiter: setting,
    });
    assert.equal(report.status, "succeeded", JSON.stringify(report));
    assert.equal(report.counts["inserted"], 2);
    if (note) {
      assert.ok(
        report.notes.some((n) => n.code === "record_delimiter_mismatch" && note.test(n.message)),
      );
    }
    assert.equal((await sb.row("teachers", "TeacherNumber", "T2"))?.["Last_Name"], "Turing");
  });
}

Deno.test("a file whose line ends never match the setting is rejected naming the one found", async () => {
  await using sb = await Sandbox.create();
  await expectRejected(sb, "T1\tAda\tLovelace\rT2\tAlan\tTuring\r", {
    table: "teachers",
    fields: TEACHER_FIELDS,
    recordDelimiter: "LF",
  }, /CR/);
  await expectRejected(sb, "T1\tAda\tLovelace\nT2\tAlan\tTuring\n", {
    table: "teachers",
    fields: TEACHER_FIELDS,
    recordDelimiter: "CR",
  }, /LF/);
});

Deno.test("Windows ANSI, Mac Roman and ISO 8859-1 files decode to the right letters", async () => {
  await using sb = await Sandbox.create();
  // "Zoë Brontë" and "José" with Title "Café – Señor"
  const cp1252 = bytes("T1\tZo", [0xeb], "\tBront", [0xeb], "\tCaf", [0xe9], " ", [0x96], " Se", [
    0xf1,
  ], "or\n");
  let r = await sb.import(cp1252, {
    table: "teachers",
    fields: [...TEACHER_FIELDS, "Title"],
    charset: "windows-1252",
  });
  assert.equal(r.report.status, "succeeded", JSON.stringify(r.report));
  assert.deepEqual(
    [
      (await sb.row("teachers", "TeacherNumber", "T1"))?.["First_Name"],
      (await sb.row("teachers", "TeacherNumber", "T1"))?.["Title"],
    ],
    ["Zoë", "Café – Señor"],
  );
  const macRoman = bytes("T2\tJos", [0x8e], "\tM", [0x9f], "ller\t", [0xdb], "5\n");
  r = await sb.import(macRoman, {
    table: "teachers",
    fields: [...TEACHER_FIELDS, "Title"],
    charset: "macintosh",
  });
  assert.equal(r.report.status, "succeeded", JSON.stringify(r.report));
  const t2 = await sb.row("teachers", "TeacherNumber", "T2");
  assert.deepEqual([t2?.["First_Name"], t2?.["Last_Name"], t2?.["Title"]], [
    "José",
    "Müller",
    "€5",
  ]);
  // Real ISO 8859-1: 0x96 is the control character U+0096, not an en dash.
  const latin1 = bytes("T3\tRen", [0xe9], "\tX\ta", [0x96], "b\n");
  r = await sb.import(latin1, {
    table: "teachers",
    fields: [...TEACHER_FIELDS, "Title"],
    charset: "iso-8859-1",
  });
  assert.equal(r.report.status, "succeeded", JSON.stringify(r.report));
  const t3 = await sb.row("teachers", "TeacherNumber", "T3");
  assert.deepEqual([t3?.["First_Name"], t3?.["Title"]], ["René", "a\u0096b"]);
});

Deno.test("a UTF-8 byte-order mark is removed before the first field", async () => {
  await using sb = await Sandbox.create();
  const { report } = await sb.import(bytes([0xef, 0xbb, 0xbf], "T1\tAda\tLovelace\n"), {
    table: "teachers",
    fields: TEACHER_FIELDS,
  });
  assert.equal(report.status, "succeeded", JSON.stringify(report));
  assert.ok(await sb.row("teachers", "TeacherNumber", "T1"));
});

Deno.test("an invalid UTF-8 byte rejects the file with its line and byte offset and a Windows ANSI hint", async () => {
  await using sb = await Sandbox.create();
  const report = await expectRejected(
    sb,
    bytes("T1\tAda\tLovelace\nT2\tRen", [0xe9], "\tX\n"),
    { table: "teachers", fields: TEACHER_FIELDS },
    /line 2.*byte offset 22/,
  );
  assert.match(report.message ?? "", /Windows ANSI/);
});

Deno.test("text that looks double-encoded is a warning in the report", async () => {
  await using sb = await Sandbox.create();
  const { report } = await sb.import("T1\tJosÃ©\tGarcÃ­a\n", {
    table: "teachers",
    fields: TEACHER_FIELDS,
  });
  assert.equal(report.status, "succeeded");
  assert.ok(report.notes.some((n) => n.code === "double_encoded"));
  assert.ok(!JSON.stringify(report.notes).includes("GarcÃ"), "the note must not repeat the value");
});

Deno.test("number_of_records= is checked when the option is on", async () => {
  await using sb = await Sandbox.create();
  const good = await sb.import("number_of_records=2\nT1\tAda\tLovelace\nT2\tAlan\tTuring\n", {
    table: "teachers",
    fields: TEACHER_FIELDS,
    expectRecordCount: true,
  });
  assert.equal(good.report.status, "succeeded", JSON.stringify(good.report));
  assert.equal(good.report.counts["read"], 2);
  await expectRejected(sb, "number_of_records=3\nT3\tGrace\tHopper\nT4\tEdsger\tDijkstra\n", {
    table: "teachers",
    fields: TEACHER_FIELDS,
    expectRecordCount: true,
  }, /number_of_records=3.*2 data records/);
  // Fewer declared than the file has: the file may have been appended to or mixed up.
  await expectRejected(sb, "number_of_records=1\nT3\tGrace\tHopper\nT4\tEdsger\tDijkstra\n", {
    table: "teachers",
    fields: TEACHER_FIELDS,
    expectRecordCount: true,
  }, /number_of_records=1.*2 data records/);
  await expectRejected(sb, "T3\tGrace\tHopper\n", {
    table: "teachers",
    fields: TEACHER_FIELDS,
    expectRecordCount: true,
  }, /number_of_records=N/);
});

Deno.test("number_of_records counts rejected data records too", async () => {
  await using sb = await Sandbox.create();
  const { report } = await sb.import("number_of_records=2\nT1\tAda\tLovelace\n\tNo\tKey\n", {
    table: "teachers",
    fields: TEACHER_FIELDS,
    expectRecordCount: true,
  });
  assert.equal(report.status, "succeeded_with_errors", JSON.stringify(report));
  assert.deepEqual(report.errors.map((e) => [e.line, e.field, e.code]), [[
    3,
    "TeacherNumber",
    "required_blank",
  ]]);
});

Deno.test("with the option off a number_of_records line is skipped and noted", async () => {
  await using sb = await Sandbox.create();
  const { report } = await sb.import("number_of_records=5\nT1\tAda\tLovelace\n", {
    table: "teachers",
    fields: TEACHER_FIELDS,
  });
  assert.equal(report.status, "succeeded");
  assert.equal(report.counts["read"], 1);
  assert.ok(report.notes.some((n) => n.code === "record_count_line_skipped"));
});

Deno.test("a header row equal to the field list is skipped and noted; line numbers still count it", async () => {
  await using sb = await Sandbox.create();
  const { report } = await sb.import(
    "teachernumber\tFirst_Name\tLAST_NAME\nT1\tAda\tLovelace\nT2\tAlan\n",
    {
      table: "teachers",
      fields: TEACHER_FIELDS,
    },
  );
  assert.equal(report.counts["read"], 2);
  assert.ok(report.notes.some((n) => n.code === "header_skipped" && n.line === 1));
  assert.deepEqual(report.errors.map((e) => [e.line, e.field, e.code]), [[
    3,
    "Last_Name",
    "missing_required",
  ]]);
});

Deno.test("a header naming catalog fields in another order rejects the file", async () => {
  await using sb = await Sandbox.create();
  await expectRejected(sb, "Last_Name\tFirst_Name\tTeacherNumber\nLovelace\tAda\tT1\n", {
    table: "teachers",
    fields: TEACHER_FIELDS,
  }, /header.*another order/);
});

Deno.test("blank lines are skipped and counted, and line numbers count them", async () => {
  await using sb = await Sandbox.create();
  const { report } = await sb.import("T1\tAda\tLovelace\n\n   \nT2\tAlan\tTuring\nT3\n", {
    table: "teachers",
    fields: TEACHER_FIELDS,
  });
  assert.equal(report.counts["blankLines"], 2);
  assert.equal(report.counts["read"], 3);
  assert.deepEqual(report.errors.map((e) => e.line), [5, 5]);
});

Deno.test("a short row neither writes nor clears the fields it lacks, and is counted", async () => {
  await using sb = await Sandbox.create();
  await sb.import(tsv(["T1", "Ada", "Lovelace", "Teacher"]), {
    table: "teachers",
    fields: [...TEACHER_FIELDS, "Title"],
  });
  const { report } = await sb.import("T1\tAugusta\tLovelace\n", {
    table: "teachers",
    fields: [...TEACHER_FIELDS, "Title"],
    updateExisting: true,
  });
  assert.equal(report.counts["shortRows"], 1);
  assert.equal(report.counts["updated"], 1);
  const t1 = await sb.row("teachers", "TeacherNumber", "T1");
  assert.equal(t1?.["First_Name"], "Augusta");
  assert.equal(t1?.["Title"], "Teacher");
});

Deno.test("extra fields are a row error unless they are all empty", async () => {
  await using sb = await Sandbox.create();
  const { report } = await sb.import("T1\tAda\tLovelace\t\t\nT2\tAlan\tTuring\tx\n", {
    table: "teachers",
    fields: TEACHER_FIELDS,
  });
  assert.equal(report.counts["inserted"], 1);
  assert.deepEqual(report.errors.map((e) => [e.line, e.code]), [[2, "too_many_fields"]]);
  assert.match(report.errors[0]!.message, /expected 3 fields, found 4/);
});

Deno.test("values are trimmed, keys keep leading zeros and numeric keys compare as integers", async () => {
  await using sb = await Sandbox.create();
  await sb.import(tsv(["  007 ", " Ada ", "Lovelace"]), {
    table: "teachers",
    fields: TEACHER_FIELDS,
  });
  assert.equal((await sb.row("teachers", "TeacherNumber", "007"))?.["First_Name"], "Ada");
  await sb.import(tsv(["100", "Ann", "Lee", "3", usDay(-10)]), {
    table: "students",
    fields: STUDENT_FIELDS,
  });
  // `0100` and `100.0` name the existing student 100: updates, never a second student.
  for (const [key, name] of [["0100", "Anne"], ["100.0", "Annie"]] as const) {
    const { report } = await sb.import(tsv([key, name, "Lee", "3", usDay(-10)]), {
      table: "students",
      fields: STUDENT_FIELDS,
      updateExisting: true,
    });
    assert.deepEqual(
      [report.counts["inserted"], report.counts["updated"]],
      [0, 1],
      `${key}: ${JSON.stringify(report)}`,
    );
    assert.equal((await sb.sis("students")).length, 1);
    assert.equal((await sb.row("students", "Student_Number", 100))?.["First_Name"], name);
  }
});

Deno.test("dates, booleans, integers and lengths are checked and never truncated", async () => {
  await using sb = await Sandbox.create();
  const fields = [
    "Student_Number",
    "First_Name",
    "Last_Name",
    "Grade_Level",
    "EntryDate",
    "DOB",
    "Graduation_Year",
  ];
  const { report } = await sb.import(
    tsv(
      ["1", "Ann", "Lee", "3", usDay(-10), "2/29/2016", "2030"],
      ["2", "Bob", "Lee", "3", usDay(-10), "00/00/0000", ""],
      ["3", "Cy", "Lee", "3.0", usDay(-10), "2016-13-01", ""],
      ["4", "Di", "Lee", "three", usDay(-10), "", ""],
      ["5", "E".repeat(51), "Lee", "3", usDay(-10), "", ""],
      ["6", "Fay", "Lee", "3", usDay(-10), "31/12/2016", ""],
    ),
    { table: "students", fields },
  );
  assert.deepEqual(report.errors.map((e) => [e.line, e.field, e.code]), [
    [3, "DOB", "bad_date"],
    [4, "Grade_Level", "bad_integer"],
    [5, "First_Name", "too_long"],
    [6, "DOB", "bad_date"],
  ]);
  assert.equal(report.counts["inserted"], 2);
  assert.equal((await sb.row("students", "Student_Number", 1))?.["DOB"], "2016-02-29");
  assert.equal((await sb.row("students", "Student_Number", 2))?.["DOB"], null);
  assert.match(report.errors[2]!.message, /First_Name: is 51 characters; at most 50 allowed/);
  assert.ok(!JSON.stringify(report).includes("EEEE"), "a personal value appeared in the report");
});

Deno.test("a key longer than its field allows is a row error, never truncated", async () => {
  await using sb = await Sandbox.create();
  const { report } = await sb.import(tsv(["T".repeat(21), "Ada", "Lovelace"]), {
    table: "teachers",
    fields: TEACHER_FIELDS,
  });
  assert.deepEqual(report.errors.map((e) => [e.line, e.field, e.code]), [[
    1,
    "TeacherNumber",
    "too_long",
  ]]);
  assert.equal((await sb.sis("teachers")).length, 0);
});

Deno.test("two rows with the same match key are both rejected", async () => {
  await using sb = await Sandbox.create();
  const { report } = await sb.import(
    tsv(["T1", "Ada", "Lovelace"], ["T2", "Alan", "Turing"], ["T1", "Augusta", "King"]),
    {
      table: "teachers",
      fields: TEACHER_FIELDS,
    },
  );
  assert.deepEqual(report.errors.map((e) => [e.line, e.code]), [[1, "duplicate_key"], [
    3,
    "duplicate_key",
  ]]);
  assert.match(report.errors[0]!.message, /lines 1, 3/);
  assert.deepEqual((await sb.sis("teachers")).map((t) => t["TeacherNumber"]), ["T2"]);
});

Deno.test("a file with no data records ends the run empty and changes nothing", async () => {
  await using sb = await Sandbox.create();
  const before = await sb.checksum();
  const { code, report } = await sb.import("\n\n", { table: "teachers", fields: TEACHER_FIELDS });
  assert.equal(report.status, "empty");
  assert.equal(code, 2);
  assert.equal(await sb.checksum(), before);
});

Deno.test("a missing file ends the run no_file", async () => {
  await using sb = await Sandbox.create();
  const result = await sb.cli([
    "import",
    "--json",
    "--table",
    "teachers",
    "--fields",
    "TeacherNumber,First_Name,Last_Name",
    "--school",
    "100",
    `${sb.data.dir}/nope.txt`,
  ]);
  assert.equal(result.code, 2);
  assert.equal(JSON.parse(result.stdout).status, "no_file");
});

Deno.test("the run records the file's size and SHA-256 and every count", async () => {
  await using sb = await Sandbox.create();
  const content = "T1\tAda\tLovelace\n";
  const { report } = await sb.import(content, { table: "teachers", fields: TEACHER_FIELDS });
  const shown = JSON.parse((await sb.ok(["runs", "show", String(report.runId), "--json"])).stdout);
  assert.equal(shown.runId, report.runId);
  const list = JSON.parse((await sb.ok(["runs", "list", "--json"])).stdout);
  assert.equal(list[0].runId, report.runId);
  assert.equal(list[0].trigger, "cli");
  const digest = Array.from(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(content))),
  )
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  const [row] = await sb.query("SELECT file_size, file_sha256, options FROM runs WHERE id = ?", [
    report.runId,
  ]);
  assert.ok(row);
  assert.equal(Number(row["file_size"]), content.length);
  assert.equal(row["file_sha256"], digest);
  assert.equal(JSON.parse(String(row["options"])).table, "teachers");
  assert.deepEqual(Object.keys(report.counts).sort(), [
    "blankLines",
    "inactivated",
    "inserted",
    "read",
    "rejected",
    "removed",
    "shortRows",
    "skipped",
    "unchanged",
    "updated",
  ]);
});

Deno.test("preview applies nothing and reports what would change", async () => {
  await using sb = await Sandbox.create();
  const before = await sb.checksum();
  const { code, report } = await sb.import(tsv(["T1", "Ada", "Lovelace"], ["T2", "Alan"]), {
    table: "teachers",
    fields: TEACHER_FIELDS,
    preview: true,
  });
  assert.equal(code, 0);
  assert.equal(report.status, "preview");
  assert.equal(report.counts["inserted"], 1);
  assert.equal(report.counts["rejected"], 1);
  assert.equal(await sb.checksum(), before);
  const shown = await sb.ok(["runs", "show", String(report.runId)]);
  assert.match(shown.stdout, /insert \{"TeacherNumber":"T1","SchoolID":100\}/);
});
