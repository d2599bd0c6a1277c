/**
 * The import process. It opens its own connection (node:sqlite on the embedded file —
 * the only SQLite library in this process — or @libsql/client for a remote server),
 * executes runs, and prints their progress and ends as JSON lines on stdout, so that a
 * long apply never blocks the process that serves pages.
 *
 *   deno run src/pipeline/child.ts <runId>   one run, then exit (`autocomm run`)
 *   deno run src/pipeline/child.ts --serve   the service's warm import process
 *                                            (`worker.ts`): run ids on stdin, one a line
 *
 * A serving process executes the runs it is given one after another on the same
 * connection, its code already loaded and optimized by the runs before. It ends at
 * the end of its standard input (the service closed it, or is gone), after a run that
 * was asked to stop, or once it holds more memory after a run than
 * `AUTOCOMM_IMPORT_PROCESS_MAX_MB` (`Config.importProcessMaxMb`), so that a large file's memory goes back to the system with the process;
 * the end line of its last run says `"retiring": true`.
 *
 * A run is never committed for a process that no longer waits for it: when the process
 * that started this one is gone — its end of the standard-input pipe closed, or this
 * process was handed to another parent — the run stops at its next safe point (the
 * last one is just before the commit), rolls back and is marked interrupted, and the
 * process exits.
 */
import { loadConfig } from "../config.ts";
import { streamLines } from "../util/lines.ts";
import { openExecutor, type SqlExecutor } from "./executor.ts";
import { executeRunToEnd, type ExecutionEnd, runEnvironment } from "./run.ts";
import { stopOnSignals } from "./signals.ts";

const encoder = new TextEncoder();
/**
 * Writes one event line. The run's row, not this output, is what counts: if the process
 * that started this one is gone (its end of the pipe closed), the run goes on to its
 * next safe point instead of failing on the write.
 */
const emit = (event: Record<string, unknown>) => {
  try {
    Deno.stdout.writeSync(encoder.encode(JSON.stringify(event) + "\n"));
  } catch {
    // nobody is reading
  }
};

const config = loadConfig();

/** The parent at start; another one later means the parent died. */
const parent = Deno.ppid;
/** Standard input is the parent's pipe (not /dev/null or a file), so its end means the parent's end. */
const inputIsPipe = (() => {
  try {
    return Deno.statSync("/proc/self/fd/0").isFifo === true;
  } catch {
    return false;
  }
})();
let inputEnded = false;
/** False once the process that started this one is gone. */
const ownerAlive = () => !(inputIsPipe && inputEnded) && Deno.ppid === parent;

/** Lines of standard input, read in the background so that its end is seen during a run. */
const input = (() => {
  const lines: string[] = [];
  let wake = null as (() => void) | null;
  (async () => {
    try {
      for await (const line of streamLines(Deno.stdin.readable)) {
        lines.push(line.trim());
        wake?.();
      }
    } catch {
      // the pipe broke: the same as its end
    }
    inputEnded = true;
    wake?.();
  })();
  return {
    /** The next line, or null at the end of the input. */
    async next(): Promise<string | null> {
      while (lines.length === 0 && !inputEnded) {
        await new Promise<void>((resolve) => wake = resolve);
        wake = null;
      }
      return lines.shift() ?? null;
    },
  };
})();

/**
 * Executes one run. SIGINT or SIGTERM (a stopping service, Ctrl-C in its terminal)
 * stops it at its next safe point: rolled back and marked interrupted at once. Between
 * runs no listener is installed, so a signal ends an idle process straight away.
 */
async function execute(
  exec: SqlExecutor,
  runId: number,
): Promise<{ end: ExecutionEnd; stopped: boolean }> {
  using stop = stopOnSignals();
  const end = await executeRunToEnd(exec, runId, {
    ...runEnvironment(config),
    onProgress: (p) => emit({ event: "progress", runId, ...p }),
    onStage: (p) => emit({ event: "stage", runId, ...p }),
    signal: stop.signal,
    ownerAlive,
  });
  return { end, stopped: stop.signal.aborted || !ownerAlive() };
}

/** Run ids from standard input, one a line, until it ends. */
async function* runIds(): AsyncGenerator<number | string> {
  for (let line = await input.next(); line !== null; line = await input.next()) {
    if (line === "") continue;
    const id = Number(line);
    yield Number.isInteger(id) && id > 0 ? id : line;
  }
}

if (Deno.args[0] === "--serve") {
  const exec = await openExecutor(config);
  for await (const runId of runIds()) {
    if (typeof runId === "string") {
      emit({ event: "failed", message: `Not a run id: ${runId.slice(0, 40)}` });
      continue;
    }
    // Said before anything else, so the service knows the run was taken: if this
    // process dies before, the run was never started and goes to another.
    emit({ event: "accepted", runId });
    const { end, stopped } = await execute(exec, runId);
    const retiring = stopped || Deno.memoryUsage().rss > config.importProcessMaxMb * 1048576;
    emit({ ...end, runId, retiring });
    if (retiring) break;
  }
  exec.close();
  Deno.exit(0);
}

const runId = Number(Deno.args[0]);
if (!Number.isInteger(runId) || runId <= 0) {
  console.error("Usage: child.ts <runId> | child.ts --serve");
  Deno.exit(64);
}
const exec = await openExecutor(config);
const { end } = await execute(exec, runId);
emit(end);
exec.close();
Deno.exit(end.event === "failed" ? 1 : 0);
