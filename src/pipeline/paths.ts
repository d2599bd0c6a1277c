/**
 * Paths of import files. A record's path is relative to the import root (or the
 * SFTP login folder); backslashes are separators; `{school}` becomes the record's
 * School_Number. Absolute paths, drive letters, `..` segments, NUL bytes and
 * anything outside the root are refused — when a record is saved and again when
 * it runs.
 */

/** A path problem, with a message fit for the form. */
export type PathCheck = { ok: true; segments: string[] } | { ok: false; message: string };

/** Checks a record path and splits it into safe segments, `{school}` substituted. */
export function checkRecordPath(path: string, school?: number): PathCheck {
  if (path.trim() === "") {
    return { ok: false, message: "Enter the path of the file, e.g. test\\test.txt" };
  }
  if (path.includes("\0")) return { ok: false, message: "The path contains a NUL byte" };
  const text = path.trim();
  if (/^[A-Za-z]:/.test(text)) {
    return {
      ok: false,
      message: "Drive letters are not allowed: give a path under the import folder",
    };
  }
  if (/^[\\/]/.test(text)) {
    return {
      ok: false,
      message: "Absolute paths are not allowed: give a path under the import folder",
    };
  }
  const replaced = school === undefined ? text : text.replaceAll(/\{school\}/gi, String(school));
  const segments = replaced.split(/[\\/]+/).filter((s) => s !== "" && s !== ".");
  if (segments.some((s) => s === "..")) {
    return {
      ok: false,
      message: "The path may not contain .. (it must stay under the import folder)",
    };
  }
  if (segments.length === 0) return { ok: false, message: "The path names no file" };
  if (segments.some((s) => /[{}]/.test(s) && !/\{school\}/i.test(s))) {
    return { ok: false, message: "Only {school} may be written in braces in a path" };
  }
  return { ok: true, segments };
}

/**
 * The file system path of a record's file under `root`. Throws when the path is
 * unsafe, or when a symbolic link leads outside the root.
 */
export async function resolveImportPath(
  root: string,
  path: string,
  school: number,
): Promise<string> {
  const check = checkRecordPath(path, school);
  if (!check.ok) throw new UnsafePathError(check.message);
  const base = root.replace(/\/+$/, "");
  const full = `${base}/${check.segments.join("/")}`;
  let realRoot: string;
  try {
    realRoot = await Deno.realPath(base);
  } catch {
    return full; // no root yet: nothing can be read, the caller reports no_file
  }
  try {
    const real = await Deno.realPath(full);
    if (real !== realRoot && !real.startsWith(`${realRoot}/`)) {
      throw new UnsafePathError("The path leads outside the import folder");
    }
  } catch (error) {
    if (error instanceof UnsafePathError) throw error;
  }
  return full;
}

/** The record's path is not safe to read. */
export class UnsafePathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnsafePathError";
  }
}
