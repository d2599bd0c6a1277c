/** What the web application needs, and what its middleware put on each request. */
import type { Config } from "../config.ts";
import type { Database } from "../db/client.ts";
import type { Logger } from "../log.ts";
import type { RunQueue } from "../pipeline/queue.ts";
import type { Role } from "./auth/roles.ts";

/** What the application needs. */
export interface AppDeps {
  config: Config;
  database: Database;
  logger: Logger;
  /** Where Run Now and previews queue their runs (one at a time, in a child process). */
  queue: RunQueue;
}

/** Who is making a request, once authenticated. */
export interface Identity {
  user: string;
  role: Role;
  /** School context of the session (School_Number; 0 is the District Office). */
  schoolId: number;
  /** How the request proved who it is. */
  via: "session" | "token";
  /** The session's anti-CSRF token (sessions only). */
  csrfToken?: string;
}

/** Hono environment of every sub-app. */
export interface AppEnv {
  Variables: {
    identity: Identity | undefined;
    /** Set by `schoolScope`: what the request names outside the session's school (answered 404). */
    outOfScope?: string | undefined;
  };
}
