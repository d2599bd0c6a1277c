/**
 * The service: config → database → migrations → Deno.cron registration → Deno.serve.
 */
import { ConfigError, loadConfig } from "./config.ts";
import { openDatabase } from "./db/client.ts";
import { migrateDatabase } from "./db/migrate.ts";
import { createLogger } from "./log.ts";
import { ensureDistrictOffice } from "./sis/setup.ts";
import { createApp } from "./web/app.ts";

let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`AutoComm cannot start: ${error.message}`);
    Deno.exit(78);
  }
  throw error;
}
const logger = createLogger(config.logLevel);
const database = await openDatabase(config);
await migrateDatabase(database);
await ensureDistrictOffice(database.db);
await Deno.mkdir(config.importRoot, { recursive: true });

const app = createApp({ config, database, logger });
Deno.serve({
  port: config.port,
  hostname: config.host,
  onListen: ({ port }) => logger.info("listening", { port, timeZone: config.timeZone }),
}, app.fetch);
