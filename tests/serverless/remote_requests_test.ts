/**
 * A run over a remote server sends its staged rows in a few large requests whatever
 * the table and whether its records exist already — a few statements, each of many rows: a re-import of students (whose
 * existing records are found in memory) and of schedules (found in SQL at the apply).
 * The requests are counted by a forwarding server between the import and sqld.
 * Skipped with a printed line when sqld cannot run here, except under CI=true.
 */
import assert from "node:assert/strict";
import { Sandbox, seedSchool, STUDENT_FIELDS, tsv, usDay } from "../support/sandbox.ts";
import { countingProxy, sqldProblem, startSqld } from "../support/sqld.ts";

const problem = await sqldProblem();
if (problem !== undefined && Deno.env.get("CI") !== "true") {
  console.log(`Skipping the remote request-count test: ${problem}`);
}

const ROWS = 3000;

Deno.test({
  name: "re-imports of 3,000 students and 3,000 schedule rows go to the server in a few requests",
  ignore: problem !== undefined && Deno.env.get("CI") !== "true",
  async fn() {
    const server = await startSqld();
    const proxy = countingProxy(server.url);
    try {
      await using sb = await Sandbox.create({ env: { DATABASE_URL: proxy.url } });
      await seedSchool(sb);
      const numbers = Array.from({ length: ROWS }, (_, i) => 5000 + i);
      const students = tsv(...numbers.map((n) => [n, `F${n}`, `L${n}`, 3, usDay(-90)]));
      const schedules = tsv(...numbers.map((n) => [n, 3600, "MATH", 1, usDay(-80)]));
      const options = {
        students: { table: "students", fields: STUDENT_FIELDS, updateExisting: true },
        schedules: {
          table: "schedules",
          updateExisting: true,
          fields: ["Student_Number", "TermID", "Course_Number", "Section_Number", "DateEnrolled"],
        },
      };
      for (const [table, file] of [["students", students], ["schedules", schedules]] as const) {
        const first = await sb.import(file, options[table]);
        assert.equal(first.report.counts["inserted"], ROWS, JSON.stringify(first.report));
        const before = { ...proxy.counter };
        const again = await sb.import(file, options[table]);
        const requests = proxy.counter.requests - before.requests;
        const statements = proxy.counter.statements - before.statements;
        assert.equal(again.report.counts["unchanged"], ROWS, JSON.stringify(again.report));
        // Start-up, the run's claim and outcome, lookups and the apply: a few dozen at most,
        // never one per row.
        assert.ok(requests < 100, `${table}: ${requests} requests for ${ROWS} rows`);
        assert.ok(statements < 200, `${table}: ${statements} statements for ${ROWS} rows`);
      }
    } finally {
      await proxy.close();
      await server.stop();
    }
  },
});
