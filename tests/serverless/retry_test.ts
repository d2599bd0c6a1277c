/**
 * A scheduled slot whose run the service stopped (inline mode: SIGINT or SIGTERM from
 * the platform) is retried once by the next tick, on any instance: two instances
 * ticking at once claim the retry once, a retry is never retried, and a run
 * interrupted for another reason is not retried.
 */
import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { openDatabase } from "../../src/db/client.ts";
import { runs } from "../../src/db/schema/autocomm.ts";
import { createRunQueue } from "../../src/pipeline/queue.ts";
import { serviceStoppedMessage } from "../../src/pipeline/signals.ts";
import type { Db } from "../../src/db/client.ts";
import { tick } from "../../src/schedule/tick.ts";
import { fixture, teachersFile } from "../schedule/fixture.ts";

const at = (iso: string) => new Date(iso);

/** Marks a run interrupted as the service's stop does (`queue.ts` `stop`). */
async function interrupt(db: Db, runId: number, message: string, endedAt: string) {
  await db.update(runs).set({ status: "interrupted", message, endedAt, leaseExpiresAt: null })
    .where(eq(runs.id, runId));
}

Deno.test("a slot whose run the service stopped is retried once by the next tick", async () => {
  await using f = await fixture();
  const record = await f.addRecord();
  await f.write("teachers.txt", teachersFile(3));
  const slotKey = `${record.id}@2026-03-10T10:05`;
  // The first tick claims the slot; the run is stopped with the service before it ends.
  const first = await tick(f.deps, at("2026-03-10T10:05:00Z"));
  await f.queue.idle();
  await interrupt(
    f.db,
    first.claimed[0]!.runId,
    serviceStoppedMessage("SIGINT"),
    "2026-03-10T10:05:20Z",
  );

  const next = await tick(f.deps, at("2026-03-10T10:06:00Z"));
  assert.deepEqual(next.claimed.map((c) => c.slotKey), [`${slotKey}#retry`]);
  await f.queue.idle();
  const retry = await f.run(next.claimed[0]!.runId);
  assert.equal(retry.status, "succeeded");
  assert.equal(retry.trigger, "schedule");
  assert.equal(retry.recordId, record.id);

  // Stopped again: a retry is not retried.
  await interrupt(f.db, retry.id, serviceStoppedMessage("SIGTERM"), "2026-03-10T10:06:30Z");
  const later = await tick(f.deps, at("2026-03-10T10:07:00Z"));
  assert.deepEqual(later.claimed, []);
  assert.equal((await f.runs()).length, 2);
});

Deno.test("two instances ticking at once claim a stopped slot's retry once", async () => {
  await using f = await fixture();
  const record = await f.addRecord();
  await f.write("teachers.txt", teachersFile(2));
  const first = await tick(f.deps, at("2026-03-10T10:05:00Z"));
  await f.queue.idle();
  await interrupt(
    f.db,
    first.claimed[0]!.runId,
    serviceStoppedMessage("SIGINT"),
    "2026-03-10T10:05:20Z",
  );
  // A second instance: its own connection and queue on the same database.
  const other = await openDatabase(f.config);
  const otherQueue = createRunQueue({ db: other.db, config: f.config });
  try {
    const [a, b] = await Promise.all([
      tick(f.deps, at("2026-03-10T10:06:00Z")),
      tick({ ...f.deps, db: other.db, queue: otherQueue }, at("2026-03-10T10:06:00Z")),
    ]);
    const claimed = [...a.claimed, ...b.claimed].filter((c) => c.slotKey.endsWith("#retry"));
    assert.deepEqual(claimed.map((c) => c.slotKey), [`${record.id}@2026-03-10T10:05#retry`]);
    await Promise.all([f.queue.idle(), otherQueue.idle()]);
    const all = await f.runs();
    assert.deepEqual(all.map((r) => r.status), ["interrupted", "succeeded"]);
  } finally {
    await otherQueue.close();
    other.close();
  }
});

Deno.test("a run interrupted for another reason, or over an hour ago, is not retried", async () => {
  await using f = await fixture();
  await f.addRecord();
  await f.write("teachers.txt", teachersFile(2));
  const first = await tick(f.deps, at("2026-03-10T10:05:00Z"));
  await f.queue.idle();
  const runId = first.claimed[0]!.runId;
  await interrupt(
    f.db,
    runId,
    "The run's process stopped before the run finished (its lease expired); nothing was changed",
    "2026-03-10T10:05:20Z",
  );
  assert.deepEqual((await tick(f.deps, at("2026-03-10T10:06:00Z"))).claimed, []);
  await interrupt(f.db, runId, serviceStoppedMessage("SIGINT"), "2026-03-10T10:05:20Z");
  assert.deepEqual((await tick(f.deps, at("2026-03-10T11:06:00Z"))).claimed, []);
});
