/** CLI commands that run imports and read runs: import, run, runs, records. */
import { findRecordByName, getRecord, listRecords } from "../records/store.ts";
import {
  allowedModes,
  CHARSETS,
  checkFields,
  FIELD_DELIMITERS,
  RECORD_DELIMITERS,
} from "../records/validate.ts";
import type { RunSettings } from "../pipeline/run.ts";
import {
  approveRun,
  discardRun,
  importFile,
  listRuns,
  runChangeLog,
  RunInProgress,
  runRecord,
  runReport,
  RunStateError,
} from "../pipeline/service.ts";
import { rejectedRowsCsv } from "../pipeline/report.ts";
import { IMPORT_TABLES, type ImportTable } from "../sis/catalog.ts";
import { readSetup } from "../sis/setup.ts";
import { createLogger } from "../log.ts";
import { sendCompletionReport } from "../mail/completion.ts";
import { createMailer } from "../mail/mailer.ts";
import { intFlag, parse, UsageError } from "./args.ts";
import type { Command, CommandContext } from "./commands.ts";

/** Mails a finished run's completion report (when its record has E-Mail completion report to). */
async function mailReport({ database, config }: CommandContext, runId: number): Promise<void> {
  const logger = createLogger(config.logLevel);
  const mailer = createMailer(config, { logger });
  try {
    await sendCompletionReport({ db: database.db, config, logger, mailer }, runId);
  } finally {
    mailer.close();
  }
}

/** Exit code of a finished run: 0 done, 2 nothing applied by design, 1 otherwise. */
export function exitCodeOf(status: string): number {
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

async function printReport(
  runId: number,
  json: boolean,
  { database, out }: CommandContext,
): Promise<number> {
  const report = await runReport(database.db, runId);
  if (json) {
    out(JSON.stringify({
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

const importCommand: Command = async (args, context) => {
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
  const setup = await readSetup(context.database.db);
  const schoolSetup = setup.schools.find((s) => s.schoolNumber === school);
  if (!schoolSetup) {
    throw new UsageError(`There is no school ${school}; load the school setup first`);
  }
  if (table === "attendance") {
    const allowed = allowedModes(schoolSetup.attendanceMethod);
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
    extensions: setup.extensions,
  });
  if (checked.problems.length > 0) throw new UsageError(`--fields: ${checked.problems.join("; ")}`);
  const removalLimit = intFlag(values["removal-limit"], "removal-limit") ?? 10;
  if (removalLimit < 0 || removalLimit > 100) {
    throw new UsageError("--removal-limit is a percentage from 0 to 100");
  }
  const settings: RunSettings = {
    table,
    attendanceMode: table === "attendance" ? (mode ?? "daily") : null,
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
    path: null,
    file: await Deno.realPath(file).catch(() => file),
    minFileAgeSeconds: 0,
    recordName: null,
    emailTo: "",
  };
  const runId = await importFile(
    { db: context.database.db, config: context.config },
    settings,
    { preview: values.preview ?? false },
  );
  return await printReport(runId, values.json ?? false, context);
};

const runCommand: Command = async (args, context) => {
  const { values, positionals } = parse(args, {
    school: { type: "string" },
    preview: { type: "boolean" },
    json: { type: "boolean" },
  });
  const db = context.database.db;
  let recordId: number | undefined;
  const school = intFlag(values.school, "school");
  if (school !== undefined) {
    const name = positionals.join(" ");
    const record = await findRecordByName(db, school, name);
    if (!record) throw new UsageError(`School ${school} has no record named "${name}"`);
    recordId = record.id;
  } else {
    recordId = intFlag(positionals[0], "recordId");
    if (recordId === undefined || !(await getRecord(db, recordId))) {
      throw new UsageError("Use: run <recordId> | run --school N <name>");
    }
  }
  try {
    const runId = await runRecord({ db, config: context.config }, recordId, {
      trigger: "cli",
      preview: values.preview ?? false,
    });
    await mailReport(context, runId);
    return await printReport(runId, values.json ?? false, context);
  } catch (error) {
    if (error instanceof RunInProgress) {
      console.error(`${error.message}; wait for it to finish`);
      return 1;
    }
    throw error;
  }
};

const runsCommand: Command = async (args, context) => {
  const [sub, ...rest] = args;
  const db = context.database.db;
  const deps = { db, config: context.config };
  const { values, positionals } = parse(rest, {
    json: { type: "boolean" },
    record: { type: "string" },
    limit: { type: "string" },
    csv: { type: "boolean" },
  });
  const id = () => {
    const n = intFlag(positionals[0], "runId");
    if (n === undefined) throw new UsageError(`Use: runs ${sub} <runId>`);
    return n;
  };
  try {
    switch (sub) {
      case "list": {
        const recordId = intFlag(values.record, "record");
        const list = await listRuns(db, {
          ...(recordId !== undefined ? { recordId } : {}),
          limit: intFlag(values.limit, "limit") ?? 50,
        });
        if (values.json) {
          context.out(JSON.stringify(list.map((r) => ({
            runId: r.id,
            recordId: r.recordId,
            trigger: r.trigger,
            status: r.status,
            queuedAt: r.queuedAt,
            endedAt: r.endedAt,
            file: r.fileName,
            read: r.read,
            rejected: r.rejected,
          }))));
        } else {
          for (const r of list) {
            context.out(
              `${r.id}\t${r.status}\t${r.trigger}\t${r.endedAt ?? r.queuedAt}\t${
                r.fileName ?? ""
              }\tread ${r.read}, rejected ${r.rejected}`,
            );
          }
        }
        return 0;
      }
      case "show": {
        const runId = id();
        if (values.csv) {
          context.out(await rejectedRowsCsv(db, runId));
          return 0;
        }
        const code = await printReport(runId, values.json ?? false, context);
        if (!values.json) {
          const changes = await runChangeLog(db, runId, { limit: 20 });
          for (const c of changes) {
            context.out(`${c.action} ${c.key}${c.changes ? ` ${c.changes}` : ""}`);
          }
        }
        return code === 2 || code === 1 ? 0 : code;
      }
      case "approve": {
        const approval = await approveRun(deps, id());
        await mailReport(context, approval);
        context.out(
          `Run ${positionals[0]} approved; the kept file was applied by run ${approval}.`,
        );
        return await printReport(approval, values.json ?? false, context);
      }
      case "discard": {
        await discardRun(deps, id());
        context.out(`Run ${positionals[0]} discarded; its kept file was deleted.`);
        return 0;
      }
      default:
        throw new UsageError(
          "Use: runs list [--record N] | runs show <runId> [--json|--csv] | runs approve <runId> | runs discard <runId>",
        );
    }
  } catch (error) {
    if (error instanceof RunStateError) {
      console.error(error.message);
      return 1;
    }
    throw error;
  }
};

const recordsCommand: Command = async (args, context) => {
  const { values } = parse(args[0] === "list" ? args.slice(1) : args, {
    school: { type: "string" },
    json: { type: "boolean" },
  });
  const school = intFlag(values.school, "school");
  const list = await listRecords(context.database.db, school);
  if (values.json) {
    context.out(JSON.stringify(list));
    return 0;
  }
  for (const r of list) {
    context.out(
      `${r.id}\t${r.schoolId}\t${r.name}\t${r.table}\t${String(r.hour).padStart(2, "0")}:${
        String(r.minute).padStart(2, "0")
      } ${r.days}${r.executionOff ? " (off)" : ""}`,
    );
  }
  return 0;
};

export const RUN_COMMANDS: Record<string, Command> = {
  import: importCommand,
  run: runCommand,
  runs: runsCommand,
  records: recordsCommand,
};
