/**
 * Sign-in with OpenID Connect (authorization code flow with PKCE S256, `state` and
 * `nonce`) through `openid-client`. Every check of the provider's answer — the ID
 * token's signature against the provider's JWKS, `iss`, `aud`, `exp`, `iat`, `nonce`,
 * the state, the PKCE verifier — is the library's; nothing here reads a token's
 * contents before the library has verified them.
 *
 * Rules kept here:
 * - The provider's discovery document is fetched on first use and cached; a failed
 *   fetch is not cached, so the next sign-in tries again. A provider that does not
 *   answer gives a 502 page naming it.
 * - ID tokens must be signed with RS256 (the OpenID Connect default). `alg: none`, an
 *   HMAC or any other algorithm is refused, and the signature is checked against the
 *   provider's published keys even though the token came straight from its token
 *   endpoint (openid-client's non-repudiation check).
 * - A pending sign-in (state, nonce, code verifier, where to land) is a row of
 *   `oidc_logins` keyed by the SHA-256 of its state, valid 10 minutes, deleted by the
 *   callback that uses it whatever the outcome; it is bound to the browser that started
 *   it by an HttpOnly cookie whose value's SHA-256 is stored with it. A callback with
 *   an unknown, used or expired state, or from another browser, is refused.
 * - Role: the claim `roleClaim` (a string or an array of strings) mapped through
 *   `roles`; of several mapped values the highest role wins; none mapped → 403 and no
 *   session. School: the claim `schoolClaim`, a whole number ≥ 0 or a string of digits;
 *   missing or anything else → 403 and no session. With the school claim turned off,
 *   every session is District Office context (0).
 * - Refusals are pages with one sentence and carry nothing of a token, except that the
 *   no-role and no-school pages name the (verified) user so they know which account
 *   they used; the log gets only the reason (the library's error code).
 */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { eq, lt } from "drizzle-orm";
import * as client from "openid-client";
import type { Config, OidcConfig } from "../../config.ts";
import type { Db } from "../../db/client.ts";
import { oidcLogins } from "../../db/schema/autocomm.ts";
import type { Logger } from "../../log.ts";
import { echo } from "../../util/echo.ts";
import { HttpError } from "../errors.ts";
import { hasRole, type Role } from "./roles.ts";
import { clearAuthCookie, setAuthCookie } from "./session.ts";
import { constantTimeEqual, randomToken, sha256Hex } from "./tokens.ts";

/** The cookie binding a pending sign-in to the browser that started it. */
export const OIDC_BROWSER_COOKIE = "autocomm_oidc";

/** How long a pending sign-in waits for its callback: 10 minutes. */
export const OIDC_LOGIN_TTL_SECONDS = 10 * 60;

/** The path of the redirect URI registered at the provider. */
export const OIDC_CALLBACK_PATH = "/oidc/callback";

/** Who signed in: what a session is made of. */
export interface OidcSubject {
  user: string;
  role: Role;
  schoolId: number;
  /** The local path to land on. */
  next: string;
}

/** What {@linkcode createOidcSignIn} needs. */
export interface OidcSignInDeps {
  config: Pick<Config, "publicUrl"> & { oidc: OidcConfig };
  db: Db;
  logger: Logger;
}

/** Options of {@linkcode OidcSignIn.start}. */
export interface StartOptions {
  /** Local path to land on after sign-in. */
  next: string;
  /** Passed to the provider as `login_hint` (third-party-initiated login). */
  loginHint?: string | undefined;
}

/** The sign-in flow of one configured provider. */
export interface OidcSignIn {
  /** Records a pending sign-in, sets the browser cookie, returns the provider's URL to go to. */
  start(c: Context, options: StartOptions): Promise<string>;
  /** Finishes the sign-in at the callback; throws an {@linkcode HttpError} page when refused. */
  finish(c: Context): Promise<OidcSubject>;
}

const LOOPBACK = ["127.0.0.1", "[::1]", "localhost"];

const NOT_VERIFIED =
  "The sign-in provider's answer could not be verified, so you are not signed in. Sign in again; if it happens again, tell your administrator.";

/** A refusal of the callback: a sentence for the page, no session. */
function refused(status: 400 | 401 | 403, code: string, message: string): HttpError {
  return new HttpError(status, code, message);
}

/** True for an error of reaching the provider (network, timeout), not of its answer. */
function isUnreachable(error: unknown): boolean {
  if (error instanceof TypeError && !("code" in error)) return true;
  if (error instanceof DOMException) {
    return error.name === "TimeoutError" || error.name === "AbortError";
  }
  if (error instanceof client.ClientError && error.code === "OAUTH_RESPONSE_IS_NOT_CONFORM") {
    return true; // a 5xx or other unexpected status
  }
  return false;
}

/** The role of a claim value (a string or an array): the highest mapped one. */
export function mapRole(value: unknown, roles: OidcConfig["roles"]): Role | undefined {
  const values = Array.isArray(value) ? value : [value];
  let best: Role | undefined;
  for (const v of values) {
    if (typeof v !== "string" || !Object.hasOwn(roles, v)) continue;
    const role = roles[v]!;
    if (best === undefined || hasRole(role, best)) best = role;
  }
  return best;
}

/** The school of a claim value: a whole number ≥ 0 or a string of digits; else undefined. */
export function mapSchool(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === "string" && /^\d{1,9}$/.test(value)) return Number(value);
  return undefined;
}

/** The user, role and school of verified ID token claims; a 403 page when there is no role or school. */
export function subjectOf(
  claims: Record<string, unknown> & { sub: string },
  oidc: OidcConfig,
  logger: Logger,
): Omit<OidcSubject, "next"> {
  const user = String(claims["name"] ?? claims["email"] ?? claims.sub).slice(0, 200);
  const role = mapRole(claims[oidc.roleClaim], oidc.roles);
  if (role === undefined) {
    logger.warn("oidc_refused", { reason: "no_role" });
    throw refused(
      403,
      "oidc_no_role",
      `You are signed in at ${oidc.issuer} as ${user}, but your account has no AutoComm role.`,
    );
  }
  const schoolId = oidc.schoolClaim === undefined ? 0 : mapSchool(claims[oidc.schoolClaim]);
  if (schoolId === undefined) {
    logger.warn("oidc_refused", { reason: "no_school" });
    throw refused(
      403,
      "oidc_no_school",
      `You are signed in at ${oidc.issuer} as ${user}, but your account names no school (claim "${oidc.schoolClaim}"), so AutoComm cannot tell which school's records you may see.`,
    );
  }
  return { user, role, schoolId };
}

/** A pending sign-in: stored (hashed state), the browser cookie set; its secrets returned. */
async function recordLogin(deps: OidcSignInDeps, c: Context, next: string) {
  const state = client.randomState();
  const nonce = client.randomNonce();
  const codeVerifier = client.randomPKCECodeVerifier();
  const now = new Date();
  // One value per browser, kept across sign-ins, so two tabs signing in both work.
  const existing = getCookie(c, OIDC_BROWSER_COOKIE);
  const browser = existing !== undefined && /^[\w-]{43}$/.test(existing)
    ? existing
    : randomToken(32);
  await deps.db.delete(oidcLogins).where(lt(oidcLogins.expiresAt, now.toISOString()));
  await deps.db.insert(oidcLogins).values({
    stateHash: await sha256Hex(state),
    browserHash: await sha256Hex(browser),
    nonce,
    codeVerifier,
    nextPath: next,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + OIDC_LOGIN_TTL_SECONDS * 1000).toISOString(),
  });
  setAuthCookie(c, deps.config, OIDC_BROWSER_COOKIE, browser, {
    path: "/oidc/",
    maxAge: OIDC_LOGIN_TTL_SECONDS,
  });
  return { state, nonce, codeVerifier };
}

/**
 * Takes the pending sign-in of `state` (deleted whatever happens next: single use);
 * refuses an unknown, used or expired one, and one started in another browser.
 */
async function takeLogin(deps: OidcSignInDeps, c: Context, state: string) {
  const [login] = await deps.db.delete(oidcLogins).where(
    eq(oidcLogins.stateHash, await sha256Hex(state)),
  ).returning();
  if (!login || login.expiresAt <= new Date().toISOString()) {
    throw refused(
      400,
      "oidc_unknown_state",
      "This sign-in has expired or has already been used; sign in again.",
    );
  }
  const browser = getCookie(c, OIDC_BROWSER_COOKIE) ?? "";
  if (!(await constantTimeEqual(await sha256Hex(browser), login.browserHash))) {
    throw refused(
      400,
      "oidc_other_browser",
      "This sign-in was started in another browser (or its cookie is gone); sign in again here.",
    );
  }
  return login;
}

/** Builds the sign-in flow of `deps.config.oidc`. */
export function createOidcSignIn(deps: OidcSignInDeps): OidcSignIn {
  const oidc = deps.config.oidc;
  const redirectUri = `${deps.config.publicUrl}${OIDC_CALLBACK_PATH}`;
  let discovered: Promise<client.Configuration> | undefined;

  const providerDown = () =>
    new HttpError(502, "provider_down", `The sign-in provider ${oidc.issuer} does not answer`);

  async function configuration(): Promise<client.Configuration> {
    discovered ??= client.discovery(
      new URL(oidc.issuer),
      oidc.clientId,
      { client_secret: oidc.clientSecret, id_token_signed_response_alg: "RS256" },
      client.ClientSecretBasic(oidc.clientSecret),
      {
        timeout: 10,
        execute: [
          client.enableNonRepudiationChecks,
          ...(LOOPBACK.includes(new URL(oidc.issuer).hostname)
            ? [client.allowInsecureRequests]
            : []),
        ],
      },
    );
    try {
      return await discovered;
    } catch (error) {
      discovered = undefined;
      deps.logger.warn("oidc_discovery_failed", { issuer: oidc.issuer, error: errorCode(error) });
      throw providerDown();
    }
  }

  return {
    async start(c, options) {
      const config = await configuration();
      const { state, nonce, codeVerifier } = await recordLogin(deps, c, options.next);
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: oidc.scopes,
        state,
        nonce,
        code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: "S256",
        ...(options.loginHint ? { login_hint: options.loginHint } : {}),
      });
      return url.href;
    },

    async finish(c) {
      const current = new URL(c.req.url);
      const state = current.searchParams.get("state");
      if (state === null || state === "" || state.length > 500) {
        throw refused(400, "oidc_no_state", "This sign-in answer has no state; sign in again.");
      }
      const login = await takeLogin(deps, c, state);
      const providerError = current.searchParams.get("error");
      if (providerError !== null) {
        deps.logger.warn("oidc_refused", { reason: "provider_error", error: echo(providerError) });
        throw refused(
          401,
          "oidc_provider_error",
          `The sign-in provider did not sign you in (${echo(providerError)}).`,
        );
      }
      const config = await configuration();
      let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
      try {
        // The URL the provider redirected to, under the public URL (the redirect URI as registered).
        tokens = await client.authorizationCodeGrant(
          config,
          new URL(`${redirectUri}${current.search}`),
          {
            pkceCodeVerifier: login.codeVerifier,
            expectedState: state,
            expectedNonce: login.nonce,
            idTokenExpected: true,
          },
        );
      } catch (error) {
        if (isUnreachable(error)) throw providerDown();
        deps.logger.warn("oidc_refused", { reason: errorCode(error) });
        throw refused(401, "oidc_refused", NOT_VERIFIED);
      }
      const claims = tokens.claims();
      if (!claims) throw refused(401, "oidc_refused", "The sign-in provider sent no ID token.");
      const { user, role, schoolId } = subjectOf(claims, oidc, deps.logger);
      clearAuthCookie(c, deps.config, OIDC_BROWSER_COOKIE, { path: "/oidc/" });
      return { user, role, schoolId, next: login.nextPath };
    },
  };
}

/** The library's error code (or the error's name): what the log says about a refusal. */
function errorCode(error: unknown): string {
  if (error instanceof client.ClientError && error.code) return error.code;
  if (error instanceof Error) return (error as { code?: string }).code ?? error.name;
  return "unknown";
}
