/**
 * The progress bar of `autocomm import` (and `run`): drawn on a terminal, nothing of it
 * in a pipe or with `--json`. The terminal is a real pseudo-terminal (`script`).
 */
import assert from "node:assert/strict";
import { ProgressBar } from "../../src/cli/import_command.ts";
import { scriptArgs } from "../../src/util/process.ts";
import { baseEnv, describe, REPO_ROOT } from "../support/cli.ts";
import { importArgs, Sandbox, STUDENT_FIELDS, tsv, usDay } from "../support/sandbox.ts";

const PROGRESS = /rows\/s/;

/** What the bar writes before each line: a carriage return and "erase the line". */
const CLEAR = `\r${String.fromCharCode(27)}[2K`;

/** True when the terminal showed a bar line (drawn after CLEAR). */
const drewBar = (text: string) =>
  text.split(CLEAR).some((part) => /^(Fetching|Reading) the file.*rows\/s/.test(part));

/** True when the report's first line came right after the bar was cleared. */
const clearedForReport = (text: string) => /^Run \d+: succeeded/.test(text.split(CLEAR).at(-1)!);

/** A students file of `rows` rows. */
function students(rows: number): string {
  const out: (string | number)[][] = [];
  for (let i = 1; i <= rows; i++) out.push([5000 + i, `F${i}`, `L${i}`, 3, usDay(-10)]);
  return tsv(...out);
}

Deno.test("the bar line shows the stage, the share read, rows, bytes and the rate", () => {
  const line = ProgressBar.line(
    { stage: "reading", rowsRead: 12_000, bytesRead: 2 * 1048576, fileSize: 5 * 1048576 },
    4,
  );
  assert.equal(
    line,
    "Reading the file [########............]  40 %  12,000 rows  2.0 MB of 5.0 MB  3,000 rows/s",
  );
  const applying = ProgressBar.line(
    { stage: "applying", rowsRead: 10, bytesRead: 100, fileSize: 100 },
    0,
  );
  assert.match(applying, /^Applying the changes \[#{20}\] 100 %/);
});

Deno.test("autocomm import into a pipe prints its report and no progress bar, nor with --json", async () => {
  await using sb = await Sandbox.create();
  const file = await sb.write("students.txt", students(2000));
  const args = importArgs(file, { table: "students", fields: STUDENT_FIELDS })
    .filter((a) => a !== "--json");
  const plain = await sb.cli(args);
  assert.equal(plain.code, 0, describe(args, plain));
  assert.match(plain.stdout, /^Run \d+: succeeded\n/);
  assert.doesNotMatch(plain.stdout, PROGRESS);
  assert.ok(!plain.stdout.includes("\r"), "no carriage return in a pipe");
  const json = await sb.cli([...args.slice(0, 1), "--json", ...args.slice(1)]);
  assert.equal(json.code, 0, describe(args, json));
  assert.equal(JSON.parse(json.stdout).status, "succeeded");
});

/** Runs the CLI with `args` on a pseudo-terminal; returns what the terminal showed. */
async function onTerminal(sb: Sandbox, args: string[]): Promise<{ code: number; text: string }> {
  const command = [Deno.execPath(), ...scriptArgs(`${REPO_ROOT}/src/cli.ts`, args)]
    .map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const out = await new Deno.Command("script", {
    args: ["-qec", command, "/dev/null"],
    cwd: REPO_ROOT,
    clearEnv: true,
    env: { ...baseEnv(), ...sb.env, TERM: "xterm" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, text: new TextDecoder().decode(out.stdout) };
}

Deno.test("autocomm import on a terminal draws a progress bar, then clears it for the report", async () => {
  await using sb = await Sandbox.create();
  const file = await sb.write("students.txt", students(2000));
  const args = importArgs(file, { table: "students", fields: STUDENT_FIELDS })
    .filter((a) => a !== "--json");
  const { code, text } = await onTerminal(sb, args);
  assert.equal(code, 0, text);
  assert.ok(drewBar(text), text);
  assert.ok(clearedForReport(text), "the bar is cleared before the report");
  const json = await onTerminal(sb, [...args.slice(0, 1), "--json", ...args.slice(1)]);
  assert.equal(json.code, 0, json.text);
  assert.doesNotMatch(json.text, PROGRESS, "--json draws no bar on a terminal either");
});

Deno.test("autocomm run on a terminal draws the progress of the record's run from its import process", async () => {
  await using sb = await Sandbox.create({ env: { AUTOCOMM_MIN_FILE_AGE_SECONDS: "0" } });
  await sb.ok(["seed-demo"]);
  // The demo's Students record, with a file large enough to run for some seconds.
  const rows: string[] = [];
  for (let i = 1; i <= 300_000; i++) {
    rows.push([10_000 + i, `F${i}`, `L${i}`, 3, usDay(-10), "F", "3B", ""].join("\t"));
  }
  await sb.write("demo/100/students.txt", rows.join("\r\n") + "\r\n");
  const { code, text } = await onTerminal(sb, ["run", "--school", "100", "Students"]);
  assert.equal(code, 0, text);
  assert.ok(drewBar(text), text.slice(0, 2000));
  assert.ok(clearedForReport(text), "the bar is cleared before the report");
  const piped = await sb.cli(["run", "--school", "100", "Students"]);
  assert.equal(piped.code, 0, describe(["run"], piped));
  assert.doesNotMatch(piped.stdout, PROGRESS);
});
