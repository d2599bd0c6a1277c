/**
 * A service as the scheduler, the webhook and the reports see it, for in-process
 * tests: a temporary data folder with a migrated database and school 100, a real
 * run queue (runs execute in the real import process), a real mailer (SMTP when
 * `SMTP_URL` is given, the log otherwise) and a logger that keeps its events.
 */
import { eq } from "drizzle-orm";
import { type Config, loadConfig } from "../../src/config.ts";
import { type Database, type Db, openDatabase } from "../../src/db/client.ts";
import { records, runs } from "../../src/db/schema/autocomm.ts";
import { migrateDatabase } from "../../src/db/migrate.ts";
import type { Logger } from "../../src/log.ts";
import { sendCompletionReport } from "../../src/mail/completion.ts";
import { createMailer, type Mailer } from "../../src/mail/mailer.ts";
import { createRunQueue, type RunQueue } from "../../src/pipeline/queue.ts";
import { createRecord, type StoredRecord } from "../../src/records/store.ts";
import type { ScheduleDeps } from "../../src/schedule/tick.ts";
import { ensureDistrictOffice, loadSetup } from "../../src/sis/setup.ts";

/** One logged event. */
export interface LogEvent {
  level: string;
  event: string;
  data: Record<string, unknown>;
}

/** A logger that keeps what it is told (and prints it when AUTOCOMM_TEST_LOG is set). */
export function memoryLogger(): Logger & { events: LogEvent[] } {
  const events: LogEvent[] = [];
  const print = Deno.env.get("AUTOCOMM_TEST_LOG") !== undefined;
  const at = (level: string) => (event: string, data: Record<string, unknown> = {}) => {
    events.push({ level, event, data });
    if (print) console.error(JSON.stringify({ level, event, ...data }));
  };
  return { events, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** The test service. */
export interface Fixture extends AsyncDisposable {
  dir: string;
  config: Config;
  database: Database;
  db: Db;
  logger: Logger & { events: LogEvent[] };
  mailer: Mailer;
  queue: RunQueue;
  /** Deps of `tick`, `sendCompletionReport` and the hooks app. */
  deps: ScheduleDeps;
  /** Creates a teachers record of school 100 saved long ago (so every test instant is after it). */
  addRecord(input?: Record<string, unknown>): Promise<StoredRecord>;
  /** Writes a file under the import root. */
  write(name: string, content: string): Promise<string>;
  /** A run row. */
  run(runId: number): Promise<typeof runs.$inferSelect>;
  /** Every run row, by id. */
  runs(): Promise<(typeof runs.$inferSelect)[]>;
}

/** Options of {@linkcode fixture}. */
export interface FixtureOptions {
  /** More variables for the configuration. */
  env?: Record<string, string>;
}

/** A teachers file of `n` good rows (tab, LF). */
export function teachersFile(n: number, prefix = "T"): string {
  const lines: string[] = [];
  for (let i = 1; i <= n; i++) lines.push(`${prefix}${i}\tAnn\tLee`);
  return lines.join("\n") + "\n";
}

/** Creates the test service. Dispose it with `await using`. */
export async function fixture(options: FixtureOptions = {}): Promise<Fixture> {
  const dir = await Deno.makeTempDir({ prefix: "autocomm-schedule-" });
  const config = loadConfig({
    env: {
      AUTOCOMM_DATA_DIR: dir,
      AUTOCOMM_MIN_FILE_AGE_SECONDS: "0",
      AUTOCOMM_PUBLIC_URL: "https://autocomm.example.org",
      ...options.env,
    },
  });
  const database = await openDatabase(config);
  await migrateDatabase(database);
  await ensureDistrictOffice(database.db);
  await loadSetup(database.db, {
    schools: [{
      schoolNumber: 100,
      name: "Lincoln Elementary",
      terms: [],
      periods: [],
      days: [],
      attendanceCodes: [],
    }],
  });
  await Deno.mkdir(config.importRoot, { recursive: true });
  const db = database.db;
  const logger = memoryLogger();
  const mailer = createMailer(config, { logger, timeoutMs: 3000 });
  const mailDeps = { db, config, logger, mailer };
  const queue = createRunQueue({ db, config }, {
    logger,
    onFinished: async (runId) => {
      await sendCompletionReport(mailDeps, runId);
    },
  });
  const deps: ScheduleDeps = { db, config, logger, mailer, queue };
  let records_ = 0;
  return {
    dir,
    config,
    database,
    db,
    logger,
    mailer,
    queue,
    deps,
    async addRecord(input = {}) {
      const [created] = await createRecord(db, {
        schoolId: 100,
        name: `Teachers ${++records_}`,
        table: "teachers",
        hour: 10,
        minute: 5,
        days: "MTWHFSU",
        path: "teachers.txt",
        fieldDelimiter: "tab",
        recordDelimiter: "LF",
        charset: "utf-8",
        fields: ["TeacherNumber", "First_Name", "Last_Name"],
        ...input,
      });
      const long = "2000-01-01T00:00:00.000Z";
      const [saved] = await db.update(records).set({ createdAt: long, updatedAt: long })
        .where(eq(records.id, created!.id)).returning();
      return saved!;
    },
    async write(name, content) {
      const path = `${config.importRoot}/${name}`;
      await Deno.writeTextFile(path, content);
      return path;
    },
    async run(runId) {
      const [row] = await db.select().from(runs).where(eq(runs.id, runId));
      if (!row) throw new Error(`no run ${runId}`);
      return row;
    },
    async runs() {
      return await db.select().from(runs).orderBy(runs.id);
    },
    async [Symbol.asyncDispose]() {
      await queue.close();
      mailer.close();
      database.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
