/**
 * The rules of an AutoComm record, shared by the form, the API, the
 * CLI and the demo seed: one function checks a whole input and returns every
 * problem by field, so a form can show each beside its field.
 */
import {
  type AttendanceMode,
  catalogFor,
  type CatalogOptions,
  DISTRICT_OFFICE,
  findField,
  IMPORT_TABLES,
  type ImportTable,
  nearestFields,
} from "../sis/catalog.ts";
import { checkRecordPath } from "../util/record_path.ts";
import { tableRules } from "../sis/tables/registry.ts";
import { echo } from "../util/echo.ts";
import { firstControl } from "../util/text.ts";

export const FIELD_DELIMITERS = ["tab", "comma"] as const;
export const RECORD_DELIMITERS = ["CRLF", "CR", "LF"] as const;
export const CHARSETS = ["windows-1252", "macintosh", "iso-8859-1", "utf-8"] as const;
export type FieldDelimiter = typeof FIELD_DELIMITERS[number];
export type RecordDelimiter = typeof RECORD_DELIMITERS[number];
export type Charset = typeof CHARSETS[number];

/** A checked AutoComm record, as stored (without id and times). */
export interface RecordSettings {
  schoolId: number;
  name: string;
  table: ImportTable;
  attendanceMode: AttendanceMode | null;
  hour: number;
  minute: number;
  days: string;
  executionOff: boolean;
  source: "local" | "managed";
  connectionId: number | null;
  path: string;
  fieldDelimiter: FieldDelimiter;
  recordDelimiter: RecordDelimiter;
  charset: Charset;
  sortOrder: number | null;
  synchronize: boolean;
  updateExisting: boolean;
  inactivateExited: boolean;
  expectRecordCount: boolean;
  emailTo: string;
  fields: string[];
  ignoreBlankCells: boolean;
  removalLimitPercent: number;
  minFileAgeSeconds: number | null;
}

/** A problem with one field of the input. */
export interface FieldProblem {
  field: string;
  message: string;
}

/** What the rules need to know besides the input. */
export interface RecordContext {
  /** The school the record belongs to, with its attendance recording method. */
  school: { schoolNumber: number; attendanceMethod: string } | undefined;
  /** Connections that allow download, by id. */
  downloadConnections: readonly number[];
  /** Names of other records of the same school (case-insensitive check). */
  otherNames: readonly string[];
  /** Extension tables of the setup. */
  extensions: CatalogOptions["extensions"];
}

/** The result of {@linkcode checkRecord}. */
export type RecordCheck =
  | { ok: true; record: RecordSettings }
  | { ok: false; problems: FieldProblem[] };

const EMAIL = /^[^\s@,;<>"]+@[^\s@,;<>"]+\.[^\s@,;<>"]+$/;

function bool(v: unknown): boolean {
  return v === true || v === "true" || v === "on" || v === "1" || v === 1 || v === "yes";
}

function intOf(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isInteger(v)) return v;
  if (typeof v === "string" && /^\s*-?\d+\s*$/.test(v)) return Number(v);
  return undefined;
}

/** Attendance modes a school's recording method allows. */
export function allowedModes(method: string | undefined): AttendanceMode[] {
  if (method === "meeting") return ["meeting"];
  if (method === "both") return ["daily", "meeting"];
  return ["daily"];
}

/** Checks the mapped field list against the table's catalog. */
export function checkFields(
  fields: readonly string[],
  table: ImportTable,
  options: CatalogOptions,
): { fields: string[]; problems: string[] } {
  const catalog = catalogFor(table, options);
  const problems: string[] = [];
  const out: string[] = [];
  const seen = new Set<string>();
  for (const raw of fields) {
    const name = raw.trim();
    if (name === "") continue;
    const field = findField(catalog, name);
    if (!field) {
      const near = nearestFields(catalog, name);
      problems.push(
        `Unknown field "${echo(name)}" for ${catalog.label}` +
          (near.length > 0 ? `; did you mean ${near.join(", ")}?` : ""),
      );
      continue;
    }
    if (seen.has(field.name)) {
      problems.push(`${field.name} appears more than once`);
      continue;
    }
    seen.add(field.name);
    out.push(field.name);
  }
  if (out.length === 0 && problems.length === 0) {
    problems.push("Enter at least one field, one per column of the file");
  }
  const missing = catalog.key.filter((k) => k !== "SchoolID" && !seen.has(k));
  if (missing.length > 0 && out.length > 0) {
    problems.push(
      `The match key needs ${missing.join(", ")} (${catalog.label} are matched on ${
        catalog.key.join(" + ")
      })`,
    );
  }
  // A table may need one of several fields (attendance: its code by id or by text).
  const oneOf = tableRules(table).oneOfFields;
  if (oneOf && !oneOf.names.some((n) => seen.has(n)) && out.length > 0) {
    problems.push(oneOf.problem);
  }
  return { fields: out, problems };
}

/** Splits and checks the comma-separated e-mail list; returns the tidy list or a problem. */
export function checkEmails(value: string): { value: string; problem?: string } {
  const parts = value.split(/[,;]/).map((s) => s.trim()).filter((s) => s !== "");
  const bad = parts.filter((p) => !EMAIL.test(p));
  if (bad.length > 0) {
    return {
      value,
      problem: `Not an e-mail address: ${echo(bad.map((b) => `"${b}"`).join(", "))}`,
    };
  }
  return { value: parts.join(", ") };
}

/**
 * The problem of a single-line setting (name, path, e-mail list) that holds a
 * control character — C0 (line ends and tab included), DEL or C1 —, or undefined.
 * Such text would break a line of the completion e-mail or drive a terminal.
 */
function controlProblem(label: string, text: string): string | undefined {
  const found = firstControl(text);
  return found === undefined
    ? undefined
    : `${label} contains the control character ${found}; it must be one line of printable characters`;
}

/** Checks an input (API JSON or form fields) against every rule of a record. */
export function checkRecord(input: Record<string, unknown>, context: RecordContext): RecordCheck {
  const problems: FieldProblem[] = [];
  const add = (field: string, message: string) => problems.push({ field, message });
  const str = (k: string) =>
    (typeof input[k] === "string"
      ? (input[k] as string)
      : input[k] === undefined || input[k] === null
      ? ""
      : String(input[k])).trim();

  const schoolId = intOf(input["schoolId"]);
  if (schoolId === undefined) add("schoolId", "Choose the school the record belongs to");
  else if (!context.school) add("schoolId", `There is no school ${schoolId}`);

  const name = str("name");
  const nameControl = controlProblem("The name", name);
  if (name === "") add("name", "Enter a name");
  else if (nameControl) add("name", nameControl);
  else if (name.length > 100) add("name", "The name is longer than 100 characters");
  else if (context.otherNames.some((n) => n.toLowerCase() === name.toLowerCase())) {
    add("name", `This school already has a record named "${name}"`);
  }

  const tableText = str("table").toLowerCase();
  const table = (IMPORT_TABLES as readonly string[]).includes(tableText)
    ? tableText as ImportTable
    : undefined;
  if (!table) add("table", `Choose the table to import: ${IMPORT_TABLES.join(", ")}`);
  else if (schoolId === DISTRICT_OFFICE && !tableRules(table).districtOffice) {
    add(
      "table",
      "In District Office context only Students and Teachers records may be created or changed",
    );
  }

  let attendanceMode: AttendanceMode | null = null;
  if (table !== undefined && tableRules(table).hasModes) {
    const allowed = allowedModes(context.school?.attendanceMethod);
    const mode = str("attendanceMode").toLowerCase();
    if (mode === "" && allowed.length === 1) attendanceMode = allowed[0]!;
    else if (mode === "daily" || mode === "meeting") {
      if (allowed.includes(mode)) attendanceMode = mode;
      else {
        add(
          "attendanceMode",
          `This school records attendance by ${
            allowed.join(" and ")
          } only (Attendance Preferences)`,
        );
      }
    } else add("attendanceMode", `Choose ${allowed.join(" or ")} attendance`);
  }

  const hour = intOf(input["hour"] ?? 0);
  if (hour === undefined || hour < 0 || hour > 23) add("hour", "The hour is 0 to 23");
  const minute = intOf(input["minute"] ?? 0);
  if (minute === undefined || minute < 0 || minute > 59) add("minute", "The minute is 0 to 59");

  const daysText = str("days").toUpperCase().replace(/\s+/g, "");
  if (/[^MTWHFSU]/.test(daysText)) {
    add("days", "Use the letters MTWHFSU (H is Thursday, U is Sunday)");
  } else if (new Set(daysText).size !== daysText.length) {
    add("days", "A day letter appears more than once");
  }

  const source = (str("source") || "local").toLowerCase();
  let connectionId: number | null = null;
  if (source === "managed") {
    const id = intOf(input["connectionId"]);
    if (id === undefined) add("connectionId", "Choose a managed connection");
    else if (!context.downloadConnections.includes(id)) {
      add("connectionId", "That managed connection does not exist or does not allow download");
    } else connectionId = id;
  } else if (source !== "local") add("source", "Get Input From is local or managed");

  const path = str("path");
  const pathControl = controlProblem("The path", path);
  const pathCheck = pathControl ? undefined : checkRecordPath(path, schoolId);
  if (pathControl) add("path", pathControl);
  else if (pathCheck && !pathCheck.ok) add("path", pathCheck.message);

  const fieldDelimiter = (str("fieldDelimiter") || "tab").toLowerCase();
  if (!(FIELD_DELIMITERS as readonly string[]).includes(fieldDelimiter)) {
    add("fieldDelimiter", "Field Delimiter is tab or comma");
  }
  const recordDelimiter = (str("recordDelimiter") || "CRLF").toUpperCase();
  if (!(RECORD_DELIMITERS as readonly string[]).includes(recordDelimiter)) {
    add("recordDelimiter", "Record Delimiter is CRLF, CR or LF");
  }
  const charset = (str("charset") || "windows-1252").toLowerCase();
  if (!(CHARSETS as readonly string[]).includes(charset)) {
    add("charset", `Character Set is one of ${CHARSETS.join(", ")}`);
  }

  let sortOrder: number | null = null;
  if (str("sortOrder") !== "") {
    const n = intOf(input["sortOrder"]);
    if (n === undefined) add("sortOrder", "Sort Order is a whole number");
    else sortOrder = n;
  }

  const emailControl = controlProblem("The e-mail list", str("emailTo"));
  const emails = checkEmails(str("emailTo"));
  if (emailControl) add("emailTo", emailControl);
  else if (emails.problem) add("emailTo", emails.problem);

  const rawFields = Array.isArray(input["fields"])
    ? (input["fields"] as unknown[]).map(String)
    : str("fields").split(/[\r\n,]+/);
  let fields: string[] = [];
  if (table) {
    const checked = checkFields(rawFields, table, {
      ...(attendanceMode ? { mode: attendanceMode } : {}),
      extensions: context.extensions ?? [],
    });
    fields = checked.fields;
    for (const p of checked.problems) add("fields", p);
  }

  let removalLimitPercent = 10;
  if (str("removalLimitPercent") !== "") {
    const n = intOf(input["removalLimitPercent"]);
    if (n === undefined || n < 0 || n > 100) {
      add("removalLimitPercent", "Removal limit is a percentage from 0 to 100");
    } else removalLimitPercent = n;
  }
  let minFileAgeSeconds: number | null = null;
  if (str("minFileAgeSeconds") !== "") {
    const n = intOf(input["minFileAgeSeconds"]);
    if (n === undefined || n < 0 || n > 86_400) {
      add("minFileAgeSeconds", "Minimum file age is 0 to 86400 seconds");
    } else minFileAgeSeconds = n;
  }

  if (
    problems.length > 0 || schoolId === undefined || !table || hour === undefined ||
    minute === undefined
  ) {
    return { ok: false, problems };
  }
  return {
    ok: true,
    record: {
      schoolId,
      name,
      table,
      attendanceMode,
      hour,
      minute,
      days: daysText,
      executionOff: bool(input["executionOff"]),
      source: source as "local" | "managed",
      connectionId,
      path,
      fieldDelimiter: fieldDelimiter as FieldDelimiter,
      recordDelimiter: recordDelimiter as RecordDelimiter,
      charset: charset as Charset,
      sortOrder,
      synchronize: bool(input["synchronize"]),
      updateExisting: bool(input["updateExisting"]),
      inactivateExited: bool(input["inactivateExited"]),
      expectRecordCount: bool(input["expectRecordCount"]),
      emailTo: emails.value,
      fields,
      ignoreBlankCells: bool(input["ignoreBlankCells"]),
      removalLimitPercent,
      minFileAgeSeconds,
    },
  };
}
