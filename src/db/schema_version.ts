/**
 * Whether the database is behind the generated migrations, read with plain SQL so
 * that a command on the import connection (`autocomm import`) can check it without
 * loading Drizzle's migrator. It compares the newest migration Drizzle recorded in
 * `__drizzle_migrations` with the newest entry of `migrations/meta/_journal.json`.
 */
import type { SqlExecutor } from "../pipeline/executor.ts";
import { fromFileUrl } from "../util/paths.ts";

const JOURNAL = fromFileUrl(new URL("../../migrations/meta/_journal.json", import.meta.url));

/** True when a migration has not been applied (or the database is new). */
export async function migrationsPending(exec: SqlExecutor): Promise<boolean> {
  const journal = JSON.parse(await Deno.readTextFile(JOURNAL)) as {
    entries: { when: number }[];
  };
  const newest = Math.max(...journal.entries.map((e) => e.when));
  try {
    const [row] = await exec.all("SELECT max(created_at) AS at FROM __drizzle_migrations");
    const at = row?.["at"];
    return at === null || at === undefined || Number(at) < newest;
  } catch {
    return true; // no migrations table: a new database
  }
}
