/**
 * The service: config → database → migrations → Deno.cron registration → Deno.serve.
 */
import { ConfigError, loadConfig } from "./config.ts";
import { secretKeyProblem } from "./connections/store.ts";
import { filePathOf, openDatabase } from "./db/client.ts";
import { migrateDatabase } from "./db/migrate.ts";
import { StartupError, startupStep } from "./db/startup.ts";
import { createLogger } from "./log.ts";
import { sendCompletionReport } from "./mail/completion.ts";
import { createMailer } from "./mail/mailer.ts";
import { ImportModeError, resolveImportMode } from "./pipeline/import_mode.ts";
import { createRunQueue } from "./pipeline/queue.ts";
import { stopServiceOnSignals } from "./pipeline/signals.ts";
import { refuseLocalFolders } from "./records/validate.ts";
import { registerSchedules } from "./schedule/register.ts";
import { ensureDistrictOffice } from "./sis/setup.ts";
import { createApp } from "./web/app.ts";
import { printAdminLinkOnFirstStart } from "./web/auth/admin_link.ts";

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
// Where imports run (`AUTOCOMM_IMPORT_MODE`): decided before anything is opened, since
// the embedded file itself needs permissions a serverless platform does not give.
let importMode;
try {
  importMode = resolveImportMode(config);
} catch (error) {
  if (!(error instanceof ImportModeError)) throw error;
  console.error(`AutoComm cannot start: ${error.message}.`);
  Deno.exit(78);
}
let database;
try {
  database = await startupStep(
    `open the database ${filePathOf(config.databaseUrl) ?? config.databaseUrl}`,
    async () => {
      const opened = await openDatabase(config);
      await migrateDatabase(opened);
      await ensureDistrictOffice(opened.db);
      return opened;
    },
  );
  // Inline mode has no local disk: records read files over SFTP only.
  if (importMode === "process") {
    await startupStep(
      `create the import folder ${config.importRoot}`,
      () => Deno.mkdir(config.importRoot, { recursive: true }),
    );
  }
} catch (error) {
  if (!(error instanceof StartupError)) throw error;
  console.error(`AutoComm cannot start: ${error.message}`);
  Deno.exit(error.exitCode);
}
// Stored connection secrets need the key that sealed them.
const keyProblem = await secretKeyProblem({
  db: database.db,
  keys: { current: config.secretKey, previous: config.secretKeyPrevious },
});
if (keyProblem !== undefined) {
  console.error(`AutoComm cannot start: ${keyProblem}.`);
  Deno.exit(78);
}

const mailer = createMailer(config, { logger });
// One queue per process: imports run one at a time — in its warm import process (started
// now, so that the first run does not wait for it), or inline in this process's event
// loop — and every finished run mails its completion report.
const queue = createRunQueue({ db: database.db, config }, {
  logger,
  mode: importMode,
  onFinished: async (runId) => {
    await sendCompletionReport({ db: database.db, config, logger, mailer }, runId);
  },
});
queue.warm();
// Inline, a stopping instance stops its run at the next safe point before it exits, and
// records (form, API) may not read a local folder: there is no local disk.
if (importMode === "inline") {
  refuseLocalFolders();
  stopServiceOnSignals(queue, (signal) => logger.warn("service_stopping", { signal }));
}
// The minute tick (Deno.cron), registered once at top level.
registerSchedules({ db: database.db, config, logger, mailer, queue }, {
  awaitRuns: importMode === "inline",
});

const app = createApp({ config, database, logger, queue });
Deno.serve({
  port: config.port,
  hostname: config.host,
  onListen: ({ port }) => logger.info("listening", { port, timeZone: config.timeZone, importMode }),
}, app.fetch);
await printAdminLinkOnFirstStart({ config, database, logger });
