/** A fresh embedded database in a temporary folder, migrated, for in-process tests. */
import { type Config, loadConfig } from "../../src/config.ts";
import { type Database, openDatabase } from "../../src/db/client.ts";
import { migrateDatabase } from "../../src/db/migrate.ts";
import { ensureDistrictOffice } from "../../src/sis/setup.ts";

/** A temporary data folder with its configuration and open database. */
export interface TempDatabase extends AsyncDisposable {
  dir: string;
  config: Config;
  database: Database;
}

/** Options of {@linkcode tempDatabase}. */
export interface TempDatabaseOptions {
  /** More variables for the configuration. */
  env?: Record<string, string>;
}

/** Creates a temporary data folder, opens and migrates its database. */
export async function tempDatabase(options: TempDatabaseOptions = {}): Promise<TempDatabase> {
  const dir = await Deno.makeTempDir({ prefix: "autocomm-test-" });
  const config = loadConfig({
    env: { AUTOCOMM_DATA_DIR: dir, AUTOCOMM_MIN_FILE_AGE_SECONDS: "0", ...options.env },
  });
  const database = await openDatabase(config);
  await migrateDatabase(database);
  await ensureDistrictOffice(database.db);
  return {
    dir,
    config,
    database,
    async [Symbol.asyncDispose]() {
      database.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
