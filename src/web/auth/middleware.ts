/**
 * Access control as middleware factories: {@linkcode authenticate} finds who is
 * asking (an API token or a session cookie), {@linkcode requireRole} lets a route
 * through only for a role, and {@linkcode csrfProtection} guards state-changing
 * requests made with a session cookie.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Config } from "../../config.ts";
import type { AppDeps, AppEnv, Identity } from "../context.ts";
import { HttpError, notFound } from "../errors.ts";
import { CSRF_FIELD, CSRF_HEADER } from "./csrf.ts";
import { hasRole, type Role } from "./roles.ts";
import { findSession, sessionCookieOf } from "./session.ts";
import { constantTimeEqual } from "./tokens.ts";

export { CSRF_FIELD, CSRF_HEADER };

/**
 * Sets `identity`: `Authorization: Bearer <AUTOCOMM_API_TOKEN>` acts as admin
 * (compared in constant time); otherwise the session cookie, if it names a live
 * session. Rejects nothing itself.
 */
export function authenticate(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    let identity: Identity | undefined;
    const header = c.req.header("authorization");
    const bearer = header === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    if (bearer !== undefined) {
      if (deps.config.apiToken && await constantTimeEqual(bearer, deps.config.apiToken)) {
        identity = { user: "api token", role: "admin", schoolId: 0, via: "token" };
      }
    } else {
      const cookie = sessionCookieOf(c);
      if (cookie !== undefined) identity = await findSession(deps.database.db, cookie);
    }
    c.set("identity", identity);
    await next();
  };
}

/** How a route answers someone not signed in: JSON 401 (API) or a redirect to sign in (pages). */
export type Audience = "api" | "page";

/**
 * Lets the request through only for `role` or a higher one. Anonymous API calls get
 * 401; anonymous page requests are sent to the sign-in page; a lower role gets 403.
 * Then a request that `schoolScope` found reaching outside the session's school gets
 * 404, as if what it names did not exist.
 */
export function requireRole(role: Role, audience: Audience): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const identity = c.get("identity");
    if (!identity) {
      if (audience === "api") {
        c.header("WWW-Authenticate", 'Bearer realm="autocomm"');
        throw new HttpError(
          401,
          "unauthenticated",
          "Sign in, or send Authorization: Bearer <AUTOCOMM_API_TOKEN>",
        );
      }
      const next = c.req.method === "GET" ? c.req.path + new URL(c.req.url).search : "/";
      return c.redirect(
        `/signin?next=${encodeURIComponent(next)}`,
        c.req.method === "GET" ? 302 : 303,
      );
    }
    if (!hasRole(identity.role, role)) {
      throw new HttpError(
        403,
        "forbidden",
        `This needs the ${role} role; you are signed in as ${identity.role}`,
      );
    }
    // Another school's record, run or school: missing, as far as this session can tell.
    const outside = c.get("outOfScope");
    if (outside !== undefined) throw notFound(outside);
    return await next();
  };
}

/** Origins a form may be posted from: the service's public origin and the request's own. */
export function allowedOrigins(c: Context, config: Pick<Config, "publicUrl">): string[] {
  return [new URL(config.publicUrl).origin, new URL(c.req.url).origin];
}

/** Checks Origin (or, without it, Referer) of an unsafe request against the service's origins. */
export function checkOrigin(c: Context, config: Pick<Config, "publicUrl">): void {
  const allowed = allowedOrigins(c, config);
  const origin = c.req.header("origin");
  if (origin !== undefined && origin !== "null") {
    if (!allowed.includes(origin)) {
      throw new HttpError(403, "cross_site", "This form was posted from another site");
    }
    return;
  }
  if (origin === "null") {
    throw new HttpError(403, "cross_site", "This form was posted from another site");
  }
  const referer = c.req.header("referer");
  if (referer !== undefined) {
    let refOrigin = "";
    try {
      refOrigin = new URL(referer).origin;
    } catch {
      // not a URL
    }
    if (!allowed.includes(refOrigin)) {
      throw new HttpError(403, "cross_site", "This form was posted from another site");
    }
  }
}

/**
 * Guards unsafe methods made with a session cookie: the Origin must be the
 * service's own, and the session's CSRF token must come with the request — in the
 * `_csrf` form field (pages) or the `X-CSRF-Token` header (API). Requests with the
 * API token carry no cookie and are not checked.
 */
export function csrfProtection(
  config: Pick<Config, "publicUrl">,
  source: "form" | "header",
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const method = c.req.method;
    if (method === "GET" || method === "HEAD" || method === "OPTIONS") return await next();
    const identity = c.get("identity");
    if (identity?.via === "token") return await next();
    checkOrigin(c, config);
    if (identity?.via === "session") {
      let sent: string | undefined;
      if (source === "form") {
        const body = await c.req.parseBody();
        const value = body[CSRF_FIELD];
        sent = typeof value === "string" ? value : undefined;
      } else {
        sent = c.req.header(CSRF_HEADER);
      }
      if (sent === undefined || !(await constantTimeEqual(sent, identity.csrfToken ?? ""))) {
        throw new HttpError(
          403,
          "csrf",
          source === "form"
            ? "This form has expired or came from elsewhere; open the page again and resubmit"
            : `Send the session's CSRF token in the ${CSRF_HEADER} header`,
        );
      }
    }
    await next();
  };
}
