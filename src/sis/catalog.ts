/**
 * The field catalog: every importable field of every import table, with its type,
 * length, whether it is needed to create a record, whether it is part of the match
 * key (and how key values are compared), whether it holds personal data, and a
 * one-line description. It drives validation, the Field List pop-up, the API and
 * the SQL of the apply stage, and the SIS tables of the schema are built from it.
 * Each table's entries are written in its rules module (`tables/`, `tables/fields.ts`);
 * this module defines their shape and serves them.
 */
import { rulesNamed } from "./tables/registry.ts";

/** The District Office: School_Number 0, always present. */
export const DISTRICT_OFFICE = 0;

/** The six import tables, as spelled in the API and the CLI. */
export const IMPORT_TABLES = [
  "students",
  "teachers",
  "courses",
  "sections",
  "schedules",
  "attendance",
] as const;
/** One of {@linkcode IMPORT_TABLES}. */
export type ImportTable = typeof IMPORT_TABLES[number];

/** Attendance is recorded by day or by section meeting. */
export type AttendanceMode = "daily" | "meeting";

/** Types a field value can have. `code` is a closed list of values. */
export type FieldType = "text" | "integer" | "decimal" | "date" | "boolean" | "code";

/**
 * How a key value is compared: numbers as integers (`0100` = 100, `224401.0` =
 * 224401), text exactly (leading zeros kept), dates as the day they name.
 */
export type KeyNormalisation = "integer" | "exact" | "date";

/** One importable field. */
export interface CatalogField {
  /** Catalog name, as written in an AutoComm record (case-insensitive). */
  readonly name: string;
  /** Column of the SIS table that holds the value. */
  readonly column: string;
  readonly type: FieldType;
  /** Longest text value accepted (text and code fields). */
  readonly maxLength?: number;
  /** Allowed values of a `code` field (compared case-insensitively, stored as listed). */
  readonly codes?: readonly string[];
  /** Smallest and largest value of an integer field. */
  readonly min?: number;
  readonly max?: number;
  /** Needed to create a new record. */
  readonly requiredToCreate: boolean;
  /** Part of the match key; how it is compared. */
  readonly key?: KeyNormalisation;
  /** Values never appear in errors, logs or e-mail. */
  readonly personal: boolean;
  readonly description: string;
  /** Defined by an extension table (`Ext.field`) rather than the core table. */
  readonly extension?: { readonly table: string; readonly field: string };
}

/** The catalog of one import table. */
export interface TableCatalog {
  readonly table: ImportTable;
  /** What people call it ("Student schedules"). */
  readonly label: string;
  /** What one row of the file is. */
  readonly rowDescription: string;
  /** The SIS table the rows go to. */
  readonly sqlTable: string;
  /** Catalog names of the match key, in order. */
  readonly key: readonly string[];
  readonly fields: readonly CatalogField[];
}

/** The core catalog of a table (attendance: of one mode), without extension fields. */
export function coreCatalog(t: ImportTable, mode: AttendanceMode = "daily"): TableCatalog {
  // Each table's entries live in its rules module (`tables/`).
  const rules = rulesNamed(t);
  if (rules === undefined) throw new Error(`unknown import table ${t}`);
  return rules.catalog(mode);
}

/** An extension table defined on a base table (school setup). */
export interface ExtensionDefinition {
  readonly table: ImportTable;
  readonly name: string;
  readonly fields: readonly {
    readonly name: string;
    readonly type: "text" | "integer" | "decimal" | "date" | "boolean";
    readonly maxLength?: number;
    readonly description?: string;
  }[];
}

/** Options of {@linkcode catalogFor}. */
export interface CatalogOptions {
  /** Attendance mode; default `daily`. */
  mode?: AttendanceMode;
  /** Extension tables from school setup; those on this table are added. */
  extensions?: readonly ExtensionDefinition[];
}

/** The catalog of a table, with the extension fields defined on it. */
export function catalogFor(t: ImportTable, options: CatalogOptions = {}): TableCatalog {
  const core = coreCatalog(t, options.mode ?? "daily");
  const extra: CatalogField[] = [];
  for (const ext of options.extensions ?? []) {
    if (ext.table !== t) continue;
    for (const f of ext.fields) {
      extra.push({
        name: `${ext.name}.${f.name}`,
        column: "",
        type: f.type,
        ...(f.maxLength !== undefined ? { maxLength: f.maxLength } : {}),
        requiredToCreate: false,
        personal: false,
        description: f.description ?? `Extension field ${f.name} of ${ext.name}`,
        extension: { table: ext.name, field: f.name },
      });
    }
  }
  return extra.length === 0 ? core : { ...core, fields: [...core.fields, ...extra] };
}

/** Canonical form of a field name for lookup: `[Ext].[f]` → `ext.f`, lower case. */
export function normaliseFieldName(name: string): string {
  const trimmed = name.trim();
  const bracketed = /^\[([^\]]+)\]\s*\.\s*\[([^\]]+)\]$/.exec(trimmed);
  const plain = bracketed ? `${bracketed[1]}.${bracketed[2]}` : trimmed;
  return plain.replace(/\s*\.\s*/g, ".").toLowerCase();
}

/** True when every value of a code field is a whole number, so it is stored as one. */
export function isNumericCode(field: CatalogField): boolean {
  return field.type === "code" && (field.codes ?? []).every((c) => /^-?\d+$/.test(c));
}

/** The SQLite type a field's values are stored as (SIS columns, staging, the bench). */
export function storageType(field: CatalogField): "INTEGER" | "REAL" | "TEXT" {
  switch (field.type) {
    case "integer":
    case "boolean":
      return "INTEGER";
    case "decimal":
      return "REAL";
    case "code":
      return isNumericCode(field) ? "INTEGER" : "TEXT";
    default:
      return "TEXT";
  }
}

/** Finds a field by name, case-insensitively, with or without a table prefix. */
export function findField(catalog: TableCatalog, name: string): CatalogField | undefined {
  const wanted = normaliseFieldName(name);
  const prefix = `${catalog.sqlTable}.`;
  const bare = wanted.startsWith(prefix) && !catalog.fields.some((f) => f.extension)
    ? wanted.slice(prefix.length)
    : wanted;
  return catalog.fields.find((f) => f.name.toLowerCase() === wanted) ??
    catalog.fields.find((f) => f.name.toLowerCase() === bare && f.extension === undefined) ??
    (wanted.startsWith(`${catalog.table}.`)
      ? catalog.fields.find((f) => f.name.toLowerCase() === wanted.slice(catalog.table.length + 1))
      : undefined);
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(
        row[j]! + 1,
        row[j - 1]! + 1,
        previous + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      previous = current;
    }
  }
  return row[b.length]!;
}

/** Up to `limit` catalog names nearest to an unknown name, nearest first. */
export function nearestFields(catalog: TableCatalog, name: string, limit = 3): string[] {
  const wanted = normaliseFieldName(name).replace(/[^a-z0-9.]/g, "");
  const reach = Math.max(3, Math.floor(wanted.length / 2));
  const candidates = catalog.fields.map((f) => ({
    name: f.name,
    key: f.name.toLowerCase().replace(/[^a-z0-9.]/g, ""),
  }));
  // The distance is at least the difference in length: a name far longer than
  // every field is near none, and the quadratic distance is not worth computing.
  const longest = Math.max(0, ...candidates.map((c) => c.key.length));
  if (wanted.length - longest - 1 > reach) return [];
  return candidates
    .map(({ name, key: candidate }) => {
      const d = distance(wanted, candidate);
      const contains = candidate.includes(wanted) || wanted.includes(candidate) ? -1 : 0;
      return { name, score: d + contains };
    })
    .filter((c) => c.score <= reach)
    .sort((a, b) => a.score - b.score || a.name.localeCompare(b.name))
    .slice(0, limit)
    .map((c) => c.name);
}
