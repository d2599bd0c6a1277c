/** Import table `sections`: a course taught in a term at a school. */
import { coreCatalog } from "../catalog.ts";
import { dropSchedules, lit, type TableRules } from "./rules.ts";

/** The rules of the sections table. */
export const SECTIONS: TableRules = {
  table: "sections",
  label: "Sections",
  catalog: () => coreCatalog("sections"),
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
  rowCheck: "section",
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
