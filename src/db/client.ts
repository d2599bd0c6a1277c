/**
 * Opens the database the configuration names: the embedded libSQL file (WAL mode,
 * busy timeout) or a remote libSQL server. The main process reads and writes through
 * this client; imports run on a connection of their own (see
 * `src/pipeline/executor.ts`).
 *
 * A remote server is reached through `@libsql/client`'s fetch-only entry
 * (`@libsql/client/web`); the native `libsql` addon, which only the embedded file
 * needs, is loaded at run time for a `file:` URL alone — so that a service on a remote
 * database (the serverless profile) runs without the permission to load native code.
 */
import type { Client, Config as ClientConfig } from "@libsql/client";
import { createClient as createWebClient } from "@libsql/client/web";
import type { LibSQLDatabase } from "drizzle-orm/libsql";
import { drizzle } from "drizzle-orm/libsql/web";
import * as schema from "./schema/autocomm.ts";
import { filePathOf } from "./url.ts";
import { BusySafeClient, type BusySafeClientOptions } from "./busy.ts";

export { filePathOf };

/**
 * The Drizzle database with AutoComm's own tables as its schema (the SIS tables'
 * schema, `src/sis/schema.ts`, is above this layer; queries name its tables directly).
 */
export type Db = LibSQLDatabase<typeof schema> & { $client: Client };

/** An open database: the Drizzle handle and the client under it. */
export interface Database {
  readonly db: Db;
  readonly client: Client;
  /** True for the embedded file, false for a remote server. */
  readonly embedded: boolean;
  /** File system path of the embedded database (undefined for a remote one). */
  readonly filePath: string | undefined;
  close(): void;
}

/** What {@linkcode openDatabase} needs of the configuration. */
export interface DatabaseConfig {
  readonly databaseUrl: string;
  readonly databaseAuthToken?: string | undefined;
  readonly busyTimeoutMs: number;
}

/** Options of {@linkcode openDatabase}. */
export type OpenDatabaseOptions = BusySafeClientOptions;

/**
 * Opens the database; creates the folder of an embedded file and sets WAL mode. The
 * client is a {@linkcode BusySafeClient}: after a statement failed because the
 * database stayed locked, later statements run on fresh connections (`busy.ts`).
 */
export async function openDatabase(
  config: DatabaseConfig,
  options: OpenDatabaseOptions = {},
): Promise<Database> {
  const filePath = filePathOf(config.databaseUrl);
  if (filePath !== undefined) {
    const dir = filePath.replace(/\/[^/]*$/, "");
    if (dir !== "" && dir !== filePath) await Deno.mkdir(dir, { recursive: true });
  }
  const createClient = filePath === undefined ? createWebClient : await nativeClient();
  const client = new BusySafeClient(() =>
    createClient({
      url: config.databaseUrl,
      ...(config.databaseAuthToken ? { authToken: config.databaseAuthToken } : {}),
      timeout: config.busyTimeoutMs,
    }), options);
  if (filePath !== undefined) {
    await client.execute("PRAGMA journal_mode = WAL");
    await client.execute("PRAGMA synchronous = NORMAL");
  }
  const db = drizzle(client, { schema });
  return {
    db,
    client,
    embedded: filePath !== undefined,
    filePath,
    close: () => client.close(),
  };
}

/**
 * `createClient` of `@libsql/client`'s native entry (the embedded file). A specifier
 * made at run time: Deno loads the target of every literal `import("…")` when the
 * process starts, native addon included.
 */
async function nativeClient(): Promise<(config: ClientConfig) => Client> {
  const specifier = ["@libsql", "client"].join("/");
  const { createClient } = await import(specifier) as typeof import("@libsql/client");
  return createClient;
}
