/**
 * Replayed Run Now webhooks: a captured request sent again — with a new delivery
 * id, to another record, unchanged, through another process of the service — or
 * one signed the old way starts no run. Replays answer 401: they are refused for
 * their credentials, like a stale timestamp; 409 would tell the sender to retry.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { eq } from "drizzle-orm";
import { openDatabase } from "../../src/db/client.ts";
import { runs, webhookSignatures } from "../../src/db/schema/autocomm.ts";
import { createLogger } from "../../src/log.ts";
import { queueRecordRun } from "../../src/pipeline/service.ts";
import { createApp } from "../../src/web/app.ts";
import {
  schoolYear,
  startTestService,
  studentsRecord,
  type TestService,
  tsv,
} from "../support/web.ts";

const SECRET = "replay-test-secret";

/** What a sender puts on the wire. */
interface Captured {
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** A request signed as the README says: HMAC-SHA256 of `<timestamp>.<delivery>.<path>.<body>`. */
function signed(recordId: number, options: { delivery?: string; timestamp?: number } = {}) {
  const body = '{"reason":"nightly export finished"}';
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const delivery = options.delivery ?? crypto.randomUUID();
  const path = `/hooks/run-now/${recordId}`;
  const hex = createHmac("sha256", SECRET).update(`${timestamp}.${delivery}.${path}.${body}`)
    .digest("hex");
  return {
    path,
    body,
    headers: {
      "content-type": "application/json",
      "x-autocomm-timestamp": timestamp,
      "x-autocomm-delivery": delivery,
      "x-autocomm-signature": `sha256=${hex}`,
    },
  } satisfies Captured;
}

function send(s: { app: TestService["app"] }, request: Captured): Promise<Response> {
  return Promise.resolve(s.app.request(request.path, {
    method: "POST",
    headers: request.headers,
    body: request.body,
  }));
}

async function refused(response: Response, code: string) {
  assert.equal(response.status, 401);
  assert.match(response.headers.get("content-type") ?? "", /application\/json/);
  const body = await response.json();
  assert.equal(body.error.code, code);
}

async function service() {
  const s = await startTestService({ env: { AUTOCOMM_WEBHOOK_SECRET: SECRET } });
  await s.writeImport("students.txt", tsv([["1001", "Ann", "Lee", "5", `${schoolYear()}-09-01`]]));
  const ids: number[] = [];
  for (const name of ["Students A", "Students B"]) {
    const res = await s.api("/api/v1/records", {
      method: "POST",
      json: studentsRecord({ name }),
    });
    assert.equal(res.status, 201);
    ids.push((await res.json()).records[0].id);
  }
  const runsOf = async (recordId: number) =>
    await s.database.db.select().from(runs).where(eq(runs.recordId, recordId));
  return { s, a: ids[0]!, b: ids[1]!, runsOf };
}

Deno.test("a captured request sent again with a new delivery id is refused with 401", async () => {
  const { s, a, runsOf } = await service();
  try {
    const original = signed(a);
    assert.equal((await send(s, original)).status, 202);
    await s.queue.idle();
    const replay = {
      ...original,
      headers: { ...original.headers, "x-autocomm-delivery": crypto.randomUUID() },
    };
    await refused(await send(s, replay), "bad_signature");
    assert.equal((await runsOf(a)).length, 1);
  } finally {
    await s.close();
  }
});

Deno.test("a signature for one record sent to another is refused with 401", async () => {
  const { s, a, b, runsOf } = await service();
  try {
    const forA = signed(a);
    await refused(await send(s, { ...forA, path: `/hooks/run-now/${b}` }), "bad_signature");
    assert.equal((await runsOf(b)).length, 0);
    // Accepted where it was meant to go.
    assert.equal((await send(s, forA)).status, 202);
    await s.queue.idle();
    await refused(await send(s, { ...forA, path: `/hooks/run-now/${b}` }), "bad_signature");
    assert.equal((await runsOf(b)).length, 0);
  } finally {
    await s.close();
  }
});

Deno.test("a request sent again unchanged is refused with 401, whatever its first answer was", async () => {
  const { s, a, runsOf } = await service();
  try {
    // Answered 202: the same bytes again, or with the hex of the signature in capitals.
    const accepted = signed(a);
    assert.equal((await send(s, accepted)).status, 202);
    await s.queue.idle();
    await refused(await send(s, accepted), "replayed_signature");
    const upper = {
      ...accepted,
      headers: {
        ...accepted.headers,
        "x-autocomm-signature": `sha256=${
          accepted.headers["x-autocomm-signature"].slice(7).toUpperCase()
        }`,
      },
    };
    await refused(await send(s, upper), "replayed_signature");
    // Answered 409 (the record had a queued run): once the record is free, the same bytes start nothing.
    const busy = await queueRecordRun({ db: s.database.db, config: s.config }, a, {
      trigger: "api",
    });
    const whileBusy = signed(a);
    assert.equal((await send(s, whileBusy)).status, 409);
    await s.database.db.update(runs).set({ status: "succeeded" }).where(eq(runs.id, busy));
    await refused(await send(s, whileBusy), "replayed_signature");
    assert.equal((await runsOf(a)).length, 2);
  } finally {
    await s.close();
  }
});

Deno.test("a signature one process accepted is refused by another process on the same database", async () => {
  const { s, a, runsOf } = await service();
  const other = await openDatabase(s.config);
  try {
    const second = createApp({
      config: s.config,
      database: other,
      logger: createLogger("error"),
      queue: s.queue,
    });
    const request = signed(a);
    assert.equal((await send(s, request)).status, 202);
    await s.queue.idle();
    await refused(await send({ app: second }, request), "replayed_signature");
    assert.equal((await runsOf(a)).length, 1);
  } finally {
    other.close();
    await s.close();
  }
});

Deno.test("a request signed the old way, over <timestamp>.<body>, is refused with 401", async () => {
  const { s, a, runsOf } = await service();
  try {
    const request = signed(a);
    const timestamp = request.headers["x-autocomm-timestamp"];
    const old = createHmac("sha256", SECRET).update(`${timestamp}.${request.body}`).digest("hex");
    const response = await send(s, {
      ...request,
      headers: { ...request.headers, "x-autocomm-signature": `sha256=${old}` },
    });
    await refused(response, "bad_signature");
    assert.equal((await runsOf(a)).length, 0);
  } finally {
    await s.close();
  }
});

Deno.test("seen signatures are kept until their window has passed, then pruned", async () => {
  const { s, a } = await service();
  try {
    const db = s.database.db;
    const now = Math.floor(Date.now() / 1000);
    await db.insert(webhookSignatures).values({ signature: "0".repeat(64), expiresAt: now - 3600 });
    const request = signed(a, { timestamp: now - 10 });
    assert.equal((await send(s, request)).status, 202);
    await s.queue.idle();
    const rows = await db.select().from(webhookSignatures);
    assert.deepEqual(rows, [{
      signature: request.headers["x-autocomm-signature"].slice(7),
      expiresAt: now - 10 + 300,
    }]);
  } finally {
    await s.close();
  }
});

/** The README's example, exactly as written there. */
async function readmeExample(): Promise<string> {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const section = readme.slice(readme.indexOf("## Run Now webhook"));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block, "the README's Run Now webhook section has a sh example");
  return block;
}

async function hasCommand(name: string): Promise<boolean> {
  try {
    const out = await new Deno.Command("sh", { args: ["-c", `command -v ${name}`] }).output();
    return out.success;
  } catch {
    return false;
  }
}

const haveTools = await hasCommand("curl") && await hasCommand("openssl");
const inCi = Deno.env.get("CI") === "true";
if (!haveTools && !inCi) {
  console.log(
    "install curl and openssl (apt-get install -y curl openssl) to run the README's webhook example",
  );
}

Deno.test({
  name: "the README's curl and openssl example starts a run, and sent again it is refused",
  ignore: !haveTools && !inCi,
  fn: async () => {
    if (!haveTools) throw new Error("The README example needs curl and openssl; install them");
    const { s, a, runsOf } = await service();
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, s.app.fetch);
    try {
      const example = await readmeExample();
      assert.ok(example.includes("SECRET=… RECORD=12 "));
      const script = example
        .replace("SECRET=… RECORD=12 ", `SECRET='${SECRET}' RECORD=${a} `)
        .replaceAll("https://autocomm.example.org", `http://127.0.0.1:${server.addr.port}`);
      const run = async (text: string) => {
        const out = await new Deno.Command("bash", { args: ["-eu", "-o", "pipefail", "-c", text] })
          .output();
        assert.ok(out.success, new TextDecoder().decode(out.stderr));
        return new TextDecoder().decode(out.stdout);
      };
      // The example as written, then what it sent, to send it again.
      const output = await run(`${script}\necho "@@ $TS $DELIVERY $SIG"\n`);
      assert.match(output, /^HTTP\/1\.1 202/);
      assert.match(output, /content-type: application\/json/i);
      assert.match(output, /\{"runId":\d+\}/);
      await s.queue.idle();
      const [started] = await runsOf(a);
      assert.equal(started?.trigger, "webhook");
      assert.equal(started?.status, "succeeded");

      const [ts, delivery, sig] = output.slice(output.lastIndexOf("@@ ") + 3).trim().split(" ");
      const replay = await fetch(`http://127.0.0.1:${server.addr.port}/hooks/run-now/${a}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-autocomm-timestamp": ts!,
          "x-autocomm-delivery": delivery!,
          "x-autocomm-signature": `sha256=${sig}`,
        },
        body: '{"reason":"nightly export finished"}',
      });
      await refused(replay, "replayed_signature");
      assert.equal((await runsOf(a)).length, 1);
    } finally {
      await server.shutdown();
      await s.close();
    }
  },
});
