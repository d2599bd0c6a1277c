/**
 * All or nothing: an import process killed in the middle of its transaction,
 * after at least one batch of SIS rows has been written, leaves every SIS table
 * exactly as it was. (The file is large enough to be staged on the second thread.)
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/config.ts";
import { openDatabase } from "../../src/db/client.ts";
import { filePathOf } from "../../src/pipeline/executor.ts";
import { queueRun } from "../../src/pipeline/launch.ts";
import { spawnImportProcess } from "../support/cli.ts";
import { Sandbox, TEACHER_FIELDS, teacherRunSettings, tsv } from "../support/sandbox.ts";

Deno.test("killing the import process mid-transaction changes no SIS table", async () => {
  await using sb = await Sandbox.create();
  await sb.import(tsv(["T0", "Ada", "Lovelace"]), { table: "teachers", fields: TEACHER_FIELDS });
  const rows = 300_000;
  const lines: string[] = [];
  for (let i = 1; i <= rows; i++) lines.push(`T${i}\tFirst${i}\tLast${i}`);
  const file = await sb.write("big.txt", lines.join("\n") + "\n");
  const before = await sb.checksum();

  // Queue the run the way the service does, then start the import process ourselves.
  const config = loadConfig({ env: sb.env });
  const database = await openDatabase(config);
  const runId = await queueRun(database.db, teacherRunSettings(file), { trigger: "cli" });
  database.close();

  const child = spawnImportProcess(runId, sb.env);
  let killedAfter: Record<string, unknown> | undefined;
  let buffered = "";
  for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
    buffered += text;
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    const event = lines.map((l) => JSON.parse(l)).find((e) =>
      e.event === "progress" && e.phase === "insert"
    );
    if (event) {
      killedAfter = event;
      child.kill("SIGKILL");
      break;
    }
  }
  const status = await child.status;
  await child.stderr.cancel();
  assert.ok(killedAfter, "the import finished before a batch was reported");
  assert.ok(
    Number(killedAfter["rows"]) > 0 && Number(killedAfter["rows"]) < rows,
    JSON.stringify(killedAfter),
  );
  assert.equal(status.signal, "SIGKILL", "the import process ended before it was killed");

  assert.equal(await sb.checksum(), before, "the killed import left changes behind");
  // The file (about 8 MB) was staged on the second thread: its stage file is what is left.
  const stage = `${filePathOf(config.databaseUrl)}-stage-${runId}`;
  assert.ok((await Deno.stat(stage)).isFile, "a large file is staged in a stage file of its own");
  const [run] = await sb.query("SELECT status FROM runs WHERE id = ?", [runId]);
  assert.equal(
    run?.["status"],
    "running",
    "the run stays running until its lease is found expired",
  );
  // The database is healthy: the next import works.
  const next = await sb.import(tsv(["T1", "Grace", "Hopper"]), {
    table: "teachers",
    fields: TEACHER_FIELDS,
  });
  assert.equal(next.report.status, "succeeded");
});
