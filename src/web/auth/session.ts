/**
 * Sessions: a random cookie value, stored only as its SHA-256, with the user, role,
 * school context and the session's anti-CSRF token. The standalone sign-in link and
 * OpenID Connect sign-in (`oidc.ts`) create one through {@linkcode createSession}.
 */
import type { Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { eq, lt } from "drizzle-orm";
import type { Config } from "../../config.ts";
import type { Db } from "../../db/client.ts";
import { sessions } from "../../db/schema/autocomm.ts";
import type { Identity } from "../context.ts";
import { isRole, type Role } from "./roles.ts";
import { randomToken, sha256Hex } from "./tokens.ts";

/** Name of the session cookie. */
export const SESSION_COOKIE = "autocomm_session";

/** Default lifetime of a session: 12 hours. */
export const SESSION_TTL_SECONDS = 12 * 3600;

/** Who a new session is for. */
export interface SessionSubject {
  user: string;
  role: Role;
  /** School context (School_Number; 0 is the District Office). */
  schoolId: number;
}

/** Options of {@linkcode createSession}. */
export interface CreateSessionOptions {
  /** Seconds the session lasts; default {@linkcode SESSION_TTL_SECONDS}. */
  ttlSeconds?: number;
  /** The current time; default now. */
  now?: Date;
}

/** A new session: the cookie value (shown once, never stored) and its CSRF token. */
export interface NewSession {
  cookieValue: string;
  csrfToken: string;
  expiresAt: Date;
}

/** Creates a session and removes expired ones. */
export async function createSession(
  db: Db,
  subject: SessionSubject,
  options: CreateSessionOptions = {},
): Promise<NewSession> {
  const now = options.now ?? new Date();
  const expiresAt = new Date(now.getTime() + (options.ttlSeconds ?? SESSION_TTL_SECONDS) * 1000);
  const cookieValue = randomToken(32);
  const csrfToken = randomToken(24);
  await db.delete(sessions).where(lt(sessions.expiresAt, now.toISOString()));
  await db.insert(sessions).values({
    idHash: await sha256Hex(cookieValue),
    user: subject.user,
    role: subject.role,
    schoolId: subject.schoolId,
    csrfToken,
    createdAt: now.toISOString(),
    expiresAt: expiresAt.toISOString(),
  });
  return { cookieValue, csrfToken, expiresAt };
}

/** The identity of a live session, or undefined for an unknown or expired one. */
export async function findSession(db: Db, cookieValue: string): Promise<Identity | undefined> {
  if (cookieValue === "" || cookieValue.length > 200) return undefined;
  const [row] = await db.select().from(sessions).where(
    eq(sessions.idHash, await sha256Hex(cookieValue)),
  );
  if (!row || row.expiresAt <= new Date().toISOString() || !isRole(row.role)) return undefined;
  return {
    user: row.user,
    role: row.role,
    schoolId: row.schoolId,
    via: "session",
    csrfToken: row.csrfToken,
  };
}

/** Ends a session. */
export async function endSession(db: Db, cookieValue: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.idHash, await sha256Hex(cookieValue)));
}

/** The session cookie of a request, if any. */
export function sessionCookieOf(c: Context): string | undefined {
  return getCookie(c, SESSION_COOKIE);
}

/** Where and how long a cookie of {@linkcode setAuthCookie} lives. */
export interface AuthCookieOptions {
  path?: string;
  maxAge?: number;
  expires?: Date;
}

/** True when the service is served over https (its public URL). */
function overHttps(config: Pick<Config, "publicUrl">): boolean {
  return config.publicUrl.startsWith("https:");
}

/**
 * Sets a cookie of the sign-in (the session, the OpenID Connect browser binding). Always
 * HttpOnly. Over https it is `Secure; SameSite=None; Partitioned`, so that it is sent
 * inside the host's cross-site frame and kept under third-party-cookie restrictions
 * (CHIPS); forms stay protected by the session's CSRF token and the Origin check, not
 * by SameSite. Over http (a loopback test or demo) it is `SameSite=Lax`.
 */
export function setAuthCookie(
  c: Context,
  config: Pick<Config, "publicUrl">,
  name: string,
  value: string,
  options: AuthCookieOptions = {},
): void {
  setCookie(c, name, value, {
    path: options.path ?? "/",
    httpOnly: true,
    ...(overHttps(config)
      ? { secure: true, sameSite: "None" as const, partitioned: true }
      : { sameSite: "Lax" as const }),
    ...(options.maxAge !== undefined ? { maxAge: options.maxAge } : {}),
    ...(options.expires !== undefined ? { expires: options.expires } : {}),
  });
}

/** Clears a cookie set by {@linkcode setAuthCookie} (same path and attributes). */
export function clearAuthCookie(
  c: Context,
  config: Pick<Config, "publicUrl">,
  name: string,
  options: { path?: string } = {},
): void {
  setAuthCookie(c, config, name, "", { path: options.path ?? "/", maxAge: 0 });
}

/** Sets the session cookie (see {@linkcode setAuthCookie}) until the session expires. */
export function setSessionCookie(
  c: Context,
  config: Pick<Config, "publicUrl">,
  session: NewSession,
): void {
  setAuthCookie(c, config, SESSION_COOKIE, session.cookieValue, { expires: session.expiresAt });
}

/** Clears the session cookie. */
export function clearSessionCookie(c: Context, config: Pick<Config, "publicUrl">): void {
  clearAuthCookie(c, config, SESSION_COOKIE);
}
