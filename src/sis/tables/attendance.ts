/**
 * Import table `attendance`: a student's code for a day (daily) or for one section
 * meeting (meeting). Both modes share the SIS table; `mode` is part of its key, and a
 * daily row's course and section numbers are empty.
 */
import { SCHOOL_ID, type Spec, tableCatalog } from "./fields.ts";
import { checkOrd, givenAt, ORD, sqlUpper } from "./checks.ts";
import { lit, type TableRules } from "./rules.ts";

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

const DAILY = tableCatalog(
  "attendance",
  "Attendance (daily)",
  "A student's attendance code for a day",
  "attendance",
  ATTENDANCE_FIELDS,
);

const MEETING = tableCatalog(
  "attendance",
  "Attendance (meeting)",
  "A student's code for one section meeting",
  "attendance",
  [...ATTENDANCE_FIELDS, ...MEETING_FIELDS],
);

/** The table's checks, in the order their errors sort. */
const CHECKS = [
  "student",
  "code_id",
  "code_text",
  "code_mismatch",
  "section",
  "not_enrolled",
  "period",
];

/** The rules of the attendance table. */
export const ATTENDANCE: TableRules = {
  table: "attendance",
  label: "Attendance",
  catalog: (mode) => mode === "meeting" ? MEETING : DAILY,
  hasModes: true,
  districtOffice: false,
  target: "attendance",
  fixedKeys: (mode) => ({
    before: [{ column: "mode", expr: lit(mode) }],
    after: mode === "daily"
      ? [{ column: "course_number", expr: "''" }, { column: "section_number", expr: "''" }]
      : [],
  }),
  keysInMemory: false,
  targetsBySectionIndex: false,
  schoolFromFileInDistrictOffice: false,
  schoolIsContext: false,
  extraColumns: [],
  // The attendance code's id and text, from either field.
  resolvedColumns: ["ref_id", "ref_text"],
  references: new Set(["students", "codes"]),
  needsSections: false,
  checks: CHECKS,
  // The student must exist; the code is resolved from Attendance_CodeID or Att_Code
  // (into the row), each given one must be the school's, and both must agree.
  rowCheck(refs, layout) {
    const at = layout.at;
    const iv = layout.field("Attendance_CodeID");
    const tv = layout.field("Att_Code");
    const ivMask = iv?.maskPosition ?? -1;
    const tvMask = tv?.maskPosition ?? -1;
    const { students, codes: allCodes } = refs;
    const ordStudent = checkOrd("attendance", CHECKS, "student");
    const ordCodeId = checkOrd("attendance", CHECKS, "code_id");
    const ordCodeText = checkOrd("attendance", CHECKS, "code_text");
    const ordMismatch = checkOrd("attendance", CHECKS, "code_mismatch");
    return (row, line, _rejected, sink) => {
      const student = row[at.student] as number;
      const school = row[at.school] as number;
      if (!students.has(student)) {
        sink.errors.push({
          line,
          field: "Student_Number",
          code: "missing_reference",
          message: `Student_Number: there is no student ${student}`,
          row: null,
          ord: ordStudent,
        });
      }
      const codes = allCodes.get(school);
      const idGiven = givenAt(row, ivMask);
      const textGiven = givenAt(row, tvMask);
      const id = idGiven ? row[iv!.slot] as number | null : null;
      const text = textGiven ? row[tv!.slot] as string | null : null;
      const byText = text !== null ? codes?.byUpper.get(sqlUpper(text)) ?? null : null;
      const ref = id ?? byText;
      row[at.refId] = ref;
      row[at.refText] = ref === null ? null : codes?.byId.get(ref) ?? null;
      if (id !== null && !codes?.byId.has(id)) {
        sink.errors.push({
          line,
          field: "Attendance_CodeID",
          code: "missing_reference",
          message: `Attendance_CodeID: school ${school} has no attendance code ${id}`,
          row: null,
          ord: ordCodeId,
        });
      }
      if (text !== null && byText === null) {
        sink.errors.push({
          line,
          field: "Att_Code",
          code: "missing_reference",
          message: `Att_Code: school ${school} has no attendance code ${text}`,
          row: null,
          ord: ordCodeText,
        });
      }
      if (id !== null && text !== null) {
        const code = codes?.byId.get(id);
        if (code === undefined || sqlUpper(code) !== sqlUpper(text)) {
          sink.errors.push({
            line,
            field: "Att_Code",
            code: "code_mismatch",
            message: "Attendance_CodeID and Att_Code name different codes",
            row: null,
            ord: ordMismatch,
          });
        }
      }
      if (!((idGiven && id !== null) || (textGiven && text !== null))) {
        sink.conditional.push({
          line,
          when: 0,
          ord: ORD.attendanceCode,
          field: "Attendance_CodeID",
          code: "missing_required",
          message: "Attendance_CodeID or Att_Code: required to record attendance",
        });
      }
    };
  },
  scopeColumn: "k_att_date",
  oneOfFields: {
    names: ["Attendance_CodeID", "Att_Code"],
    problem: "Attendance needs Attendance_CodeID or Att_Code",
  },
  // The code fields write the resolved code, as a pair.
  resolvedWrites: [
    { name: "Attendance_CodeID", column: "attendance_codeid", value: "s.ref_id" },
    { name: "Att_Code", column: "att_code", value: "s.ref_text" },
  ],
  inactive: () => null,
  // Meeting attendance: the section met, the student's enrollment in it, the period.
  checksMeetings: (mode) => mode === "meeting",
  activeScope: (ctx) => ({
    from: "attendance t",
    where: `t.mode = ${lit(ctx.mode)} AND ${
      ctx.districtOffice ? "1" : `t.schoolid = ${ctx.schoolId}`
    } AND t.att_date IN (${ctx.scope.map((v) => lit(v)).join(", ")})`,
  }),
  // An attendance row missing from the file is deleted.
  removalWords: {
    noun: ["attendance row", "attendance rows"],
    effect: "deleted",
  },
  removal: (X) => [{ sql: `DELETE FROM attendance WHERE id IN (SELECT id FROM ${X})` }],
  readout: {
    mode: "meeting",
    from: "attendance t",
    lead: [],
    omit: [],
    status: [{ select: "t.mode", name: "Mode" }],
    school: "t.schoolid = ?",
    order: null,
    tidy(row) {
      if (row["Mode"] !== "daily") return;
      delete row["Course_Number"];
      delete row["Section_Number"];
      delete row["Period"];
    },
  },
};
