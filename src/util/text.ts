/**
 * Making stored text inert where a terminal or an e-mail shows it: control
 * characters are written as escapes (`\x1b`, `\u202e`), so text from a file, a
 * record or a file name can neither move the cursor, rewrite a line, nor add a
 * line of its own.
 */

/**
 * Characters shown escaped: C0 controls (line ends and tab included), DEL, C1
 * controls, and the invisible marks that reorder or break lines (bidirectional
 * embeddings, overrides and isolates, line and paragraph separators).
 */
// deno-lint-ignore no-control-regex
const CONTROLS = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** The same without the tab, for output whose lines are laid out with tabs. */
const CONTROLS_BUT_TAB =
  // deno-lint-ignore no-control-regex
  /[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escape(c: string): string {
  const code = c.charCodeAt(0);
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, "0")}`
    : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** Options of {@linkcode escapeControls}. */
export interface EscapeOptions {
  /** Leave tabs as they are (they lay out a line of columns); default false. */
  keepTab?: boolean;
}

/**
 * Text with every control character written as an escape: `\x1b` for one below
 * U+0100, `\u202e` above. Printable text, backslashes included, is unchanged.
 */
export function escapeControls(text: string, options: EscapeOptions = {}): string {
  return text.replace(options.keepTab ? CONTROLS_BUT_TAB : CONTROLS, escape);
}

/** The control characters a single-line setting refuses: C0 (tab included), DEL and C1. */
// deno-lint-ignore no-control-regex
const SETTING_CONTROL = /[\x00-\x1f\x7f-\x9f]/;

/** Short names of the controls people meet most. */
const CONTROL_NAMES: Record<number, string> = {
  0x00: "NUL",
  0x09: "tab",
  0x0a: "line feed",
  0x0d: "carriage return",
  0x1b: "escape",
  0x7f: "DEL",
};

/** `U+000D (carriage return)`: a character named by its code point, never shown itself. */
export function describeCharacter(code: number): string {
  const name = CONTROL_NAMES[code];
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  return name ? `${hex} (${name})` : hex;
}

/**
 * The first control character of a single-line setting (a record's name, path or
 * e-mail list), described; undefined when there is none.
 */
export function firstControl(text: string): string | undefined {
  const found = SETTING_CONTROL.exec(text);
  return found ? describeCharacter(found[0].charCodeAt(0)) : undefined;
}
