import assert from "node:assert/strict";
import { tableRules } from "../../../src/sis/tables/registry.ts";
import { SECTIONS } from "../../../src/sis/tables/sections.ts";
import {
  activeIds,
  keyField,
  keyValue,
  remove,
  rulesDatabase,
  sqlContext,
  TODAY,
} from "./rules_db.ts";

Deno.test("the registry gives the sections rules, scoped by the terms the file names", () => {
  assert.equal(tableRules("sections"), SECTIONS);
  assert.deepEqual(SECTIONS.catalog("daily").key, [
    "SchoolID",
    "TermID",
    "Course_Number",
    "Section_Number",
  ]);
  assert.equal(SECTIONS.scopeColumn, "k_termid");
});

Deno.test("a section's term compares as an integer and its numbers exactly", () => {
  assert.equal(keyValue(keyField(SECTIONS, "TermID"), "03500"), 3500);
  assert.equal(keyValue(keyField(SECTIONS, "Course_Number"), "007"), "007");
  assert.equal(keyValue(keyField(SECTIONS, "Section_Number"), "01"), "01");
});

Deno.test("the active sections are those not inactive at the school in the terms of the file", async () => {
  await using db = await rulesDatabase();
  await db.run(
    `INSERT INTO sections (id, schoolid, termid, course_number, section_number, inactive) VALUES
       (1, 100, 3500, 'M1', '1', 0), (2, 100, 3500, 'M1', '2', 1),
       (3, 100, 3501, 'M1', '1', 0), (4, 200, 3500, 'M1', '1', 0)`,
  );
  assert.deepEqual(await activeIds(db, SECTIONS, sqlContext({ scope: [3500] })), [1]);
  assert.deepEqual(await activeIds(db, SECTIONS, sqlContext({ scope: [3500, 3501] })), [1, 3]);
});

Deno.test("removing a section marks it inactive and drops its open enrollments as of today", async () => {
  await using db = await rulesDatabase();
  await db.run(
    `INSERT INTO sections (id, schoolid, termid, course_number, section_number) VALUES
       (1, 100, 3500, 'M1', '1'), (2, 100, 3500, 'M1', '2')`,
    `INSERT INTO cc (id, student_number, schoolid, termid, course_number, section_number, section_id, dropped, dateleft) VALUES
       (1, 1001, 100, 3500, 'M1', '1', 1, 0, '2026-06-01'),
       (2, 1002, 100, 3500, 'M1', '1', 1, 0, '2026-01-10'),
       (3, 1003, 100, 3500, 'M1', '2', 2, 0, '2026-06-01')`,
  );
  assert.equal(await remove(db, SECTIONS, [1], sqlContext({ scope: [3500] })), 1);
  assert.deepEqual(await db.rows("SELECT id, inactive FROM sections ORDER BY id"), [
    { id: 1, inactive: 1 },
    { id: 2, inactive: 0 },
  ]);
  assert.deepEqual(await db.rows("SELECT id, dropped, dateleft FROM cc ORDER BY id"), [
    { id: 1, dropped: 1, dateleft: TODAY },
    { id: 2, dropped: 1, dateleft: "2026-01-10" },
    { id: 3, dropped: 0, dateleft: "2026-06-01" },
  ]);
});
