/**
 * The reference data a warm import process keeps between runs (`references.ts`): used
 * only while no connection has written since it was read — another connection's
 * commit (data version), the process's own run (end), a commit while it was read.
 */
import assert from "node:assert/strict";
import { openExecutor, type SqlExecutor } from "../../src/pipeline/executor.ts";
import { dataVersion, type Loaded, ReferenceCache } from "../../src/pipeline/references.ts";

async function withFile() {
  const dir = await Deno.makeTempDir({ prefix: "autocomm-references-" });
  const config = { databaseUrl: `file:${dir}/test.db`, busyTimeoutMs: 5_000 };
  const exec = await openExecutor(config);
  await exec.exec("PRAGMA journal_mode = WAL");
  await exec.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT)");
  await exec.run("INSERT INTO t (k) VALUES ('a'), ('b')");
  const other = await openExecutor(config);
  return {
    exec,
    other,
    async [Symbol.asyncDispose]() {
      other.close();
      exec.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A loader of t's keys that counts its calls. */
function counted() {
  const loader = {
    calls: 0,
    load: async (exec: SqlExecutor): Promise<Loaded<string[]>> => {
      loader.calls++;
      const rows = await exec.all("SELECT k FROM t ORDER BY id");
      return { value: rows.map((r) => String(r["k"])), rows: rows.length };
    },
  };
  return loader;
}

/** One run: its snapshot's version, a read of the keys, the end. */
async function run(cache: ReferenceCache, exec: SqlExecutor, load: ReturnType<typeof counted>) {
  await exec.exec("BEGIN");
  cache.begin(await dataVersion(exec));
  try {
    return await cache.get(exec, "keys", load.load);
  } finally {
    await exec.exec("COMMIT");
    cache.end();
  }
}

Deno.test("what a run read is read again between runs and used by the next run", async () => {
  await using db = await withFile();
  const cache = new ReferenceCache();
  const keys = counted();
  assert.deepEqual(await run(cache, db.exec, keys), ["a", "b"]);
  assert.equal(keys.calls, 1);
  await cache.refresh(db.exec);
  assert.equal(keys.calls, 2, "read again between runs");
  assert.deepEqual(await run(cache, db.exec, keys), ["a", "b"]);
  assert.equal(keys.calls, 2, "the next run used it");
  assert.equal(cache.hits, 1);
});

Deno.test("another connection's commit after the read: the next run reads again", async () => {
  await using db = await withFile();
  const cache = new ReferenceCache();
  const keys = counted();
  await run(cache, db.exec, keys);
  await cache.refresh(db.exec);
  await db.other.run("INSERT INTO t (k) VALUES ('c')");
  assert.deepEqual(await run(cache, db.exec, keys), ["a", "b", "c"]);
  assert.equal(cache.hits, 0);
});

Deno.test("the process's own run drops what was kept, even though the data version stays", async () => {
  await using db = await withFile();
  const cache = new ReferenceCache();
  const keys = counted();
  await run(cache, db.exec, keys);
  await cache.refresh(db.exec);
  // A run that writes: its own commit does not change its connection's data version.
  await db.exec.exec("BEGIN");
  const version = await dataVersion(db.exec);
  cache.begin(version);
  await db.exec.run("INSERT INTO t (k) VALUES ('c')");
  await db.exec.exec("COMMIT");
  cache.end();
  assert.equal(await dataVersion(db.exec), version);
  // No refresh (a run that was not followed by one): the next run reads for itself.
  assert.deepEqual(await run(cache, db.exec, keys), ["a", "b", "c"]);
  assert.equal(cache.hits, 0);
});

Deno.test("a commit by another connection while it is read between runs: nothing is kept", async () => {
  await using db = await withFile();
  const cache = new ReferenceCache();
  let writes = 0;
  const keys = counted();
  const racing = {
    calls: 0,
    load: async (exec: SqlExecutor) => {
      const read = await keys.load(exec);
      // The other connection commits right after the refresh's read.
      if (writes++ === 1) await db.other.run("INSERT INTO t (k) VALUES ('c')");
      return read;
    },
  };
  await run(cache, db.exec, racing);
  await cache.refresh(db.exec);
  assert.deepEqual(await run(cache, db.exec, racing), ["a", "b", "c"]);
  assert.equal(cache.hits, 0);
});

Deno.test("what a first import will want is read after it, not during it", async () => {
  await using db = await withFile();
  const cache = new ReferenceCache();
  const keys = counted();
  await db.exec.exec("BEGIN");
  cache.begin(await dataVersion(db.exec));
  cache.later("keys", keys.load);
  await db.exec.exec("COMMIT");
  cache.end();
  assert.equal(keys.calls, 0, "not read during the run");
  await cache.refresh(db.exec);
  assert.equal(keys.calls, 1);
  assert.deepEqual(await run(cache, db.exec, keys), ["a", "b"]);
  assert.equal(cache.hits, 1);
});

Deno.test("more than maxRows rows are read for their run only", async () => {
  await using db = await withFile();
  const cache = new ReferenceCache(1);
  const keys = counted();
  await run(cache, db.exec, keys);
  await cache.refresh(db.exec);
  assert.equal(keys.calls, 1, "not read again between runs");
  await run(cache, db.exec, keys);
  assert.equal(keys.calls, 2);
  assert.equal(cache.hits, 0);
});

Deno.test("outside a run (a remote database, a one-off import) it always reads", async () => {
  await using db = await withFile();
  const cache = new ReferenceCache();
  const keys = counted();
  await cache.get(db.exec, "keys", keys.load);
  await cache.get(db.exec, "keys", keys.load);
  assert.equal(keys.calls, 2);
  await cache.refresh(db.exec);
  assert.equal(keys.calls, 2, "nothing to read again");
});
