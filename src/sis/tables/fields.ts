/**
 * How a table's rules module writes its catalog entries: one line per field (name,
 * type, options, description), built into {@linkcode CatalogField}s. Every table's
 * fields are listed in its own module; `catalog.ts` serves them.
 */
import type {
  CatalogField,
  FieldType,
  ImportTable,
  KeyNormalisation,
  TableCatalog,
} from "../catalog.ts";

/** One catalog entry as a table's module writes it. */
export type Spec = [
  name: string,
  type: FieldType,
  options: {
    len?: number;
    codes?: readonly string[];
    min?: number;
    max?: number;
    req?: boolean;
    key?: KeyNormalisation;
    personal?: boolean;
    column?: string;
  },
  description: string,
];

function build(specs: readonly Spec[]): CatalogField[] {
  return specs.map(([name, type, o, description]) => ({
    name,
    column: o.column ?? name.toLowerCase(),
    type,
    ...(o.len !== undefined ? { maxLength: o.len } : {}),
    ...(o.codes !== undefined ? { codes: o.codes } : {}),
    ...(o.min !== undefined ? { min: o.min } : {}),
    ...(o.max !== undefined ? { max: o.max } : {}),
    requiredToCreate: o.req ?? false,
    ...(o.key !== undefined ? { key: o.key } : {}),
    personal: o.personal ?? false,
    description,
  }));
}

/** SchoolID as a part of the match key (teachers, sections, schedules, attendance). */
export const SCHOOL_ID: Spec = [
  "SchoolID",
  "integer",
  { key: "integer", min: 0, max: 2_147_483_647 },
  "School_Number of the school; taken from the record's school when not in the file",
];

/** The catalog of one import table (of one mode) from its entries. */
export function tableCatalog(
  t: ImportTable,
  label: string,
  rowDescription: string,
  sqlTable: string,
  specs: readonly Spec[],
): TableCatalog {
  const fields = build(specs);
  return {
    table: t,
    label,
    rowDescription,
    sqlTable,
    key: fields.filter((f) => f.key !== undefined).map((f) => f.name),
    fields,
  };
}
