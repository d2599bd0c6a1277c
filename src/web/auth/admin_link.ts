/**
 * The local administrator sign-in of a standalone service: a one-time link, stored
 * only as its SHA-256 in `one_time_tokens` (kind `admin_link`), valid for
 * {@linkcode ADMIN_LINK_TTL_SECONDS} and used once, that opens an admin session.
 */
import { and, count, eq, gt, isNull } from "drizzle-orm";
import type { Config } from "../../config.ts";
import type { Database, Db } from "../../db/client.ts";
import { oneTimeTokens, sessions } from "../../db/schema/autocomm.ts";
import type { Logger } from "../../log.ts";
import { randomToken, sha256Hex } from "./tokens.ts";

/** How long a sign-in link works: 15 minutes. */
export const ADMIN_LINK_TTL_SECONDS = 15 * 60;

/** The path a sign-in link opens. */
export const ADMIN_LINK_PATH = "/signin/link";

/** The user name of sessions opened by a sign-in link. */
export const LOCAL_ADMIN = "local administrator";

/** Creates a one-time sign-in link and returns its URL (under `config.publicUrl`). */
export async function issueAdminLink(db: Db, config: Pick<Config, "publicUrl">): Promise<string> {
  const token = randomToken(32);
  await db.insert(oneTimeTokens).values({
    tokenHash: await sha256Hex(token),
    kind: "admin_link",
    expiresAt: new Date(Date.now() + ADMIN_LINK_TTL_SECONDS * 1000).toISOString(),
  });
  return `${config.publicUrl}${ADMIN_LINK_PATH}?token=${token}`;
}

/**
 * Uses a sign-in link's token: true exactly once for a token that exists, is an
 * admin link and has not expired (the conditional update is the claim).
 */
export async function redeemAdminLink(db: Db, token: string): Promise<boolean> {
  if (token === "" || token.length > 200) return false;
  const used = await db.update(oneTimeTokens).set({ usedAt: new Date().toISOString() }).where(
    and(
      eq(oneTimeTokens.tokenHash, await sha256Hex(token)),
      eq(oneTimeTokens.kind, "admin_link"),
      isNull(oneTimeTokens.usedAt),
      gt(oneTimeTokens.expiresAt, new Date().toISOString()),
    ),
  ).returning({ hash: oneTimeTokens.tokenHash });
  return used.length > 0;
}

/** What {@linkcode printAdminLinkOnFirstStart} needs. */
export interface FirstStartDeps {
  config: Config;
  database: Database;
  logger?: Logger;
}

/** Options of {@linkcode printAdminLinkOnFirstStart}. */
export interface FirstStartOptions {
  /** Writes the lines for the person starting the service; default console.log. */
  out?: (line: string) => void;
}

/**
 * On the first start of a standalone service (no host origins configured, the link
 * not turned off, no session and no sign-in link ever created), prints a one-time local administrator
 * sign-in link. Returns the link, or undefined when nothing was printed. Later,
 * `deno task autocomm admin-link` prints a new one.
 */
export async function printAdminLinkOnFirstStart(
  deps: FirstStartDeps,
  options: FirstStartOptions = {},
): Promise<string | undefined> {
  if (deps.config.hostOrigins.length > 0 || !deps.config.adminLink) return undefined;
  const { db } = deps.database;
  const [links] = await db.select({ n: count() }).from(oneTimeTokens).where(
    eq(oneTimeTokens.kind, "admin_link"),
  );
  const [open] = await db.select({ n: count() }).from(sessions);
  if ((links?.n ?? 0) > 0 || (open?.n ?? 0) > 0) return undefined;
  const link = await issueAdminLink(db, deps.config);
  const out = options.out ?? ((line: string) => console.log(line));
  out("");
  out("AutoComm has no administrator yet. Sign in once with this link");
  out(`(valid ${ADMIN_LINK_TTL_SECONDS / 60} minutes, single use):`);
  out(`  ${link}`);
  out("Later, `deno task autocomm admin-link` prints a new link.");
  out("");
  deps.logger?.info("admin_link_issued", { reason: "first_start" });
  return link;
}
