/**
 * The one place errors become responses: JSON `{error: {code, message, …}}` for
 * `/api` and `/hooks`, an error page for pages. A sent value a message names (a path, an id)
 * is cut to a short prefix (`echo`).
 */
import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { BUSY_RETRY_AFTER_SECONDS, isDatabaseBusy } from "../db/busy.ts";
import { errorText, type Logger } from "../log.ts";
import { RunInProgress, RunStateError } from "../pipeline/service.ts";
import { RecordInvalid } from "../records/store.ts";
import { ConnectionInUse, ConnectionInvalid } from "../connections/store.ts";
import { SetupError } from "../sis/setup.ts";
import { echo } from "../util/echo.ts";
import type { AppEnv } from "./context.ts";
import { ErrorPage } from "./pages/error_page.tsx";

/** An error with the status, code and message the client should see. */
export class HttpError extends Error {
  readonly status: ContentfulStatusCode;
  readonly code: string;
  readonly extra: Record<string, unknown>;
  constructor(
    status: ContentfulStatusCode,
    code: string,
    message: string,
    extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}

/** A 404 naming what is missing (what was asked for is cut by `echo`). */
export function notFound(what: string): HttpError {
  return new HttpError(404, "not_found", `There is no ${echo(what)}`);
}

/** A 413 for a request body over `limit` bytes. */
export function payloadTooLarge(limit: number): HttpError {
  const size = limit % (1024 * 1024) === 0 ? `${limit / (1024 * 1024)} MiB` : `${limit / 1024} KiB`;
  return new HttpError(
    413,
    "payload_too_large",
    `The request body is larger than ${size} (${limit} bytes), the most this route accepts; nothing was changed`,
  );
}

/** The answer to a write that could not get the database's lock within the busy timeout. */
export function databaseBusy(): HttpError {
  return new HttpError(
    503,
    "database_busy",
    `The database is busy with another write and nothing was saved. Try again in ${BUSY_RETRY_AFTER_SECONDS} seconds.`,
  );
}

/** How an error is shown: status, code, message and extra JSON members. */
export function describeError(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) return error;
  if (isDatabaseBusy(error)) return databaseBusy();
  if (error instanceof RecordInvalid) {
    return new HttpError(400, "invalid", "The record breaks the rules; see problems", {
      problems: error.problems,
    });
  }
  if (error instanceof ConnectionInvalid) {
    return new HttpError(400, "invalid", "The connection breaks the rules; see problems", {
      problems: error.problems,
    });
  }
  if (error instanceof ConnectionInUse) {
    return new HttpError(409, "in_use", error.message, { records: error.records });
  }
  if (error instanceof RunInProgress) {
    return new HttpError(409, "running", error.message, { runId: error.runId });
  }
  if (error instanceof RunStateError) return new HttpError(409, "conflict", error.message);
  if (error instanceof SetupError) {
    return new HttpError(400, "invalid_setup", `Cannot load the setup: ${error.message}`, {
      path: error.path,
      problems: [{ field: error.path, message: error.message.replace(/^[^:]*: /, "") }],
    });
  }
  if (error instanceof HTTPException) {
    const status = error.status as ContentfulStatusCode;
    const code = status === 400
      ? "bad_request"
      : status === 413
      ? "payload_too_large"
      : status === 415
      ? "unsupported_media_type"
      : "http";
    return new HttpError(status, code, error.message || "Bad request");
  }
  return undefined;
}

/** The API and the webhook answer in JSON. */
function isApi(c: Context): boolean {
  const path = c.req.path;
  return path === "/api" || path.startsWith("/api/") || path.startsWith("/hooks/");
}

/** The application's onError: known errors keep their status; others are logged as 500. */
export function errorHandler(logger: Logger): ErrorHandler<AppEnv> {
  return (error, c) => {
    let known = describeError(error);
    if (!known) {
      logger.error("request_failed", {
        method: c.req.method,
        path: c.req.path,
        error: errorText(error),
      });
      known = new HttpError(500, "internal", "Something went wrong; the error was logged");
    } else if (known.code === "database_busy") {
      logger.warn("database_busy", { method: c.req.method, path: c.req.path });
      c.header("Retry-After", String(BUSY_RETRY_AFTER_SECONDS));
    }
    if (isApi(c)) {
      return c.json(
        { error: { code: known.code, message: known.message, ...known.extra } },
        known.status,
      );
    }
    return c.html(
      ErrorPage({ status: known.status, message: known.message, identity: c.get("identity") }),
      known.status,
    );
  };
}

/** Unknown paths: JSON under `/api`, a page elsewhere. */
export function notFoundHandler(): NotFoundHandler<AppEnv> {
  return (c) => {
    const error = notFound(`page at ${c.req.path}`);
    if (isApi(c)) {
      return c.json({
        error: {
          code: error.code,
          message: `There is no API route ${c.req.method} ${echo(c.req.path)}`,
        },
      }, 404);
    }
    return c.html(
      ErrorPage({ status: 404, message: error.message, identity: c.get("identity") }),
      404,
    );
  };
}
