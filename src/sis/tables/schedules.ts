/** Import table `schedules`: a student's enrollment in a section (the SIS table `cc`). */
import { SCHOOL_ID, type Spec, tableCatalog } from "./fields.ts";
import { checkOrd, givenAt, type SectionLookup } from "./checks.ts";
import {
  type DateOrder,
  dropSchedules,
  lit,
  NEW,
  type SqlContext,
  type TableRules,
  WRITES,
} from "./rules.ts";

/** The DateLeft a new schedule row is saved with: the file's, else the term's default. */
function newDateLeft(ctx: SqlContext): string {
  return `coalesce(${
    ctx.mapped("DateLeft")
      ? `CASE WHEN ${ctx.provided("DateLeft")} THEN ${ctx.staged("DateLeft")} END`
      : "NULL"
  }, s.def)`;
}

const SCHEDULE_FIELDS: readonly Spec[] = [
  [
    "Student_Number",
    "integer",
    { req: true, key: "integer", min: 1, max: 9_007_199_254_740_991 },
    "Student enrolled (must exist)",
  ],
  SCHOOL_ID,
  [
    "TermID",
    "integer",
    { req: true, key: "integer", min: 0, max: 2_147_483_647 },
    "Term of the section",
  ],
  ["Course_Number", "text", { len: 20, req: true, key: "exact" }, "Course of the section"],
  [
    "Section_Number",
    "text",
    { len: 10, req: true, key: "exact" },
    "Section number (the section must exist)",
  ],
  ["DateEnrolled", "date", { req: true }, "First day in the section"],
  [
    "DateLeft",
    "date",
    {},
    "Day after the last day in the section (exclusive); defaults to the day after the term ends",
  ],
  [
    "Expression",
    "text",
    { len: 80 },
    "Expression as the sending system knows it (kept as written)",
  ],
];

const CATALOG = tableCatalog(
  "schedules",
  "Student schedules",
  "A student's enrollment in a section (CC)",
  "cc",
  SCHEDULE_FIELDS,
);

/** The table's checks, in the order their errors sort. */
const CHECKS = ["student", "section", "bad_date"];

/** DateEnrolled comes before DateLeft (the day after the last day). */
const DATE_ORDER: DateOrder = {
  earlier: "DateEnrolled",
  later: "DateLeft",
  message: "DateLeft must be after DateEnrolled (DateLeft is the day after the last day)",
};

/** The rules of the schedules table. */
export const SCHEDULES: TableRules = {
  table: "schedules",
  label: "Student schedules",
  catalog: () => CATALOG,
  hasModes: false,
  districtOffice: false,
  target: "cc",
  keysInMemory: false,
  targetsBySectionIndex: false,
  schoolFromFileInDistrictOffice: false,
  schoolIsContext: false,
  extraColumns: [],
  // The section's id, and the day after its term's last day (DateLeft's default).
  resolvedColumns: ["ref_id", "def"],
  references: new Set(["terms", "students"]),
  needsSections: true,
  checks: CHECKS,
  // The student and the section must exist (the section's id and its term's default
  // DateLeft go into the row); a row whose saved DateLeft has come is marked; the two
  // dates must come in order.
  rowCheck(refs, layout) {
    const at = layout.at;
    const ev = layout.field("DateEnrolled");
    const lv = layout.field("DateLeft");
    const evMask = ev?.maskPosition ?? -1;
    const lvMask = lv?.maskPosition ?? -1;
    const { students, sections, terms } = refs;
    const today = layout.today;
    const ordStudent = checkOrd("schedules", CHECKS, "student");
    const ordSection = checkOrd("schedules", CHECKS, "section");
    const ordBadDate = checkOrd("schedules", CHECKS, "bad_date");
    const dateField = lv ? DATE_ORDER.later : DATE_ORDER.earlier;
    // Rows of one school follow each other: its sections are kept at hand.
    let lastSchool = NaN;
    let lastSections: SectionLookup | undefined;
    return (row, line, rejected, sink) => {
      const student = row[at.student] as number;
      const school = row[at.school] as number;
      const term = row[at.term] as number;
      const course = row[at.course] as string;
      const section = row[at.section] as string;
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
      // (A school without sections is looked up again: it may be loaded since.)
      if (school !== lastSchool || lastSections === undefined) {
        lastSchool = school;
        lastSections = sections.get(school);
      }
      const id = lastSections?.get(term, course, section);
      row[at.refId] = id ?? null;
      const def = terms.get(school)?.get(term)?.after ?? null;
      row[at.def] = def;
      if (id === undefined) {
        sink.errors.push({
          line,
          field: "Section_Number",
          code: "missing_reference",
          message:
            `Section_Number: there is no section ${course}.${section} in term ${term} at school ${school}`,
          row: null,
          ord: ordSection,
        });
      }
      if (rejected) return;
      const enrolledGiven = givenAt(row, evMask);
      const leftGiven = givenAt(row, lvMask);
      const enrolled = enrolledGiven ? row[ev!.slot] as string | null : null;
      const left = leftGiven ? row[lv!.slot] as string | null : def;
      // The DateLeft a new record gets: a blank one defaults too.
      const saved = left ?? def;
      if (saved !== null && saved <= today) sink.marks.push(line);
      if (enrolled === null || left === null || left > enrolled) return;
      const error = {
        line,
        ord: ordBadDate,
        field: dateField,
        code: "bad_date" as const,
        message: DATE_ORDER.message,
      };
      // With both dates in the row the check does not depend on the existing record;
      // otherwise this is the new record's case (apply.ts checks existing ones).
      if (enrolledGiven && leftGiven) sink.errors.push({ ...error, row: null });
      else sink.conditional.push({ ...error, when: 0 });
    };
  },
  scopeColumn: "k_termid",
  dateOrder: DATE_ORDER,
  inactive: (ctx) =>
    `t.dropped = 1 AND coalesce(${ctx.valueOr("DateLeft", "t.dateleft")}, '9999-12-31') > ${
      lit(ctx.today)
    }`,
  badDates(ctx) {
    const enrolled = ctx.valueOr("DateEnrolled", "t.dateenrolled");
    const left = ctx.valueOr("DateLeft", "coalesce(t.dateleft, s.def)");
    return `(NOT (${ctx.given("DateEnrolled")} AND ${
      ctx.given("DateLeft")
    }) AND ${enrolled} IS NOT NULL AND ${left} IS NOT NULL AND ${left} <= ${enrolled})`;
  },
  activeScope: (ctx) => ({
    from: "cc t",
    where: `t.dropped = 0 AND ${
      ctx.districtOffice ? "1" : `t.schoolid = ${ctx.schoolId}`
    } AND t.termid IN (${ctx.scope.map((v) => lit(v)).join(", ")})`,
  }),
  insertColumns(columns, ctx) {
    columns.set("dateleft", newDateLeft(ctx));
    columns.set("section_id", "s.ref_id");
    // A row whose DateLeft has come is saved dropped (counted in inactivate()).
    columns.set(
      "dropped",
      `CASE WHEN ${newDateLeft(ctx)} <= ${lit(ctx.today)} THEN 1 ELSE 0 END`,
    );
  },
  updateSets: (_ctx, T) => [`dropped = CASE WHEN s.react = 1 THEN 0 ELSE ${T}.dropped END`],
  // A row whose DateLeft is today or earlier is dropped. New rows were saved dropped
  // already (insertColumns); the candidates are the new rows the map stage marked and
  // the existing records written.
  inactivate(ctx) {
    const today = lit(ctx.today);
    return [
      {
        sql: `INSERT INTO run_changes (run_id, table_name, action, key, changes)
       SELECT ?, 'schedules', 'inactivate', ${ctx.keyJson()}, NULL
       FROM (SELECT line FROM ${ctx.marks} UNION SELECT line FROM ${ctx.flags} WHERE chg = 1 OR react = 1) x
       CROSS JOIN ${ctx.rows} s ON s.line = x.line LEFT JOIN cc t ON t.id = s.tid
       WHERE CASE WHEN s.tid IS NULL THEN ${NEW} AND ${newDateLeft(ctx)} <= ${today}
         ELSE ${WRITES} AND t.dropped = 0 AND t.dateleft <= ${today} END
       ORDER BY s.line`,
        args: [ctx.runId],
        counts: true,
      },
      {
        sql:
          `UPDATE cc SET dropped = 1, last_run_id = ? WHERE id IN (SELECT s.tid FROM ${ctx.writing()})
       AND dropped = 0 AND dateleft <= ?`,
        args: [ctx.runId, ctx.today],
      },
    ];
  },
  // A schedule row missing from the file is dropped.
  removalWords: {
    noun: ["schedule row", "schedule rows"],
    effect: "dropped (DateLeft today unless earlier)",
  },
  removal: (X, ctx) => [
    {
      sql: `UPDATE cc SET ${dropSchedules("?")}, last_run_id = ?
         WHERE id IN (SELECT id FROM ${X})`,
      args: [ctx.today, ctx.today, ctx.runId],
    },
  ],
  readout: {
    mode: "daily",
    from: "cc t",
    lead: [],
    omit: [],
    status: [{ select: "t.dropped", name: "Dropped" }],
    school: "t.schoolid = ?",
    order: null,
  },
};
