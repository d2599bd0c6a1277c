/**
 * How large a request body may be. One middleware, ahead of authentication and
 * CSRF checks, refuses a larger body with 413 before it is read: by its
 * Content-Length at once, and a body sent without one (chunked) as soon as
 * the bytes read pass the limit — the rest is never read.
 */
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { API_BASE } from "./api/app.ts";
import { HttpError } from "./errors.ts";

const MiB = 1024 * 1024;

/** Largest body of every route but the setup load: forms, the API, sign-in, the webhook. */
export const MAX_BODY_BYTES = MiB;

/** Largest body of a setup load (`POST /api/v1/setup`): a whole district's setup file. */
export const MAX_SETUP_BODY_BYTES = 8 * MiB;

/** The path of the setup load. */
const SETUP_LOAD_PATH = `${API_BASE}/setup`;

function tooLarge(limit: number): () => never {
  return () => {
    throw new HttpError(
      413,
      "payload_too_large",
      `The request body is larger than ${
        limit / MiB
      } MiB (${limit} bytes), the most this route accepts; nothing was changed`,
    );
  };
}

/** The body limits of the application, by route. */
export function bodyLimits(): MiddlewareHandler {
  const general = bodyLimit({ maxSize: MAX_BODY_BYTES, onError: tooLarge(MAX_BODY_BYTES) });
  const setupLoad = bodyLimit({
    maxSize: MAX_SETUP_BODY_BYTES,
    onError: tooLarge(MAX_SETUP_BODY_BYTES),
  });
  return (c, next) =>
    c.req.method === "POST" && c.req.path === SETUP_LOAD_PATH
      ? setupLoad(c, next)
      : general(c, next);
}
