/**
 * The frame stage: which parsed records are data. It takes them one by one, in file
 * order, and
 *
 * - reads a first line `number_of_records=N`: required when the record expects it
 *   (and N must equal the data records), skipped with a note when it does not;
 * - skips a header equal to the field list (a note), and rejects a header naming the
 *   catalog's fields in another order (the columns would land in the wrong fields);
 * - counts data records, short rows (fewer fields than mapped: the missing trailing
 *   fields are not provided) and rows whose extra fields are all empty (a note).
 *
 * Blank lines never reach it (the parser counts them). A refused file is a thrown
 * {@linkcode FileRejection}: nothing of it is applied.
 */
import { normaliseFieldName } from "../sis/catalog.ts";
import { type FileNote, FileRejection } from "./errors.ts";

const NUMBER_OF_RECORDS = /^\s*number_of_records\s*=\s*(\d+)\s*$/i;

/** What the frame stage needs of the import plan. */
export interface FramePlan {
  /** Number of mapped columns. */
  readonly columns: { readonly length: number };
  /** The record's field list, as written. */
  readonly mappedNames: readonly string[];
  /** The table's catalog. */
  readonly catalog: { readonly fields: readonly { readonly name: string }[] };
}

/** Options of {@linkcode Framer}. */
export interface FramerOptions {
  /** The record's "First record of file is number_of_records=". */
  expectRecordCount: boolean;
  /** File-level notes of the run, added to. */
  notes: FileNote[];
  /** The run's counts: `shortRows` is kept here as rows are framed. */
  counts: { shortRows: number };
}

/** Frames one file's records (see the module's comment). */
export class Framer {
  readonly #plan: FramePlan;
  readonly #options: FramerOptions;
  #first = true;
  #declared: number | null = null;
  #dataRecords = 0;
  #extraEmptyRows = 0;
  #extraEmptyFirst: number | null = null;

  constructor(plan: FramePlan, options: FramerOptions) {
    this.#plan = plan;
    this.#options = options;
  }

  /** Data records so far (rejected ones included). */
  get dataRecords(): number {
    return this.#dataRecords;
  }

  /** True when `record` is a data record; false for a skipped count line or header. */
  accept(record: { line: number; fields: readonly string[] }): boolean {
    if (this.#first) {
      this.#first = false;
      if (this.#countLine(record)) return false;
    }
    if (this.#dataRecords === 0 && this.#header(record)) return false;
    this.#dataRecords++;
    const columns = this.#plan.columns.length;
    const fields = record.fields;
    if (fields.length < columns) this.#options.counts.shortRows++;
    else if (fields.length > columns && fields.slice(columns).every((f) => f.trim() === "")) {
      this.#extraEmptyRows++;
      this.#extraEmptyFirst ??= record.line;
    }
    return true;
  }

  /** After the last record: the note on empty extra fields and the record-count checks. */
  finish(): void {
    const { notes, expectRecordCount } = this.#options;
    if (this.#extraEmptyFirst !== null) {
      const rows = this.#extraEmptyRows;
      notes.push({
        code: "extra_empty_fields",
        message: `${rows} ${
          rows === 1 ? "row has" : "rows have"
        } more fields than mapped, all empty (such as a spreadsheet's trailing tabs); the extra fields were ignored (first on line ${this.#extraEmptyFirst})`,
        line: this.#extraEmptyFirst,
      });
    }
    if (!expectRecordCount) return;
    if (this.#declared === null && this.#dataRecords === 0 && !this.#first) {
      throw new FileRejection(
        "missing_record_count",
        "The record expects a first line number_of_records=N",
      );
    }
    if (this.#declared !== null && this.#declared !== this.#dataRecords) {
      throw new FileRejection(
        "record_count_mismatch",
        `Cannot import: line 1 says number_of_records=${this.#declared} but the file has ${this.#dataRecords} data records`,
        { line: 1 },
      );
    }
  }

  /** The first record: a count line (true: skip it), or data when no count line is expected. */
  #countLine(record: { line: number; fields: readonly string[] }): boolean {
    const { notes, expectRecordCount } = this.#options;
    const only = record.fields.length === 1 ||
      record.fields.slice(1).every((f) => f.trim() === "");
    const m = only ? NUMBER_OF_RECORDS.exec(record.fields[0] ?? "") : null;
    if (m) {
      this.#declared = Number(m[1]);
      if (!expectRecordCount) {
        notes.push({
          code: "record_count_line_skipped",
          message:
            `Line ${record.line} (number_of_records=${this.#declared}) was skipped; the record does not check it`,
          line: record.line,
        });
      }
      return true;
    }
    if (expectRecordCount) {
      throw new FileRejection(
        "missing_record_count",
        `Cannot read line ${record.line}: the record expects the first line to read number_of_records=N`,
        { line: record.line },
      );
    }
    return false;
  }

  /** Before the first data record: a header equal to the field list (true: skip it). */
  #header(record: { line: number; fields: readonly string[] }): boolean {
    const header = headerKind(this.#plan, record.fields);
    if (header === null) return false;
    if (header === "other") {
      throw new FileRejection(
        "header_mismatch",
        `Cannot read line ${record.line}: it is a header naming the fields in another order than the record's field list (${
          this.#plan.mappedNames.join(", ")
        }); the columns would land in the wrong fields`,
        { line: record.line },
      );
    }
    this.#options.notes.push({
      code: "header_skipped",
      message: `Line ${record.line} is a header row; skipped`,
      line: record.line,
    });
    return true;
  }
}

/** `same` for a header equal to the field list, `other` for catalog names in another order. */
function headerKind(plan: FramePlan, cells: readonly string[]): "same" | "other" | null {
  const names = cells.filter((c) => c.trim() !== "").map(normaliseFieldName);
  if (names.length === 0) return null;
  const mapped = plan.mappedNames.map(normaliseFieldName);
  if (names.length === mapped.length && names.every((n, i) => n === mapped[i])) return "same";
  const catalog = new Set(plan.catalog.fields.map((f) => normaliseFieldName(f.name)));
  if (names.length >= 2 && names.every((n) => catalog.has(n))) return "other";
  return null;
}
