/**
 * Command-line parsing shared by the CLI commands: `--name value`, `--name=value`,
 * boolean `--name`, positionals, and `--` before positionals that start with a
 * dash. Its own few lines rather than `node:util`'s `parseArgs`, whose module took
 * ~4 ms of every command's start-up (no `@std/cli` here: only npm is reachable).
 */

/** A usage problem: printed with the usage text, exit code 64. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The options a command takes, by long name. */
export type OptionSpec = Record<string, { type: "string" | "boolean" }>;

/** Parsed values: a string or boolean for each option given. */
export type ParsedValues<T extends OptionSpec> = {
  [K in keyof T]?: T[K]["type"] extends "boolean" ? boolean : string;
};

/** Parses `args` against `options`; an unknown or malformed flag is a {@linkcode UsageError}. */
export function parse<T extends OptionSpec>(
  args: readonly string[],
  options: T,
): { values: ParsedValues<T>; positionals: string[] } {
  const values: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--") || arg.length === 2) {
      if (arg.startsWith("-") && arg.length > 1) {
        throw new UsageError(`Unknown option '${arg}'`);
      }
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = Object.hasOwn(options, name) ? options[name] : undefined;
    if (!spec) throw new UsageError(`Unknown option '--${name}'`);
    if (spec.type === "boolean") {
      if (eq >= 0) throw new UsageError(`Option '--${name}' does not take an argument`);
      values[name] = true;
    } else if (eq >= 0) {
      values[name] = arg.slice(eq + 1);
    } else {
      const next = args[i + 1];
      if (next === undefined || next.startsWith("--")) {
        throw new UsageError(`Option '--${name} <value>' argument missing`);
      }
      values[name] = next;
      i++;
    }
  }
  return { values: values as ParsedValues<T>, positionals };
}

/** An integer flag value, or a {@linkcode UsageError} naming the flag. */
export function intFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value.trim())) {
    throw new UsageError(`--${flag} expects a whole number, got "${value}"`);
  }
  return Number(value);
}
