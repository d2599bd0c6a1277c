/**
 * The import tests again with every file staged on the second thread
 * (`src/pipeline/side_writer.ts`), which the embedded database uses for files of four
 * megabytes or more — larger than almost every fixture: the same test modules, loaded
 * with the sandbox's `AUTOCOMM_STAGING_THREAD_MIN_BYTES` at 0.
 */
import { importSuites } from "./import_suites.ts";

(globalThis as { AUTOCOMM_SANDBOX_STAGING?: string }).AUTOCOMM_SANDBOX_STAGING = "thread";
await importSuites();
// Embedded only (another connection writes the file while it is staged).
await import("./resolve_test.ts");
