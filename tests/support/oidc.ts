/**
 * Signing in through the real OpenID Connect provider of `demo/oidc_provider.ts` over
 * HTTP, as a browser would: a cookie jar per host, redirects followed one by one, the
 * provider's login form (login = the user's sub, any password) and consent form posted.
 * Requests to the service under test go to its app in process (`app.request`), those
 * to the provider over the network.
 */
import { type DemoUser, startOidcProvider } from "../../demo/oidc_provider.ts";
import { startTestService, type TestService, type TestServiceOptions } from "./web.ts";

/** The client the tests register at the provider. */
export const CLIENT_ID = "autocomm-test";
export const CLIENT_SECRET = "autocomm-test-secret-0123456789";

/** The public URL of services under test (what the provider redirects to). */
export const PUBLIC_URL = "http://localhost:8000";

interface StoredCookie {
  value: string;
  path: string;
}

/** A browser: cookies per host, requests to the service in process. */
export class Browser {
  readonly cookies = new Map<string, Map<string, StoredCookie>>();
  /** Every Set-Cookie header the service sent, in order. */
  readonly serviceSetCookies: string[] = [];

  constructor(readonly service: TestService, readonly publicUrl = PUBLIC_URL) {}

  /** The Cookie header for `url`. */
  cookieHeader(url: URL): string {
    const jar = this.cookies.get(url.host);
    if (!jar) return "";
    return [...jar].filter(([, c]) => url.pathname.startsWith(c.path)).map(([n, c]) =>
      `${n}=${c.value}`
    ).join("; ");
  }

  /** A cookie's value for the service, if set. */
  serviceCookie(name: string): string | undefined {
    return this.cookies.get(new URL(this.publicUrl).host)?.get(name)?.value;
  }

  private store(url: URL, res: Response): void {
    for (const header of res.headers.getSetCookie()) {
      if (url.origin === new URL(this.publicUrl).origin) this.serviceSetCookies.push(header);
      const [pair, ...attrs] = header.split(";").map((s) => s.trim());
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      const path = attrs.find((a) => /^path=/i.test(a))?.slice(5) ?? "/";
      const gone = attrs.some((a) => /^max-age=0$/i.test(a)) || value === "";
      const jar = this.cookies.get(url.host) ?? new Map<string, StoredCookie>();
      this.cookies.set(url.host, jar);
      if (gone) jar.delete(name);
      else jar.set(name, { value, path });
    }
  }

  /** One request, without following redirects. */
  async request(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url, this.publicUrl);
    const headers = new Headers(init.headers);
    const cookie = this.cookieHeader(target);
    if (cookie !== "") headers.set("cookie", cookie);
    let res: Response;
    if (target.origin === new URL(this.publicUrl).origin) {
      res = await this.service.app.request(target.pathname + target.search, { ...init, headers });
    } else {
      res = await fetch(target, { ...init, headers, redirect: "manual" });
    }
    this.store(target, res);
    return res;
  }
}

/** The result of {@linkcode signIn}: the service's last answer and where it sends the browser. */
export interface SignInResult {
  /** The service's answer that ended the flow (the callback's redirect or its refusal page). */
  response: Response;
  /** Its body as text. */
  body: string;
  /** Its Location, if a redirect. */
  location: string | undefined;
  /** The callback URL the provider sent the browser to (with code and state). */
  callbackUrl: string | undefined;
}

/** Options of {@linkcode signIn}. */
export interface SignInOptions {
  /** The user's sub to type at the provider's login form. */
  login: string;
  /** Called with the callback URL before the browser opens it; returns the URL to open. */
  beforeCallback?: (url: URL) => URL | Promise<URL>;
}

function formOf(html: string): { action: string; prompt: string } | undefined {
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  const prompt = /name="prompt" value="([^"]+)"/.exec(html)?.[1];
  return action && prompt ? { action: action.replaceAll("&amp;", "&"), prompt } : undefined;
}

/**
 * Opens `start` (a service path such as `/oidc/login?next=/`) in `browser` and goes
 * through the provider: follows redirects, posts the login and consent forms, until
 * the service answers the callback. Returns that answer (the browser does not follow
 * it further).
 */
export async function signIn(
  browser: Browser,
  start: string,
  options: SignInOptions,
): Promise<SignInResult> {
  let url = new URL(start, browser.publicUrl);
  let init: RequestInit = {};
  let callbackUrl: string | undefined;
  const serviceOrigin = new URL(browser.publicUrl).origin;
  for (let step = 0; step < 20; step++) {
    if (url.origin === serviceOrigin && url.pathname === "/oidc/callback") {
      if (options.beforeCallback) url = await options.beforeCallback(url);
      callbackUrl = url.href;
    }
    const res = await browser.request(url, init);
    const location = res.headers.get("location") ?? undefined;
    if (url.origin === serviceOrigin && (url.pathname === "/oidc/callback" || !location)) {
      return { response: res, body: await res.text(), location, callbackUrl };
    }
    if (location) {
      await res.body?.cancel();
      url = new URL(location, url);
      init = {};
      continue;
    }
    const html = await res.text();
    const form = formOf(html);
    if (res.status !== 200 || !form) {
      throw new Error(
        `The provider answered ${res.status} at ${url.pathname}: ${html.slice(0, 300)}`,
      );
    }
    const body = new URLSearchParams({ prompt: form.prompt });
    if (form.prompt === "login") {
      body.set("login", options.login);
      body.set("password", "any password");
    }
    url = new URL(form.action, url);
    init = {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: body.toString(),
    };
  }
  throw new Error("The sign-in did not end within 20 steps");
}

/** A service under test with OpenID Connect sign-in at a real provider. */
export interface OidcFixture {
  service: TestService;
  provider: Awaited<ReturnType<typeof startOidcProvider>>;
  close(): Promise<void>;
}

/** Options of {@linkcode startOidcFixture}. */
export interface OidcFixtureOptions extends TestServiceOptions {
  users?: DemoUser[];
  /** The issuer the service is configured with; default the provider's. */
  issuer?: string;
  /** Options passed to the provider (keys, an issuer behind a proxy, lifetimes). */
  provider?: Partial<Parameters<typeof startOidcProvider>[0]>;
}

/** Starts the provider (client registered for {@linkcode PUBLIC_URL}) and a service signing in with it. */
export async function startOidcFixture(options: OidcFixtureOptions = {}): Promise<OidcFixture> {
  const publicUrl = options.env?.["AUTOCOMM_PUBLIC_URL"] ?? PUBLIC_URL;
  const provider = await startOidcProvider({
    clients: [{
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: [`${publicUrl}/oidc/callback`],
      initiate_login_uri: `${publicUrl}/oidc/initiate`,
    }],
    ...(options.users ? { users: options.users } : {}),
    ...options.provider,
  });
  const service = await startTestService({
    ...options,
    env: {
      AUTOCOMM_PUBLIC_URL: publicUrl,
      AUTOCOMM_OIDC_ISSUER: options.issuer ?? provider.issuer,
      AUTOCOMM_OIDC_CLIENT_ID: CLIENT_ID,
      AUTOCOMM_OIDC_CLIENT_SECRET: CLIENT_SECRET,
      ...options.env,
    },
  });
  return {
    service,
    provider,
    async close() {
      await service.close();
      await provider.stop();
    },
  };
}
