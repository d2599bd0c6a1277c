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
  /** Scratch folder for a downloaded file. */
  spoolDir: string;
  /** Keys that open a managed connection's secret. */
  keys: { current: Uint8Array | undefined; previous: Uint8Array | undefined };
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
    const [held] = await exec.all("SELECT status, held_path FROM runs WHERE id = ?", [
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
      { keys: options.keys, spoolDir: options.spoolDir },
    );
  }
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
 * Hands on a source's chunks and hashes them, in one pass; `digest` is filled in at
 * the end. A file of at most `wholeFileBytes` (by `size`, the source's) is gathered
 * whole (no copy when it came in one chunk), hashed with Web Crypto and handed on in
 * 64 KiB pieces; a larger one is hashed chunk by chunk as it streams.
 */
export async function* hashedChunks(
  chunks: AsyncIterable<Uint8Array>,
  size: number,
  digest: FileDigest,
  wholeFileBytes = WHOLE_FILE_BYTES,
): AsyncGenerator<Uint8Array> {
  if (size <= wholeFileBytes) {
    const parts: Uint8Array[] = [];
    for await (const chunk of chunks) parts.push(chunk);
    const bytes = parts.length === 1 ? parts[0]! : concat(parts);
    digest.bytes = bytes.byteLength;
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

/** Copies a source's file, from its start, to `<dataDir>/held/`; returns the copy's path. */
export async function keepHeldFile(
  source: FileSource,
  options: { dataDir: string; runId: number },
): Promise<string> {
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
