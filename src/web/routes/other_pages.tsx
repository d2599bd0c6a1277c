/** Sign-in and sign-out, the Field List page, and the service's own assets. */
import { Hono } from "hono";
import { catalogFor } from "../../sis/catalog.ts";
import { isImportTable } from "../../sis/readout.ts";
import { readSetup } from "../../sis/setup.ts";
import type { AppDeps, AppEnv } from "../context.ts";
import { LOCAL_ADMIN, redeemAdminLink } from "../auth/admin_link.ts";
import { checkOrigin, csrfProtection, requireRole } from "../auth/middleware.ts";
import {
  clearSessionCookie,
  createSession,
  endSession,
  sessionCookieOf,
  setSessionCookie,
} from "../auth/session.ts";
import { HttpError, notFound } from "../errors.ts";
import { landingSchool } from "../school_context.ts";
import { APP_CSS, APP_JS, FAVICON_SVG } from "../assets.ts";
import { FieldList } from "../pages/field_list.tsx";
import { SignIn, SignInLink } from "../pages/simple_pages.tsx";

/** A local path to return to after sign-in (never another site). */
export function safeNext(value: unknown): string {
  return typeof value === "string" && /^\/(?![/\\])[^\s\\]*$/.test(value) ? value : "/";
}

export function assetRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/assets/app.css", (c) =>
    c.body(APP_CSS, 200, {
      "content-type": "text/css; charset=utf-8",
      "cache-control": "public, max-age=3600",
    }));
  app.get("/assets/app.js", (c) =>
    c.body(APP_JS, 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "public, max-age=3600",
    }));
  app.get("/assets/favicon.svg", (c) =>
    c.body(FAVICON_SVG, 200, {
      "content-type": "image/svg+xml",
      "cache-control": "public, max-age=86400",
    }));
  return app;
}

export function authPages(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { db } = deps.database;

  app.get("/signin", (c) =>
    c.html(SignIn({
      hostConfigured: deps.config.hostOrigins.length > 0,
      signedOut: c.req.query("signed_out") !== undefined,
      provider: deps.config.oidc ? new URL(deps.config.oidc.issuer).host : undefined,
      next: safeNext(c.req.query("next")),
      adminLink: deps.config.adminLink,
    })));

  /** With `AUTOCOMM_ADMIN_LINK=off` the local administrator link does not exist. */
  const linkOff = () =>
    new HttpError(
      404,
      "admin_link_off",
      "The local administrator sign-in link is turned off here (AUTOCOMM_ADMIN_LINK=off)",
    );

  app.get("/signin/link", (c) => {
    if (!deps.config.adminLink) throw linkOff();
    return c.html(SignInLink({
      token: c.req.query("token") ?? "",
      next: safeNext(c.req.query("next")),
    }));
  });

  app.post("/signin/link", async (c) => {
    if (!deps.config.adminLink) throw linkOff();
    checkOrigin(c, deps.config);
    const body = await c.req.parseBody();
    const token = typeof body["token"] === "string" ? body["token"] : "";
    if (!(await redeemAdminLink(db, token))) {
      throw new HttpError(
        400,
        "link_used",
        "This sign-in link has expired or has already been used. Run `deno task autocomm admin-link` on the server for a new one.",
      );
    }
    const session = await createSession(db, { user: LOCAL_ADMIN, role: "admin", schoolId: 0 });
    setSessionCookie(c, deps.config, session);
    deps.logger.info("signed_in", { user: LOCAL_ADMIN, via: "admin_link" });
    // The list without a school lands on the user's last school (src/web/school_context.ts).
    const next = safeNext(body["next"]);
    const subject = { user: LOCAL_ADMIN, schoolId: 0, via: "session" } as const;
    return c.redirect(next === "/" ? `/?school=${await landingSchool(db, subject)}` : next, 303);
  });

  app.post(
    "/signout",
    requireRole("viewer", "page"),
    csrfProtection(deps.config, "form"),
    async (c) => {
      const cookie = sessionCookieOf(c);
      if (cookie) await endSession(db, cookie);
      clearSessionCookie(c, deps.config);
      return c.redirect("/signin?signed_out=1", 303);
    },
  );

  return app;
}

export function fieldPages(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/fields/:table", requireRole("viewer", "page"), async (c) => {
    const table = (c.req.query("table") ?? c.req.param("table")).toLowerCase();
    if (!isImportTable(table)) throw notFound(`import table "${table}"`);
    const mode = c.req.query("mode") === "meeting" ? "meeting" : "daily";
    const setup = await readSetup(deps.database.db);
    return c.html(FieldList({
      timeZone: deps.config.timeZone,
      identity: c.get("identity")!,
      catalog: catalogFor(table, { mode, extensions: setup.extensions }),
      mode,
      filter: c.req.query("filter") ?? "",
    }));
  });
  return app;
}
