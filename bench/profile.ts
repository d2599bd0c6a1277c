/**
 * Profiles one AutoComm import in-process, statement by statement:
 *
 *   deno run -A --frozen bench/profile.ts --data DIR --table T --kind KIND FILE
 *
 * It queues a run in the database of `DIR/autocomm.db` (the data directory of a bench
 * run kept with `--keep`; copy it first, the import changes it) and executes it as the
 * import child does — `executeRun` over the `node:sqlite` executor — with every SQL
 * call timed, the JavaScript time between calls (decode, parse, map) attributed to
 * the call that follows it, and RSS sampled after each call. Add `--cpu-prof` to the
 * deno flags for a V8 profile of the same work; `--pragma "PRAGMA cache_size = -65536"`
 * (repeatable) runs statements on the connection first, for what-if experiments;
 * `--explain` prints the query plan of each distinct statement as it first runs;
 * `--warm N` runs the same import N times first, untimed, for the figures of a warm
 * import process (`src/pipeline/worker.ts`). `--url http://127.0.0.1:PORT` runs it on
 * that libSQL server (`sqld`, set up with `autocomm setup load` and the file's
 * prerequisites) over `@libsql/client` instead; DIR is then only the import root.
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../src/config.ts";
import {
  openExecutor,
  type SqlExecutor,
  type SqlRow,
  type SqlValue,
} from "../src/pipeline/executor.ts";
import { executeRun } from "../src/pipeline/run.ts";
import { type BenchTable, SCHOOL, TABLE_ORDER } from "./generate.ts";
import { runSettings } from "./scenario.ts";
import { type ScenarioKind, SCENARIOS } from "./sqlite.ts";

interface Stat {
  key: string;
  calls: number;
  rows: number;
  ms: number;
  jsBeforeMs: number;
  maxRssGrowthMb: number;
}

interface Event {
  at: number;
  ms: number;
  key: string;
  rssMb: number;
  heapMb: number;
  heapUsedMb: number;
}

const mb = (n: number) => n / 1048576;

/** Wraps an executor: times each call and samples memory after it. */
class TimedExecutor implements SqlExecutor {
  readonly stats = new Map<string, Stat>();
  readonly events: Event[] = [];
  peakRssMb = 0;
  peakKey = "";
  #inner: SqlExecutor;
  #last = performance.now();
  #t0 = performance.now();

  constructor(inner: SqlExecutor) {
    this.#inner = inner;
  }
  get embedded() {
    return this.#inner.embedded;
  }
  get inTransaction() {
    return this.#inner.inTransaction;
  }
  /** The staging thread's statements are not timed: they run beside the calls timed here. */
  get side() {
    return this.#inner.side;
  }
  /** Lease renewals are not timed either: they run on a connection of their own. */
  runOutside(sql: string, args?: readonly SqlValue[]): Promise<number> {
    return this.#inner.runOutside(sql, args);
  }

  /** Statement keys by SQL text (statements repeat; normalising each call would cost more than it measures). */
  #keys = new Map<string, Map<string, string>>();
  #key(kind: string, sql: string): string {
    let byKind = this.#keys.get(kind);
    if (!byKind) this.#keys.set(kind, byKind = new Map());
    let key = byKind.get(sql);
    if (key === undefined) {
      key = `${kind} ${
        sql.slice(0, 400).replace(/\s+/g, " ").trim().replace(/_\d+\b/g, "_N").slice(0, 150)
      }`;
      byKind.set(sql, key);
    }
    return key;
  }

  /** With --explain: the query plan of each distinct statement, printed once. */
  explain = false;
  #explained = new Set<string>();
  async #plan(sql: string, args: readonly SqlValue[] | undefined): Promise<void> {
    if (
      !this.explain || this.#explained.has(sql) ||
      !/^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)/i.test(sql)
    ) {
      return;
    }
    this.#explained.add(sql);
    try {
      const plan = await this.#inner.all(`EXPLAIN QUERY PLAN ${sql}`, args ?? []);
      console.log(`\n${sql.replace(/\s+/g, " ").trim().slice(0, 300)}`);
      for (const r of plan) console.log(`   ${r["detail"]}`);
    } catch {
      // a statement that cannot be explained (or prepared out of order)
    }
  }

  async #timed<T>(kind: string, sql: string, rows: number, f: () => Promise<T>): Promise<T> {
    const start = performance.now();
    const gap = start - this.#last;
    const before = Deno.memoryUsage().rss;
    const result = await f();
    const end = performance.now();
    const memory = Deno.memoryUsage();
    const rss = memory.rss;
    this.#last = end;
    const key = this.#key(kind, sql);
    let s = this.stats.get(key);
    if (!s) {
      s = { key, calls: 0, rows: 0, ms: 0, jsBeforeMs: 0, maxRssGrowthMb: 0 };
      this.stats.set(key, s);
    }
    s.calls++;
    s.rows += rows;
    s.ms += end - start;
    s.jsBeforeMs += gap;
    s.maxRssGrowthMb = Math.max(s.maxRssGrowthMb, mb(rss - before));
    if (mb(rss) > this.peakRssMb) {
      this.peakRssMb = mb(rss);
      this.peakKey = key;
    }
    this.events.push({
      at: (start - this.#t0) / 1000,
      ms: end - start,
      key,
      rssMb: mb(rss),
      heapMb: mb(memory.heapTotal),
      heapUsedMb: mb(memory.heapUsed),
    });
    return result;
  }

  async all(sql: string, args?: readonly SqlValue[]): Promise<SqlRow[]> {
    await this.#plan(sql, args);
    return await this.#timed("all", sql, 1, () => this.#inner.all(sql, args));
  }
  async run(sql: string, args?: readonly SqlValue[]): Promise<number> {
    await this.#plan(sql, args);
    return await this.#timed("run", sql, 1, () => this.#inner.run(sql, args));
  }
  exec(sql: string): Promise<void> {
    return this.#timed("exec", sql, 1, () => this.#inner.exec(sql));
  }
  many(sql: string, rows: readonly (readonly SqlValue[])[]): Promise<void> {
    return this.#timed("many", sql, rows.length, () => this.#inner.many(sql, rows));
  }
  begin(): Promise<void> {
    return this.#timed("begin", "BEGIN IMMEDIATE", 1, () => this.#inner.begin());
  }
  commit(): Promise<void> {
    return this.#timed("commit", "COMMIT", 1, () => this.#inner.commit());
  }
  rollback(): Promise<void> {
    return this.#inner.rollback();
  }
  close(): void {
    this.#inner.close();
  }
}

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: {
    data: { type: "string" },
    url: { type: "string" },
    table: { type: "string" },
    kind: { type: "string", default: "first-import" },
    "min-ms": { type: "string", default: "100" },
    pragma: { type: "string", multiple: true },
    explain: { type: "boolean", default: false },
    warm: { type: "string", default: "0" },
  },
  allowPositionals: true,
});
const table = values.table as BenchTable;
const kind = values.kind as ScenarioKind;
const file = positionals[0];
if (!values.data || !TABLE_ORDER.includes(table) || !SCENARIOS.includes(kind) || !file) {
  console.error(
    "Usage: deno run -A --frozen bench/profile.ts --data DIR --table T --kind first-import|reimport-identical|reimport-changed-sync FILE",
  );
  Deno.exit(64);
}
const settings = runSettings(table, kind, await Deno.realPath(file));
// --url: the database of a libSQL server (sqld) instead of DIR's file.
const inner = await openExecutor({
  databaseUrl: values.url ?? `file:${values.data}/autocomm.db`,
  busyTimeoutMs: 10_000,
});
// What-if experiments: extra statements on the import connection before the run.
for (const p of values.pragma ?? []) await inner.exec(p);
const environment = {
  importRoot: values.data,
  dataDir: values.data,
  timeZone: "UTC",
  leaseSeconds: 60,
  stagingThreadMinBytes: loadConfig({ env: {} }).stagingThreadMinBytes,
};
async function queued(): Promise<number> {
  await inner.run(
    "INSERT INTO runs (school_id, table_name, trigger, status, options, preview, queued_at) VALUES (?, ?, 'cli', 'queued', ?, 0, ?)",
    [SCHOOL, table, JSON.stringify(settings), new Date().toISOString()],
  );
  const [{ id }] = (await inner.all("SELECT max(id) AS id FROM runs")) as [{ id: number }];
  return Number(id);
}
// --warm N: the same import N times first, untimed, as the warm import process would
// have run imports before (a first import's runs after the first are re-imports).
for (let i = 0; i < Number(values.warm); i++) await executeRun(inner, await queued(), environment);
const id = await queued();
const exec = new TimedExecutor(inner);
exec.explain = values.explain;
const t0 = performance.now();
const outcome = await executeRun(exec, id, environment);
const total = (performance.now() - t0) / 1000;
exec.close();
const hwm = /VmHWM:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/self/status"))?.[1];
console.log(
  `${table}/${kind}: ${outcome.status} in ${total.toFixed(2)} s, counts ${
    JSON.stringify(outcome.counts)
  }`,
);
console.log(
  `peak RSS (VmHWM) ${(Number(hwm) / 1024).toFixed(0)} MB; largest RSS after a call ${
    exec.peakRssMb.toFixed(0)
  } MB, after: ${exec.peakKey}`,
);
const stats = [...exec.stats.values()].sort((a, b) => b.ms + b.jsBeforeMs - a.ms - a.jsBeforeMs);
const sqlMs = stats.reduce((s, x) => s + x.ms, 0);
const jsMs = stats.reduce((s, x) => s + x.jsBeforeMs, 0);
console.log(
  `SQL time ${(sqlMs / 1000).toFixed(2)} s, JS time between calls ${(jsMs / 1000).toFixed(2)} s`,
);
console.log("\nBy statement (SQL ms | JS-before ms | calls | rows | max RSS growth MB):");
for (const s of stats.slice(0, 30)) {
  console.log(
    `${s.ms.toFixed(2).padStart(7)} ${s.jsBeforeMs.toFixed(2).padStart(7)} ${
      String(s.calls).padStart(5)
    } ${String(s.rows).padStart(8)} ${s.maxRssGrowthMb.toFixed(0).padStart(5)}  ${s.key}`,
  );
}
const minMs = Number(values["min-ms"]);
console.log(
  `\nTimeline (calls over ${minMs} ms, and every tenth staging batch; start s, ms, RSS after MB, V8 heap total and used MB):`,
);
const batches = exec.events.filter((e) => /^(many|run) INSERT INTO temp\.stage_N \(/.test(e.key));
const every = Math.max(1, Math.floor(batches.length / 10));
for (const e of exec.events) {
  const b = batches.indexOf(e);
  if (e.ms >= minMs || (b >= 0 && (b % every === 0 || b === batches.length - 1))) {
    console.log(
      `${e.at.toFixed(2).padStart(7)} ${e.ms.toFixed(0).padStart(7)} ${
        e.rssMb.toFixed(0).padStart(6)
      } ${e.heapMb.toFixed(0).padStart(5)} ${e.heapUsedMb.toFixed(0).padStart(5)}  ${e.key}`,
    );
  }
}
