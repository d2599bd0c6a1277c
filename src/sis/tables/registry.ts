/**
 * The registry of import tables: table name → its rules. Each table's rules live in
 * one module of this folder; adding a table means adding its module here.
 */
import type { ImportTable } from "../catalog.ts";
import { ATTENDANCE } from "./attendance.ts";
import { COURSES } from "./courses.ts";
import type { TableRules } from "./rules.ts";
import { SCHEDULES } from "./schedules.ts";
import { SECTIONS } from "./sections.ts";
import { STUDENTS } from "./students.ts";
import { TEACHERS } from "./teachers.ts";

/** Every import table's rules, by name. */
export const TABLE_RULES: Readonly<Record<ImportTable, TableRules>> = {
  students: STUDENTS,
  teachers: TEACHERS,
  courses: COURSES,
  sections: SECTIONS,
  schedules: SCHEDULES,
  attendance: ATTENDANCE,
};

/** The rules of an import table (resolve once per run, not per row). */
export function tableRules(table: ImportTable): TableRules {
  return TABLE_RULES[table];
}

/** The rules of a table named by a string from outside (a form, a stored run), or undefined. */
export function rulesNamed(name: string): TableRules | undefined {
  return Object.hasOwn(TABLE_RULES, name) ? TABLE_RULES[name as ImportTable] : undefined;
}
