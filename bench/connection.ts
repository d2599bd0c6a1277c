/**
 * A managed connection to the bench's in-process SFTP server, added with the CLI as a
 * user would (`autocomm connections add … --password-stdin`), for the runs that read
 * their files over SFTP.
 */
import type { SftpServer } from "../tests/support/sftp_server.ts";
import { measure } from "./measure.ts";
import { scriptArgs } from "../src/util/process.ts";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname).replace(/\/$/, "");

/** A fresh `AUTOCOMM_SECRET_KEY` (32 random bytes, base64). */
export function randomSecretKey(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
}

/**
 * Adds the connection "bench" to `sftp` in the data directory `env` names (which
 * must carry `AUTOCOMM_SECRET_KEY`); returns its id.
 */
export async function addSftpConnection(
  sftp: SftpServer,
  env: Record<string, string>,
): Promise<number> {
  const added = await measure(
    Deno.execPath(),
    scriptArgs(`${ROOT}/src/cli.ts`, [
      "connections",
      "add",
      "--name",
      "bench",
      "--host",
      "127.0.0.1",
      "--port",
      String(sftp.port),
      "--username",
      sftp.username,
      "--password-stdin",
      "--fingerprint",
      sftp.fingerprint,
    ]),
    { env, cwd: ROOT, stdin: sftp.password },
  );
  if (added.code !== 0) throw new Error(`connections add failed: ${added.stderr}`);
  return 1;
}
