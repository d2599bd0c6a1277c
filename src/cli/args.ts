/** Command-line parsing shared by the CLI commands (node:util parseArgs; no @std/cli). */
import { parseArgs, type ParseArgsConfig } from "node:util";

/** A usage problem: printed with the usage text, exit code 64. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Parses `args` against `options`; unknown flags are a {@linkcode UsageError}. */
export function parse<T extends NonNullable<ParseArgsConfig["options"]>>(
  args: string[],
  options: T,
) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** An integer flag value, or a {@linkcode UsageError} naming the flag. */
export function intFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value.trim())) {
    throw new UsageError(`--${flag} expects a whole number, got "${value}"`);
  }
  return Number(value);
}
