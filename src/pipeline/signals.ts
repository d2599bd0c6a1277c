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

/**
 * The message of a run the service stopped in inline mode (the platform stopped the
 * instance, an operator stopped the service): the tick tries such a scheduled run's
 * slot once more (`schedule/claim.ts`).
 */
export function serviceStoppedMessage(signal: "SIGINT" | "SIGTERM"): string {
  return `${SERVICE_STOPPED} (${signal}) before the run finished; nothing was changed`;
}

/** How every {@linkcode serviceStoppedMessage} begins (what the tick's retry looks for). */
export const SERVICE_STOPPED = "Stopped because the service was stopped";

/** What {@linkcode stopServiceOnSignals} stops. */
export interface StoppableQueue {
  stop(message: string): Promise<void>;
}

/**
 * The service in inline mode (its runs execute in its own event loop): the first
 * SIGINT or SIGTERM stops the executing run at its next safe point — rolled back,
 * marked interrupted ({@linkcode serviceStoppedMessage}) — and then ends the process;
 * a second signal ends it at once. A platform that stops an instance sends SIGINT and
 * kills it 5 s later: a safe point comes at least every batch, and a run interrupted
 * by the kill instead is marked interrupted by the next tick when its lease expires.
 */
export function stopServiceOnSignals(
  queue: StoppableQueue,
  say: (signal: string) => void = () => {},
): void {
  let stopping = false;
  for (const name of SIGNALS) {
    Deno.addSignalListener(name, () => {
      if (stopping) Deno.exit(name === "SIGINT" ? 130 : 143);
      stopping = true;
      say(name);
      queue.stop(serviceStoppedMessage(name)).finally(() => Deno.exit(0));
    });
  }
}
