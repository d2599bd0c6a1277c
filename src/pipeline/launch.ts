/**
 * The service side of a run: queue it (a run row with the settings snapshot),
 * start the import process, and wait for it. Used by the CLI, the pages, the API
 * and the scheduler alike.
 */
import { eq, sql } from "drizzle-orm";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import { runs } from "../db/schema/autocomm.ts";
import { insertRunStatement, type QueueRunOptions, type Trigger } from "./run_store.ts";
import type { StoredRecord } from "../records/store.ts";
import { streamLines } from "../util/lines.ts";
import { killAfter, scriptArgs } from "../util/process.ts";
import type { RunSettings } from "./run.ts";

export type { QueueRunOptions, Trigger };

/**
 * The settings of a run of a record: a stored one, or one a form holds and that is
 * not saved (a preview's).
 */
export function recordSettings(
  record: Omit<StoredRecord, "id" | "createdAt" | "updatedAt">,
  config: Pick<Config, "minFileAgeSeconds">,
): RunSettings {
  return {
    table: record.table as RunSettings["table"],
    attendanceMode: record.attendanceMode as RunSettings["attendanceMode"],
    schoolId: record.schoolId,
    fields: record.fields,
    fieldDelimiter: record.fieldDelimiter as RunSettings["fieldDelimiter"],
    recordDelimiter: record.recordDelimiter as RunSettings["recordDelimiter"],
    charset: record.charset as RunSettings["charset"],
    updateExisting: record.updateExisting,
    ignoreBlankCells: record.ignoreBlankCells,
    synchronize: record.synchronize,
    removalLimitPercent: record.removalLimitPercent,
    inactivateExited: record.inactivateExited,
    expectRecordCount: record.expectRecordCount,
    source: record.source === "managed" ? "managed" : "local",
    connectionId: record.connectionId,
    path: record.path,
    file: null,
    minFileAgeSeconds: record.minFileAgeSeconds ?? config.minFileAgeSeconds,
    recordName: record.name,
    emailTo: record.emailTo,
  };
}

/** Creates the run row (status queued) and returns its id; `db` may be a transaction. */
export async function queueRun(
  db: Db,
  settings: RunSettings,
  options: QueueRunOptions,
): Promise<number> {
  const statement = insertRunStatement(settings, options);
  const parts = statement.sql.split("?");
  const query = sql.join(
    parts.flatMap((part, i) =>
      i < statement.args.length ? [sql.raw(part), sql`${statement.args[i]}`] : [sql.raw(part)]
    ),
  );
  const [row] = await db.all<{ id: number }>(query);
  return Number(row!.id);
}

/**
 * The variables an import process needs to reach the same database and files. Not the
 * run timeout: the process that starts an import process kills it at that time.
 */
export function childEnv(config: Config): Record<string, string> {
  const env: Record<string, string> = {
    DATABASE_URL: config.databaseUrl,
    AUTOCOMM_DATA_DIR: config.dataDir,
    AUTOCOMM_IMPORT_ROOT: config.importRoot,
    AUTOCOMM_TIMEZONE: config.timeZone,
    AUTOCOMM_BUSY_TIMEOUT_MS: String(config.busyTimeoutMs),
    AUTOCOMM_RUN_LEASE_SECONDS: String(config.runLeaseSeconds),
    AUTOCOMM_IMPORT_PROCESS_MAX_MB: String(config.importProcessMaxMb),
    AUTOCOMM_STAGING_THREAD_MIN_BYTES: String(config.stagingThreadMinBytes),
    AUTOCOMM_MIN_FILE_AGE_SECONDS: String(config.minFileAgeSeconds),
    AUTOCOMM_LOG_LEVEL: config.logLevel,
  };
  if (config.databaseAuthToken) env["DATABASE_AUTH_TOKEN"] = config.databaseAuthToken;
  const base64 = (key: Uint8Array) => btoa(String.fromCharCode(...key));
  if (config.secretKey) env["AUTOCOMM_SECRET_KEY"] = base64(config.secretKey);
  if (config.secretKeyPrevious) {
    env["AUTOCOMM_SECRET_KEY_PREVIOUS"] = base64(config.secretKeyPrevious);
  }
  return env;
}

const CHILD = new URL("./child.ts", import.meta.url);

/**
 * Starts the import process (`child.ts`) with `args`: a run id, or `--serve` for the
 * warm process of `worker.ts`, whose standard input is then the run ids. Its standard
 * input is a pipe from this process either way: when this process is gone, the pipe
 * ends and the import stops before it commits.
 */
export function spawnImportProcess(config: Config, args: readonly string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: scriptArgs(CHILD, args),
    env: childEnv(config),
    stdout: "piped",
    stderr: "inherit",
    stdin: "piped",
  }).spawn();
}

/** The JSON event lines of an import process's output (other lines are skipped). */
export async function* eventLines(
  stdout: ReadableStream<Uint8Array>,
): AsyncGenerator<Record<string, unknown>> {
  for await (const line of streamLines(stdout)) {
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch {
      continue; // not an event line
    }
    if (event !== null && typeof event === "object") yield event as Record<string, unknown>;
  }
}

/** Options of {@linkcode runImportProcess}. */
export interface RunProcessOptions {
  onProgress?: (event: Record<string, unknown>) => void;
  /** Called with each `stage` event: the run's stage, rows and bytes read, file size. */
  onStage?: (event: Record<string, unknown>) => void;
  /** Kill the import after this many seconds (default: the run timeout). */
  timeoutSeconds?: number;
}

/**
 * What {@linkcode runImportProcess} and `ImportWorker.run` answer when they killed the
 * import process at the run timeout (as `timeout(1)` exits).
 */
export const KILLED_AT_TIMEOUT = 124;

/**
 * Starts an import process for one queued run and waits for it to exit; answers its
 * exit code, or {@linkcode KILLED_AT_TIMEOUT}.
 */
export async function runImportProcess(
  config: Config,
  runId: number,
  options: RunProcessOptions = {},
): Promise<number> {
  const child = spawnImportProcess(config, [String(runId)]);
  try {
    using killer = killAfter(child, (options.timeoutSeconds ?? config.runTimeoutSeconds) * 1000);
    for await (const event of eventLines(child.stdout)) {
      if (event["event"] === "progress") options.onProgress?.(event);
      else if (event["event"] === "stage") options.onStage?.(event);
    }
    const status = await child.status;
    return killer.fired ? KILLED_AT_TIMEOUT : status.code;
  } finally {
    await child.stdin.close().catch(() => {});
  }
}

/** A finished run row. */
export async function getRun(db: Db, runId: number) {
  const [row] = await db.select().from(runs).where(eq(runs.id, runId));
  return row;
}
