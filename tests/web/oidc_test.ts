/** Sign-in with OpenID Connect through a real provider: the good flow and claim mapping. */
import assert from "node:assert/strict";
import { Browser, signIn, startOidcFixture } from "../support/oidc.ts";

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
    const page = await browser.request("/?school=100");
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /Edith Editor/);
  } finally {
    await fx.close();
  }
});
