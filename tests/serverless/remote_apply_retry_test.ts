/**
 * A libSQL server (sqld) lets a write transaction keep its lock for 5 seconds, then
 * gives it to any other connection that asks (even for a statement that changes
 * nothing, as the minute tick's are) and rolls the transaction back. A run whose apply
 * is ended that way applies again from its staged rows, still on the server, and
 * commits once. A forwarding server between the import and sqld holds the answer to the
 * apply's first statement while another client writes. Skipped with a printed line when
 * sqld cannot run here, except under CI=true.
 */
import assert from "node:assert/strict";
import { createClient } from "@libsql/client/web";
import { Sandbox, TEACHER_FIELDS, tsv } from "../support/sandbox.ts";
import { forwardingProxy, sqldProblem, startSqld } from "../support/sqld.ts";

const problem = await sqldProblem();
if (problem !== undefined && Deno.env.get("CI") !== "true") {
  console.log(`Skipping the remote apply-retry test: ${problem}`);
}

/**
 * Forwards requests to `target`; the first request that opens the apply (`SAVEPOINT
 * apply`) is answered only after `meanwhile` has finished.
 */
function stallingProxy(target: string, meanwhile: () => Promise<void>) {
  const state = { stalled: 0 };
  const proxy = forwardingProxy(target, {
    async after(text) {
      if (state.stalled === 0 && text.includes("SAVEPOINT apply")) {
        state.stalled++;
        await meanwhile();
      }
    },
  });
  return { ...proxy, state };
}

Deno.test({
  name: "an apply the server ends after 5 s for another writer is applied again and commits once",
  ignore: problem !== undefined && Deno.env.get("CI") !== "true",
  async fn() {
    const server = await startSqld();
    const other = createClient({ url: server.url });
    let otherWrote = 0;
    // Another writer (a statement that changes nothing, as the minute tick's often are):
    // sqld makes it wait 5 s, then gives it the lock and ends the apply's transaction.
    const proxy = stallingProxy(server.url, async () => {
      await other.execute("UPDATE runs SET message = message WHERE id < 0");
      otherWrote++;
    });
    try {
      await using sb = await Sandbox.create({ env: { DATABASE_URL: proxy.url } });
      const rows = Array.from({ length: 500 }, (_, i) => [`T${i + 1}`, "Ada", `Last${i + 1}`]);
      const { report } = await sb.import(tsv(...rows), {
        table: "teachers",
        fields: TEACHER_FIELDS,
      });
      assert.equal(proxy.state.stalled, 1, "the apply was stalled once");
      assert.equal(otherWrote, 1, "the other writer took the lock");
      assert.equal(report.status, "succeeded", JSON.stringify(report));
      assert.equal(report.counts["inserted"], 500);
      const [n] = await sb.query("SELECT count(*) AS n FROM teachers");
      assert.equal(n!["n"], 500);
      const changes = await sb.query(
        "SELECT count(*) AS n FROM run_changes WHERE run_id = ?",
        [report.runId],
      );
      assert.equal(changes[0]!["n"], 500, "each change logged once");
    } finally {
      other.close();
      await proxy.close();
      await server.stop();
    }
  },
});
