import assert from "node:assert/strict";
import { sql } from "drizzle-orm";
import { isDatabaseBusy } from "../../src/db/busy.ts";
import { records } from "../../src/db/schema/autocomm.ts";
import { tempDatabase } from "../support/db.ts";
import { holdWriteLock, readElsewhere } from "../support/lock_holder.ts";

async function rejectsBusy(write: () => Promise<unknown>) {
  await assert.rejects(write, (error) => {
    assert.ok(isDatabaseBusy(error), `not a busy error: ${error}`);
    return true;
  });
}

Deno.test("a write acknowledged after one failed busy is committed for every other connection", async () => {
  await using t = await tempDatabase({ env: { AUTOCOMM_BUSY_TIMEOUT_MS: "200" } });
  const { client, filePath } = t.database;
  await client.execute("CREATE TABLE probe (id INTEGER PRIMARY KEY, v TEXT)");
  const lock = await holdWriteLock(filePath!);
  await rejectsBusy(() => client.execute("INSERT INTO probe (v) VALUES ('during') RETURNING id"));
  await rejectsBusy(() => client.execute("INSERT INTO probe (v) VALUES ('during too')"));
  await lock.release();

  const after = await client.execute("INSERT INTO probe (v) VALUES ('after') RETURNING id");
  assert.equal(after.rows.length, 1);
  await client.execute("INSERT INTO probe (v) VALUES ('and after')");
  assert.deepEqual(await readElsewhere(filePath!, "SELECT v FROM probe ORDER BY id"), [
    { v: "after" },
    { v: "and after" },
  ]);
});

Deno.test("a Drizzle write and transaction after a busy one are committed for every other connection", async () => {
  await using t = await tempDatabase({ env: { AUTOCOMM_BUSY_TIMEOUT_MS: "200" } });
  const { db, filePath } = t.database;
  const lock = await holdWriteLock(filePath!);
  await rejectsBusy(() => db.update(records).set({ name: "x" }).where(sql`1 = 1`));
  await rejectsBusy(() =>
    db.transaction(async (tx) => {
      await tx.run(sql`CREATE TABLE probe (id INTEGER PRIMARY KEY)`);
    })
  );
  await lock.release();

  await db.run(sql`CREATE TABLE probe (id INTEGER PRIMARY KEY, v TEXT)`);
  const [row] = await db.all<{ id: number }>(
    sql`INSERT INTO probe (v) VALUES ('one') RETURNING id`,
  );
  assert.equal(row?.id, 1);
  await db.transaction(async (tx) => {
    await tx.run(sql`INSERT INTO probe (v) VALUES ('two')`);
  });
  assert.deepEqual(await readElsewhere(filePath!, "SELECT v FROM probe ORDER BY id"), [
    { v: "one" },
    { v: "two" },
  ]);
});

Deno.test("a busy error is recognised through the errors that wrap it", () => {
  const libsql = Object.assign(new Error("SQLITE_BUSY: database is locked"), {
    code: "SQLITE_BUSY",
  });
  assert.ok(isDatabaseBusy(new Error("Failed query: insert …", { cause: libsql })));
  assert.ok(!isDatabaseBusy(new Error("UNIQUE constraint failed: records.name")));
  assert.ok(!isDatabaseBusy("SQLITE_BUSY"));
});
