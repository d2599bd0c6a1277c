import assert from "node:assert/strict";
import { sql } from "drizzle-orm";
import { runs } from "../src/db/schema/autocomm.ts";
import { fixture, teachersFile } from "./schedule/fixture.ts";
import { fromFileUrl } from "../src/util/paths.ts";

interface ProcessOutput {
  pid: number;
  ticks: { instant: string; claimed: { runId: number; slotKey: string }[]; taken: string[] }[];
}

const REPO_ROOT = fromFileUrl(new URL("../", import.meta.url)).replace(/\/+$/, "");

/** PATH, HOME and the Deno cache of the test's own environment, nothing else. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR", "TMPDIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

function minutes(fromIso: string, count: number): string[] {
  const start = Date.parse(fromIso);
  return Array.from({ length: count }, (_, i) => new Date(start + i * 60_000).toISOString());
}

Deno.test("two service processes on one database run each slot exactly once", async () => {
  await using f = await fixture({ env: { AUTOCOMM_TIMEZONE: "America/New_York" } });
  // Sunday 2026-03-08 in New York: the clocks jump from 02:00 to 03:00.
  const gap = await f.addRecord({ name: "Gap", hour: 2, minute: 30, days: "U" });
  const onHour = await f.addRecord({ name: "On the hour", hour: 10, minute: 0, days: "U" });
  const first = await f.addRecord({ name: "Teachers first", hour: 10, minute: 5, sortOrder: 1 });
  const second = await f.addRecord({ name: "Teachers second", hour: 10, minute: 5, sortOrder: 2 });
  const late = await f.addRecord({ name: "Late", hour: 10, minute: 9 });
  await f.addRecord({ name: "Other day", hour: 10, minute: 5, days: "MTWHFS" });
  await f.addRecord({ name: "Off", hour: 10, minute: 5, executionOff: true });
  await f.write("teachers.txt", teachersFile(20));

  // The same instants for both: around the gap (06:59Z = 01:59 EST, 07:00Z = 03:00 EDT),
  // then 10:00–10:11 EDT (14:00Z–14:11Z), then the same hour again later (catch-up ticks).
  const instants = [
    ...minutes("2026-03-08T06:58:00Z", 4),
    ...minutes("2026-03-08T14:00:00Z", 12),
    "2026-03-08T14:30:00Z",
    "2026-03-08T14:59:00Z",
  ];
  const env = {
    ...baseEnv(),
    DATABASE_URL: f.config.databaseUrl,
    AUTOCOMM_DATA_DIR: f.config.dataDir,
    AUTOCOMM_IMPORT_ROOT: f.config.importRoot,
    AUTOCOMM_TIMEZONE: f.config.timeZone,
    AUTOCOMM_MIN_FILE_AGE_SECONDS: "0",
    AUTOCOMM_LOG_LEVEL: "warn",
  };
  const startAt = Date.now() + 4000;
  const spawn = () =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--frozen",
        `--config=${REPO_ROOT}/deno.json`,
        `${REPO_ROOT}/tests/support/tick_process.ts`,
        "--start-at",
        String(startAt),
        ...instants,
      ],
      clearEnv: true,
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
  const outputs = await Promise.all([spawn(), spawn()]);
  const results: ProcessOutput[] = outputs.map((o) => {
    const stderr = new TextDecoder().decode(o.stderr);
    assert.equal(o.code, 0, stderr);
    return JSON.parse(new TextDecoder().decode(o.stdout)) as ProcessOutput;
  });

  const expected = [
    `${gap.id}@2026-03-08T02:30`,
    `${onHour.id}@2026-03-08T10:00`,
    `${first.id}@2026-03-08T10:05`,
    `${second.id}@2026-03-08T10:05`,
    `${late.id}@2026-03-08T10:09`,
  ].sort();

  // Exactly one run row per slot key, and nothing else ran.
  const perSlot = await f.db.select({ key: runs.slotKey, n: sql<number>`count(*)` }).from(runs)
    .groupBy(runs.slotKey).orderBy(runs.slotKey);
  assert.deepEqual(perSlot.map((r) => [r.key, Number(r.n)]), expected.map((k) => [k, 1]));
  const all = await f.runs();
  assert.equal(all.length, expected.length);
  for (const run of all) assert.equal(run.status, "succeeded", `${run.slotKey}: ${run.message}`);

  // Each slot was claimed by exactly one of the two processes.
  const claimedBy = new Map<string, number[]>();
  for (const [i, r] of results.entries()) {
    for (const t of r.ticks) {
      for (const c of t.claimed) claimedBy.set(c.slotKey, [...(claimedBy.get(c.slotKey) ?? []), i]);
    }
  }
  if (Deno.env.get("AUTOCOMM_TEST_LOG")) console.error(Object.fromEntries(claimedBy));
  assert.deepEqual([...claimedBy.keys()].sort(), expected);
  for (const [key, by] of claimedBy) assert.equal(by.length, 1, key);
  // Records due in the same minute are claimed together, by one process, in order.
  assert.equal(
    claimedBy.get(`${first.id}@2026-03-08T10:05`)![0],
    claimedBy.get(`${second.id}@2026-03-08T10:05`)![0],
  );
  const byKey = new Map(all.map((r) => [r.slotKey, r]));
  assert.ok(
    byKey.get(`${first.id}@2026-03-08T10:05`)!.id < byKey.get(`${second.id}@2026-03-08T10:05`)!.id,
  );
  // The gap's record ran at the first minute after the gap.
  const gapTick = results.flatMap((r) => r.ticks).find((t) =>
    t.claimed.some((c) => c.slotKey === `${gap.id}@2026-03-08T02:30`)
  );
  assert.equal(gapTick?.instant, "2026-03-08T07:00:00.000Z");
});
