/**
 * The map stage: from a record's field list and the catalog, a plan of where each
 * column of the file goes; and the conversion of one parsed record into a staged
 * row (typed values, a mask of provided fields) or row errors.
 *
 * The conversion runs once per row of files of millions of rows, so the plan is
 * compiled into a {@linkcode RowMapper}: one converter per column chosen up front,
 * fast paths for the common integer and date spellings (anything else goes through
 * `src/sis/values.ts`, whose messages are the reference), and no per-row maps or
 * closures.
 */
import {
  type AttendanceMode,
  type CatalogField,
  catalogFor,
  DISTRICT_OFFICE,
  type ExtensionDefinition,
  findField,
  type ImportTable,
  isNumericCode,
  type TableCatalog,
} from "../sis/catalog.ts";
import type { RowErrorCode } from "../problems.ts";
import { tableRules } from "../sis/tables/registry.ts";
import {
  FREE_TEXT_FIELDS,
  parseBoolean,
  parseDate,
  parseDecimal,
  parseInteger,
  REFUSED_CHARACTERS,
  REFUSED_FREE_TEXT_CHARACTERS,
  refusedCharacter,
  type ValueResult,
} from "../sis/values.ts";
import type { RowError } from "./errors.ts";
import type { SqlValue } from "./executor.ts";

/** Where one field's value goes. */
export interface PlanField {
  readonly field: CatalogField;
  /** 0-based column of the file, or null for a value the record supplies (SchoolID). */
  readonly index: number | null;
  /** Column of the staging table. */
  readonly stageColumn: string;
  /** Value of a field the record supplies. */
  readonly constant?: SqlValue;
  /** Position in the mask of provided values (value and extension fields). */
  readonly maskPosition: number;
}

/** Everything the map stage needs to convert rows. */
export interface ImportPlan {
  readonly table: ImportTable;
  readonly mode: AttendanceMode;
  readonly catalog: TableCatalog;
  /** The record's school. */
  readonly schoolId: number;
  readonly districtOffice: boolean;
  readonly ignoreBlankCells: boolean;
  /** Catalog field of each column of the file. */
  readonly columns: readonly CatalogField[];
  /** The match key fields, in catalog order. */
  readonly keys: readonly PlanField[];
  /** Core non-key fields that are written to the table. */
  readonly values: readonly PlanField[];
  /** Extension fields. */
  readonly extensions: readonly PlanField[];
  /** SchoolID of a course row: checked, not stored on the course. */
  readonly context: readonly PlanField[];
  /** Names of the file's columns, for header detection. */
  readonly mappedNames: readonly string[];
}

/** Options of {@linkcode buildPlan}. */
export interface PlanOptions {
  mode?: AttendanceMode;
  extensions?: readonly ExtensionDefinition[];
  ignoreBlankCells?: boolean;
}

/** Builds the plan of a record; throws on a field list the record rules would refuse. */
export function buildPlan(
  table: ImportTable,
  fields: readonly string[],
  schoolId: number,
  options: PlanOptions = {},
): ImportPlan {
  const mode = options.mode ?? "daily";
  const catalog = catalogFor(table, { mode, extensions: options.extensions ?? [] });
  const columns = fields.map((name) => {
    const f = findField(catalog, name);
    if (!f) throw new Error(`unknown field ${name} for ${table}`);
    return f;
  });
  const districtOffice = schoolId === DISTRICT_OFFICE;
  const rules = tableRules(table);
  const indexOf = (f: CatalogField) => {
    const i = columns.indexOf(f);
    return i < 0 ? null : i;
  };
  const keys: PlanField[] = [];
  const values: PlanField[] = [];
  const extensions: PlanField[] = [];
  const context: PlanField[] = [];
  let mask = 0;
  for (const f of catalog.fields) {
    const index = indexOf(f);
    const isSchool = f.name === "SchoolID";
    if (index === null && !isSchool) continue;
    // SchoolID may always come from the record's school — except where the table's
    // rules want it from the file in District Office context (students).
    const supplied = index === null &&
      !(rules.schoolFromFileInDistrictOffice && districtOffice);
    if (index === null && !supplied) continue;
    const base = { field: f, index, ...(index === null ? { constant: schoolId } : {}) };
    if (f.key) keys.push({ ...base, stageColumn: `k_${f.column}`, maskPosition: -1 });
    else if (f.extension) {
      extensions.push({ ...base, stageColumn: `x_${extensions.length}`, maskPosition: mask++ });
    } else if (isSchool && rules.schoolIsContext) {
      context.push({ ...base, stageColumn: "c_schoolid", maskPosition: -1 });
    } else values.push({ ...base, stageColumn: `v_${f.column}`, maskPosition: mask++ });
  }
  return {
    table,
    mode,
    catalog,
    schoolId,
    districtOffice,
    ignoreBlankCells: options.ignoreBlankCells ?? false,
    columns,
    keys,
    values,
    extensions,
    context,
    mappedNames: columns.map((c) => c.name),
  };
}

/** Extra staging columns per table, filled by the table's row check (in order). */
export function rowExtraColumns(plan: ImportPlan): readonly string[] {
  return tableRules(plan.table).extraColumns;
}

/** Columns the table's checks fill in the map stage (`lookups.ts`). */
function resolvedColumns(plan: ImportPlan): readonly string[] {
  return tableRules(plan.table).resolvedColumns;
}

/**
 * Columns the map stage fills in a staged row, in order: the line, the map-stage
 * rejection flag, the mask of provided values, keys, values, extension values,
 * context, the table's extra columns, then what the table's checks resolve: a
 * referenced id (`ref_id`, `ref_text`) or a default end date (`def`).
 */
export function stagedColumns(plan: ImportPlan): string[] {
  return [
    "line",
    "rej",
    "mask",
    ...plan.keys.map((k) => k.stageColumn),
    ...plan.values.map((v) => v.stageColumn),
    ...plan.extensions.map((x) => x.stageColumn),
    ...plan.context.map((c) => c.stageColumn),
    ...rowExtraColumns(plan),
    ...resolvedColumns(plan),
  ];
}

/** True for a free-text field (a comment), which keeps line ends inside its quotes. */
export function isFreeText(field: CatalogField): boolean {
  return field.type === "text" && field.extension === undefined &&
    FREE_TEXT_FIELDS.has(field.name);
}

/**
 * Converts a trimmed cell to the field's type. A cell holding a refused control
 * character (see `src/sis/values.ts`) is `bad_character` whatever the type. Messages
 * never hold the value.
 */
export function convert(field: CatalogField, text: string): ValueResult<SqlValue> {
  const refused = refusedCharacter(text, isFreeText(field));
  if (refused) return refused;
  switch (field.type) {
    case "integer":
      return parseInteger(text, field.min, field.max);
    case "decimal":
      return parseDecimal(text);
    case "date":
      return parseDate(text);
    case "boolean":
      return parseBoolean(text);
    case "code": {
      if (text === "") return { ok: true, value: null };
      const numeric = isNumericCode(field);
      const probe = numeric ? parseInteger(text) : { ok: true as const, value: text };
      const wanted = probe.ok && probe.value !== null
        ? String(probe.value).toUpperCase()
        : text.toUpperCase();
      const code = field.codes?.find((c) => c.toUpperCase() === wanted);
      if (code === undefined) {
        return {
          ok: false,
          code: "bad_code",
          message: `must be one of ${field.codes?.join(", ")}`,
        };
      }
      return { ok: true, value: numeric ? Number(code) : code };
    }
    default:
      if (text === "") return { ok: true, value: null };
      if (field.maxLength !== undefined && text.length > field.maxLength) {
        return {
          ok: false,
          code: "too_long",
          message: `is ${text.length} characters; at most ${field.maxLength} allowed`,
        };
      }
      return { ok: true, value: text };
  }
}

/** What a converter returns for a cell it cannot read (the reason is in `failure`). */
const BAD: unique symbol = Symbol("bad");
type Converter = (text: string) => SqlValue | typeof BAD;

/** The reason of the last {@linkcode BAD}: set by a converter just before it returns BAD. */
let failure: { code: RowErrorCode; message: string } | undefined;

function fromResult(r: ValueResult<SqlValue>): SqlValue | typeof BAD {
  if (r.ok) return r.value;
  failure = { code: r.code, message: r.message };
  return BAD;
}

const DIGIT_0 = 48;
const DIGIT_9 = 57;

/** True for 1–15 ASCII digits (a safe integer without sign or fraction). */
function plainDigits(text: string): boolean {
  const n = text.length;
  if (n === 0 || n > 15) return false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < DIGIT_0 || c > DIGIT_9) return false;
  }
  return true;
}

function digitsAt(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c < DIGIT_0 || c > DIGIT_9) return false;
  }
  return true;
}

const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function realDate(y: number, m: number, d: number): boolean {
  if (y < 1 || m < 1 || m > 12 || d < 1 || d > MONTH_DAYS[m - 1]!) return false;
  return m !== 2 || d < 29 || (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function integerConverter(field: CatalogField): Converter {
  const min = field.min ?? -Infinity;
  const max = field.max ?? Infinity;
  return (text) => {
    if (text === "") return null;
    if (plainDigits(text)) {
      const value = +text;
      if (value >= min && value <= max) return value;
    }
    return fromResult(convert(field, text));
  };
}

/** `MM/DD/YYYY` and `YYYY-MM-DD` (already padded) directly; every other spelling via convert. */
function dateConverter(field: CatalogField): Converter {
  return (text) => {
    if (text === "") return null;
    if (text.length === 10) {
      if (
        text.charCodeAt(2) === 47 && text.charCodeAt(5) === 47 && digitsAt(text, 0, 2) &&
        digitsAt(text, 3, 5) && digitsAt(text, 6, 10)
      ) {
        const y = +text.slice(6, 10), m = +text.slice(0, 2), d = +text.slice(3, 5);
        if (realDate(y, m, d)) {
          return `${text.slice(6, 10)}-${text.slice(0, 2)}-${text.slice(3, 5)}`;
        }
      } else if (
        text.charCodeAt(4) === 45 && text.charCodeAt(7) === 45 && digitsAt(text, 0, 4) &&
        digitsAt(text, 5, 7) && digitsAt(text, 8, 10)
      ) {
        const y = +text.slice(0, 4), m = +text.slice(5, 7), d = +text.slice(8, 10);
        if (realDate(y, m, d)) return text;
      }
    }
    return fromResult(convert(field, text));
  };
}

/** Text: one regex test per value for the refused control characters, the length, as is. */
function textConverter(field: CatalogField): Converter {
  const max = field.maxLength ?? Infinity;
  const refused = isFreeText(field) ? REFUSED_FREE_TEXT_CHARACTERS : REFUSED_CHARACTERS;
  return (text) => {
    if (text === "") return null;
    if (text.length <= max && !refused.test(text)) return text;
    return fromResult(convert(field, text));
  };
}

function codeConverter(field: CatalogField): Converter {
  const numeric = isNumericCode(field);
  const direct = new Map<string, SqlValue>();
  for (const c of field.codes ?? []) {
    // A numeric code is taken directly only when it is already in its canonical spelling.
    if (!direct.has(c.toUpperCase())) direct.set(c.toUpperCase(), numeric ? Number(c) : c);
  }
  return (text) => {
    if (text === "") return null;
    const hit = direct.get(text.toUpperCase());
    if (hit !== undefined && (!numeric || String(Number(text)) === text)) return hit;
    return fromResult(convert(field, text));
  };
}

function converterFor(field: CatalogField): Converter {
  switch (field.type) {
    case "integer":
      return integerConverter(field);
    case "date":
      return dateConverter(field);
    case "code":
      return codeConverter(field);
    case "text":
      return textConverter(field);
    default:
      return (text) => fromResult(convert(field, text));
  }
}

/** A row error of the map stage (or one found beside it), ready for the staging table. */
export interface StagedError extends RowError {
  /** The record's cells as read (JSON), or null to show the staged values. */
  row: string | null;
  /** Sort key of the error among the errors of its line (see `apply.ts`, `ORD`). */
  ord: number;
}

/**
 * An error that applies only to a new record (`when` 0) or only to an existing one
 * (`when` 1): which one the row is becomes known when its match key is resolved.
 */
export interface ConditionalError extends RowError {
  when: 0 | 1;
  ord: number;
}

/** What the map stage made of one batch of records. */
export interface MappedBatch {
  /** Staged rows, each laid out as {@linkcode stagedColumns}. */
  rows: SqlValue[][];
  errors: StagedError[];
  conditional: ConditionalError[];
}

/** One compiled field of the mapper. */
interface MapField {
  readonly name: string;
  readonly index: number | null;
  readonly constant: SqlValue;
  readonly convert: Converter;
  readonly extension: boolean;
  /** Position of the value in the staged row. */
  readonly slot: number;
  /** Position in the mask, or -1 for keys and context. */
  readonly maskPosition: number;
}

/**
 * Converts records into staged rows. One instance per run.
 */
export class RowMapper {
  readonly plan: ImportPlan;
  readonly columns: readonly string[];
  readonly #keys: MapField[];
  readonly #rest: MapField[];
  readonly #context: MapField[];
  readonly #width: number;
  readonly #schoolSlot: number;
  readonly #extraSlot: number;
  readonly #scopeSlot: number;
  #maskChars: string[];
  /** The mask of a row that gives every value (the usual case), built once. */
  readonly #allGiven: string;

  constructor(plan: ImportPlan) {
    this.plan = plan;
    this.columns = stagedColumns(plan);
    this.#width = this.columns.length;
    const compile = (pf: PlanField): MapField => ({
      name: pf.field.name,
      index: pf.index,
      constant: pf.constant ?? null,
      convert: converterFor(pf.field),
      extension: pf.field.extension !== undefined,
      slot: this.columns.indexOf(pf.stageColumn),
      maskPosition: pf.maskPosition,
    });
    this.#keys = plan.keys.map(compile);
    this.#rest = [...plan.values, ...plan.extensions].map(compile);
    this.#context = plan.context.map(compile);
    const school = [...plan.keys, ...plan.values, ...plan.context].find((p) =>
      p.field.name === "SchoolID"
    );
    this.#schoolSlot = school ? this.columns.indexOf(school.stageColumn) : -1;
    this.#extraSlot = rowExtraColumns(plan).length > 0
      ? this.columns.indexOf(rowExtraColumns(plan)[0]!)
      : -1;
    const scope = tableRules(plan.table).scopeColumn;
    this.#scopeSlot = scope === null ? -1 : this.columns.indexOf(scope);
    this.#maskChars = new Array<string>(this.#rest.length).fill("0");
    this.#allGiven = "1".repeat(this.#rest.length);
  }

  /** Position of a staging column in a staged row. */
  slot(column: string): number {
    return this.columns.indexOf(column);
  }

  /**
   * Converts one record. Returns the staged row, or null when its match key cannot be
   * read (the row is rejected and not staged); row errors go to `errors` (line order).
   */
  map(
    line: number,
    cells: readonly string[],
    errors: RowError[],
    check?: (row: SqlValue[], errors: RowError[]) => void,
  ): SqlValue[] | null {
    const plan = this.plan;
    const ncols = plan.columns.length;
    const first = errors.length;
    if (cells.length > ncols) {
      for (let i = ncols; i < cells.length; i++) {
        if (cells[i]!.trim() !== "") {
          errors.push({
            line,
            field: "",
            code: "too_many_fields",
            message: `Cannot read line ${line}: expected ${ncols} fields, found ${cells.length}`,
          });
          return null;
        }
      }
    }
    const row = new Array<SqlValue>(this.#width).fill(null);
    row[0] = line;
    const ignoreBlank = plan.ignoreBlankCells;
    let keyOk = true;
    for (const k of this.#keys) {
      let value: SqlValue | typeof BAD = null;
      if (k.index === null) value = k.constant;
      else if (k.index < cells.length) value = k.convert(cells[k.index]!.trim());
      if (value === BAD) {
        keyOk = false;
        this.#fail(errors, line, k.name);
        value = null;
      } else if (value === null) {
        keyOk = false;
        errors.push({
          line,
          field: k.name,
          code: "required_blank",
          message: `${k.name}: the match key is blank`,
        });
      }
      row[k.slot] = value;
    }
    const maskChars = this.#maskChars;
    const rest = this.#rest;
    let all = true;
    for (let i = 0; i < rest.length; i++) {
      const f = rest[i]!;
      let value: SqlValue | typeof BAD = null;
      let given = false;
      if (f.index === null) {
        value = f.constant;
        given = true;
      } else if (f.index < cells.length) {
        value = f.convert(cells[f.index]!.trim());
        if (value === BAD) {
          this.#fail(errors, line, f.name);
          value = null;
        } else {
          given = value !== null || !ignoreBlank;
        }
      }
      maskChars[i] = given ? "1" : "0";
      if (!given) all = false;
      row[f.slot] = f.extension && value !== null ? String(value) : value;
    }
    row[2] = all ? this.#allGiven : maskChars.join("");
    for (const f of this.#context) {
      let value: SqlValue | typeof BAD = null;
      if (f.index === null) value = f.constant;
      else if (f.index < cells.length) {
        value = f.convert(cells[f.index]!.trim());
        if (value === BAD) {
          this.#fail(errors, line, f.name);
          value = null;
        }
      }
      row[f.slot] = value;
    }
    if (!plan.districtOffice && this.#schoolSlot >= 0) {
      const school = row[this.#schoolSlot];
      if (school !== null && school !== undefined && school !== plan.schoolId) {
        errors.push({
          line,
          field: "SchoolID",
          code: "wrong_school",
          message: `SchoolID ${school} is not this record's school (${plan.schoolId})`,
        });
      }
    }
    if (check) check(row, errors);
    row[1] = errors.length > first ? 1 : 0;
    return keyOk ? row : null;
  }

  /**
   * Slot of the Synchronize scope in a staged row — the term (sections, schedules) or
   * the date (attendance) — or -1 when the scope is the whole school.
   */
  get scopeSlot(): number {
    return this.#scopeSlot;
  }

  /** Slot of the table's first extra column (sections: meetings), or -1. */
  get extraSlot(): number {
    return this.#extraSlot;
  }

  #fail(errors: RowError[], line: number, name: string): void {
    errors.push({
      line,
      field: name,
      code: failure!.code,
      message: `${name}: ${failure!.message}`,
    });
  }
}
