/**
 * Sign-in with OpenID Connect: `GET /oidc/login?next=` starts it, `GET /oidc/callback`
 * (the redirect URI registered at the provider) finishes it and opens a session, and
 * `/oidc/initiate` (GET or form POST) is the host's third-party-initiated login:
 *
 * - `iss` must equal `AUTOCOMM_OIDC_ISSUER` exactly, else 400 and no redirect anywhere;
 * - `target_link_uri`, if given, must be a path of this service or an absolute URL on
 *   the origin of `AUTOCOMM_PUBLIC_URL`, else 400; after sign-in the browser lands on
 *   its path and query (default `/`);
 * - `login_hint` (up to 500 characters) is passed on to the provider.
 *
 * Without OpenID Connect configured every `/oidc/` route answers 404 with a page saying so.
 * The rules of the flow itself are in `src/web/auth/oidc.ts`.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { echo } from "../../util/echo.ts";
import type { AppDeps, AppEnv } from "../context.ts";
import { createOidcSignIn, type OidcSignIn } from "../auth/oidc.ts";
import { createSession, endSession, sessionCookieOf, setSessionCookie } from "../auth/session.ts";
import { HttpError } from "../errors.ts";
import { safeNext } from "./other_pages.tsx";

/** Parameters of a third-party-initiated login, from the query (GET) or the form (POST). */
async function initiateParams(c: Context): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  if (c.req.method === "POST") {
    const body = await c.req.parseBody();
    for (const [k, v] of Object.entries(body)) if (typeof v === "string") out[k] = v;
  } else {
    for (const [k, v] of Object.entries(c.req.query())) out[k] = v;
  }
  return out;
}

/**
 * The local path (with query) a `target_link_uri` names: a path, or an absolute URL on
 * the service's public origin. Undefined for anything else.
 */
export function targetPath(target: string, publicUrl: string): string | undefined {
  if (target.startsWith("/")) {
    const next = safeNext(target);
    return next === target ? next : undefined;
  }
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return undefined;
  }
  if (url.origin !== new URL(publicUrl).origin || url.username !== "" || url.password !== "") {
    return undefined;
  }
  const next = safeNext(url.pathname + url.search);
  return next === url.pathname + url.search ? next : undefined;
}

export function oidcRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const oidc = deps.config.oidc;
  let flow: OidcSignIn | undefined;
  if (oidc) {
    flow = createOidcSignIn({
      config: { publicUrl: deps.config.publicUrl, oidc },
      db: deps.database.db,
      logger: deps.logger,
    });
  }
  const configured = (): OidcSignIn => {
    if (!flow) {
      throw new HttpError(404, "not_found", "Sign-in with OpenID Connect is not configured here");
    }
    return flow;
  };

  app.get("/oidc/login", async (c) => {
    const url = await configured().start(c, { next: safeNext(c.req.query("next")) });
    return c.redirect(url, 302);
  });

  app.on(["GET", "POST"], "/oidc/initiate", async (c) => {
    const signIn = configured();
    const params = await initiateParams(c);
    const iss = params["iss"] ?? "";
    if (iss !== oidc!.issuer) {
      deps.logger.warn("oidc_initiate_refused", { reason: "issuer" });
      throw new HttpError(
        400,
        "oidc_foreign_issuer",
        `This launch names the sign-in provider "${
          echo(iss)
        }", which is not the one AutoComm signs in with.`,
      );
    }
    const target = params["target_link_uri"];
    const next = target === undefined || target === ""
      ? "/"
      : targetPath(target, deps.config.publicUrl);
    if (next === undefined) {
      deps.logger.warn("oidc_initiate_refused", { reason: "target" });
      throw new HttpError(
        400,
        "oidc_foreign_target",
        `This launch asks to open "${echo(target ?? "")}", which is not a page of this AutoComm.`,
      );
    }
    const hint = params["login_hint"];
    const loginHint = hint !== undefined && hint.length <= 500 ? hint : undefined;
    const url = await signIn.start(c, { next, loginHint });
    return c.redirect(url, c.req.method === "POST" ? 303 : 302);
  });

  app.get("/oidc/callback", async (c) => {
    const subject = await configured().finish(c);
    // A sign-in replaces the browser's earlier session, if any.
    const earlier = sessionCookieOf(c);
    if (earlier) await endSession(deps.database.db, earlier);
    const session = await createSession(deps.database.db, {
      user: subject.user,
      role: subject.role,
      schoolId: subject.schoolId,
    });
    setSessionCookie(c, deps.config, session);
    deps.logger.info("signed_in", {
      user: subject.user,
      via: "oidc",
      role: subject.role,
      schoolId: subject.schoolId,
    });
    return c.redirect(subject.next, 303);
  });

  return app;
}
