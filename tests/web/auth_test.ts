import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { adminLink } from "../../src/cli/admin_link.ts";
import { oneTimeTokens, sessions } from "../../src/db/schema/autocomm.ts";
import { issueAdminLink, printAdminLinkOnFirstStart } from "../../src/web/auth/admin_link.ts";
import { createSession, SESSION_COOKIE } from "../../src/web/auth/session.ts";
import { sha256Hex } from "../../src/web/auth/tokens.ts";
import { ORIGIN, startTestService, type TestService } from "../support/web.ts";

async function useLink(s: TestService, link: string, origin = ORIGIN): Promise<Response> {
  const url = new URL(link);
  const token = url.searchParams.get("token")!;
  return await s.app.request("/signin/link", {
    method: "POST",
    headers: { origin, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token, next: "/?school=100" }).toString(),
  });
}

function cookieOf(res: Response): string {
  const set = res.headers.get("set-cookie") ?? "";
  const match = new RegExp(`${SESSION_COOKIE}=([^;]+)`).exec(set);
  assert.ok(match, `a session cookie is set: ${set}`);
  return `${SESSION_COOKIE}=${match[1]}`;
}

Deno.test("a one-time sign-in link opens an admin session once, and is stored only hashed", async () => {
  const s = await startTestService();
  try {
    const link = await issueAdminLink(s.database.db, s.config);
    assert.match(link, /^http:\/\/localhost:8000\/signin\/link\?token=[A-Za-z0-9_-]{43}$/);
    const token = new URL(link).searchParams.get("token")!;
    const [stored] = await s.database.db.select().from(oneTimeTokens);
    assert.equal(stored!.kind, "admin_link");
    assert.equal(stored!.tokenHash, await sha256Hex(token));
    const ttl = Date.parse(stored!.expiresAt) - Date.now();
    assert.ok(ttl > 14 * 60_000 && ttl <= 15 * 60_000, "valid 15 minutes");

    // Opening the link only shows a button: link previews cannot use it up.
    let res = await s.app.request(new URL(link).pathname + new URL(link).search);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/html/);
    assert.match(await res.text(), /<button type="submit" class="button">Sign in<\/button>/);
    assert.equal((await s.database.db.select().from(oneTimeTokens))[0]!.usedAt, null);

    res = await useLink(s, link);
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/?school=100");
    const setCookie = res.headers.get("set-cookie") ?? "";
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Lax/);
    assert.doesNotMatch(setCookie, /Secure/, "not Secure over http");
    const cookie = cookieOf(res);
    const [session] = await s.database.db.select().from(sessions);
    assert.equal(session!.role, "admin");
    assert.equal(session!.idHash, await sha256Hex(cookie.split("=")[1]!));

    res = await s.app.request("/", { headers: { cookie } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/html/);
    assert.match(await res.text(), /local administrator \(Administrator\)/);

    res = await useLink(s, link);
    assert.equal(res.status, 400);
    assert.match(res.headers.get("content-type") ?? "", /text\/html/);
    assert.match(await res.text(), /expired or has already been used/);
  } finally {
    await s.close();
  }
});

Deno.test("an expired link, an unknown token and a link posted from another site do not sign in", async () => {
  const s = await startTestService();
  try {
    const link = await issueAdminLink(s.database.db, s.config);
    let res = await useLink(s, link, "https://evil.example");
    assert.equal(res.status, 403);
    assert.match(await res.text(), /posted from another site/);

    res = await useLink(s, "http://x/signin/link?token=nope");
    assert.equal(res.status, 400);
    await res.body?.cancel();

    await s.database.db.update(oneTimeTokens).set({
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });
    res = await useLink(s, link);
    assert.equal(res.status, 400);
    await res.body?.cancel();
    assert.equal((await s.database.db.select().from(sessions)).length, 0);
  } finally {
    await s.close();
  }
});

Deno.test("the session cookie is Secure when the service is served over https", async () => {
  const s = await startTestService({
    env: { AUTOCOMM_PUBLIC_URL: "https://autocomm.example.org" },
  });
  try {
    const link = await issueAdminLink(s.database.db, s.config);
    assert.match(link, /^https:\/\/autocomm\.example\.org\/signin\/link\?token=/);
    const res = await useLink(s, link, "https://autocomm.example.org");
    assert.equal(res.status, 303);
    assert.match(res.headers.get("set-cookie") ?? "", /Secure/);
  } finally {
    await s.close();
  }
});

Deno.test("the first start prints a sign-in link once, and never with a host configured", async () => {
  const s = await startTestService();
  try {
    const lines: string[] = [];
    const link = await printAdminLinkOnFirstStart(s, { out: (l) => lines.push(l) });
    assert.ok(link);
    assert.ok(lines.some((l) => l.includes(link)));
    assert.ok(lines.some((l) => l.includes("deno task autocomm admin-link")));
    assert.equal(await printAdminLinkOnFirstStart(s, { out: (l) => lines.push(l) }), undefined);
  } finally {
    await s.close();
  }
  const hosted = await startTestService({
    env: { AUTOCOMM_HOST_ORIGINS: "https://sis.example.org" },
  });
  try {
    assert.equal(await printAdminLinkOnFirstStart(hosted, { out: () => {} }), undefined);
    const res = await hosted.app.request("/signin");
    assert.match(await res.text(), /Open AutoComm from your student information system/);
  } finally {
    await hosted.close();
  }
  const used = await startTestService();
  try {
    await createSession(used.database.db, { user: "someone", role: "viewer", schoolId: 0 });
    assert.equal(
      await printAdminLinkOnFirstStart(used, { out: () => {} }),
      undefined,
      "a service with a session has started before",
    );
  } finally {
    await used.close();
  }
});

Deno.test("deno task autocomm admin-link prints a new working link", async () => {
  const s = await startTestService();
  try {
    const lines: string[] = [];
    const code = await adminLink([], {
      config: s.config,
      database: s.database,
      out: (l) => lines.push(l),
      data: (t) => lines.push(t),
      terminal: false,
    });
    assert.equal(code, 0);
    const link = lines.find((l) => l.startsWith("http"))!;
    assert.match(lines[0]!, /valid 15 minutes, single use/);
    const res = await useLink(s, link);
    assert.equal(res.status, 303);
  } finally {
    await s.close();
  }
});

Deno.test("anonymous pages go to a sign-in page that explains how to get a link", async () => {
  const s = await startTestService();
  try {
    let res = await s.app.request("/records/1/runs?page=2");
    assert.equal(res.status, 302);
    assert.equal(
      res.headers.get("location"),
      `/signin?next=${encodeURIComponent("/records/1/runs?page=2")}`,
    );
    res = await s.app.request(res.headers.get("location")!);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/html/);
    const html = await res.text();
    assert.match(html, /deno task autocomm admin-link/);
    assert.match(html, /works once and for 15 minutes/);
  } finally {
    await s.close();
  }
});

Deno.test("form posts need the session's CSRF token and the service's own origin", async () => {
  const s = await startTestService();
  try {
    const editor = await s.session("editor", 100);
    const post = (headers: Record<string, string>, body: Record<string, string>) =>
      s.app.request("/records", {
        method: "POST",
        headers: {
          cookie: editor.cookie,
          "content-type": "application/x-www-form-urlencoded",
          ...headers,
        },
        body: new URLSearchParams(body).toString(),
      });
    const form = { schoolId: "100", name: "x" };
    let res = await post({ origin: ORIGIN }, form);
    assert.equal(res.status, 403);
    assert.match(await res.text(), /This form has expired or came from elsewhere/);
    res = await post({ origin: ORIGIN }, { ...form, _csrf: "wrong" });
    assert.equal(res.status, 403);
    await res.body?.cancel();
    res = await post({ origin: "https://evil.example" }, { ...form, _csrf: editor.csrf });
    assert.equal(res.status, 403);
    assert.match(await res.text(), /posted from another site/);
    res = await post({ referer: "https://evil.example/page" }, { ...form, _csrf: editor.csrf });
    assert.equal(res.status, 403);
    await res.body?.cancel();
    const other = await s.session("editor", 100);
    res = await post({ origin: ORIGIN }, { ...form, _csrf: other.csrf });
    assert.equal(res.status, 403, "a token of another session does not do");
    await res.body?.cancel();
    res = await post({ origin: ORIGIN }, { ...form, _csrf: editor.csrf });
    assert.equal(res.status, 400, "through to the record rules");
    await res.body?.cancel();

    // The API with a session cookie needs the token in a header; the API token does not.
    res = await s.app.request("/api/v1/records", {
      method: "POST",
      headers: { cookie: editor.cookie, "content-type": "application/json", origin: ORIGIN },
      body: "{}",
    });
    assert.equal(res.status, 403);
    assert.equal((await res.json()).error.code, "csrf");
    res = await s.apiAs(editor, "/api/v1/records", { method: "POST", json: {} });
    assert.equal(res.status, 400);
    await res.body?.cancel();
  } finally {
    await s.close();
  }
});

Deno.test("signing out ends the session", async () => {
  const s = await startTestService();
  try {
    const viewer = await s.session("viewer");
    let res = await s.page(viewer, "/signout", {});
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/signin?signed_out=1");
    assert.match(res.headers.get("set-cookie") ?? "", new RegExp(`${SESSION_COOKIE}=;`));
    res = await s.page(viewer, "/");
    assert.equal(res.status, 302);
    const remaining = await s.database.db.select().from(sessions).where(
      eq(sessions.user, "viewer user"),
    );
    assert.equal(remaining.length, 0);
  } finally {
    await s.close();
  }
});

Deno.test("pages carry a content security policy that lets only the host origins frame them", async () => {
  const s = await startTestService({ env: { AUTOCOMM_HOST_ORIGINS: "https://sis.example.org" } });
  try {
    const res = await s.app.request("/signin");
    assert.equal(res.status, 200);
    const csp = res.headers.get("content-security-policy") ?? "";
    assert.match(csp, /frame-ancestors 'self' https:\/\/sis\.example\.org/);
    assert.match(csp, /script-src 'self'/);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    await res.body?.cancel();
  } finally {
    await s.close();
  }
});
