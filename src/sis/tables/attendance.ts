/**
 * Import table `attendance`: a student's code for a day (daily) or for one section
 * meeting (meeting). Both modes share the SIS table; `mode` is part of its key, and a
 * daily row's course and section numbers are empty.
 */
import { coreCatalog } from "../catalog.ts";
import { lit, type TableRules } from "./rules.ts";

/** The rules of the attendance table. */
export const ATTENDANCE: TableRules = {
  table: "attendance",
  label: "Attendance",
  catalog: (mode) => coreCatalog("attendance", mode),
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
  rowCheck: "attendance",
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
