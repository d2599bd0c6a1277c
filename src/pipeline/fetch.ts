/**
 * The fetch stage: where a run's file comes from. Every source sits behind
 * {@linkcode FileSource} — a name for messages, `stat()` (size, modification time)
 * and `open()` (the bytes from the start) — so the stages after it never know whether
 * the file is in the local import folder, a held run's kept copy, the file an operator
 * named, or (next) on an SFTP server.
 *
 * The local source opens its file once (`paths.ts`: never a file outside the import
 * root, even while someone swaps links) and everything — size, time, links, hash,
 * bytes, a held run's copy — comes from that one handle.
 */
import { FileRejection } from "./errors.ts";
import { FetchFailure } from "./fetch_failures.ts";
import type { SqlExecutor } from "./executor.ts";
import { type OpenedFile, openImportFile, openNamedFile } from "./paths.ts";

/** What a source tells of its file without reading it. */
export interface SourceStat {
  size: number;
  mtime: Date | null;
  /** Number of hard links, where the source can tell (null otherwise). */
  links: number | null;
}

/** A run's file, wherever it is. Dispose it when the run is done with it. */
export interface FileSource extends Disposable {
  /** How messages name the file: the record's path, or the file the operator named. */
  readonly displayName: string;
  /** The file's own name, recorded on the run. */
  readonly fileName: string;
  /** Size, modification time and links, without reading the file. */
  stat(): Promise<SourceStat>;
  /** The bytes from the start, in chunks; each call starts again at the first byte. */
  open(): AsyncIterable<Uint8Array>;
  /**
   * True when the first `open()` downloads the bytes over the network: the run then
   * parses them as they arrive (its progress moves during the download) instead of
   * reading a small file whole first.
   */
  readonly downloads?: boolean;
  /**
   * Keeps the file where the source already spooled it, as the held file of the run
   * (`Spool.keep`); returns its `held_path`, or undefined when it cannot.
   */
  keep?(): string | undefined;
}

/**
 * Files up to this size are read whole and hashed with Web Crypto; larger ones are
 * hashed as they stream, with `node:crypto`, whose module alone takes about 15 ms
 * to load — a quarter of a small import.
 */
const WHOLE_FILE_BYTES = 8 * 1024 * 1024;
/** Size of the chunks a file is handed on in. */
const CHUNK_BYTES = 64 * 1024;

/** A file in the local file system, opened once (see the module's comment). */
export class LocalFileSource implements FileSource {
  readonly displayName: string;
  readonly fileName: string;
  readonly #opened: OpenedFile;

  constructor(opened: OpenedFile, names: { displayName: string; fileName: string }) {
    this.#opened = opened;
    this.displayName = names.displayName;
    this.fileName = names.fileName;
  }

  stat(): Promise<SourceStat> {
    const info = this.#opened.info;
    return Promise.resolve({ size: info.size, mtime: info.mtime, links: info.nlink });
  }

  /** A file up to 8 MiB comes as one chunk (read whole); a larger one in 64 KiB chunks. */
  async *open(): AsyncGenerator<Uint8Array> {
    const { file, info } = this.#opened;
    await file.seek(0, Deno.SeekMode.Start);
    if (info.size <= WHOLE_FILE_BYTES) {
      yield await readToEnd(file, info.size);
      return;
    }
    for (;;) {
      const buffer = new Uint8Array(CHUNK_BYTES);
      const n = await file.read(buffer);
      if (n === null) return;
      yield n === CHUNK_BYTES ? buffer : buffer.subarray(0, n);
    }
  }

  [Symbol.dispose](): void {
    this.#opened.file.close();
  }
}

/** The rest of an open file, expected to be `size` bytes (it may have grown or shrunk). */
async function readToEnd(file: Deno.FsFile, size: number): Promise<Uint8Array<ArrayBuffer>> {
  // One byte more than expected, so that the end is seen without growing the buffer.
  let buffer = new Uint8Array(size + 1);
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      const larger = new Uint8Array(buffer.length * 2);
      larger.set(buffer);
      buffer = larger;
    }
    const n = await file.read(buffer.subarray(length));
    if (n === null) break;
    length += n;
  }
  return buffer.subarray(0, length);
}

/** What the fetch stage needs of the run. */
export interface FetchRun {
  /** The held run this run approves, or null. */
  approves: number | null;
  settings: {
    /** The file a one-off import names, or null. */
    file: string | null;
    /** A record's path under the import root (or its managed connection's login folder). */
    path: string | null;
    schoolId: number;
    /** `managed`: the file is on the record's SFTP connection. */
    source?: "local" | "managed";
    connectionId?: number | null;
  };
}

/** Options of {@linkcode openRunSource}. */
export interface OpenRunSourceOptions {
  importRoot: string;
  /** Where a downloaded file is kept while the run reads it again (see {@linkcode Spool}). */
  spool: () => Spool;
  /**
   * False without a local disk (inline mode): a record's local folder is refused (the
   * run fails, saying to use a managed connection). Default true.
   */
  localFolder?: boolean;
  /** Keys that open a managed connection's secret. */
  keys: { current: Uint8Array | undefined; previous: Uint8Array | undefined };
}

/** Why a record's local folder cannot be read without a local disk. */
export const NO_LOCAL_DISK =
  "This service runs without a local disk (inline imports on a remote database): a record's file cannot come from a local folder; use a managed connection (SFTP); nothing was changed";

/**
 * Where a downloaded file is kept while its run reads it, so that a second read (a held
 * run's kept copy) is exactly the bytes the run validated, not a second download: a
 * scratch file ({@linkcode fileSpool}) or, without a local disk, the database
 * ({@linkcode databaseSpool}).
 */
export interface Spool extends Disposable {
  /** Appends bytes. */
  write(chunk: Uint8Array): Promise<void>;
  /** After the last write. */
  end(): Promise<void>;
  /** The bytes written, from the first. */
  read(): AsyncIterable<Uint8Array>;
  /**
   * Keeps the bytes as the held file of the spool's run instead of removing them at
   * disposal; returns the run's `held_path`, or undefined when this spool cannot.
   */
  keep(): string | undefined;
}

/** A spool in a scratch file under `dir` (removed at disposal). */
export function fileSpool(dir: string): Spool {
  let path: string | undefined;
  let out: Deno.FsFile | undefined;
  return {
    async write(chunk) {
      if (out === undefined) {
        await Deno.mkdir(dir, { recursive: true });
        path = await Deno.makeTempFile({ dir, prefix: "sftp-" });
        out = await Deno.open(path, { write: true, truncate: true });
      }
      let written = 0;
      while (written < chunk.byteLength) written += await out.write(chunk.subarray(written));
    },
    end() {
      out?.close();
      out = undefined;
      return Promise.resolve();
    },
    async *read() {
      if (path === undefined) return;
      using file = await Deno.open(path, { read: true });
      for (;;) {
        const buffer = new Uint8Array(CHUNK_BYTES);
        const n = await file.read(buffer);
        if (n === null) return;
        yield buffer.subarray(0, n);
      }
    },
    keep: () => undefined,
    [Symbol.dispose]() {
      out?.close();
      if (path !== undefined) {
        try {
          Deno.removeSync(path);
        } catch {
          // already gone
        }
      }
    },
  };
}

/** `held_path` of a run whose held file is kept in the database (`held_file_chunks`). */
export const HELD_IN_DATABASE = "database:held_file_chunks";
/** Most bytes of one row of `held_file_chunks`. */
const DB_CHUNK_BYTES = 256 * 1024;

/**
 * A spool in the database: `held_file_chunks` rows of the run, 256 KiB each, written
 * as the file arrives (never the whole file in memory) on the import connection — in
 * its transaction when one is open (a held run's copy commits with the run) — and
 * deleted at disposal unless kept ({@linkcode Spool.keep}) as the held run's file.
 */
export function databaseSpool(exec: SqlExecutor, runId: number): Spool {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let seq = 0;
  let kept = false;
  let started = false;
  const flush = async () => {
    if (pendingBytes === 0) return;
    const bytes = pending.length === 1 ? pending[0]! : concat(pending);
    pending = [];
    pendingBytes = 0;
    await exec.run(
      "INSERT INTO held_file_chunks (run_id, seq, bytes) VALUES (?, ?, ?)",
      [runId, seq++, bytes],
    );
  };
  return {
    async write(chunk) {
      if (!started) {
        // What an earlier attempt of the same run (a waiting run tried again) left.
        started = true;
        await exec.run("DELETE FROM held_file_chunks WHERE run_id = ?", [runId]);
      }
      for (let at = 0; at < chunk.byteLength;) {
        const piece = chunk.subarray(at, at + DB_CHUNK_BYTES - pendingBytes);
        pending.push(piece.slice());
        pendingBytes += piece.byteLength;
        at += piece.byteLength;
        if (pendingBytes === DB_CHUNK_BYTES) await flush();
      }
    },
    end: flush,
    read: () => heldChunks(exec, runId),
    keep() {
      kept = true;
      return HELD_IN_DATABASE;
    },
    [Symbol.dispose]() {
      if (kept) return;
      // The hourly housekeeping removes what a failed delete leaves.
      exec.run("DELETE FROM held_file_chunks WHERE run_id = ?", [runId]).catch(() => {});
    },
  };
}

/** The chunks of a file kept in the database, one query each (never whole in memory). */
async function* heldChunks(exec: SqlExecutor, runId: number): AsyncGenerator<Uint8Array> {
  for (let seq = 0;; seq++) {
    const [row] = await exec.all(
      "SELECT bytes FROM held_file_chunks WHERE run_id = ? AND seq = ?",
      [runId, seq],
    );
    const bytes = row?.["bytes"];
    if (!(bytes instanceof Uint8Array)) return;
    yield bytes;
  }
}

/** A held run's file kept in the database: what an approval of it reads. */
export class HeldChunksSource implements FileSource {
  readonly displayName: string;
  readonly fileName: string;
  readonly #exec: SqlExecutor;
  readonly #runId: number;

  constructor(exec: SqlExecutor, runId: number, fileName: string) {
    this.#exec = exec;
    this.#runId = runId;
    this.fileName = fileName;
    this.displayName = `the kept file of run ${runId} (${fileName})`;
  }

  async stat(): Promise<SourceStat> {
    const [row] = await this.#exec.all(
      "SELECT coalesce(sum(length(bytes)), 0) AS size FROM held_file_chunks WHERE run_id = ?",
      [this.#runId],
    );
    return { size: Number(row?.["size"] ?? 0), mtime: null, links: null };
  }

  open(): AsyncIterable<Uint8Array> {
    return heldChunks(this.#exec, this.#runId);
  }

  [Symbol.dispose](): void {}
}

/** Removes a held run's file kept in the database. */
export async function removeHeldChunks(exec: SqlExecutor, runId: number): Promise<void> {
  await exec.run("DELETE FROM held_file_chunks WHERE run_id = ?", [runId]);
}

/**
 * Opens the file of a run, once: a held run's kept copy, the file a one-off import
 * names, a managed record's file on its SFTP server (`fetch_sftp.ts`, loaded only
 * then), or the record's path under the import root (never a file outside it).
 * Throws `UnsafePathError`, `NoFileError`, `FileRejection` (the held run is gone) or
 * `FetchFailure`.
 */
export async function openRunSource(
  exec: SqlExecutor,
  run: FetchRun,
  options: OpenRunSourceOptions,
): Promise<FileSource> {
  const named = (path: string) => ({ displayName: path, fileName: path.split("/").pop() ?? path });
  if (run.approves !== null) {
    const [held] = await exec.all("SELECT status, held_path, file_name FROM runs WHERE id = ?", [
      run.approves,
    ]);
    // Approved once: a second approval of the same held run applies nothing.
    if (held?.["status"] !== "held") {
      throw new FileRejection(
        "not_held",
        `Run ${run.approves} is ${held?.["status"] ?? "gone"}, not held; nothing was applied`,
      );
    }
    const path = held["held_path"];
    if (typeof path !== "string") {
      throw new FileRejection("no_held_file", `Run ${run.approves} has no held file`);
    }
    if (path === HELD_IN_DATABASE) {
      return new HeldChunksSource(exec, run.approves, String(held["file_name"] ?? "file"));
    }
    return new LocalFileSource(await openNamedFile(path), named(path));
  }
  if (run.settings.file !== null) {
    return new LocalFileSource(await openNamedFile(run.settings.file), named(run.settings.file));
  }
  const path = run.settings.path ?? "";
  if (run.settings.source === "managed") {
    if (!run.settings.connectionId) {
      throw new FetchFailure("The record has no managed connection; nothing was changed");
    }
    // A specifier made at run time: a literal one would load ssh2 into every import.
    const module = ["./fetch", "sftp.ts"].join("_");
    const { openSftpSource } = await import(module) as typeof import("./fetch_sftp.ts");
    return await openSftpSource(
      exec,
      { connectionId: run.settings.connectionId, path, schoolId: run.settings.schoolId },
      { keys: options.keys, spool: options.spool },
    );
  }
  if (options.localFolder === false) throw new FetchFailure(NO_LOCAL_DISK);
  return new LocalFileSource(
    await openImportFile(options.importRoot, path, run.settings.schoolId),
    { displayName: path, fileName: recordFileName(path, run.settings.schoolId) },
  );
}

/** The file name of a record's path: its last segment, `{school}` substituted. */
export function recordFileName(path: string, school: number): string {
  const last = path.split(/[\\/]+/).filter((p) => p !== "").pop() ?? path;
  return last.replaceAll(/\{school\}/gi, String(school));
}

/**
 * Seconds since the file last changed as far as the run can tell: its modification
 * time, and 0 when its size differs from what an earlier look at it saw
 * (`previousSize`, the size a waiting run recorded).
 */
export function unchangedFor(
  stat: SourceStat,
  options: { now: Date; previousSize: number | null },
): number {
  if (options.previousSize !== null && options.previousSize !== stat.size) return 0;
  return Math.max(0, (options.now.getTime() - (stat.mtime?.getTime() ?? 0)) / 1000);
}

/** A file's size and, once read to the end, its SHA-256. */
export interface FileDigest {
  bytes: number;
  sha256: string | null;
}

/**
 * Hands on a source's chunks and hashes them, in one pass; `digest.bytes` counts the
 * bytes as they arrive (the run's progress shows it), `digest.sha256` is set at the
 * end. A file of at most `wholeFileBytes` (by `size`, the source's) is gathered whole
 * (no copy when it came in one chunk), hashed with Web Crypto and handed on in 64 KiB
 * pieces; a larger one is hashed chunk by chunk as it streams.
 */
export async function* hashedChunks(
  chunks: AsyncIterable<Uint8Array>,
  size: number,
  digest: FileDigest,
  wholeFileBytes = WHOLE_FILE_BYTES,
): AsyncGenerator<Uint8Array> {
  if (size <= wholeFileBytes) {
    const parts: Uint8Array[] = [];
    for await (const chunk of chunks) {
      parts.push(chunk);
      digest.bytes += chunk.byteLength;
    }
    const bytes = parts.length === 1 ? parts[0]! : concat(parts);
    for (let i = 0; i < bytes.byteLength; i += CHUNK_BYTES) {
      yield bytes.subarray(i, i + CHUNK_BYTES);
    }
    const sum = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
    digest.sha256 = Array.from(sum, (b) => b.toString(16).padStart(2, "0")).join("");
    return;
  }
  const { createHash } = await import("node:crypto");
  const hash = createHash("sha256");
  for await (const chunk of chunks) {
    hash.update(chunk);
    digest.bytes += chunk.byteLength;
    yield chunk;
  }
  digest.sha256 = hash.digest("hex");
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/**
 * Keeps a held run's file; returns its `held_path`. With a local disk: a copy in
 * `<dataDir>/held/`. Without one (`database`: the import connection): the file in
 * `held_file_chunks` — the download's own spool when it is there already, else a copy.
 */
export async function keepHeldFile(
  source: FileSource,
  options: { dataDir: string; runId: number; database?: SqlExecutor | undefined },
): Promise<string> {
  if (options.database !== undefined) {
    const kept = source.keep?.();
    if (kept !== undefined) return kept;
    using spool = databaseSpool(options.database, options.runId);
    for await (const chunk of source.open()) await spool.write(chunk);
    await spool.end();
    return spool.keep()!;
  }
  const dir = `${options.dataDir}/held`;
  await Deno.mkdir(dir, { recursive: true });
  const safeName = source.fileName.replace(/[^A-Za-z0-9._-]/g, "_");
  const target = `${dir}/run-${options.runId}-${safeName}`;
  using out = await Deno.open(target, { write: true, create: true, truncate: true });
  for await (const chunk of source.open()) {
    let written = 0;
    while (written < chunk.byteLength) written += await out.write(chunk.subarray(written));
  }
  return target;
}
