import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import {
  runChanges,
  runErrors,
  runNotes,
  runs,
  webhookDeliveries,
} from "../../src/db/schema/autocomm.ts";
import { queueRecordRun } from "../../src/pipeline/service.ts";
import { housekeeping, runHourly } from "../../src/schedule/hourly.ts";
import { createScheduleState, tick } from "../../src/schedule/tick.ts";
import { fixture } from "./fixture.ts";

const at = (iso: string) => new Date(iso);
const DAY = 86_400_000;

Deno.test("held runs not approved within 24 hours are discarded and their kept files deleted", async () => {
  await using f = await fixture();
  const record = await f.addRecord();
  const other = await f.addRecord();
  await Deno.mkdir(`${f.dir}/held`, { recursive: true });
  const now = new Date();
  const hold = async (recordId: number, until: Date) => {
    const id = await queueRecordRun(f.deps, recordId, { trigger: "schedule" });
    const heldPath = `${f.dir}/held/run-${id}-teachers.txt`;
    await Deno.writeTextFile(heldPath, "T1\tAnn\tLee\n");
    await f.db.update(runs).set({
      status: "held",
      heldPath,
      heldUntil: until.toISOString(),
      endedAt: new Date(until.getTime() - DAY).toISOString(),
    }).where(eq(runs.id, id));
    return { id, heldPath };
  };
  const expired = await hold(record.id, new Date(now.getTime() - 1000));
  const kept = await hold(other.id, new Date(now.getTime() + 3600_000));
  const result = await housekeeping(f.deps, now);
  assert.deepEqual(result.discarded, [expired.id]);
  const discarded = await f.run(expired.id);
  assert.equal(discarded.status, "discarded");
  assert.match(discarded.message ?? "", /not approved within 24 hours/);
  assert.equal(discarded.heldPath, null);
  await assert.rejects(Deno.stat(expired.heldPath), Deno.errors.NotFound);
  assert.equal((await f.run(kept.id)).status, "held");
  await Deno.stat(kept.heldPath);
  // A second process running the same hour finds nothing left to do.
  assert.deepEqual((await housekeeping(f.deps, now)).discarded, []);
});

Deno.test("finished runs older than the retention are deleted with their errors, notes and changes", async () => {
  await using f = await fixture({ env: { AUTOCOMM_RUN_RETENTION_DAYS: "30" } });
  const record = await f.addRecord();
  const now = new Date();
  const make = async (status: string, endedDaysAgo: number) => {
    const id = await queueRecordRun(f.deps, record.id, { trigger: "schedule" });
    await f.db.update(runs).set({
      status,
      endedAt: new Date(now.getTime() - endedDaysAgo * DAY).toISOString(),
    }).where(eq(runs.id, id));
    await f.db.insert(runErrors).values({
      runId: id,
      line: 2,
      field: "Last_Name",
      code: "missing_required",
      message: "Last_Name: required",
      row: '["T2","Ann",""]',
    });
    await f.db.insert(runNotes).values({ runId: id, code: "header_skipped", message: "Line 1" });
    // A run's change log is a range of ids kept on its row, as the import writes it.
    const [change] = await f.db.insert(runChanges).values({
      runId: id,
      table: "teachers",
      action: "insert",
      key: '{"TeacherNumber":"T1"}',
    }).returning({ id: runChanges.id });
    await f.db.update(runs).set({ changesFrom: change!.id, changesTo: change!.id })
      .where(eq(runs.id, id));
    return id;
  };
  const old = await make("succeeded", 31);
  const oldFailed = await make("failed", 400);
  const recent = await make("succeeded_with_errors", 29);
  const oldHeld = await make("held", 40);
  await f.db.insert(webhookDeliveries).values([
    {
      deliveryId: "old",
      recordId: record.id,
      receivedAt: new Date(now.getTime() - 2 * DAY).toISOString(),
    },
    { deliveryId: "new", recordId: record.id, receivedAt: now.toISOString() },
  ]);
  const result = await housekeeping(f.deps, now);
  assert.equal(result.deletedRuns, 2);
  assert.deepEqual((await f.runs()).map((r) => r.id), [recent, oldHeld]);
  for (const table of [runErrors, runNotes, runChanges]) {
    const left = await f.db.select({ runId: table.runId }).from(table);
    assert.deepEqual(left.map((r) => r.runId).sort(), [recent, oldHeld].sort());
  }
  assert.ok(!(await f.runs()).some((r) => r.id === old || r.id === oldFailed));
  const deliveries = await f.db.select().from(webhookDeliveries);
  assert.deepEqual(deliveries.map((d) => d.deliveryId), ["new"]);
});

Deno.test("at minute 00 the hourly process runs first, then the records due on the hour", async () => {
  await using f = await fixture({ env: { AUTOCOMM_RUN_RETENTION_DAYS: "1" } });
  const record = await f.addRecord({ hour: 10, minute: 0 });
  await f.write("teachers.txt", "T1\tAnn\tLee\n");
  const oldRun = await queueRecordRun(f.deps, record.id, { trigger: "schedule" });
  await f.db.update(runs).set({ status: "succeeded", endedAt: "2026-03-01T00:00:00.000Z" })
    .where(eq(runs.id, oldRun));
  const result = await tick(f.deps, at("2026-03-10T10:00:00Z"));
  assert.ok(result.hourly !== null);
  assert.equal(result.hourly.deletedRuns, 1);
  assert.equal(result.claimed.length, 1);
  const order = f.logger.events.map((e) => e.event).filter((e) =>
    e === "hourly_housekeeping" || e === "schedule_claimed"
  );
  assert.deepEqual(order, ["hourly_housekeeping", "schedule_claimed"]);
  await result.reports;
  // Other minutes of the hour do not run it again.
  assert.equal((await tick(f.deps, at("2026-03-10T10:01:00Z"))).hourly, null);
});

Deno.test("a process's first tick runs the hourly process it missed at minute 00, once", async () => {
  await using f = await fixture();
  const state = createScheduleState();
  assert.equal((await tick(f.deps, at("2026-03-10T10:17:00Z"))).hourly, null);
  const first = await tick(f.deps, at("2026-03-10T10:17:00Z"), { state });
  assert.ok(first.hourly !== null);
  assert.equal((await tick(f.deps, at("2026-03-10T10:18:00Z"), { state })).hourly, null);
  assert.ok((await tick(f.deps, at("2026-03-10T11:00:00Z"), { state })).hourly !== null);
  assert.equal((await tick(f.deps, at("2026-03-10T11:01:00Z"), { state })).hourly, null);
  await first.reports;
});

Deno.test("the hourly process can be run on its own", async () => {
  await using f = await fixture();
  const result = await runHourly(f.deps, new Date());
  assert.deepEqual(result.reports, { sent: [], failed: [] });
  assert.deepEqual(result.interrupted, []);
});
