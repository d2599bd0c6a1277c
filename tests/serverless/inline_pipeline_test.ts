/**
 * The import tests again against a real libSQL server (`sqld`), in inline mode
 * (`AUTOCOMM_IMPORT_MODE=inline`: the serverless profile's path — the fetch-only libSQL
 * client, yielding between batches, no local disk for held files). Suites built on a
 * local disk or the import process stay out: synchronize_test.ts (held files under the
 * data folder: in inline mode they are in the database, held_chunks_test.ts),
 * record_runs_test.ts (records reading the local import folder, refused inline) and
 * worker_test.ts (the warm import process); so do the few tests of the suites below
 * that need a local disk ({@linkcode NEEDS_A_DISK}), which are listed as ignored.
 * Without sqld these are skipped with a printed line, except under CI=true, where
 * that fails.
 */
import { sqldProblem } from "../support/sqld.ts";

/** Tests of the suites below that read a record's local folder or look into `held/`. */
const NEEDS_A_DISK = new Set([
  "a personal date written in a free form never appears in an error, note, report, mail or log",
  "a held run stopped before its commit keeps no copy of its file",
]);

/** Registers the tests of the modules imported next, those needing a disk as ignored. */
function skipDiskTests(): void {
  const register = Deno.test;
  (Deno as unknown as { test: unknown }).test = (...args: unknown[]) => {
    const name = typeof args[0] === "string" ? args[0] : (args[0] as { name?: string }).name;
    if (name !== undefined && NEEDS_A_DISK.has(name)) {
      return register({ name: `${name} (needs a local disk)`, ignore: true, fn() {} });
    }
    return (register as (...a: unknown[]) => void)(...args);
  };
}

const problem = await sqldProblem();
if (problem === undefined) {
  const global = globalThis as {
    AUTOCOMM_SANDBOX_BACKEND?: string;
    AUTOCOMM_SANDBOX_IMPORT_MODE?: string;
  };
  global.AUTOCOMM_SANDBOX_BACKEND = "sqld";
  global.AUTOCOMM_SANDBOX_IMPORT_MODE = "inline";
  skipDiskTests();
  await import("../pipeline/import_options_test.ts");
  await import("../pipeline/tables_test.ts");
  await import("../pipeline/report_test.ts");
  await import("../pipeline/stop_test.ts");
} else if (Deno.env.get("CI") === "true") {
  Deno.test("the import tests run inline against a real libSQL server", () => {
    throw new Error(`The inline import tests need sqld, and it cannot run here: ${problem}`);
  });
} else {
  console.log(`Skipping the inline import tests against sqld: ${problem}`);
}
