/**
 * A real second process that holds an embedded database's write lock: a Deno
 * process that opens the file with `node:sqlite`, runs `BEGIN IMMEDIATE`, says
 * "locked" and keeps the lock until {@linkcode LockHolder.release} (or until it is
 * disposed). Also reads a count with a connection of its own process, so that a
 * test sees what other connections see, not what the service's connection sees.
 */

const HOLDER = `
import { DatabaseSync } from "node:sqlite";
const db = new DatabaseSync(Deno.args[0], { timeout: 5000 });
db.exec("BEGIN IMMEDIATE");
console.log("locked");
const buf = new Uint8Array(16);
while ((await Deno.stdin.read(buf)) !== null) { /* wait for stdin to close */ }
db.exec("ROLLBACK");
db.close();
console.log("released");
`;

const READER = `
import { DatabaseSync } from "node:sqlite";
const db = new DatabaseSync(Deno.args[0], { timeout: 5000, readOnly: true });
console.log(JSON.stringify(db.prepare(Deno.args[1]).all()));
db.close();
`;

/** A process holding the write lock of a database file. */
export interface LockHolder extends AsyncDisposable {
  /** Ends the holder's transaction and waits for its process to exit. */
  release(): Promise<void>;
}

/** Starts a process that holds `file`'s write lock; resolves once it holds it. */
export async function holdWriteLock(file: string): Promise<LockHolder> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", HOLDER, file],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("locked")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("The lock holder exited before it held the lock");
    seen += value;
  }
  let released: Promise<void> | undefined;
  const release = () =>
    released ??= (async () => {
      await child.stdin.close();
      while (!(await reader.read()).done) { /* drain */ }
      const status = await child.status;
      if (!status.success) throw new Error(`The lock holder failed (exit ${status.code})`);
    })();
  return { release, [Symbol.asyncDispose]: release };
}

/** Rows of `sql` as another process's own connection reads them. */
export async function readElsewhere(
  file: string,
  sql: string,
): Promise<Record<string, unknown>[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", READER, file, sql],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}
