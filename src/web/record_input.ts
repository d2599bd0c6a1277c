/**
 * The record form's values: what the user typed, kept as typed so a form with
 * problems shows it again, and turned into the input the record rules check
 * (the same `checkInput` / `createRecord` / `updateRecord` the API and CLI use).
 */
import type { StoredRecord } from "../records/store.ts";
import { rulesNamed } from "../sis/tables/registry.ts";

/** Every field of the New / Edit form, as text or checkbox state. */
export interface RecordFormValues {
  name: string;
  table: string;
  attendanceMode: string;
  hour: string;
  minute: string;
  days: string;
  executionOff: boolean;
  source: string;
  connectionId: string;
  path: string;
  fieldDelimiter: string;
  recordDelimiter: string;
  charset: string;
  sortOrder: string;
  synchronize: boolean;
  updateExisting: boolean;
  inactivateExited: boolean;
  expectRecordCount: boolean;
  emailTo: string;
  /** One field name per line. */
  fields: string;
  ignoreBlankCells: boolean;
  removalLimitPercent: string;
  minFileAgeSeconds: string;
  duplicateToAllSchools: boolean;
}

const CHECKBOXES = [
  "executionOff",
  "synchronize",
  "updateExisting",
  "inactivateExited",
  "expectRecordCount",
  "ignoreBlankCells",
  "duplicateToAllSchools",
] as const;

/** The values of a new record's form. */
export function emptyFormValues(table = "students"): RecordFormValues {
  return {
    name: "",
    table,
    attendanceMode: "",
    hour: "0",
    minute: "0",
    days: "MTWHF",
    executionOff: false,
    source: "local",
    connectionId: "",
    path: "",
    fieldDelimiter: "tab",
    recordDelimiter: "CRLF",
    charset: "windows-1252",
    sortOrder: "",
    synchronize: false,
    updateExisting: false,
    inactivateExited: false,
    expectRecordCount: false,
    emailTo: "",
    fields: "",
    ignoreBlankCells: false,
    removalLimitPercent: "10",
    minFileAgeSeconds: "",
    duplicateToAllSchools: false,
  };
}

/** The form values of a stored record. */
export function formValuesOf(record: StoredRecord): RecordFormValues {
  return {
    name: record.name,
    table: record.table,
    attendanceMode: record.attendanceMode ?? "",
    hour: String(record.hour),
    minute: String(record.minute),
    days: record.days,
    executionOff: record.executionOff,
    source: record.source,
    connectionId: record.connectionId === null ? "" : String(record.connectionId),
    path: record.path,
    fieldDelimiter: record.fieldDelimiter,
    recordDelimiter: record.recordDelimiter,
    charset: record.charset,
    sortOrder: record.sortOrder === null ? "" : String(record.sortOrder),
    synchronize: record.synchronize,
    updateExisting: record.updateExisting,
    inactivateExited: record.inactivateExited,
    expectRecordCount: record.expectRecordCount,
    emailTo: record.emailTo,
    fields: record.fields.join("\n"),
    ignoreBlankCells: record.ignoreBlankCells,
    removalLimitPercent: String(record.removalLimitPercent),
    minFileAgeSeconds: record.minFileAgeSeconds === null ? "" : String(record.minFileAgeSeconds),
    duplicateToAllSchools: false,
  };
}

/** The form values of a posted form (unchecked boxes are absent, so false). */
export function formValuesFromBody(body: Record<string, unknown>): RecordFormValues {
  const values = emptyFormValues();
  const text = (k: string) => {
    const v = body[k];
    return typeof v === "string" ? v : "";
  };
  for (const key of Object.keys(values) as (keyof RecordFormValues)[]) {
    if ((CHECKBOXES as readonly string[]).includes(key)) {
      (values as unknown as Record<string, unknown>)[key] = body[key] !== undefined &&
        body[key] !== "";
    } else {
      (values as unknown as Record<string, unknown>)[key] = text(key);
    }
  }
  values.fields = values.fields.replace(/\r\n?/g, "\n");
  return values;
}

/** The input of the record rules for these values in school `schoolId`. */
export function inputOf(values: RecordFormValues, schoolId: number): Record<string, unknown> {
  const { duplicateToAllSchools: _, ...rest } = values;
  return {
    ...rest,
    schoolId,
    connectionId: values.source === "managed" ? values.connectionId : "",
    attendanceMode: rulesNamed(values.table)?.hasModes ? values.attendanceMode : "",
  };
}
