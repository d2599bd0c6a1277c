import assert from "node:assert/strict";
import { tableRules } from "../../../src/sis/tables/registry.ts";
import { TEACHERS } from "../../../src/sis/tables/teachers.ts";
import { activeIds, keyField, keyValue, remove, rulesDatabase, sqlContext } from "./rules_db.ts";

Deno.test("the registry gives the teachers rules, matched on TeacherNumber and SchoolID", () => {
  assert.equal(tableRules("teachers"), TEACHERS);
  assert.deepEqual(TEACHERS.catalog("daily").key, ["TeacherNumber", "SchoolID"]);
});

Deno.test("a teacher number compares exactly, leading zeros kept; the school as an integer", () => {
  const number = keyField(TEACHERS, "TeacherNumber");
  assert.equal(number.key, "exact");
  assert.equal(keyValue(number, "0100"), "0100");
  assert.equal(keyValue(keyField(TEACHERS, "SchoolID"), "0100"), 100);
});

Deno.test("the active teachers are those with Status 1 at the school, or anywhere for the District Office", async () => {
  await using db = await rulesDatabase();
  await db.run(
    `INSERT INTO teachers (id, teachernumber, schoolid, status) VALUES
       (1, 'T1', 100, 1), (2, 'T2', 100, 2), (3, 'T1', 200, 1)`,
  );
  assert.deepEqual(await activeIds(db, TEACHERS, sqlContext()), [1]);
  assert.deepEqual(
    await activeIds(db, TEACHERS, sqlContext({ schoolId: 0, districtOffice: true })),
    [1, 3],
  );
});

Deno.test("removing a teacher gives them Status 2", async () => {
  await using db = await rulesDatabase();
  await db.run(
    `INSERT INTO teachers (id, teachernumber, schoolid, status) VALUES (1, 'T1', 100, 1), (2, 'T2', 100, 1)`,
  );
  assert.equal(await remove(db, TEACHERS, [2], sqlContext()), 1);
  assert.deepEqual(await db.rows("SELECT id, status, last_run_id FROM teachers ORDER BY id"), [
    { id: 1, status: 1, last_run_id: null },
    { id: 2, status: 2, last_run_id: 7 },
  ]);
});
