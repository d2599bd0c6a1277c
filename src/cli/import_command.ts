/**
 * `autocomm import`: a one-off import of a file. The command executes the run in
 * its own process, on the import connection (`node:sqlite` on the embedded file,
 * the only SQLite library this process loads; `@libsql/client` for a remote
 * server), so a one-off load pays for one process start and loads neither Drizzle
 * nor the web modules. The service and `autocomm run` start an import process
 * per run instead (`src/pipeline/launch.ts`), so that no apply blocks the process
 * that serves pages.
 */
import type { Config } from "../config.ts";
import { migrationsPending } from "../db/schema_version.ts";
import { filePathOf } from "../db/url.ts";
import { openExecutor, type SqlExecutor } from "../pipeline/executor.ts";
import { executeRunToEnd, ONE_OFF_RUN, runEnvironment, type RunSettings } from "../pipeline/run.ts";
import { stopOnSignals } from "../pipeline/signals.ts";
import { percentRead, type RunProgressState, STAGE_LABELS } from "../pipeline/run_state.ts";
import {
  insertRun,
  readExtensionTables,
  readRunReport,
  schoolAttendanceMethod,
} from "../pipeline/run_store.ts";
import {
  allowedModes,
  CHARSETS,
  checkFields,
  FIELD_DELIMITERS,
  RECORD_DELIMITERS,
} from "../records/validate.ts";
import { IMPORT_TABLES, type ImportTable } from "../sis/catalog.ts";
import { scriptArgs } from "../util/process.ts";
import { tableRules } from "../sis/tables/registry.ts";
import { intFlag, parse, UsageError } from "./args.ts";
import { consoleOutput, type Output } from "./output.ts";

/** What the import command works with: configuration, the import connection and output. */
export interface ImportContext extends Output {
  config: Config;
  exec: SqlExecutor;
}

const CLI = new URL("../cli.ts", import.meta.url);

/**
 * Brings the schema up to date in a process of its own (`autocomm db migrate`,
 * Drizzle's migrator over the libSQL client), so that this process keeps one
 * SQLite library on the file. Needed only on a new database or after an upgrade.
 */
async function migrateInOwnProcess(): Promise<void> {
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: scriptArgs(CLI, ["db", "migrate"]),
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).output();
  if (code !== 0) throw new Error(`Migrating the database failed (exit code ${code})`);
}

/** Opens the import connection on an up-to-date database. */
async function openMigrated(config: Config): Promise<SqlExecutor> {
  const path = filePathOf(config.databaseUrl);
  if (path !== undefined && !(await Deno.stat(path).then(() => true, () => false))) {
    await migrateInOwnProcess();
  }
  const exec = await openExecutor(config);
  if (!(await migrationsPending(exec))) return exec;
  exec.close();
  await migrateInOwnProcess();
  return await openExecutor(config);
}

/** Runs `autocomm import` with its arguments; returns the exit code. */
export async function runImportCommand(args: string[], config: Config): Promise<number> {
  const exec = await openMigrated(config);
  try {
    return await importCommand(args, { config, exec, ...consoleOutput() });
  } finally {
    exec.close();
  }
}

/** Exit code of a finished run: 0 done, 2 nothing applied by design, 1 otherwise. */
function exitCodeOf(status: string): number {
  if (status === "succeeded" || status === "succeeded_with_errors" || status === "preview") {
    return 0;
  }
  if (status === "rejected" || status === "empty" || status === "no_file" || status === "held") {
    return 2;
  }
  return 1;
}

function oneOf<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  flag: string,
  fallback: T,
): T {
  if (value === undefined) return fallback;
  const found = allowed.find((a) => a.toLowerCase() === value.toLowerCase());
  if (!found) throw new UsageError(`--${flag} is one of ${allowed.join(", ")}; got "${value}"`);
  return found;
}

/**
 * Prints a finished run's report (one JSON object with `json`, else lines for people
 * with control characters escaped); returns its exit code.
 */
export async function printReport(
  exec: SqlExecutor,
  runId: number,
  json: boolean,
  output: Pick<Output, "out" | "data">,
): Promise<number> {
  const report = await readRunReport(exec, runId);
  if (!report) throw new Error(`There is no run ${runId}`);
  const out = output.out;
  if (json) {
    output.data(JSON.stringify({
      runId: report.runId,
      status: report.status,
      message: report.message,
      counts: report.counts,
      errors: report.errors,
      notes: report.notes,
    }));
  } else {
    out(`Run ${report.runId}: ${report.status}${report.message ? ` — ${report.message}` : ""}`);
    const c = report.counts;
    out(
      `read ${c.read}, inserted ${c.inserted}, updated ${c.updated}, unchanged ${c.unchanged}, skipped ${c.skipped}, rejected ${c.rejected}, removed ${c.removed}, inactivated ${c.inactivated}, blank lines ${c.blankLines}, short rows ${c.shortRows}`,
    );
    for (const n of report.notes) out(`note: ${n.message}`);
    for (const e of report.errors.slice(0, 50)) {
      out(`line ${e.line}: ${e.field || "(row)"} ${e.code}: ${e.message}`);
    }
    if (report.errors.length > 50) {
      out(`… and ${report.errors.length - 50} more errors (runs show ${runId} --json)`);
    }
  }
  return exitCodeOf(report.status);
}

/**
 * `autocomm import … FILE`: queues a one-off run and executes it here, on the
 * import connection, then prints its report.
 */
export async function importCommand(args: string[], context: ImportContext): Promise<number> {
  const { values, positionals } = parse(args, {
    table: { type: "string" },
    fields: { type: "string" },
    "field-delimiter": { type: "string" },
    "record-delimiter": { type: "string" },
    charset: { type: "string" },
    school: { type: "string" },
    "attendance-mode": { type: "string" },
    "update-existing": { type: "boolean" },
    "ignore-blank-cells": { type: "boolean" },
    synchronize: { type: "boolean" },
    "removal-limit": { type: "string" },
    "inactivate-exited": { type: "boolean" },
    "expect-record-count": { type: "boolean" },
    preview: { type: "boolean" },
    json: { type: "boolean" },
  });
  const json = values.json ?? false;
  const file = positionals[0];
  if (!file) throw new UsageError("Name the file to import");
  if (!values.table) throw new UsageError("--table is required");
  const table = oneOf(values.table, IMPORT_TABLES, "table", "students") as ImportTable;
  const school = intFlag(values.school, "school");
  if (school === undefined) {
    throw new UsageError("--school is required (0 for the District Office)");
  }
  if (!values.fields) {
    throw new UsageError("--fields is required: the field of each column, comma-separated");
  }
  const mode = values["attendance-mode"] === undefined
    ? null
    : oneOf(values["attendance-mode"], ["daily", "meeting"] as const, "attendance-mode", "daily");
  const { exec, config } = context;
  const attendanceMethod = await schoolAttendanceMethod(exec, school);
  if (attendanceMethod === undefined) {
    throw new UsageError(`There is no school ${school}; load the school setup first`);
  }
  const hasModes = tableRules(table).hasModes;
  if (hasModes) {
    const allowed = allowedModes(attendanceMethod as Parameters<typeof allowedModes>[0]);
    if (!allowed.includes(mode ?? "daily")) {
      throw new UsageError(
        `School ${school} records attendance by ${
          allowed.join(" and ")
        } only; use --attendance-mode ${allowed[0]}`,
      );
    }
  }
  const checked = checkFields(values.fields.split(","), table, {
    ...(mode ? { mode } : {}),
    extensions: await readExtensionTables(exec),
  });
  if (checked.problems.length > 0) throw new UsageError(`--fields: ${checked.problems.join("; ")}`);
  const removalLimit = intFlag(values["removal-limit"], "removal-limit") ?? 10;
  if (removalLimit < 0 || removalLimit > 100) {
    throw new UsageError("--removal-limit is a percentage from 0 to 100");
  }
  const settings: RunSettings = {
    table,
    attendanceMode: hasModes ? (mode ?? "daily") : null,
    schoolId: school,
    fields: checked.fields,
    fieldDelimiter: oneOf(values["field-delimiter"], FIELD_DELIMITERS, "field-delimiter", "tab"),
    recordDelimiter: oneOf(
      values["record-delimiter"],
      RECORD_DELIMITERS,
      "record-delimiter",
      "CRLF",
    ),
    charset: oneOf(values.charset, CHARSETS, "charset", "windows-1252"),
    updateExisting: values["update-existing"] ?? false,
    ignoreBlankCells: values["ignore-blank-cells"] ?? false,
    synchronize: values.synchronize ?? false,
    removalLimitPercent: removalLimit,
    inactivateExited: values["inactivate-exited"] ?? false,
    expectRecordCount: values["expect-record-count"] ?? false,
    ...ONE_OFF_RUN,
    file: await Deno.realPath(file).catch(() => file),
  };
  const runId = await insertRun(exec, settings, {
    trigger: "cli",
    preview: values.preview ?? false,
  });
  // Ctrl-C stops the run at its next safe point: rolled back, marked interrupted.
  using stop = stopOnSignals();
  using bar = progressBarFor(context, { json });
  const end = await executeRunToEnd(exec, runId, {
    ...runEnvironment(config),
    signal: stop.signal,
    ...(bar ? { onStage: (p: RunProgressState) => bar.update(p) } : {}),
  });
  bar?.clear();
  if (end.event === "skipped") throw new Error(end.message);
  return await printReport(exec, runId, json, context);
}

/** Megabytes with one decimal. */
const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;

/**
 * The progress bar of a run on a terminal: one line, redrawn in place (carriage
 * return), with the stage, the share of the file read, rows and bytes read and the
 * rate. It is cleared before the report is printed.
 */
export class ProgressBar implements Disposable {
  readonly #write: (text: string) => void;
  readonly #started = Date.now();
  #shown = false;

  constructor(write: (text: string) => void) {
    this.#write = write;
  }

  /** The line for `progress`, `seconds` after the run started. */
  static line(
    progress: Pick<RunProgressState, "stage" | "rowsRead" | "bytesRead" | "fileSize">,
    seconds: number,
  ): string {
    const percent = progress.stage === "reading" || progress.stage === "fetching"
      ? percentRead(progress)
      : 100;
    const filled = percent === null ? 0 : Math.round(percent / 5);
    const bar = percent === null
      ? ""
      : ` [${"#".repeat(filled)}${".".repeat(20 - filled)}] ${String(percent).padStart(3)} %`;
    const size = progress.fileSize === null ? "" : ` of ${mb(progress.fileSize)}`;
    const rate = seconds > 0 ? Math.round(progress.rowsRead / seconds) : 0;
    return `${STAGE_LABELS[progress.stage]}${bar}  ${
      progress.rowsRead.toLocaleString("en-US")
    } rows  ${mb(progress.bytesRead)}${size}  ${rate.toLocaleString("en-US")} rows/s`;
  }

  /** Redraws the line. */
  update(progress: Pick<RunProgressState, "stage" | "rowsRead" | "bytesRead" | "fileSize">) {
    const line = ProgressBar.line(progress, (Date.now() - this.#started) / 1000);
    this.#write(`\r\x1b[2K${line}`);
    this.#shown = true;
  }

  /** Removes the line, if one was drawn. */
  clear(): void {
    if (this.#shown) this.#write("\r\x1b[2K");
    this.#shown = false;
  }

  [Symbol.dispose](): void {
    this.clear();
  }
}

const encoder = new TextEncoder();

/**
 * A progress bar on standard output when it is a terminal and `json` is not asked
 * for; otherwise none (nothing extra in a pipe, a file or JSON output).
 */
export function progressBarFor(
  output: Pick<Output, "terminal">,
  options: { json: boolean },
): ProgressBar | undefined {
  if (!output.terminal || options.json) return undefined;
  return new ProgressBar((text) => {
    try {
      Deno.stdout.writeSync(encoder.encode(text));
    } catch {
      // The terminal went away: the report will fail to print as well.
    }
  });
}
