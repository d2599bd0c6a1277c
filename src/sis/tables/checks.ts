/**
 * What a table's row check (its reference checks in the map stage) works with: the
 * reference data the run loaded once, where the values sit in a staged row, and where
 * its errors go. A table's rules build their check once per run from these
 * ({@linkcode TableRules.rowCheck}); the check then runs once per row, reading the
 * loaded data directly — no per-row maps, closures or queries.
 */
import type { ImportTable } from "../catalog.ts";
import type { RowErrorCode } from "../../problems.ts";

/** A value of a staged row. */
export type Cell = string | number | bigint | null | Uint8Array;

/**
 * Sort keys of the errors of one line, in the order the checks have always run
 * (map stage, duplicate keys, fields needed to create, then the table's references
 * and rules); the report lists a line's errors in this order.
 */
export const ORD = {
  map: 0,
  duplicate: 10,
  /** + 2 × the field's position in the catalog (+ 1 for a required field cleared). */
  required: 20,
  districtSchool: 200,
  attendanceCode: 201,
  /** The table's checks: 300, 301, … in the order of the table's `checks`. */
  table: 300,
} as const;

/** The sort key of the errors of `check`, one of a table's `checks`. */
export function checkOrd(table: ImportTable, checks: readonly string[], check: string): number {
  const i = checks.indexOf(check);
  if (i < 0) throw new Error(`the ${table} rules have no check ${check}`);
  return ORD.table + i;
}

/** A term of a school, with the day after its last day (`date(last_day, '+1 day')`). */
export interface TermInfo {
  firstDay: string;
  lastDay: string;
  after: string | null;
  termId: number;
}

/** A school's attendance codes. */
export interface SchoolCodes {
  byId: Map<number, string>;
  /** Upper-cased code → id (the lowest id when two codes differ only in case). */
  byUpper: Map<string, number>;
}

/** A school's sections by (TermID, Course_Number, Section_Number). */
export interface SectionLookup {
  get(term: number, course: string, section: string): number | undefined;
}

/** The reference data of a run, loaded once before its rows are checked. */
export interface References {
  readonly schools: ReadonlySet<number>;
  /** school → term id → term. */
  readonly terms: ReadonlyMap<number, ReadonlyMap<number, TermInfo>>;
  readonly courses: ReadonlySet<string>;
  /** Teacher numbers of each school. */
  readonly teachers: ReadonlyMap<number, ReadonlySet<string>>;
  /** Student numbers of the district (empty unless the table refers to students). */
  readonly students: ReadonlySet<number>;
  readonly codes: ReadonlyMap<number, SchoolCodes>;
  /** The sections of each school loaded so far (a row's school is loaded before its check). */
  readonly sections: ReadonlyMap<number, SectionLookup>;
  /** Each school's terms, in term id order. */
  readonly termsBySchool: ReadonlyMap<number, readonly TermInfo[]>;
}

/** A value field of the staged row: its position in the mask and its slot. */
export interface MappedField {
  readonly maskPosition: number;
  readonly slot: number;
}

/** Where a row check reads and writes a staged row. */
export interface RowLayout {
  /** Slots of the key columns and resolved columns (-1 when the table has none). */
  readonly at: {
    readonly student: number;
    readonly school: number;
    readonly term: number;
    readonly course: number;
    readonly section: number;
    readonly refId: number;
    readonly refText: number;
    readonly def: number;
  };
  /** The mapped value field `name`, or null when the record does not map it. */
  field(name: string): MappedField | null;
  /** "Today" of the run (`YYYY-MM-DD`). */
  readonly today: string;
}

/** Where a row check's errors go. */
export interface RowCheckSink {
  errors: {
    line: number;
    field: string;
    code: RowErrorCode;
    message: string;
    row: string | null;
    ord: number;
  }[];
  /** Errors for a new record only (`when` 0) or an existing one only (1). */
  conditional: {
    line: number;
    when: 0 | 1;
    field: string;
    code: RowErrorCode;
    message: string;
    ord: number;
  }[];
  /** Lines of schedule rows that a new record would save dropped (DateLeft has come). */
  marks: number[];
}

/**
 * The check of one staged row: `rejected` when the map stage already found an error
 * in it. It may fill the row's resolved columns.
 */
export type RowCheckFn = (
  row: Cell[],
  line: number,
  rejected: boolean,
  sink: RowCheckSink,
) => void;

/** True when the staged row gave the value at `maskPosition` (its mask is column 2). */
export function givenAt(row: readonly Cell[], maskPosition: number): boolean {
  return maskPosition >= 0 && (row[2] as string).charCodeAt(maskPosition) === 49;
}

/** SQLite's `upper()`: ASCII letters only. */
export function sqlUpper(text: string): string {
  let out = "";
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 97 && c <= 122) {
      out += text.slice(from, i) + String.fromCharCode(c - 32);
      from = i + 1;
    }
  }
  return from === 0 ? text : out + text.slice(from);
}
