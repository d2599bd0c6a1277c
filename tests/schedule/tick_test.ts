import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { records, runs } from "../../src/db/schema/autocomm.ts";
import { filePathOf } from "../../src/pipeline/executor.ts";
import { queueRecordRun } from "../../src/pipeline/service.ts";
import { claimSlot, expireLeases } from "../../src/schedule/claim.ts";
import { createScheduleState, tick, WAIT_LIMIT_MS } from "../../src/schedule/tick.ts";
import { fixture, teachersFile } from "./fixture.ts";

const at = (iso: string) => new Date(iso);

Deno.test("a due record is claimed once per slot however many ticks see it", async () => {
  await using f = await fixture();
  const record = await f.addRecord();
  await f.write("teachers.txt", teachersFile(3));
  const first = await tick(f.deps, at("2026-03-10T10:05:00Z"));
  assert.deepEqual(first.claimed.map((c) => c.slotKey), [`${record.id}@2026-03-10T10:05`]);
  const again = await tick(f.deps, at("2026-03-10T10:05:30Z"));
  const later = await tick(f.deps, at("2026-03-10T10:06:00Z"));
  assert.deepEqual(again.claimed, []);
  assert.deepEqual(later.claimed, []);
  assert.deepEqual(later.taken, [`${record.id}@2026-03-10T10:05`]);
  await f.queue.idle();
  const all = await f.runs();
  assert.equal(all.length, 1);
  assert.equal(all[0]!.trigger, "schedule");
  assert.equal(all[0]!.status, "succeeded");
  assert.equal(all[0]!.inserted, 3);
});

Deno.test("a slot claimed again after its run finished is refused by its unique key and never runs twice", async () => {
  await using f = await fixture();
  const record = await f.addRecord();
  await f.write("teachers.txt", teachersFile(2));
  const slotKey = `${record.id}@2026-03-10T10:05`;
  const first = await tick(f.deps, at("2026-03-10T10:05:00Z"));
  assert.deepEqual(first.claimed.map((c) => c.slotKey), [slotKey]);
  await f.queue.idle();
  assert.equal((await f.run(first.claimed[0]!.runId)).status, "succeeded");
  // A second process that read the claimed slots before the first claim commits
  // goes on to claim the slot: only the unique slot key stops it, now that the
  // record has no active run.
  const again = await claimSlot(f.deps, record.id, { slotKey });
  assert.deepEqual(again, { outcome: "taken" });
  const all = await f.runs();
  assert.deepEqual(all.map((r) => [r.slotKey, r.status]), [[slotKey, "succeeded"]]);
});

Deno.test("records due in the same minute run one after another in sort order, then name", async () => {
  await using f = await fixture();
  const b = await f.addRecord({ name: "B second", sortOrder: 2 });
  const z = await f.addRecord({ name: "Z first", sortOrder: 1 });
  const c = await f.addRecord({ name: "c fourth" });
  const a = await f.addRecord({ name: "A third" });
  await f.addRecord({ name: "Off", sortOrder: 0, executionOff: true });
  await f.addRecord({ name: "Other day", sortOrder: 0, days: "MTWFSU" });
  await f.write("teachers.txt", teachersFile(2));
  // 2026-03-12 is a Thursday (H).
  const result = await tick(f.deps, at("2026-03-12T10:05:00Z"));
  assert.deepEqual(result.claimed.map((x) => x.recordId), [z.id, b.id, a.id, c.id]);
  await f.queue.idle();
  const done = await Promise.all(result.claimed.map((x) => f.run(x.runId)));
  for (const run of done) assert.match(run.status, /^succeeded/);
  for (let i = 1; i < done.length; i++) {
    assert.ok(done[i - 1]!.endedAt! <= done[i]!.startedAt!, "runs do not overlap");
  }
});

Deno.test("a time inside the spring-forward gap runs once, at the first minute after it", async () => {
  await using f = await fixture({ env: { AUTOCOMM_TIMEZONE: "America/New_York" } });
  const record = await f.addRecord({ hour: 2, minute: 30, days: "U" });
  await f.write("teachers.txt", teachersFile(1));
  assert.deepEqual((await tick(f.deps, at("2026-03-08T06:59:00Z"))).claimed, []);
  const three = await tick(f.deps, at("2026-03-08T07:00:00Z"));
  assert.deepEqual(three.claimed.map((c) => c.slotKey), [`${record.id}@2026-03-08T02:30`]);
  for (const minute of ["01", "02", "30", "59"]) {
    assert.deepEqual((await tick(f.deps, at(`2026-03-08T07:${minute}:00Z`))).claimed, []);
  }
  await f.queue.idle();
  assert.equal((await f.runs()).length, 1);
});

Deno.test("a time that occurs twice on a fall-back day runs once", async () => {
  await using f = await fixture({ env: { AUTOCOMM_TIMEZONE: "America/New_York" } });
  const record = await f.addRecord({ hour: 1, minute: 30, days: "U" });
  await f.write("teachers.txt", teachersFile(1));
  const first = await tick(f.deps, at("2026-11-01T05:30:00Z"));
  assert.deepEqual(first.claimed.map((c) => c.slotKey), [`${record.id}@2026-11-01T01:30`]);
  await f.queue.idle();
  for (const instant of ["2026-11-01T06:00:00Z", "2026-11-01T06:30:00Z", "2026-11-01T06:59:00Z"]) {
    const again = await tick(f.deps, at(instant));
    assert.deepEqual(again.claimed, [], instant);
  }
  assert.equal((await f.runs()).length, 1);
});

Deno.test("after a restart the missed minutes of the current hour are caught up, not earlier hours", async () => {
  await using f = await fixture();
  const missed = await f.addRecord({ hour: 10, minute: 5 });
  await f.addRecord({ hour: 9, minute: 50 });
  await f.write("teachers.txt", teachersFile(1));
  const result = await tick(f.deps, at("2026-03-10T10:20:00Z"), { state: createScheduleState() });
  assert.deepEqual(result.claimed.map((c) => c.slotKey), [`${missed.id}@2026-03-10T10:05`]);
  await f.queue.idle();
});

Deno.test("a record is not run for a slot that came before it was last saved", async () => {
  await using f = await fixture();
  const record = await f.addRecord({ hour: 10, minute: 5 });
  await f.db.update(records).set({ updatedAt: "2026-03-10T10:10:00.000Z" })
    .where(eq(records.id, record.id));
  assert.deepEqual((await tick(f.deps, at("2026-03-10T10:20:00Z"))).claimed, []);
  assert.equal((await f.runs()).length, 0);
});

Deno.test("a slot whose record is still running is tried again by later ticks of the hour", async () => {
  await using f = await fixture();
  const record = await f.addRecord();
  await f.write("teachers.txt", teachersFile(1));
  const manual = await queueRecordRun(f.deps, record.id, { trigger: "run_now" });
  const busy = await tick(f.deps, at("2026-03-10T10:05:00Z"));
  assert.deepEqual(busy.claimed, []);
  assert.deepEqual(busy.busy, [{
    slotKey: `${record.id}@2026-03-10T10:05`,
    recordId: record.id,
    activeRunId: manual,
  }]);
  assert.ok(f.logger.events.some((e) => e.event === "schedule_slot_busy"));
  f.queue.enqueue(manual);
  await f.queue.idle();
  const later = await tick(f.deps, at("2026-03-10T10:07:00Z"));
  assert.deepEqual(later.claimed.map((c) => c.slotKey), [`${record.id}@2026-03-10T10:05`]);
  await f.queue.idle();
  assert.equal((await f.runs()).length, 2);
});

Deno.test("a running run whose lease expired is marked interrupted and the record runs again", async () => {
  await using f = await fixture();
  // Ticks at the real time below: these records are never due by schedule.
  const record = await f.addRecord({ executionOff: true });
  const other = await f.addRecord({ executionOff: true });
  await f.write("teachers.txt", teachersFile(1));
  const dead = await queueRecordRun(f.deps, record.id, { trigger: "run_now" });
  const alive = await queueRecordRun(f.deps, other.id, { trigger: "run_now" });
  const now = new Date();
  await f.db.update(runs).set({
    status: "running",
    startedAt: new Date(now.getTime() - 3600_000).toISOString(),
    leaseExpiresAt: new Date(now.getTime() - 1000).toISOString(),
  }).where(eq(runs.id, dead));
  await f.db.update(runs).set({
    status: "running",
    startedAt: now.toISOString(),
    leaseExpiresAt: new Date(now.getTime() + 600_000).toISOString(),
  }).where(eq(runs.id, alive));
  // A large file's stage file (`src/pipeline/side_writer.ts`) of each: the dead
  // run's goes with its lease; the live run's is its process's to remove.
  const stage = (runId: number) => `${filePathOf(f.deps.config.databaseUrl)}-stage-${runId}`;
  await Deno.writeTextFile(stage(dead), "left by a dead process");
  await Deno.writeTextFile(stage(alive), "in use");
  const result = await tick(f.deps, new Date());
  assert.deepEqual(result.interrupted.map((r) => r.runId), [dead]);
  await assert.rejects(Deno.stat(stage(dead)), Deno.errors.NotFound);
  assert.ok((await Deno.stat(stage(alive))).isFile);
  const interrupted = await f.run(dead);
  assert.equal(interrupted.status, "interrupted");
  assert.match(interrupted.message ?? "", /lease expired/);
  assert.equal((await f.run(alive)).status, "running");
  // Run Now callers check too: nothing else has expired.
  assert.deepEqual(await expireLeases(f.db, new Date()), []);
  // The record can run again.
  const again = await queueRecordRun(f.deps, record.id, { trigger: "run_now" });
  assert.ok(again > dead);
  await f.db.update(runs).set({ status: "succeeded" }).where(eq(runs.id, alive));
  await f.db.delete(runs).where(eq(runs.id, again));
  await result.reports;
});

Deno.test("a queued run whose process died is interrupted once its queued lease expires", async () => {
  await using f = await fixture();
  await f.addRecord();
  // A process whose queue never starts anything: it died after claiming.
  const deadQueue = { enqueue: () => {}, pending: [] as number[] };
  const claimed = await tick({ ...f.deps, queue: deadQueue }, at("2026-03-10T10:05:00Z"));
  const runId = claimed.claimed[0]!.runId;
  const run = await f.run(runId);
  assert.equal(run.status, "queued");
  assert.ok(run.leaseExpiresAt !== null);
  // A live process renews the leases of its pending runs on every tick.
  const liveQueue = { enqueue: () => {}, pending: [runId] };
  // The lease is the configured one (60 s), renewed once past half its time.
  assert.equal(
    Date.parse(run.leaseExpiresAt!) - Date.parse("2026-03-10T10:05:00Z"),
    f.deps.config.runLeaseSeconds * 1000,
  );
  const renewAt = new Date(Date.parse(run.leaseExpiresAt!) - 10_000);
  await tick({ ...f.deps, queue: liveQueue }, renewAt);
  const renewed = await f.run(runId);
  assert.equal(renewed.status, "queued");
  assert.ok(renewed.leaseExpiresAt! > run.leaseExpiresAt!);
  // Nobody renews it any more.
  const late = new Date(Date.parse(renewed.leaseExpiresAt!) + 1000);
  const result = await tick({ ...f.deps, queue: deadQueue }, late);
  assert.deepEqual(result.interrupted.map((r) => [r.runId, r.was]), [[runId, "queued"]]);
  assert.equal((await f.run(runId)).status, "interrupted");
  await result.reports;
});

Deno.test("a waiting run is retried each minute within the hour, then ends no_file", async () => {
  await using f = await fixture();
  // Ticks at the real time below: these records are never due by schedule.
  const record = await f.addRecord({ minFileAgeSeconds: 3600, executionOff: true });
  const path = await f.write("teachers.txt", teachersFile(2));
  const runId = await queueRecordRun(f.deps, record.id, { trigger: "run_now" });
  f.queue.enqueue(runId);
  await f.queue.idle();
  assert.equal((await f.run(runId)).status, "waiting");
  // Still being written: queued again, waiting again.
  const retry = await tick(f.deps, new Date());
  assert.deepEqual(retry.requeued, [runId]);
  await f.queue.idle();
  assert.equal((await f.run(runId)).status, "waiting");
  // The file settles: the next retry imports it.
  const old = new Date(Date.now() - 2 * 3600_000);
  await Deno.utime(path, old, old);
  const settled = await tick(f.deps, new Date());
  assert.deepEqual(settled.requeued, [runId]);
  await f.queue.idle();
  const done = await f.run(runId);
  assert.equal(done.status, "succeeded");
  assert.equal(done.inserted, 2);

  // A file that never settles: after the hour the run ends no_file.
  const fresh = await f.addRecord({
    minFileAgeSeconds: 3600,
    path: "fresh.txt",
    executionOff: true,
  });
  await f.write("fresh.txt", teachersFile(1));
  const second = await queueRecordRun(f.deps, fresh.id, { trigger: "run_now" });
  f.queue.enqueue(second);
  await f.queue.idle();
  assert.equal((await f.run(second)).status, "waiting");
  const queuedAt = Date.parse((await f.run(second)).queuedAt);
  const over = await tick(f.deps, new Date(queuedAt + WAIT_LIMIT_MS));
  assert.deepEqual(over.gaveUp, [second]);
  const ended = await f.run(second);
  assert.equal(ended.status, "no_file");
  assert.match(ended.message ?? "", /still being written an hour after/);
  await over.reports;
  // The record can run again.
  await queueRecordRun(f.deps, fresh.id, { trigger: "run_now" });
});

Deno.test("the tick returns in less than a second while a long import is executing", async () => {
  await using f = await fixture();
  const big = await f.addRecord({ name: "Big", path: "big.txt", hour: 3 });
  const small = await f.addRecord({ name: "Small" });
  await f.write("big.txt", teachersFile(300_000, "B"));
  await f.write("teachers.txt", teachersFile(1));
  const longRun = await queueRecordRun(f.deps, big.id, { trigger: "run_now" });
  f.queue.enqueue(longRun);
  const until = Date.now() + 30_000;
  while ((await f.run(longRun)).status !== "running") {
    assert.ok(Date.now() < until, "the long run started");
    await new Promise((r) => setTimeout(r, 10));
  }
  const started = performance.now();
  const result = await tick(f.deps, at("2026-03-10T10:05:00Z"));
  const took = performance.now() - started;
  assert.ok(took < 1000, `the tick took ${took.toFixed(0)} ms`);
  assert.deepEqual(result.claimed.map((c) => c.recordId), [small.id]);
  assert.equal((await f.run(longRun)).status, "running");
  assert.equal((await f.run(result.claimed[0]!.runId)).status, "queued");
  await f.queue.idle();
  assert.equal((await f.run(longRun)).inserted, 300_000);
  assert.equal((await f.run(result.claimed[0]!.runId)).status, "succeeded");
});
