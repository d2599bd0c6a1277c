import assert from "node:assert/strict";
import { queueRecordRun } from "../../src/pipeline/service.ts";
import { tick } from "../../src/schedule/tick.ts";
import { fixture, teachersFile } from "../schedule/fixture.ts";

Deno.test("a file whose size changed since the run last looked is still being written, even with an old modification time", async () => {
  await using f = await fixture();
  const record = await f.addRecord({ minFileAgeSeconds: 3600, executionOff: true });
  const path = await f.write("teachers.txt", teachersFile(2));
  const runId = await queueRecordRun(f.deps, record.id, { trigger: "run_now" });
  f.queue.enqueue(runId);
  await f.queue.idle();
  assert.equal((await f.run(runId)).status, "waiting");
  assert.equal((await f.run(runId)).fileSize, (await Deno.stat(path)).size);

  // A writer that keeps the old modification time (a copy preserving times) grew it.
  const old = new Date(Date.now() - 2 * 3600_000);
  await Deno.writeTextFile(path, teachersFile(3));
  await Deno.utime(path, old, old);
  const grown = await tick(f.deps, new Date());
  assert.deepEqual(grown.requeued, [runId]);
  await f.queue.idle();
  const again = await f.run(runId);
  assert.equal(again.status, "waiting", "its size changed since the last look");
  assert.match(again.message ?? "", /changed 0 s ago/);

  // Same size and an old time at the next look: imported.
  const settled = await tick(f.deps, new Date());
  assert.deepEqual(settled.requeued, [runId]);
  await f.queue.idle();
  const done = await f.run(runId);
  assert.equal(done.status, "succeeded");
  assert.equal(done.inserted, 3);
});
