/**
 * On a remote server a run's staging tables are real tables of the database: an
 * import process killed before it dropped them (the platform stopping an instance)
 * leaves them behind, and the hourly housekeeping drops those of runs no longer queued
 * or running. Against a real libSQL server (sqld); without sqld this is skipped with a
 * printed line, except under CI=true.
 */
import assert from "node:assert/strict";
import { createClient } from "@libsql/client/web";
import { loadConfig } from "../../src/config.ts";
import { openDatabase } from "../../src/db/client.ts";
import { borrowExecutor } from "../../src/pipeline/executor.ts";
import { buildPlan } from "../../src/pipeline/plan.ts";
import { createStage, dropStage, stageNames } from "../../src/pipeline/stage.ts";
import { removeOrphanStages } from "../../src/schedule/hourly.ts";
import { queue } from "../support/in_process.ts";
import { Sandbox, TEACHER_FIELDS, teacherRunSettings } from "../support/sandbox.ts";
import { sqldProblem } from "../support/sqld.ts";

const problem = await sqldProblem();
if (problem === undefined) {
  (globalThis as { AUTOCOMM_SANDBOX_BACKEND?: string }).AUTOCOMM_SANDBOX_BACKEND = "sqld";
} else if (Deno.env.get("CI") !== "true") {
  console.log(`Skipping the staging-table sweep test against sqld: ${problem}`);
}

async function stageTables(sb: Sandbox): Promise<string[]> {
  const rows = await sb.query(
    "SELECT name FROM sqlite_schema WHERE type = 'table' AND name GLOB 'stage_*' ORDER BY name",
  );
  return rows.map((r) => String(r["name"]));
}

Deno.test({
  name: "the hourly housekeeping drops the staging tables a killed run left on the server",
  ignore: problem !== undefined && Deno.env.get("CI") !== "true",
  async fn() {
    await using sb = await Sandbox.create();
    const client = createClient({ url: sb.env["DATABASE_URL"]! });
    try {
      const exec = borrowExecutor(client);
      const plan = buildPlan("teachers", TEACHER_FIELDS, 100);
      // A queued run (its import may be about to stage) and a run that no longer exists.
      const live = await queue(sb, teacherRunSettings(await sb.write("t.txt", "T1\tA\tB\n")));
      const gone = live + 1000;
      for (const runId of [live, gone]) {
        await createStage(exec, plan, stageNames(exec, runId, plan));
      }
      const before = await stageTables(sb);
      assert.equal(before.length, 14, before.join(", "));
      const database = await openDatabase(loadConfig({ env: sb.env }));
      try {
        assert.equal(await removeOrphanStages(database.db), 7);
        assert.ok((await stageTables(sb)).every((n) => n.endsWith(`_${live}`)));
        assert.equal((await stageTables(sb)).length, 7);
        // Once the run has ended, its tables go too.
        await sb.query("UPDATE runs SET status = 'interrupted' WHERE id = ?", [live]);
        assert.equal(await removeOrphanStages(database.db), 7);
        assert.deepEqual(await stageTables(sb), []);
      } finally {
        database.close();
      }
    } finally {
      client.close();
    }
  },
});

Deno.test({
  name: "a run waits a bounded time to drop its staging tables while another holds the lock",
  ignore: problem !== undefined && Deno.env.get("CI") !== "true",
  async fn() {
    await using sb = await Sandbox.create();
    const client = createClient({ url: sb.env["DATABASE_URL"]! });
    const holder = createClient({ url: sb.env["DATABASE_URL"]! });
    try {
      const exec = borrowExecutor(client);
      const plan = buildPlan("teachers", TEACHER_FIELDS, 100);
      const names = stageNames(exec, 4242, plan);
      await createStage(exec, plan, names);
      // Another connection holds the write lock.
      const tx = await holder.transaction("write");
      await tx.execute("UPDATE runs SET message = message WHERE id = 0");
      const started = Date.now();
      await dropStage(exec, names, 500);
      const waited = Date.now() - started;
      assert.ok(waited < 3000, `dropStage returned after ${waited} ms`);
      await tx.rollback();
      // What was left is the housekeeping's (run 4242 does not exist).
      const database = await openDatabase(loadConfig({ env: sb.env }));
      try {
        await removeOrphanStages(database.db);
      } finally {
        database.close();
      }
      assert.deepEqual(await stageTables(sb), []);
    } finally {
      holder.close();
      client.close();
    }
  },
});
