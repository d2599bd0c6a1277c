/**
 * Every state-changing request made with a session cookie is refused when it comes
 * from another site, lacks the session's CSRF token, or carries a wrong one: each
 * form post of the pages (Run Now, Preview, save, delete, duplicate, approve,
 * discard, sign out) and each write of the JSON API (setup load among them). A
 * refused request changes nothing, which each test reads back; the same request
 * made properly then goes through, so the refusal is the CSRF check's.
 */
import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { runs } from "../../src/db/schema/autocomm.ts";
import { CSRF_FIELD, CSRF_HEADER } from "../../src/web/auth/middleware.ts";
import {
  ORIGIN,
  schoolYear,
  type Session,
  startTestService,
  studentsForm,
  studentsRecord,
  type TestService,
  tsv,
} from "../support/web.ts";

const FOREIGN = "https://evil.example";
const ENTRY = `08/20/${schoolYear()}`;

/** The ways a forged request differs from a genuine one, and the refusal each gets. */
function forgeries(session: Session, other: Session) {
  return [
    { what: "from another site", origin: FOREIGN, token: session.csrf, code: "cross_site" },
    { what: "without the token", origin: ORIGIN, token: undefined, code: "csrf" },
    { what: "with another session's token", origin: ORIGIN, token: other.csrf, code: "csrf" },
    { what: "with a made-up token", origin: ORIGIN, token: "0".repeat(43), code: "csrf" },
  ];
}

const PAGE_REFUSAL: Record<string, RegExp> = {
  cross_site: /This form was posted from another site/,
  csrf: /This form has expired or came from elsewhere/,
};

/** Posts `form` to the page `path` in each forged way; each must be refused with 403. */
async function forgedFormPosts(
  s: TestService,
  session: Session,
  path: string,
  form: Record<string, string> = {},
): Promise<void> {
  const other = await s.session(session.role, 100);
  for (const forged of forgeries(session, other)) {
    const body = new URLSearchParams(form);
    if (forged.token !== undefined) body.set(CSRF_FIELD, forged.token);
    const res = await s.app.request(path, {
      method: "POST",
      headers: {
        cookie: session.cookie,
        origin: forged.origin,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: body.toString(),
    });
    assert.equal(res.status, 403, `POST ${path} ${forged.what}`);
    assert.match(res.headers.get("content-type") ?? "", /text\/html/);
    assert.match(await res.text(), PAGE_REFUSAL[forged.code]!, `POST ${path} ${forged.what}`);
  }
}

/** Sends `json` to the API `path` in each forged way; each must be refused with 403. */
async function forgedApiCalls(
  s: TestService,
  session: Session,
  method: string,
  path: string,
  json?: unknown,
): Promise<void> {
  const other = await s.session(session.role, 100);
  for (const forged of forgeries(session, other)) {
    const res = await s.app.request(path, {
      method,
      headers: {
        cookie: session.cookie,
        origin: forged.origin,
        ...(forged.token !== undefined ? { [CSRF_HEADER]: forged.token } : {}),
        ...(json !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
    });
    assert.equal(res.status, 403, `${method} ${path} ${forged.what}`);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    assert.equal((await res.json()).error.code, forged.code, `${method} ${path} ${forged.what}`);
  }
}

/** What a forged request could change, read back through the API and the run rows. */
async function state(s: TestService): Promise<Record<string, unknown>> {
  const read = async (path: string) => {
    const res = await s.api(path);
    assert.equal(res.status, 200, path);
    return await res.json();
  };
  return {
    records: await read("/api/v1/records"),
    runs: await s.database.db.select().from(runs).orderBy(runs.id),
    setup: await read("/api/v1/setup"),
    students: await read("/api/v1/sis/students?limit=1000"),
  };
}

async function apiRecord(s: TestService, over: Record<string, unknown> = {}): Promise<number> {
  const res = await s.api("/api/v1/records", { method: "POST", json: studentsRecord(over) });
  assert.equal(res.status, 201);
  return (await res.json()).records[0].id;
}

/** Loads six students, then runs a synchronizing record listing one: a held run. */
async function heldRun(s: TestService, load: number, sync: number): Promise<number> {
  await s.writeImport(
    "students.txt",
    tsv([1, 2, 3, 4, 5, 6].map((n) => [500 + n, "A", "B", 3, ENTRY])),
  );
  await s.writeImport("sync.txt", tsv([[501, "A", "B", 3, ENTRY]]));
  let res = await s.api(`/api/v1/records/${load}/run`, { method: "POST" });
  assert.equal(res.status, 202);
  await s.queue.idle();
  res = await s.api(`/api/v1/records/${sync}/run`, { method: "POST" });
  assert.equal(res.status, 202);
  const { runId } = await res.json();
  await s.queue.idle();
  const [run] = await s.database.db.select().from(runs).where(eq(runs.id, runId));
  assert.equal(run?.status, "held", JSON.stringify(run));
  return runId;
}

Deno.test("Run Now and Preview refuse a forged post and start no run", async () => {
  const s = await startTestService();
  try {
    const id = await apiRecord(s);
    await s.writeImport("students.txt", tsv([[11, "A", "B", 3, ENTRY]]));
    const runner = await s.session("runner", 100);
    const before = await state(s);
    await forgedFormPosts(s, runner, `/records/${id}/run`);
    await forgedFormPosts(s, runner, `/records/${id}/preview`);
    await s.queue.idle();
    assert.deepEqual(await state(s), before, "a forged post changed something");

    let res = await s.page(runner, `/records/${id}/run`, {});
    assert.equal(res.status, 303);
    await s.queue.idle();
    res = await s.page(runner, `/records/${id}/preview`, {});
    assert.equal(res.status, 303);
    const made = await s.database.db.select().from(runs).where(eq(runs.recordId, id));
    assert.deepEqual(made.map((r) => [r.preview, r.status]), [
      [false, "succeeded"],
      [true, "preview"],
    ]);
  } finally {
    await s.close();
  }
});

Deno.test("saving, deleting and duplicating a record refuse a forged post and change no record", async () => {
  const s = await startTestService();
  try {
    const id = await apiRecord(s);
    const editor = await s.session("editor", 0); // only District Office context duplicates
    const before = await state(s);
    await forgedFormPosts(s, editor, `/records/${id}`, studentsForm({ name: "Forged" }));
    await forgedFormPosts(s, editor, `/records/${id}/delete`);
    await forgedFormPosts(
      s,
      editor,
      "/records",
      studentsForm({ name: "Everywhere", duplicateToAllSchools: "on" }),
    );
    assert.deepEqual(await state(s), before, "a forged post changed something");

    let res = await s.page(editor, `/records/${id}`, studentsForm({ name: "Saved" }));
    assert.equal(res.status, 303);
    res = await s.page(
      editor,
      "/records",
      studentsForm({ name: "Everywhere", duplicateToAllSchools: "on" }),
    );
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/?school=100&done=created&n=3");
    res = await s.page(editor, `/records/${id}/delete`, {});
    assert.equal(res.status, 303);
    const left = (await (await s.api("/api/v1/records")).json()).records;
    assert.deepEqual(
      left.map((r: { schoolId: number; name: string }) => [r.schoolId, r.name]),
      [[100, "Everywhere"], [200, "Everywhere"], [300, "Everywhere"]],
    );
  } finally {
    await s.close();
  }
});

Deno.test("approving and discarding a held run refuse a forged post; the run stays held with its file", async () => {
  const s = await startTestService();
  try {
    const load = await apiRecord(s, { name: "Load" });
    const sync = await apiRecord(s, { name: "Sync", path: "sync.txt", synchronize: true });
    const held = await heldRun(s, load, sync);
    const editor = await s.session("editor", 100);
    const before = await state(s);
    await forgedFormPosts(s, editor, `/runs/${held}/approve`);
    await forgedFormPosts(s, editor, `/runs/${held}/discard`);
    await s.queue.idle();
    assert.deepEqual(await state(s), before, "a forged post changed something");
    const [kept] = await s.database.db.select().from(runs).where(eq(runs.id, held));
    assert.ok((await Deno.stat(kept!.heldPath!)).isFile, "the held file is kept");

    let res = await s.page(editor, `/runs/${held}/discard`, {});
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), `/runs/${held}?done=discarded`);
    const second = await heldRun(s, load, sync);
    res = await s.page(editor, `/runs/${second}/approve`, { confirm_removals: "5" });
    assert.equal(res.status, 303);
    await s.queue.idle();
    const statuses = await s.database.db.select().from(runs).where(eq(runs.recordId, sync));
    assert.deepEqual(statuses.map((r) => r.status), ["discarded", "approved", "succeeded"]);
  } finally {
    await s.close();
  }
});

Deno.test("signing out refuses a forged post and the session stays signed in", async () => {
  const s = await startTestService();
  try {
    const viewer = await s.session("viewer", 100);
    const before = await state(s);
    await forgedFormPosts(s, viewer, "/signout");
    assert.deepEqual(await state(s), before, "a forged post changed something");
    const page = await s.page(viewer, "/?school=100");
    assert.equal(page.status, 200, "the session still opens pages");
    await page.body?.cancel();
    const res = await s.page(viewer, "/signout", {});
    assert.equal(res.status, 303);
    assert.equal((await s.page(viewer, "/?school=100")).status, 302);
  } finally {
    await s.close();
  }
});

Deno.test("the API refuses a session's forged writes: setup load, records, runs, approve and discard", async () => {
  const s = await startTestService();
  try {
    const load = await apiRecord(s, { name: "Load" });
    const sync = await apiRecord(s, { name: "Sync", path: "sync.txt", synchronize: true });
    const held = await heldRun(s, load, sync);
    const admin = await s.session("admin", 0);
    const setup = await (await s.api("/api/v1/setup")).json();
    const lincoln = setup.schools.find((x: { schoolNumber: number }) => x.schoolNumber === 100);
    const renamed = { ...setup, schools: [{ ...lincoln, name: "Forged Elementary" }] };
    const before = await state(s);
    await forgedApiCalls(s, admin, "POST", "/api/v1/setup", renamed);
    await forgedApiCalls(
      s,
      admin,
      "POST",
      "/api/v1/records",
      studentsRecord({ name: "Everywhere", duplicateToAllSchools: true }),
    );
    await forgedApiCalls(s, admin, "PUT", `/api/v1/records/${load}`, studentsRecord({ name: "X" }));
    await forgedApiCalls(s, admin, "PATCH", `/api/v1/records/${load}`, { name: "X" });
    await forgedApiCalls(s, admin, "DELETE", `/api/v1/records/${load}`);
    await forgedApiCalls(s, admin, "POST", `/api/v1/records/${load}/run`);
    await forgedApiCalls(s, admin, "POST", `/api/v1/records/${load}/preview`);
    await forgedApiCalls(s, admin, "POST", `/api/v1/runs/${held}/approve`);
    await forgedApiCalls(s, admin, "POST", `/api/v1/runs/${held}/discard`);
    await s.queue.idle();
    assert.deepEqual(await state(s), before, "a forged call changed something");

    let res = await s.apiAs(admin, "/api/v1/setup", { method: "POST", json: renamed });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    assert.deepEqual(await res.json(), { schools: 1, extensions: 1 });
    const school = (await (await s.api("/api/v1/setup")).json()).schools
      .find((x: { schoolNumber: number }) => x.schoolNumber === 100);
    assert.equal(school.name, "Forged Elementary");
    res = await s.apiAs(admin, `/api/v1/runs/${held}/discard`, { method: "POST" });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).status, "discarded");
  } finally {
    await s.close();
  }
});
