import assert from "node:assert/strict";
import { COURSES } from "../../../src/sis/tables/courses.ts";
import { tableRules } from "../../../src/sis/tables/registry.ts";
import { activeIds, keyField, keyValue, remove, rulesDatabase, sqlContext } from "./rules_db.ts";

Deno.test("the registry gives the courses rules; a course row's SchoolID is context, not stored", () => {
  assert.equal(tableRules("courses"), COURSES);
  assert.deepEqual(COURSES.catalog("daily").key, ["Course_Number"]);
  assert.equal(COURSES.schoolIsContext, true);
});

Deno.test("a course number compares exactly, leading zeros kept", () => {
  const f = keyField(COURSES, "Course_Number");
  assert.equal(f.key, "exact");
  assert.equal(keyValue(f, "007"), "007");
});

Deno.test("the active courses are those the school offers", async () => {
  await using db = await rulesDatabase();
  await db.run(
    `INSERT INTO courses (id, course_number) VALUES (1, 'M1'), (2, 'M2'), (3, 'M3')`,
    `INSERT INTO school_courses (schoolid, course_number, offered) VALUES
       (100, 'M1', 1), (100, 'M2', 0), (200, 'M3', 1)`,
  );
  assert.deepEqual(await activeIds(db, COURSES, sqlContext()), [1]);
  assert.deepEqual(await activeIds(db, COURSES, sqlContext({ schoolId: 200 })), [3]);
});

Deno.test("removing a course un-offers it at the school only; the district course stays", async () => {
  await using db = await rulesDatabase();
  await db.run(
    `INSERT INTO courses (id, course_number) VALUES (1, 'M1'), (2, 'M2')`,
    `INSERT INTO school_courses (schoolid, course_number, offered) VALUES
       (100, 'M1', 1), (200, 'M1', 1), (100, 'M2', 1)`,
  );
  assert.equal(await remove(db, COURSES, [1], sqlContext()), 1);
  assert.deepEqual(
    await db.rows(
      "SELECT schoolid, course_number, offered, last_run_id FROM school_courses ORDER BY schoolid, course_number",
    ),
    [
      { schoolid: 100, course_number: "M1", offered: 0, last_run_id: 7 },
      { schoolid: 100, course_number: "M2", offered: 1, last_run_id: null },
      { schoolid: 200, course_number: "M1", offered: 1, last_run_id: null },
    ],
  );
  assert.deepEqual(await db.column("SELECT count(*) FROM courses"), [2]);
});
