/**
 * The import process: `deno run src/pipeline/child.ts <runId>`. It opens its own
 * connection (node:sqlite on the embedded file — the only SQLite library in this
 * process — or @libsql/client for a remote server), executes the run, and prints
 * progress as JSON lines on stdout. The service and `autocomm run` start it so that
 * a long apply never blocks the process that serves pages.
 */
import { loadConfig } from "../config.ts";
import { openExecutor } from "./executor.ts";
import { executeRunToEnd, runEnvironment } from "./run.ts";
import { stopOnSignals } from "./signals.ts";

const runId = Number(Deno.args[0]);
if (!Number.isInteger(runId) || runId <= 0) {
  console.error("Usage: child.ts <runId>");
  Deno.exit(64);
}
const config = loadConfig();
const exec = await openExecutor(config);
const encoder = new TextEncoder();
/**
 * Writes one event line. The run's row, not this output, is what counts: if the process
 * that started this one is gone (its end of the pipe closed), the run goes on to its
 * end or its next safe point instead of failing on the write.
 */
const emit = (event: Record<string, unknown>) => {
  try {
    Deno.stdout.writeSync(encoder.encode(JSON.stringify(event) + "\n"));
  } catch {
    // nobody is reading
  }
};
// SIGINT or SIGTERM (a stopping service, Ctrl-C in its terminal) stops the run at its
// next safe point: rolled back and marked interrupted at once.
const stop = stopOnSignals();
const end = await executeRunToEnd(exec, runId, {
  ...runEnvironment(config),
  onProgress: (p) => emit({ event: "progress", ...p }),
  signal: stop.signal,
});
stop[Symbol.dispose]();
emit(end);
exec.close();
Deno.exit(end.event === "failed" ? 1 : 0);
