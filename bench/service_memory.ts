/**
 * `deno run -A --frozen bench/service_memory.ts [--remote [--inline]] [--scale 1]`
 *
 * The memory of the running service while it imports the bench's 1,400,000-row
 * schedules file: it generates the district's files (seeded as `bench.ts` does), sets
 * up a data directory — on the embedded file, or with `--remote` on a `sqld` it starts
 * on loopback — and loads the schedules' prerequisites with `autocomm import`. Then it
 * starts the service (`src/main.ts`) as a process of its own, creates a record of the
 * schedules file through the API and runs it (Run Now, `POST /api/v1/records/{id}/run`),
 * sampling every 20 ms the resident memory of the service process and of its import
 * process until the run has ended. It prints the largest sum of the two at one sample
 * and each one's own peak (`VmHWM`). Target: under 450 MB together.
 */
import { addSftpConnection, randomSecretKey } from "./connection.ts";
import { parseArgs } from "node:util";
import { FIELDS, generateTable, SCHOOL, setupJson, sizesAt } from "./generate.ts";
import { importArgs } from "./scenario.ts";
import { measure, processTree } from "./measure.ts";
import { freePort, type SqldServer, startSqld } from "./sqld.ts";
import { scriptArgs } from "../src/util/process.ts";
import { type SftpServer, startSftpServer } from "../tests/support/sftp_server.ts";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname).replace(/\/$/, "");
const TARGET_MB = 450;
const { values } = parseArgs({
  args: Deno.args,
  options: {
    remote: { type: "boolean", default: false },
    inline: { type: "boolean", default: false },
    scale: { type: "string", default: "1" },
    seed: { type: "string", default: "20260817" },
  },
});

const work = await Deno.makeTempDir({ prefix: "autocomm_service_memory_" });
const data = `${work}/data`;
const importRoot = `${data}/import`;
await Deno.mkdir(importRoot, { recursive: true });
await Deno.mkdir(`${work}/files`, { recursive: true });
const token = crypto.randomUUID();
let sqld: SqldServer | undefined;
let sftp: SftpServer | undefined;
const env: Record<string, string> = {
  PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
  HOME: Deno.env.get("HOME") ?? work,
  AUTOCOMM_DATA_DIR: data,
  AUTOCOMM_TIMEZONE: "UTC",
  AUTOCOMM_LOG_LEVEL: "warn",
  AUTOCOMM_RUN_TIMEOUT_SECONDS: "7200",
  AUTOCOMM_MIN_FILE_AGE_SECONDS: "0",
  AUTOCOMM_API_TOKEN: token,
};

async function cli(args: string[]): Promise<void> {
  const m = await measure(Deno.execPath(), scriptArgs(`${ROOT}/src/cli.ts`, args), {
    env,
    cwd: ROOT,
  });
  if (m.code !== 0) throw new Error(`autocomm ${args[0]} failed: ${m.stderr || m.stdout}`);
}

/** VmRSS and VmHWM of a process, in MB (0 when it is gone). */
function memoryOf(pid: number): { rss: number; hwm: number } {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = (f: string) => Number(new RegExp(`^${f}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
    return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024 };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

async function main(): Promise<void> {
  if (values.inline && !values.remote) {
    throw new Error("--inline needs --remote (inline runs need a libSQL server)");
  }
  if (values.remote) {
    sqld = await startSqld();
    env["DATABASE_URL"] = sqld.url;
  }
  const sizes = sizesAt(Number(values.scale));
  await Deno.writeTextFile(`${work}/setup.json`, JSON.stringify(setupJson()));
  await cli(["setup", "load", `${work}/setup.json`]);
  const seed = Number(values.seed);
  for (const t of ["teachers", "courses", "sections", "students"] as const) {
    const f = await generateTable(`${work}/files`, t, seed, sizes);
    console.error(`loading ${t} (${f.expected.rows} rows) with autocomm import …`);
    await cli(importArgs(t, "first-import", f.base));
  }
  const schedules = await generateTable(importRoot, "schedules", seed, sizes);
  let connectionId: number | undefined;
  if (values.inline) {
    // The serverless profile: the import runs in the service's own process and reads its
    // file over SFTP (no local folder in that profile).
    sftp = await startSftpServer({ root: importRoot });
    env["AUTOCOMM_SECRET_KEY"] = randomSecretKey();
    env["AUTOCOMM_IMPORT_MODE"] = "inline";
    connectionId = await addSftpConnection(sftp, env);
  }
  const port = freePort();
  const service = new Deno.Command(Deno.execPath(), {
    args: scriptArgs(`${ROOT}/src/main.ts`, []),
    env: { ...env, PORT: String(port) },
    clearEnv: true,
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  try {
    await measureRun(service.pid, port, {
      path: schedules.base.slice(importRoot.length + 1),
      connectionId,
    });
  } finally {
    service.kill("SIGTERM");
    await service.status;
  }
}

async function api(port: number, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

async function measureRun(
  pid: number,
  port: number,
  file: { path: string; connectionId: number | undefined },
): Promise<void> {
  for (let i = 0;; i++) {
    try {
      await (await fetch(`http://127.0.0.1:${port}/api/v1/openapi.json`)).body?.cancel();
      break;
    } catch (error) {
      if (i > 600) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const created = await api(port, "/records", {
    schoolId: SCHOOL,
    name: "Schedules",
    table: "schedules",
    path: file.path,
    ...(file.connectionId !== undefined
      ? { source: "managed", connectionId: file.connectionId }
      : {}),
    fields: [...FIELDS.schedules],
    fieldDelimiter: "tab",
    recordDelimiter: "LF",
    charset: "utf-8",
    updateExisting: true,
    executionOff: true,
  }) as { records: { id: number }[] };
  const recordId = created.records[0]!.id;
  const idle = memoryOf(pid);
  let peakSum = 0;
  const peaks = new Map<number, number>();
  const timer = setInterval(() => {
    let sum = 0;
    for (const p of processTree(pid)) {
      const m = memoryOf(p);
      sum += m.rss;
      peaks.set(p, Math.max(peaks.get(p) ?? 0, m.hwm));
    }
    peakSum = Math.max(peakSum, sum);
  }, 20);
  const t0 = performance.now();
  const { runId } = await api(port, `/records/${recordId}/run`, {}) as { runId: number };
  let run: Record<string, unknown> = {};
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    run = await api(port, `/runs/${runId}`);
    if (!["queued", "running", "waiting"].includes(String(run["status"]))) break;
  }
  clearInterval(timer);
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    `${values.remote ? "sqld" : "embedded file"}${values.inline ? ", inline" : ""}: run ${runId} ${
      run["status"]
    } in ${seconds.toFixed(1)} s, ${JSON.stringify(run["counts"])}`,
  );
  console.log(`service process before the run: ${idle.rss.toFixed(0)} MB resident`);
  for (const [p, hwm] of peaks) {
    console.log(`  pid ${p}${p === pid ? " (service)" : ""}: peak ${hwm.toFixed(0)} MB`);
  }
  console.log(
    `largest resident sum of the service and its import process: ${
      peakSum.toFixed(0)
    } MB (target < ${TARGET_MB} MB)`,
  );
}

try {
  await main();
} finally {
  await sqld?.stop();
  await sftp?.[Symbol.asyncDispose]();
  await Deno.remove(work, { recursive: true }).catch(() => {});
}
