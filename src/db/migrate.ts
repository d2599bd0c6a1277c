/** Applies the generated migrations in `migrations/`. Safe to run again. */
import { migrate } from "drizzle-orm/libsql/migrator";
import { fromFileUrl } from "../util/paths.ts";
import type { Database } from "./client.ts";

const MIGRATIONS = fromFileUrl(new URL("../../migrations", import.meta.url));

/**
 * Brings the schema up to date. Two processes starting at once may race on the
 * first migration; the loser finds the work done when it tries again.
 */
export async function migrateDatabase(database: Database): Promise<void> {
  for (let attempt = 1;; attempt++) {
    try {
      await migrate(database.db, { migrationsFolder: MIGRATIONS });
      return;
    } catch (error) {
      if (attempt >= 3) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}
