/**
 * References checked in the map stage. Instead of a lookup per row in SQL, the run
 * loads once what its rows refer to — schools, terms (with their default end dates),
 * the course catalog, teachers, attendance codes, the district's student numbers,
 * and the sections of a school when a row first needs
 * them — and resolves each row's references as it is mapped: a missing reference is
 * a row error there, with the code, field and message the SIS checks have always
 * given, and resolved ids (a schedule's section, an attendance code) and default
 * dates go into the staged row. Which data a table loads, and its check of a row, are
 * the table's rules (`src/sis/tables/`); here the data is loaded and the checks every
 * table shares (fields needed to create) run.
 *
 * What needs the row's existing record (which only the apply stage knows) is left
 * to `apply.ts`: rules that differ for new and existing records become conditional
 * errors, and checks that read the existing record's values run there in SQL.
 *
 * The data is read before the apply transaction starts: references are checked
 * against the SIS as it was when the run started (the match keys themselves are
 * resolved again in the transaction when anything changed in between, see `run.ts`).
 */
import type { ImportTable } from "../sis/catalog.ts";
import { tableRules } from "../sis/tables/registry.ts";
import {
  checkOrd,
  givenAt,
  type MappedField,
  ORD,
  type References,
  type RowCheckFn,
  type RowLayout,
  type SchoolCodes,
  sqlUpper,
  type TermInfo,
} from "../sis/tables/checks.ts";
import type { TableRules } from "../sis/tables/rules.ts";
import type { SqlExecutor, SqlValue } from "./executor.ts";
import type { RowError } from "./errors.ts";
import type { ConditionalError, ImportPlan, PlanField, RowMapper, StagedError } from "./plan.ts";
import { keyColumns } from "./stage.ts";

export { ORD, sqlUpper };

/**
 * The sort key of a table check's errors: `ORD.table` + the check's position in the
 * table's `checks` (its rules). Called for errors only, never per row.
 */
export function ordOf(table: ImportTable, check: string): number {
  return checkOrd(table, tableRules(table).checks, check);
}

/** True when the staged row gave the value at `maskPosition` (its mask is column 2). */
const given = givenAt;

function hasError(errors: readonly { field: string }[], name: string): boolean {
  for (const e of errors) if (e.field === name) return true;
  return false;
}

/** The value of a value field in a staged row, and whether the row gave it. */
interface Field {
  pf: PlanField;
  slot: number;
}

function field(plan: ImportPlan, mapper: RowMapper, name: string): Field | null {
  const pf = plan.values.find((v) => v.field.name === name);
  return pf ? { pf, slot: mapper.slot(pf.stageColumn) } : null;
}

/**
 * Every row of a query as one JSON array built by SQLite (`json_group_array`), parsed
 * once: about ten times faster than reading 200,000 rows one by one.
 */
async function jsonRows<T>(exec: SqlExecutor, value: string, from: string): Promise<T[]> {
  const [values] = await jsonColumns(exec, [value], from);
  return values as T[];
}

/**
 * The same, a flat array per column (the aggregates of one query read the rows in
 * the same order): for several columns, no small array per row to build and collect
 * — half the time of one `json_array` per row for a table's keys.
 */
async function jsonColumns(
  exec: SqlExecutor,
  columns: readonly string[],
  from: string,
): Promise<SqlValue[][]> {
  const [row] = await exec.all(
    `SELECT ${columns.map((c, i) => `json_group_array(${c}) AS c${i}`).join(", ")} FROM ${from}`,
  );
  return columns.map((_, i) => JSON.parse(String(row?.[`c${i}`] ?? "[]")) as SqlValue[]);
}

/** Most cells of a dense {@linkcode SectionIndex} (4 bytes each). */
const DENSE_SECTION_CELLS = 1 << 22;

/**
 * A school's sections by (TermID, Course_Number, Section_Number), for the check of
 * every schedule row. Terms, course numbers and section numbers are each numbered
 * in small maps, and the ids sit in one typed array indexed by the three numbers:
 * about twice as fast as nested maps at a million rows, whose inner maps are spread
 * over the heap (bench/profile.ts). A school whose grid would be too large (or
 * whose ids do not fit 31 bits) keeps the nested maps.
 */
export class SectionIndex {
  readonly #terms = new Map<number, number>();
  readonly #courses = new Map<string, number>();
  readonly #numbers = new Map<string, number>();
  readonly #ids: Int32Array | null = null;
  readonly #nested = new Map<number, Map<string, Map<string, number>>>();

  constructor(rows: readonly (readonly [number, number, string, string])[]) {
    for (const [, term, course, section] of rows) {
      if (!this.#terms.has(term)) this.#terms.set(term, this.#terms.size);
      if (!this.#courses.has(String(course))) this.#courses.set(String(course), this.#courses.size);
      if (!this.#numbers.has(String(section))) {
        this.#numbers.set(String(section), this.#numbers.size);
      }
    }
    const cells = this.#terms.size * this.#courses.size * this.#numbers.size;
    if (cells <= DENSE_SECTION_CELLS && rows.every(([id]) => id <= 0x7fffffff)) {
      const ids = new Int32Array(cells).fill(-1);
      for (const [id, term, course, section] of rows) {
        ids[this.#cell(term, String(course), String(section))!] = id;
      }
      this.#ids = ids;
      return;
    }
    for (const [id, term, course, section] of rows) {
      let byTerm = this.#nested.get(term);
      if (!byTerm) this.#nested.set(term, byTerm = new Map());
      let byCourse = byTerm.get(String(course));
      if (!byCourse) byTerm.set(String(course), byCourse = new Map());
      byCourse.set(String(section), id);
    }
  }

  #cell(term: number, course: string, section: string): number | undefined {
    const t = this.#terms.get(term);
    const c = this.#courses.get(course);
    const n = this.#numbers.get(section);
    if (t === undefined || c === undefined || n === undefined) return undefined;
    return (t * this.#courses.size + c) * this.#numbers.size + n;
  }

  /** The id of the section, or undefined when the school has no such section. */
  get(term: number, course: string, section: string): number | undefined {
    if (this.#ids === null) return this.#nested.get(term)?.get(course)?.get(section);
    const cell = this.#cell(term, course, section);
    if (cell === undefined) return undefined;
    const id = this.#ids[cell]!;
    return id < 0 ? undefined : id;
  }
}

/**
 * The ids of a table's existing records by match key, one nested map level per key
 * part, loaded once: staging then binds each row's record id instead of running a
 * subquery per row (students, teachers, courses; about half the staging time of a
 * re-import, bench/profile.ts). Key values compare as SQLite compares them here:
 * integers as numbers, text exactly.
 */
export class KeyIndex {
  readonly #root = new Map<SqlValue, unknown>();
  readonly #slots: readonly number[];

  /**
   * `ids` of the records and, for each part of the key, its values (in the same
   * order); `slots`: where the key's parts sit in a staged row.
   */
  constructor(
    ids: readonly SqlValue[],
    keys: readonly (readonly SqlValue[])[],
    slots: readonly number[],
  ) {
    this.#slots = slots;
    const last = keys.length - 1;
    const leaf = keys[last]!;
    for (let r = 0; r < ids.length; r++) {
      let level = this.#root;
      for (let i = 0; i < last; i++) {
        const part = keys[i]![r]!;
        let next = level.get(part) as Map<SqlValue, unknown> | undefined;
        if (!next) level.set(part, next = new Map());
        level = next;
      }
      level.set(leaf[r]!, ids[r]);
    }
  }

  /** The id of the staged row's existing record, or null for a new one. */
  get(row: readonly SqlValue[]): number | null {
    let level: unknown = this.#root;
    for (const slot of this.#slots) {
      level = (level as Map<SqlValue, unknown>).get(row[slot]!);
      if (level === undefined) return null;
    }
    return level as number;
  }
}

/** Where errors of the map stage go (see `run.ts`). */
export interface CheckSink {
  errors: StagedError[];
  conditional: ConditionalError[];
  /** Lines of schedule rows that a new record would save dropped (DateLeft has come). */
  marks: number[];
}

/** The per-run reference data and the table's checks of one mapped row. */
export class Lookups {
  readonly #exec: SqlExecutor;
  readonly #plan: ImportPlan;
  readonly #rules: TableRules;
  /** The table's row check, built once per run when the reference data is loaded. */
  #rowCheck: RowCheckFn | undefined;
  readonly #updateExisting: boolean;
  readonly #today: string;
  #schools = new Set<number>();
  /** school → term id → term. */
  #terms = new Map<number, Map<number, TermInfo>>();
  #termsBySchool = new Map<number, TermInfo[]>();
  #courses = new Set<string>();
  /** Teacher numbers of each school. */
  #teachers = new Map<number, Set<string>>();
  /** Student numbers of the district (one hash probe per row; about 30 bytes each). */
  #students: Set<number> | null = null;
  #codes = new Map<number, SchoolCodes>();
  /** Sections: school → term id → course → section number → id. */
  #sections = new Map<number, SectionIndex>();
  /** A sections row's existing section is found in the school's SectionIndex. */
  #sectionTargets = false;
  /** Existing records by match key (students, teachers, courses), when resolving. */
  #keys: KeyIndex | null = null;
  readonly #required: { name: string; ord: number; value: Field | null }[];
  readonly #label: string;
  /** A new student in District Office context needs a SchoolID, and the file has none. */
  readonly #districtSchool: boolean;
  /** Slots of the staged row the checks read and fill (-1 when the table has none). */
  readonly #at: RowLayout["at"];

  private constructor(
    exec: SqlExecutor,
    plan: ImportPlan,
    mapper: RowMapper,
    updateExisting: boolean,
    today: string,
  ) {
    this.#exec = exec;
    this.#today = today;
    this.#plan = plan;
    this.#rules = tableRules(plan.table);
    this.#updateExisting = updateExisting;
    this.#at = {
      student: mapper.slot("k_student_number"),
      school: mapper.slot("k_schoolid"),
      term: mapper.slot("k_termid"),
      course: mapper.slot("k_course_number"),
      section: mapper.slot("k_section_number"),
      refId: mapper.slot("ref_id"),
      refText: mapper.slot("ref_text"),
      def: mapper.slot("def"),
    };
    this.#label = plan.catalog.label.toLowerCase().replace(/s$/, "");
    this.#districtSchool = this.#rules.schoolFromFileInDistrictOffice && plan.districtOffice &&
      !plan.values.some((v) => v.field.name === "SchoolID");
    this.#required = [];
    plan.catalog.fields.forEach((f, i) => {
      if (!f.requiredToCreate || f.key) return;
      this.#required.push({
        name: f.name,
        ord: ORD.required + 2 * i,
        value: field(plan, mapper, f.name),
      });
    });
  }

  /** Loads what the table's rows refer to. */
  static async load(
    exec: SqlExecutor,
    plan: ImportPlan,
    mapper: RowMapper,
    options: {
      updateExisting: boolean;
      today: string;
      /** Also load what finds each row's existing record in memory, where the table allows it. */
      targetsInMemory?: boolean;
    },
  ): Promise<Lookups> {
    const l = new Lookups(exec, plan, mapper, options.updateExisting, options.today);
    const rules = l.#rules;
    const refs = rules.references;
    // Tables whose existing records' ids are loaded whole to resolve a re-import's rows
    // (a few bytes per record; schedules and attendance grow with every day of school
    // and are looked up per row in SQL instead). Sections use the school's SectionIndex.
    if (options.targetsInMemory && rules.keysInMemory) {
      const [ids, ...keys] = await jsonColumns(
        exec,
        ["id", ...keyColumns(plan).map((k) => k.column)],
        rules.target,
      );
      l.#keys = new KeyIndex(ids!, keys, plan.keys.map((k) => mapper.slot(k.stageColumn)));
    }
    l.#sectionTargets = rules.targetsBySectionIndex && (options.targetsInMemory ?? false);
    if (refs.has("schools")) {
      l.#schools = new Set(await jsonRows<number>(exec, "school_number", "schools"));
    }
    if (refs.has("terms")) {
      const rows = await exec.all(
        "SELECT school_number, term_id, first_day, last_day, date(last_day, '+1 day') AS after FROM terms ORDER BY school_number, term_id",
      );
      for (const r of rows) {
        const school = Number(r["school_number"]);
        const info: TermInfo = {
          termId: Number(r["term_id"]),
          firstDay: String(r["first_day"]),
          lastDay: String(r["last_day"]),
          after: r["after"] === null ? null : String(r["after"]),
        };
        let bySchool = l.#terms.get(school);
        if (!bySchool) l.#terms.set(school, bySchool = new Map());
        bySchool.set(info.termId, info);
        let list = l.#termsBySchool.get(school);
        if (!list) l.#termsBySchool.set(school, list = []);
        list.push(info);
      }
    }
    if (refs.has("courses")) {
      for (const c of await jsonRows<string>(exec, "course_number", "courses")) {
        l.#courses.add(String(c));
      }
    }
    if (refs.has("teachers")) {
      if (plan.values.some((v) => v.field.name === "Teacher")) {
        const teachers = await jsonRows<[number, string]>(
          exec,
          "json_array(schoolid, teachernumber)",
          "teachers",
        );
        for (const [school, number] of teachers) {
          let numbers = l.#teachers.get(school);
          if (!numbers) l.#teachers.set(school, numbers = new Set());
          numbers.add(String(number));
        }
      }
    }
    if (refs.has("students")) {
      l.#students = new Set(
        await jsonRows<number>(exec, "student_number", "students"),
      );
    }
    if (refs.has("codes")) {
      const rows = await exec.all(
        "SELECT school_number, id, code FROM attendance_codes ORDER BY school_number, id",
      );
      for (const r of rows) {
        const school = Number(r["school_number"]);
        let codes = l.#codes.get(school);
        if (!codes) l.#codes.set(school, codes = { byId: new Map(), byUpper: new Map() });
        const id = Number(r["id"]);
        const code = String(r["code"]);
        codes.byId.set(id, code);
        const upper = sqlUpper(code);
        if (!codes.byUpper.has(upper)) codes.byUpper.set(upper, id);
      }
    }
    if (rules.needsSections && !plan.districtOffice) await l.loadSchool(plan.schoolId);
    l.#rowCheck = rules.rowCheck?.(l.#references(), {
      at: l.#at,
      field(name: string): MappedField | null {
        const f = field(plan, mapper, name);
        return f ? { maskPosition: f.pf.maskPosition, slot: f.slot } : null;
      },
      today: l.#today,
    });
    return l;
  }

  /** The loaded reference data, as the table's row check reads it. */
  #references(): References {
    return {
      schools: this.#schools,
      terms: this.#terms,
      courses: this.#courses,
      teachers: this.#teachers,
      students: this.#students ?? new Set(),
      codes: this.#codes,
      sections: this.#sections,
      termsBySchool: this.#termsBySchool,
    };
  }

  /**
   * How a staged row's existing record is found in memory, when the run loaded what it
   * needs for that (`targetsInMemory` of {@linkcode load}); undefined otherwise.
   */
  get targetOf(): ((row: readonly SqlValue[]) => number | null) | undefined {
    const keys = this.#keys;
    if (keys) return (row) => keys.get(row);
    if (!this.#sectionTargets) return undefined;
    const at = this.#at;
    // A row's school is loaded before the row is staged (pending()).
    return (row) =>
      this.#sections.get(row[at.school] as number)?.get(
        row[at.term] as number,
        row[at.course] as string,
        row[at.section] as string,
      ) ?? null;
  }

  /** A school whose sections must be loaded before the row can be checked, or null. */
  pending(row: readonly SqlValue[]): number | null {
    // Schedule rows need their section; sections rows their existing one (targetOf).
    if (!this.#rules.needsSections && !this.#sectionTargets) return null;
    const school = row[this.#at.school] as number;
    return this.#sections.has(school) ? null : school;
  }

  /** Loads the sections of a school. */
  async loadSchool(school: number): Promise<void> {
    if (this.#sections.has(school)) return;
    const rows = await jsonRows<[number, number, string, string]>(
      this.#exec,
      "json_array(id, termid, course_number, section_number)",
      `sections WHERE schoolid = ${Number(school)}`,
    );
    const map = new SectionIndex(rows);
    this.#sections.set(school, map);
  }

  /**
   * The checks of a staged row that follow its mapping: fields needed to create a
   * record (conditional errors), and the table's references and rules. `rej` is the
   * row's map-stage rejection flag.
   */
  check(row: SqlValue[], mapErrors: readonly RowError[], sink: CheckSink): void {
    const line = row[0] as number;
    const rejected = row[1] === 1;
    for (const r of this.#required) {
      const missing = r.value
        ? !(given(row, r.value.pf.maskPosition) && row[r.value.slot] !== null)
        : true;
      if (missing && !hasError(mapErrors, r.name)) {
        sink.conditional.push({
          line,
          when: 0,
          ord: r.ord,
          field: r.name,
          code: "missing_required",
          message: `${r.name}: required to create a new ${this.#label}`,
        });
      }
      if (
        r.value && this.#updateExisting && !this.#plan.ignoreBlankCells &&
        given(row, r.value.pf.maskPosition) && row[r.value.slot] === null
      ) {
        sink.conditional.push({
          line,
          when: 1,
          ord: r.ord + 1,
          field: r.name,
          code: "required_blank",
          message: `${r.name}: a required field cannot be cleared`,
        });
      }
    }
    if (this.#districtSchool) {
      sink.conditional.push({
        line,
        when: 0,
        ord: ORD.districtSchool,
        field: "SchoolID",
        code: "missing_required",
        message: "SchoolID: required to create a student in District Office context",
      });
    }
    this.#rowCheck?.(row, line, rejected, sink);
  }
}
