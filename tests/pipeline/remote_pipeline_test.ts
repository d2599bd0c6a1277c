/**
 * The import tests again, against a real libSQL server (`sqld`) instead of the
 * embedded file: the same test modules, loaded with the sandbox switched to the
 * remote backend. (The crash test stays embedded-only: it kills the process that
 * holds the embedded file's write transaction.) The same suites run on sqld in
 * inline mode too: tests/serverless/inline_pipeline_test.ts. Without sqld these are
 * skipped with a printed line, except under CI=true, where that fails.
 */
import { sqldProblem } from "../support/sqld.ts";
import { importSuites } from "./import_suites.ts";

const problem = await sqldProblem();
if (problem === undefined) {
  (globalThis as { AUTOCOMM_SANDBOX_BACKEND?: string }).AUTOCOMM_SANDBOX_BACKEND = "sqld";
  await importSuites();
} else if (Deno.env.get("CI") === "true") {
  Deno.test("the import tests run against a real libSQL server", () => {
    throw new Error(`The remote import tests need sqld, and it cannot run here: ${problem}`);
  });
} else {
  console.log(
    `Skipping the import tests against sqld (tests/pipeline/remote_pipeline_test.ts): ${problem}`,
  );
}
