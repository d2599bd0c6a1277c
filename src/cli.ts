/**
 * The command line: `deno task autocomm <command> …`. Run with no arguments for
 * the list of commands.
 */
import { ConfigError, loadConfig } from "./config.ts";
import { openDatabase } from "./db/client.ts";
import { migrateDatabase } from "./db/migrate.ts";
import { UsageError } from "./cli/args.ts";
import { type CommandContext, COMMANDS, USAGE } from "./cli/commands.ts";

async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    console.log(USAGE);
    return name === undefined ? 64 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`Unknown command "${name}".\n\n${USAGE}`);
    return 64;
  }
  const config = loadConfig();
  const database = await openDatabase(config);
  try {
    await migrateDatabase(database);
    const context: CommandContext = { config, database, out: (s) => console.log(s) };
    return await command(rest, context);
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
