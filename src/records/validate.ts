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

/** An input being checked: its settings, the context, and the problems found so far. */
interface Checking {
  readonly input: Record<string, unknown>;
  readonly context: RecordContext;
  readonly problems: FieldProblem[];
}

function add(c: Checking, field: string, message: string): void {
  c.problems.push({ field, message });
}

/** A setting of the input as trimmed text ("" when absent). */
function str(c: Checking, key: string): string {
  const v = c.input[key];
  return (typeof v === "string" ? v : v === undefined || v === null ? "" : String(v)).trim();
}

/** An optional whole-number setting: `fallback` when blank, `message` when out of range. */
function optionalInt<T extends number | null>(
  c: Checking,
  key: string,
  options: { fallback: T; min?: number; max?: number; message: string },
): number | T {
  if (str(c, key) === "") return options.fallback;
  const n = intOf(c.input[key]);
  const { min = -Infinity, max = Infinity } = options;
  if (n === undefined || n < min || n > max) {
    add(c, key, options.message);
    return options.fallback;
  }
  return n;
}

/** The school: one that exists. */
function checkSchool(c: Checking): number | undefined {
  const schoolId = intOf(c.input["schoolId"]);
  if (schoolId === undefined) add(c, "schoolId", "Choose the school the record belongs to");
  else if (!c.context.school) add(c, "schoolId", `There is no school ${schoolId}`);
  return schoolId;
}

/** The name: one line of at most 100 characters, unique in the school (any case). */
function checkName(c: Checking): string {
  const name = str(c, "name");
  const nameControl = controlProblem("The name", name);
  if (name === "") add(c, "name", "Enter a name");
  else if (nameControl) add(c, "name", nameControl);
  else if (name.length > 100) add(c, "name", "The name is longer than 100 characters");
  else if (c.context.otherNames.some((n) => n.toLowerCase() === name.toLowerCase())) {
    add(c, "name", `This school already has a record named "${name}"`);
  }
  return name;
}

/** The import table: one of the six, and in District Office context one it may load. */
function checkTable(c: Checking, schoolId: number | undefined): ImportTable | undefined {
  const tableText = str(c, "table").toLowerCase();
  const table = (IMPORT_TABLES as readonly string[]).includes(tableText)
    ? tableText as ImportTable
    : undefined;
  if (!table) add(c, "table", `Choose the table to import: ${IMPORT_TABLES.join(", ")}`);
  else if (schoolId === DISTRICT_OFFICE && !tableRules(table).districtOffice) {
    add(
      c,
      "table",
      "In District Office context only Students and Teachers records may be created or changed",
    );
  }
  return table;
}

/**
 * The attendance mode of a table that has modes: one the school's recording method
 * allows, and that one when it allows only one and none is given; null for the others.
 */
function checkAttendanceMode(c: Checking, table: ImportTable | undefined): AttendanceMode | null {
  if (table === undefined || !tableRules(table).hasModes) return null;
  const allowed = allowedModes(c.context.school?.attendanceMethod);
  const mode = str(c, "attendanceMode").toLowerCase();
  if (mode === "" && allowed.length === 1) return allowed[0]!;
  if (mode !== "daily" && mode !== "meeting") {
    add(c, "attendanceMode", `Choose ${allowed.join(" or ")} attendance`);
  } else if (allowed.includes(mode)) return mode;
  else {
    add(
      c,
      "attendanceMode",
      `This school records attendance by ${allowed.join(" and ")} only (Attendance Preferences)`,
    );
  }
  return null;
}

/** The time of day (hour 0–23, minute 0–59; default midnight) and the day letters. */
function checkSchedule(
  c: Checking,
): { hour: number | undefined; minute: number | undefined; days: string } {
  const hour = intOf(c.input["hour"] ?? 0);
  if (hour === undefined || hour < 0 || hour > 23) add(c, "hour", "The hour is 0 to 23");
  const minute = intOf(c.input["minute"] ?? 0);
  if (minute === undefined || minute < 0 || minute > 59) add(c, "minute", "The minute is 0 to 59");
  const days = str(c, "days").toUpperCase().replace(/\s+/g, "");
  if (/[^MTWHFSU]/.test(days)) {
    add(c, "days", "Use the letters MTWHFSU (H is Thursday, U is Sunday)");
  } else if (new Set(days).size !== days.length) {
    add(c, "days", "A day letter appears more than once");
  }
  return { hour, minute, days };
}

/**
 * False in a service without a local disk (inline imports on a remote database,
 * `src/pipeline/import_mode.ts`): a record may not read a local folder. Set once at
 * start-up ({@linkcode refuseLocalFolders}); its runs would fail anyway.
 */
let localFolders = true;

/** Makes every record check refuse a local folder from now on (`src/main.ts`, inline mode). */
export function refuseLocalFolders(refuse = true): void {
  localFolders = !refuse;
}

/** What a record reading a local folder is told in a service without a local disk. */
export const NO_LOCAL_FOLDER =
  "This service runs without a local disk (inline imports on a remote database): choose a managed connection (SFTP)";

/**
 * Where the file comes from: local (the default; not in a service without a local
 * disk), or a managed connection that allows download.
 */
function checkSource(c: Checking): { source: string; connectionId: number | null } {
  const source = (str(c, "source") || "local").toLowerCase();
  let connectionId: number | null = null;
  if (source === "managed") {
    const id = intOf(c.input["connectionId"]);
    if (id === undefined) add(c, "connectionId", "Choose a managed connection");
    else if (!c.context.downloadConnections.includes(id)) {
      add(c, "connectionId", "That managed connection does not exist or does not allow download");
    } else connectionId = id;
  } else if (source !== "local") add(c, "source", "Get Input From is local or managed");
  else if (!localFolders) add(c, "source", NO_LOCAL_FOLDER);
  return { source, connectionId };
}

/** The path: one line, and a path the school's records may read (`checkRecordPath`). */
function checkPath(c: Checking, schoolId: number | undefined): string {
  const path = str(c, "path");
  const pathControl = controlProblem("The path", path);
  const pathCheck = pathControl ? undefined : checkRecordPath(path, schoolId);
  if (pathControl) add(c, "path", pathControl);
  else if (pathCheck && !pathCheck.ok) add(c, "path", pathCheck.message);
  return path;
}

/** The file format; defaults tab, CRLF, windows-1252. */
function checkFileFormat(
  c: Checking,
): { fieldDelimiter: string; recordDelimiter: string; charset: string } {
  const fieldDelimiter = (str(c, "fieldDelimiter") || "tab").toLowerCase();
  if (!(FIELD_DELIMITERS as readonly string[]).includes(fieldDelimiter)) {
    add(c, "fieldDelimiter", "Field Delimiter is tab or comma");
  }
  const recordDelimiter = (str(c, "recordDelimiter") || "CRLF").toUpperCase();
  if (!(RECORD_DELIMITERS as readonly string[]).includes(recordDelimiter)) {
    add(c, "recordDelimiter", "Record Delimiter is CRLF, CR or LF");
  }
  const charset = (str(c, "charset") || "windows-1252").toLowerCase();
  if (!(CHARSETS as readonly string[]).includes(charset)) {
    add(c, "charset", `Character Set is one of ${CHARSETS.join(", ")}`);
  }
  return { fieldDelimiter, recordDelimiter, charset };
}

/** The completion e-mail list: one line of addresses; returned tidied. */
function checkEmailTo(c: Checking): string {
  const emailControl = controlProblem("The e-mail list", str(c, "emailTo"));
  const emails = checkEmails(str(c, "emailTo"));
  if (emailControl) add(c, "emailTo", emailControl);
  else if (emails.problem) add(c, "emailTo", emails.problem);
  return emails.value;
}

/** The field list (an array, or text of one name per line or comma) against the catalog. */
function checkFieldList(
  c: Checking,
  of: { table: ImportTable | undefined; attendanceMode: AttendanceMode | null },
): string[] {
  const { table, attendanceMode } = of;
  const rawFields = Array.isArray(c.input["fields"])
    ? (c.input["fields"] as unknown[]).map(String)
    : str(c, "fields").split(/[\r\n,]+/);
  if (!table) return [];
  const checked = checkFields(rawFields, table, {
    ...(attendanceMode ? { mode: attendanceMode } : {}),
    extensions: c.context.extensions ?? [],
  });
  for (const p of checked.problems) add(c, "fields", p);
  return checked.fields;
}

/** Checks an input (API JSON or form fields) against every rule of a record. */
export function checkRecord(input: Record<string, unknown>, context: RecordContext): RecordCheck {
  const c: Checking = { input, context, problems: [] };
  const schoolId = checkSchool(c);
  const name = checkName(c);
  const table = checkTable(c, schoolId);
  const attendanceMode = checkAttendanceMode(c, table);
  const { hour, minute, days } = checkSchedule(c);
  const { source, connectionId } = checkSource(c);
  const path = checkPath(c, schoolId);
  const { fieldDelimiter, recordDelimiter, charset } = checkFileFormat(c);
  const sortOrder = optionalInt(c, "sortOrder", {
    fallback: null,
    message: "Sort Order is a whole number",
  });
  const emailTo = checkEmailTo(c);
  const fields = checkFieldList(c, { table, attendanceMode });
  const removalLimitPercent = optionalInt(c, "removalLimitPercent", {
    fallback: 10,
    min: 0,
    max: 100,
    message: "Removal limit is a percentage from 0 to 100",
  });
  const minFileAgeSeconds = optionalInt(c, "minFileAgeSeconds", {
    fallback: null,
    min: 0,
    max: 86_400,
    message: "Minimum file age is 0 to 86400 seconds",
  });
  if (
    c.problems.length > 0 || schoolId === undefined || !table || hour === undefined ||
    minute === undefined
  ) {
    return { ok: false, problems: c.problems };
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
      days,
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
      emailTo,
      fields,
      ignoreBlankCells: bool(input["ignoreBlankCells"]),
      removalLimitPercent,
      minFileAgeSeconds,
    },
  };
}
