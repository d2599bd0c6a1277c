/**
 * How the CLI writes. Text for people goes through one helper,
 * {@linkcode escapeControls}: a control character from stored data (a value, a
 * record name, a file name) is printed as `\x1b`, never raw, so it cannot drive the
 * terminal. Machine output (`--json`, `--csv` into a pipe or a file) is written as
 * it is: JSON escapes control characters itself, and CSV stays exactly the bytes a
 * spreadsheet reads.
 */
import { escapeControls } from "../util/text.ts";

/** Where a command's output goes. */
export interface Output {
  /** Writes one line for people: control characters escaped (a tab is kept as a column break). */
  out: (line: string) => void;
  /** Writes machine output (JSON, CSV) as it is, ended with a line end. */
  data: (text: string) => void;
  /** Standard output is a terminal (then `--csv` is shown escaped, as text for people). */
  terminal: boolean;
}

/** A line for people: every control character but the tab escaped. */
export function humanLine(line: string): string {
  return escapeControls(line, { keepTab: true });
}

/** One value of a tab-separated line for people: every control character escaped, tabs too. */
export function cell(value: unknown): string {
  return escapeControls(value === null || value === undefined ? "" : String(value));
}

const encoder = new TextEncoder();

function writeAll(text: string): void {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
}

/** Output to the process's standard output. */
export function consoleOutput(): Output {
  return {
    out: (line) => console.log(humanLine(line)),
    data: (text) => writeAll(text.endsWith("\n") ? text : `${text}\n`),
    terminal: Deno.stdout.isTerminal(),
  };
}

/** Writes an error message for people on standard error, control characters escaped. */
export function printError(message: string): void {
  console.error(humanLine(message));
}
