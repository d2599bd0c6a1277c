/** Executing a run in the test's own process, on the import connection. */
import { loadConfig } from "../../src/config.ts";
import { borrowExecutor, openExecutor } from "../../src/pipeline/executor.ts";
import {
  executeRunToEnd,
  type RunEnvironment,
  runEnvironment,
  type RunSettings,
} from "../../src/pipeline/run.ts";
import { insertRun } from "../../src/pipeline/run_store.ts";
import { openDatabase } from "../../src/db/client.ts";
import { createRecord } from "../../src/records/store.ts";
import { migrateDatabase } from "../../src/db/migrate.ts";
import { ensureDistrictOffice, loadSetup } from "../../src/sis/setup.ts";
import { setupJson } from "../../bench/generate.ts";
import { type Sandbox, TEACHER_FIELDS } from "./sandbox.ts";

/**
 * Queues a run with the library the sandbox reads with (libSQL): a second SQLite
 * library on the same file in this process would see its locks dropped, and a reader
 * could keep a stale view of what another process commits.
 */
export async function queue(sb: Sandbox, settings: RunSettings): Promise<number> {
  const client = sb.client();
  try {
    return await insertRun(borrowExecutor(client), settings, { trigger: "cli" });
  } finally {
    client.close();
  }
}

/**
 * Queues and executes a run in this process (node:sqlite is then the only library with
 * the file open); `hooks` get the controller whose abort asks the run to stop.
 */
export async function executeHere(
  sb: Sandbox,
  settings: RunSettings,
  hooks: (controller: AbortController) => Pick<RunEnvironment, "onProgress" | "now">,
) {
  const runId = await queue(sb, settings);
  const config = loadConfig({ env: sb.env });
  const exec = await openExecutor(config);
  try {
    const controller = new AbortController();
    const end = await executeRunToEnd(exec, runId, {
      ...runEnvironment(config),
      ...hooks(controller),
      signal: controller.signal,
    });
    return { runId, end };
  } finally {
    exec.close();
  }
}

/**
 * Stores a teachers record of school 100 reading `teachers.txt` (tab, LF, UTF-8), with
 * `input` over those settings, straight in the sandbox's database; returns its id.
 */
export async function addTeacherRecord(
  sb: Sandbox,
  input: Record<string, unknown> = {},
): Promise<number> {
  const database = await openDatabase(loadConfig({ env: sb.env }));
  try {
    const [record] = await createRecord(database.db, {
      schoolId: 100,
      name: "Teachers",
      table: "teachers",
      path: "teachers.txt",
      fieldDelimiter: "tab",
      recordDelimiter: "LF",
      charset: "utf-8",
      fields: TEACHER_FIELDS,
      ...input,
    });
    return record!.id;
  } finally {
    database.close();
  }
}

/**
 * A service's configuration and database in inline mode on the libSQL server at
 * `databaseUrl` (its data folder under `dir`), migrated, with the bench's district loaded.
 */
export async function inlineDistrict(databaseUrl: string, dir: string) {
  const config = loadConfig({
    env: {
      DATABASE_URL: databaseUrl,
      AUTOCOMM_DATA_DIR: `${dir}/data`,
      AUTOCOMM_IMPORT_MODE: "inline",
      AUTOCOMM_LOG_LEVEL: "error",
    },
  });
  const database = await openDatabase(config);
  await migrateDatabase(database);
  await ensureDistrictOffice(database.db);
  await loadSetup(database.db, setupJson());
  return { config, database };
}
