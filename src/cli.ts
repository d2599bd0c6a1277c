/**
 * The command line: `deno task autocomm <command> …`. Run with no arguments for
 * the list of commands. Commands are loaded when named: `import` runs on the
 * import connection alone (see `src/cli/import_command.ts`); every other command
 * opens the Drizzle database and migrates it first.
 */
import { ConfigError, loadConfig } from "./config.ts";
import { UsageError } from "./cli/args.ts";
import { USAGE } from "./cli/usage.ts";

async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    console.log(USAGE);
    return name === undefined ? 64 : 0;
  }
  if (name === "import") {
    const config = loadConfig();
    const { runImportCommand } = await import("./cli/import_command.ts");
    return await runImportCommand(rest, config);
  }
  const { COMMANDS } = await import("./cli/commands.ts");
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    console.error(`Unknown command "${name}".\n\n${USAGE}`);
    return 64;
  }
  const config = loadConfig();
  const [{ openDatabase }, { migrateDatabase }] = await Promise.all([
    import("./db/client.ts"),
    import("./db/migrate.ts"),
  ]);
  const database = await openDatabase(config);
  try {
    await migrateDatabase(database);
    return await command(rest, { config, database, out: (s) => console.log(s) });
  } finally {
    database.close();
  }
}

try {
  Deno.exit(await main(Deno.args));
} catch (error) {
  if (error instanceof UsageError) {
    console.error(`${error.message}\n\n${USAGE}`);
    Deno.exit(64);
  }
  if (error instanceof ConfigError) {
    console.error(`AutoComm cannot start: ${error.message}`);
    Deno.exit(78);
  }
  console.error(error instanceof Error ? error.message : String(error));
  Deno.exit(1);
}
