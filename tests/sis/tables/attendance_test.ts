import assert from "node:assert/strict";
import { ATTENDANCE } from "../../../src/sis/tables/attendance.ts";
import { tableRules } from "../../../src/sis/tables/registry.ts";
import { activeIds, keyField, keyValue, remove, rulesDatabase, sqlContext } from "./rules_db.ts";

Deno.test("the registry gives the attendance rules, one table for both modes", () => {
  assert.equal(tableRules("attendance"), ATTENDANCE);
  assert.equal(ATTENDANCE.hasModes, true);
  assert.deepEqual(ATTENDANCE.catalog("daily").key, ["Student_Number", "SchoolID", "Att_Date"]);
  assert.deepEqual(ATTENDANCE.catalog("meeting").key, [
    "Student_Number",
    "SchoolID",
    "Att_Date",
    "Course_Number",
    "Section_Number",
  ]);
  // The mode is part of the SIS key; a daily row has empty section numbers.
  assert.deepEqual(ATTENDANCE.fixedKeys?.("daily"), {
    before: [{ column: "mode", expr: "'daily'" }],
    after: [{ column: "course_number", expr: "''" }, { column: "section_number", expr: "''" }],
  });
  assert.deepEqual(ATTENDANCE.fixedKeys?.("meeting").after, []);
});

Deno.test("an attendance date compares as the day it names, whatever its spelling", () => {
  const f = keyField(ATTENDANCE, "Att_Date");
  assert.equal(f.key, "date");
  assert.equal(keyValue(f, "01/02/2026"), "2026-01-02");
  assert.equal(keyValue(f, "1/2/2026"), "2026-01-02");
  assert.equal(keyValue(f, "2026-01-02"), "2026-01-02");
});

Deno.test("the attendance in scope is the mode's rows of the school on the dates of the file", async () => {
  await using db = await rulesDatabase();
  await db.run(
    `INSERT INTO attendance (id, mode, student_number, schoolid, att_date, course_number, section_number) VALUES
       (1, 'daily', 1001, 100, '2026-01-05', '', ''),
       (2, 'daily', 1001, 100, '2026-01-06', '', ''),
       (3, 'meeting', 1001, 100, '2026-01-05', 'M1', '1'),
       (4, 'daily', 1002, 200, '2026-01-05', '', '')`,
  );
  assert.deepEqual(await activeIds(db, ATTENDANCE, sqlContext({ scope: ["2026-01-05"] })), [1]);
  assert.deepEqual(
    await activeIds(db, ATTENDANCE, sqlContext({ scope: ["2026-01-05"], mode: "meeting" })),
    [3],
  );
});

Deno.test("removing attendance deletes the rows", async () => {
  await using db = await rulesDatabase();
  await db.run(
    `INSERT INTO attendance (id, mode, student_number, schoolid, att_date, course_number, section_number) VALUES
       (1, 'daily', 1001, 100, '2026-01-05', '', ''), (2, 'daily', 1002, 100, '2026-01-05', '', '')`,
  );
  assert.equal(await remove(db, ATTENDANCE, [1], sqlContext({ scope: ["2026-01-05"] })), 1);
  assert.deepEqual(await db.column("SELECT id FROM attendance"), [2]);
});
