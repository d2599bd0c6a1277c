/** CLI commands that run records and read runs: run, runs, records (`import` is in import_command.ts). */
import { findRecordByName, getRecord, listRecords } from "../records/store.ts";
import {
  activeRunOf,
  approveRun,
  discardRun,
  listRuns,
  runChangeLog,
  RunInProgress,
  runRecord,
  RunStateError,
} from "../pipeline/service.ts";
import { rejectedRowsCsvLines } from "../pipeline/report.ts";
import { createLogger } from "../log.ts";
import { sendCompletionReport } from "../mail/completion.ts";
import { createMailer } from "../mail/mailer.ts";
import { maskPersonalChanges } from "../web/format.ts";
import { escapeControls } from "../util/text.ts";
import { intFlag, parse, UsageError } from "./args.ts";
import type { Command, CommandContext } from "./commands.ts";
import { printReport, type ProgressBar, progressBarFor } from "./import_command.ts";
import { getRun } from "../pipeline/launch.ts";
import { runProgressOf } from "../web/queries.ts";
import type { Db } from "../db/client.ts";
import type { Config } from "../config.ts";
import { cell, printError } from "./output.ts";
import { borrowExecutor, type SqlExecutor } from "../pipeline/executor.ts";

/** Run reports are read through the command's own libSQL connection. */
const reportReader = (context: CommandContext): SqlExecutor =>
  borrowExecutor(context.database.client);

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
  const bar = progressBarFor(context, { json: values.json ?? false });
  const watch = bar ? watchProgress(bar, { db, config: context.config, recordId }) : undefined;
  try {
    const runId = await runRecord({ db, config: context.config }, recordId, {
      trigger: "cli",
      preview: values.preview ?? false,
    }).finally(() => {
      watch?.[Symbol.dispose]();
      bar?.clear();
    });
    await mailReport(context, runId);
    return await printReport(reportReader(context), runId, values.json ?? false, context);
  } catch (error) {
    if (error instanceof RunInProgress) {
      printError(`${error.message}; wait for it to finish`);
      return 1;
    }
    throw error;
  }
};

/**
 * Draws `bar` from the progress of the record's active run (its import process writes
 * it to the run's row and the data folder, `lease.ts`), read every half second until
 * disposed.
 */
function watchProgress(
  bar: ProgressBar,
  options: { db: Db; config: Config; recordId: number },
): Disposable {
  let busy = false;
  let stopped = false;
  const timer = setInterval(async () => {
    if (busy || stopped) return;
    busy = true;
    try {
      const runId = await activeRunOf(options.db, options.recordId);
      const run = runId === undefined ? undefined : await getRun(options.db, runId);
      const progress = run ? await runProgressOf(run, options.config.dataDir) : null;
      if (progress && !stopped) bar.update(progress);
    } catch {
      // The database is busy: the next look tries again.
    } finally {
      busy = false;
    }
  }, 500);
  return {
    [Symbol.dispose]: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}

/** `runs list [--record N] [--limit N] [--json]`: the latest runs, newest first. */
async function listRunsCommand(
  context: CommandContext,
  values: { json?: boolean; record?: string; limit?: string },
): Promise<number> {
  const recordId = intFlag(values.record, "record");
  const list = await listRuns(context.database.db, {
    ...(recordId !== undefined ? { recordId } : {}),
    limit: intFlag(values.limit, "limit") ?? 50,
  });
  if (values.json) {
    context.data(JSON.stringify(list.map((r) => ({
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
          cell(r.fileName)
        }\tread ${r.read}, rejected ${r.rejected}`,
      );
    }
  }
  return 0;
}

/**
 * `runs show <runId> [--json|--csv]`: the run's report and (not in JSON) the first 20
 * entries of its change log, personal values masked; `--csv` prints its rejected rows.
 */
async function showRunCommand(
  context: CommandContext,
  runId: number,
  values: { json?: boolean; csv?: boolean },
): Promise<number> {
  const db = context.database.db;
  if (values.csv) {
    const lines = await rejectedRowsCsvLines(db, runId);
    // On a terminal the CSV is text for people; into a pipe or a file it stays raw.
    if (context.terminal) { for (const line of lines) context.out(escapeControls(line)); }
    else context.data(lines.map((line) => `${line}\r\n`).join(""));
    return 0;
  }
  const code = await printReport(
    reportReader(context),
    runId,
    values.json ?? false,
    context,
  );
  if (!values.json) {
    const changes = await runChangeLog(db, runId, { limit: 20 });
    for (const c of changes) {
      const masked = maskPersonalChanges(c.table, c.changes);
      context.out(`${c.action} ${c.key}${masked ? ` ${masked}` : ""}`);
    }
  }
  return code === 2 || code === 1 ? 0 : code;
}

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
      case "list":
        return await listRunsCommand(context, values);
      case "show":
        return await showRunCommand(context, id(), values);
      case "approve": {
        const approval = await approveRun(deps, id());
        await mailReport(context, approval);
        context.out(
          `Run ${positionals[0]} approved; the kept file was applied by run ${approval}.`,
        );
        return await printReport(
          reportReader(context),
          approval,
          values.json ?? false,
          context,
        );
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
      printError(error.message);
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
    context.data(JSON.stringify(list));
    return 0;
  }
  for (const r of list) {
    context.out(
      `${r.id}\t${r.schoolId}\t${cell(r.name)}\t${r.table}\t${String(r.hour).padStart(2, "0")}:${
        String(r.minute).padStart(2, "0")
      } ${r.days}${r.executionOff ? " (off)" : ""}`,
    );
  }
  return 0;
};

export const RUN_COMMANDS: Record<string, Command> = {
  run: runCommand,
  runs: runsCommand,
  records: recordsCommand,
};
