/**
 * Parse stage: decoded text → records of fields (SPEC §4.3, §4.4, §4.10).
 *
 * Records are split with the record delimiter (CRLF under an LF setting, or the
 * reverse, is read correctly and noted; a file in which the configured delimiter never
 * occurs but another one does is rejected). Blank lines are skipped and counted.
 * Fields are split with tab or comma, with AutoComm's quoting rules, which are not
 * RFC 4180: in comma files a quote anywhere toggles quoted mode (`Suite"," 4` reads
 * `Suite, 4`); in tab files a quote is special only at the start of a field (`5'10"`).
 *
 * The text is processed chunk by chunk and only the record in progress is carried over
 * a chunk boundary. Lines without quotes take a fast path (`indexOf` + `split`); a
 * record with a quote is walked character by character.
 */
import { type FileNote, FileRejection } from "./errors.ts";

/** Field delimiters of the AutoComm record. */
export type FieldDelimiter = "tab" | "comma";
/** Record delimiters of the AutoComm record. */
export type RecordDelimiter = "CRLF" | "CR" | "LF";

/** One record of the file. */
export interface ParsedRecord {
  /** 1-based physical line of the file where the record starts. */
  line: number;
  /** Fields as read: unquoted, not trimmed. */
  fields: string[];
}

/** Counts kept up to date while parsing. */
export interface ParseStats {
  /** Blank (empty or whitespace-only) lines skipped. */
  blankLines: number;
  /** Records yielded. */
  records: number;
  /** Physical lines seen. */
  lines: number;
}

/** Options of {@linkcode parseRecords}. */
export interface ParseOptions {
  fieldDelimiter: FieldDelimiter;
  recordDelimiter: RecordDelimiter;
  /** Collector of file notes; the stage pushes into it. */
  notes: FileNote[];
  /** Filled in as parsing goes (the caller passes an object). */
  stats?: ParseStats;
  /** Records per yielded batch, default 2000. */
  batchSize?: number;
  /**
   * Longest record, in characters, before the file is rejected (default
   * {@linkcode MAX_RECORD_LENGTH}). Keeps memory bounded when a quote is never closed.
   */
  maxRecordLength?: number;
}

/** Default of {@linkcode ParseOptions.maxRecordLength}: 1 Mi characters. */
export const MAX_RECORD_LENGTH = 1 << 20;

/**
 * Most text held back while the record delimiter is judged (plus the chunk that passes
 * it, or one more to see what follows a CR).
 */
const DETECT_LIMIT = 64 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const TAB = 0x09;
const COMMA = 0x2c;

/** Splits decoded text into records and fields, yielding batches of records. */
export async function* parseRecords(
  text: AsyncIterable<string>,
  options: ParseOptions,
): AsyncGenerator<ParsedRecord[]> {
  const stats = options.stats ?? { blankLines: 0, records: 0, lines: 0 };
  const detector = new DelimiterDetector(options.recordDelimiter);
  let splitter: Splitter | null = null;

  for await (const chunk of text) {
    if (chunk.length === 0) continue;
    if (splitter === null) {
      detector.add(chunk);
      const crMode = detector.decide(false);
      if (crMode === null) continue;
      splitter = new Splitter(options, stats, crMode);
      for (const held of detector.take()) splitter.feed(held);
    } else {
      splitter.feed(chunk);
    }
    for (const batch of splitter.takeReady()) {
      stats.records += batch.length;
      yield batch;
    }
  }

  if (splitter === null) {
    const crMode = detector.decide(true);
    if (crMode === null) return; // nothing but empty chunks
    splitter = new Splitter(options, stats, crMode);
    for (const held of detector.take()) splitter.feed(held);
  }
  splitter.finish();
  for (const batch of splitter.takeReady()) {
    stats.records += batch.length;
    yield batch;
  }
}

type LineEnd = "LF" | "CRLF" | "CR";

const LINE_END_NAMES: Record<LineEnd, string> = {
  LF: "LF (Unix)",
  CRLF: "CRLF (Windows)",
  CR: "CR (Mac)",
};

/**
 * Holds the first text back until the file's line ends are known (one line end seen, or
 * 64 KiB, or the end), then decides how to split. LF and CRLF settings split on LF (a CR
 * before it is part of the line end); the CR setting splits on CR (an LF after it is part
 * of the line end). The file is rejected when its first line end is one the setting
 * cannot read and the configured delimiter does not occur in the window at all.
 */
class DelimiterDetector {
  private held: string[] = [];
  private length = 0;
  /** The first line end of the text. */
  private first: LineEnd | null = null;
  /** The text so far ends with a CR that may be the start of a CRLF. */
  private crAtEnd = false;
  private sawLF = false;
  private sawCR = false;

  constructor(private readonly configured: RecordDelimiter) {}

  add(chunk: string): void {
    this.held.push(chunk);
    this.length += chunk.length;
    const lf = chunk.indexOf("\n");
    const cr = chunk.indexOf("\r");
    if (lf !== -1) this.sawLF = true;
    if (cr !== -1) this.sawCR = true;
    if (this.first !== null) return;
    if (this.crAtEnd) {
      this.crAtEnd = false;
      this.first = lf === 0 ? "CRLF" : "CR";
    } else if (lf !== -1 && (cr === -1 || lf < cr)) {
      this.first = "LF";
    } else if (cr !== -1) {
      if (cr + 1 < chunk.length) this.first = chunk.charCodeAt(cr + 1) === LF ? "CRLF" : "CR";
      else this.crAtEnd = true;
    }
  }

  /**
   * Whether to split on CR (true) or LF (false), or `null` while more text is needed.
   * Throws the `wrong_record_delimiter` rejection.
   */
  decide(atEnd: boolean): boolean | null {
    if (this.length === 0) return null;
    if (this.crAtEnd && atEnd) {
      this.crAtEnd = false;
      this.first = "CR";
    }
    const enough = atEnd || this.length >= DETECT_LIMIT;
    const configured = this.configured;
    if (this.first === null) {
      // No line end seen yet: a single record so far.
      return enough && !this.crAtEnd ? configured === "CR" : null;
    }
    const wrong = configured === "CR"
      ? this.first === "LF" && !this.sawCR
      : this.first === "CR" && !this.sawLF;
    if (wrong) {
      // Confirm over the whole window before refusing the file.
      if (!enough) return null;
      throw new FileRejection(
        "wrong_record_delimiter",
        `Cannot split records: the record delimiter is set to ${configured} but the file uses ` +
          `${LINE_END_NAMES[this.first]} line ends`,
        { line: 1 },
      );
    }
    return configured === "CR";
  }

  take(): string[] {
    const held = this.held;
    this.held = [];
    return held;
  }
}

// Splitter states.
/** Between records. */
const S_START = 0;
/** In a record, at the start of a field. */
const S_FIELD = 1;
/** In a field, outside quotes. */
const S_UNQUOTED = 2;
/** Inside quotes. */
const S_QUOTED = 3;
/** Inside quotes, just after a quote: `""` or the closing quote. */
const S_QUOTE_SEEN = 4;
/** Outside quotes, just after a CR that ended a chunk (splitting on LF): CRLF or a lone CR. */
const S_CR_SEEN = 5;

/** The record splitter: state carried between chunks. */
class Splitter {
  private readonly delimiter: number;
  private readonly delimiterText: string;
  /** Comma files: a quote anywhere in a field toggles quoted mode. */
  private readonly quoteAnywhere: boolean;
  /** Split on CR (an LF right after a CR is part of the line end) instead of LF. */
  private readonly crMode: boolean;
  private readonly breakText: string;
  private readonly configured: RecordDelimiter;
  private readonly notes: FileNote[];
  private readonly stats: ParseStats;
  private readonly batchSize: number;
  private readonly maxRecordLength: number;

  private state = S_START;
  /** Completed fields of the record in progress. */
  private fields: string[] = [];
  /** The field in progress. */
  private field = "";
  private recordLine = 0;
  /** Absolute offset (characters from the start of the text) of the record in progress. */
  private recordStart = 0;
  private recordQuoted = false;
  private quoteLine = 0;
  private quoteAt = 0;
  private quoteLineStart = 0;
  private quoteColumn = 0;

  /** Physical line of the current position. */
  private line = 1;
  /** Absolute offset where the current line starts. */
  private lineStart = 0;
  /** High surrogates in the current line before the current chunk (for columns). */
  private lineSurrogates = 0;
  /** Absolute offset of the current chunk. */
  private chunkStart = 0;
  /** Splitting on CR and the last chunk ended with the CR of a line end. */
  private swallowLF = false;
  private mismatchNoted = false;
  /** Next line end / quote at or after the position, or the chunk length; -1 unknown. */
  private nextBreak = -1;
  private nextQuote = -1;

  private batch: ParsedRecord[] = [];
  private ready: ParsedRecord[][] = [];

  constructor(options: ParseOptions, stats: ParseStats, crMode: boolean) {
    const comma = options.fieldDelimiter === "comma";
    this.delimiter = comma ? COMMA : TAB;
    this.delimiterText = comma ? "," : "\t";
    this.quoteAnywhere = comma;
    this.crMode = crMode;
    this.breakText = crMode ? "\r" : "\n";
    this.configured = options.recordDelimiter;
    this.notes = options.notes;
    this.stats = stats;
    const batchSize = options.batchSize ?? 2000;
    this.batchSize = Number.isFinite(batchSize) && batchSize >= 1 ? Math.floor(batchSize) : 2000;
    this.maxRecordLength = options.maxRecordLength ?? MAX_RECORD_LENGTH;
  }

  /** Batches completed so far. */
  takeReady(): ParsedRecord[][] {
    const ready = this.ready;
    this.ready = [];
    return ready;
  }

  feed(text: string): void {
    const n = text.length;
    if (n === 0) return;
    this.nextBreak = -1;
    this.nextQuote = -1;
    let i = 0;
    if (this.swallowLF) {
      this.swallowLF = false;
      if (text.charCodeAt(0) === LF) {
        i = 1;
        this.lineStart = this.chunkStart + 1;
        this.noteMismatch("CRLF");
      }
    }
    while (i < n) {
      if (this.state === S_START) {
        i = this.fastLines(text, i);
        if (i >= n) break;
        this.beginRecord(i);
      }
      i = this.walk(text, i);
    }
    this.endChunk(text);
  }

  finish(): void {
    switch (this.state) {
      case S_START:
        break;
      case S_QUOTED:
        throw new FileRejection(
          "unclosed_quote",
          `Cannot read line ${this.quoteLine}: a quote opened at column ${this.quoteColumn} ` +
            `is never closed`,
          { line: this.quoteLine, column: this.quoteColumn },
        );
      case S_CR_SEEN:
        // A lone CR at the very end: an ordinary character.
        this.endRecord(this.field + "\r");
        this.line++;
        break;
      default:
        this.endRecord(this.field);
        this.line++;
    }
    this.state = S_START;
    this.stats.lines = this.line - 1;
    if (this.batch.length > 0) {
      this.ready.push(this.batch);
      this.batch = [];
    }
  }

  /**
   * The fast path: whole lines of this chunk without a quote, from `i`. Returns where
   * it stopped (a line with a quote, or one not ended in this chunk), or the length.
   */
  private fastLines(text: string, i: number): number {
    const n = text.length;
    const breakText = this.breakText;
    const crMode = this.crMode;
    const delimiterText = this.delimiterText;
    const checkLF = this.configured === "CRLF";
    const checkCRLF = this.configured === "LF";
    let nextBreak = this.nextBreak;
    let nextQuote = this.nextQuote;
    let line = this.line;
    while (i < n) {
      if (nextBreak < i) {
        nextBreak = text.indexOf(breakText, i);
        if (nextBreak === -1) nextBreak = n;
      }
      if (nextBreak === n) break;
      if (nextQuote < i) {
        nextQuote = text.indexOf('"', i);
        if (nextQuote === -1) nextQuote = n;
      }
      if (nextQuote < nextBreak) break;

      let end = nextBreak;
      if (!crMode) {
        if (end > i && text.charCodeAt(end - 1) === CR) {
          end--;
          if (checkCRLF && !this.mismatchNoted) this.noteMismatch("CRLF");
        } else if (checkLF && !this.mismatchNoted) this.noteMismatch("LF");
      }
      const content = text.slice(i, end);
      if (isBlank(content, delimiterText)) this.stats.blankLines++;
      else this.emit(line, content.split(delimiterText));
      line++;
      i = nextBreak + 1;
      if (crMode) {
        if (i === n) this.swallowLF = true;
        else if (text.charCodeAt(i) === LF) {
          i++;
          this.noteMismatch("CRLF");
        }
      }
      this.lineStart = this.chunkStart + i;
    }
    this.line = line;
    this.nextBreak = nextBreak;
    this.nextQuote = nextQuote;
    return i;
  }

  private beginRecord(i: number): void {
    this.state = S_FIELD;
    this.fields = [];
    this.field = "";
    this.recordLine = this.line;
    this.recordStart = this.chunkStart + i;
    this.recordQuoted = false;
  }

  /**
   * The slow path: walks the record in progress from `i` until it ends (state back to
   * `S_START`) or the chunk does. Returns the position reached.
   */
  private walk(text: string, i: number): number {
    const n = text.length;
    const delimiter = this.delimiter;
    const quoteAnywhere = this.quoteAnywhere;
    let state = this.state;
    let field = this.field;
    while (i < n) {
      if (state === S_FIELD) {
        if (text.charCodeAt(i) === QUOTE) {
          this.openQuote(i);
          state = S_QUOTED;
          i++;
        } else {
          state = S_UNQUOTED;
        }
      } else if (state === S_UNQUOTED) {
        let k = i;
        while (k < n) {
          const c = text.charCodeAt(k);
          if (c === delimiter || c === LF || c === CR || (c === QUOTE && quoteAnywhere)) break;
          k++;
        }
        if (k > i) field += text.slice(i, k);
        if (k === n) {
          i = n;
          break;
        }
        const c = text.charCodeAt(k);
        if (c === delimiter) {
          this.fields.push(field);
          field = "";
          state = S_FIELD;
          i = k + 1;
        } else if (c === QUOTE) {
          this.openQuote(k);
          state = S_QUOTED;
          i = k + 1;
        } else if (c === LF) {
          if (this.crMode) {
            field += "\n";
            i = k + 1;
          } else {
            if (this.configured === "CRLF") this.noteMismatch("LF");
            this.endRecord(field);
            field = "";
            state = S_START;
            i = this.afterBreak(text, k + 1);
          }
        } else if (this.crMode) { // CR ends the record
          this.endRecord(field);
          field = "";
          state = S_START;
          i = this.afterBreak(text, k + 1);
        } else if (k + 1 === n) { // CR at the end of the chunk: CRLF or a lone CR?
          state = S_CR_SEEN;
          i = n;
        } else if (text.charCodeAt(k + 1) === LF) {
          if (this.configured === "LF") this.noteMismatch("CRLF");
          this.endRecord(field);
          field = "";
          state = S_START;
          i = this.afterBreak(text, k + 2);
        } else { // a lone CR is an ordinary character
          field += "\r";
          i = k + 1;
        }
      } else if (state === S_QUOTED) {
        let nextQuote = this.nextQuote;
        if (nextQuote < i) {
          nextQuote = text.indexOf('"', i);
          if (nextQuote === -1) nextQuote = n;
          this.nextQuote = nextQuote;
        }
        let nextBreak = this.nextBreak;
        if (nextBreak < i) {
          nextBreak = text.indexOf(this.breakText, i);
          if (nextBreak === -1) nextBreak = n;
        }
        while (nextBreak < nextQuote) { // line ends inside the quotes are content
          this.line++;
          this.lineStart = this.chunkStart + nextBreak + 1;
          nextBreak = text.indexOf(this.breakText, nextBreak + 1);
          if (nextBreak === -1) nextBreak = n;
        }
        this.nextBreak = nextBreak;
        field += text.slice(i, nextQuote);
        if (nextQuote === n) {
          i = n;
        } else {
          state = S_QUOTE_SEEN;
          i = nextQuote + 1;
        }
      } else if (state === S_QUOTE_SEEN) {
        if (text.charCodeAt(i) === QUOTE) {
          field += '"';
          state = S_QUOTED;
          i++;
        } else {
          // The closing quote. What follows up to the delimiter is appended (in tab
          // files literally; in comma files a further quote opens again).
          state = S_UNQUOTED;
        }
      } else { // S_CR_SEEN
        if (text.charCodeAt(i) === LF) {
          if (this.configured === "LF") this.noteMismatch("CRLF");
          this.endRecord(field);
          field = "";
          state = S_START;
          i = this.afterBreak(text, i + 1);
        } else {
          field += "\r";
          state = S_UNQUOTED;
        }
      }
      if (state === S_START) break;
    }
    this.state = state;
    this.field = field;
    return i;
  }

  private openQuote(i: number): void {
    this.recordQuoted = true;
    this.quoteLine = this.line;
    this.quoteAt = this.chunkStart + i;
    this.quoteLineStart = this.lineStart;
    // Column in code units; corrected for surrogate pairs at the end of the chunk.
    this.quoteColumn = this.quoteAt - this.lineStart + 1;
  }

  /** After a line end that ended a record at `text[j - 1]`. Returns the next position. */
  private afterBreak(text: string, j: number): number {
    this.line++;
    if (this.crMode) {
      if (j === text.length) this.swallowLF = true;
      else if (text.charCodeAt(j) === LF) {
        j++;
        this.noteMismatch("CRLF");
      }
    }
    this.lineStart = this.chunkStart + j;
    return j;
  }

  private endRecord(lastField: string): void {
    const fields = this.fields;
    fields.push(lastField);
    this.fields = [];
    if (!this.recordQuoted && fields.length === 1 && isBlank(lastField, this.delimiterText)) {
      this.stats.blankLines++;
    } else {
      this.emit(this.recordLine, fields);
    }
  }

  private emit(line: number, fields: string[]): void {
    this.batch.push({ line, fields });
    if (this.batch.length >= this.batchSize) {
      this.ready.push(this.batch);
      this.batch = [];
    }
  }

  private endChunk(text: string): void {
    const n = text.length;
    const chunkStart = this.chunkStart;
    // Columns count characters: take the surrogate pairs of the line before the last quote
    // opened in this chunk off (it may still be open at the end of the file).
    if (this.quoteAt >= chunkStart) {
      const lineBefore = this.quoteLineStart < chunkStart;
      this.quoteColumn = this.quoteAt - this.quoteLineStart + 1 -
        (lineBefore ? this.lineSurrogates : 0) -
        countHighSurrogates(
          text,
          lineBefore ? 0 : this.quoteLineStart - chunkStart,
          this.quoteAt - chunkStart,
        );
    }
    const lineBefore = this.lineStart < chunkStart;
    this.lineSurrogates = (lineBefore ? this.lineSurrogates : 0) +
      countHighSurrogates(text, lineBefore ? 0 : this.lineStart - chunkStart, n);

    this.chunkStart = chunkStart + n;
    this.stats.lines = this.line - 1;

    if (this.state !== S_START && this.chunkStart - this.recordStart > this.maxRecordLength) {
      if (this.state === S_QUOTED) {
        throw new FileRejection(
          "unclosed_quote",
          `Cannot read line ${this.quoteLine}: a quote opened at column ${this.quoteColumn} ` +
            `is not closed within ${this.maxRecordLength} characters`,
          { line: this.quoteLine, column: this.quoteColumn },
        );
      }
      throw new FileRejection(
        "record_too_long",
        `Cannot read line ${this.recordLine}: the record is longer than ` +
          `${this.maxRecordLength} characters`,
        { line: this.recordLine },
      );
    }
  }

  private noteMismatch(found: "CRLF" | "LF"): void {
    if (this.mismatchNoted) return;
    this.mismatchNoted = true;
    this.notes.push({
      code: "record_delimiter_mismatch",
      message: `The file uses ${found} line ends; the record says ${this.configured}. ` +
        `Read correctly.`,
    });
  }
}

/**
 * Empty or whitespace-only, and without a field delimiter (a line of delimiters only
 * is a record of empty fields).
 */
function isBlank(content: string, delimiterText: string): boolean {
  if (content.length === 0) return true;
  const c = content.charCodeAt(0);
  if (c > 0x20 && c < 0x7f) return false;
  return content.trim() === "" && content.indexOf(delimiterText) === -1;
}

function countHighSurrogates(text: string, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) count++;
  }
  return count;
}
