import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { runs, webhookDeliveries } from "../../src/db/schema/autocomm.ts";
import { queueRecordRun } from "../../src/pipeline/service.ts";
import { createHooksApp, signWebhook, webhookPath } from "../../src/web/hooks/run_now.ts";
import { fixture, teachersFile } from "../schedule/fixture.ts";

const SECRET = "test-secret-of-the-webhook";

interface Send {
  recordId?: number | string;
  body?: string;
  timestamp?: string;
  delivery?: string;
  signature?: string;
  omit?: string[];
  secret?: string;
}

function signedRequest(o: Send): Request {
  const body = o.body ?? '{"reason":"file uploaded"}';
  const timestamp = o.timestamp ?? String(Math.floor(Date.now() / 1000));
  const delivery = o.delivery ?? crypto.randomUUID();
  const path = webhookPath(o.recordId ?? 1);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "X-AutoComm-Timestamp": timestamp,
    "X-AutoComm-Delivery": delivery,
    "X-AutoComm-Signature": o.signature ??
      signWebhook(o.secret ?? SECRET, { timestamp, delivery, path, body }),
  };
  for (const name of o.omit ?? []) delete headers[name];
  return new Request(`http://localhost/run-now/${o.recordId ?? 1}`, {
    method: "POST",
    headers,
    body,
  });
}

async function setup(env: Record<string, string> = { AUTOCOMM_WEBHOOK_SECRET: SECRET }) {
  const f = await fixture({ env });
  const record = await f.addRecord();
  await f.write("teachers.txt", teachersFile(2));
  const app = createHooksApp(f.deps);
  const send = (o: Send = {}) => app.request(signedRequest({ recordId: record.id, ...o }));
  return { f, record, app, send };
}

async function error(response: Response) {
  assert.match(response.headers.get("content-type") ?? "", /application\/json/);
  return (await response.json()) as { error: { code: string; message: string }; runId?: number };
}

Deno.test("a signed Run Now queues a run and answers 202 with its id", async () => {
  const { f, record, send } = await setup();
  await using _ = f;
  const response = await send({ delivery: "d-1" });
  assert.equal(response.status, 202);
  assert.match(response.headers.get("content-type") ?? "", /application\/json/);
  const { runId } = await response.json() as { runId: number };
  await f.queue.idle();
  const run = await f.run(runId);
  assert.equal(run.recordId, record.id);
  assert.equal(run.trigger, "webhook");
  assert.equal(run.status, "succeeded");
  assert.equal(run.inserted, 2);
  const [delivery] = await f.db.select().from(webhookDeliveries);
  assert.equal(delivery?.deliveryId, "d-1");
  assert.equal(delivery?.runId, runId);
});

Deno.test("an empty body is signed like any other", async () => {
  const { f, send } = await setup();
  await using _ = f;
  assert.equal((await send({ body: "" })).status, 202);
});

/** Unix seconds `ago` seconds before now, as the timestamp header. */
function secondsAgo(ago: number): string {
  return String(Math.floor(Date.now() / 1000) - ago);
}

Deno.test("a delivery id is accepted once: signed again, it answers 401", async () => {
  const { f, send } = await setup();
  await using _ = f;
  assert.equal((await send({ delivery: "same", timestamp: secondsAgo(1) })).status, 202);
  await f.queue.idle();
  const replay = await send({ delivery: "same", timestamp: secondsAgo(0) });
  assert.equal(replay.status, 401);
  assert.equal((await error(replay)).error.code, "replayed_delivery");
  assert.equal((await f.runs()).length, 1);
});

Deno.test("a record with an active run answers 409 with that run's id, and the delivery can be retried signed anew", async () => {
  const { f, record, send } = await setup();
  await using _ = f;
  const active = await queueRecordRun(f.deps, record.id, { trigger: "api" });
  const busy = await send({ delivery: "retry-me", timestamp: secondsAgo(2) });
  assert.equal(busy.status, 409);
  const body = await error(busy);
  assert.equal(body.error.code, "already_running");
  assert.equal(body.runId, active);
  // A waiting run is active too.
  await f.db.update(runs).set({ status: "waiting" }).where(eq(runs.id, active));
  const waiting = await send({ delivery: "retry-me", timestamp: secondsAgo(1) });
  assert.equal(waiting.status, 409);
  assert.equal((await error(waiting)).runId, active);
  // Once it has finished, the same delivery is accepted, signed with a new timestamp.
  await f.db.update(runs).set({ status: "succeeded" }).where(eq(runs.id, active));
  assert.equal((await send({ delivery: "retry-me", timestamp: secondsAgo(0) })).status, 202);
});

Deno.test("a run whose process died no longer blocks Run Now", async () => {
  const { f, record, send } = await setup();
  await using _ = f;
  const dead = await queueRecordRun(f.deps, record.id, { trigger: "api" });
  await f.db.update(runs).set({
    status: "running",
    leaseExpiresAt: new Date(Date.now() - 1000).toISOString(),
  }).where(eq(runs.id, dead));
  const response = await send();
  assert.equal(response.status, 202);
  assert.equal((await f.run(dead)).status, "interrupted");
});

Deno.test("each missing header answers 400", async () => {
  const { f, send } = await setup();
  await using _ = f;
  for (const name of ["X-AutoComm-Timestamp", "X-AutoComm-Delivery", "X-AutoComm-Signature"]) {
    const response = await send({ omit: [name] });
    assert.equal(response.status, 400, name);
    const body = await error(response);
    assert.equal(body.error.code, "missing_header");
    assert.match(body.error.message, new RegExp(name));
  }
  const notNumber = await send({ timestamp: "yesterday" });
  assert.equal(notNumber.status, 400);
  // The delivery id is one part of the signed text: it cannot hold the separator.
  for (const delivery of ["a.b", "x".repeat(201), "with space"]) {
    const response = await send({ delivery });
    assert.equal(response.status, 400, delivery);
    assert.equal((await error(response)).error.code, "bad_header");
  }
  assert.equal((await f.runs()).length, 0);
});

Deno.test("a bad signature answers 401", async () => {
  const { f, record, send } = await setup();
  await using _ = f;
  const cases: Send[] = [
    { secret: "another-secret" },
    { signature: "sha256=" + "0".repeat(64) },
    { signature: "sha256=abc" },
    {
      signature: signWebhook(SECRET, { timestamp: "1", delivery: "d", path: "/", body: "x" })
        .replace("sha256=", "sha1="),
    },
  ];
  for (const c of cases) {
    const response = await send(c);
    assert.equal(response.status, 401, JSON.stringify(c));
    assert.equal((await error(response)).error.code, "bad_signature");
  }
  // A body changed after signing.
  const timestamp = String(Math.floor(Date.now() / 1000));
  const tampered = await send({
    timestamp,
    delivery: "d-tampered",
    body: '{"x":2}',
    signature: signWebhook(SECRET, {
      timestamp,
      delivery: "d-tampered",
      path: webhookPath(record.id),
      body: '{"x":1}',
    }),
  });
  assert.equal(tampered.status, 401);
  assert.equal((await f.runs()).length, 0);
  assert.equal((await f.db.select().from(webhookDeliveries)).length, 0);
});

Deno.test("a timestamp more than 300 seconds away answers 401", async () => {
  const { f, send } = await setup();
  await using _ = f;
  const now = Math.floor(Date.now() / 1000);
  // Well past the window either way (a virtual machine's clock may be stepped while
  // the test runs; one second of margin once let now − 301 through).
  for (const t of [now - 400, now + 400, 0]) {
    const response = await send({ timestamp: String(t) });
    assert.equal(response.status, 401, String(t));
    assert.equal((await error(response)).error.code, "stale_timestamp");
  }
  assert.equal((await send({ timestamp: String(now - 200) })).status, 202);
});

Deno.test("an unknown record answers 404", async () => {
  const { f, send } = await setup();
  await using _ = f;
  for (const id of [9999, "abc", "1.5"]) {
    const response = await send({ recordId: id, delivery: "d" });
    assert.equal(response.status, 404, String(id));
    assert.equal((await error(response)).error.code, "not_found");
  }
});

Deno.test("without a configured secret the webhook answers 503", async () => {
  const { f, send } = await setup({});
  await using _ = f;
  const response = await send();
  assert.equal(response.status, 503);
  assert.equal((await error(response)).error.code, "webhook_disabled");
});

Deno.test("a body over 64 KiB answers 413", async () => {
  const { f, send } = await setup();
  await using _ = f;
  const response = await send({ body: "x".repeat(64 * 1024 + 1) });
  assert.equal(response.status, 413);
  assert.equal((await error(response)).error.code, "payload_too_large");
});
