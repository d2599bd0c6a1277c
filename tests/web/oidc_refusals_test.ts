/**
 * Every refusal of an OpenID Connect sign-in: bad ID tokens (forged with `jose` by a
 * proxy in front of the real provider's token endpoint), replays, a state or browser
 * that does not match, a provider that does not answer. Each ends on a page with a
 * clear sentence, and no session.
 */
import assert from "node:assert/strict";
import { count } from "drizzle-orm";
import {
  decodeJwt,
  exportJWK,
  generateKeyPair,
  type JWTPayload,
  SignJWT,
  UnsecuredJWT,
} from "jose";
import { oidcLogins, sessions } from "../../src/db/schema/autocomm.ts";
import { Browser, signIn, startOidcFixture } from "../support/oidc.ts";
import type { TestService } from "../support/web.ts";

async function sessionCount(service: TestService): Promise<number> {
  const [row] = await service.database.db.select({ n: count() }).from(sessions);
  return row?.n ?? 0;
}

type Tamper = (idToken: string) => Promise<string>;

/**
 * A proxy in front of the provider (its issuer is the proxy's URL): it forwards every
 * request, replaces the `id_token` of token responses with `tamper`'s, and answers 503
 * while `down`.
 */
function startProxy() {
  const state: { target: string; tamper: Tamper | undefined; down: boolean } = {
    target: "",
    tamper: undefined,
    down: false,
  };
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    if (state.down) return new Response("down", { status: 503 });
    const url = new URL(req.url);
    const headers = new Headers(req.headers);
    headers.delete("host");
    headers.set("x-forwarded-host", url.host);
    headers.set("x-forwarded-proto", "http");
    const res = await fetch(`${state.target}${url.pathname}${url.search}`, {
      method: req.method,
      headers,
      ...(req.body ? { body: await req.arrayBuffer() } : {}),
      redirect: "manual",
    });
    if (url.pathname === "/token" && res.status === 200 && state.tamper) {
      const body = await res.json();
      body.id_token = await state.tamper(body.id_token);
      return Response.json(body);
    }
    return new Response(res.body, { status: res.status, headers: res.headers });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, state, stop: () => server.shutdown() };
}

async function fixture() {
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const other = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: "test-key", alg: "RS256", use: "sig" };
  const proxy = startProxy();
  const fx = await startOidcFixture({ provider: { jwks: { keys: [jwk] }, issuer: proxy.url } });
  proxy.state.target = `http://127.0.0.1:${fx.provider.port}`;
  /** Re-signs the provider's ID token with `change` applied to its claims. */
  const forge = (
    change: (claims: JWTPayload) => JWTPayload,
    key: typeof privateKey = privateKey,
  ): Tamper =>
  async (token) =>
    await new SignJWT(change(decodeJwt(token))).setProtectedHeader({
      alg: "RS256",
      kid: "test-key",
    }).sign(key);
  return {
    fx,
    proxy,
    forge,
    otherKey: other.privateKey,
    async close() {
      await fx.close();
      await proxy.stop();
    },
  };
}

const now = () => Math.floor(Date.now() / 1000);

Deno.test("an ID token that is expired, for another audience, from another issuer, badly signed, unsigned, without iat or exp, or with a missing or foreign nonce is refused with no session", async (t) => {
  const f = await fixture();
  try {
    // A nonce of an earlier sign-in, to put in a later token.
    let earlierNonce = "";
    f.proxy.state.tamper = (token) => {
      earlierNonce = String(decodeJwt(token).nonce);
      return Promise.resolve(token);
    };
    const first = await signIn(new Browser(f.fx.service), "/oidc/login", { login: "editor" });
    assert.equal(first.response.status, 303, "the proxy passes a good token through");
    const before = await sessionCount(f.fx.service);

    const cases: [string, Tamper][] = [
      ["expired", f.forge((c) => ({ ...c, iat: now() - 7200, exp: now() - 3600 }))],
      ["another audience", f.forge((c) => ({ ...c, aud: "someone-else" }))],
      ["another issuer", f.forge((c) => ({ ...c, iss: "http://127.0.0.1:9" }))],
      ["a bad signature", f.forge((c) => c, f.otherKey)],
      ["alg none", (token) => Promise.resolve(new UnsecuredJWT(decodeJwt(token)).encode())],
      ["no nonce", f.forge(({ nonce: _, ...c }) => c)],
      ["an earlier sign-in's nonce", f.forge((c) => ({ ...c, nonce: earlierNonce }))],
      ["no iat", f.forge(({ iat: _, ...c }) => c)],
      ["no exp", f.forge(({ exp: _, ...c }) => c)],
    ];
    for (const [what, tamper] of cases) {
      await t.step(what, async () => {
        f.proxy.state.tamper = tamper;
        const browser = new Browser(f.fx.service);
        const result = await signIn(browser, "/oidc/login", { login: "editor" });
        assert.equal(result.response.status, 401, result.body);
        assert.match(result.body, /answer could not be verified, so you are not signed in/);
        assert.doesNotMatch(result.body, /eyJ/, "no token on the page");
        assert.equal(browser.serviceCookie("autocomm_session"), undefined);
        assert.equal(await sessionCount(f.fx.service), before);
      });
    }

    await t.step(
      "the same forging with nothing changed signs in (the refusals are the claims')",
      async () => {
        f.proxy.state.tamper = f.forge((c) => c);
        const result = await signIn(new Browser(f.fx.service), "/oidc/login", { login: "editor" });
        assert.equal(result.response.status, 303, result.body);
      },
    );
  } finally {
    await f.close();
  }
});

Deno.test("a callback used twice, with a state that matches no sign-in, or without the browser's cookie is refused with no session", async () => {
  const f = await fixture();
  try {
    const service = f.fx.service;
    // Used twice: the second answer is refused, and no second session.
    const browser = new Browser(service);
    const good = await signIn(browser, "/oidc/login", { login: "editor" });
    assert.equal(good.response.status, 303);
    assert.equal(await sessionCount(service), 1);
    const again = await browser.request(good.callbackUrl!);
    assert.equal(again.status, 400);
    assert.match(await again.text(), /expired or has already been used/);
    assert.equal(await sessionCount(service), 1);

    // Another state.
    const other = new Browser(service);
    const tampered = await signIn(other, "/oidc/login", {
      login: "editor",
      beforeCallback: (url) => {
        url.searchParams.set("state", "not-the-state");
        return url;
      },
    });
    assert.equal(tampered.response.status, 400);
    assert.match(tampered.body, /expired or has already been used/);

    // No browser cookie (the cookie was dropped, or the link was opened elsewhere).
    const cookieless = new Browser(service);
    const dropped = await signIn(cookieless, "/oidc/login", {
      login: "editor",
      beforeCallback: (url) => {
        cookieless.cookies.get("localhost:8000")!.delete("autocomm_oidc");
        return url;
      },
    });
    assert.equal(dropped.response.status, 400);
    assert.match(dropped.body, /started in another browser/);

    // Another browser, with a binding cookie of its own sign-in.
    const victim = new Browser(service);
    let stolen = "";
    await signIn(victim, "/oidc/login", {
      login: "editor",
      beforeCallback: (url) => {
        stolen = url.href;
        return new URL("/oidc/callback?state=dropped", url);
      },
    });
    const attacker = new Browser(service);
    await (await attacker.request("/oidc/login")).body?.cancel();
    const res = await attacker.request(stolen);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /started in another browser/);
    assert.equal(attacker.serviceCookie("autocomm_session"), undefined);
    assert.equal(await sessionCount(service), 1);
  } finally {
    await f.close();
  }
});

Deno.test("a code redeemed once is refused by the provider the second time, and the service shows a refusal and opens no session", async () => {
  const f = await fixture();
  try {
    const service = f.fx.service;
    const browser = new Browser(service);
    let pending: typeof oidcLogins.$inferSelect | undefined;
    let binding = "";
    const good = await signIn(browser, "/oidc/login", {
      login: "editor",
      beforeCallback: async (url) => {
        [pending] = await service.database.db.select().from(oidcLogins);
        binding = browser.serviceCookie("autocomm_oidc")!;
        return url;
      },
    });
    assert.equal(good.response.status, 303);
    // The same pending sign-in once more (state, nonce, verifier, browser): only the code is spent.
    await service.database.db.insert(oidcLogins).values(pending!);
    browser.cookies.get("localhost:8000")!.set("autocomm_oidc", { value: binding, path: "/oidc/" });
    const replay = await browser.request(good.callbackUrl!);
    assert.equal(replay.status, 401);
    assert.match(await replay.text(), /could not be verified/);
    assert.equal(await sessionCount(service), 1);
  } finally {
    await f.close();
  }
});

Deno.test("a provider that does not answer gives a page naming it, and a later sign-in tries discovery again", async () => {
  const f = await fixture();
  try {
    f.proxy.state.down = true;
    const down = await f.fx.service.app.request("/oidc/login");
    assert.equal(down.status, 502);
    assert.match(
      await down.text(),
      new RegExp(`The sign-in provider ${f.proxy.url.replaceAll(".", "\\.")} does not answer`),
    );
    f.proxy.state.down = false;
    const result = await signIn(new Browser(f.fx.service), "/oidc/login", { login: "editor" });
    assert.equal(result.response.status, 303, result.body);
  } finally {
    await f.close();
  }
});

Deno.test("a provider's error answer at the callback is refused with its code and no session", async () => {
  const f = await fixture();
  try {
    const browser = new Browser(f.fx.service);
    const result = await signIn(browser, "/oidc/login", {
      login: "editor",
      beforeCallback: (url) =>
        new URL(
          `/oidc/callback?state=${url.searchParams.get("state")}&error=access_denied`,
          url,
        ),
    });
    assert.equal(result.response.status, 401);
    assert.match(result.body, /did not sign you in \(access_denied\)/);
    assert.equal(await sessionCount(f.fx.service), 0);
  } finally {
    await f.close();
  }
});
