import assert from "node:assert/strict";
import { STUDENTS } from "../../../src/sis/tables/students.ts";
import { tableRules } from "../../../src/sis/tables/registry.ts";
import {
  activeIds,
  keyField,
  keyValue,
  remove,
  rulesDatabase,
  sqlContext,
  TODAY,
} from "./rules_db.ts";

Deno.test("the registry gives the students rules for students, writing the students table", () => {
  assert.equal(tableRules("students"), STUDENTS);
  assert.equal(STUDENTS.target, "students");
  assert.deepEqual(STUDENTS.catalog("daily").key, ["Student_Number"]);
});

Deno.test("a student number compares as an integer: leading zeros and a .0 fraction do not count", () => {
  const f = keyField(STUDENTS, "Student_Number");
  assert.equal(f.key, "integer");
  assert.equal(keyValue(f, "0100"), 100);
  assert.equal(keyValue(f, "224401.0"), 224401);
});

Deno.test("a transferred-out student is brought back unless the file maps Enroll_Status", () => {
  assert.equal(STUDENTS.inactive(sqlContext()), "t.enroll_status = 2");
  assert.equal(STUDENTS.inactive(sqlContext({ mapped: ["Enroll_Status"] })), null);
});

Deno.test("the active students are those enrolled (status 0) at the school, or anywhere for the District Office", async () => {
  await using db = await rulesDatabase();
  await db.run(
    `INSERT INTO students (id, student_number, schoolid, enroll_status) VALUES
       (1, 1001, 100, 0), (2, 1002, 100, 2), (3, 1003, 200, 0), (4, 1004, 100, -1)`,
  );
  assert.deepEqual(await activeIds(db, STUDENTS, sqlContext()), [1]);
  assert.deepEqual(
    await activeIds(db, STUDENTS, sqlContext({ schoolId: 0, districtOffice: true })),
    [1, 3],
  );
});

Deno.test("removing a student transfers them out as of today (an earlier exit date stays) and drops their open schedules", async () => {
  await using db = await rulesDatabase();
  await db.run(
    `INSERT INTO students (id, student_number, schoolid, enroll_status, exitdate) VALUES
       (1, 1001, 100, 0, '2026-06-01'), (2, 1002, 100, 0, '2026-01-01'), (3, 1003, 100, 0, '2026-06-01')`,
    `INSERT INTO cc (id, student_number, schoolid, termid, course_number, section_number, section_id, dropped, dateleft) VALUES
       (1, 1001, 100, 3500, 'M1', '1', 1, 0, '2026-06-01'),
       (2, 1001, 100, 3500, 'M2', '1', 2, 0, '2026-01-10'),
       (3, 1001, 100, 3500, 'M3', '1', 3, 1, '2025-12-01'),
       (4, 1003, 100, 3500, 'M1', '1', 1, 0, '2026-06-01')`,
  );
  const removed = await remove(db, STUDENTS, [1, 2], sqlContext());
  assert.equal(removed, 2);
  assert.deepEqual(
    await db.rows("SELECT id, enroll_status, exitdate, last_run_id FROM students ORDER BY id"),
    [
      { id: 1, enroll_status: 2, exitdate: TODAY, last_run_id: 7 },
      { id: 2, enroll_status: 2, exitdate: "2026-01-01", last_run_id: 7 },
      { id: 3, enroll_status: 0, exitdate: "2026-06-01", last_run_id: null },
    ],
  );
  assert.deepEqual(
    await db.rows("SELECT id, dropped, dateleft, last_run_id FROM cc ORDER BY id"),
    [
      { id: 1, dropped: 1, dateleft: TODAY, last_run_id: 7 },
      { id: 2, dropped: 1, dateleft: "2026-01-10", last_run_id: 7 },
      { id: 3, dropped: 1, dateleft: "2025-12-01", last_run_id: null },
      { id: 4, dropped: 0, dateleft: "2026-06-01", last_run_id: null },
    ],
  );
});
