/**
 * Clear words for a broken environment at start-up: a data folder that does not exist
 * and cannot be made, a read-only database, a full disk. The service and the CLI stop
 * with one sentence naming the file or folder and the cause — exit code 78 for what
 * the configuration or the machine's setup must change, 1 otherwise — instead of a
 * stack trace or a failed query with its parameters.
 */
import { errorText } from "../log.ts";

/** A start-up step that could not be done, with the process's exit code. */
export class StartupError extends Error {
  readonly exitCode: 1 | 78;
  constructor(message: string, exitCode: 1 | 78) {
    super(message);
    this.name = "StartupError";
    this.exitCode = exitCode;
  }
}

/** The messages of an error and of the errors it wraps. */
function chainText(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; depth < 8 && e !== undefined; depth++) {
    if (!(e instanceof Error)) {
      parts.push(String(e));
      break;
    }
    const code = (e as { code?: unknown }).code;
    parts.push(`${typeof code === "string" ? `${code} ` : ""}${e.message}`);
    e = e.cause;
  }
  return parts.join(" | ");
}

/** Why `error` stopped the step, in a few words, and whether it is the setup's to mend. */
export function environmentCause(error: unknown): { cause: string; exitCode: 1 | 78 } | undefined {
  const text = chainText(error);
  if (/SQLITE_FULL|disk is full|No space left on device|os error 28\b/i.test(text)) {
    return { cause: "the disk is full", exitCode: 1 };
  }
  if (/SQLITE_READONLY|readonly database|Read-only file system|os error 30\b/i.test(text)) {
    return { cause: "it is read-only", exitCode: 78 };
  }
  if (error instanceof Deno.errors.PermissionDenied || /os error 13\b/.test(text)) {
    return { cause: "permission denied", exitCode: 78 };
  }
  if (
    error instanceof Deno.errors.NotFound || /os error 2\b/.test(text) ||
    /SQLITE_CANTOPEN|unable to open database file/i.test(text)
  ) {
    return { cause: "its folder does not exist and cannot be created", exitCode: 78 };
  }
  return undefined;
}

/** Runs one start-up step; a failure becomes a {@linkcode StartupError} saying `what` failed and why. */
export async function startupStep<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof StartupError) throw error;
    const known = environmentCause(error);
    if (known) throw new StartupError(`Cannot ${what}: ${known.cause}.`, known.exitCode);
    throw new StartupError(`Cannot ${what}: ${errorText(error)}`, 1);
  }
}
