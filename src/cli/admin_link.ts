/** `deno task autocomm admin-link`: prints a new one-time local administrator sign-in link. */
import { ADMIN_LINK_TTL_SECONDS, issueAdminLink } from "../web/auth/admin_link.ts";
import { parse } from "./args.ts";
import type { Command } from "./commands.ts";

export const adminLink: Command = async (args, { config, database, out }) => {
  parse(args, {});
  if (!config.adminLink) {
    out("The local administrator sign-in link is turned off (AUTOCOMM_ADMIN_LINK=off).");
    return 1;
  }
  const link = await issueAdminLink(database.db, config);
  out(
    `Open this link to sign in as the local administrator (valid ${
      ADMIN_LINK_TTL_SECONDS / 60
    } minutes, single use):`,
  );
  out(link);
  return 0;
};
