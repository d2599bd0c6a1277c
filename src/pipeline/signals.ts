/**
 * Ctrl-C and `kill` for a process that executes a run (`autocomm import`, the import
 * process): the first SIGINT or SIGTERM asks the run to stop at its next safe point
 * (`RunEnvironment.signal`), so that it rolls back and is marked interrupted at
 * once instead of waiting for its lease to expire; a second one ends the process
 * straight away (the transaction is then rolled back by SQLite, and the lease marks
 * the run interrupted later).
 */

import { interruptedMessage } from "./run_state.ts";

const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/** Listens for SIGINT and SIGTERM until disposed; `signal` aborts on the first. */
export function stopOnSignals(
  say: (line: string) => void = (line) => console.error(line),
): { signal: AbortSignal } & Disposable {
  const controller = new AbortController();
  const listeners = SIGNALS.map((name) => {
    const listener = () => {
      if (controller.signal.aborted) Deno.exit(name === "SIGINT" ? 130 : 143);
      say(`${name}: stopping the run at its next safe point; send it again to quit at once`);
      controller.abort(interruptedMessage({ signal: name }));
    };
    Deno.addSignalListener(name, listener);
    return { name, listener };
  });
  return {
    signal: controller.signal,
    [Symbol.dispose]() {
      for (const { name, listener } of listeners) Deno.removeSignalListener(name, listener);
    },
  };
}
