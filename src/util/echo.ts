/**
 * What an error message may repeat of what was sent: a short prefix. Every message
 * that names a sent value (an unknown field, a key, an address, a path) passes it
 * through {@linkcode echo}, so a huge value never comes back whole.
 */

/** The most characters of a sent value an error message repeats. */
export const ECHO_MAX = 60;

/** `value` as an error message may repeat it: its first {@linkcode ECHO_MAX} characters, then `…`. */
export function echo(value: string): string {
  if (value.length <= ECHO_MAX) return value;
  let end = ECHO_MAX;
  const last = value.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--; // a surrogate pair stays whole or goes
  return `${value.slice(0, end)}…`;
}

/** What a validation issue of zod says; `keys` are the sent keys of an `unrecognized_keys` issue. */
export interface ValidationIssue {
  code?: string;
  message: string;
  keys?: readonly PropertyKey[];
}

/**
 * The message of a zod issue with the sent keys it names cut by {@linkcode echo}
 * (zod's own message lists every unrecognized key in full).
 */
export function issueMessage(issue: ValidationIssue): string {
  if (issue.code !== "unrecognized_keys" || issue.keys === undefined) return issue.message;
  const keys = issue.keys.map((k) => JSON.stringify(String(k))).join(", ");
  return `Unrecognized key${issue.keys.length > 1 ? "s" : ""}: ${echo(keys)}`;
}
