/**
 * The part of `ssh2` (1.17) that AutoComm and its tests use, typed here: the
 * `@types/ssh2` package pins an old `@types/node` that would replace Deno's own Node
 * types (and their `node:sqlite`) for the whole project.
 */
import type { Buffer } from "node:buffer";
import type { EventEmitter } from "node:events";

export interface Stats {
  mode?: number;
  size?: number;
  mtime?: number;
  atime?: number;
}

export interface Attributes {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  atime: number;
  mtime: number;
}

type Callback<T> = (error: Error | undefined | null, value: T) => void;

export interface SFTPWrapper extends EventEmitter {
  readdir(path: string, cb: Callback<{ filename: string; longname: string; attrs: Stats }[]>): void;
  stat(path: string, cb: Callback<Stats>): void;
  open(path: string, flags: "r", cb: Callback<Buffer>): void;
  fstat(handle: Buffer, cb: Callback<Stats>): void;
  read(
    handle: Buffer,
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number,
    cb: (error: Error | undefined | null, bytesRead: number) => void,
  ): void;
  close(handle: Buffer, cb: (error: Error | undefined | null) => void): void;
}

export interface AlgorithmList {
  append?: string[];
  prepend?: string[];
  remove?: string[];
}

export interface ConnectConfig {
  host: string;
  port: number;
  username: string;
  password?: string;
  privateKey?: string;
  passphrase?: string;
  readyTimeout?: number;
  keepaliveInterval?: number;
  hostVerifier?: (key: Uint8Array) => boolean;
  algorithms?: Record<string, AlgorithmList | string[]>;
}

export interface Client extends EventEmitter {
  connect(config: ConnectConfig): this;
  sftp(cb: Callback<SFTPWrapper>): void;
  end(): void;
}

export interface ParsedKey {
  type: string;
  getPublicSSH(): Buffer;
  verify(data: Buffer, signature: Buffer, hashAlgo?: string): boolean | Error;
}

/** The server side, as the tests' SFTP server uses it. */
export interface ServerSftp {
  on(
    event: "REALPATH" | "STAT" | "LSTAT" | "OPENDIR",
    cb: (id: number, path: string) => void,
  ): this;
  on(event: "OPEN", cb: (id: number, path: string, flags: number) => void): this;
  on(
    event: "READ",
    cb: (id: number, handle: Buffer, offset: number, length: number) => void,
  ): this;
  on(event: "FSTAT" | "READDIR" | "CLOSE", cb: (id: number, handle: Buffer) => void): this;
  handle(id: number, handle: Buffer): void;
  data(id: number, data: Buffer): void;
  status(id: number, code: number, message?: string): void;
  attrs(id: number, attrs: Attributes): void;
  name(id: number, names: { filename: string; longname: string; attrs: Attributes }[]): void;
}

export interface AuthContext {
  username: string;
  method: string;
  password?: string;
  key: { algo: string; data: Buffer };
  signature?: Buffer;
  blob?: Buffer;
  hashAlgo?: string;
  accept(): void;
  reject(methods?: string[]): void;
}

export interface ServerSession {
  on(event: "sftp", cb: (accept: () => ServerSftp) => void): this;
}

export interface ServerClient {
  on(event: "authentication", cb: (ctx: AuthContext) => void): this;
  on(event: "session", cb: (accept: () => ServerSession) => void): this;
  on(event: "ready" | "close" | "error", cb: () => void): this;
  end(): void;
}

export interface Server extends EventEmitter {
  listen(port: number, host: string, cb: () => void): void;
  address(): unknown;
  close(cb?: () => void): void;
}

declare const ssh2: {
  Client: new () => Client;
  Server: new (
    config: { hostKeys: string[]; algorithms?: Record<string, string[]> },
    onClient: (client: ServerClient) => void,
  ) => Server;
  utils: {
    generateKeyPairSync(
      type: "ed25519" | "rsa" | "ecdsa",
      options?: { passphrase?: string; cipher?: string; rounds?: number; bits?: number },
    ): { private: string; public: string };
    parseKey(key: string, passphrase?: string): ParsedKey | Error;
    sftp: {
      STATUS_CODE: Record<"OK" | "EOF" | "NO_SUCH_FILE" | "PERMISSION_DENIED" | "FAILURE", number>;
    };
  };
};
export default ssh2;
