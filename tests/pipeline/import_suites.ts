/**
 * The import test modules that run again on another path: against `sqld`
 * (remote_pipeline_test.ts) and with every file on the staging thread
 * (staging_thread_test.ts). Importing a module registers its tests, so the caller
 * first switches the sandbox (`tests/support/sandbox.ts`) to that path.
 */
export async function importSuites(): Promise<void> {
  await import("./import_options_test.ts");
  await import("./tables_test.ts");
  await import("./synchronize_test.ts");
  await import("./report_test.ts");
  await import("./record_runs_test.ts");
  await import("./stop_test.ts");
  await import("./worker_test.ts");
}
