import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { hostCallbackOf, notifyHost, retryHostCallbacks } from "../../src/host/callback.ts";
import { createLogger } from "../../src/log.ts";
import { readFeed } from "../../src/host/feed.ts";
import { hostCallbacks } from "../../src/db/schema/autocomm.ts";
import { queueRecordRun } from "../../src/pipeline/service.ts";
import { runHourly } from "../../src/schedule/hourly.ts";
import { tick } from "../../src/schedule/tick.ts";
import { verifySignature } from "../../src/util/signature.ts";
import { createHooksApp, signWebhook, webhookPath } from "../../src/web/hooks/run_now.ts";
import { fixture, teachersFile } from "../schedule/fixture.ts";
import { schoolYear, startTestService, studentsRecord, tsv } from "../support/web.ts";

const SECRET = "callback-secret-of-the-host";
const HOUR = 3600 * 1000;

/** What the receiver does with a request: answer with a status, or never answer. */
type Behaviour = number | "hang";

interface Received {
  path: string;
  search: string;
  headers: Headers;
  body: string;
}

/** A host's callback endpoint on 127.0.0.1, answering as told (the last behaviour repeats). */
function startReceiver(behaviours: Behaviour[]) {
  const received: Received[] = [];
  const hanging: (() => void)[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    received.push({
      path: url.pathname,
      search: url.search,
      headers: req.headers,
      body: await req.text(),
    });
    const behaviour = behaviours[Math.min(received.length, behaviours.length) - 1]!;
    if (behaviour === "hang") {
      await new Promise<void>((resolve) => hanging.push(resolve));
      return new Response("late", { status: 200 });
    }
    return new Response(behaviour === 204 ? null : "answer", { status: behaviour });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/autocomm/callback?tenant=7`,
    received,
    async [Symbol.asyncDispose]() {
      for (const resolve of hanging) resolve();
      await server.shutdown();
    },
  };
}

async function setup(receiverUrl: string, env: Record<string, string> = {}) {
  const f = await fixture({
    env: {
      AUTOCOMM_HOST_CALLBACK_URL: receiverUrl,
      AUTOCOMM_HOST_CALLBACK_SECRET: SECRET,
      AUTOCOMM_WEBHOOK_SECRET: "webhook-secret",
      ...env,
    },
  });
  const record = await f.addRecord({ name: "Teachers nightly" });
  await f.write("teachers.txt", teachersFile(2));
  return { f, record };
}

/** Runs the record through the queue (whose end reports the run) and returns the run id. */
async function runRecord(f: Awaited<ReturnType<typeof fixture>>, recordId: number) {
  const runId = await queueRecordRun(f.deps, recordId, { trigger: "run_now" });
  f.queue.enqueue(runId);
  await f.queue.idle();
  return runId;
}

Deno.test("a run started by Run Now is POSTed to the host with its counts and feed cursor, signed like the webhook", async () => {
  await using receiver = startReceiver([204]);
  const { f, record } = await setup(receiver.url);
  await using _ = f;

  // Run Now through the signed webhook, as a host would.
  const hooks = createHooksApp(f.deps);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const path = webhookPath(record.id);
  const started = await hooks.request(`http://localhost/run-now/${record.id}`, {
    method: "POST",
    headers: {
      "X-AutoComm-Timestamp": timestamp,
      "X-AutoComm-Delivery": "host-1",
      "X-AutoComm-Signature": signWebhook("webhook-secret", {
        timestamp,
        delivery: "host-1",
        path,
        body: "",
      }),
    },
  });
  assert.equal(started.status, 202);
  const { runId } = await started.json() as { runId: number };
  await f.queue.idle();

  assert.equal(receiver.received.length, 1);
  const [got] = receiver.received;
  assert.equal(got!.path, "/autocomm/callback");
  assert.equal(got!.search, "?tenant=7");
  assert.match(got!.headers.get("content-type") ?? "", /application\/json/);
  const run = await f.run(runId);
  const feed = await readFeed(f.db);
  assert.deepEqual(JSON.parse(got!.body), {
    runId,
    recordId: record.id,
    recordName: "Teachers nightly",
    schoolId: 100,
    table: "teachers",
    status: "succeeded",
    counts: {
      read: 2,
      inserted: 2,
      updated: 0,
      unchanged: 0,
      skipped: 0,
      rejected: 0,
      removed: 0,
      inactivated: 0,
    },
    changesCursor: feed.next,
    finishedAt: run.endedAt,
  });

  const ts = got!.headers.get("x-autocomm-timestamp")!;
  const delivery = got!.headers.get("x-autocomm-delivery")!;
  const signature = got!.headers.get("x-autocomm-signature")!;
  assert.ok(Math.abs(Number(ts) - Date.now() / 1000) < 60);
  assert.match(delivery, new RegExp(`^run-${runId}-\\d{8}T\\d{6}Z$`));
  // The shared function, and independently node:crypto, as a host would check it.
  const signed = { timestamp: ts, delivery, path: "/autocomm/callback", body: got!.body };
  assert.ok(verifySignature(SECRET, { ...signed, signature }));
  const expected = createHmac("sha256", SECRET)
    .update(`${ts}.${delivery}./autocomm/callback.${got!.body}`).digest("hex");
  assert.equal(signature, `sha256=${expected}`);
  assert.equal(verifySignature("another secret", { ...signed, signature }), undefined);

  const row = await hostCallbackOf(f.db, runId);
  assert.equal(row?.status, "delivered");
  assert.equal(row?.attempts, 1);
  assert.ok(row?.deliveredAt);
});

Deno.test("a host answering 500 is retried by the hourly process and then delivered; the run's status never changes", async () => {
  await using receiver = startReceiver([500, 200]);
  const { f, record } = await setup(receiver.url);
  await using _ = f;
  const runId = await runRecord(f, record.id);

  let row = await hostCallbackOf(f.db, runId);
  assert.equal(row?.status, "pending");
  assert.match(row?.lastError ?? "", /^HTTP 500/);
  const retryAt = Date.parse(row!.nextAttemptAt!);
  assert.ok(Math.abs(retryAt - Date.parse(row!.firstAttemptAt) - HOUR) < 1000);
  assert.equal((await f.run(runId)).status, "succeeded");
  assert.ok(
    f.logger.events.some((e) => e.event === "host_callback_failed" && e.data["runId"] === runId),
  );

  // Not due yet: nothing is sent.
  let hourly = await runHourly(f.deps, new Date(retryAt - 60_000));
  assert.deepEqual(hourly.callbacks, { delivered: [], pending: [], failed: [] });
  assert.equal(receiver.received.length, 1);

  hourly = await runHourly(f.deps, new Date(retryAt + 60_000));
  assert.deepEqual(hourly.callbacks, { delivered: [runId], pending: [], failed: [] });
  assert.equal(receiver.received.length, 2);
  const [first, second] = receiver.received;
  assert.equal(
    second!.headers.get("x-autocomm-delivery"),
    first!.headers.get("x-autocomm-delivery"),
  );
  assert.equal(second!.body, first!.body);
  row = await hostCallbackOf(f.db, runId);
  assert.equal(row?.status, "delivered");
  assert.equal(row?.attempts, 2);
  assert.equal((await f.run(runId)).status, "succeeded");
});

Deno.test("the minute tick's hourly process retries a due callback in the background", async () => {
  await using receiver = startReceiver([500, 200]);
  const { f, record } = await setup(receiver.url);
  await using _ = f;
  const runId = await runRecord(f, record.id);
  const retryAt = Date.parse((await hostCallbackOf(f.db, runId))!.nextAttemptAt!);
  // Minute 00 of the first hour after the retry time (the fixture's time zone is UTC).
  const hour = new Date(Math.ceil((retryAt + 1) / HOUR) * HOUR);
  const result = await tick(f.deps, hour);
  assert.ok(result.hourly !== null);
  await result.reports;
  assert.equal(receiver.received.length, 2);
  assert.equal((await hostCallbackOf(f.db, runId))?.status, "delivered");
});

Deno.test("a host that does not answer in time is a failed attempt, retried later", async () => {
  await using receiver = startReceiver(["hang"]);
  // The service runs without a callback URL; the attempt is then made by hand with a
  // short timeout, as the service makes it with 10 s.
  await using f = await fixture();
  const record = await f.addRecord();
  await f.write("teachers.txt", teachersFile(1));
  const runId = await runRecord(f, record.id);
  assert.equal(receiver.received.length, 0);
  const started = Date.now();
  const deps = {
    ...f.deps,
    config: { hostCallbackUrl: receiver.url, hostCallbackSecret: SECRET },
    timeoutMs: 500,
  };
  assert.equal(await notifyHost(deps, runId), "pending");
  assert.ok(Date.now() - started < 5000);
  assert.equal(receiver.received.length, 1);
  const row = await hostCallbackOf(f.db, runId);
  assert.equal(row?.status, "pending");
  assert.equal(row?.lastError, "No answer within 0.5 s");
  assert.equal((await f.run(runId)).status, "succeeded");
});

Deno.test("after 24 hours of failures the hourly process gives up and says so", async () => {
  await using receiver = startReceiver([503]);
  const { f, record } = await setup(receiver.url);
  await using _ = f;
  const runId = await runRecord(f, record.id);
  const first = Date.parse((await hostCallbackOf(f.db, runId))!.firstAttemptAt);

  // The hourly process at every hour for a day and more: attempts after 1, 3, 7, 15, 23
  // and 24 hours (pauses of 1, 2, 4, 8 hours, the last attempt 24 hours after the first).
  const attempts: number[] = [];
  for (let h = 1; h <= 26; h++) {
    const before = receiver.received.length;
    const result = await runHourly(f.deps, new Date(first + h * HOUR + 1000));
    if (receiver.received.length > before) attempts.push(h);
    if (h === 24) assert.deepEqual(result.callbacks.failed, [runId]);
  }
  assert.deepEqual(attempts, [1, 3, 7, 15, 23, 24]);
  const row = await hostCallbackOf(f.db, runId);
  assert.equal(row?.status, "failed");
  assert.equal(row?.attempts, 7);
  assert.match(row?.lastError ?? "", /^HTTP 503/);
  assert.ok(f.logger.events.some((e) => e.event === "host_callback_given_up"));
  assert.equal((await f.run(runId)).status, "succeeded");
});

Deno.test("previews are not sent, and nothing is sent without a callback URL", async () => {
  await using receiver = startReceiver([200]);
  {
    const { f, record } = await setup(receiver.url);
    await using _ = f;
    const preview = await queueRecordRun(f.deps, record.id, { trigger: "run_now", preview: true });
    f.queue.enqueue(preview);
    await f.queue.idle();
    assert.equal((await f.run(preview)).status, "preview");
    assert.equal(await hostCallbackOf(f.db, preview), undefined);
    assert.equal(receiver.received.length, 0);
  }
  await using f = await fixture();
  const record = await f.addRecord();
  await f.write("teachers.txt", teachersFile(1));
  const runId = await runRecord(f, record.id);
  assert.equal(await notifyHost(f.deps, runId), "off");
  assert.equal(await hostCallbackOf(f.db, runId), undefined);
  assert.equal(receiver.received.length, 0);
});

Deno.test("the run page and the API show whether the host was notified, is failing, or gave up", async () => {
  await using receiver = startReceiver([500, 200]);
  const s = await startTestService({
    env: { AUTOCOMM_HOST_CALLBACK_URL: receiver.url, AUTOCOMM_HOST_CALLBACK_SECRET: SECRET },
  });
  try {
    let res = await s.api("/api/v1/records", { method: "POST", json: studentsRecord() });
    const recordId = (await res.json()).records[0].id;
    await s.writeImport("students.txt", tsv([[7001, "Ann", "Lee", 3, `08/20/${schoolYear()}`]]));
    res = await s.api(`/api/v1/records/${recordId}/run`, { method: "POST" });
    const { runId } = await res.json();
    await s.queue.idle();
    const viewer = await s.session("viewer");
    const pageText = async () => await (await s.page(viewer, `/runs/${runId}`)).text();
    const detail = async () => await (await s.api(`/api/v1/runs/${runId}`)).json();

    assert.doesNotMatch(await pageText(), /Host notif/);
    assert.equal((await detail()).callback, null);

    // This test service's queue reports nothing itself: the first attempt by hand.
    const deps = { db: s.database.db, config: s.config, logger: createLogger("error") };
    assert.equal(await notifyHost(deps, runId), "pending");
    assert.match(await pageText(), /Host notification failing: HTTP 500[^,]*, retry at <time/);
    const failing = (await detail()).callback;
    assert.equal(failing.status, "pending");
    assert.equal(failing.attempts, 1);
    assert.match(failing.lastError, /^HTTP 500/);

    await retryHostCallbacks(deps, new Date(Date.now() + 2 * HOUR));
    assert.match(await pageText(), /Host notified at <time/);
    assert.equal((await detail()).callback.status, "delivered");

    // A delivery given up reads so.
    await s.database.db.update(hostCallbacks).set({ status: "failed", attempts: 7 });
    assert.match(await pageText(), /Host notification gave up after 7 attempts in 24 hours/);
  } finally {
    await s.close();
  }
});
