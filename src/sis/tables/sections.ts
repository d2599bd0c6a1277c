/** Import table `sections`: a course taught in a term at a school. */
import { SCHOOL_ID, type Spec, tableCatalog } from "./fields.ts";
import { checkOrd, givenAt } from "./checks.ts";
import { dropSchedules, lit, type TableRules } from "./rules.ts";

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

const CATALOG = tableCatalog(
  "sections",
  "Sections",
  "A course taught in a term at a school",
  "sections",
  SECTION_FIELDS,
);

/** The table's checks, in the order their errors sort. */
const CHECKS = ["term", "course", "teacher"];

/** The rules of the sections table. */
export const SECTIONS: TableRules = {
  table: "sections",
  label: "Sections",
  catalog: () => CATALOG,
  hasModes: false,
  districtOffice: false,
  target: "sections",
  keysInMemory: false,
  targetsBySectionIndex: true,
  schoolFromFileInDistrictOffice: false,
  schoolIsContext: false,
  // The meetings parsed from the expression (JSON), filled by the row check.
  extraColumns: ["meetings"],
  resolvedColumns: [],
  references: new Set(["terms", "courses", "teachers"]),
  needsSections: false,
  checks: CHECKS,
  // The term must be one of the school's, the course must exist, and a given teacher
  // must teach at the school.
  rowCheck(refs, layout) {
    const at = layout.at;
    const tv = layout.field("Teacher");
    const tvMask = tv?.maskPosition ?? -1;
    const { terms, courses, teachers } = refs;
    const ordTerm = checkOrd("sections", CHECKS, "term");
    const ordCourse = checkOrd("sections", CHECKS, "course");
    const ordTeacher = checkOrd("sections", CHECKS, "teacher");
    return (row, line, _rejected, sink) => {
      const school = row[at.school] as number;
      const term = row[at.term] as number;
      const course = row[at.course] as string;
      if (!terms.get(school)?.has(term)) {
        sink.errors.push({
          line,
          field: "TermID",
          code: "missing_reference",
          message: `TermID: school ${school} has no term ${term}`,
          row: null,
          ord: ordTerm,
        });
      }
      if (!courses.has(course)) {
        sink.errors.push({
          line,
          field: "Course_Number",
          code: "missing_reference",
          message: `Course_Number: there is no course ${course}`,
          row: null,
          ord: ordCourse,
        });
      }
      if (tv && givenAt(row, tvMask)) {
        const teacher = row[tv.slot];
        if (teacher !== null && !teachers.get(school)?.has(teacher as string)) {
          sink.errors.push({
            line,
            field: "Teacher",
            code: "missing_reference",
            message: `Teacher: there is no teacher ${teacher} at school ${school}`,
            row: null,
            ord: ordTeacher,
          });
        }
      }
    };
  },
  scopeColumn: "k_termid",
  inactive: () => "t.inactive = 1",
  activeScope: (ctx) => ({
    from: "sections t",
    where: `t.inactive = 0 AND ${
      ctx.districtOffice ? "1" : `t.schoolid = ${ctx.schoolId}`
    } AND t.termid IN (${ctx.scope.map((v) => lit(v)).join(", ")})`,
  }),
  insertColumns(columns) {
    // The meetings parsed from the expression (run.ts meetingsJson), NULL without one.
    columns.set("meetings", "s.meetings");
    columns.set("inactive", "0");
  },
  updateSets(ctx, T) {
    const sets: string[] = [];
    // A changed row that gives its expression brings the meetings parsed from it.
    if (ctx.mapped("Expression")) {
      sets.push(
        `meetings = CASE WHEN s.diff IS NOT NULL AND ${
          ctx.provided("Expression")
        } THEN s.meetings ELSE ${T}.meetings END`,
      );
    }
    sets.push(`inactive = CASE WHEN s.react = 1 THEN 0 ELSE ${T}.inactive END`);
    return sets;
  },
  // A section missing from the file is marked inactive, its enrollments dropped.
  removalWords: {
    noun: ["section", "sections"],
    effect: "made inactive and their enrollments dropped (DateLeft today unless earlier)",
  },
  removal: (X, ctx) => [
    {
      sql: `UPDATE cc SET ${dropSchedules("?")}, last_run_id = ?
         WHERE dropped = 0 AND section_id IN (SELECT id FROM ${X})`,
      args: [ctx.today, ctx.today, ctx.runId],
    },
    {
      sql: `UPDATE sections SET inactive = 1, last_run_id = ? WHERE id IN (SELECT id FROM ${X})`,
      args: [ctx.runId],
    },
  ],
  readout: {
    mode: "daily",
    from: "sections t",
    lead: [],
    omit: [],
    status: [{ select: "t.inactive", name: "Inactive" }],
    school: "t.schoolid = ?",
    order: null,
  },
};
