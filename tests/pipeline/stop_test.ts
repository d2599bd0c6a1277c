/**
 * Stopping a run on purpose: a run asked to stop (Ctrl-C on `autocomm import`, a
 * SIGTERM to the import process, `RunEnvironment.signal`) rolls back at its next safe
 * point and is marked interrupted at once, with why; no SIS table changes.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/config.ts";
import { eventLines } from "../../src/pipeline/launch.ts";
import { spawnCli, spawnImportProcess } from "../support/cli.ts";
import { executeHere, queue } from "../support/in_process.ts";
import {
  importArgs,
  Sandbox,
  TEACHER_FIELDS,
  teacherRunSettings,
  tsv,
} from "../support/sandbox.ts";

/** A sandbox with one teacher, and a file of `rows` new teachers (over 8 MB from 300,000). */
async function withBigFile(rows: number) {
  const sb = await Sandbox.create();
  await sb.import(tsv(["T0", "Ada", "Lovelace"]), { table: "teachers", fields: TEACHER_FIELDS });
  const lines: string[] = [];
  for (let i = 1; i <= rows; i++) lines.push(`T${i}\tFirstname${i}\tLastname-of-teacher-${i}`);
  const file = await sb.write("big.txt", lines.join("\n") + "\n");
  return { sb, file, before: await sb.checksum() };
}

async function runRow(sb: Sandbox, runId: number) {
  const [run] = await sb.query(
    "SELECT status, message, ended_at, lease_expires_at FROM runs WHERE id = ?",
    [runId],
  );
  return run!;
}

/** Executes a teachers run here, aborting on the first progress of `phase`. */
async function executeStoppingAt(sb: Sandbox, file: string, phase: string) {
  const phases: string[] = [];
  const { runId, end } = await executeHere(sb, teacherRunSettings(file), (controller) => ({
    onProgress: (p) => {
      phases.push(p.phase);
      if (p.phase === phase) controller.abort(`Stopped by the test during ${phase}`);
    },
  }));
  return { runId, end, phases };
}

Deno.test("a run asked to stop while it stages rolls back and is marked interrupted", async () => {
  const { sb, file, before } = await withBigFile(20_000);
  await using _ = sb;
  const { runId, end, phases } = await executeStoppingAt(sb, file, "stage");
  assert.deepEqual(end, { event: "done", status: "interrupted" });
  // Stopped at the next batch: no further progress (one event every 2,000 rows).
  assert.deepEqual(phases, ["stage"]);
  const run = await runRow(sb, runId);
  assert.equal(run["status"], "interrupted");
  assert.equal(run["message"], "Stopped by the test during stage");
  assert.ok(run["ended_at"]);
  assert.equal(run["lease_expires_at"], null);
  assert.equal(await sb.checksum(), before);
});

Deno.test("a run asked to stop during its apply is rolled back before the commit", async () => {
  const { sb, file, before } = await withBigFile(20_000);
  await using _ = sb;
  const { runId, end } = await executeStoppingAt(sb, file, "insert");
  assert.deepEqual(end, { event: "done", status: "interrupted" });
  assert.equal((await runRow(sb, runId))["status"], "interrupted");
  assert.equal(await sb.checksum(), before, "rows written by the apply stayed");
  // Nothing is left behind: the same file imports completely afterwards.
  const next = await sb.cli(importArgs(file, { table: "teachers", fields: TEACHER_FIELDS }));
  assert.equal(next.code, 0, next.stderr);
  assert.equal(JSON.parse(next.stdout).counts.inserted, 20_000);
});

Deno.test("SIGINT stops `autocomm import`: the run is interrupted, the exit code 1", async () => {
  const { sb, file, before } = await withBigFile(320_000);
  await using _ = sb;
  const child = spawnCli(importArgs(file, { table: "teachers", fields: TEACHER_FIELDS }), sb.env);
  // Wait until the run is running (the import reads its 9 MB file in chunks from then on).
  const deadline = Date.now() + 60_000;
  let status: unknown;
  while (Date.now() < deadline) {
    const [run] = await sb.query("SELECT status FROM runs ORDER BY id DESC LIMIT 1");
    status = run?.["status"];
    if (status !== "queued" && status !== "succeeded" && status !== undefined) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(status, "running");
  child.kill("SIGINT");
  const out = await child.output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 1, stderr);
  assert.match(stderr, /SIGINT: stopping the run at its next safe point/);
  const report = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.equal(report.status, "interrupted");
  assert.equal(report.message, "Stopped by SIGINT before it finished; nothing was changed");
  assert.equal(await sb.checksum(), before);
});

Deno.test("SIGTERM stops the import process of a queued run", async () => {
  const { sb, file, before } = await withBigFile(320_000);
  await using _ = sb;
  const runId = await queue(sb, teacherRunSettings(file));
  const child = spawnImportProcess(runId, sb.env);
  const events: Record<string, unknown>[] = [];
  let signalled = false;
  for await (const event of eventLines(child.stdout)) {
    events.push(event);
    if (!signalled && event["event"] === "progress") {
      signalled = true;
      child.kill("SIGTERM");
    }
  }
  const end = await child.status;
  await child.stderr.cancel();
  assert.ok(signalled, "the import finished before it reported progress");
  assert.equal(end.code, 0);
  assert.deepEqual(events.at(-1), { event: "done", status: "interrupted" });
  const run = await runRow(sb, runId);
  assert.equal(run["status"], "interrupted");
  assert.equal(run["message"], "Stopped by SIGTERM before it finished; nothing was changed");
  assert.equal(await sb.checksum(), before);
});

Deno.test("an import process whose parent is gone still stops cleanly on SIGTERM", async () => {
  const { sb, file, before } = await withBigFile(320_000);
  await using _ = sb;
  const runId = await queue(sb, teacherRunSettings(file));
  const child = spawnImportProcess(runId, sb.env);
  // The first progress line, then the reading end goes away (as when `autocomm run` is
  // stopped with Ctrl-C) and the process is told to stop.
  const reader = child.stdout.getReader();
  await reader.read();
  await reader.cancel();
  child.kill("SIGTERM");
  const end = await child.status;
  await child.stderr.cancel();
  assert.equal(end.code, 0);
  const run = await runRow(sb, runId);
  assert.equal(run["status"], "interrupted", String(run["message"]));
  assert.equal(await sb.checksum(), before);
});

Deno.test("a held run stopped before its commit keeps no copy of its file", async () => {
  await using sb = await Sandbox.create();
  const ten = Array.from({ length: 10 }, (_, i) => [`T${i}`, "First", `Last${i}`]);
  await sb.import(tsv(...ten), { table: "teachers", fields: TEACHER_FIELDS });
  const file = await sb.write("two.txt", tsv(...ten.slice(0, 2)));
  const before = await sb.checksum();
  const held = `${loadConfig({ env: sb.env }).dataDir}/held`;
  const keptFiles = () => {
    try {
      return [...Deno.readDirSync(held)].map((e) => e.name);
    } catch {
      return [];
    }
  };
  const { runId, end } = await executeHere(
    sb,
    { ...teacherRunSettings(file), synchronize: true },
    // Asked to stop once the held run has kept its copy (just before its commit).
    (controller) => ({
      now: () => {
        if (keptFiles().length > 0) controller.abort("Stopped by the test after the copy");
        return new Date();
      },
    }),
  );
  assert.deepEqual(end, { event: "done", status: "interrupted" });
  assert.equal((await runRow(sb, runId))["message"], "Stopped by the test after the copy");
  assert.deepEqual(keptFiles(), []);
  assert.equal(await sb.checksum(), before);
});
