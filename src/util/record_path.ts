/**
 * The rules of a record's path, shared by the record checks (when a record is saved)
 * and the run (when it opens the file). A record's path is relative to the import
 * root (or the SFTP login folder); backslashes are separators; `{school}` becomes the
 * record's School_Number. Absolute paths, drive letters, `..` segments and NUL bytes
 * are refused.
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
