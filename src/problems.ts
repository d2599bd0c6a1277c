/**
 * The one registry of problem codes. Every code a run can report is a member of one of
 * three kinds, each with its default message and its description:
 *
 * - a **row error** ({@linkcode RowErrorCode}): one data record is rejected, the file
 *   goes on without it;
 * - a **file note** ({@linkcode FileNoteCode}): something worth telling about the file
 *   as a whole; it does not stop the run;
 * - a **rejection** ({@linkcode RejectionCode}): the file is refused whole and nothing of
 *   it is applied (the run ends `rejected`).
 *
 * Producers name a code as a string literal of its union, so a misspelt code fails to
 * compile and costs nothing at run time; a code written inside SQL text is built with
 * {@linkcode sqlCode}. A producer keeps its own, more specific message (line, field and
 * reason); the default message here is what a reader without that context shows: a
 * sentence with no values in it. The description is the README's (section "Problem
 * codes", checked against this registry by `tests/problems_test.ts`).
 *
 * Codes read back from stored runs are {@linkcode StoredProblemCode}s: an older run may
 * hold a code since renamed.
 */

/** What the registry says about one code. */
export interface ProblemInfo {
  /** A sentence without values, shown where the producer's own message is not at hand. */
  readonly message: string;
  /** What the code means, for the README's table. */
  readonly description: string;
}

/** The row errors: the record is rejected, the rest of the file goes on. */
export const ROW_ERROR_CODES = {
  too_many_fields: {
    message: "The row has more fields than the record maps.",
    description:
      "The row has more fields than the record maps and an extra one is not empty; the row is not read.",
  },
  bad_character: {
    message: "The value holds a control character that is not accepted here.",
    description:
      "A value holds NUL, another C0 control or DEL, or a line feed or carriage return outside the free-text field; the message names the character and its position, never the value.",
  },
  bad_date: {
    message: "The date cannot be read or is out of order.",
    description:
      "A date is not MM/DD/YYYY, M/D/YYYY or YYYY-MM-DD, names a day that does not exist, or is not after the date it must follow (ExitDate after EntryDate, DateLeft after DateEnrolled).",
  },
  bad_integer: {
    message: "The value is not a whole number.",
    description: "An integer field holds something other than a whole number.",
  },
  out_of_range: {
    message: "The number is outside the field's range.",
    description: "A number is too large, or below or above the field's limits.",
  },
  bad_decimal: {
    message: "The value is not a number.",
    description: "A decimal field holds something other than a number.",
  },
  bad_boolean: {
    message: "The value is not a yes or no.",
    description: "A boolean field holds something other than true/false, t/f, 1/0 or yes/no.",
  },
  bad_code: {
    message: "The value is not one of the field's codes.",
    description: "A coded field (Gender, Enroll_Status, Status, …) holds a value outside its list.",
  },
  too_long: {
    message: "The text is longer than the field allows.",
    description: "A text value is longer than its field; it is never truncated.",
  },
  required_blank: {
    message: "A required field is blank.",
    description:
      "A match-key field is blank, or an update would clear a field the record cannot be without.",
  },
  wrong_school: {
    message: "The row names another school than the record's.",
    description: "The row's SchoolID is not the record's school (outside District Office context).",
  },
  missing_required: {
    message: "A field needed to create the record is missing.",
    description:
      "A new record lacks a field its table needs to create it (or, in District Office context, a new student lacks SchoolID).",
  },
  duplicate_key: {
    message: "Another row of the file has the same match key.",
    description: "Two or more rows have the same match key; all of them are rejected.",
  },
  missing_reference: {
    message: "The row names a record that does not exist.",
    description:
      "A school, term, course, teacher, student, section or attendance code the row names does not exist.",
  },
  code_mismatch: {
    message: "Attendance_CodeID and Att_Code name different codes.",
    description: "An attendance row gives both Attendance_CodeID and Att_Code and they disagree.",
  },
  no_term: {
    message: "No term holds the entry date, so the exit date cannot default.",
    description:
      "A new student's EntryDate lies in no term of the school and the row gives no ExitDate.",
  },
  enrolled_elsewhere: {
    message: "The student is active at another school.",
    description:
      "The student is active at another school; only the District Office context moves a student.",
  },
  not_enrolled: {
    message: "The student is not enrolled in the section on that date.",
    description: "Meeting attendance for a student not enrolled in the section on the date.",
  },
  bad_period: {
    message: "The period is not one of the section's periods.",
    description: "Meeting attendance names a Period the section does not meet in.",
  },
  bad_expression: {
    message: "The section's expression cannot be read.",
    description:
      "A section's Expression cannot be parsed or names a period or day the school does not have.",
  },
} as const satisfies Record<string, ProblemInfo>;

/** The file notes: the run goes on. */
export const FILE_NOTE_CODES = {
  bom_ignored: {
    message: "The file starts with a UTF-8 byte-order mark but is read in another character set.",
    description:
      "A UTF-8 byte-order mark in a file read as Windows ANSI, Mac Roman or ISO 8859-1; the file is probably UTF-8.",
  },
  double_encoded: {
    message: "Some text looks double-encoded.",
    description:
      "Text looks like UTF-8 read as Windows ANSI (`JosÃ©`); told once per file, without the value.",
  },
  record_delimiter_mismatch: {
    message: "The file's line ends differ from the record's setting; read correctly.",
    description:
      "A CRLF file under an LF setting, an LF file under CRLF, or a CRLF file under CR; it is read correctly.",
  },
  record_count_line_skipped: {
    message: "A number_of_records line was skipped.",
    description: "The first line reads number_of_records=N but the record does not check it.",
  },
  header_skipped: {
    message: "A header row was skipped.",
    description: "The first row equals the record's field list (case-insensitive) and is skipped.",
  },
  extra_empty_fields: {
    message: "Rows have more fields than mapped, all empty; the extra fields were ignored.",
    description:
      "Rows with more fields than mapped, all of the extra ones empty (a spreadsheet's trailing tabs): one note with the count and the first line.",
  },
  fetched_sftp: {
    message: "The file was fetched over SFTP.",
    description: "A managed connection's file was downloaded over SFTP for the run.",
  },
  hard_linked: {
    message: "The file has more than one hard link.",
    description:
      "The import file has several hard links: AutoComm cannot tell whether another name of it lies outside the import folder.",
  },
  file_recent: {
    message: "The file changed within the minimum file age; the preview read it as it was.",
    description:
      "A preview read a file that changed within the record's minimum file age; a run would wait until it is unchanged that long.",
  },
} as const satisfies Record<string, ProblemInfo>;

/** The rejections: the file is refused whole, nothing of it is applied. */
export const REJECTION_CODES = {
  bad_encoding: {
    message: "The file cannot be decoded as UTF-8.",
    description:
      "A UTF-8 file holds an invalid byte or ends inside a character; the message gives the line and byte offset, and says when the file looks like Windows ANSI or UTF-16.",
  },
  wrong_record_delimiter: {
    message: "The file does not use the record's line ends.",
    description:
      "The configured line end never occurs in the first 64 KiB but another one does; the message names the one found.",
  },
  unclosed_quote: {
    message: "A quote is never closed.",
    description:
      "A quote opens a field and is not closed by the end of the file or within the longest record.",
  },
  record_too_long: {
    message: "A record is longer than the longest record allowed.",
    description: "A record is longer than 1 Mi characters.",
  },
  missing_record_count: {
    message: "The record expects a first line number_of_records=N.",
    description: "The record checks number_of_records=N and the file's first line is not one.",
  },
  record_count_mismatch: {
    message: "The number_of_records line does not match the data records.",
    description:
      "The first line's number_of_records=N differs from the number of data records (rejected ones included).",
  },
  header_mismatch: {
    message: "A header row names the fields in another order than the record's field list.",
    description:
      "The first row is made only of catalog names, in another order than the field list: the columns would land in the wrong fields.",
  },
  not_held: {
    message: "The run to approve is not held; nothing was applied.",
    description:
      "An approval of a held run that is no longer held (already approved, discarded or gone).",
  },
  no_held_file: {
    message: "The held run has no kept file.",
    description: "An approval of a held run whose kept file is missing.",
  },
} as const satisfies Record<string, ProblemInfo>;

/** A row error's code. */
export type RowErrorCode = keyof typeof ROW_ERROR_CODES;
/** A file note's code. */
export type FileNoteCode = keyof typeof FILE_NOTE_CODES;
/** A rejection's code. */
export type RejectionCode = keyof typeof REJECTION_CODES;
/** Any problem code. */
export type ProblemCode = RowErrorCode | FileNoteCode | RejectionCode;

/**
 * A code read back from a stored run: one of today's codes, or any text an older run
 * wrote (a code since renamed). `string & {}` keeps the known codes suggested.
 */
// deno-lint-ignore ban-types
export type StoredProblemCode = ProblemCode | (string & {});

/**
 * A row error's code as a quoted SQL literal, for errors written by SQL (the apply
 * stage): `sqlCode("duplicate_key")` is `'duplicate_key'`. Codes hold only `a-z` and `_`.
 */
export function sqlCode(code: RowErrorCode): string {
  return `'${code}'`;
}
