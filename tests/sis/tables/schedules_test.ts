import assert from "node:assert/strict";
import { tableRules } from "../../../src/sis/tables/registry.ts";
import { dropSchedules } from "../../../src/sis/tables/rules.ts";
import { SCHEDULES } from "../../../src/sis/tables/schedules.ts";
import {
  activeIds,
  keyField,
  keyValue,
  remove,
  rulesDatabase,
  sqlContext,
  TODAY,
} from "./rules_db.ts";

Deno.test("the registry gives the schedules rules, writing the CC table", () => {
  assert.equal(tableRules("schedules"), SCHEDULES);
  assert.equal(SCHEDULES.target, "cc");
  assert.deepEqual(SCHEDULES.catalog("daily").key, [
    "Student_Number",
    "SchoolID",
    "TermID",
    "Course_Number",
    "Section_Number",
  ]);
});

Deno.test("a schedule row's student and term compare as integers, its section's numbers exactly", () => {
  assert.equal(keyValue(keyField(SCHEDULES, "Student_Number"), "01001"), 1001);
  assert.equal(keyValue(keyField(SCHEDULES, "TermID"), "3500.0"), 3500);
  assert.equal(keyValue(keyField(SCHEDULES, "Section_Number"), "01"), "01");
});

Deno.test("the active schedule rows are those not dropped at the school in the terms of the file", async () => {
  await using db = await rulesDatabase();
  await db.run(
    `INSERT INTO cc (id, student_number, schoolid, termid, course_number, section_number, section_id, dropped) VALUES
       (1, 1001, 100, 3500, 'M1', '1', 1, 0), (2, 1002, 100, 3500, 'M1', '1', 1, 1),
       (3, 1003, 100, 3501, 'M1', '1', 2, 0), (4, 1004, 200, 3500, 'M1', '1', 3, 0)`,
  );
  assert.deepEqual(await activeIds(db, SCHEDULES, sqlContext({ scope: [3500] })), [1]);
  assert.deepEqual(
    await activeIds(
      db,
      SCHEDULES,
      sqlContext({ scope: [3500], schoolId: 0, districtOffice: true }),
    ),
    [1, 4],
  );
});

Deno.test("removing a schedule row drops it as of today, keeping an earlier DateLeft", async () => {
  await using db = await rulesDatabase();
  await db.run(
    `INSERT INTO cc (id, student_number, schoolid, termid, course_number, section_number, section_id, dropped, dateleft) VALUES
       (1, 1001, 100, 3500, 'M1', '1', 1, 0, '2026-06-01'),
       (2, 1002, 100, 3500, 'M1', '1', 1, 0, '2026-01-10'),
       (3, 1003, 100, 3500, 'M1', '1', 1, 0, NULL),
       (4, 1004, 100, 3500, 'M1', '1', 1, 0, '2026-06-01')`,
  );
  assert.equal(await remove(db, SCHEDULES, [1, 2, 3], sqlContext({ scope: [3500] })), 3);
  assert.deepEqual(await db.rows("SELECT id, dropped, dateleft, last_run_id FROM cc ORDER BY id"), [
    { id: 1, dropped: 1, dateleft: TODAY, last_run_id: 7 },
    { id: 2, dropped: 1, dateleft: "2026-01-10", last_run_id: 7 },
    { id: 3, dropped: 1, dateleft: TODAY, last_run_id: 7 },
    { id: 4, dropped: 0, dateleft: "2026-06-01", last_run_id: null },
  ]);
});

Deno.test("dropping schedule rows is one rule, used by every table that drops them", () => {
  const rule = dropSchedules("?");
  for (const t of ["students", "sections", "schedules"] as const) {
    const sql = tableRules(t).removal("removals", sqlContext()).map((s) => s.sql).join("\n");
    assert.ok(sql.includes(rule), `${t} drops schedule rows with the shared rule`);
  }
  const exited = (tableRules("students").inactivate?.(sqlContext({ inactivateExited: true })) ?? [])
    .map((s) => s.sql).join("\n");
  assert.ok(exited.includes(dropSchedules("x.exitdate")));
});
