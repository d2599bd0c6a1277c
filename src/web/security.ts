/** Response headers every answer carries: a content security policy that frames pages only in the configured host origins. */
import type { MiddlewareHandler } from "hono";
import type { Config } from "../config.ts";

/** The Content-Security-Policy of the service (no inline script or style, no other origins). */
export function contentSecurityPolicy(config: Pick<Config, "hostOrigins">): string {
  const ancestors = ["'self'", ...config.hostOrigins].join(" ");
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "object-src 'none'",
    `frame-ancestors ${ancestors}`,
  ].join("; ");
}

/** Sets the security headers on every response. */
export function securityHeaders(config: Pick<Config, "hostOrigins">): MiddlewareHandler {
  const csp = contentSecurityPolicy(config);
  return async (c, next) => {
    await next();
    c.header("Content-Security-Policy", csp);
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "same-origin");
  };
}
