/**
 * How the bench imports a scenario's file: the `autocomm import` arguments of the CLI
 * side and the run settings the service side (and `profile.ts`) queue — the same
 * options, given two ways.
 */
import { ONE_OFF_RUN, type RunSettings } from "../src/pipeline/run.ts";
import { type BenchTable, FIELDS, SCHOOL } from "./generate.ts";
import type { ScenarioKind } from "./sqlite.ts";

/** The settings of a run importing `file` for a scenario. */
export function runSettings(table: BenchTable, kind: ScenarioKind, file: string): RunSettings {
  return {
    table,
    attendanceMode: table === "attendance" ? "daily" : null,
    schoolId: SCHOOL,
    fields: [...FIELDS[table]],
    fieldDelimiter: "tab",
    recordDelimiter: "LF",
    charset: "utf-8",
    updateExisting: true,
    ignoreBlankCells: false,
    synchronize: kind === "reimport-changed-sync",
    removalLimitPercent: 100,
    inactivateExited: false,
    expectRecordCount: false,
    ...ONE_OFF_RUN,
    file,
  };
}

/** The same as `autocomm import` arguments. */
export function importArgs(table: BenchTable, kind: ScenarioKind, file: string): string[] {
  const s = runSettings(table, kind, file);
  return [
    "import",
    "--table",
    s.table,
    "--fields",
    s.fields.join(","),
    "--school",
    String(s.schoolId),
    ...(s.attendanceMode ? ["--attendance-mode", s.attendanceMode] : []),
    "--field-delimiter",
    s.fieldDelimiter,
    "--record-delimiter",
    s.recordDelimiter,
    "--charset",
    s.charset,
    ...(s.updateExisting ? ["--update-existing"] : []),
    ...(s.synchronize ? ["--synchronize", "--removal-limit", String(s.removalLimitPercent)] : []),
    "--json",
    file,
  ];
}
