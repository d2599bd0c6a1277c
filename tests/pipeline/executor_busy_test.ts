/**
 * The executor over a libSQL server (`borrowExecutor`, as the import uses over
 * `sqld`): its writes outside a transaction go one at a time, and a write the server
 * refuses as busy (sqld 0.24 answers SQLITE_BUSY at once, without waiting, when two
 * other writes wait for its lock) is tried again until the busy timeout has passed.
 * The client here is a stand-in that answers busy on purpose: contention heavy enough
 * to make a real sqld do that also makes it stop answering at times (docs/performance.md),
 * which a test suite cannot afford. The executor's SQL against a real sqld is in
 * remote_batches_test.ts and the suites that run on sqld.
 */
import assert from "node:assert/strict";
import type { Client, InStatement, ResultSet } from "@libsql/client";
import { borrowExecutor } from "../../src/pipeline/executor.ts";

/** A client whose writes take 20 ms and are refused as busy `refusals` times first. */
function busyClient(refusals: number) {
  const seen = { calls: 0, applied: [] as string[], concurrent: 0, most: 0 };
  const result = { rows: [], columns: [], rowsAffected: 1 } as unknown as ResultSet;
  const write = async (what: string) => {
    seen.calls++;
    seen.concurrent++;
    seen.most = Math.max(seen.most, seen.concurrent);
    try {
      await new Promise((r) => setTimeout(r, 20));
      if (refusals > 0) {
        refusals--;
        throw Object.assign(new Error("SQLITE_BUSY: SQLite error: database is locked"), {
          code: "SQLITE_BUSY",
        });
      }
      seen.applied.push(what);
      return result;
    } finally {
      seen.concurrent--;
    }
  };
  const client = {
    execute: (stmt: InStatement) => write(typeof stmt === "string" ? stmt : stmt.sql),
    batch: (stmts: InStatement[]) =>
      write(stmts.map((s) => typeof s === "string" ? s : s.sql).join("; ")).then(() => [result]),
    executeMultiple: (sql: string) => write(sql).then(() => undefined),
    close() {},
  } as unknown as Client;
  return { client, seen };
}

Deno.test("a write the server refuses as busy is tried again, and writes go one at a time", async () => {
  const { client, seen } = busyClient(3);
  const exec = borrowExecutor(client);
  // The stager's rows, the run's progress and another write, all at once.
  await Promise.all([
    exec.many("INSERT INTO s (a) VALUES (?)", [[1], [2]]),
    exec.runOutside("UPDATE runs SET rows_read = 2"),
    exec.run("UPDATE runs SET stage = 'reading'"),
  ]);
  assert.equal(seen.most, 1, "never two writes of the executor at once");
  assert.equal(seen.calls, 6, "three refusals, then each write once");
  assert.equal(seen.applied.length, 3);
  assert.match(seen.applied[0]!, /json_each/);
  assert.deepEqual(seen.applied.slice(1), [
    "UPDATE runs SET rows_read = 2",
    "UPDATE runs SET stage = 'reading'",
  ]);
});

Deno.test("a script of several statements is not tried again (some may have been applied)", async () => {
  const { client, seen } = busyClient(1);
  const exec = borrowExecutor(client);
  await assert.rejects(() => exec.exec("DROP TABLE a; DROP TABLE b"), /database is locked/);
  assert.equal(seen.calls, 1);
});
