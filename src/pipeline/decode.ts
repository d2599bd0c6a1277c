/**
 * Decode stage: bytes of the fetched file → text chunks, with the record's
 * character set (SPEC §4.2).
 *
 * - `windows-1252` and `macintosh` use the WHATWG decoders.
 * - `iso-8859-1` is the real ISO 8859-1: each byte is its own code point (the WHATWG
 *   label `iso-8859-1` means windows-1252, so it is not used; Node's `latin1` is right).
 * - `utf-8` is strict: the first invalid byte rejects the file with its line and byte
 *   offset, and says when the bytes look like Windows ANSI. A byte-order mark is removed.
 *
 * Text that looks double-encoded (`JosÃ©`) adds one `double_encoded` note. The stage
 * streams: each input chunk becomes at most one output chunk.
 */
import { type FileNote, FileRejection } from "./errors.ts";

/** Character sets of the AutoComm record, in their API spelling. */
export type Charset = "windows-1252" | "macintosh" | "iso-8859-1" | "utf-8";

/** Options of {@linkcode decodeStream}. */
export interface DecodeOptions {
  /** Collector of file notes (warnings); the stage pushes into it. */
  notes: FileNote[];
}

const LF = 0x0a;
const CR = 0x0d;

const CHARSET_NAMES: Record<Charset, string> = {
  "windows-1252": "Windows ANSI (windows-1252)",
  "macintosh": "Mac Roman (macintosh)",
  "iso-8859-1": "ISO 8859-1",
  "utf-8": "UTF-8",
};

/** Decodes a byte stream to text chunks with the given charset. */
export async function* decodeStream(
  bytes: AsyncIterable<Uint8Array>,
  charset: Charset,
  options: DecodeOptions,
): AsyncGenerator<string> {
  const notes = options.notes;
  const lines = new LineCounter();
  const doubles = new DoubleEncodingDetector(notes);

  /** Bookkeeping shared by every charset for each text chunk about to be yielded. */
  const observe = (text: string): void => {
    if (!doubles.done) doubles.check(text, lines);
    lines.add(text);
  };

  if (charset === "utf-8") {
    yield* decodeUtf8(bytes, lines, observe);
    return;
  }

  const decode = singleByteDecoder(charset);
  const head: number[] = [];
  for await (const chunk of bytes) {
    if (chunk.length === 0) continue;
    if (head.length < 3) {
      for (let i = 0; i < chunk.length && head.length < 3; i++) head.push(chunk[i]!);
      if (head.length === 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) {
        notes.push({
          code: "bom_ignored",
          message: `The file starts with a UTF-8 byte-order mark but the record's Character Set ` +
            `is ${CHARSET_NAMES[charset]}; the mark was read as ordinary characters. ` +
            `The file is probably UTF-8 — check the record's Character Set`,
        });
      }
    }
    const text = decode(chunk);
    observe(text);
    yield text;
  }
}

/** A decoder for one chunk of a single-byte charset (no state carries between chunks). */
function singleByteDecoder(charset: Exclude<Charset, "utf-8">): (chunk: Uint8Array) => string {
  if (charset === "iso-8859-1") return decodeLatin1;
  const decoder = new TextDecoder(charset);
  return (chunk) => decoder.decode(chunk);
}

const UTF16 = new TextDecoder("utf-16le");

/**
 * Real ISO 8859-1: byte b is code point U+00bb, including 0x80–0x9F (C1 controls).
 * Widening each byte to a 16-bit code unit gives exactly that text as UTF-16 (no
 * unit in 0–255 is a surrogate), which the native decoder reads; a `Uint16Array`
 * is little-endian on every platform Deno runs on.
 */
export function decodeLatin1(chunk: Uint8Array): string {
  return UTF16.decode(Uint16Array.from(chunk));
}

async function* decodeUtf8(
  bytes: AsyncIterable<Uint8Array>,
  lines: LineCounter,
  observe: (text: string) => void,
): AsyncGenerator<string> {
  // ignoreBOM defaults to false: a leading byte-order mark is removed, even when it
  // arrives split over several chunks; one later in the text is kept.
  const decoder = new TextDecoder("utf-8", { fatal: true });
  /** Bytes of the file before the current chunk. */
  let offset = 0;
  /** The incomplete sequence the decoder holds back at the end of what it has seen. */
  let pending: Uint8Array = new Uint8Array(0);
  /** The first two bytes of the file, to recognize a UTF-16 byte-order mark. */
  const head: number[] = [];

  for await (const chunk of bytes) {
    if (chunk.length === 0) continue;
    if (head.length < 2) {
      for (let i = 0; i < chunk.length && head.length < 2; i++) head.push(chunk[i]!);
    }
    let text: string;
    try {
      text = decoder.decode(chunk, { stream: true });
    } catch {
      throw utf8Rejection(pending, chunk, offset, lines, head, false);
    }
    pending = incompleteTail(pending, chunk);
    offset += chunk.length;
    if (text.length > 0) {
      observe(text);
      yield text;
    }
  }
  let rest: string;
  try {
    rest = decoder.decode();
  } catch {
    throw utf8Rejection(pending, new Uint8Array(0), offset, lines, head, true);
  }
  if (rest.length > 0) {
    observe(rest);
    yield rest;
  }
}

/**
 * The bytes a streaming UTF-8 decoder holds back after `previous` then `chunk` were
 * decoded without error: the trailing, still incomplete, multi-byte sequence (0–3 bytes).
 */
function incompleteTail(previous: Uint8Array, chunk: Uint8Array): Uint8Array {
  // The last (up to) three bytes of previous ++ chunk.
  const tail: number[] = [];
  for (let i = Math.max(0, chunk.length - 3); i < chunk.length; i++) tail.push(chunk[i]!);
  for (let i = previous.length - 1; i >= 0 && tail.length < 3; i--) tail.unshift(previous[i]!);
  for (let back = 1; back <= tail.length; back++) {
    const b = tail[tail.length - back]!;
    if (b < 0x80) return new Uint8Array(0);
    if (b >= 0xc0) {
      const size = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return back < size ? Uint8Array.from(tail.slice(tail.length - back)) : new Uint8Array(0);
    }
  }
  return new Uint8Array(0);
}

/** Where a byte sequence stops being well-formed UTF-8. */
export interface Utf8Fault {
  /** Index of the first byte of the ill-formed sequence. */
  index: number;
  /** The sequence is a correct but incomplete prefix cut by the end of the bytes. */
  truncated: boolean;
  /** The ill-formed sequence is that single byte (a stray or a lead without follower). */
  single: boolean;
}

/**
 * Finds the first ill-formed sequence in `bytes` (Unicode Table 3-7: no overlongs, no
 * surrogates, nothing above U+10FFFF), or `null` when all of it is well-formed.
 */
export function findUtf8Fault(bytes: Uint8Array): Utf8Fault | null {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const c = bytes[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c === 0xe0) {
      need = 2;
      lo = 0xa0;
    } else if (c === 0xed) {
      need = 2;
      hi = 0x9f;
    } else if (c >= 0xe1 && c <= 0xef) need = 2;
    else if (c === 0xf0) {
      need = 3;
      lo = 0x90;
    } else if (c === 0xf4) {
      need = 3;
      hi = 0x8f;
    } else if (c >= 0xf1 && c <= 0xf3) need = 3;
    else return { index: i, truncated: false, single: true };
    for (let j = 1; j <= need; j++) {
      if (i + j >= n) return { index: i, truncated: true, single: j === 1 };
      const d = bytes[i + j]!;
      if (d < (j === 1 ? lo : 0x80) || d > (j === 1 ? hi : 0xbf)) {
        return { index: i, truncated: false, single: j === 1 };
      }
    }
    i += need + 1;
  }
  return null;
}

const CP1252 = new TextDecoder("windows-1252");

/** A high byte that reads as a letter, digit, punctuation or symbol in windows-1252. */
function isAnsiText(byte: number): boolean {
  if (byte < 0x80) return false;
  const ch = CP1252.decode(Uint8Array.of(byte));
  return /^[\p{L}\p{N}\p{P}\p{S}\u00a0]$/u.test(ch);
}

function hex(byte: number): string {
  return "0x" + byte.toString(16).toUpperCase().padStart(2, "0");
}

/** The rejection for the first ill-formed sequence of `pending ++ chunk`. */
function utf8Rejection(
  pending: Uint8Array,
  chunk: Uint8Array,
  chunkOffset: number,
  lines: LineCounter,
  head: number[],
  atEnd: boolean,
): FileRejection {
  const bytes = new Uint8Array(pending.length + chunk.length);
  bytes.set(pending, 0);
  bytes.set(chunk, pending.length);
  const base = chunkOffset - pending.length;
  const fault = findUtf8Fault(bytes) ??
    // Cannot happen (the decoder threw); report the start of what it was given.
    { index: 0, truncated: atEnd, single: true };
  const byteOffset = base + fault.index;
  const byte = bytes[fault.index] ?? 0;

  // Line: count LF (or CR, in a file that has shown no LF) before the bad byte.
  const before = Math.max(0, byteOffset - chunkOffset);
  const lfInChunk = countByte(chunk, LF, 0, before);
  const useLf = lines.lf > 0 || chunk.indexOf(LF) !== -1;
  const line = 1 + (useLf ? lines.lf + lfInChunk : lines.cr + countByte(chunk, CR, 0, before));

  const what = fault.truncated
    ? `the file ends in the middle of a character (byte ${hex(byte)} at byte offset ${byteOffset})`
    : `invalid byte ${hex(byte)} at byte offset ${byteOffset}`;
  let message = `Cannot decode line ${line} as UTF-8: ${what}`;
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) {
    message += "; the file looks like UTF-16, which is not a supported character set";
  } else if (fault.single && isAnsiText(byte)) {
    message +=
      "; the file looks like Windows ANSI (windows-1252) — check the record's Character Set";
  }
  return new FileRejection("bad_encoding", message, { line, byteOffset });
}

function countByte(bytes: Uint8Array, byte: number, from: number, to: number): number {
  let count = 0;
  let i = bytes.indexOf(byte, from);
  while (i !== -1 && i < to) {
    count++;
    i = bytes.indexOf(byte, i + 1);
  }
  return count;
}

function countChar(text: string, ch: string, from: number, to: number): number {
  let count = 0;
  let i = text.indexOf(ch, from);
  while (i !== -1 && i < to) {
    count++;
    i = text.indexOf(ch, i + 1);
  }
  return count;
}

/**
 * Physical lines of the text yielded so far: LF counts a line; in a file that has shown
 * no LF, CR does (old Mac files).
 */
class LineCounter {
  lf = 0;
  cr = 0;

  add(text: string): void {
    this.lf += countChar(text, "\n", 0, text.length);
    if (this.lf === 0) this.cr += countChar(text, "\r", 0, text.length);
  }

  /** 1-based line of `text[pos]`, `text` being the next chunk (not yet added). */
  lineAt(text: string, pos: number): number {
    if (this.lf > 0 || text.indexOf("\n") !== -1) {
      return 1 + this.lf + countChar(text, "\n", 0, pos);
    }
    return 1 + this.cr + countChar(text, "\r", 0, pos);
  }
}

/**
 * What the second byte of a UTF-8 sequence looks like once read as windows-1252 (or
 * ISO 8859-1): the characters of bytes 0x80–0xBF in either reading.
 */
const CONTINUATION = (() => {
  const bytes = Uint8Array.from({ length: 0x40 }, (_, i) => 0x80 + i);
  const chars = new Set([...CP1252.decode(bytes), ...decodeLatin1(bytes)]);
  return "[" + [...chars].map((c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"))
    .join("") +
    "]";
})();

/**
 * UTF-8 of U+0080–U+017F read byte by byte (`Ã©` for é, `Â°` for °, `Å‚` for ł), or of
 * U+2000–U+2FFF (`â€™` for ’, `â‚¬` for €).
 */
const DOUBLE_ENCODED = new RegExp(`[ÂÃÄÅ]${CONTINUATION}|â${CONTINUATION}${CONTINUATION}`);
const DOUBLE_LEADS = /[ÂÃÄÅâ]/;

/** Pushes one `double_encoded` note at the first line that shows such text. */
class DoubleEncodingDetector {
  done = false;
  /** The last two characters of the previous chunk, when they hold a lead character. */
  private tail = "";

  constructor(private readonly notes: FileNote[]) {}

  check(text: string, lines: LineCounter): void {
    let at = -1;
    if (this.tail !== "") {
      // A sequence split between the previous chunk and this one.
      if (DOUBLE_ENCODED.test(this.tail + text.slice(0, 2))) at = 0;
    }
    if (at === -1) {
      const match = DOUBLE_ENCODED.exec(text);
      if (match) at = match.index;
    }
    if (at !== -1) {
      this.done = true;
      this.tail = "";
      this.notes.push({
        code: "double_encoded",
        message: 'Some text looks double-encoded (UTF-8 read as Windows ANSI, e.g. "JosÃ©" ' +
          `for "José"); check the file's character set`,
        line: lines.lineAt(text, at),
      });
      return;
    }
    const last = text.length >= 2 ? text.slice(-2) : (this.tail + text).slice(-2);
    this.tail = DOUBLE_LEADS.test(last) ? last : "";
  }
}
