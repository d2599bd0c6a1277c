/**
 * Import table `courses`: a course of the district catalog, offered at the importing
 * school. The course is shared by the district; whether a school offers it is kept in
 * `school_courses`, which is what "active" means here.
 */
import { type Spec, tableCatalog } from "./fields.ts";
import { OK, type TableRules } from "./rules.ts";

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

const CATALOG = tableCatalog(
  "courses",
  "Courses",
  "A course in the district catalog, offered at the importing school",
  "courses",
  COURSE_FIELDS,
);

/** The rules of the courses table. */
export const COURSES: TableRules = {
  table: "courses",
  label: "Courses",
  catalog: () => CATALOG,
  hasModes: false,
  districtOffice: false,
  target: "courses",
  keysInMemory: true,
  targetsBySectionIndex: false,
  schoolFromFileInDistrictOffice: false,
  // A course row's SchoolID is checked, not stored on the (district) course.
  schoolIsContext: true,
  extraColumns: [],
  resolvedColumns: [],
  references: new Set(),
  needsSections: false,
  checks: [],
  scopeColumn: null,
  inactive: (ctx) =>
    `NOT EXISTS (SELECT 1 FROM school_courses o WHERE o.schoolid = ${ctx.schoolId} AND o.course_number = t.course_number AND o.offered = 1)`,
  activeScope: (ctx) => ({
    from: "courses t JOIN school_courses o ON o.course_number = t.course_number",
    where: `o.offered = 1 AND o.schoolid = ${ctx.schoolId}`,
  }),
  // A course in the file is offered at the school. Only new courses and those the
  // school no longer offered (react: the flags found no offered row) can need it —
  // the others' lookup would find offered = 1 and write nothing.
  afterUpdate: (ctx) => [
    {
      sql: `INSERT INTO school_courses (schoolid, course_number, offered, last_run_id)
       SELECT ?, s.k_course_number, 1, ? FROM ${ctx.rows} s WHERE ${OK} AND (s.tid IS NULL OR s.react = 1)
       ON CONFLICT (schoolid, course_number) DO UPDATE SET offered = 1, last_run_id = excluded.last_run_id WHERE school_courses.offered = 0`,
      args: [ctx.schoolId, ctx.runId],
    },
  ],
  // A course missing from the file is no longer offered at the school.
  removalWords: {
    noun: ["course", "courses"],
    effect: "no longer offered at the school (the course itself is kept)",
  },
  removal: (X, ctx) => [
    {
      sql:
        `UPDATE school_courses SET offered = 0, last_run_id = ? WHERE schoolid = ? AND offered = 1
         AND course_number IN (SELECT t.course_number FROM ${X} x CROSS JOIN courses t ON t.id = x.id)`,
      args: [ctx.runId, ctx.schoolId],
    },
  ],
  readout: {
    mode: "daily",
    from: "courses t JOIN school_courses sc ON sc.course_number = t.course_number",
    lead: [`sc.schoolid AS "SchoolID"`],
    omit: ["schoolid"],
    status: [{ select: "sc.offered", name: "Offered" }],
    school: "sc.schoolid = ?",
    order: "sc.schoolid, t.course_number",
  },
};
