/**
 * The import process's lease renewal (`src/pipeline/lease.ts`) on a real file: it runs
 * on a connection of its own, so a renewal during staging (a transaction on the
 * import's connection) neither waits for nor takes the database's write lock, and it
 * is seen by every other connection at once.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openExecutor } from "../../src/pipeline/executor.ts";
import { RunLease } from "../../src/pipeline/lease.ts";
import { holdWriteLock, readElsewhere } from "../support/lock_holder.ts";

async function setup() {
  const dir = await Deno.makeTempDir({ prefix: "autocomm_lease_" });
  const file = `${dir}/db.sqlite`;
  const db = new DatabaseSync(file);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("CREATE TABLE runs (id INTEGER PRIMARY KEY, status TEXT, lease_expires_at TEXT)");
  db.exec("INSERT INTO runs VALUES (1, 'running', '2000-01-01T00:00:00.000Z')");
  db.close();
  const exec = await openExecutor({ databaseUrl: `file:${file}`, busyTimeoutMs: 5000 });
  return {
    file,
    exec,
    async [Symbol.asyncDispose]() {
      exec.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("a lease renewed during staging is seen at once and leaves the write lock free", async () => {
  await using t = await setup();
  // Staging: a transaction on the import's connection that writes its temporary tables.
  await t.exec.exec("BEGIN; CREATE TEMP TABLE staged (x); INSERT INTO staged VALUES (1);");
  {
    using _lease = new RunLease(t.exec, 1, { seconds: 3 });
    await new Promise((r) => setTimeout(r, 1300)); // one renewal (every second)
    const [row] = await readElsewhere(t.file, "SELECT lease_expires_at FROM runs WHERE id = 1");
    assert.ok(
      String(row?.["lease_expires_at"]) > new Date().toISOString(),
      `renewed and visible to others: ${row?.["lease_expires_at"]}`,
    );
    const started = performance.now();
    const lock = await Promise.race([
      holdWriteLock(t.file),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error("another process waited for the write lock")), 3000)
      ),
    ]);
    assert.ok(performance.now() - started < 3000);
    await lock.release();
  }
  await t.exec.exec("COMMIT");
});

Deno.test("a lease whose run another process marked interrupted is lost", async () => {
  await using t = await setup();
  using lease = new RunLease(t.exec, 1, { seconds: 3 });
  const other = new DatabaseSync(t.file);
  other.exec("UPDATE runs SET status = 'interrupted' WHERE id = 1");
  other.close();
  await new Promise((r) => setTimeout(r, 1300));
  assert.equal(lease.lost.aborted, true);
  assert.match(String(lease.lost.reason), /marked the run interrupted/);
});
