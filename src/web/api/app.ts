/** The JSON API under `/api/v1`, described by the OpenAPI document at `/api/v1/openapi.json`. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { VERSION } from "../../version.ts";
import type { AppDeps, AppEnv } from "../context.ts";
import { SESSION_COOKIE } from "../auth/session.ts";
import { CSRF_HEADER } from "../auth/middleware.ts";
import { newApi } from "./common.ts";
import { changesApi } from "./changes.ts";
import { connectionsApi } from "./connections.ts";
import { recordsApi } from "./records.ts";
import { referenceApi } from "./reference.ts";
import { runsApi } from "./runs.ts";

/** Where the API is mounted. */
export const API_BASE = "/api/v1";

export function createApi(deps: AppDeps): OpenAPIHono<AppEnv> {
  const api = newApi();
  api.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "AUTOCOMM_API_TOKEN; acts as admin",
  });
  api.openAPIRegistry.registerComponent("securitySchemes", "sessionCookie", {
    type: "apiKey",
    in: "cookie",
    name: SESSION_COOKIE,
    description:
      `A signed-in session; unsafe methods also need the session's CSRF token in ${CSRF_HEADER}`,
  });
  api.route("/", recordsApi(deps));
  api.route("/", runsApi(deps));
  api.route("/", referenceApi(deps));
  api.route("/", connectionsApi(deps));
  api.route("/", changesApi(deps));
  api.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "AutoComm API",
      version: VERSION,
      description:
        "Records, runs, previews, approvals, managed connections, the field catalog, school setup and the SIS tables. " +
        "Roles: viewer < runner < editor < admin (x-required-role on each operation). " +
        "Errors are {error: {code, message, problems?}}.",
    },
    servers: [{ url: API_BASE }],
  });
  return api;
}
