/**
 * The map stage: from a record's field list and the catalog, a plan of where each
 * column of the file goes; and the conversion of one parsed record into a staged
 * row (typed values, a mask of provided fields) or row errors.
 */
import {
  type AttendanceMode,
  type CatalogField,
  catalogFor,
  type ExtensionDefinition,
  findField,
  type ImportTable,
  type TableCatalog,
} from "../sis/catalog.ts";
import { isNumericCode } from "../db/schema/sis.ts";
import {
  parseBoolean,
  parseDate,
  parseDecimal,
  parseInteger,
  type ValueResult,
} from "../sis/values.ts";
import { DISTRICT_OFFICE } from "../sis/setup.ts";
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
    // SchoolID may always come from the record's school — except for a student in
    // District Office context, who must be given a school in the file.
    const supplied = index === null && !(table === "students" && districtOffice);
    if (index === null && !supplied) continue;
    const base = { field: f, index, ...(index === null ? { constant: schoolId } : {}) };
    if (f.key) keys.push({ ...base, stageColumn: `k_${f.column}`, maskPosition: -1 });
    else if (f.extension) {
      extensions.push({ ...base, stageColumn: `x_${extensions.length}`, maskPosition: mask++ });
    } else if (isSchool && table === "courses") {
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

/** Columns of a staged row, in order (see `stage.ts`). */
export function stagedColumns(plan: ImportPlan): string[] {
  return [
    "line",
    "rej",
    "mask",
    ...plan.keys.map((k) => k.stageColumn),
    ...plan.values.map((v) => v.stageColumn),
    ...plan.extensions.map((x) => x.stageColumn),
    ...plan.context.map((c) => c.stageColumn),
  ];
}

/** Converts a trimmed cell to the field's type. Messages never hold the value. */
export function convert(field: CatalogField, text: string): ValueResult<SqlValue> {
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

/** A converted row. */
export interface MappedRow {
  /** The staged row (see {@linkcode stagedColumns}), or null when the key cannot be read. */
  staged: SqlValue[] | null;
  errors: RowError[];
  short: boolean;
}

/**
 * Per-table work on one row that needs no database: more errors, and values for
 * the table's extra staging columns (e.g. a section's meetings).
 */
export type RowCheck = (
  values: ReadonlyMap<string, SqlValue>,
  line: number,
) => { errors: RowError[]; extra: SqlValue[] };

/** Converts one record's cells into a staged row and its errors. */
export function mapRow(
  plan: ImportPlan,
  line: number,
  cells: readonly string[],
  check?: RowCheck,
): MappedRow {
  const errors: RowError[] = [];
  const short = cells.length < plan.columns.length;
  if (cells.length > plan.columns.length) {
    const extra = cells.slice(plan.columns.length);
    if (extra.some((c) => c.trim() !== "")) {
      errors.push({
        line,
        field: "",
        code: "too_many_fields",
        message:
          `Cannot read line ${line}: expected ${plan.columns.length} fields, found ${cells.length}`,
      });
      return { staged: null, errors, short };
    }
  }
  const byName = new Map<string, SqlValue>();
  const read = (pf: PlanField): { provided: boolean; value: SqlValue; bad: boolean } => {
    if (pf.index === null) return { provided: true, value: pf.constant ?? null, bad: false };
    if (pf.index >= cells.length) return { provided: false, value: null, bad: false };
    const text = cells[pf.index]!.trim();
    const result = convert(pf.field, text);
    if (!result.ok) {
      errors.push({
        line,
        field: pf.field.name,
        code: result.code,
        message: `${pf.field.name}: ${result.message}`,
      });
      return { provided: false, value: null, bad: true };
    }
    if (result.value === null && plan.ignoreBlankCells) {
      return { provided: false, value: null, bad: false };
    }
    return { provided: true, value: result.value, bad: false };
  };

  let keyOk = true;
  const keyValues: SqlValue[] = [];
  for (const k of plan.keys) {
    const r = read(k);
    if (r.bad) keyOk = false;
    else if (r.value === null) {
      keyOk = false;
      errors.push({
        line,
        field: k.field.name,
        code: "required_blank",
        message: `${k.field.name}: the match key is blank`,
      });
    }
    keyValues.push(r.value);
    byName.set(k.field.name, r.value);
  }
  let mask = "";
  const valueCells: SqlValue[] = [];
  for (const pf of [...plan.values, ...plan.extensions]) {
    const r = read(pf);
    mask += r.provided ? "1" : "0";
    const v = pf.field.extension && r.value !== null ? String(r.value) : r.value;
    valueCells.push(v);
    if (r.provided) byName.set(pf.field.name, v);
  }
  const contextCells: SqlValue[] = [];
  for (const pf of plan.context) {
    const r = read(pf);
    contextCells.push(r.value);
    if (r.provided) byName.set(pf.field.name, r.value);
  }
  const school = byName.get("SchoolID");
  if (!plan.districtOffice && school !== undefined && school !== null && school !== plan.schoolId) {
    errors.push({
      line,
      field: "SchoolID",
      code: "wrong_school",
      message: `SchoolID ${school} is not this record's school (${plan.schoolId})`,
    });
  }
  const extra = check ? check(byName, line) : { errors: [], extra: [] };
  errors.push(...extra.errors);
  if (!keyOk) return { staged: null, errors, short };
  return {
    staged: [
      line,
      errors.length > 0 ? 1 : 0,
      mask,
      ...keyValues,
      ...valueCells,
      ...contextCells,
      ...extra.extra,
    ],
    errors,
    short,
  };
}
