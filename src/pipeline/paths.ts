/**
 * Paths of import files. A record's path is relative to the import root (or the
 * SFTP login folder); backslashes are separators; `{school}` becomes the record's
 * School_Number. Absolute paths, drive letters, `..` segments, NUL bytes and
 * anything outside the root are refused — when a record is saved (the path rules
 * live in `src/util/record_path.ts`, below the records and the run) and again when
 * it runs.
 */
import { checkRecordPath } from "../util/record_path.ts";

/**
 * An import file opened once. Everything the run learns about the file — size,
 * modification time, links, hash, bytes, the held copy — comes from `file`, never
 * from its name again, so a name that changes after opening changes nothing.
 */
export interface OpenedFile {
  file: Deno.FsFile;
  /** The handle's own status (fstat). */
  info: Deno.FileInfo;
}

/**
 * Opens the file of a record's path under `root`, once, and proves that what it
 * opened is the file inside the root:
 *
 * 1. the path is checked ({@linkcode checkRecordPath}) and resolved (`realPath`, which
 *    follows links in every component); the result must lie inside the resolved root;
 * 2. that resolved path, free of links, is opened read-only if it names a regular file
 *    (a named pipe would make the open wait for a writer);
 * 3. the open handle must be the file found at the resolved path afterwards — same
 *    device and inode as `lstat` of it, a regular file — and, on Linux, the kernel's
 *    own path of the open file (`/proc/self/fd`) must lie inside the root; elsewhere
 *    the path must still resolve to itself.
 *
 * On Linux a link swapped in at any moment, for the file or for a directory on its
 * way, is caught: the run reads the file inside the root or nothing (the kernel's path
 * is where the open file is, whatever the path looks like by then). Elsewhere only a
 * directory swapped for a link and back again between two of the checks could pass.
 * A link inside the root to another file inside it is read. Hard links cannot be told
 * apart from the file itself; the caller notes a file with more than one.
 *
 * Throws {@linkcode UnsafePathError} (refuse the file) or {@linkcode NoFileError}.
 */
export async function openImportFile(
  root: string,
  path: string,
  school: number,
): Promise<OpenedFile> {
  const check = checkRecordPath(path, school);
  if (!check.ok) throw new UnsafePathError(lowerFirst(check.message));
  const base = root.replace(/\/+$/, "");
  let realRoot: string;
  try {
    realRoot = await Deno.realPath(base === "" ? "/" : base);
  } catch {
    throw new NoFileError("missing"); // no root yet: nothing can be read
  }
  const inside = realRoot.endsWith("/") ? realRoot : `${realRoot}/`;
  let real: string;
  try {
    real = await Deno.realPath(`${base}/${check.segments.join("/")}`);
  } catch (error) {
    throw unreadable(error);
  }
  if (!real.startsWith(inside)) throw new UnsafePathError(OUTSIDE);
  let file: Deno.FsFile;
  try {
    // Opening a named pipe would wait for a writer: only a regular file is opened.
    if (!(await Deno.stat(real)).isFile) throw new NoFileError("not_a_file");
    file = await Deno.open(real, { read: true });
  } catch (error) {
    throw error instanceof NoFileError ? error : unreadable(error);
  }
  try {
    const info = await file.stat();
    if (!info.isFile) throw new NoFileError("not_a_file");
    let named: Deno.FileInfo | null = null;
    try {
      named = await Deno.lstat(real);
    } catch {
      // Gone since it was opened: not the same file.
    }
    if (named === null || !named.isFile || !sameFile(info, named)) {
      throw new UnsafePathError(CHANGED);
    }
    const opened = kernelPaths(info);
    const moved = opened === null
      ? (await Deno.realPath(real).catch(() => null)) !== real
      : opened.length === 0 || opened.some((p) => !p.startsWith(inside));
    if (moved) throw new UnsafePathError(CHANGED);
    return { file, info };
  } catch (error) {
    file.close();
    throw error;
  }
}

/** Opens a file the operator named (a one-off import) or a held run's copy: no root. */
export async function openNamedFile(path: string): Promise<OpenedFile> {
  let file: Deno.FsFile;
  try {
    if (!(await Deno.stat(path)).isFile) throw new NoFileError("not_a_file");
    file = await Deno.open(path, { read: true });
  } catch (error) {
    throw error instanceof NoFileError ? error : unreadable(error);
  }
  try {
    const info = await file.stat();
    if (!info.isFile) throw new NoFileError("not_a_file");
    return { file, info };
  } catch (error) {
    file.close();
    throw error;
  }
}

const OUTSIDE = "it leads outside the import folder";
const CHANGED = "it changed while it was opened";

/** The two are the same file (device and inode). */
function sameFile(a: Deno.FileInfo, b: Deno.FileInfo): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/**
 * Where the kernel says this process's open files with `info`'s device and inode
 * are (`/proc/self/fd/N` links to the path the file was opened at, links resolved),
 * or null where there is no `/proc` (not Linux).
 */
function kernelPaths(info: Deno.FileInfo): string[] | null {
  if (Deno.build.os !== "linux") return null;
  let fds: Deno.DirEntry[];
  try {
    fds = [...Deno.readDirSync("/proc/self/fd")];
  } catch {
    return null;
  }
  const paths: string[] = [];
  for (const fd of fds) {
    const link = `/proc/self/fd/${fd.name}`;
    try {
      if (sameFile(Deno.statSync(link), info)) paths.push(Deno.readLinkSync(link));
    } catch {
      // Closed meanwhile (such as the listing's own descriptor): not the file.
    }
  }
  return paths;
}

/** What an error of resolving or opening the path means for the run. */
function unreadable(error: unknown): Error {
  if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
    return new NoFileError("missing");
  }
  if (error instanceof Deno.errors.IsADirectory) return new NoFileError("not_a_file");
  return new UnsafePathError(
    `it cannot be opened (${error instanceof Error ? error.name : String(error)})`,
  );
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** The record's path is not safe to read; the message says why, without the file's content. */
export class UnsafePathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnsafePathError";
  }
}

/** There is no file at the path (`missing`), or it is not a regular file. */
export class NoFileError extends Error {
  readonly kind: "missing" | "not_a_file";

  constructor(kind: "missing" | "not_a_file") {
    super(kind === "missing" ? "There is no file" : "It is not a file");
    this.name = "NoFileError";
    this.kind = kind;
  }
}
