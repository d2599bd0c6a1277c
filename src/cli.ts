/**
 * The command line: `deno task autocomm <command> …`. Run with no arguments for
 * the list of commands. Commands are loaded when named: `import` runs on the
 * import connection alone (see `src/cli/import_command.ts`); every other command
 * opens the Drizzle database and migrates it first.
 */
import { ConfigError, loadConfig } from "./config.ts";
import { UsageError } from "./cli/args.ts";
import { consoleOutput, printError } from "./cli/output.ts";
import { USAGE } from "./cli/usage.ts";
import { errorText } from "./log.ts";

/**
 * Loads a module of the command line when a command needs it. The specifier is made
 * at run time on purpose: Deno loads the target of every `import("…")` written as a
 * literal, and all it imports, when the program starts — Drizzle, Hono and the web
 * modules for every command, ~15 ms of `autocomm import`'s start-up.
 */
function load<T>(path: string): Promise<T> {
  return import(new URL(path, import.meta.url).href) as Promise<T>;
}

async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    console.log(USAGE);
    return name === undefined ? 64 : 0;
  }
  if (name === "import") {
    const config = loadConfig();
    const { runImportCommand } = await load<typeof import("./cli/import_command.ts")>(
      "./cli/import_command.ts",
    );
    return await runImportCommand(rest, config);
  }
  const { COMMANDS } = await load<typeof import("./cli/commands.ts")>("./cli/commands.ts");
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    printError(`Unknown command "${name}".`);
    console.error(`\n${USAGE}`);
    return 64;
  }
  const config = loadConfig();
  const [{ filePathOf, openDatabase }, { migrateDatabase }, { startupStep }] = await Promise.all([
    load<typeof import("./db/client.ts")>("./db/client.ts"),
    load<typeof import("./db/migrate.ts")>("./db/migrate.ts"),
    load<typeof import("./db/startup.ts")>("./db/startup.ts"),
  ]);
  const database = await startupStep(
    `open the database ${filePathOf(config.databaseUrl) ?? config.databaseUrl}`,
    async () => {
      const opened = await openDatabase(config);
      try {
        await migrateDatabase(opened);
      } catch (error) {
        opened.close();
        throw error;
      }
      return opened;
    },
  );
  try {
    return await command(rest, { config, database, ...consoleOutput() });
  } finally {
    database.close();
  }
}

try {
  Deno.exit(await main(Deno.args));
} catch (error) {
  if (error instanceof UsageError) {
    printError(error.message);
    console.error(`\n${USAGE}`);
    Deno.exit(64);
  }
  if (error instanceof ConfigError) {
    printError(`AutoComm cannot start: ${error.message}`);
    Deno.exit(78);
  }
  const { StartupError, environmentCause } = await load<typeof import("./db/startup.ts")>(
    "./db/startup.ts",
  );
  if (error instanceof StartupError) {
    printError(`AutoComm cannot start: ${error.message}`);
    Deno.exit(error.exitCode);
  }
  // A command that fails on a broken environment says so in a sentence; any other error
  // shows its message, never a failed query's parameters (they can be personal values).
  const known = environmentCause(error);
  if (known) {
    printError(`The command could not finish: ${known.cause} (${errorText(error)})`);
    Deno.exit(known.exitCode);
  }
  printError(errorText(error));
  Deno.exit(1);
}
