/** What every API sub-app shares: the validation hook, access guards, and JSON shapes of rows. */
import { createRoute, OpenAPIHono, type RouteConfig } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { Config } from "../../config.ts";
import type { StoredRecord } from "../../records/store.ts";
import { echo, issueMessage } from "../../util/echo.ts";
import type { AppEnv } from "../context.ts";
import { csrfProtection, requireRole } from "../auth/middleware.ts";
import type { Role } from "../auth/roles.ts";
import { maskPersonalChanges } from "../format.ts";
import type { RunRow } from "../queries.ts";
import { ErrorBody } from "./schemas.ts";

/**
 * A new API sub-app whose validation failures answer `400 {error: {code: "invalid", …}}`;
 * the sent keys a problem names are cut by `echo`.
 */
export function newApi(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) {
        const problems = result.error.issues.map((i) => ({
          field: i.path.map((p) => echo(String(p))).join(".") || "(body)",
          message: issueMessage(i),
        }));
        return c.json({
          error: {
            code: "invalid",
            message: problems.map((p) => `${p.field}: ${p.message}`).join("; "),
            problems,
          },
        }, 400);
      }
      return undefined;
    },
  });
}

/** Ways to authenticate, as named in the OpenAPI document. */
export const SECURITY = [{ bearerAuth: [] }, { sessionCookie: [] }];

const json = (description: string) => ({
  description,
  content: { "application/json": { schema: ErrorBody } },
});

/** Error responses of every guarded route. */
export const ERROR_RESPONSES = {
  400: json("The request breaks a rule: `problems` lists them by field"),
  401: json("Not signed in and no valid API token"),
  403: json("The role is too low, or a session request lacks its CSRF token"),
  413: json("The request body is over its limit (1 MiB; 8 MiB for POST /setup), refused unread"),
} as const;

/**
 * A route open to `role` and above: the guard middleware (role, and for unsafe
 * methods with a session cookie the CSRF header), the security requirement and
 * the role (`x-required-role`) in the OpenAPI document.
 */
export function guardedRoute<R extends RouteConfig>(
  config: Pick<Config, "publicUrl">,
  role: Role,
  route: R,
): R & { getRoutingPath(): string } {
  const middleware: MiddlewareHandler<AppEnv>[] = [requireRole(role, "api")];
  if (route.method !== "get") middleware.push(csrfProtection(config, "header"));
  return createRoute({
    ...route,
    middleware,
    security: SECURITY,
    "x-required-role": role,
    description: `${route.description ?? ""}\n\nRole: ${role} or higher.`.trim(),
    responses: { ...ERROR_RESPONSES, ...route.responses },
  }) as unknown as R & { getRoutingPath(): string };
}

/** A record as the API shows it. */
export function recordJson(r: StoredRecord) {
  return { ...r, fields: [...r.fields] };
}

/** A run as the API lists it. */
export function runJson(r: RunRow) {
  return {
    id: r.id,
    recordId: r.recordId,
    schoolId: r.schoolId,
    table: r.table,
    trigger: r.trigger,
    status: r.status,
    preview: r.preview,
    approvesRunId: r.approvesRunId,
    queuedAt: r.queuedAt,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    heldUntil: r.heldUntil,
    message: r.message,
    file: { name: r.fileName, size: r.fileSize, sha256: r.fileSha256 },
    counts: {
      read: r.read,
      inserted: r.inserted,
      updated: r.updated,
      unchanged: r.unchanged,
      skipped: r.skipped,
      rejected: r.rejected,
      removed: r.removed,
      inactivated: r.inactivated,
      blankLines: r.blankLines,
      shortRows: r.shortRows,
    },
    email: { status: r.emailStatus, error: r.emailError },
  };
}

/** A change-log entry with its JSON parsed, personal values masked as on the run page. */
export function changeJson(
  c: { table: string; action: string; key: string; changes: string | null },
) {
  const parse = (text: string | null) => {
    if (text === null) return null;
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      return { value: text };
    }
  };
  return {
    table: c.table,
    action: c.action,
    key: parse(c.key) ?? {},
    changes: parse(maskPersonalChanges(c.table, c.changes)),
  };
}
