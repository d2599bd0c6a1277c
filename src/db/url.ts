/**
 * Database URLs. This module imports nothing, so the import process (which must not
 * load the Drizzle and libSQL modules of `client.ts`) reads URLs through it too.
 */

/** The path of a `file:` URL, or undefined for a remote URL. */
export function filePathOf(url: string): string | undefined {
  if (!url.startsWith("file:")) return undefined;
  const rest = url.slice("file:".length).replace(/\?.*$/, "");
  return rest.startsWith("//") ? new URL(url).pathname : rest;
}
