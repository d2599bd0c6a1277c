/**
 * In inline mode a run is held to the run timeout (`AUTOCOMM_RUN_TIMEOUT_SECONDS`) as an
 * import process is killed at it: the run stops, even while it waits for a request the
 * server never answers, nothing is changed, and it is marked interrupted with the
 * timeout's message. A forwarding server between the service and a real libSQL server
 * (sqld) holds the first request that stages rows until the test ends. Skipped with a
 * printed line when sqld cannot run here, except under CI=true.
 */
import assert from "node:assert/strict";
import { generateTable, sizesAt } from "../../bench/generate.ts";
import { runSettings } from "../../bench/scenario.ts";
import { borrowExecutor, openExecutor } from "../../src/pipeline/executor.ts";
import { insertRun } from "../../src/pipeline/run_store.ts";
import { executeInline } from "../../src/pipeline/service.ts";
import { forwardingProxy, sqldProblem, startSqld } from "../support/sqld.ts";
import { inlineDistrict } from "../support/in_process.ts";

const problem = await sqldProblem();
if (problem !== undefined && Deno.env.get("CI") !== "true") {
  console.log(`Skipping the inline run-timeout test: ${problem}`);
}

/**
 * Forwards requests to `target`, except one whose body has `hold`: never answered until
 * closed. One whose body has `slow` is answered 500 ms late.
 */
function holdingProxy(target: string, options: { hold?: string; slow?: string }) {
  const state = { held: 0, slowed: 0 };
  const { promise: closing, resolve: release } = Promise.withResolvers<void>();
  const proxy = forwardingProxy(target, {
    async before(text) {
      if (options.hold !== undefined && text.includes(options.hold)) {
        state.held++;
        await closing;
        return new Response("closed", { status: 503 });
      }
      if (options.slow !== undefined && text.includes(options.slow)) {
        state.slowed++;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      return undefined;
    },
  });
  return {
    url: proxy.url,
    state,
    async close() {
      release();
      await proxy.close();
    },
  };
}

Deno.test({
  name: "an inline run stops at the run timeout, even waiting for an answer that never comes",
  ignore: problem !== undefined && Deno.env.get("CI") !== "true",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    if (problem !== undefined) throw new Error(`This test needs sqld: ${problem}`);
    const sqld = await startSqld();
    const proxy = holdingProxy(sqld.url, { hold: "json_each(CAST(? AS TEXT))" });
    const dir = await Deno.makeTempDir({ prefix: "autocomm_timeout_" });
    try {
      const district = await inlineDistrict(proxy.url, dir);
      const { database } = district;
      const config = { ...district.config, runTimeoutSeconds: 1 };
      const files = await generateTable(dir, "students", 20261206, sizesAt(0.01));
      const runId = await insertRun(
        borrowExecutor(database.client),
        runSettings("students", "first-import", files.base),
        { trigger: "cli" },
      );

      const started = performance.now();
      await executeInline({ db: database.db, config }, runId);
      const seconds = (performance.now() - started) / 1000;

      assert.equal(proxy.state.held, 1, "the staging request was held");
      assert.ok(seconds < 15, `the run ended after ${seconds.toFixed(1)} s`);
      const [run] = (await database.client.execute({
        sql: "SELECT status, message FROM runs WHERE id = ?",
        args: [runId],
      })).rows;
      assert.equal(run?.["status"], "interrupted");
      assert.equal(
        run?.["message"],
        "Stopped after 1 s, the longest a run may take (AUTOCOMM_RUN_TIMEOUT_SECONDS); nothing was changed",
      );
      const [students] = (await database.client.execute("SELECT count(*) AS n FROM students"))
        .rows;
      assert.equal(Number(students?.["n"]), 0);
      database.close();
    } finally {
      await proxy.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      await sqld.stop();
    }
  },
});

Deno.test({
  name: "a stop asked for while a commit is under way waits for the commit's answer",
  ignore: problem !== undefined && Deno.env.get("CI") !== "true",
  async fn() {
    if (problem !== undefined) throw new Error(`This test needs sqld: ${problem}`);
    const sqld = await startSqld();
    const proxy = holdingProxy(sqld.url, { slow: "COMMIT" });
    const stop = new AbortController();
    const exec = await openExecutor({ databaseUrl: proxy.url, busyTimeoutMs: 5000 }, {
      signal: stop.signal,
    });
    try {
      await exec.exec("CREATE TABLE t (v INTEGER)");
      await exec.begin();
      await exec.run("INSERT INTO t (v) VALUES (1)");
      const committing = exec.commit();
      setTimeout(() => stop.abort("stop"), 100);
      await committing;
      assert.equal(proxy.state.slowed, 1, "the commit was answered late");
      assert.ok(stop.signal.aborted);
      // Requests after the stop go on (the run's end is written after it).
      assert.deepEqual(await exec.all("SELECT v FROM t"), [{ v: 1 }]);
    } finally {
      exec.close();
      await proxy.close();
      await sqld.stop();
    }
  },
});
