/**
 * The HTTP application: createApp(deps) joins the sub-apps — assets, sign-in,
 * the AutoComm Setup pages, run pages, the Field List page and the JSON API.
 * Handlers sit right after their routes; each route states the role it needs;
 * one onError maps errors to responses (JSON for the API, a page for pages).
 * Body limits come first, so a body too large is refused (413) before anyone —
 * signed in or not — has it read.
 */
import { Hono } from "hono";
import { VERSION } from "../version.ts";
import { createApi } from "./api/app.ts";
import { authenticate } from "./auth/middleware.ts";
import { schoolScope } from "./auth/school_scope.ts";
import { bodyLimits } from "./body_limits.ts";
import { createHooksApp } from "./hooks/run_now.ts";
import { pluginRoutes } from "./plugin.ts";
import type { AppDeps, AppEnv } from "./context.ts";
import { errorHandler, notFoundHandler } from "./errors.ts";
import { connectionPages } from "./routes/connection_pages.tsx";
import { oidcRoutes } from "./routes/oidc_routes.ts";
import { assetRoutes, authPages, fieldPages } from "./routes/other_pages.tsx";
import { overviewPages } from "./routes/overview_pages.tsx";
import { runPages } from "./routes/run_pages.tsx";
import { setupPages } from "./routes/setup_pages.tsx";
import { securityHeaders } from "./security.ts";

export type { AppDeps, AppEnv } from "./context.ts";

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use("*", securityHeaders(deps.config));
  app.use("*", bodyLimits());

  app.get("/healthz", async (c) => {
    let database: "ok" | "unavailable" = "ok";
    try {
      await deps.database.client.execute("SELECT 1");
    } catch {
      database = "unavailable";
    }
    return c.json(
      { status: database === "ok" ? "ok" : "degraded", version: VERSION, database },
      database === "ok" ? 200 : 503,
    );
  });
  app.route("/", assetRoutes());
  // The Run Now webhook carries its own signature: no session, no CSRF.
  app.route(
    "/hooks",
    createHooksApp({
      db: deps.database.db,
      config: deps.config,
      logger: deps.logger,
      queue: deps.queue,
    }),
  );
  app.route("/plugin", pluginRoutes(deps.config)); // public: the host reads it before sign-in

  app.use("*", authenticate(deps));
  app.use("*", schoolScope(deps));
  app.route("/", authPages(deps));
  app.route("/", oidcRoutes(deps));
  app.route("/", setupPages(deps));
  app.route("/", overviewPages(deps));
  app.route("/", runPages(deps));
  app.route("/", connectionPages(deps));
  app.route("/", fieldPages(deps));
  app.route("/api/v1", createApi(deps));

  app.notFound(notFoundHandler());
  app.onError(errorHandler(deps.logger));
  return app;
}
