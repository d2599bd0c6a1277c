/** The CLI commands. Each takes its arguments and a context, and returns an exit code. */
import type { Config } from "../config.ts";
import type { Database } from "../db/client.ts";
import { catalogFor, type ImportTable } from "../sis/catalog.ts";
import { isImportTable, readSisTable } from "../sis/readout.ts";
import { ensureDistrictOffice, loadSetup, readSetup, SetupError } from "../sis/setup.ts";
import { intFlag, parse, UsageError } from "./args.ts";
import { adminLink } from "./admin_link.ts";
import { seedDemo } from "./demo.ts";
import { cell, type Output, printError } from "./output.ts";
import { RUN_COMMANDS } from "./run_commands.ts";
import { connectionsCommand, secretsCommand } from "./connection_commands.ts";
import { pluginCommand } from "./plugin_command.ts";

export { USAGE } from "./usage.ts";

/** What every command gets: configuration, database and output (`out` for people, `data` for JSON/CSV). */
export interface CommandContext extends Output {
  config: Config;
  database: Database;
}

export type Command = (args: string[], context: CommandContext) => Promise<number>;

function table(name: string | undefined): ImportTable {
  if (name === undefined) throw new UsageError("Name the table");
  const t = name.toLowerCase();
  if (!isImportTable(t)) {
    throw new UsageError(
      `Unknown table "${name}": use students, teachers, courses, sections, schedules or attendance`,
    );
  }
  return t;
}

const db: Command = async (args, { database, out }) => {
  if (args[0] !== "migrate") throw new UsageError("Use: db migrate");
  // main() has already migrated; this also makes sure the District Office exists.
  await ensureDistrictOffice(database.db);
  out("Database is up to date.");
  return 0;
};

const setup: Command = async (args, { database, out, data }) => {
  const [sub, ...rest] = args;
  if (sub === "load") {
    const { positionals } = parse(rest, {});
    const file = positionals[0];
    if (!file) throw new UsageError("Use: setup load FILE");
    let json: unknown;
    try {
      json = JSON.parse(await Deno.readTextFile(file));
    } catch (error) {
      printError(
        `Cannot load setup from ${file}: ${error instanceof Error ? error.message : error}`,
      );
      return 1;
    }
    try {
      const loaded = await loadSetup(database.db, json);
      out(
        `Loaded ${loaded.schools.length} school(s) and ${loaded.extensions.length} extension table(s) from ${file}.`,
      );
      return 0;
    } catch (error) {
      if (error instanceof SetupError) {
        printError(`Cannot load setup from ${file}: ${error.message}. Nothing was changed.`);
        return 1;
      }
      throw error;
    }
  }
  if (sub === "show") {
    const { values } = parse(rest, { json: { type: "boolean" } });
    const current = await readSetup(database.db);
    if (values.json) {
      data(JSON.stringify(current, null, 2));
      return 0;
    }
    for (const s of current.schools) {
      out(`${s.schoolNumber}\t${cell(s.name)}\tattendance: ${s.attendanceMethod}`);
      out(
        `  terms:   ${
          s.terms.map((t) => `${t.id} ${t.abbreviation} ${t.firstDay}..${t.lastDay}`).join("; ") ||
          "none"
        }`,
      );
      out(`  periods: ${s.periods.map((p) => p.abbreviation).join(" ") || "none"}`);
      out(`  days:    ${s.days.map((d) => d.abbreviation).join(" ") || "none"}`);
      out(`  codes:   ${s.attendanceCodes.map((c) => `${c.id}=${c.code}`).join(" ") || "none"}`);
    }
    for (const e of current.extensions) {
      out(`extension ${e.name} on ${e.table}: ${e.fields.map((f) => f.name).join(", ")}`);
    }
    return 0;
  }
  throw new UsageError("Use: setup load FILE | setup show [--json]");
};

const fields: Command = async (args, { database, out, data }) => {
  const { values, positionals } = parse(args, {
    json: { type: "boolean" },
    mode: { type: "string" },
  });
  const t = table(positionals[0]);
  const mode = values.mode ?? "daily";
  if (mode !== "daily" && mode !== "meeting") throw new UsageError("--mode is daily or meeting");
  const current = await readSetup(database.db);
  const catalog = catalogFor(t, { mode, extensions: current.extensions });
  if (values.json) {
    data(JSON.stringify(catalog, null, 2));
    return 0;
  }
  out(`${catalog.label}: ${catalog.rowDescription}. Match key: ${catalog.key.join(" + ")}`);
  for (const f of catalog.fields) {
    const type = f.type + (f.maxLength ? `(${f.maxLength})` : "") +
      (f.codes ? `[${f.codes.join(",")}]` : "");
    const flags = [
      f.key ? "key" : "",
      f.requiredToCreate ? "required" : "",
      f.personal ? "personal" : "",
    ]
      .filter((s) => s !== "").join(",");
    out(`${f.name.padEnd(38)} ${type.padEnd(16)} ${flags.padEnd(22)} ${f.description}`);
  }
  return 0;
};

const sis: Command = async (args, { database, out, data }) => {
  const { values, positionals } = parse(args, {
    json: { type: "boolean" },
    school: { type: "string" },
    limit: { type: "string" },
    offset: { type: "string" },
  });
  const t = table(positionals[0]);
  const school = intFlag(values.school, "school");
  const limit = intFlag(values.limit, "limit");
  const offset = intFlag(values.offset, "offset");
  const page = await readSisTable(database.client, t, {
    ...(school !== undefined ? { school } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(offset !== undefined ? { offset } : {}),
  });
  if (values.json) {
    data(JSON.stringify(page.rows, null, 2));
    return 0;
  }
  const columns = page.rows.length > 0 ? Object.keys(page.rows[0]!) : [];
  out(columns.join("\t"));
  for (const row of page.rows) out(columns.map((c) => cell(row[c])).join("\t"));
  out(`(${page.rows.length} of ${page.total} rows)`);
  return 0;
};

const seed: Command = async (_args, { database, config, out }) => {
  const result = await seedDemo(database.db, config.importRoot);
  out(`Loaded the demo district (schools 100 Lincoln Elementary and 200 Washington High).`);
  out(`Wrote ${result.files.length} example files under ${config.importRoot}/demo.`);
  out(
    result.recordsCreated.length > 0
      ? `Created AutoComm records: ${result.recordsCreated.join(", ")}.`
      : "The demo AutoComm records already exist.",
  );
  return 0;
};

export const COMMANDS: Record<string, Command> = {
  ...RUN_COMMANDS,
  db,
  setup,
  fields,
  sis,
  "seed-demo": seed,
  "admin-link": adminLink,
  connections: connectionsCommand,
  secrets: secretsCommand,
  plugin: pluginCommand,
};
