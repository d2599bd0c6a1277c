/**
 * The school context that sticks: where sign-in lands, that a chosen school is
 * remembered per user across sessions, that a school's own session always lands on
 * its school, and that the pages' links keep the school context.
 */
import assert from "node:assert/strict";
import { userSchools } from "../../src/db/schema/autocomm.ts";
import { issueAdminLink } from "../../src/web/auth/admin_link.ts";
import { SESSION_COOKIE } from "../../src/web/auth/session.ts";
import { ORIGIN, startTestService, studentsRecord, type TestService } from "../support/web.ts";

/** Signs in with a fresh one-time link; returns the redirect and the session cookie. */
async function signIn(s: TestService, next = "/"): Promise<{ location: string; cookie: string }> {
  const token = new URL(await issueAdminLink(s.database.db, s.config)).searchParams.get("token")!;
  const res = await s.app.request("/signin/link", {
    method: "POST",
    headers: { origin: ORIGIN, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token, next }).toString(),
  });
  assert.equal(res.status, 303);
  const match = new RegExp(`${SESSION_COOKIE}=([^;]+)`).exec(res.headers.get("set-cookie") ?? "");
  assert.ok(match, "a session cookie is set");
  return { location: res.headers.get("location")!, cookie: `${SESSION_COOKIE}=${match[1]}` };
}

/** A page's HTML as `cookie` sees it. */
async function pageAs(s: TestService, cookie: string, path: string): Promise<string> {
  const res = await s.app.request(path, { headers: { cookie } });
  assert.equal(res.status, 200, `${path}: status ${res.status}`);
  return await res.text();
}

/** The list page's heading. */
function heading(html: string): string {
  return /<h1>([^<]*)<\/h1>/.exec(html)?.[1]?.replace(/<!-- -->/g, "") ?? "";
}

async function makeRecord(s: TestService, over: Record<string, unknown>): Promise<number> {
  const res = await s.api("/api/v1/records", { method: "POST", json: studentsRecord(over) });
  assert.equal(res.status, 201);
  return (await res.json()).records[0].id;
}

Deno.test("sign-in lands on the first school with records, then on the school the user last chose", async () => {
  const s = await startTestService();
  try {
    let { location, cookie } = await signIn(s);
    assert.equal(location, "/?school=0", "no records anywhere: the District Office");

    await makeRecord(s, { schoolId: 200, name: "High students" });
    await makeRecord(s, { schoolId: 300, name: "Middle students" });
    ({ location, cookie } = await signIn(s));
    assert.equal(location, "/?school=200", "the first school that has records");
    assert.match(heading(await pageAs(s, cookie, "/")), /Washington High/);

    // Choosing a school remembers it for this user, across sessions.
    assert.match(heading(await pageAs(s, cookie, "/?school=300")), /Jefferson Middle/);
    assert.match(heading(await pageAs(s, cookie, "/")), /Jefferson Middle/, "a link to / stays");
    // Viewing the same school again writes nothing (no wait for an import's write lock).
    const [before] = await s.database.db.select().from(userSchools);
    await new Promise((r) => setTimeout(r, 5));
    await pageAs(s, cookie, "/?school=300");
    const [after] = await s.database.db.select().from(userSchools);
    assert.equal(after!.updatedAt, before!.updatedAt);
    ({ location, cookie } = await signIn(s));
    assert.equal(location, "/?school=300", "the next sign-in lands on the last school");

    // A sign-in link that names where to go keeps it.
    assert.equal((await signIn(s, "/connections")).location, "/connections");
  } finally {
    await s.close();
  }
});

Deno.test("a remembered school that no longer exists lands on the first school with records", async () => {
  const s = await startTestService();
  try {
    await makeRecord(s, { schoolId: 300, name: "Middle students" });
    const district = await s.session("editor", 0);
    await s.database.db.insert(userSchools).values({
      user: "editor user",
      schoolId: 999,
      updatedAt: new Date().toISOString(),
    });
    assert.match(heading(await pageAs(s, district.cookie, "/")), /Jefferson Middle/);
  } finally {
    await s.close();
  }
});

Deno.test("a session fixed to a school always lands on its school, whatever another user chose", async () => {
  const s = await startTestService();
  try {
    await makeRecord(s, { schoolId: 200, name: "High students" });
    const district = await s.session("editor", 0);
    await pageAs(s, district.cookie, "/?school=300");
    assert.match(heading(await pageAs(s, district.cookie, "/")), /Jefferson Middle/);
    const school = await s.session("editor", 100);
    assert.match(heading(await pageAs(s, school.cookie, "/")), /Lincoln Elementary/);
    await pageAs(s, school.cookie, "/?school=100");
    const other = await s.session("viewer", 0);
    assert.match(heading(await pageAs(s, other.cookie, "/")), /Washington High/, "per user");
    // The API token has no person: it never changes what a session lands on.
    await s.api("/?school=100");
    assert.match(heading(await pageAs(s, district.cookie, "/")), /Jefferson Middle/);
  } finally {
    await s.close();
  }
});

Deno.test("the header and breadcrumb links of a school's pages lead back to that school's list", async () => {
  const s = await startTestService();
  try {
    const id = await makeRecord(s, { schoolId: 200, name: "High students" });
    const editor = await s.session("editor", 0);
    const home = /<nav aria-label="Main">\s*<a href="\/\?school=200">AutoComm Setup<\/a>/;
    for (const path of ["/?school=200", `/records/${id}/edit`, `/records/${id}/runs`]) {
      const page = await pageAs(s, editor.cookie, path);
      assert.match(page, home, `${path}: the navigation keeps school 200`);
      assert.match(page, /<a class="brand" href="\/\?school=200">/, `${path}: the brand too`);
    }
    const res = await s.api(`/api/v1/records/${id}/run`, { method: "POST" });
    assert.equal(res.status, 202);
    const { runId } = await res.json();
    await s.queue.idle();
    const page = await pageAs(s, editor.cookie, `/runs/${runId}`);
    assert.match(page, home, "the run page keeps the record's school");
    assert.match(page, /<a href="\/\?school=200">AutoComm Setup<\/a>/);
  } finally {
    await s.close();
  }
});

Deno.test("the setup list labels the sort order as Sort, not as a number sign", async () => {
  const s = await startTestService();
  try {
    await makeRecord(s, { name: "Ordered", sortOrder: 1 });
    const editor = await s.session("editor", 100);
    const page = await pageAs(s, editor.cookie, "/?school=100");
    assert.match(page, /Sort 1/);
    assert.doesNotMatch(page, />#1</);
  } finally {
    await s.close();
  }
});
