/**
 * Framing by the host and standalone sign-in: the Content-Security-Policy's
 * frame-ancestors are exactly 'self' and AUTOCOMM_HOST_ORIGINS, no answer carries
 * X-Frame-Options, and AUTOCOMM_ADMIN_LINK=off turns the local administrator link off.
 */
import assert from "node:assert/strict";
import { count } from "drizzle-orm";
import { adminLink } from "../../src/cli/admin_link.ts";
import { sessions } from "../../src/db/schema/autocomm.ts";
import { issueAdminLink, printAdminLinkOnFirstStart } from "../../src/web/auth/admin_link.ts";
import { startOidcFixture } from "../support/oidc.ts";
import { startTestService } from "../support/web.ts";

Deno.test("every answer frames only in 'self' and the host origins, and none sends X-Frame-Options", async () => {
  const fx = await startOidcFixture({
    env: { AUTOCOMM_HOST_ORIGINS: "https://sis.example.org, https://ps.example.net" },
  });
  try {
    const s = fx.service;
    const viewer = await s.session("viewer", 100);
    const answers = [
      await s.page(viewer, "/"),
      await s.page(undefined, "/signin"),
      await s.page(undefined, "/"),
      await s.page(viewer, "/records/987654/edit"),
      await s.apiAs(viewer, "/api/v1/records"),
      await s.app.request("/oidc/initiate?iss=https://evil.example"),
      await s.app.request("/oidc/login"),
      await s.app.request("/oidc/callback?state=x"),
      await s.app.request("/healthz"),
    ];
    for (const res of answers) {
      const csp = res.headers.get("content-security-policy") ?? "";
      const ancestors = csp.split(";").map((d) => d.trim()).filter((d) =>
        d.startsWith("frame-ancestors")
      );
      assert.deepEqual(ancestors, [
        "frame-ancestors 'self' https://sis.example.org https://ps.example.net",
      ], `${res.url} ${res.status}`);
      assert.equal(res.headers.get("x-frame-options"), null);
      await res.body?.cancel();
    }
  } finally {
    await fx.close();
  }
});

Deno.test("with AUTOCOMM_ADMIN_LINK=off the local administrator link is not printed, not issued and not accepted", async () => {
  const s = await startTestService({ env: { AUTOCOMM_ADMIN_LINK: "off" } });
  try {
    assert.equal(await printAdminLinkOnFirstStart(s, { out: () => {} }), undefined);

    const lines: string[] = [];
    const code = await adminLink([], {
      config: s.config,
      database: s.database,
      out: (l) => lines.push(l),
      data: (t) => lines.push(t),
      terminal: false,
    });
    assert.equal(code, 1);
    assert.deepEqual(lines, [
      "The local administrator sign-in link is turned off (AUTOCOMM_ADMIN_LINK=off).",
    ]);

    // A link issued before the switch was turned off no longer works.
    const link = new URL(await issueAdminLink(s.database.db, s.config));
    const token = link.searchParams.get("token")!;
    const shown = await s.app.request(`/signin/link?token=${token}`);
    assert.equal(shown.status, 404);
    assert.match(await shown.text(), /turned off here \(AUTOCOMM_ADMIN_LINK=off\)/);
    const posted = await s.app.request("/signin/link", {
      method: "POST",
      headers: {
        origin: "http://localhost",
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ token, next: "/" }).toString(),
    });
    assert.equal(posted.status, 404);
    assert.equal(posted.headers.get("set-cookie"), null);
    const [row] = await s.database.db.select({ n: count() }).from(sessions);
    assert.equal(row?.n, 0);

    const page = await (await s.app.request("/signin")).text();
    assert.doesNotMatch(page, /Local administrator|admin-link/);
  } finally {
    await s.close();
  }
});
