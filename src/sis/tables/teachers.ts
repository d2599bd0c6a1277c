/** Import table `teachers`: one staff member at one school. */
import { coreCatalog } from "../catalog.ts";
import type { TableRules } from "./rules.ts";

/** The rules of the teachers table. */
export const TEACHERS: TableRules = {
  table: "teachers",
  label: "Teachers",
  catalog: () => coreCatalog("teachers"),
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
  rowCheck: null,
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
