/** Starting and bounding this project's own Deno processes. */
import { fromFileUrl } from "./paths.ts";

const DENO_JSON = fromFileUrl(new URL("../../deno.json", import.meta.url));

/**
 * The arguments of `deno` (`Deno.execPath()`) that run one of this project's scripts
 * the way the service runs it, from any working directory: all permissions, only the
 * locked dependencies (`--frozen`), and the project's `deno.json`.
 */
export function scriptArgs(script: string | URL, args: readonly string[] = []): string[] {
  const path = typeof script === "string" ? script : fromFileUrl(script);
  return ["run", "--allow-all", "--frozen", `--config=${DENO_JSON}`, path, ...args];
}

/** What {@linkcode killAfter} returns: disposing it cancels the kill. */
export interface Killer extends Disposable {
  /** True once the time ran out and the kill was sent. */
  readonly fired: boolean;
}

/**
 * Kills `child` with SIGKILL once `ms` have passed, unless disposed before (`using`);
 * a process already gone is left alone.
 */
export function killAfter(child: Pick<Deno.ChildProcess, "kill">, ms: number): Killer {
  const state = { fired: false };
  const timer = setTimeout(() => {
    state.fired = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, ms);
  return {
    get fired() {
      return state.fired;
    },
    [Symbol.dispose]: () => clearTimeout(timer),
  };
}
