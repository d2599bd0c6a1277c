/**
 * `deno task bench [--scale 0.1] [--tables students,teachers] [--seed N] [--source local|sftp] [--json] [--keep] [--verbose]`
 *
 * Generates a seeded district (200,000 students × 25 columns, 12,000 teachers, 3,000
 * courses, 40,000 sections, 1,400,000 schedule rows, one day of attendance), then for
 * each table in dependency order measures three scenarios side by side in the same
 * run — AutoComm as the service runs an import (queued, then executed by the run
 * queue's warm import process, `src/pipeline/worker.ts`), AutoComm's one-off CLI
 * `import` as a whole subprocess (a Deno start of its own; it executes the run itself),
 * and Debian's `sqlite3` CLI doing the same work on the same TSV:
 *
 *   first-import            empty table
 *   reimport-identical      the same file again, Update existing on
 *   reimport-changed-sync   10 % of rows changed, 5 % missing; Update existing and
 *                           Synchronize Mode (removal limit 100 %, so it is not held)
 *
 * It prints rows per second, the ratio to sqlite3 and peak RSS per scenario; with
 * `--json` a list of {scenario, rows, seconds, sqliteSeconds, ratio, peakRssMb} (the
 * service's figures) with the CLI's beside them. Targets: ratio ≤ 3 and peak RSS < 300
 * MB per process, for the service. With `--source sftp` the service's runs read their
 * files over SFTP (a managed connection to an in-process `ssh2` server on loopback
 * serving the generated files); the CLI and sqlite3 still read them locally. With
 * `--remote` each scenario runs as the service's run twice instead — on the embedded
 * file and over a `sqld` it starts on loopback (`DATABASE_URL=http://127.0.0.1:…`) —
 * and it prints both times, their ratio (target ≤ 2.5) and the import process's peak
 * RSS over sqld (target < 300 MB). See bench/README.md.
 */
import { addSftpConnection, randomSecretKey } from "./connection.ts";
import { parseArgs } from "node:util";
import {
  type BenchTable,
  DEPENDS_ON,
  type Expected,
  generateTable,
  SCHOOL,
  setupJson,
  sizesAt,
  TABLE_ORDER,
  type TableFiles,
} from "./generate.ts";
import { loadConfig } from "../src/config.ts";
import { openExecutor, type SqlExecutor } from "../src/pipeline/executor.ts";
import { insertRun, readRunReport } from "../src/pipeline/run_store.ts";
import { ImportWorker } from "../src/pipeline/worker.ts";
import { scriptArgs } from "../src/util/process.ts";
import { measure, type Measured, PeakSampler } from "./measure.ts";
import { importArgs, runSettings } from "./scenario.ts";
import { startSftpServer } from "../tests/support/sftp_server.ts";
import { type SqldServer, startSqld } from "./sqld.ts";
import { type ScenarioKind, SCENARIOS, sqliteCounts, sqliteScript } from "./sqlite.ts";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname).replace(/\/$/, "");
const RATIO_TARGET = 3;
const RSS_TARGET_MB = 300;

const USAGE = `Usage: deno task bench [options]
  --scale X        multiply every size by X (default 1; 0.1 runs a tenth)
  --tables a,b     run only these tables (their prerequisites are loaded, not measured)
  --seed N         seed of the generated district (default 20260817)
  --source S       where the service's runs read files: local (default) or sftp
  --remote         each scenario as the service runs it on the embedded file and over a
                   sqld on loopback; prints both times and their ratio (no CLI, no sqlite3)
  --json           print only a JSON list of results on stdout (progress goes to stderr)
  --keep           keep the work directory under bench/out/
  --verbose        also print each process's peak RSS and the CLI's output`;

/** One measured scenario. */
export interface Result {
  scenario: string;
  rows: number;
  /** The service's time: queueing the run, and its execution in the warm import process. */
  seconds: number;
  sqliteSeconds: number;
  ratio: number;
  /** Peak RSS of the warm import process during the run. */
  peakRssMb: number;
  /** The one-off CLI import's wall time (whole subprocess tree, Deno start-up included). */
  cliSeconds: number;
  cliRatio: number;
  /** Largest peak RSS of any single process of the CLI's tree. */
  cliPeakRssMb: number;
}

interface Detail extends Result {
  table: BenchTable;
  kind: ScenarioKind;
  /** started_at → ended_at of the CLI's run row. */
  runSeconds: number | null;
  treeRssMb: number;
  sqliteRssMb: number;
  processes: Measured["processes"];
  warnings: string[];
}

function fail(message: string): never {
  console.error(`bench: ${message}`);
  Deno.exit(1);
}

const { values } = (() => {
  try {
    return parseArgs({
      args: Deno.args,
      options: {
        scale: { type: "string", default: "1" },
        tables: { type: "string" },
        seed: { type: "string", default: "20260817" },
        source: { type: "string", default: "local" },
        remote: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        keep: { type: "boolean", default: false },
        verbose: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : error}\n\n${USAGE}`);
    Deno.exit(64);
  }
})();
if (values.help) {
  console.log(USAGE);
  Deno.exit(0);
}
const scale = Number(values.scale);
if (!Number.isFinite(scale) || scale <= 0 || scale > 10) fail("--scale is a number in (0, 10]");
const seed = Number(values.seed);
if (!Number.isInteger(seed)) fail("--seed is an integer");
if (values.source !== "local" && values.source !== "sftp") fail("--source is local or sftp");
const overSftp = values.source === "sftp";
const selected: BenchTable[] = values.tables === undefined
  ? [...TABLE_ORDER]
  : values.tables.split(",").map((t) => t.trim().toLowerCase()).filter((t) => t !== "").map(
    (t) => {
      if (!(TABLE_ORDER as readonly string[]).includes(t)) {
        fail(`unknown table ${t}; use ${TABLE_ORDER.join(", ")}`);
      }
      return t as BenchTable;
    },
  );
const needed = new Set<BenchTable>();
const need = (t: BenchTable) => {
  if (needed.has(t)) return;
  needed.add(t);
  DEPENDS_ON[t].forEach(need);
};
selected.forEach(need);

/** Progress and the SQL go to stderr with --json, to stdout otherwise. */
const say = (line = "") => values.json ? console.error(line) : console.log(line);
const progress = (line: string) => console.error(line);

const work = `${ROOT}/bench/out/run-${new Date().toISOString().replace(/[:.]/g, "-")}`;
const dirs = {
  files: `${work}/files`,
  data: `${work}/data`,
  service: `${work}/service`,
  remote: `${work}/remote`,
  sqlite: `${work}/sqlite`,
};
for (const d of Object.values(dirs)) await Deno.mkdir(d, { recursive: true });
const sqliteDb = `${dirs.sqlite}/bench.db`;

const env: Record<string, string> = {};
for (const [k, v] of Object.entries(Deno.env.toObject())) {
  if (k.startsWith("AUTOCOMM_") || k.startsWith("DATABASE_") || k.startsWith("SMTP_")) continue;
  env[k] = v;
}
Object.assign(env, {
  AUTOCOMM_DATA_DIR: dirs.data,
  AUTOCOMM_TIMEZONE: "UTC",
  AUTOCOMM_RUN_TIMEOUT_SECONDS: "7200",
  AUTOCOMM_LOG_LEVEL: "warn",
});

/** Runs the CLI on the CLI's data directory, or on the service's with `dataDir`. */
async function cli(args: string[], dataDir = dirs.data): Promise<Measured> {
  return await measure(
    Deno.execPath(),
    scriptArgs(`${ROOT}/src/cli.ts`, args),
    { env: { ...env, AUTOCOMM_DATA_DIR: dataDir }, cwd: ROOT },
  );
}

/**
 * The service's side: its configuration on the service's data directory, the run queue's
 * warm import process, and a connection to queue runs and read their reports with.
 */
interface Service {
  worker: ImportWorker;
  exec: SqlExecutor;
  /** With --source sftp: the managed connection that serves the generated files. */
  connectionId?: number;
}

/** Queues a run as the service does and executes it in the warm import process. */
async function serviceRun(
  service: Service,
  table: BenchTable,
  kind: ScenarioKind,
  file: string,
): Promise<{ seconds: number; peakMb: number; report: Report | null; code: number }> {
  const sampler = new PeakSampler(() => service.worker.pid);
  const t0 = performance.now();
  const local = runSettings(table, kind, file);
  const settings = service.connectionId === undefined ? local : {
    ...local,
    file: null,
    source: "managed" as const,
    connectionId: service.connectionId,
    path: file.slice(dirs.files.length + 1),
  };
  const runId = await insertRun(service.exec, settings, { trigger: "run_now" });
  const code = await service.worker.run(runId);
  const seconds = (performance.now() - t0) / 1000;
  const peakMb = sampler.stop();
  const r = await readRunReport(service.exec, runId, { errorLimit: 5 });
  const report = r ? { runId, status: r.status, counts: { ...r.counts }, errors: r.errors } : null;
  return { seconds, peakMb, report, code };
}

async function sqlite3(args: string[], stdin?: string): Promise<Measured> {
  return await measure("sqlite3", args, stdin === undefined ? {} : { stdin });
}

const fmt = (n: number, digits = 2) => n.toFixed(digits);
const int = (n: number) => Math.round(n).toLocaleString("en-US");

async function main(): Promise<Detail[]> {
  const sizes = sizesAt(scale);
  const sqliteVersion = (await sqlite3(["--version"])).stdout.split(" ")[0] ?? "?";
  say(
    `AutoComm import bench — scale ${scale}, seed ${seed}, Deno ${Deno.version.deno}, sqlite3 ${sqliteVersion}`,
  );
  say(
    `District (one school, ${SCHOOL}): ${
      TABLE_ORDER.map((t) => `${int(sizes[t])} ${t}`).join(", ")
    }`,
  );
  say(
    `Work directory: ${work}${values.keep ? " (kept)" : " (removed at the end; --keep keeps it)"}`,
  );

  await Deno.writeTextFile(`${work}/setup.json`, JSON.stringify(setupJson(), null, 2));
  for (const dataDir of [dirs.data, dirs.service]) {
    const setup = await cli(["setup", "load", `${work}/setup.json`], dataDir);
    if (setup.code !== 0) throw new Error(`setup load failed: ${setup.stderr || setup.stdout}`);
  }
  const startup = await cli(["setup", "show", "--json"]);
  say(
    `AutoComm CLI start-up (a 'setup show', migrations checked): ${fmt(startup.seconds)} s, ${
      fmt(startup.peakProcessMb, 0)
    } MB`,
  );
  const sftp = overSftp ? await startSftpServer({ root: dirs.files }) : undefined;
  let connectionId: number | undefined;
  if (sftp) {
    env["AUTOCOMM_SECRET_KEY"] = randomSecretKey();
    connectionId = await addSftpConnection(sftp, { ...env, AUTOCOMM_DATA_DIR: dirs.service });
    say(`The service's runs read their files over SFTP (127.0.0.1:${sftp.port}).`);
  }
  const config = loadConfig({ env: { ...env, AUTOCOMM_DATA_DIR: dirs.service } });
  const service: Service = {
    worker: new ImportWorker(config),
    exec: await openExecutor(config),
    ...(connectionId !== undefined ? { connectionId } : {}),
  };
  // Started as the service starts it, while the files are generated.
  service.worker.start();
  let sqld: SqldServer | undefined;
  let remote: Service | undefined;
  try {
    if (values.remote) {
      sqld = await startSqld();
      remote = await remoteService(sqld.url);
      say(`The remote runs go to sqld at ${sqld.url} (database ${sqld.dbPath}).`);
    }
    return await measureTables(sizes, service, remote);
  } finally {
    await service.worker.close();
    service.exec.close();
    await remote?.worker.close();
    remote?.exec.close();
    await sftp?.close();
    await sqld?.stop();
  }
}

/** The service's side over sqld at `url`: its own data directory, set up as the other. */
async function remoteService(url: string): Promise<Service> {
  const remoteEnv = { ...env, AUTOCOMM_DATA_DIR: dirs.remote, DATABASE_URL: url };
  const setup = await measure(
    Deno.execPath(),
    scriptArgs(`${ROOT}/src/cli.ts`, ["setup", "load", `${work}/setup.json`]),
    { env: remoteEnv, cwd: ROOT },
  );
  if (setup.code !== 0) throw new Error(`setup load on sqld failed: ${setup.stderr}`);
  const config = loadConfig({ env: remoteEnv });
  const remote: Service = { worker: new ImportWorker(config), exec: await openExecutor(config) };
  remote.worker.start();
  return remote;
}

/** One scenario of `--remote`: the service's run on the embedded file, then over sqld. */
interface RemoteDetail {
  scenario: string;
  rows: number;
  embeddedSeconds: number;
  remoteSeconds: number;
  /** remoteSeconds / embeddedSeconds; target ≤ {@linkcode REMOTE_RATIO_TARGET}. */
  ratio: number;
  embeddedPeakMb: number;
  /** Peak RSS of the import process over sqld; target < {@linkcode RSS_TARGET_MB}. */
  remotePeakMb: number;
  warnings: string[];
}

const REMOTE_RATIO_TARGET = 2.5;
const remoteDetails: RemoteDetail[] = [];

async function measureRemote(
  service: Service,
  remote: Service,
  scenario: { table: BenchTable; kind: ScenarioKind; file: string; rows: number; f: TableFiles },
): Promise<void> {
  const { table, kind, file, f } = scenario;
  const name = `${table}/${kind}`;
  const warnings: string[] = [];
  const runs = [];
  for (const [side, s] of [["embedded", service], ["sqld", remote]] as const) {
    progress(`${name}: AutoComm service on ${side} …`);
    const r = await serviceRun(s, table, kind, file);
    if (r.code !== 0 || !r.report) {
      warnings.push(`${side}: run ended with ${r.report?.status ?? "no report"}`);
    } else {
      warnings.push(...checkCounts(kind, f.expected, r.report).map((w) => `${side}: ${w}`));
    }
    runs.push(r);
  }
  const [e, r] = runs as [(typeof runs)[0], (typeof runs)[0]];
  const d: RemoteDetail = {
    scenario: name,
    rows: scenario.rows,
    embeddedSeconds: e.seconds,
    remoteSeconds: r.seconds,
    ratio: r.seconds / e.seconds,
    embeddedPeakMb: e.peakMb,
    remotePeakMb: r.peakMb,
    warnings,
  };
  remoteDetails.push(d);
  progress(
    `${name}: embedded ${fmt(d.embeddedSeconds)} s (peak ${fmt(d.embeddedPeakMb, 0)} MB), sqld ${
      fmt(d.remoteSeconds)
    } s (peak ${fmt(d.remotePeakMb, 0)} MB), ratio ${fmt(d.ratio)}`,
  );
  for (const w of warnings) progress(`  WARNING: ${w}`);
}

function printRemoteTable(details: RemoteDetail[]) {
  const head = [
    ["scenario", 36, false],
    ["rows", 10, true],
    ["embedded s", 10, true],
    ["peak MB", 7, true],
    ["sqld s", 8, true],
    ["peak MB", 7, true],
    ["ratio", 6, true],
    ["target", 12, false],
  ] as const;
  say(head.map(([h, n, r]) => pad(h, n, r)).join("  "));
  say(head.map(([, n]) => "-".repeat(n)).join("  "));
  for (const d of details) {
    const missed = [
      d.warnings.length === 0 ? "" : "counts",
      d.ratio <= REMOTE_RATIO_TARGET ? "" : "ratio",
      d.remotePeakMb < RSS_TARGET_MB ? "" : "rss",
    ].filter((x) => x !== "");
    const cells = [
      d.scenario,
      int(d.rows),
      fmt(d.embeddedSeconds),
      fmt(d.embeddedPeakMb, 0),
      fmt(d.remoteSeconds),
      fmt(d.remotePeakMb, 0),
      fmt(d.ratio),
      missed.length === 0 ? "ok" : `MISS ${missed.join("+")}`,
    ];
    say(head.map(([, n, r], i) => pad(cells[i]!, n, r)).join("  "));
  }
  say("");
  say(
    `embedded s / sqld s: the run as the service executes it (queued, then run by the warm import ` +
      `process) on the embedded file and over sqld on loopback; peak MB: that import process's ` +
      `peak RSS. ratio: sqld s / embedded s. target: ratio ≤ ${REMOTE_RATIO_TARGET}, ` +
      `sqld peak < ${RSS_TARGET_MB} MB, both runs' counts as expected.`,
  );
  for (const d of details) for (const w of d.warnings) say(`  ${d.scenario}: ${w}`);
}

async function measureTables(
  sizes: ReturnType<typeof sizesAt>,
  service: Service,
  remote?: Service,
) {
  const files = new Map<BenchTable, TableFiles>();
  for (const t of TABLE_ORDER) {
    if (!needed.has(t)) continue;
    const t0 = performance.now();
    const f = await generateTable(dirs.files, t, seed, sizes);
    files.set(t, f);
    progress(
      `generated ${t}: ${int(f.expected.rows)} rows, ${
        fmt(f.bytes / 1048576, 1)
      } MB, changed file ${int(f.expected.changedRows)} rows (${int(f.expected.changed)} changed, ${
        int(f.expected.missing)
      } missing) in ${fmt((performance.now() - t0) / 1000, 1)} s`,
    );
  }

  const details: Detail[] = [];
  const scripts: string[] = [];
  for (const table of TABLE_ORDER) {
    if (!needed.has(table)) continue;
    const f = files.get(table)!;
    if (!selected.includes(table)) {
      progress(`loading prerequisite ${table} (not measured)`);
      // The CLI's data directory, or with --remote the one over sqld.
      const m = remote ? undefined : await cli(importArgs(table, "first-import", f.base));
      const reports = [
        m ? parseReport(m) : (await serviceRun(remote!, table, "first-import", f.base)).report,
        (await serviceRun(service, table, "first-import", f.base)).report,
      ];
      for (const r of reports) {
        if (r?.counts?.["inserted"] !== f.expected.rows) {
          throw new Error(
            `prerequisite import of ${table} failed: ${JSON.stringify(r).slice(0, 2000)} ${
              m?.stderr ?? ""
            }`,
          );
        }
      }
      continue;
    }
    for (const kind of SCENARIOS) {
      const file = kind === "reimport-changed-sync" ? f.changed : f.base;
      const rows = kind === "reimport-changed-sync" ? f.expected.changedRows : f.expected.rows;
      const scenario = `${table}/${kind}`;
      if (remote) {
        await measureRemote(service, remote, { table, kind, file, rows, f });
        continue;
      }
      const warnings: string[] = [];
      progress(`${scenario}: AutoComm service …`);
      const sv = await serviceRun(service, table, kind, file);
      if (sv.code !== 0 || !sv.report) {
        warnings.push(`AutoComm service run ended with ${sv.report?.status ?? "no report"}`);
      } else {
        warnings.push(...checkCounts(kind, f.expected, sv.report).map((w) => `service: ${w}`));
      }
      progress(`${scenario}: AutoComm CLI …`);
      const ac = await cli(importArgs(table, kind, file));
      const report = parseReport(ac);
      if (ac.code !== 0 || !report) {
        warnings.push(
          `AutoComm CLI exited ${ac.code}: ${(ac.stderr || ac.stdout).trim().slice(0, 500)}`,
        );
      } else {
        warnings.push(...checkCounts(kind, f.expected, report).map((w) => `CLI: ${w}`));
      }
      const runSeconds = report ? await runDuration(report.runId) : null;
      const script = sqliteScript(table, kind, file);
      scripts.push(`-- ${scenario}: sqlite3 ${sqliteDb} < script\n${script}`);
      progress(`${scenario}: sqlite3 …`);
      const sq = await sqlite3(["-bail", sqliteDb], script);
      if (sq.code !== 0) {
        warnings.push(`sqlite3 exited ${sq.code}: ${sq.stderr.trim().slice(0, 500)}`);
      } else if (sq.stderr.trim() !== "") {
        warnings.push(`sqlite3 said: ${sq.stderr.trim().slice(0, 300)}`);
      }
      warnings.push(...checkSqlite(kind, f.expected, sqliteCounts(sq.stdout)));
      const d: Detail = {
        scenario,
        rows,
        seconds: sv.seconds,
        sqliteSeconds: sq.seconds,
        ratio: sv.seconds / sq.seconds,
        peakRssMb: sv.peakMb,
        cliSeconds: ac.seconds,
        cliRatio: ac.seconds / sq.seconds,
        cliPeakRssMb: ac.peakProcessMb,
        table,
        kind,
        runSeconds,
        treeRssMb: ac.peakTreeMb,
        sqliteRssMb: sq.peakProcessMb,
        processes: ac.processes,
        warnings,
      };
      details.push(d);
      progress(
        `${scenario}: service ${fmt(d.seconds)} s (ratio ${fmt(d.ratio)}, peak ${
          fmt(d.peakRssMb, 0)
        } MB), CLI ${fmt(d.cliSeconds)} s (run ${
          d.runSeconds === null ? "?" : fmt(d.runSeconds)
        } s, ratio ${fmt(d.cliRatio)}, peak ${fmt(d.cliPeakRssMb, 0)} MB), sqlite3 ${
          fmt(d.sqliteSeconds)
        } s`,
      );
      for (const w of warnings) progress(`  WARNING: ${w}`);
      if (values.verbose) {
        for (const p of ac.processes) {
          progress(`  pid ${p.pid} peak ${fmt(p.peakMb, 0)} MB: ${p.command.slice(0, 160)}`);
        }
        progress(`  AutoComm CLI said: ${ac.stdout.trim().slice(0, 1000)}`);
      }
    }
  }

  if (remote) return details;
  say("");
  say("SQL given to sqlite3 (stdin of `sqlite3 -bail DB`), per table and scenario:");
  say("");
  for (const s of scripts) say(s);
  return details;
}

interface Report {
  runId: number;
  status: string;
  counts: Record<string, number>;
  errors: { line: number; field: string; code: string; message: string }[];
}

function parseReport(m: Measured): Report | null {
  const line = m.stdout.split("\n").reverse().find((l) => l.trim().startsWith("{"));
  if (!line) return null;
  try {
    return JSON.parse(line) as Report;
  } catch {
    return null;
  }
}

function checkCounts(kind: ScenarioKind, e: Expected, r: Report): string[] {
  const c = r.counts;
  const want: Record<string, number> = kind === "first-import"
    ? { read: e.rows, inserted: e.rows, updated: 0, unchanged: 0, rejected: 0, removed: 0 }
    : kind === "reimport-identical"
    ? { read: e.rows, inserted: 0, updated: 0, unchanged: e.rows, rejected: 0, removed: 0 }
    : {
      read: e.changedRows,
      inserted: 0,
      updated: e.changed,
      unchanged: e.changedRows - e.changed,
      rejected: 0,
      removed: e.missing,
    };
  const out: string[] = [];
  if (r.status !== "succeeded") out.push(`AutoComm run ${r.runId} ended ${r.status}`);
  const off = Object.entries(want).filter(([k, v]) => c[k] !== v).map(([k, v]) =>
    `${k} ${c[k]} (expected ${v})`
  );
  if (off.length > 0) out.push(`AutoComm counts: ${off.join(", ")}`);
  if (r.errors.length > 0) {
    const first = r.errors[0]!;
    out.push(
      `AutoComm row errors, first: line ${first.line} ${first.field} ${first.code}: ${first.message}`,
    );
  }
  return out;
}

function checkSqlite(kind: ScenarioKind, e: Expected, c: Record<string, number>): string[] {
  if (kind === "first-import") return [];
  const want: Record<string, number> = kind === "reimport-identical"
    ? { upserted: 0 }
    : { upserted: e.changed, removed: e.missing };
  const off = Object.entries(want).filter(([k, v]) => c[k] !== v).map(([k, v]) =>
    `${k} ${c[k]} (expected ${v})`
  );
  return off.length > 0 ? [`sqlite3 counts: ${off.join(", ")}`] : [];
}

async function runDuration(runId: number): Promise<number | null> {
  const m = await sqlite3([
    "-readonly",
    "-json",
    `${dirs.data}/autocomm.db`,
    `SELECT started_at, ended_at FROM runs WHERE id = ${Number(runId)}`,
  ]);
  try {
    const [row] = JSON.parse(m.stdout) as { started_at: string; ended_at: string }[];
    if (!row?.started_at || !row.ended_at) return null;
    return (Date.parse(row.ended_at) - Date.parse(row.started_at)) / 1000;
  } catch {
    return null;
  }
}

function pad(s: string, n: number, right = false) {
  return right ? s.padStart(n) : s.padEnd(n);
}

function printTable(details: Detail[]) {
  const head = [
    ["scenario", 36, false],
    ["rows", 10, true],
    ["service s", 9, true],
    ["rows/s", 9, true],
    ["ratio", 6, true],
    ["peak MB", 7, true],
    ["CLI s", 6, true],
    ["run s", 6, true],
    ["ratio", 6, true],
    ["peak MB", 7, true],
    ["sqlite3 s", 9, true],
    ["rows/s", 9, true],
    ["target", 8, false],
  ] as const;
  say(head.map(([h, n, r]) => pad(h, n, r)).join("  "));
  say(head.map(([, n]) => "-".repeat(n)).join("  "));
  for (const d of details) {
    const ok = misses(d);
    const cells = [
      d.scenario,
      int(d.rows),
      fmt(d.seconds),
      int(d.rows / d.seconds),
      fmt(d.ratio),
      fmt(d.peakRssMb, 0),
      fmt(d.cliSeconds),
      d.runSeconds === null ? "?" : fmt(d.runSeconds),
      fmt(d.cliRatio),
      fmt(d.cliPeakRssMb, 0),
      fmt(d.sqliteSeconds),
      int(d.rows / d.sqliteSeconds),
      ok.length === 0 ? "ok" : `MISS ${ok.join("+")}`,
    ];
    say(head.map(([, n, r], i) => pad(cells[i]!, n, r)).join("  "));
  }
  say("");
  say(
    `service s: the run as the service executes it — queued, then run by the run queue's warm import process ` +
      `(already started, as in the service); from queueing to the end of its commit. ` +
      `peak MB: that process's peak RSS during the run. ratio: service s / sqlite3 s. ` +
      `CLI s: wall time of the whole one-off 'autocomm import' subprocess (Deno start-up, the run and the report); ` +
      `run s: its run's own started_at → ended_at (ended_at is written just before the final COMMIT); ` +
      `peak MB: the largest peak RSS (VmHWM) of any process of its tree. ` +
      `target (ratio ≤ ${RATIO_TARGET}, peak < ${RSS_TARGET_MB} MB): the service's figures, and both sides' counts.`,
  );
  const missed = details.filter((d) => misses(d).length > 0);
  const warned = details.filter((d) => d.warnings.length > 0);
  say(
    missed.length === 0
      ? "All scenarios meet the targets."
      : `${missed.length} of ${details.length} scenarios miss a target: ${
        missed.map((d) => d.scenario).join(", ")
      }`,
  );
  if (warned.length > 0) {
    say(`Warnings (counts or exit codes) in: ${warned.map((d) => d.scenario).join(", ")}`);
    for (const d of warned) for (const w of d.warnings) say(`  ${d.scenario}: ${w}`);
  }
}

/**
 * The targets a scenario misses. A run that failed or reported other counts than the
 * generator expects meets none, however fast it was (see the warnings).
 */
function misses(d: Detail): string[] {
  return [
    d.warnings.length === 0 ? "" : "counts",
    d.ratio <= RATIO_TARGET ? "" : "ratio",
    d.peakRssMb < RSS_TARGET_MB ? "" : "rss",
  ].filter((x) => x !== "");
}

let details: Detail[] = [];
let failed = false;
try {
  details = await main();
} catch (error) {
  failed = true;
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
} finally {
  if (!values.keep) await Deno.remove(work, { recursive: true }).catch(() => {});
}
if (details.length > 0) {
  say("");
  printTable(details);
}
if (remoteDetails.length > 0) {
  say("");
  printRemoteTable(remoteDetails);
}
if (values.json) {
  const list: Result[] = details.map((d) => ({
    scenario: d.scenario,
    rows: d.rows,
    seconds: Number(d.seconds.toFixed(3)),
    sqliteSeconds: Number(d.sqliteSeconds.toFixed(3)),
    ratio: Number(d.ratio.toFixed(3)),
    peakRssMb: Number(d.peakRssMb.toFixed(1)),
    cliSeconds: Number(d.cliSeconds.toFixed(3)),
    cliRatio: Number(d.cliRatio.toFixed(3)),
    cliPeakRssMb: Number(d.cliPeakRssMb.toFixed(1)),
  }));
  console.log(JSON.stringify(values.remote ? remoteDetails : list, null, 2));
}
Deno.exit(failed || details.some((d) => d.warnings.some((w) => w.includes("exited"))) ? 1 : 0);
