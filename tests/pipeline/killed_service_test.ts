/**
 * `kill -9` of the real service while its import process applies a large file: the
 * import process sees its service gone, rolls back and marks the run interrupted
 * without committing, and after a restart Run Now works at once; when the import
 * process is killed too, the run's short lease frees the record within seconds.
 */
import assert from "node:assert/strict";
import { REPO_ROOT, spawnScript } from "../support/cli.ts";
import { readElsewhere } from "../support/lock_holder.ts";
import { freePort } from "../support/sqld.ts";
import { schoolYear, studentsRecord, testSetup } from "../support/web.ts";

const TOKEN = "kill-test-api-token-0123456789";
const ROWS = 400_000;

interface Service {
  url: string;
  child: Deno.ChildProcess;
  api(path: string, init?: { method?: string; json?: unknown }): Promise<Response>;
}

async function startService(dir: string): Promise<Service> {
  const port = freePort();
  const child = spawnScript(`${REPO_ROOT}/src/main.ts`, [], {
    AUTOCOMM_DATA_DIR: dir,
    PORT: String(port),
    AUTOCOMM_API_TOKEN: TOKEN,
    AUTOCOMM_RUN_LEASE_SECONDS: "3",
    AUTOCOMM_MIN_FILE_AGE_SECONDS: "0",
    AUTOCOMM_LOG_LEVEL: "error",
  });
  child.stdout.cancel();
  child.stderr.cancel();
  const url = `http://127.0.0.1:${port}`;
  const api = async (path: string, init: { method?: string; json?: unknown } = {}) =>
    await fetch(`${url}${path}`, {
      method: init.method ?? "GET",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
    });
  for (const until = Date.now() + 30_000;;) {
    try {
      const res = await fetch(`${url}/healthz`);
      await res.body?.cancel();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    assert.ok(Date.now() < until, "the service started");
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, child, api };
}

/** The pids of a process's children (Linux). */
async function childrenOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  for await (const task of Deno.readDir(`/proc/${pid}/task`)) {
    const text = await Deno.readTextFile(`/proc/${pid}/task/${task.name}/children`)
      .catch(() => "");
    out.push(...text.trim().split(/\s+/).filter((s) => s !== "").map(Number));
  }
  return out;
}

async function isAlive(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

async function waitFor<T>(
  what: string,
  seconds: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  for (const until = Date.now() + seconds * 1000;;) {
    const value = await probe();
    if (value !== undefined) return value;
    assert.ok(Date.now() < until, `${what} within ${seconds} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function prepare(dir: string): Promise<{ service: Service; big: number; small: number }> {
  const service = await startService(dir);
  let res = await service.api("/api/v1/setup", { method: "POST", json: testSetup() });
  assert.equal(res.status, 200, await res.text());
  res = await service.api("/api/v1/records", {
    method: "POST",
    json: studentsRecord({ name: "Big", path: "big.txt" }),
  });
  assert.equal(res.status, 201);
  const big = (await res.json()).records[0].id;
  res = await service.api("/api/v1/records", {
    method: "POST",
    json: studentsRecord({ name: "Small", path: "small.txt" }),
  });
  assert.equal(res.status, 201);
  const small = (await res.json()).records[0].id;
  const entry = `08/20/${schoolYear()}`;
  const lines: string[] = [];
  for (let i = 1; i <= ROWS; i++) lines.push(`${100000 + i}\tAnn\tLee\t3\t${entry}`);
  await Deno.writeTextFile(`${dir}/import/big.txt`, lines.join("\n") + "\n");
  await Deno.writeTextFile(`${dir}/import/small.txt`, `1\tBo\tKim\t4\t${entry}\n`);
  return { service, big, small };
}

/** Kills a service process (if it still runs) and waits for its end. */
async function kill(service: Service): Promise<void> {
  try {
    service.child.kill("SIGKILL");
  } catch {
    // already gone
  }
  await service.child.status;
}

async function runNow(service: Service, recordId: number): Promise<Response> {
  return await service.api(`/api/v1/records/${recordId}/run`, { method: "POST" });
}

/** Starts the big import and waits until its import process is applying it. */
async function bigRunUnderWay(service: Service, big: number, file: string) {
  const res = await runNow(service, big);
  assert.equal(res.status, 202);
  const runId: number = (await res.json()).runId;
  await waitFor("the big run is running", 60, async () => {
    const [run] = await readElsewhere(file, `SELECT status FROM runs WHERE id = ${runId}`);
    return run?.status === "running" ? true : undefined;
  });
  const [importer] = await childrenOf(service.child.pid);
  assert.ok(importer !== undefined, "the service has an import process");
  return { runId, importer };
}

Deno.test("after kill -9 of the service its import process rolls back, the run is interrupted and Run Now works after a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "autocomm_kill_" });
  const file = `${dir}/autocomm.db`;
  const { service, big } = await prepare(dir);
  try {
    const { runId, importer } = await bigRunUnderWay(service, big, file);
    await kill(service);

    await waitFor("the import process exits", 60, async () => {
      return (await isAlive(importer)) ? undefined : true;
    });
    const [run] = await readElsewhere(file, `SELECT status, message FROM runs WHERE id = ${runId}`);
    assert.equal(run?.status, "interrupted");
    assert.match(String(run?.message), /started the run .* stopped .*nothing was changed/);
    assert.deepEqual(await readElsewhere(file, "SELECT count(*) AS n FROM students"), [{ n: 0 }]);

    const again = await startService(dir);
    try {
      const res = await runNow(again, big);
      assert.equal(res.status, 202, await res.clone().text());
      await res.body?.cancel();
    } finally {
      await kill(again);
    }
  } finally {
    await kill(service);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("after kill -9 of the service and its import process the run's lease frees the record within seconds", async () => {
  const dir = await Deno.makeTempDir({ prefix: "autocomm_kill_" });
  const file = `${dir}/autocomm.db`;
  const { service, big, small } = await prepare(dir);
  try {
    const { runId, importer } = await bigRunUnderWay(service, big, file);
    // A second run waits in the killed service's queue.
    const queued = await runNow(service, small);
    assert.equal(queued.status, 202);
    const queuedId: number = (await queued.json()).runId;
    Deno.kill(importer, "SIGKILL");
    await kill(service);

    const again = await startService(dir);
    try {
      // Until its lease (3 s here, 60 s by default) ends, a record is still running.
      const accepted = (recordId: number) =>
        waitFor("Run Now is accepted again", 30, async () => {
          const res = await runNow(again, recordId);
          if (res.status === 202) return res;
          assert.equal(res.status, 409);
          await res.body?.cancel();
          return undefined;
        });
      const started = Date.now();
      await (await accepted(big)).body?.cancel();
      await (await accepted(small)).body?.cancel();
      assert.ok(Date.now() - started < 15_000, "freed within a few lease lengths");
      const runs = new Map(
        (await readElsewhere(
          file,
          `SELECT id, status FROM runs WHERE id IN (${runId}, ${queuedId})`,
        )).map((r) => [Number(r.id), r.status]),
      );
      assert.equal(runs.get(runId), "interrupted");
      assert.equal(runs.get(queuedId), "interrupted");
    } finally {
      await kill(again);
    }
  } finally {
    await kill(service);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
