/**
 * The import tests again with every file staged on the second thread
 * (`src/pipeline/side_writer.ts`), which the embedded database uses for files of four
 * megabytes or more — larger than almost every fixture: the same test modules, loaded
 * with the sandbox's `AUTOCOMM_STAGING_THREAD_MIN_BYTES` at 0.
 */
(globalThis as { AUTOCOMM_SANDBOX_STAGING?: string }).AUTOCOMM_SANDBOX_STAGING = "thread";
await import("./import_options_test.ts");
await import("./tables_test.ts");
await import("./synchronize_test.ts");
await import("./report_test.ts");
await import("./record_runs_test.ts");
await import("./stop_test.ts");
await import("./worker_test.ts");
await import("./resolve_test.ts");
