/**
 * What every import table's rules module provides: one object per table
 * ({@linkcode TableRules}), found through `registry.ts`. The import stages, the record
 * rules, the pages and the read-out ask it instead of branching on a table's name.
 *
 * The rules hold SQL text and small pure functions that build SQL once per run from a
 * {@linkcode SqlContext}; none of them runs per row. Staged rows are aliased `s`, the
 * table's existing records `t`.
 */
import type { AttendanceMode, ImportTable, TableCatalog } from "../catalog.ts";
import type { RowErrorCode } from "../../problems.ts";
import type { References, RowCheckFn, RowLayout } from "./checks.ts";

/** A value bound to a statement's `?`. */
export type SqlArg = string | number | null;

/** One statement of a table's rules, with its parameters. */
export interface Statement {
  readonly sql: string;
  readonly args?: readonly SqlArg[];
  /** Its changed rows are counted in the stage's result (inactivated, removed). */
  readonly counts?: boolean;
}

/** SQL literal of a string or number. */
export function lit(v: string | number): string {
  return typeof v === "number" ? String(v) : `'${v.replace(/'/g, "''")}'`;
}

/** A staged row that is applied (not rejected) … */
export const OK = "s.rej = 0";
/** … a new record … */
export const NEW = `${OK} AND s.tid IS NULL`;
/** … an existing record the row updates or brings back. */
export const WRITES = `${OK} AND (s.diff IS NOT NULL OR s.react = 1)`;

/**
 * The SET clause that drops schedule rows (`cc`) as of `asOf` (SQL: `?`, a column):
 * a row keeps an earlier DateLeft, a later or missing one becomes `asOf`. The one
 * rule for every way a schedule row is dropped (a student transferred, exited or
 * moved, a section made inactive, the row itself removed).
 */
export function dropSchedules(asOf: string): string {
  return `dropped = 1, dateleft = CASE WHEN dateleft IS NULL OR dateleft > ${asOf} THEN ${asOf} ELSE dateleft END`;
}

/**
 * The run as the rules' SQL needs it, built once per run by the apply stage: the
 * record's settings, the staging tables, and SQL fragments of the mapped fields.
 */
export interface SqlContext {
  readonly schoolId: number;
  readonly districtOffice: boolean;
  readonly mode: AttendanceMode;
  /** "Today" of the run (`YYYY-MM-DD`). */
  readonly today: string;
  readonly runId: number;
  readonly inactivateExited: boolean;
  /** The distinct terms or dates the file names (Synchronize scope). */
  readonly scope: readonly (string | number)[];
  /** Staged rows, the flags of existing records, the marked lines. */
  readonly rows: string;
  readonly flags: string;
  readonly marks: string;
  /** True when the record maps the value field `name`. */
  mapped(name: string): boolean;
  /** SQL true when the row gave the value field (`provided`); throws when it is not mapped. */
  provided(name: string): string;
  /** SQL true when the row gave the value field; "0" when it is not mapped. */
  given(name: string): string;
  /** `provided ? new value : fallback`, or the fallback when the field is not mapped. */
  valueOr(name: string, fallback: string): string;
  /** The staged column of a mapped value field (`s.v_…`). */
  staged(name: string): string;
  /** `FROM`-less source of the staged rows `s` that write existing records (optionally joined). */
  writing(join?: string): string;
  /** The match key JSON of the staged row `s`, as the change log stores it. */
  keyJson(): string;
}

/** The active records of a table in a run's scope, as `FROM … WHERE …` over alias `t`. */
export interface ActiveScope {
  readonly from: string;
  readonly where: string;
}

/** How the SIS read-out (CLI `sis`, API) reads a table. */
export interface Readout {
  /** The catalog (attendance: mode) whose fields are read. */
  readonly mode: AttendanceMode;
  /** `FROM` of the read-out; the table's records are `t`. */
  readonly from: string;
  /** Leading select items (before the catalog fields). */
  readonly lead: readonly string[];
  /** Catalog columns not read from `t`. */
  readonly omit: readonly string[];
  /** Status columns that are not catalog fields but say whether a row is active. */
  readonly status: readonly { select: string; name: string }[];
  /** The condition on one school (`?` the School_Number). */
  readonly school: string;
  /** ORDER BY, or null for the match key. */
  readonly order: string | null;
  /** Removes what does not apply to a row read (attendance: a daily row's meeting fields). */
  tidy?(row: Record<string, unknown>): void;
}

/** Reference data the map stage loads for the table's checks (`lookups.ts`). */
export type Reference = "schools" | "terms" | "courses" | "teachers" | "students" | "codes";

/** The two dates of a row that must come in order. */
export interface DateOrder {
  readonly earlier: string;
  readonly later: string;
  readonly message: string;
}

/** Everything that differs between import tables. */
export interface TableRules {
  readonly table: ImportTable;
  /** What people call it (pages, reports). */
  readonly label: string;
  /** The field catalog (attendance: of a mode), without extension fields. */
  catalog(mode: AttendanceMode): TableCatalog;
  /** The table is imported in a mode (daily or meeting attendance). */
  readonly hasModes: boolean;
  /** Records of the table may be created or changed in District Office context. */
  readonly districtOffice: boolean;
  /** The SIS table the rows go to. */
  readonly target: string;
  /**
   * Key columns of the target that are not catalog fields, matched to constants of the
   * mode (SQL), before and after the catalog key.
   */
  fixedKeys?(mode: AttendanceMode): { before: KeyPart[]; after: KeyPart[] };
  /** Existing records are few enough to load their ids by key once per run. */
  readonly keysInMemory: boolean;
  /** Existing records are found in the school's section index (sections). */
  readonly targetsBySectionIndex: boolean;
  /** A record in District Office context must take its SchoolID from the file. */
  readonly schoolFromFileInDistrictOffice: boolean;
  /** SchoolID is checked but not stored on the record (courses). */
  readonly schoolIsContext: boolean;
  /** Extra staging columns filled by the row check, in order. */
  readonly extraColumns: readonly string[];
  /** Staging columns the map stage's checks resolve (`ref_id`, `ref_text`, `def`). */
  readonly resolvedColumns: readonly string[];
  /** Reference data loaded once per run for the row checks. */
  readonly references: ReadonlySet<Reference>;
  /** The school's sections are loaded for the rows (schedules). */
  readonly needsSections: boolean;
  /**
   * The table's reference checks of one staged row in the map stage, built once per
   * run from the loaded reference data (`checks.ts`); none for a table without any.
   */
  rowCheck?(refs: References, layout: RowLayout): RowCheckFn;
  /**
   * The table's reference checks and rules, in the order their errors sort among a
   * line's errors (after the map stage's, duplicate keys and fields needed to create).
   */
  readonly checks: readonly string[];
  /** The staging column of the Synchronize scope (term or date), or null (whole school). */
  readonly scopeColumn: string | null;
  /** The two dates that must come in order. */
  readonly dateOrder?: DateOrder;
  /** A field list must name one of these (the record rules), with the problem if not. */
  readonly oneOfFields?: { readonly names: readonly string[]; readonly problem: string };
  /**
   * Value fields written together from what the map stage resolved: when the row gives
   * any of them, each column takes its resolved value.
   */
  readonly resolvedWrites?: readonly { name: string; column: string; value: string }[];
  /** SQL over `t`, `s`: the existing record is inactive and listing it brings it back. */
  inactive(ctx: SqlContext): string | null;
  /** SQL: the existing record is active at another school (a row error), when checked. */
  elsewhere?(ctx: SqlContext): string;
  /** The error of {@linkcode elsewhere}: field, code and the message (SQL over `s`, `t`). */
  readonly elsewhereError?: { field: string; code: RowErrorCode; message: string };
  /** SQL: the row's dates are out of order once the existing record's are taken in. */
  badDates?(ctx: SqlContext): string;
  /**
   * True when the rows of `mode` are checked against the section they met: its term
   * holds the date, the student is enrolled in it then, the period is one of its own
   * (meeting attendance; SQL in the apply stage).
   */
  readonly checksMeetings?: (mode: AttendanceMode) => boolean;
  /** Statement that sets existing records' rows' default end date (`s.def`), if any. */
  existingDefaults?(ctx: SqlContext): Statement;
  /** The active in-scope records (what "active" means for the table). */
  activeScope(ctx: SqlContext): ActiveScope;
  /** Sets the insert's columns the table defaults or derives (column → SQL). */
  insertColumns?(columns: Map<string, string>, ctx: SqlContext): void;
  /** Statements after the inserts, before the updates (a student moving school). */
  afterInsert?(ctx: SqlContext): Statement[];
  /** SET items of the update beyond the written values (`T`: the target table). */
  updateSets?(ctx: SqlContext, T: string): string[];
  /** Statements after the updates (a course offered at the school). */
  afterUpdate?(ctx: SqlContext): Statement[];
  /** Statements that inactivate exited or ended records; `counts` ones are counted. */
  inactivate?(ctx: SqlContext): Statement[];
  /**
   * Statements of Synchronize Mode's removal of the records listed in `removals`
   * (`id`); the last one's changed rows are the removed count.
   */
  removal(removals: string, ctx: SqlContext): Statement[];
  /**
   * What {@linkcode removal} does, in words, for the held run's page and its approval
   * ("21 students will be transferred out (…) and their schedules dropped"). It must
   * say what the statements do, so it changes with them.
   */
  readonly removalWords: RemovalWords;
  /** The SIS read-out. */
  readonly readout: Readout;
}

/** What removing a table's records means, in words. */
export interface RemovalWords {
  /** What one record and several are called ("student", "students"). */
  readonly noun: readonly [one: string, many: string];
  /**
   * What happens to a removed record, to follow "will be" ("transferred out
   * (Enroll_Status 2, ExitDate today unless earlier) and their schedules dropped").
   */
  readonly effect: string;
}

/**
 * "21 students will be transferred out (…)": `n` removals of a table in words.
 */
export function removalSentence(words: RemovalWords, n: number): string {
  return `${n} ${n === 1 ? words.noun[0] : words.noun[1]} will be ${words.effect}`;
}

/** A key column of the target and the SQL matched to it. */
export interface KeyPart {
  readonly column: string;
  readonly expr: string;
}
