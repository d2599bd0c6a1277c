/**
 * The staging thread (src/pipeline/side_writer.ts, side_thread.ts) on its own: it
 * writes the statements it is given into the stage file, finds the lines that may
 * repeat a key, reports a failure at the latest when asked to finish, and takes the
 * next file after a failure or an abort. (The import suites run through it in
 * tests/pipeline/staging_thread_test.ts.)
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { SideWriter } from "../../src/pipeline/side_writer.ts";

const INSERT = "INSERT INTO rows (line, k, v) VALUES (?, ?, ?), (?, ?, ?)";
/** A row's three arguments: its line first, its key second. */
const STAGED = { width: 3, keys: [1], expectedRows: 10 };

async function withFiles(
  fn: (dir: string, writer: SideWriter, newStage: (name: string) => string) => Promise<void>,
) {
  const dir = await Deno.makeTempDir({ prefix: "autocomm-side-" });
  // The SIS database the thread attaches for its lookups: any database file will do.
  new DatabaseSync(`${dir}/sis.db`).close();
  const writer = new SideWriter(`${dir}/sis.db`, 1000);
  const newStage = (name: string) => {
    const file = `${dir}/${name}`;
    const db = new DatabaseSync(file);
    db.exec("CREATE TABLE rows (line INTEGER PRIMARY KEY, k TEXT, v INTEGER)");
    db.close();
    return file;
  };
  try {
    await fn(dir, writer, newStage);
  } finally {
    writer.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function rowsOf(file: string): unknown[] {
  const db = new DatabaseSync(file);
  try {
    return db.prepare("SELECT line, k, v FROM rows ORDER BY line").all().map((r) => ({ ...r }));
  } finally {
    db.close();
  }
}

Deno.test("the staging thread writes its statements and finds the lines that may repeat a key", async () => {
  await withFiles(async (_dir, writer, newStage) => {
    const stage = newStage("a.db");
    writer.open(stage, STAGED);
    await writer.run([[INSERT, [1, "a", 10, 2, "b", 20]], [INSERT, [3, "a", 30, 4, "c", 40]]]);
    await writer.run([[INSERT, [5, "d", 50, 6, "b", 60]]]);
    const found = await writer.finish();
    assert.equal(found.overflow, false);
    assert.deepEqual(found.lines.sort((x, y) => x - y), [1, 2, 3, 6]);
    assert.deepEqual(rowsOf(stage), [
      { line: 1, k: "a", v: 10 },
      { line: 2, k: "b", v: 20 },
      { line: 3, k: "a", v: 30 },
      { line: 4, k: "c", v: 40 },
      { line: 5, k: "d", v: 50 },
      { line: 6, k: "b", v: 60 },
    ]);
    // A second run's file, in a thread of its own (the first ended with its staging).
    const next = newStage("b.db");
    writer.open(next, STAGED);
    await writer.run([[INSERT, [1, "x", 1, 2, "y", 2]]]);
    assert.deepEqual((await writer.finish()).lines, []);
    assert.equal(rowsOf(next).length, 2);
  });
});

Deno.test("a failed statement fails the staging at the latest when it finishes; the thread then takes the next file", async () => {
  await withFiles(async (dir, writer, newStage) => {
    writer.open(`${dir}/no-such-folder/stage.db`, STAGED);
    await assert.rejects(async () => {
      await writer.run([[INSERT, [1, "a", 1, 2, "b", 2]]]);
      await writer.finish();
    }, /unable to open database file/);
    const stage = newStage("c.db");
    writer.open(stage, STAGED);
    await assert.rejects(async () => {
      // Line 1 twice: the second statement fails, and nothing of the file is committed.
      await writer.run([[INSERT, [1, "a", 1, 2, "b", 2]], [INSERT, [1, "c", 3, 4, "d", 4]]]);
      await writer.run([[INSERT, [5, "e", 5, 6, "f", 6]]]);
      await writer.finish();
    }, /UNIQUE constraint failed: rows\.line/);
    assert.deepEqual(rowsOf(stage), []);
    writer.open(stage, STAGED);
    await writer.run([[INSERT, [1, "a", 1, 2, "b", 2]]]);
    await writer.finish();
    assert.equal(rowsOf(stage).length, 2);
  });
});

Deno.test("an aborted staging commits nothing", async () => {
  await withFiles(async (_dir, writer, newStage) => {
    const stage = newStage("d.db");
    writer.open(stage, STAGED);
    await writer.run([[INSERT, [1, "a", 1, 2, "b", 2]]]);
    await writer.abort();
    assert.deepEqual(rowsOf(stage), []);
    // Aborting with no thread running is nothing to do.
    await writer.abort();
  });
});
