/**
 * An SFTP client for managed connections (`ssh2`). Host keys are always verified: the
 * server's key is checked against the connection's pinned SHA-256 fingerprint before
 * anything is sent to log in, and a connection without a pinned key is refused except
 * when a person tests it to see — and accept — the fingerprint. "Allow legacy ciphers"
 * adds only older algorithms `ssh2` supports (CBC ciphers, SHA-1 key exchanges, DSA
 * host keys, MD5 and truncated MACs) after the modern defaults.
 *
 * Every failure is an {@linkcode SftpError} with a kind and a sentence a data manager
 * understands; only `network` and `timeout` failures are worth trying again.
 */
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
// @ts-types="./ssh2.d.ts"
import ssh2 from "ssh2";
import type { Client as SshClient, ConnectConfig, SFTPWrapper, Stats } from "./ssh2.d.ts";
// @ts-types="./ssh2_constants.d.ts"
import constants from "ssh2/lib/protocol/constants.js";

const { Client } = ssh2;

/** How to reach and log in to an SFTP server. */
export interface SftpTarget {
  host: string;
  port: number;
  username: string;
  auth: { kind: "password"; password: string } | {
    kind: "key";
    privateKey: string;
    passphrase?: string | undefined;
  };
  allowLegacyCiphers: boolean;
  /** The pinned host-key fingerprint (`SHA256:…`), or null before one is accepted. */
  hostKeyFingerprint: string | null;
}

/** What went wrong, by kind. */
export type SftpErrorKind =
  | "host_key"
  | "auth"
  | "network"
  | "timeout"
  | "not_found"
  | "permission"
  | "protocol";

/** A failed SFTP operation. */
export class SftpError extends Error {
  readonly kind: SftpErrorKind;
  constructor(kind: SftpErrorKind, message: string) {
    super(message);
    this.name = "SftpError";
    this.kind = kind;
  }
  /** True for failures that may pass when tried again (network, timeout). */
  get retriable(): boolean {
    return this.kind === "network" || this.kind === "timeout";
  }
}

/** Options of {@linkcode connectSftp}. */
export interface ConnectOptions {
  /**
   * Connect to a server whose key is not pinned yet (only "Test connection" does, to
   * show the fingerprint). Default false: an unpinned connection is refused.
   */
  allowUnpinned?: boolean;
  /** Longest wait for the connection and login, in ms; default 15000. */
  connectTimeoutMs?: number;
  /** Longest wait for the next bytes of a transfer, in ms; default 30000. */
  idleTimeoutMs?: number;
}

/** Bytes asked for by one read request (the largest every server answers whole). */
const READ_BYTES = 32 * 1024;
/** Read requests in flight at once. */
const READ_AHEAD = 64;

/** An entry of a folder listing. */
export interface SftpEntry {
  name: string;
  size: number;
  modified: string;
  directory: boolean;
}

/** The fingerprint OpenSSH prints for a public key blob: `SHA256:` and base64 without padding. */
export function fingerprintOf(publicKeyBlob: Uint8Array): string {
  const digest = createHash("sha256").update(publicKeyBlob).digest("base64");
  return `SHA256:${digest.replace(/=+$/, "")}`;
}

/** True for a fingerprint as OpenSSH writes one. */
export function isFingerprint(text: string): boolean {
  return /^SHA256:[A-Za-z0-9+/]{43}$/.test(text);
}

const LEGACY = {
  kex: [
    "diffie-hellman-group-exchange-sha1",
    "diffie-hellman-group14-sha1",
    "diffie-hellman-group1-sha1",
  ],
  cipher: ["aes256-cbc", "aes192-cbc", "aes128-cbc", "3des-cbc"],
  serverHostKey: ["ssh-dss"],
  hmac: ["hmac-sha1-96", "hmac-md5", "hmac-md5-96"],
};

/** What `ssh2` supports here (a cipher needs the runtime's crypto to have it). */
const SUPPORTED: Record<keyof typeof LEGACY, readonly string[]> = {
  kex: (constants as Record<string, string[]>)["SUPPORTED_KEX"] ?? [],
  cipher: (constants as Record<string, string[]>)["SUPPORTED_CIPHER"] ?? [],
  serverHostKey: (constants as Record<string, string[]>)["SUPPORTED_SERVER_HOST_KEY"] ?? [],
  hmac: (constants as Record<string, string[]>)["SUPPORTED_MAC"] ?? [],
};

/** The legacy algorithms this build of `ssh2` can use (unsupported names are left out). */
function legacyAlgorithms(): ConnectConfig["algorithms"] {
  const keep = (kind: keyof typeof LEGACY, names: string[]) =>
    names.filter((n) => SUPPORTED[kind].includes(n));
  return {
    kex: { append: keep("kex", LEGACY.kex) },
    cipher: { append: keep("cipher", LEGACY.cipher) },
    serverHostKey: { append: keep("serverHostKey", LEGACY.serverHostKey) },
    hmac: { append: keep("hmac", LEGACY.hmac) },
  } as ConnectConfig["algorithms"];
}

function describe(error: unknown, target: SftpTarget): SftpError {
  if (error instanceof SftpError) return error;
  const e = error as { level?: string; code?: string | number; message?: string };
  const where = `${target.host}:${target.port}`;
  const message = e?.message ?? String(error);
  if (e?.level === "client-authentication") {
    return new SftpError(
      "auth",
      `The server ${where} refused the login of "${target.username}" (wrong ${
        target.auth.kind === "password" ? "password" : "key or passphrase"
      })`,
    );
  }
  if (e?.level === "client-timeout" || /timed out/i.test(message)) {
    return new SftpError("timeout", `The server ${where} did not answer in time`);
  }
  if (/passphrase|Encrypted private key|Cannot parse privateKey/i.test(message)) {
    return new SftpError("auth", `The private key cannot be read: ${message}`);
  }
  if (
    e?.code === "ECONNREFUSED" || e?.code === "ENOTFOUND" || e?.code === "ECONNRESET" ||
    e?.code === "EHOSTUNREACH" || e?.level === "client-socket"
  ) {
    return new SftpError("network", `Cannot reach ${where}: ${message}`);
  }
  if (/No response from server|Not connected|closed|ECONNRESET/i.test(message)) {
    return new SftpError("network", `The connection to ${where} was lost: ${message}`);
  }
  if (e?.code === 2) return new SftpError("not_found", "No such file on the server");
  if (e?.code === 3) {
    return new SftpError("permission", "The server denied access (permission denied)");
  }
  return new SftpError("protocol", `The SFTP session with ${where} failed: ${message}`);
}

/**
 * Connects and logs in, verifying the host key first (see the module's comment).
 * Resolves with an open session; close it when done.
 */
export async function connectSftp(
  target: SftpTarget,
  options: ConnectOptions = {},
): Promise<SftpSession> {
  const client: SshClient = new Client();
  let seen: string | undefined;
  let keyProblem: SftpError | undefined;
  const connectTimeoutMs = options.connectTimeoutMs ?? 15_000;
  const config: ConnectConfig = {
    host: target.host,
    port: target.port,
    username: target.username,
    readyTimeout: connectTimeoutMs,
    keepaliveInterval: 10_000,
    hostVerifier: (key: Uint8Array) => {
      seen = fingerprintOf(key);
      if (target.hostKeyFingerprint === null) {
        if (options.allowUnpinned) return true;
        keyProblem = new SftpError(
          "host_key",
          `The connection has no accepted host key yet (the server shows ${seen}); test the connection and accept the fingerprint first`,
        );
        return false;
      }
      if (seen !== target.hostKeyFingerprint) {
        keyProblem = new SftpError(
          "host_key",
          `The server's host key ${seen} differs from the accepted ${target.hostKeyFingerprint}; refused before logging in`,
        );
        return false;
      }
      return true;
    },
    ...(target.auth.kind === "password" ? { password: target.auth.password } : {
      privateKey: target.auth.privateKey,
      ...(target.auth.passphrase ? { passphrase: target.auth.passphrase } : {}),
    }),
    ...(target.allowLegacyCiphers ? { algorithms: legacyAlgorithms() } : {}),
  };
  // The first error settles the connection attempt; any later one (a socket closing
  // after a refused key or login) has nobody left to tell and must not go unhandled.
  client.on("error", () => {});
  try {
    await new Promise<void>((resolve, reject) => {
      client.once("ready", () => resolve());
      client.once("error", reject);
      client.connect(config);
    });
  } catch (error) {
    client.end();
    throw keyProblem ?? describe(error, target);
  }
  let sftp: SFTPWrapper;
  try {
    sftp = await new Promise<SFTPWrapper>((resolve, reject) =>
      client.sftp((error, s) => error ? reject(error) : resolve(s))
    );
  } catch (error) {
    client.end();
    throw describe(error, target);
  }
  // Failures reach the operation that was waiting; the wrapper's own event is not one.
  sftp.on("error", () => {});
  return new SftpSession(client, sftp, {
    target,
    fingerprint: seen ?? "",
    idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
  });
}

/** A logged-in SFTP session. */
export class SftpSession implements AsyncDisposable {
  /** The server's host-key fingerprint, as seen on this connection. */
  readonly fingerprint: string;
  readonly #client: SshClient;
  readonly #sftp: SFTPWrapper;
  readonly #target: SftpTarget;
  readonly #idleTimeoutMs: number;

  constructor(
    client: SshClient,
    sftp: SFTPWrapper,
    options: { target: SftpTarget; fingerprint: string; idleTimeoutMs: number },
  ) {
    this.#client = client;
    this.#sftp = sftp;
    this.#target = options.target;
    this.fingerprint = options.fingerprint;
    this.#idleTimeoutMs = options.idleTimeoutMs;
  }

  /** The entries of a folder (default: the login folder), sorted by name. */
  async list(path = "."): Promise<SftpEntry[]> {
    const entries = await new Promise<{ filename: string; attrs: Stats }[]>((resolve, reject) =>
      this.#sftp.readdir(path, (error, list) => error ? reject(error) : resolve(list))
    ).catch((error) => {
      throw describe(error, this.#target);
    });
    return entries.map((e) => ({
      name: e.filename,
      size: Number(e.attrs.size ?? 0),
      modified: new Date(Number(e.attrs.mtime ?? 0) * 1000).toISOString(),
      directory: (Number(e.attrs.mode ?? 0) & 0o170000) === 0o040000,
    })).sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  }

  /** Size and modification time of a file. */
  async stat(path: string): Promise<{ size: number; mtime: Date; isFile: boolean }> {
    const attrs = await new Promise<Stats>((resolve, reject) =>
      this.#sftp.stat(path, (error, stats) => error ? reject(error) : resolve(stats))
    ).catch((error) => {
      throw describe(error, this.#target);
    });
    return {
      size: Number(attrs.size ?? 0),
      mtime: new Date(Number(attrs.mtime ?? 0) * 1000),
      isFile: (Number(attrs.mode ?? 0) & 0o170000) === 0o100000,
    };
  }

  /**
   * The bytes of a file from its start, streamed (never the whole file in memory):
   * up to {@linkcode READ_AHEAD} requests of {@linkcode READ_BYTES} are in flight at
   * once (one request at a time moves about 1 MB/s even on loopback), handed on in
   * order. A transfer that gets no bytes for the idle timeout fails with a `timeout`
   * error, a connection lost during it with a `network` error.
   */
  async *read(path: string): AsyncGenerator<Uint8Array> {
    const sftp = this.#sftp;
    const call = <T>(start: (cb: (error: Error | undefined | null, value: T) => void) => void) =>
      this.#timed(
        new Promise<T>((resolve, reject) =>
          start((error, value) => error ? reject(error) : resolve(value))
        ),
      );
    const handle = await call<Buffer>((cb) => sftp.open(path, "r", cb)).catch((error) => {
      throw describe(error, this.#target);
    });
    try {
      const size = Number((await call<Stats>((cb) => sftp.fstat(handle, cb))).size ?? 0);
      const pending: Promise<Uint8Array>[] = [];
      let next = 0;
      /** Past the size the server gave: read on until it says the end (a file may grow). */
      let tail = false;
      const request = (position: number) => {
        const buffer = Buffer.allocUnsafe(READ_BYTES);
        return call<number>((cb) => sftp.read(handle, buffer, 0, READ_BYTES, position, cb))
          .then((n) => buffer.subarray(0, n), (error) => {
            // The end of the file answers as an error without a message of its own.
            if ((error as { code?: number }).code === 1) return new Uint8Array(0);
            throw error;
          });
      };
      const fill = () => {
        while (!tail && pending.length < READ_AHEAD && next < size) {
          const chunk = request(next);
          // Awaited in order below; a failure after the first is not a stray rejection.
          chunk.catch(() => {});
          pending.push(chunk);
          next += READ_BYTES;
        }
      };
      fill();
      for (;;) {
        if (pending.length === 0) {
          tail = true;
          const chunk = await request(next);
          if (chunk.byteLength === 0) return;
          next += chunk.byteLength;
          yield chunk;
          continue;
        }
        const chunk = await pending.shift()!;
        fill();
        if (chunk.byteLength === 0) {
          await Promise.allSettled(pending);
          return;
        }
        yield chunk;
        if (chunk.byteLength < READ_BYTES && pending.length === 0) tail = true;
      }
    } catch (error) {
      throw describe(error, this.#target);
    } finally {
      sftp.close(handle, () => {});
    }
  }

  /** `promise`, or a `timeout` error when it has not settled within the idle timeout. */
  #timed<T>(promise: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const idle = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new SftpError(
              "timeout",
              `The transfer from ${this.#target.host} stalled (no data for ${
                Math.round(this.#idleTimeoutMs / 1000)
              } s)`,
            ),
          ),
        this.#idleTimeoutMs,
      );
    });
    return Promise.race([promise, idle]).finally(() => clearTimeout(timer));
  }

  /** Ends the session and its connection. */
  close(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#client.once("close", () => resolve());
      this.#client.end();
      setTimeout(resolve, 1000);
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
