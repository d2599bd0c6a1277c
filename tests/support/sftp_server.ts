/**
 * A real SFTP server in the test's own process: `ssh2`'s server on 127.0.0.1, port 0,
 * serving a temporary folder read-only to one user (password or public key), with a
 * host key of its own. Knobs for the failures a source must survive: a path refused
 * with "permission denied", a delay per read (a slow or stalled server), and a
 * disconnect after some bytes.
 */
import { createHash } from "node:crypto";
import { Buffer } from "node:buffer";
// @ts-types="../../src/connections/ssh2.d.ts"
import ssh2 from "ssh2";

const { Server, utils } = ssh2;
const STATUS = utils.sftp.STATUS_CODE;

/** Options of {@linkcode startSftpServer}. */
export interface SftpServerOptions {
  username?: string;
  /** The accepted password (default "secret"). */
  password?: string;
  /** An accepted public key (OpenSSH text), besides the password. */
  publicKey?: string;
  /** The server's host key (PEM/OpenSSH); a new ed25519 key by default. */
  hostKey?: string;
  /** Only these algorithms (e.g. a legacy cipher alone). */
  algorithms?: Record<string, string[]>;
  /** Serve this existing folder (kept at close) instead of a new temporary one. */
  root?: string;
}

/** A running test SFTP server. */
export interface SftpServer extends AsyncDisposable {
  readonly port: number;
  readonly root: string;
  readonly username: string;
  readonly password: string;
  /** The host key's fingerprint as OpenSSH prints it (`SHA256:…`, no padding). */
  readonly fingerprint: string;
  /** Paths (relative to the root) that answer "permission denied". */
  readonly denied: Set<string>;
  /** Milliseconds each READ waits before answering. */
  readDelayMs: number;
  /** Drop the connection after this many bytes were sent (Infinity: never). */
  disconnectAfterBytes: number;
  /** Authentications refused so far. */
  refusedLogins: number;
  /** Called once, after the first READ was answered (e.g. to change the file meanwhile). */
  afterFirstRead: (() => Promise<void>) | undefined;
  write(path: string, content: string | Uint8Array): Promise<string>;
  close(): Promise<void>;
}

function fingerprintOf(publicKeyBlob: Uint8Array): string {
  return `SHA256:${createHash("sha256").update(publicKeyBlob).digest("base64").replace(/=+$/, "")}`;
}

/**
 * A new ed25519 key pair in OpenSSH form (`ssh2`'s generator, with its options). Under
 * Deno that generator now and then (about 1 in 200) writes a 31-byte public key,
 * which `ssh2`'s own parser then refuses ("Malformed OpenSSH private key"): such a
 * pair is generated again.
 */
export function ed25519Keys(
  options?: { passphrase?: string; cipher?: string; rounds?: number },
): { private: string; public: string } {
  for (let attempt = 1;; attempt++) {
    const pair = utils.generateKeyPairSync("ed25519", options);
    const parsed = utils.parseKey(pair.private, options?.passphrase);
    if (!(parsed instanceof Error) && !(utils.parseKey(pair.public) instanceof Error)) return pair;
    if (attempt === 20) throw new Error(`no usable ed25519 key in 20 tries: ${parsed}`);
  }
}

/** Starts a server for a new temporary root folder. */
export async function startSftpServer(options: SftpServerOptions = {}): Promise<SftpServer> {
  const root = options.root ?? await Deno.makeTempDir({ prefix: "autocomm_sftp_" });
  const username = options.username ?? "sis";
  const password = options.password ?? "secret";
  const hostKey = options.hostKey ?? ed25519Keys().private;
  const parsedHost = utils.parseKey(hostKey);
  if (parsedHost instanceof Error) throw parsedHost;
  const fingerprint = fingerprintOf(parsedHost.getPublicSSH());
  const allowedKey = options.publicKey ? utils.parseKey(options.publicKey) : undefined;
  if (allowedKey instanceof Error) throw allowedKey;

  const state = {
    denied: new Set<string>(),
    readDelayMs: 0,
    disconnectAfterBytes: Infinity,
    refusedLogins: 0,
    afterFirstRead: undefined as (() => Promise<void>) | undefined,
  };
  const clients = new Set<{ end(): void }>();
  const inside = (path: string) => {
    const clean = path.replace(/^\/+/, "").split("/").filter((p) => p !== "" && p !== ".");
    if (clean.includes("..")) return undefined;
    return { rel: clean.join("/"), abs: [root, ...clean].join("/") };
  };
  const attrsOf = (info: Deno.FileInfo) => ({
    mode: (info.isDirectory ? 0o040000 : 0o100000) | 0o644,
    uid: 0,
    gid: 0,
    size: info.size,
    atime: Math.floor((info.atime ?? info.mtime ?? new Date()).getTime() / 1000),
    mtime: Math.floor((info.mtime ?? new Date()).getTime() / 1000),
  });

  const server = new Server(
    { hostKeys: [hostKey], ...(options.algorithms ? { algorithms: options.algorithms } : {}) },
    (client) => {
      clients.add(client);
      client.on("close", () => clients.delete(client));
      client.on("error", () => {});
      client.on("authentication", (ctx) => {
        const ok = ctx.username === username && (
          (ctx.method === "password" && ctx.password === password) ||
          (ctx.method === "publickey" && allowedKey !== undefined &&
            ctx.key.algo === allowedKey.type &&
            Buffer.compare(ctx.key.data, allowedKey.getPublicSSH()) === 0 &&
            (!ctx.signature || allowedKey.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) === true))
        );
        if (ok) return ctx.accept();
        if (ctx.method !== "none") state.refusedLogins++;
        ctx.reject(["password", "publickey"]);
      });
      client.on("ready", () => {
        client.on("session", (acceptSession) => {
          const session = acceptSession();
          session.on("sftp", (acceptSftp) => {
            const sftp = acceptSftp();
            const files = new Map<string, Deno.FsFile>();
            const dirs = new Map<string, { abs: string; entries: Deno.DirEntry[] | null }>();
            let next = 0;
            let sent = 0;
            const fail = (id: number, error: unknown) =>
              sftp.status(
                id,
                error instanceof Deno.errors.NotFound ? STATUS.NO_SUCH_FILE : STATUS.FAILURE,
                String(error),
              );
            sftp.on("REALPATH", (id, path) => {
              const p = inside(path);
              if (!p) return sftp.status(id, STATUS.PERMISSION_DENIED);
              sftp.name(id, [{ filename: `/${p.rel}`, longname: `/${p.rel}`, attrs: {} as never }]);
            });
            const stat = async (id: number, path: string) => {
              const p = inside(path);
              if (!p || state.denied.has(p.rel)) return sftp.status(id, STATUS.PERMISSION_DENIED);
              try {
                sftp.attrs(id, attrsOf(await Deno.stat(p.abs)));
              } catch (error) {
                fail(id, error);
              }
            };
            sftp.on("STAT", stat);
            sftp.on("LSTAT", stat);
            sftp.on("OPEN", async (id, path) => {
              const p = inside(path);
              if (!p || state.denied.has(p.rel)) return sftp.status(id, STATUS.PERMISSION_DENIED);
              try {
                const file = await Deno.open(p.abs, { read: true });
                const handle = String(next++);
                files.set(handle, file);
                sftp.handle(id, Buffer.from(handle));
              } catch (error) {
                fail(id, error);
              }
            });
            sftp.on("FSTAT", async (id, handle) => {
              const file = files.get(handle.toString());
              if (!file) return sftp.status(id, STATUS.FAILURE);
              sftp.attrs(id, attrsOf(await file.stat()));
            });
            /** Reads of one handle, one after another (a seek and a read each). */
            const queues = new Map<string, Promise<void>>();
            sftp.on("READ", (id, handle, offset, length) => {
              const key = handle.toString();
              const file = files.get(key);
              if (!file) return sftp.status(id, STATUS.FAILURE);
              const previous = queues.get(key) ?? Promise.resolve();
              const done = previous.then(async () => {
                if (state.readDelayMs > 0) {
                  await new Promise((r) => setTimeout(r, state.readDelayMs));
                }
                const buffer = new Uint8Array(length);
                let n: number | null;
                try {
                  await file.seek(offset, Deno.SeekMode.Start);
                  n = await file.read(buffer);
                } catch {
                  return; // closed meanwhile: the client went away
                }
                if (n === null) return sftp.status(id, STATUS.EOF);
                sent += n;
                if (sent > state.disconnectAfterBytes) {
                  client.end();
                  return;
                }
                sftp.data(id, Buffer.from(buffer.subarray(0, n)));
                const hook = state.afterFirstRead;
                state.afterFirstRead = undefined;
                await hook?.();
              });
              queues.set(key, done.catch(() => {}));
            });
            sftp.on("OPENDIR", async (id, path) => {
              const p = inside(path);
              if (!p || state.denied.has(p.rel)) return sftp.status(id, STATUS.PERMISSION_DENIED);
              try {
                const entries: Deno.DirEntry[] = [];
                for await (const e of Deno.readDir(p.abs)) entries.push(e);
                const handle = `d${next++}`;
                dirs.set(handle, { abs: p.abs, entries });
                sftp.handle(id, Buffer.from(handle));
              } catch (error) {
                fail(id, error);
              }
            });
            sftp.on("READDIR", async (id, handle) => {
              const key = handle.toString();
              const dir = dirs.get(key);
              if (!dir?.entries) return sftp.status(id, STATUS.EOF);
              const entries = dir.entries;
              dir.entries = null;
              const names = [];
              for (const e of entries) {
                const info = await Deno.stat(`${dir.abs}/${e.name}`).catch(() => undefined);
                if (!info) continue;
                names.push({ filename: e.name, longname: e.name, attrs: attrsOf(info) as never });
              }
              sftp.name(id, names);
            });
            sftp.on("CLOSE", (id, handle) => {
              const key = handle.toString();
              files.get(key)?.close();
              files.delete(key);
              dirs.delete(key);
              sftp.status(id, STATUS.OK);
            });
          });
        });
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as { port: number }).port;
  const close = async () => {
    for (const c of clients) c.end();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (options.root === undefined) await Deno.remove(root, { recursive: true }).catch(() => {});
  };
  return {
    port,
    root,
    username,
    password,
    fingerprint,
    get denied() {
      return state.denied;
    },
    get readDelayMs() {
      return state.readDelayMs;
    },
    set readDelayMs(v) {
      state.readDelayMs = v;
    },
    get disconnectAfterBytes() {
      return state.disconnectAfterBytes;
    },
    set disconnectAfterBytes(v) {
      state.disconnectAfterBytes = v;
    },
    get refusedLogins() {
      return state.refusedLogins;
    },
    set refusedLogins(v) {
      state.refusedLogins = v;
    },
    get afterFirstRead() {
      return state.afterFirstRead;
    },
    set afterFirstRead(v) {
      state.afterFirstRead = v;
    },
    async write(path, content) {
      const abs = `${root}/${path}`;
      await Deno.mkdir(abs.replace(/\/[^/]*$/, ""), { recursive: true });
      if (typeof content === "string") await Deno.writeTextFile(abs, content);
      else await Deno.writeFile(abs, content);
      return abs;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
