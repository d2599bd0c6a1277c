/**
 * Every kind of write while a real second process holds the database's write lock
 * past the busy timeout, then again after: during, each answers 503 with
 * Retry-After and `database_busy` (a page: a clear message) and nothing of it is
 * stored; after, each is acknowledged and read back by another process — on the
 * embedded file and on `sqld`.
 */
import assert from "node:assert/strict";
import { issueAdminLink } from "../../src/web/auth/admin_link.ts";
import { signWebhook } from "../../src/web/hooks/run_now.ts";
import { holdWriteLock, type LockHolder, readElsewhere } from "../support/lock_holder.ts";
import { sqldProblem, sqldQuery, type SqldServer, startSqld } from "../support/sqld.ts";
import {
  ORIGIN,
  schoolYear,
  startTestService,
  studentsRecord,
  type TestService,
  testSetup,
  tsv,
} from "../support/web.ts";

const SECRET = "busy-test-webhook-secret";
const ENTRY = `08/20/${schoolYear()}`;

/** How to lock the service's database and how another process reads it. */
interface Backend {
  lock(): Promise<LockHolder>;
  read(sql: string): Promise<Record<string, unknown>[]>;
}

async function createRecord(s: TestService, over: Record<string, unknown>): Promise<number> {
  const res = await s.api("/api/v1/records", { method: "POST", json: studentsRecord(over) });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()).records[0].id;
}

async function runNow(s: TestService, recordId: number): Promise<number> {
  const res = await s.api(`/api/v1/records/${recordId}/run`, { method: "POST" });
  assert.equal(res.status, 202, await res.clone().text());
  const { runId } = await res.json();
  await s.queue.idle();
  return runId;
}

function webhook(s: TestService, recordId: number): Promise<Response> {
  const body = '{"reason":"uploaded"}';
  const timestamp = String(Math.floor(Date.now() / 1000));
  const delivery = crypto.randomUUID();
  const path = `/hooks/run-now/${recordId}`;
  return Promise.resolve(s.app.request(path, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "X-AutoComm-Timestamp": timestamp,
      "X-AutoComm-Delivery": delivery,
      "X-AutoComm-Signature": signWebhook(SECRET, { timestamp, delivery, path, body }),
    },
    body,
  }));
}

function signIn(s: TestService, link: string): Promise<Response> {
  const token = new URL(link).searchParams.get("token")!;
  return Promise.resolve(s.app.request("/signin/link", {
    method: "POST",
    headers: { origin: ORIGIN, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token }).toString(),
  }));
}

const fourthSchool = () => {
  const setup = testSetup();
  const school = { ...setup.schools[0]!, schoolNumber: 400, name: "Roosevelt Middle" };
  return { ...setup, schools: [...setup.schools, school] };
};

async function assertBusy(response: Response, what: string): Promise<void> {
  assert.equal(response.status, 503, `${what}: ${await response.clone().text()}`);
  assert.equal(response.headers.get("retry-after"), "5", what);
  assert.match(response.headers.get("content-type") ?? "", /application\/json/, what);
  const body = await response.json();
  assert.equal(body.error.code, "database_busy", what);
  assert.match(body.error.message, /busy.*nothing was saved/, what);
}

async function everyWriteDuringAndAfter(
  env: Record<string, string>,
  backendOf: (s: TestService) => Backend,
): Promise<void> {
  const s = await startTestService({
    env: { ...env, AUTOCOMM_BUSY_TIMEOUT_MS: "300", AUTOCOMM_WEBHOOK_SECRET: SECRET },
  });
  const backend = backendOf(s);
  try {
    const editor = await s.session("editor");
    const load = await createRecord(s, { name: "Load" });
    const sync = await createRecord(s, { name: "Sync", path: "sync.txt", synchronize: true });
    const runnable = await createRecord(s, { name: "Runnable", path: "run.txt" });
    const doomed = await createRecord(s, { name: "Doomed" });
    await s.writeImport(
      "students.txt",
      tsv([5001, 5002, 5003, 5004, 5005, 5006].map((n) => [n, "A", "B", 3, ENTRY])),
    );
    await s.writeImport("sync.txt", tsv([[5001, "A", "B", 3, ENTRY]]));
    await s.writeImport("run.txt", tsv([[5101, "C", "D", 4, ENTRY]]));
    await runNow(s, load);
    const held = await runNow(s, sync);
    assert.equal((await (await s.api(`/api/v1/runs/${held}`)).json()).status, "held");
    const linkDuring = await issueAdminLink(s.database.db, s.config);
    const linkAfter = await issueAdminLink(s.database.db, s.config);
    const sessionsBefore = (await backend.read("SELECT count(*) AS n FROM sessions"))[0]!.n;
    const runsBefore = await backend.read("SELECT id FROM runs ORDER BY id");

    // During: the lock is held past the busy timeout by another process.
    const lock = await backend.lock();
    try {
      await assertBusy(
        await s.api("/api/v1/records", {
          method: "POST",
          json: studentsRecord({ name: "Created during" }),
        }),
        "record create",
      );
      await assertBusy(
        await s.api(`/api/v1/records/${load}`, { method: "PATCH", json: { minute: 45 } }),
        "record update",
      );
      await assertBusy(
        await s.api(`/api/v1/records/${doomed}`, { method: "DELETE" }),
        "record delete",
      );
      await assertBusy(
        await s.api(`/api/v1/records/${runnable}/run`, { method: "POST" }),
        "Run Now",
      );
      await assertBusy(await webhook(s, runnable), "webhook");
      await assertBusy(
        await s.api(`/api/v1/runs/${held}/approve`, { method: "POST" }),
        "approve",
      );
      await assertBusy(
        await s.api("/api/v1/setup", { method: "POST", json: fourthSchool() }),
        "setup load",
      );
      const page = await signIn(s, linkDuring);
      assert.equal(page.status, 503);
      assert.equal(page.headers.get("retry-after"), "5");
      assert.match(page.headers.get("content-type") ?? "", /text\/html/);
      assert.match(
        await page.text(),
        /The database is busy with another write and nothing was saved/,
      );
      const form = await s.page(editor, `/records/${doomed}/delete`, {});
      assert.equal(form.status, 503, "a page's form post");
      assert.match(await form.text(), /nothing was saved/);
    } finally {
      await lock.release();
    }
    assert.deepEqual(await backend.read("SELECT id FROM runs ORDER BY id"), runsBefore);

    // After: each write is acknowledged and every other connection sees it.
    let res = await s.api("/api/v1/records", {
      method: "POST",
      json: studentsRecord({ name: "Created after" }),
    });
    assert.equal(res.status, 201);
    const created = (await res.json()).records[0].id;
    res = await s.api(`/api/v1/records/${load}`, { method: "PATCH", json: { minute: 45 } });
    assert.equal(res.status, 200);
    res = await s.api(`/api/v1/records/${doomed}`, { method: "DELETE" });
    assert.equal(res.status, 204);
    res = await s.api(`/api/v1/records/${runnable}/run`, { method: "POST" });
    assert.equal(res.status, 202);
    const ranNow = (await res.json()).runId;
    await s.queue.idle();
    await s.writeImport("run.txt", tsv([[5102, "E", "F", 4, ENTRY]]));
    res = await webhook(s, runnable);
    assert.equal(res.status, 202, await res.clone().text());
    const hooked = (await res.json()).runId;
    await s.queue.idle();
    res = await s.api(`/api/v1/runs/${held}/approve`, { method: "POST" });
    assert.equal(res.status, 200);
    const approval = (await res.json()).run.id;
    res = await s.api("/api/v1/setup", { method: "POST", json: fourthSchool() });
    assert.equal(res.status, 200, await res.clone().text());
    res = await signIn(s, linkAfter);
    assert.equal(res.status, 303);

    const ids = (rows: Record<string, unknown>[]) => rows.map((r) => Number(r.id));
    assert.deepEqual(
      ids(await backend.read(`SELECT id FROM autocomm_records WHERE id = ${created}`)),
      [created],
    );
    assert.deepEqual(
      await backend.read(`SELECT minute FROM autocomm_records WHERE id = ${load}`),
      [{ minute: 45 }],
    );
    assert.deepEqual(
      await backend.read(`SELECT id FROM autocomm_records WHERE id = ${doomed}`),
      [],
    );
    const statuses = new Map(
      (await backend.read(
        `SELECT id, status FROM runs WHERE id IN (${ranNow}, ${hooked}, ${held}, ${approval})`,
      )).map((r) => [Number(r.id), r.status]),
    );
    assert.equal(statuses.get(ranNow), "succeeded");
    assert.equal(statuses.get(hooked), "succeeded");
    assert.equal(statuses.get(held), "approved");
    assert.equal(statuses.get(approval), "succeeded");
    assert.equal(new Set([ranNow, hooked, approval]).size, 3, "every run has an id of its own");
    assert.deepEqual(
      await backend.read("SELECT name FROM schools WHERE school_number = 400"),
      [{ name: "Roosevelt Middle" }],
    );
    assert.deepEqual(
      await backend.read("SELECT count(*) AS n FROM sessions"),
      [{ n: Number(sessionsBefore) + 1 }],
    );
    assert.deepEqual(
      await backend.read("SELECT student_number FROM students WHERE student_number = 5102"),
      [{ student_number: 5102 }],
    );
  } finally {
    await s.close();
  }
}

Deno.test("every kind of write answers 503 while another process holds the lock, and is kept after (embedded file)", async () => {
  await everyWriteDuringAndAfter({}, (s) => {
    const file = s.database.filePath!;
    return { lock: () => holdWriteLock(file), read: (sql) => readElsewhere(file, sql) };
  });
});

const sqldMissing = await sqldProblem();
Deno.test({
  name:
    "every kind of write answers 503 while another process holds the lock, and is kept after (sqld)",
  ignore: sqldMissing !== undefined && Deno.env.get("CI") !== "true",
  async fn() {
    if (sqldMissing !== undefined) throw new Error(`sqld cannot run here: ${sqldMissing}`);
    const server: SqldServer = await startSqld();
    try {
      await everyWriteDuringAndAfter({ DATABASE_URL: server.url }, () => ({
        lock: () => holdWriteLock(`${server.dbPath}/dbs/default/data`),
        read: (sql) => sqldQuery(server.url, sql),
      }));
    } finally {
      await server.stop();
    }
  },
});
