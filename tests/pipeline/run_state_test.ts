/**
 * The run-state transition table: every allowed transition moves a run, every other
 * one is refused — by the table, and in the database, where a run in another status
 * than the statement expects is left alone.
 */
import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { runs } from "../../src/db/schema/autocomm.ts";
import {
  canTransition,
  discardedMessage,
  failedMessage,
  interruptedMessage,
  renewLeaseStatement,
  RUN_STATUSES,
  type RunStatus,
  STATUS_WORDING,
  statusWords,
  TransitionRefused,
  transitionStatement,
} from "../../src/pipeline/run_state.ts";
import { writeRuns } from "../../src/pipeline/run_state_db.ts";
import { tempDatabase } from "../support/db.ts";

/** Every allowed transition, written out once more by hand. */
const ALLOWED: readonly (readonly [RunStatus, RunStatus])[] = [
  ["queued", "running"],
  ["queued", "interrupted"],
  ["queued", "failed"],
  ["waiting", "queued"],
  ["waiting", "running"],
  ["waiting", "no_file"],
  ["waiting", "failed"],
  ["waiting", "interrupted"],
  ["running", "waiting"],
  ["running", "succeeded"],
  ["running", "succeeded_with_errors"],
  ["running", "rejected"],
  ["running", "failed"],
  ["running", "held"],
  ["running", "no_file"],
  ["running", "empty"],
  ["running", "interrupted"],
  ["running", "preview"],
  ["held", "approved"],
  ["held", "discarded"],
];

const isAllowed = (from: RunStatus, to: RunStatus) =>
  ALLOWED.some(([f, t]) => f === from && t === to);

Deno.test("the status union lists the fourteen statuses of the README, approved among them", () => {
  assert.deepEqual([...RUN_STATUSES].sort(), [
    "approved",
    "discarded",
    "empty",
    "failed",
    "held",
    "interrupted",
    "no_file",
    "preview",
    "queued",
    "rejected",
    "running",
    "succeeded",
    "succeeded_with_errors",
    "waiting",
  ]);
});

Deno.test("the transition table allows exactly the listed transitions and refuses every other", () => {
  for (const from of RUN_STATUSES) {
    for (const to of RUN_STATUSES) {
      assert.equal(canTransition(from, to), isAllowed(from, to), `${from} → ${to}`);
    }
  }
});

Deno.test("a refused transition's statement is not built", () => {
  for (const from of RUN_STATUSES) {
    for (const to of RUN_STATUSES) {
      if (isAllowed(from, to)) continue;
      assert.throws(
        () => transitionStatement(1, to, { from: [from] }),
        TransitionRefused,
        `${from} → ${to}`,
      );
    }
  }
});

Deno.test("in the database every allowed transition moves the run and every other leaves it as it was", async () => {
  await using t = await tempDatabase();
  const { db } = t.database;
  for (const from of RUN_STATUSES) {
    for (const to of RUN_STATUSES) {
      const [run] = await db.insert(runs).values({
        schoolId: 100,
        table: "teachers",
        trigger: "cli",
        status: from,
        options: {},
        queuedAt: "2026-12-06T00:00:00.000Z",
      }).returning({ id: runs.id });
      const changed = await writeRuns(
        db,
        transitionStatement(run!.id, to, { set: { message: `${from} → ${to}` } }),
      );
      const [after] = await db.select({ status: runs.status, message: runs.message }).from(runs)
        .where(eq(runs.id, run!.id));
      assert.equal(changed, isAllowed(from, to) ? 1 : 0, `${from} → ${to}`);
      assert.deepEqual(
        after,
        isAllowed(from, to)
          ? { status: to, message: `${from} → ${to}` }
          : { status: from, message: null },
      );
    }
  }
});

Deno.test("a lease is renewed only for a run still in the holder's status", async () => {
  await using t = await tempDatabase();
  const { db } = t.database;
  const ids: number[] = [];
  for (const status of ["running", "interrupted"]) {
    const [run] = await db.insert(runs).values({
      schoolId: 100,
      table: "teachers",
      trigger: "cli",
      status,
      options: {},
      queuedAt: "2026-12-06T00:00:00.000Z",
    }).returning({ id: runs.id });
    ids.push(run!.id);
  }
  const until = "2026-12-06T01:00:00.000Z";
  assert.equal(await writeRuns(db, renewLeaseStatement(ids, until, { status: "running" })), 1);
  const leases = await db.select({ lease: runs.leaseExpiresAt }).from(runs).orderBy(runs.id);
  assert.deepEqual(leases.map((r) => r.lease), [until, null]);
});

Deno.test("an interrupted run's message has one wording per reason", () => {
  assert.equal(
    interruptedMessage({ signal: "SIGINT" }),
    "Stopped by SIGINT before it finished; nothing was changed",
  );
  assert.match(interruptedMessage("lease_expired"), /lease expired/);
  assert.match(
    interruptedMessage("owner_gone"),
    /started the run .* stopped .*nothing was changed/,
  );
  for (
    const reason of [
      "owner_gone",
      "lease_lost",
      "process_stopped",
      "queue_gone",
      "lease_expired",
    ] as const
  ) {
    assert.match(interruptedMessage(reason), /; nothing was changed$/, reason);
  }
});

Deno.test("a discarded or failed run's message has one wording per reason", () => {
  assert.equal(discardedMessage({ by: "ann" }), "Discarded by ann");
  assert.equal(discardedMessage({ by: undefined }), "Discarded by a person");
  assert.equal(discardedMessage("expired"), "Discarded: not approved within 24 hours");
  assert.equal(discardedMessage("superseded"), "Discarded: a later run of the record committed");
  assert.equal(failedMessage("disk full"), "The run failed and changed nothing: disk full");
});

Deno.test("every status has words for pages and for e-mail, and an unknown one is shown as stored", () => {
  for (const status of RUN_STATUSES) {
    assert.ok(STATUS_WORDING[status].label !== "", status);
    assert.ok(STATUS_WORDING[status].mail !== "", status);
  }
  assert.equal(statusWords("held", "label"), "Held for approval");
  assert.equal(statusWords("held", "mail"), "held for approval (nothing changed)");
  assert.equal(statusWords("some_new_status", "mail"), "some new status");
  assert.equal(statusWords("some_new_status", "label"), "some_new_status");
});
