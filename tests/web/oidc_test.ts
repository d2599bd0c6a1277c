/**
 * Sign-in with OpenID Connect through a real provider (`demo/oidc_provider.ts`): the
 * good flow, claim mapping, third-party-initiated login, roles on routes, cookies.
 */
import assert from "node:assert/strict";
import { count } from "drizzle-orm";
import { DEMO_USERS, type DemoUser } from "../../demo/oidc_provider.ts";
import { sessions } from "../../src/db/schema/autocomm.ts";
import { Browser, type OidcFixture, signIn, startOidcFixture } from "../support/oidc.ts";
import { studentsRecord, type TestService } from "../support/web.ts";

async function sessionCount(service: TestService): Promise<number> {
  const [row] = await service.database.db.select({ n: count() }).from(sessions);
  return row?.n ?? 0;
}

/** Signs `login` in and returns the browser (asserting the callback's redirect). */
async function signedIn(fx: OidcFixture, login: string, next = "/"): Promise<Browser> {
  const browser = new Browser(fx.service);
  const result = await signIn(browser, `/oidc/login?next=${encodeURIComponent(next)}`, { login });
  assert.equal(result.response.status, 303, `${login}: ${result.body}`);
  return browser;
}

/** The session a browser holds, as the service knows it. */
async function whoAmI(browser: Browser) {
  const res = await browser.request("/api/v1/records");
  assert.equal(res.status, 200);
  await res.body?.cancel();
  const rows = await browser.service.database.db.select().from(sessions);
  return rows.at(-1)!;
}

Deno.test("signing in at the provider opens a session with the role and school of the claims and lands on next", async () => {
  const fx = await startOidcFixture();
  try {
    const browser = new Browser(fx.service);
    const result = await signIn(browser, "/oidc/login?next=%2F%3Fschool%3D100", {
      login: "editor",
    });
    assert.equal(result.response.status, 303, result.body);
    assert.equal(result.location, "/?school=100");
    assert.ok(browser.serviceCookie("autocomm_session"));
    assert.equal(
      browser.serviceCookie("autocomm_oidc"),
      undefined,
      "the binding cookie is cleared",
    );
    const page = await browser.request("/?school=100");
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Edith Editor \(Editor\)/);
    const row = await whoAmI(browser);
    assert.deepEqual([row.user, row.role, row.schoolId], ["Edith Editor", "editor", 100]);

    // Signing in again in the same browser (the provider remembers the editor) replaces its session.
    const cookie = browser.serviceCookie("autocomm_session");
    const again = await signIn(browser, "/oidc/login", { login: "editor" });
    assert.equal(again.response.status, 303);
    assert.notEqual(browser.serviceCookie("autocomm_session"), cookie);
    assert.equal(await sessionCount(fx.service), 1);
  } finally {
    await fx.close();
  }
});

Deno.test("the sign-in page offers the provider when OpenID Connect is configured", async () => {
  const fx = await startOidcFixture();
  try {
    const page = await (await fx.service.page(undefined, "/signin?next=%2Fx")).text();
    assert.match(page, /href="\/oidc\/login\?next=%2Fx">Sign in with 127\.0\.0\.1:\d+</);
  } finally {
    await fx.close();
  }
});

Deno.test("each role claim maps to its role, an array claim takes the highest mapped role, and the school claim sets the school", async () => {
  const users: DemoUser[] = [
    ...DEMO_USERS,
    {
      sub: "multi",
      name: "Mo Multi",
      email: "mo@district.example",
      role: "x",
      school: 200,
      claims: { autocomm_role: ["staff", "data-lead", "unknown"] },
    },
    {
      sub: "text-school",
      name: "Tess Text",
      email: "tess@district.example",
      role: "staff",
      school: 0,
      claims: { school: "300" },
    },
  ];
  const fx = await startOidcFixture({
    users,
    env: {
      AUTOCOMM_OIDC_ROLES: JSON.stringify({
        viewer: "viewer",
        runner: "runner",
        editor: "editor",
        admin: "admin",
        staff: "viewer",
        "data-lead": "editor",
      }),
    },
  });
  try {
    const expected: [string, string, number][] = [
      ["viewer", "viewer", 100],
      ["runner", "runner", 100],
      ["editor", "editor", 100],
      ["admin", "admin", 100],
      ["district-editor", "editor", 0],
      ["multi", "editor", 200],
      ["text-school", "viewer", 300],
    ];
    for (const [login, role, school] of expected) {
      const row = await whoAmI(await signedIn(fx, login));
      assert.deepEqual([row.role, row.schoolId], [role, school], login);
    }
  } finally {
    await fx.close();
  }
});

Deno.test("a user whose role claim maps to no role sees a page saying so and gets no session", async () => {
  const fx = await startOidcFixture();
  try {
    const browser = new Browser(fx.service);
    const result = await signIn(browser, "/oidc/login", { login: "guest" });
    assert.equal(result.response.status, 403);
    assert.match(
      result.body,
      /You are signed in at http:\/\/127\.0\.0\.1:\d+ as Gus Guest, but your account has no AutoComm role\./,
    );
    assert.equal(browser.serviceCookie("autocomm_session"), undefined);
    assert.equal(await sessionCount(fx.service), 0);
  } finally {
    await fx.close();
  }
});

Deno.test("a missing or malformed school claim is refused with a page, unless the school claim is turned off", async () => {
  const users: DemoUser[] = [
    { ...DEMO_USERS[2]!, sub: "no-school", claims: { school: undefined } },
    { ...DEMO_USERS[2]!, sub: "bad-school", claims: { school: "100; 200" } },
    { ...DEMO_USERS[2]!, sub: "negative", claims: { school: -1 } },
  ];
  const fx = await startOidcFixture({ users });
  try {
    for (const login of ["no-school", "bad-school", "negative"]) {
      const browser = new Browser(fx.service);
      const result = await signIn(browser, "/oidc/login", { login });
      assert.equal(result.response.status, 403, login);
      assert.match(result.body, /your account names no school \(claim &quot;school&quot;\)/);
      assert.equal(browser.serviceCookie("autocomm_session"), undefined);
    }
    assert.equal(await sessionCount(fx.service), 0);
  } finally {
    await fx.close();
  }
  const off = await startOidcFixture({ users, env: { AUTOCOMM_OIDC_SCHOOL_CLAIM: "off" } });
  try {
    const row = await whoAmI(await signedIn(off, "bad-school"));
    assert.equal(row.schoolId, 0);
  } finally {
    await off.close();
  }
});

Deno.test("a launch from the host signs in and lands on the target page, passing the login hint", async () => {
  const fx = await startOidcFixture();
  try {
    const browser = new Browser(fx.service);
    const q = new URLSearchParams({
      iss: fx.provider.issuer,
      login_hint: "runner",
      target_link_uri: "http://localhost:8000/records/new?school=100",
    });
    const first = await browser.request(`/oidc/initiate?${q}`);
    assert.equal(first.status, 302);
    const authorize = new URL(first.headers.get("location")!);
    assert.equal(authorize.origin, fx.provider.issuer);
    assert.equal(authorize.searchParams.get("login_hint"), "runner");
    assert.equal(authorize.searchParams.get("code_challenge_method"), "S256");
    const result = await signIn(browser, `/oidc/initiate?${q}`, { login: "editor" });
    assert.equal(result.response.status, 303, result.body);
    assert.equal(result.location, "/records/new?school=100");

    // POST, form-encoded, with a path as the target.
    const posted = new Browser(fx.service);
    const form = new URLSearchParams({ iss: fx.provider.issuer, target_link_uri: "/?school=100" });
    const res = await posted.request("/oidc/initiate", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    });
    assert.equal(res.status, 303);
    assert.ok(res.headers.get("location")!.startsWith(fx.provider.issuer));
  } finally {
    await fx.close();
  }
});

Deno.test("a launch naming another issuer, or a target outside this service, is refused without a redirect", async () => {
  const fx = await startOidcFixture();
  try {
    const cases: Record<string, string>[] = [
      { iss: "https://evil.example", target_link_uri: "/" },
      { iss: `${fx.provider.issuer}/`, target_link_uri: "/" },
      { target_link_uri: "/" },
      { iss: fx.provider.issuer, target_link_uri: "https://evil.example/" },
      { iss: fx.provider.issuer, target_link_uri: "//evil.example/x" },
      { iss: fx.provider.issuer, target_link_uri: "http://localhost:8000.evil.example/" },
      { iss: fx.provider.issuer, target_link_uri: "http://user@localhost:8000/" },
      { iss: fx.provider.issuer, target_link_uri: "https://localhost:8000/" },
      { iss: fx.provider.issuer, target_link_uri: "/\\evil.example" },
      { iss: fx.provider.issuer, target_link_uri: "javascript:alert(1)" },
    ];
    for (const params of cases) {
      const res = await fx.service.app.request(`/oidc/initiate?${new URLSearchParams(params)}`);
      assert.equal(res.status, 400, JSON.stringify(params));
      assert.equal(res.headers.get("location"), null);
      const text = await res.text();
      assert.match(
        text,
        params.iss === fx.provider.issuer
          ? /not a page of this AutoComm/
          : /not the one AutoComm signs in with/,
      );
    }
  } finally {
    await fx.close();
  }
});

Deno.test("roles from the provider decide the routes: viewer cannot Run Now, runner can, editor edits, only admin opens connections", async () => {
  const fx = await startOidcFixture();
  try {
    const created = await fx.service.api("/api/v1/records", {
      method: "POST",
      json: studentsRecord(),
    });
    const id = (await created.json()).records[0].id;
    await fx.service.writeImport("students.txt", "");
    const table: [string, (b: Browser) => Promise<Response>, Record<string, number>][] = [
      ["Run Now", async (b) => {
        const page = await (await b.request("/?school=100")).text();
        const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
        return await b.request(`/records/${id}/run`, {
          method: "POST",
          headers: {
            origin: "http://localhost:8000",
            "content-type": "application/x-www-form-urlencoded",
          },
          body: new URLSearchParams({ _csrf: csrf }).toString(),
        });
      }, { viewer: 403, runner: 303, editor: 303, admin: 303 }],
      ["edit", (b) => b.request(`/records/${id}/edit`), {
        viewer: 403,
        runner: 403,
        editor: 200,
        admin: 200,
      }],
      ["connections", (b) => b.request("/connections"), {
        viewer: 403,
        runner: 403,
        editor: 403,
        admin: 200,
      }],
    ];
    for (const role of ["viewer", "runner", "editor", "admin"]) {
      const browser = await signedIn(fx, role);
      for (const [what, call, want] of table) {
        const res = await call(browser);
        await res.body?.cancel();
        assert.equal(res.status, want[role], `${role} ${what}`);
        await fx.service.queue.idle();
      }
    }
  } finally {
    await fx.close();
  }
});

Deno.test("over https the sign-in cookies are Secure, SameSite=None, Partitioned and HttpOnly; over http SameSite=Lax", async () => {
  const fx = await startOidcFixture({ env: { AUTOCOMM_PUBLIC_URL: "https://autocomm.test" } });
  try {
    const browser = new Browser(fx.service, "https://autocomm.test");
    const result = await signIn(browser, "/oidc/login", { login: "viewer" });
    assert.equal(result.response.status, 303, result.body);
    for (const name of ["autocomm_oidc", "autocomm_session"]) {
      const header = browser.serviceSetCookies.find((h) =>
        h.startsWith(`${name}=`) && !/Max-Age=0/.test(h)
      );
      assert.ok(header, name);
      for (const attr of ["Secure", "SameSite=None", "Partitioned", "HttpOnly"]) {
        assert.ok(header.split("; ").includes(attr), `${name} lacks ${attr}: ${header}`);
      }
    }
  } finally {
    await fx.close();
  }
  const plain = await startOidcFixture();
  try {
    const browser = new Browser(plain.service);
    await signIn(browser, "/oidc/login", { login: "viewer" });
    for (const name of ["autocomm_oidc", "autocomm_session"]) {
      const header = browser.serviceSetCookies.find((h) => h.startsWith(`${name}=`))!;
      const attrs = header.split("; ");
      assert.ok(attrs.includes("HttpOnly") && attrs.includes("SameSite=Lax"), header);
      assert.ok(!attrs.includes("Secure") && !attrs.includes("Partitioned"), header);
    }
  } finally {
    await plain.close();
  }
});

Deno.test("a provider user's school confines the session; the District Office user sees every school", async () => {
  const fx = await startOidcFixture();
  try {
    const school = await signedIn(fx, "editor");
    const other = await school.request("/?school=200");
    assert.equal(other.status, 404);
    await other.body?.cancel();
    const own = await school.request("/");
    assert.match(await own.text(), /AutoComm Setup — Lincoln Elementary/);

    const district = await signedIn(fx, "district-editor");
    const any = await district.request("/?school=200");
    assert.equal(any.status, 200);
    assert.match(await any.text(), /AutoComm Setup — Washington High/);
  } finally {
    await fx.close();
  }
});
