/**
 * The service's warm import process (`src/pipeline/worker.ts`, `child.ts --serve`):
 * runs one after another in the same process, a replacement when it dies, is killed
 * at a run's timeout, is stopped, or keeps too much memory, and a process of its own
 * for a run asked while another executes.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/config.ts";
import { openDatabase } from "../../src/db/client.ts";
import { filePathOf } from "../../src/pipeline/executor.ts";
import { KILLED_AT_TIMEOUT } from "../../src/pipeline/launch.ts";
import { executeQueued } from "../../src/pipeline/service.ts";
import { ImportWorker } from "../../src/pipeline/worker.ts";
import { queue } from "../support/in_process.ts";
import { Sandbox, teacherRunSettings } from "../support/sandbox.ts";

async function withWorker(env: Record<string, string> = {}) {
  const sb = await Sandbox.create({ env });
  const worker = new ImportWorker(loadConfig({ env: sb.env }));
  return { sb, worker };
}

/** A file of `rows` new teachers, numbered from `from`. */
async function teachers(sb: Sandbox, name: string, rows: number, from = 1): Promise<string> {
  const lines: string[] = [];
  for (let i = from; i < from + rows; i++) lines.push(`T${i}\tFirst${i}\tLastname-${i}`);
  return await sb.write(name, lines.join("\n") + "\n");
}

async function status(sb: Sandbox, runId: number) {
  const [run] = await sb.query("SELECT status, message, inserted FROM runs WHERE id = ?", [runId]);
  return run!;
}

async function teacherCount(sb: Sandbox): Promise<number> {
  const [row] = await sb.query("SELECT count(*) AS n FROM teachers");
  return Number(row!["n"]);
}

/** Stage files (`src/pipeline/side_writer.ts`) in the sandbox's data directory. */
function stageFiles(sb: Sandbox): string[] {
  return [...Deno.readDirSync(sb.data.dir)].map((e) => e.name).filter((n) => n.includes("-stage-"));
}

function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(condition(), `timed out waiting until ${what}`);
}

Deno.test("the warm import process executes run after run in the same process", async () => {
  const { sb, worker } = await withWorker();
  await using _ = sb;
  await using _worker = worker;
  const first = await queue(sb, teacherRunSettings(await teachers(sb, "a.txt", 3)));
  assert.equal(await worker.run(first), 0);
  const pid = worker.pid;
  assert.ok(pid !== undefined && alive(pid), "the process waits for the next run");
  const second = await queue(sb, teacherRunSettings(await teachers(sb, "b.txt", 2, 4)));
  assert.equal(await worker.run(second), 0);
  assert.equal(worker.pid, pid);
  assert.deepEqual(await status(sb, first), { status: "succeeded", message: null, inserted: 3 });
  assert.deepEqual(await status(sb, second), {
    status: "succeeded",
    message: null,
    inserted: 2,
  });
  assert.equal(await teacherCount(sb), 5);
  await worker.close();
  assert.equal(worker.pid, undefined);
  assert.ok(!alive(pid), "close() ends the process");
  // Afterwards a run gets a process of its own.
  const third = await queue(sb, teacherRunSettings(await teachers(sb, "c.txt", 1, 6)));
  assert.equal(await worker.run(third), 0);
  assert.equal((await status(sb, third))["status"], "succeeded");
});

Deno.test("the warm process's next run of the same kind of file starts from empty staging tables", async () => {
  const { sb, worker } = await withWorker();
  await using _ = sb;
  await using _worker = worker;
  // A repeated key (both lines rejected) and a row without its Last_Name, then a clean file.
  const bad = await sb.write(
    "bad.txt",
    "T1\tAda\tLovelace\nT1\tAda\tByron\nT2\tGrace\t\nT3\tAlan\tTuring\n",
  );
  const first = await queue(sb, teacherRunSettings(bad));
  assert.equal(await worker.run(first), 0);
  const pid = worker.pid;
  const [one] = await sb.query("SELECT status, inserted, rejected FROM runs WHERE id = ?", [first]);
  assert.deepEqual(one, { status: "succeeded_with_errors", inserted: 1, rejected: 3 });
  const second = await queue(sb, teacherRunSettings(await teachers(sb, "good.txt", 2, 10)));
  assert.equal(await worker.run(second), 0);
  assert.equal(worker.pid, pid, "the same process, on the same connection");
  const [two] = await sb.query("SELECT status, inserted, rejected FROM runs WHERE id = ?", [
    second,
  ]);
  assert.deepEqual(two, { status: "succeeded", inserted: 2, rejected: 0 });
  assert.deepEqual(await sb.query("SELECT line FROM run_errors WHERE run_id = ?", [second]), []);
  assert.equal(await teacherCount(sb), 3);
});

Deno.test("a warm process that died while waiting is replaced; the run goes to the new one", async () => {
  const { sb, worker } = await withWorker();
  await using _ = sb;
  await using _worker = worker;
  worker.start();
  const dead = worker.pid!;
  // Killed right away, before the run is handed over, and again once it is gone.
  Deno.kill(dead, "SIGKILL");
  const first = await queue(sb, teacherRunSettings(await teachers(sb, "a.txt", 2)));
  assert.equal(await worker.run(first), 0);
  assert.equal((await status(sb, first))["status"], "succeeded");
  const next = worker.pid!;
  assert.notEqual(next, dead);
  Deno.kill(next, "SIGKILL");
  await until(() => worker.pid === undefined, "the worker saw its process die");
  const second = await queue(sb, teacherRunSettings(await teachers(sb, "b.txt", 2, 3)));
  assert.equal(await worker.run(second), 0);
  assert.equal((await status(sb, second))["status"], "succeeded");
  assert.equal(await teacherCount(sb), 4);
});

Deno.test("a run past its timeout kills the warm process mid-run: nothing changes, the next run gets a new one", async () => {
  const { sb, worker } = await withWorker();
  await using _ = sb;
  await using _worker = worker;
  const warm = await queue(sb, teacherRunSettings(await teachers(sb, "a.txt", 1)));
  assert.equal(await worker.run(warm), 0);
  const pid = worker.pid!;
  const before = await sb.checksum();
  const big = await queue(sb, teacherRunSettings(await teachers(sb, "big.txt", 40_000, 2)));
  assert.equal(await worker.run(big, { timeoutSeconds: 0.1 }), KILLED_AT_TIMEOUT);
  // Taken and killed before its end: still running until its lease expires (the
  // service's executeQueued marks it interrupted at once).
  assert.equal((await status(sb, big))["status"], "running");
  assert.equal(await sb.checksum(), before);
  await until(() => !alive(pid), "the killed process is gone");
  const after = await queue(sb, teacherRunSettings(await teachers(sb, "b.txt", 1, 50_000)));
  assert.equal(await worker.run(after), 0);
  assert.equal((await status(sb, after))["status"], "succeeded");
  assert.notEqual(worker.pid, pid);
});

Deno.test("a run the service's warm process is killed for at the run timeout is marked interrupted saying so", async () => {
  const sb = await Sandbox.create();
  await using _ = sb;
  const config = { ...loadConfig({ env: sb.env }), runTimeoutSeconds: 1 };
  await using worker = new ImportWorker(config);
  const database = await openDatabase(config);
  try {
    const before = await sb.checksum();
    const big = await queue(sb, teacherRunSettings(await teachers(sb, "big.txt", 400_000)));
    await executeQueued({ db: database.db, config }, big, worker);
    const run = await status(sb, big);
    assert.equal(run["status"], "interrupted");
    assert.equal(
      run["message"],
      "Stopped after 1 s, the longest a run may take (AUTOCOMM_RUN_TIMEOUT_SECONDS); nothing was changed",
    );
    assert.equal(await sb.checksum(), before);
  } finally {
    database.close();
  }
});

Deno.test("SIGTERM to the warm process stops its run at a safe point, and the process ends", async () => {
  const { sb, worker } = await withWorker();
  await using _ = sb;
  await using _worker = worker;
  const before = await sb.checksum();
  const big = await queue(sb, teacherRunSettings(await teachers(sb, "big.txt", 200_000)));
  let signalled = false;
  let pid: number | undefined;
  const code = await worker.run(big, {
    onProgress: () => {
      if (signalled) return;
      signalled = true;
      pid = worker.pid;
      Deno.kill(pid!, "SIGTERM");
    },
  });
  assert.ok(signalled, "the run ended before it reported progress");
  assert.equal(code, 0);
  const run = await status(sb, big);
  assert.equal(run["status"], "interrupted");
  assert.equal(run["message"], "Stopped by SIGTERM before it finished; nothing was changed");
  assert.equal(await sb.checksum(), before);
  assert.deepEqual(stageFiles(sb), [], "the stopped run removed its stage file");
  await until(() => !alive(pid!), "the stopped process ended");
});

Deno.test("a run whose warm process is killed is marked interrupted by the service, and its stage file removed", async () => {
  const { sb, worker } = await withWorker();
  await using _ = sb;
  await using _worker = worker;
  const config = loadConfig({ env: sb.env });
  const database = await openDatabase(config);
  try {
    const before = await sb.checksum();
    // 5 MB: staged on the second thread, in a stage file next to an embedded database.
    const big = await queue(sb, teacherRunSettings(await teachers(sb, "big.txt", 150_000)));
    const executing = executeQueued({ db: database.db, config }, big, worker);
    // Killed once the run has started (a process that dies before it takes a run
    // hands the run to a new one) and, on the embedded file, is writing its stage file.
    const embedded = filePathOf(config.databaseUrl) !== undefined;
    for (let i = 0; i < 500; i++) {
      const started = (await status(sb, big))["status"] === "running";
      if (started && (!embedded || stageFiles(sb).length > 0)) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal((await status(sb, big))["status"], "running");
    Deno.kill(worker.pid!, "SIGKILL");
    await executing;
    const run = await status(sb, big);
    assert.equal(run["status"], "interrupted");
    assert.equal(
      run["message"],
      "The import process stopped before the run finished; nothing was changed",
    );
    assert.equal(await sb.checksum(), before);
    assert.deepEqual(stageFiles(sb), []);
  } finally {
    database.close();
  }
});

Deno.test("a warm process holding more than AUTOCOMM_IMPORT_PROCESS_MAX_MB after a run is replaced", async () => {
  const { sb, worker } = await withWorker({ AUTOCOMM_IMPORT_PROCESS_MAX_MB: "1" });
  await using _ = sb;
  await using _worker = worker;
  const first = await queue(sb, teacherRunSettings(await teachers(sb, "a.txt", 2)));
  assert.equal(await worker.run(first), 0);
  const replacement = worker.pid;
  assert.ok(replacement !== undefined, "a new process is started at once");
  const second = await queue(sb, teacherRunSettings(await teachers(sb, "b.txt", 2, 3)));
  assert.equal(await worker.run(second), 0);
  assert.notEqual(worker.pid, replacement);
  await until(() => !alive(replacement), "the process that ran the second run retired");
  assert.equal(await teacherCount(sb), 4);
});

Deno.test("a run asked while another executes gets a process of its own", async () => {
  const { sb, worker } = await withWorker();
  await using _ = sb;
  await using _worker = worker;
  const a = await queue(sb, teacherRunSettings(await teachers(sb, "a.txt", 3_000)));
  const b = await queue(sb, teacherRunSettings(await teachers(sb, "b.txt", 3_000, 3_001)));
  assert.deepEqual(await Promise.all([worker.run(a), worker.run(b)]), [0, 0]);
  assert.equal((await status(sb, a))["status"], "succeeded");
  assert.equal((await status(sb, b))["status"], "succeeded");
  assert.equal(await teacherCount(sb), 6_000);
});

Deno.test("closing the worker while it executes a run lets the run end first", async () => {
  const { sb, worker } = await withWorker();
  await using _ = sb;
  await using _worker = worker;
  const id = await queue(sb, teacherRunSettings(await teachers(sb, "a.txt", 20_000)));
  const running = worker.run(id);
  await new Promise((r) => setTimeout(r, 50));
  await worker.close();
  assert.equal(await running, 0);
  assert.equal((await status(sb, id))["status"], "succeeded");
  assert.equal(await teacherCount(sb), 20_000);
});

Deno.test({
  name:
    "a run whose stage file cannot be made fails, changes nothing, and the warm process goes on",
  // The stage file belongs to the embedded database.
  ignore: (globalThis as { AUTOCOMM_SANDBOX_BACKEND?: string }).AUTOCOMM_SANDBOX_BACKEND ===
    "sqld",
  fn: async () => {
    const { sb, worker } = await withWorker({ AUTOCOMM_STAGING_THREAD_MIN_BYTES: "0" });
    await using _ = sb;
    await using _worker = worker;
    const config = loadConfig({ env: sb.env });
    const before = await sb.checksum();
    const blocked = await queue(sb, teacherRunSettings(await teachers(sb, "a.txt", 3)));
    // A directory that is not empty where the run's stage file would go.
    const stage = `${filePathOf(config.databaseUrl)}-stage-${blocked}`;
    await Deno.mkdir(stage);
    await Deno.writeTextFile(`${stage}/in-the-way`, "");
    assert.equal(await worker.run(blocked), 1, "the run failed");
    const pid = worker.pid;
    const failed = await status(sb, blocked);
    assert.equal(failed["status"], "failed");
    assert.match(String(failed["message"]), /^The run failed and changed nothing: .*-stage-/);
    assert.equal(await sb.checksum(), before);
    await Deno.remove(stage, { recursive: true });
    const next = await queue(sb, teacherRunSettings(await teachers(sb, "b.txt", 2)));
    assert.equal(await worker.run(next), 0);
    assert.equal(worker.pid, pid, "the same process took the next run");
    assert.equal((await status(sb, next))["status"], "succeeded");
    assert.equal(await teacherCount(sb), 2);
    assert.deepEqual(stageFiles(sb), []);
  },
});
