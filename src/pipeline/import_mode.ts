/**
 * Where the service runs its imports (`AUTOCOMM_IMPORT_MODE`, `Config.importMode`):
 *
 * - `process`: in an import process beside the service (`worker.ts`, `child.ts`), the
 *   embedded file through `node:sqlite`. Needs the permission to start `deno` itself.
 * - `inline`: in the service's own event loop (`queue.ts`), over a remote libSQL
 *   server through `@libsql/client/web` — no subprocess, no native code, no local
 *   disk: the serverless profile (Deno Deploy).
 *
 * Unset, the mode follows what the runtime allows: `process` when this process may
 * start subprocesses, `inline` when it may not. The runtime is asked
 * (`Deno.permissions`), not an environment variable. What cannot work is refused at
 * start-up with what to change: `inline` on the embedded file (the file needs the
 * import process and its native SQLite), or the embedded file where neither a
 * subprocess nor native code may be loaded.
 */
import { filePathOf } from "../db/url.ts";

/** A resolved import mode. */
export type ImportMode = "process" | "inline";

/** The configuration cannot work in this runtime; the message says what to change. */
export class ImportModeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ImportModeError";
  }
}

/** What the runtime grants, as far as the import mode goes. */
export interface RuntimeAbilities {
  /** May start `deno` (the import process). */
  run: boolean;
  /** May load native code (the embedded file's SQLite libraries). */
  ffi: boolean;
}

/** Asks the runtime what this process may do. */
export function runtimeAbilities(): RuntimeAbilities {
  const granted = (descriptor: Deno.PermissionDescriptor) =>
    Deno.permissions.querySync(descriptor).state === "granted";
  return {
    run: granted({ name: "run", command: Deno.execPath() }),
    ffi: granted({ name: "ffi" }),
  };
}

/**
 * The import mode of a configuration in a runtime (see the module's notes); throws
 * {@linkcode ImportModeError} for what cannot work.
 */
export function resolveImportMode(
  config: { readonly databaseUrl: string; readonly importMode: ImportMode | undefined },
  abilities: RuntimeAbilities = runtimeAbilities(),
): ImportMode {
  const embedded = filePathOf(config.databaseUrl) !== undefined;
  if (embedded) {
    if (config.importMode === "inline") {
      throw new ImportModeError(
        "AUTOCOMM_IMPORT_MODE=inline needs a remote database (DATABASE_URL=http(s):// or libsql://): on the embedded file imports run in the import process",
      );
    }
    if (!abilities.run || !abilities.ffi) {
      throw new ImportModeError(
        "the embedded database file needs permission to start the import process and load SQLite (--allow-run, --allow-ffi); where the platform allows neither, point DATABASE_URL at a libSQL server (http(s):// or libsql://)",
      );
    }
    return "process";
  }
  if (config.importMode === "process" && !abilities.run) {
    throw new ImportModeError(
      "AUTOCOMM_IMPORT_MODE=process needs permission to start the import process (--allow-run); set AUTOCOMM_IMPORT_MODE=inline (or leave it unset) where the platform cannot start processes",
    );
  }
  return config.importMode ?? (abilities.run ? "process" : "inline");
}
