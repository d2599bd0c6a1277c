/**
 * The SIS side of the database's Drizzle schema: school setup, and the import tables,
 * whose importable columns come from the field catalog so the two cannot disagree.
 * It lives with the SIS model rather than under `src/db` because it is built from the
 * catalog; `drizzle.config.ts` names it beside `src/db/schema/mod.ts`.
 */
import { sql } from "drizzle-orm";
import {
  index,
  integer,
  primaryKey,
  real,
  type SQLiteColumnBuilderBase,
  sqliteTable,
  sqliteView,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";
import { type CatalogField, coreCatalog, type ImportTable, storageType } from "./catalog.ts";

function column(field: CatalogField): SQLiteColumnBuilderBase {
  const type = storageType(field);
  if (type === "INTEGER") return integer(field.column);
  return type === "REAL" ? real(field.column) : text(field.column);
}

// deno-lint-ignore no-explicit-any
function pick(t: Record<string, any>, ...names: string[]): [any, ...any[]] {
  const found = names.map((n) => {
    const c = t[n];
    if (c === undefined) throw new Error(`schema: no column ${n}`);
    return c;
  });
  return found as [unknown, ...unknown[]];
}

function catalogColumns(t: ImportTable, skip: readonly string[] = []) {
  // Meeting mode's catalog holds every column a table has (attendance's daily mode
  // leaves out the section's).
  const fields = coreCatalog(t, "meeting").fields;
  return Object.fromEntries(
    fields.filter((f) => !skip.includes(f.column)).map((f) => [f.column, column(f)]),
  );
}

/** The district's schools; School_Number 0 is the District Office. */
export const schools = sqliteTable("schools", {
  schoolNumber: integer("school_number").primaryKey(),
  name: text("name").notNull(),
  /** daily, meeting or both. */
  attendanceMethod: text("attendance_method").notNull().default("daily"),
});

export const terms = sqliteTable("terms", {
  schoolNumber: integer("school_number").notNull(),
  termId: integer("term_id").notNull(),
  abbreviation: text("abbreviation").notNull(),
  firstDay: text("first_day").notNull(),
  lastDay: text("last_day").notNull(),
}, (t) => [primaryKey({ columns: [t.schoolNumber, t.termId] })]);

export const periods = sqliteTable("periods", {
  schoolNumber: integer("school_number").notNull(),
  abbreviation: text("abbreviation").notNull(),
  sortOrder: integer("sort_order").notNull(),
}, (t) => [primaryKey({ columns: [t.schoolNumber, t.abbreviation] })]);

export const days = sqliteTable("days", {
  schoolNumber: integer("school_number").notNull(),
  abbreviation: text("abbreviation").notNull(),
  sortOrder: integer("sort_order").notNull(),
}, (t) => [primaryKey({ columns: [t.schoolNumber, t.abbreviation] })]);

export const attendanceCodes = sqliteTable("attendance_codes", {
  schoolNumber: integer("school_number").notNull(),
  id: integer("id").notNull(),
  code: text("code").notNull(),
  description: text("description").notNull().default(""),
  /** present, absent or tardy… as the school defines it. */
  presence: text("presence").notNull().default("present"),
}, (t) => [
  primaryKey({ columns: [t.schoolNumber, t.id] }),
  uniqueIndex("attendance_codes_code").on(t.schoolNumber, t.code),
]);

/** Extension tables a district defines on an import table. */
export const extensionTables = sqliteTable("extension_tables", {
  name: text("name").primaryKey(),
  baseTable: text("base_table").notNull(),
});

export const extensionFields = sqliteTable("extension_fields", {
  extensionTable: text("extension_table").notNull(),
  name: text("name").notNull(),
  type: text("type").notNull(),
  maxLength: integer("max_length"),
  description: text("description"),
}, (t) => [primaryKey({ columns: [t.extensionTable, t.name] })]);

/** Values of extension fields, one row per record and field. */
export const extensionValues = sqliteTable("extension_values", {
  extensionTable: text("extension_table").notNull(),
  field: text("field").notNull(),
  /** id of the row of the base table. */
  recordId: integer("record_id").notNull(),
  value: text("value"),
}, (t) => [primaryKey({ columns: [t.extensionTable, t.field, t.recordId] })]);

export const students = sqliteTable("students", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  ...catalogColumns("students"),
  lastRunId: integer("last_run_id"),
}, (t) => [
  uniqueIndex("students_key").on(...pick(t, "student_number")),
  index("students_school").on(...pick(t, "schoolid", "enroll_status")),
]);

/** Closed enrollments of students, kept as history. */
export const reenrollments = sqliteTable("reenrollments", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  studentNumber: integer("student_number").notNull(),
  schoolId: integer("schoolid").notNull(),
  gradeLevel: integer("grade_level"),
  entryDate: text("entrydate"),
  exitDate: text("exitdate"),
  entryCode: text("entrycode"),
  exitCode: text("exitcode"),
  runId: integer("run_id"),
}, (t) => [index("reenrollments_student").on(t.studentNumber)]);

export const teachers = sqliteTable("teachers", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  ...catalogColumns("teachers"),
  lastRunId: integer("last_run_id"),
}, (t) => [
  uniqueIndex("teachers_key").on(...pick(t, "teachernumber", "schoolid")),
  index("teachers_school").on(...pick(t, "schoolid", "status")),
]);

/** The district course catalog. Which schools offer a course is in schoolCourses. */
export const courses = sqliteTable("courses", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  ...catalogColumns("courses", ["schoolid"]),
  lastRunId: integer("last_run_id"),
}, (t) => [uniqueIndex("courses_key").on(...pick(t, "course_number"))]);

export const schoolCourses = sqliteTable("school_courses", {
  schoolId: integer("schoolid").notNull(),
  courseNumber: text("course_number").notNull(),
  offered: integer("offered").notNull().default(1),
  lastRunId: integer("last_run_id"),
}, (t) => [primaryKey({ columns: [t.schoolId, t.courseNumber] })]);

export const sections = sqliteTable("sections", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  ...catalogColumns("sections"),
  /**
   * The section's (period, day) meetings, parsed from its expression: a JSON object of
   * each period's days in the school's sort order, `{"1":["A","B"],"3":["C"]}` (NULL
   * without an expression). One column of the section's own row rather than a row per
   * meeting: a section's meetings are always written and read whole, and the 176,000
   * meetings of 40,000 sections as rows cost an import more than the sections
   * themselves (migration 0009). The `section_meetings` view lists them as rows.
   */
  meetings: text("meetings"),
  inactive: integer("inactive").notNull().default(0),
  lastRunId: integer("last_run_id"),
}, (t) => [
  uniqueIndex("sections_key").on(
    ...pick(t, "schoolid", "termid", "course_number", "section_number"),
  ),
]);

/** Each meeting of each section as a row (section_id, period, day), from sections.meetings. */
export const sectionMeetings = sqliteView("section_meetings", {
  sectionId: integer("section_id").notNull(),
  period: text("period").notNull(),
  day: text("day").notNull(),
}).as(
  sql`SELECT s.id AS section_id, p.key AS period, d.value AS day FROM sections s, json_each(s.meetings) p, json_each(p.value) d`,
);

/** Student schedules (PowerSchool's CC table). */
export const cc = sqliteTable("cc", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  ...catalogColumns("schedules"),
  sectionId: integer("section_id").notNull(),
  dropped: integer("dropped").notNull().default(0),
  lastRunId: integer("last_run_id"),
}, (t) => [
  uniqueIndex("cc_key").on(
    ...pick(t, "student_number", "schoolid", "termid", "course_number", "section_number"),
  ),
  // No other index: each one costs more than a second per million rows written
  // (bench/profile.ts). A section's enrollments are found by the key's student
  // prefix or, for a section taken out of the school, by one scan.
]);

export const attendance = sqliteTable("attendance", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  /** daily or meeting. */
  mode: text("mode").notNull(),
  ...catalogColumns("attendance"),
  lastRunId: integer("last_run_id"),
}, (t) => [
  // School and date first: the key also serves Synchronize Mode's scope (a school's
  // dates), so no second index is written with every row.
  uniqueIndex("attendance_key").on(
    ...pick(t, "schoolid", "att_date"),
    t.mode,
    ...pick(t, "student_number", "course_number", "section_number"),
  ),
]);
