/**
 * Many rows to a remote libSQL server (`sqld`) go in a few large requests
 * (`SqlExecutor.many` over `@libsql/client`), and store exactly what one statement
 * per row stores. The requests are counted by a forwarding HTTP server on loopback
 * between the client and sqld. Skipped with a printed line when sqld cannot run here,
 * except under CI=true, where that fails.
 */
import assert from "node:assert/strict";
import { openExecutor, type SqlExecutor, type SqlValue } from "../../src/pipeline/executor.ts";
import { countingProxy, sqldProblem, startSqld } from "../support/sqld.ts";

const problem = await sqldProblem();
const inCi = Deno.env.get("CI") === "true";
if (problem !== undefined && !inCi) {
  console.log(`Skipping the remote batch tests (remote_batches_test.ts): ${problem}`);
}

function remoteTest(
  name: string,
  fn: (exec: SqlExecutor, counter: { requests: number }) => Promise<void>,
) {
  Deno.test({
    name,
    ignore: problem !== undefined && !inCi,
    async fn() {
      if (problem !== undefined) throw new Error(`These tests need sqld: ${problem}`);
      const server = await startSqld();
      const proxy = countingProxy(server.url);
      const exec = await openExecutor({ databaseUrl: proxy.url, busyTimeoutMs: 10_000 });
      try {
        await fn(exec, proxy.counter);
      } finally {
        exec.close();
        await proxy.close();
        await server.stop();
      }
    },
  });
}

const TABLE = "CREATE TABLE t (line INTEGER PRIMARY KEY, i INTEGER, r REAL, x TEXT, n NUMERIC, b)";

/** Values of every kind a staged row holds, for each column of {@linkcode TABLE}. */
const SAMPLES: SqlValue[][] = [
  [1, 5, 5, 5, 5, 5],
  [2, -3, 2.5, 2.5, 2.5, 2.5],
  [3, null, null, null, null, null],
  [4, "12", "1.5", 'José "Núñez"\n\t\\ \'; --', "0012", ""],
  [5, 9007199254740991, 1e21, 1e-7, -0, 123456789n],
  [6, "", "abc", "Zoë 😀 Müller", "1e3", "x,y"],
];

remoteTest(
  "many rows inserted over sqld store the same values and types as one statement per row",
  async (exec) => {
    await exec.exec(`${TABLE}; ${TABLE.replace("TABLE t", "TABLE one")}`);
    await exec.many("INSERT INTO t (line, i, r, x, n, b) VALUES (?, ?, ?, ?, ?, ?)", SAMPLES);
    for (const row of SAMPLES) {
      await exec.run("INSERT INTO one (line, i, r, x, n, b) VALUES (?, ?, ?, ?, ?, ?)", row);
    }
    const read = (table: string) =>
      exec.all(
        `SELECT line, i, typeof(i) AS ti, r, typeof(r) AS tr, x, typeof(x) AS tx, n, typeof(n) AS tn, b, typeof(b) AS tb FROM ${table} ORDER BY line`,
      );
    const many = await read("t");
    assert.equal(many.length, SAMPLES.length);
    assert.deepEqual(many, await read("one"));
    // A JavaScript number is bound as a REAL: a TEXT column stores 5.0, as on the
    // embedded file (node:sqlite).
    assert.equal(many[0]!["x"], "5.0");
  },
);

remoteTest(
  "rows with literal values and bytes are stored as one statement per row stores them",
  async (exec) => {
    await exec.exec("CREATE TABLE n (id INTEGER PRIMARY KEY, run INTEGER, kind TEXT, v)");
    await exec.many("INSERT INTO n (run, kind, v) VALUES (7, 'remove', ?)", [["a"], [null], [3]]);
    await exec.many("INSERT INTO n (run, kind, v) VALUES (?, 'bytes', ?)", [
      [8, new Uint8Array([1, 2, 3])],
      [8, "b"],
    ]);
    assert.deepEqual(
      await exec.all("SELECT run, kind, v, typeof(v) AS t FROM n ORDER BY id"),
      [
        { run: 7, kind: "remove", v: "a", t: "text" },
        { run: 7, kind: "remove", v: null, t: "null" },
        { run: 7, kind: "remove", v: 3, t: "real" },
        { run: 8, kind: "bytes", v: new Uint8Array([1, 2, 3]), t: "blob" },
        { run: 8, kind: "bytes", v: "b", t: "text" },
      ],
    );
  },
);

remoteTest(
  "20,000 staged rows of 30 columns go to sqld in a few requests, in order",
  async (exec, counter) => {
    const columns = Array.from({ length: 29 }, (_, i) => `c${i}`);
    await exec.exec(`CREATE TABLE s (line INTEGER, ${columns.join(", ")})`);
    const rows = Array.from(
      { length: 20_000 },
      (_, r) => [r + 1, ...columns.map((c, i) => i % 3 === 0 ? r * i : `${c} of row ${r + 1}`)],
    );
    const before = counter.requests;
    await exec.many(
      `INSERT INTO s (line, ${columns.join(", ")}) VALUES (?, ${
        columns.map(() => "?").join(", ")
      })`,
      rows,
    );
    const requests = counter.requests - before;
    assert.ok(requests <= 3, `${requests} requests for 20,000 rows`);
    const [check] = await exec.all(
      "SELECT count(*) AS n, min(line) AS lo, max(line) AS hi, sum(c3) AS s3, min(rowid = line) AS same FROM s",
    );
    assert.deepEqual(check, {
      n: 20_000,
      lo: 1,
      hi: 20_000,
      s3: 3 * (19_999 * 20_000) / 2,
      same: 1,
    });
    assert.deepEqual(await exec.all("SELECT c1 FROM s WHERE line = 12345"), [{
      c1: "c1 of row 12345",
    }]);
  },
);
