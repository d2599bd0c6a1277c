/** Import table `teachers`: one staff member at one school. */
import { SCHOOL_ID, type Spec, tableCatalog } from "./fields.ts";
import type { TableRules } from "./rules.ts";

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

const CATALOG = tableCatalog(
  "teachers",
  "Teachers",
  "One staff member at one school",
  "teachers",
  TEACHER_FIELDS,
);

/** The rules of the teachers table. */
export const TEACHERS: TableRules = {
  table: "teachers",
  label: "Teachers",
  catalog: () => CATALOG,
  hasModes: false,
  districtOffice: true,
  target: "teachers",
  keysInMemory: true,
  targetsBySectionIndex: false,
  schoolFromFileInDistrictOffice: false,
  schoolIsContext: false,
  extraColumns: [],
  resolvedColumns: [],
  references: new Set(),
  needsSections: false,
  checks: [],
  scopeColumn: null,
  inactive: (ctx) => ctx.mapped("Status") ? null : "t.status = 2",
  activeScope: (ctx) => ({
    from: "teachers t",
    where: `t.status = 1 AND ${ctx.districtOffice ? "1" : `t.schoolid = ${ctx.schoolId}`}`,
  }),
  insertColumns(columns) {
    columns.set("status", `coalesce(${columns.get("status") ?? "NULL"}, 1)`);
  },
  updateSets: (ctx, T) =>
    ctx.mapped("Status") ? [] : [`status = CASE WHEN s.react = 1 THEN 1 ELSE ${T}.status END`],
  // A teacher missing from the file gets Status 2.
  removalWords: {
    noun: ["teacher", "teachers"],
    effect: "made inactive (Status 2)",
  },
  removal: (X, ctx) => [
    {
      sql: `UPDATE teachers SET status = 2, last_run_id = ? WHERE id IN (SELECT id FROM ${X})`,
      args: [ctx.runId],
    },
  ],
  readout: {
    mode: "daily",
    from: "teachers t",
    lead: [],
    omit: [],
    status: [],
    school: "t.schoolid = ?",
    order: null,
  },
};
