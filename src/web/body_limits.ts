/**
 * How large a request body may be: 1 MiB, 8 MiB for the setup load, 64 KiB for
 * the webhook. One middleware, ahead of authentication, CSRF checks and the
 * webhook's signature, refuses a larger body with 413 before it is read: by its
 * Content-Length at once, and a body sent without one (chunked) as soon as the
 * bytes read pass the limit — the rest is never read.
 */
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { API_BASE } from "./api/app.ts";
import { payloadTooLarge } from "./errors.ts";
import { WEBHOOK_MAX_BODY } from "./hooks/run_now.ts";

const MiB = 1024 * 1024;

/** Largest body of every route but the setup load and the webhook: forms, sign-in, the API. */
export const MAX_BODY_BYTES = MiB;

/** Largest body of a setup load (`POST /api/v1/setup`): a whole district's setup file. */
export const MAX_SETUP_BODY_BYTES = 8 * MiB;

/** The path of the setup load. */
const SETUP_LOAD_PATH = `${API_BASE}/setup`;

function limitOf(maxSize: number): MiddlewareHandler {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw payloadTooLarge(maxSize);
    },
  });
}

/** The body limits of the application, by route. */
export function bodyLimits(): MiddlewareHandler {
  const general = limitOf(MAX_BODY_BYTES);
  const setupLoad = limitOf(MAX_SETUP_BODY_BYTES);
  const webhook = limitOf(WEBHOOK_MAX_BODY);
  return (c, next) => {
    const path = c.req.path;
    if (path.startsWith("/hooks/")) return webhook(c, next);
    if (c.req.method === "POST" && path === SETUP_LOAD_PATH) return setupLoad(c, next);
    return general(c, next);
  };
}
