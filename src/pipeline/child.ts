/**
 * The import process: `deno run src/pipeline/child.ts <runId>`. It opens its own
 * connection (node:sqlite on the embedded file — the only SQLite library in this
 * process — or @libsql/client for a remote server), executes the run, and prints
 * progress as JSON lines on stdout. The service and the CLI start it so that a
 * long apply never blocks the process that serves pages.
 */
import { loadConfig } from "../config.ts";
import { openExecutor } from "./executor.ts";
import { executeRun, RunNotClaimable } from "./run.ts";

const runId = Number(Deno.args[0]);
if (!Number.isInteger(runId) || runId <= 0) {
  console.error("Usage: child.ts <runId>");
  Deno.exit(64);
}
const config = loadConfig();
const exec = await openExecutor(config);
const encoder = new TextEncoder();
const emit = (event: Record<string, unknown>) =>
  Deno.stdout.writeSync(encoder.encode(JSON.stringify(event) + "\n"));
try {
  const outcome = await executeRun(exec, runId, {
    importRoot: config.importRoot,
    dataDir: config.dataDir,
    timeZone: config.timeZone,
    runTimeoutSeconds: config.runTimeoutSeconds,
    onProgress: (p) => emit({ event: "progress", ...p }),
  });
  emit({ event: "done", status: outcome.status });
  exec.close();
  Deno.exit(0);
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof RunNotClaimable) {
    emit({ event: "skipped", message });
    exec.close();
    Deno.exit(0);
  }
  try {
    await exec.rollback();
    await exec.run(
      "UPDATE runs SET status = 'failed', message = ?, ended_at = ?, lease_expires_at = NULL WHERE id = ? AND status IN ('queued', 'running', 'waiting')",
      [`The run failed and changed nothing: ${message}`, new Date().toISOString(), runId],
    );
  } catch {
    // The database itself is unreachable; the lease marks the run interrupted later.
  }
  emit({ event: "failed", message });
  exec.close();
  Deno.exit(1);
}
