/**
 * A run's progress (`RunProgress`, `src/pipeline/lease.ts`) on a real file: measured on
 * a timer from counters the run keeps, written to the run's row on a connection of its
 * own, and — once the embedded file's staging snapshot is open — to the progress file
 * instead, so that the import's connection sees no other connection's commit.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openExecutor } from "../../src/pipeline/executor.ts";
import { progressFile, RunProgress } from "../../src/pipeline/lease.ts";
import type { RunProgressState } from "../../src/pipeline/run_state.ts";
import { readElsewhere } from "../support/lock_holder.ts";

async function setup() {
  const dir = await Deno.makeTempDir({ prefix: "autocomm_progress_" });
  const file = `${dir}/db.sqlite`;
  const db = new DatabaseSync(file);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec(
    "CREATE TABLE runs (id INTEGER PRIMARY KEY, status TEXT, file_size INTEGER, stage TEXT, rows_read INTEGER, bytes_read INTEGER, progress_at TEXT)",
  );
  db.exec("INSERT INTO runs (id, status) VALUES (1, 'running'), (2, 'succeeded')");
  db.close();
  const exec = await openExecutor({ databaseUrl: `file:${file}`, busyTimeoutMs: 5000 });
  return {
    dir,
    file,
    exec,
    async [Symbol.asyncDispose]() {
      exec.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("progress is measured on a timer and written to the running run's row", async () => {
  await using t = await setup();
  const reports: RunProgressState[] = [];
  let rows = 0;
  {
    using progress = new RunProgress(t.exec, 1, {
      everyMs: 50,
      dataDir: t.dir,
      onReport: (p) => reports.push(p),
    });
    progress.enter("reading", {
      size: 1000,
      counters: { rows: () => rows, bytes: () => rows * 10 },
    });
    assert.equal(reports.at(-1)?.stage, "reading", "a new stage is reported at once");
    rows = 40;
    await pause(200);
    const [row] = await readElsewhere(t.file, "SELECT * FROM runs WHERE id = 1");
    assert.equal(row?.["stage"], "reading");
    assert.equal(row?.["rows_read"], 40);
    assert.equal(row?.["bytes_read"], 400);
    assert.equal(row?.["file_size"], 1000);
    assert.ok(String(row?.["progress_at"]) <= new Date().toISOString());
    assert.ok(reports.some((r) => r.rowsRead === 40));
  }
  // A run that is no longer running is left alone.
  {
    using progress = new RunProgress(t.exec, 2, { everyMs: 50 });
    progress.enter("reading", { size: 5, counters: { rows: () => 1, bytes: () => 1 } });
    await pause(150);
  }
  const [ended] = await readElsewhere(t.file, "SELECT stage FROM runs WHERE id = 2");
  assert.equal(ended?.["stage"], null);
});

Deno.test("once the database is held, progress goes to the progress file, removed at the end", async () => {
  await using t = await setup();
  let rows = 0;
  const path = progressFile(t.dir, 1);
  {
    using progress = new RunProgress(t.exec, 1, { everyMs: 50, dataDir: t.dir });
    progress.enter("reading", { size: 100, counters: { rows: () => rows, bytes: () => rows } });
    await pause(150);
    progress.holdDatabase();
    rows = 70;
    await pause(150);
    const [row] = await readElsewhere(t.file, "SELECT rows_read FROM runs WHERE id = 1");
    assert.equal(row?.["rows_read"], 0, "the row keeps what was written before the hold");
    const fromFile = JSON.parse(await Deno.readTextFile(path)) as RunProgressState;
    assert.equal(fromFile.rowsRead, 70);
    assert.equal(fromFile.fileSize, 100);
  }
  assert.equal(await Deno.stat(path).then(() => true, () => false), false, "the file is gone");
});
