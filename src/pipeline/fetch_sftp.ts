/**
 * The fetch stage for a record with a managed connection: its file on an SFTP server.
 * The path is relative to the login folder, with the rules of a local path
 * (`{school}`, no `..`, no absolute paths). The connection's row is read on the
 * import's own connection and its secret opened with the configured keys; connecting
 * and the file's status are tried three times with backoff on network failures.
 *
 * The file streams through the pipeline as it downloads (never whole in memory) and is
 * spooled on the way (a scratch file, or without a local disk the database: `Spool` in
 * `fetch.ts`), so that a second read — a held run's kept copy
 * — is exactly the bytes the run validated, not a second download. After the last
 * byte the file's size and time are checked again: a file that changed during the
 * download is never half-imported ({@linkcode SourceChanged}).
 */
import { SecretBox, SecretError } from "../connections/secrets.ts";
import {
  type ConnectOptions,
  connectSftp,
  SftpError,
  type SftpSession,
  type SftpTarget,
} from "../connections/sftp.ts";
import type { SqlExecutor } from "./executor.ts";
import { FetchFailure, SourceChanged } from "./fetch_failures.ts";
import type { FileSource, SourceStat, Spool } from "./fetch.ts";
import { checkRecordPath } from "../util/record_path.ts";
import { NoFileError, UnsafePathError } from "./paths.ts";

/** What {@linkcode openSftpSource} needs to know of the run. */
export interface ManagedFile {
  connectionId: number;
  /** The record's path, relative to the login folder. */
  path: string;
  schoolId: number;
}

/** Options of {@linkcode openSftpSource}. */
export interface SftpSourceOptions {
  /** The configured secret keys (`AUTOCOMM_SECRET_KEY`, `…_PREVIOUS`). */
  keys: { current: Uint8Array | undefined; previous: Uint8Array | undefined };
  /**
   * Where the download is spooled (`fetch.ts`; removed when the source is disposed
   * unless kept), e.g. `() => fileSpool(dir)`.
   */
  spool: () => Spool;
  /** Attempts for connecting and the file's status on network failures; default 3. */
  attempts?: number;
  /** First wait between attempts in ms, doubled each time; default 2000. */
  backoffMs?: number;
  connect?: ConnectOptions;
}

interface ConnectionRow {
  name: string;
  target: SftpTarget;
}

async function readConnection(
  exec: SqlExecutor,
  id: number,
  keys: SftpSourceOptions["keys"],
): Promise<ConnectionRow> {
  const [row] = await exec.all(
    `SELECT name, host, port, auth_method, username, secret, allow_download,
            allow_legacy_ciphers, host_fingerprint
       FROM managed_connections WHERE id = ?`,
    [id],
  );
  if (!row) {
    throw new FetchFailure(
      `The record's managed connection (id ${id}) no longer exists; nothing was changed`,
    );
  }
  const name = String(row["name"]);
  if (Number(row["allow_download"]) !== 1) {
    throw new FetchFailure(
      `The managed connection "${name}" does not allow download; nothing was changed`,
    );
  }
  if (typeof row["secret"] !== "string") {
    throw new FetchFailure(
      `The managed connection "${name}" has no password or key stored; nothing was changed`,
    );
  }
  let secret: { password?: string; privateKey?: string; passphrase?: string };
  try {
    const box = await SecretBox.create(keys);
    secret = JSON.parse(await box.open(row["secret"], { id, name }));
  } catch (error) {
    if (error instanceof SecretError) {
      throw new FetchFailure(`${error.message}; nothing was changed`);
    }
    throw error;
  }
  const auth: SftpTarget["auth"] = row["auth_method"] === "key"
    ? { kind: "key", privateKey: secret.privateKey ?? "", passphrase: secret.passphrase }
    : { kind: "password", password: secret.password ?? "" };
  return {
    name,
    target: {
      host: String(row["host"]),
      port: Number(row["port"]),
      username: String(row["username"]),
      auth,
      allowLegacyCiphers: Number(row["allow_legacy_ciphers"]) === 1,
      hostKeyFingerprint: typeof row["host_fingerprint"] === "string"
        ? row["host_fingerprint"]
        : null,
    },
  };
}

/** Runs `work`, again after a wait when it fails on the network, up to `attempts` times. */
async function withRetries<T>(
  work: () => Promise<T>,
  options: { attempts: number; backoffMs: number },
): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof SftpError) || !error.retriable || attempt >= options.attempts) {
        if (error instanceof SftpError && error.retriable) {
          throw new SftpError(error.kind, `${error.message} (tried ${attempt} times)`);
        }
        throw error;
      }
      await new Promise((r) => setTimeout(r, options.backoffMs * 2 ** (attempt - 1)));
    }
  }
}

/**
 * Opens a managed record's file: the connection (host key verified), its status. Throws
 * {@linkcode FetchFailure} (the run fails), `NoFileError` (no_file) or
 * `UnsafePathError` (the path breaks the rules).
 */
export async function openSftpSource(
  exec: SqlExecutor,
  file: ManagedFile,
  options: SftpSourceOptions,
): Promise<FileSource> {
  const checked = checkRecordPath(file.path, file.schoolId);
  if (!checked.ok) throw new UnsafePathError(checked.message);
  const remotePath = checked.segments.join("/");
  const connection = await readConnection(exec, file.connectionId, options.keys);
  const shown = `${connection.name}:${remotePath}`;
  const retry = { attempts: options.attempts ?? 3, backoffMs: options.backoffMs ?? 2000 };
  let session: SftpSession | undefined;
  try {
    session = await withRetries(() => connectSftp(connection.target, options.connect), retry);
    const opened = session;
    const stat = await withRetries(() => opened.stat(remotePath), retry);
    if (!stat.isFile) throw new NoFileError("not_a_file");
    return new SftpFileSource(opened, {
      displayName: shown,
      fileName: checked.segments[checked.segments.length - 1]!,
      remotePath,
      stat: { size: stat.size, mtime: stat.mtime, links: null },
      spool: options.spool(),
    });
  } catch (error) {
    await session?.close();
    if (error instanceof SftpError) {
      if (error.kind === "not_found") throw new NoFileError("missing");
      throw new FetchFailure(`Cannot fetch ${shown}: ${error.message}; nothing was changed`);
    }
    throw error;
  }
}

/** A file on an SFTP server, read once and spooled (see the module's comment). */
export class SftpFileSource implements FileSource {
  readonly displayName: string;
  readonly fileName: string;
  readonly downloads = true;
  readonly #session: SftpSession;
  readonly #remotePath: string;
  readonly #stat: SourceStat;
  readonly #spool: Spool;
  #spooled = false;

  constructor(
    session: SftpSession,
    options: {
      displayName: string;
      fileName: string;
      remotePath: string;
      stat: SourceStat;
      spool: Spool;
    },
  ) {
    this.#session = session;
    this.displayName = options.displayName;
    this.fileName = options.fileName;
    this.#remotePath = options.remotePath;
    this.#stat = options.stat;
    this.#spool = options.spool;
  }

  stat(): Promise<SourceStat> {
    return Promise.resolve(this.#stat);
  }

  /** The first read downloads (and spools); later reads come from the spool. */
  open(): AsyncIterable<Uint8Array> {
    if (this.#spooled) return this.#spool.read();
    this.#spooled = true;
    return this.#download();
  }

  /** Keeps the spooled download as the held run's file, where the spool can. */
  keep(): string | undefined {
    return this.#spool.keep();
  }

  async *#download(): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of this.#session.read(this.#remotePath)) {
        await this.#spool.write(chunk);
        yield chunk;
      }
      await this.#spool.end();
    } catch (error) {
      if (error instanceof SftpError) {
        throw new FetchFailure(
          `Cannot fetch ${this.displayName}: ${error.message}; nothing was changed`,
        );
      }
      throw error;
    }
    const after = await this.#session.stat(this.#remotePath).catch(() => undefined);
    if (
      !after || after.size !== this.#stat.size ||
      after.mtime.getTime() !== this.#stat.mtime?.getTime()
    ) {
      throw new SourceChanged(this.displayName);
    }
  }

  [Symbol.dispose](): void {
    void this.#session.close();
    this.#spool[Symbol.dispose]();
  }
}
