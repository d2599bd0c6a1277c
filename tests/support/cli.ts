/**
 * Runs the CLI (`src/cli.ts`) as a subprocess, the way `deno task autocomm` does,
 * with a clean environment so the developer's own variables never leak into a test.
 *
 * ```ts
 * await using data = await tempEnv();
 * const result = await runCli(["setup", "show", "--json"], data.env);
 * ```
 */
import { eventLines } from "../../src/pipeline/launch.ts";
import { fromFileUrl } from "../../src/util/paths.ts";
import { scriptArgs } from "../../src/util/process.ts";

/** The repository root (no trailing slash). */
export const REPO_ROOT = fromFileUrl(new URL("../../", import.meta.url)).replace(/\/+$/, "");
const CLI = `${REPO_ROOT}/src/cli.ts`;

/** What a CLI run printed and how it ended. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@linkcode runCli}. */
export interface RunCliOptions {
  /** Working directory; default the repository root. */
  cwd?: string;
  /** Text fed to standard input; default none. */
  stdin?: string;
  /** Kill the CLI after this many milliseconds; default 120000. */
  timeoutMs?: number;
}

/** Variables passed through from the test's own environment (when set). */
const PASS_THROUGH = ["PATH", "HOME", "DENO_DIR", "TMPDIR"];

/** The minimal environment every CLI run starts from. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
  for (const name of PASS_THROUGH) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/**
 * Runs `deno run --allow-all --frozen --config=<repo>/deno.json <repo>/src/cli.ts …args`
 * with `env` merged over {@linkcode baseEnv}. Never throws for a non-zero exit.
 */
export async function runCli(
  args: string[],
  env: Record<string, string>,
  options: RunCliOptions = {},
): Promise<CliResult> {
  const child = spawnScript(CLI, args, env, {
    cwd: options.cwd,
    stdin: options.stdin === undefined ? "null" : "piped",
  });
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const timeoutMs = options.timeoutMs ?? 120_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, timeoutMs);
  try {
    const out = await child.output();
    const result = {
      code: out.code,
      stdout: new TextDecoder().decode(out.stdout),
      stderr: new TextDecoder().decode(out.stderr),
    };
    if (timedOut) {
      throw new Error(
        `autocomm ${args.join(" ")} did not finish within ${timeoutMs} ms\n${result.stderr}`,
      );
    }
    return result;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts `deno run --allow-all --frozen --config=<repo>/deno.json SCRIPT …args` with `env`
 * merged over {@linkcode baseEnv}, stdout and stderr piped: for tests that watch or
 * signal the process while it runs.
 */
export function spawnScript(
  script: string,
  args: string[],
  env: Record<string, string>,
  options: { cwd?: string; stdin?: "null" | "piped" } = {},
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: scriptArgs(script, args),
    cwd: options.cwd ?? REPO_ROOT,
    clearEnv: true,
    env: { ...baseEnv(), ...env },
    stdin: options.stdin ?? "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Starts the CLI (see {@linkcode spawnScript}). */
export function spawnCli(args: string[], env: Record<string, string>): Deno.ChildProcess {
  return spawnScript(CLI, args, env);
}

/** Starts the import process of a queued run (`src/pipeline/child.ts`). */
export function spawnImportProcess(runId: number, env: Record<string, string>): Deno.ChildProcess {
  return spawnScript(`${REPO_ROOT}/src/pipeline/child.ts`, [String(runId)], env);
}

/**
 * Executes queued run `runId` in an import process of its own and calls `during` once,
 * when the process first reports staging (the rows staged so far looked the SIS up
 * before whatever `during` changes; the apply has not begun). Returns the process's
 * events; throws when the run ended before it reported staging.
 */
export async function changeWhileStaged(
  runId: number,
  env: Record<string, string>,
  during: () => Promise<void>,
): Promise<Record<string, unknown>[]> {
  const child = spawnImportProcess(runId, env);
  let changed = false;
  const events: Record<string, unknown>[] = [];
  for await (const event of eventLines(child.stdout)) {
    events.push(event);
    if (changed || event["event"] !== "progress" || event["phase"] !== "stage") continue;
    if (events.some((e) => e["event"] === "progress" && e["phase"] !== "stage")) {
      throw new Error("the apply began before the first report of staging");
    }
    await during();
    changed = true;
  }
  await child.status;
  await child.stderr.cancel();
  if (!changed) throw new Error("the import ended before it reported staging");
  return events;
}

/** Describes a CLI result for an assertion message. */
export function describe(args: string[], result: CliResult): string {
  return `autocomm ${
    args.join(" ")
  } → exit ${result.code}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`;
}

/**
 * Runs the CLI, expects exit code `code` (default 0) and parses standard output
 * as JSON; the error message shows both streams.
 */
export async function runCliJson<T = unknown>(
  args: string[],
  env: Record<string, string>,
  options: RunCliOptions & { code?: number } = {},
): Promise<T> {
  const result = await runCli(args, env, options);
  const expected = options.code ?? 0;
  if (result.code !== expected) {
    throw new Error(`expected exit ${expected}\n${describe(args, result)}`);
  }
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON\n${describe(args, result)}`);
  }
}

/** A temporary data folder for one test. */
export interface TempEnv extends AsyncDisposable {
  /** The folder (`AUTOCOMM_DATA_DIR`). */
  readonly dir: string;
  /** Import root, `<dir>/import` (created). */
  readonly importRoot: string;
  /** `AUTOCOMM_DATA_DIR`, `AUTOCOMM_IMPORT_ROOT` and `AUTOCOMM_TIMEZONE=UTC`, plus `extra`. */
  readonly env: Record<string, string>;
  /** Removes the folder. */
  remove(): Promise<void>;
}

/**
 * Creates a temporary `AUTOCOMM_DATA_DIR` (with its import root) and the variables
 * naming it; `extra` variables are added (e.g. `DATABASE_URL`).
 */
export async function tempEnv(extra: Record<string, string> = {}): Promise<TempEnv> {
  const dir = await Deno.makeTempDir({ prefix: "autocomm_test_" });
  const importRoot = `${dir}/import`;
  await Deno.mkdir(importRoot, { recursive: true });
  const remove = () => Deno.remove(dir, { recursive: true }).catch(() => {});
  return {
    dir,
    importRoot,
    env: {
      AUTOCOMM_DATA_DIR: dir,
      AUTOCOMM_IMPORT_ROOT: importRoot,
      AUTOCOMM_TIMEZONE: "UTC",
      ...extra,
    },
    remove,
    [Symbol.asyncDispose]: remove,
  };
}
