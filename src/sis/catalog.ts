/**
 * The field catalog: every importable field of every import table, with its type,
 * length, whether it is needed to create a record, whether it is part of the match
 * key (and how key values are compared), whether it holds personal data, and a
 * one-line description. It drives validation, the Field List pop-up, the API and
 * the SQL of the apply stage, and the SIS tables of the schema are built from it.
 */

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

type Spec = [
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

const SCHOOL_ID: Spec = [
  "SchoolID",
  "integer",
  { key: "integer", min: 0, max: 2_147_483_647 },
  "School_Number of the school; taken from the record's school when not in the file",
];

const STUDENT_FIELDS: readonly Spec[] = [
  [
    "Student_Number",
    "integer",
    { req: true, key: "integer", min: 1, max: 9_007_199_254_740_991 },
    "District-wide student number (the match key)",
  ],
  [
    "SchoolID",
    "integer",
    { min: 0, max: 2_147_483_647 },
    "School_Number of the enrollment school; the record's school when not in the file",
  ],
  ["First_Name", "text", { len: 50, req: true, personal: true }, "Legal first name"],
  ["Middle_Name", "text", { len: 50, personal: true }, "Middle name"],
  ["Last_Name", "text", { len: 50, req: true, personal: true }, "Legal last name"],
  [
    "Grade_Level",
    "integer",
    { req: true, min: -2, max: 99 },
    "Current grade level (-2 to 12; 99 for graduated)",
  ],
  ["DOB", "date", { personal: true }, "Date of birth"],
  ["Gender", "code", { codes: ["M", "F", "X"] }, "Gender: M, F or X"],
  ["EntryDate", "date", { req: true }, "First day of the current enrollment"],
  [
    "ExitDate",
    "date",
    {},
    "Day after the last day of the current enrollment (exclusive); defaults from the school's terms",
  ],
  ["EntryCode", "text", { len: 10 }, "Entry code of the current enrollment"],
  ["ExitCode", "text", { len: 10 }, "Exit code of the current enrollment"],
  [
    "Enroll_Status",
    "code",
    { codes: ["-1", "0", "1", "2", "3"] },
    "-1 pre-registered, 0 active, 1 inactive, 2 transferred out, 3 graduated; default 0",
  ],
  ["Home_Room", "text", { len: 60 }, "Home room"],
  ["Street", "text", { len: 60, personal: true }, "Home street address"],
  ["City", "text", { len: 50, personal: true }, "Home city"],
  ["State", "text", { len: 10, personal: true }, "Home state"],
  ["Zip", "text", { len: 10, personal: true }, "Home ZIP code"],
  ["Mailing_Street", "text", { len: 60, personal: true }, "Mailing street address"],
  ["Mailing_City", "text", { len: 50, personal: true }, "Mailing city"],
  ["Mailing_State", "text", { len: 10, personal: true }, "Mailing state"],
  ["Mailing_Zip", "text", { len: 10, personal: true }, "Mailing ZIP code"],
  ["Home_Phone", "text", { len: 30, personal: true }, "Home phone number"],
  ["Ethnicity", "text", { len: 10 }, "Ethnicity code"],
  ["State_StudentNumber", "text", { len: 32 }, "State-assigned student number"],
  ["Lunch_ID", "text", { len: 20 }, "Lunch account number"],
  ["Network_ID", "text", { len: 50, personal: true }, "Network login name"],
  ["Student_Web_ID", "text", { len: 50, personal: true }, "Student portal login name"],
  ["Track", "text", { len: 20 }, "Attendance track"],
  ["Team", "text", { len: 20 }, "Scheduling team"],
  ["Graduation_Year", "integer", { min: 1900, max: 2200 }, "Projected year of graduation"],
  ["District_Entry_Date", "date", {}, "First day in the district"],
  ["School_Entry_Date", "date", {}, "First day at the current school"],
  ["Mother", "text", { len: 60, personal: true }, "Mother's name"],
  ["Mother_Day_Phone", "text", { len: 30, personal: true }, "Mother's daytime phone"],
  ["Mother_Email", "text", { len: 50, personal: true }, "Mother's e-mail address"],
  ["Father", "text", { len: 60, personal: true }, "Father's name"],
  ["Father_Day_Phone", "text", { len: 30, personal: true }, "Father's daytime phone"],
  ["Father_Email", "text", { len: 50, personal: true }, "Father's e-mail address"],
  ["Guardian", "text", { len: 60, personal: true }, "Guardian's name"],
  ["Guardian_Phone", "text", { len: 30, personal: true }, "Guardian's phone"],
  ["Guardian_Email", "text", { len: 50, personal: true }, "Guardian's e-mail address"],
  ["Emerg_Contact_1", "text", { len: 60, personal: true }, "First emergency contact's name"],
  ["Emerg_Phone_1", "text", { len: 30, personal: true }, "First emergency contact's phone"],
];

const TEACHER_FIELDS: readonly Spec[] = [
  [
    "TeacherNumber",
    "text",
    { len: 20, req: true, key: "exact" },
    "Staff number at this school (with SchoolID, the match key)",
  ],
  SCHOOL_ID,
  [
    "HomeSchoolID",
    "integer",
    { min: 0, max: 2_147_483_647 },
    "School_Number of the staff member's home school",
  ],
  ["First_Name", "text", { len: 50, req: true, personal: true }, "First name"],
  ["Middle_Name", "text", { len: 50, personal: true }, "Middle name"],
  ["Last_Name", "text", { len: 50, req: true, personal: true }, "Last name"],
  ["Title", "text", { len: 40 }, "Job title"],
  ["Email_Addr", "text", { len: 50, personal: true }, "E-mail address"],
  ["Home_Phone", "text", { len: 30, personal: true }, "Home phone number"],
  ["Status", "code", { codes: ["1", "2"] }, "1 current, 2 no longer here; default 1"],
  [
    "StaffStatus",
    "code",
    { codes: ["0", "1", "2", "3", "4"] },
    "0 not assigned, 1 teacher, 2 staff, 3 lunch staff, 4 substitute",
  ],
  ["LoginID", "text", { len: 20, personal: true }, "Admin portal login name"],
  ["TeacherLoginID", "text", { len: 20, personal: true }, "Teacher portal login name"],
  ["SIF_StatePrid", "text", { len: 32 }, "State staff identifier"],
  ["Sched_Gender", "code", { codes: ["M", "F", "X"] }, "Gender for scheduling: M, F or X"],
];

const COURSE_FIELDS: readonly Spec[] = [
  [
    "Course_Number",
    "text",
    { len: 20, req: true, key: "exact" },
    "District course number (the match key)",
  ],
  [
    "SchoolID",
    "integer",
    { min: 0, max: 2_147_483_647 },
    "School offering the course; the record's school when not in the file",
  ],
  ["Course_Name", "text", { len: 40, req: true }, "Course name"],
  ["Credit_Hours", "decimal", {}, "Credit hours earned"],
  ["CreditType", "text", { len: 20 }, "Credit type (e.g. MATH, ELA)"],
  ["Sched_Department", "text", { len: 20 }, "Scheduling department"],
  ["Alt_Course_Number", "text", { len: 20 }, "Alternate (state) course number"],
  ["Code", "text", { len: 10 }, "Course code for reporting"],
];

const SECTION_FIELDS: readonly Spec[] = [
  SCHOOL_ID,
  [
    "TermID",
    "integer",
    { req: true, key: "integer", min: 0, max: 2_147_483_647 },
    "Term the section is taught in (e.g. 3500 year, 3501 semester)",
  ],
  ["Course_Number", "text", { len: 20, req: true, key: "exact" }, "Course taught (must exist)"],
  [
    "Section_Number",
    "text",
    { len: 10, req: true, key: "exact" },
    "Section number within the course",
  ],
  [
    "Expression",
    "text",
    { len: 80, req: true },
    "Periods and days it meets, e.g. 1(A-E) or 1-2(A) 3(B)",
  ],
  [
    "Teacher",
    "text",
    { len: 20, column: "teacher_number" },
    "TeacherNumber of the lead teacher at this school (must exist)",
  ],
  ["Room", "text", { len: 10 }, "Room"],
  ["MaxEnrollment", "integer", { min: 0, max: 100_000 }, "Most students allowed"],
  ["Grade_Level", "integer", { min: -2, max: 99 }, "Grade level of the section"],
];

const SCHEDULE_FIELDS: readonly Spec[] = [
  [
    "Student_Number",
    "integer",
    { req: true, key: "integer", min: 1, max: 9_007_199_254_740_991 },
    "Student enrolled (must exist)",
  ],
  SCHOOL_ID,
  [
    "TermID",
    "integer",
    { req: true, key: "integer", min: 0, max: 2_147_483_647 },
    "Term of the section",
  ],
  ["Course_Number", "text", { len: 20, req: true, key: "exact" }, "Course of the section"],
  [
    "Section_Number",
    "text",
    { len: 10, req: true, key: "exact" },
    "Section number (the section must exist)",
  ],
  ["DateEnrolled", "date", { req: true }, "First day in the section"],
  [
    "DateLeft",
    "date",
    {},
    "Day after the last day in the section (exclusive); defaults to the day after the term ends",
  ],
  [
    "Expression",
    "text",
    { len: 80 },
    "Expression as the sending system knows it (kept as written)",
  ],
];

const ATTENDANCE_FIELDS: readonly Spec[] = [
  [
    "Student_Number",
    "integer",
    { req: true, key: "integer", min: 1, max: 9_007_199_254_740_991 },
    "Student (must exist)",
  ],
  SCHOOL_ID,
  ["Att_Date", "date", { req: true, key: "date" }, "Date of the attendance"],
  [
    "Attendance_CodeID",
    "integer",
    { min: 0, max: 2_147_483_647, column: "attendance_codeid" },
    "Numeric id of the attendance code (or give Att_Code)",
  ],
  [
    "Att_Code",
    "text",
    { len: 10, column: "att_code" },
    "Attendance code text such as A or T (or give Attendance_CodeID)",
  ],
  ["Att_Comment", "text", { len: 200, personal: true }, "Comment"],
];

const MEETING_FIELDS: readonly Spec[] = [
  [
    "Course_Number",
    "text",
    { len: 20, req: true, key: "exact" },
    "Course of the section met (meeting attendance)",
  ],
  [
    "Section_Number",
    "text",
    { len: 10, req: true, key: "exact" },
    "Section met (meeting attendance)",
  ],
  ["Period", "text", { len: 3 }, "Period of the meeting; one of the section's periods"],
];

function table(
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

const CORE: Readonly<Record<string, TableCatalog>> = {
  students: table(
    "students",
    "Students",
    "One student's current enrollment and demographics",
    "students",
    STUDENT_FIELDS,
  ),
  teachers: table(
    "teachers",
    "Teachers",
    "One staff member at one school",
    "teachers",
    TEACHER_FIELDS,
  ),
  courses: table(
    "courses",
    "Courses",
    "A course in the district catalog, offered at the importing school",
    "courses",
    COURSE_FIELDS,
  ),
  sections: table(
    "sections",
    "Sections",
    "A course taught in a term at a school",
    "sections",
    SECTION_FIELDS,
  ),
  schedules: table(
    "schedules",
    "Student schedules",
    "A student's enrollment in a section (CC)",
    "cc",
    SCHEDULE_FIELDS,
  ),
  "attendance:daily": table(
    "attendance",
    "Attendance (daily)",
    "A student's attendance code for a day",
    "attendance",
    ATTENDANCE_FIELDS,
  ),
  "attendance:meeting": table(
    "attendance",
    "Attendance (meeting)",
    "A student's code for one section meeting",
    "attendance",
    [...ATTENDANCE_FIELDS, ...MEETING_FIELDS],
  ),
};

/** The core catalog of a table (attendance: of one mode), without extension fields. */
export function coreCatalog(t: ImportTable, mode: AttendanceMode = "daily"): TableCatalog {
  const found = CORE[t === "attendance" ? `attendance:${mode}` : t];
  if (found === undefined) throw new Error(`unknown import table ${t}`);
  return found;
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
