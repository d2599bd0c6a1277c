/**
 * Problems in data are data: row errors and file notes are values collected into
 * the run's report. A whole-file refusal is a {@linkcode FileRejection}, thrown by
 * the stage that finds it and caught by the orchestrator, which ends the run
 * `rejected` and changes nothing. Every code is one of the registry's
 * (`src/problems.ts`), with its default message and description there.
 */
import type { FileNoteCode, RejectionCode, RowErrorCode } from "../problems.ts";

/** A problem with one data record. The file goes on without it. */
export interface RowError {
  /** 1-based physical line of the file where the record starts. */
  line: number;
  /** Catalog name of the field, or `""` for the row as a whole. */
  field: string;
  /**
   * Short code such as `bad_date`, `bad_character` (a control character the field does
   * not accept), `missing_reference`, `duplicate_key`.
   */
  code: RowErrorCode;
  /** Human message. Never contains the value of a personal field. */
  message: string;
}

/** Something worth telling about the file as a whole; it does not stop the run. */
export interface FileNote {
  code: FileNoteCode;
  message: string;
  /** Line the note is about, when there is one. */
  line?: number;
}

/** Options of {@linkcode FileRejection}. */
export interface FileRejectionOptions {
  /** 1-based physical line where the problem is. */
  line?: number;
  /** 1-based column (character) on that line. */
  column?: number;
  /** 0-based byte offset in the file. */
  byteOffset?: number;
}

/** The file is refused whole: nothing in it is applied. */
export class FileRejection extends Error {
  readonly code: RejectionCode;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly byteOffset: number | undefined;

  constructor(code: RejectionCode, message: string, options: FileRejectionOptions = {}) {
    super(message);
    this.name = "FileRejection";
    this.code = code;
    this.line = options.line;
    this.column = options.column;
    this.byteOffset = options.byteOffset;
  }
}
