import assert from "node:assert/strict";
import { csvCell } from "../../src/pipeline/report.ts";
import { namedKey } from "../../src/pipeline/service.ts";
import { coreCatalog } from "../../src/sis/catalog.ts";
import { Sandbox, TEACHER_FIELDS, tsv } from "../support/sandbox.ts";

Deno.test("CSV cells that a spreadsheet would run as formulas are neutralised", () => {
  assert.equal(csvCell("=1+2"), "'=1+2");
  assert.equal(csvCell("+44 20"), "'+44 20");
  assert.equal(csvCell("-5"), "'-5");
  assert.equal(csvCell("@SUM(A1)"), "'@SUM(A1)");
  assert.equal(csvCell("\tx"), "'\tx");
  assert.equal(csvCell("\rx"), '"\'\rx"');
  assert.equal(csvCell('say "hi", then'), '"say ""hi"", then"');
  assert.equal(csvCell(null), "");
  assert.equal(csvCell(42), "42");
});

Deno.test("the rejected rows download as CSV, one line per error, under the record's field names", async () => {
  await using sb = await Sandbox.create();
  const { report } = await sb.import(
    tsv(["T1", "Ada", "Lovelace"], ["T2", '=HYPERLINK("x")', ""], ["T1", "Dup", "Row"], [
      "T".repeat(21),
      "Al",
      "Long",
    ]),
    { table: "teachers", fields: TEACHER_FIELDS },
  );
  assert.equal(report.counts["rejected"], 4);
  const csv = (await sb.ok(["runs", "show", String(report.runId), "--csv"])).stdout;
  const lines = csv.trim().split("\r\n");
  assert.equal(lines[0], "line,field,code,message,TeacherNumber,First_Name,Last_Name");
  assert.match(lines[1]!, /^1,TeacherNumber,duplicate_key,"[^"]*lines 1, 3[^"]*",T1,Ada,Lovelace$/);
  assert.match(
    lines[2]!,
    /^2,Last_Name,missing_required,Last_Name: required to create a new teacher,T2,"'=HYPERLINK\(""x""\)",$/,
  );
  assert.match(lines[3]!, /^3,TeacherNumber,duplicate_key,"[^"]*",T1,Dup,Row$/);
  assert.match(lines[4]!, /^4,TeacherNumber,too_long,"?[^"]*"?,T{21},Al,Long$/);
});

Deno.test("stored change-log keys are named by the table's catalog key", () => {
  assert.equal(
    namedKey('[1000001,100,3600,"ART3117","3"]', coreCatalog("schedules").key),
    '{"Student_Number":1000001,"SchoolID":100,"TermID":3600,"Course_Number":"ART3117","Section_Number":"3"}',
  );
  assert.equal(
    namedKey('[5,100,"2026-09-01","MATH1","2"]', coreCatalog("attendance", "meeting").key),
    '{"Student_Number":5,"SchoolID":100,"Att_Date":"2026-09-01","Course_Number":"MATH1","Section_Number":"2"}',
  );
  // Entries written before keys were stored as arrays read as they are.
  assert.equal(namedKey('{"Student_Number":5}', ["Student_Number"]), '{"Student_Number":5}');
});
