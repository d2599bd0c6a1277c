/** Import table `students`: one student's current enrollment and demographics. */
import { type Spec, tableCatalog } from "./fields.ts";
import { checkOrd, givenAt, type TermInfo } from "./checks.ts";
import { type DateOrder, dropSchedules, lit, OK, type TableRules } from "./rules.ts";

const STUDENT_FIELDS: readonly Spec[] = [
  [
    "Student_Number",
    "integer",
    { req: true, key: "integer", min: 1, max: 9_007_199_254_740_991 },
    "District-wide student number (the match key)",
  ],
  [
    "SchoolID",
    "integer",
    { min: 0, max: 2_147_483_647 },
    "School_Number of the enrollment school; the record's school when not in the file",
  ],
  ["First_Name", "text", { len: 50, req: true, personal: true }, "Legal first name"],
  ["Middle_Name", "text", { len: 50, personal: true }, "Middle name"],
  ["Last_Name", "text", { len: 50, req: true, personal: true }, "Legal last name"],
  [
    "Grade_Level",
    "integer",
    { req: true, min: -2, max: 99 },
    "Current grade level (-2 to 12; 99 for graduated)",
  ],
  ["DOB", "date", { personal: true }, "Date of birth"],
  ["Gender", "code", { codes: ["M", "F", "X"] }, "Gender: M, F or X"],
  ["EntryDate", "date", { req: true }, "First day of the current enrollment"],
  [
    "ExitDate",
    "date",
    {},
    "Day after the last day of the current enrollment (exclusive); defaults from the school's terms",
  ],
  ["EntryCode", "text", { len: 10 }, "Entry code of the current enrollment"],
  ["ExitCode", "text", { len: 10 }, "Exit code of the current enrollment"],
  [
    "Enroll_Status",
    "code",
    { codes: ["-1", "0", "1", "2", "3"] },
    "-1 pre-registered, 0 active, 1 inactive, 2 transferred out, 3 graduated; default 0",
  ],
  ["Home_Room", "text", { len: 60 }, "Home room"],
  ["Street", "text", { len: 60, personal: true }, "Home street address"],
  ["City", "text", { len: 50, personal: true }, "Home city"],
  ["State", "text", { len: 10, personal: true }, "Home state"],
  ["Zip", "text", { len: 10, personal: true }, "Home ZIP code"],
  ["Mailing_Street", "text", { len: 60, personal: true }, "Mailing street address"],
  ["Mailing_City", "text", { len: 50, personal: true }, "Mailing city"],
  ["Mailing_State", "text", { len: 10, personal: true }, "Mailing state"],
  ["Mailing_Zip", "text", { len: 10, personal: true }, "Mailing ZIP code"],
  ["Home_Phone", "text", { len: 30, personal: true }, "Home phone number"],
  ["Ethnicity", "text", { len: 10 }, "Ethnicity code"],
  ["State_StudentNumber", "text", { len: 32 }, "State-assigned student number"],
  ["Lunch_ID", "text", { len: 20 }, "Lunch account number"],
  ["Network_ID", "text", { len: 50, personal: true }, "Network login name"],
  ["Student_Web_ID", "text", { len: 50, personal: true }, "Student portal login name"],
  ["Track", "text", { len: 20 }, "Attendance track"],
  ["Team", "text", { len: 20 }, "Scheduling team"],
  ["Graduation_Year", "integer", { min: 1900, max: 2200 }, "Projected year of graduation"],
  ["District_Entry_Date", "date", {}, "First day in the district"],
  ["School_Entry_Date", "date", {}, "First day at the current school"],
  ["Mother", "text", { len: 60, personal: true }, "Mother's name"],
  ["Mother_Day_Phone", "text", { len: 30, personal: true }, "Mother's daytime phone"],
  ["Mother_Email", "text", { len: 50, personal: true }, "Mother's e-mail address"],
  ["Father", "text", { len: 60, personal: true }, "Father's name"],
  ["Father_Day_Phone", "text", { len: 30, personal: true }, "Father's daytime phone"],
  ["Father_Email", "text", { len: 50, personal: true }, "Father's e-mail address"],
  ["Guardian", "text", { len: 60, personal: true }, "Guardian's name"],
  ["Guardian_Phone", "text", { len: 30, personal: true }, "Guardian's phone"],
  ["Guardian_Email", "text", { len: 50, personal: true }, "Guardian's e-mail address"],
  ["Emerg_Contact_1", "text", { len: 60, personal: true }, "First emergency contact's name"],
  ["Emerg_Phone_1", "text", { len: 30, personal: true }, "First emergency contact's phone"],
];

const CATALOG = tableCatalog(
  "students",
  "Students",
  "One student's current enrollment and demographics",
  "students",
  STUDENT_FIELDS,
);

/** The table's checks, in the order their errors sort. */
const CHECKS = ["school", "enrolled_elsewhere", "no_term", "bad_date"];

/** The entry date comes before the exit date (exclusive). */
const DATE_ORDER: DateOrder = {
  earlier: "EntryDate",
  later: "ExitDate",
  message: "ExitDate must be after EntryDate (exit dates are exclusive)",
};

/**
 * A new student's default exit date: the day after the last day of the longest term
 * of the school holding the entry date (the lower term id of two as long), or null
 * when no term holds it. Remembered per school and entry date (few distinct) for the
 * run.
 */
function defaultExits(
  termsBySchool: ReadonlyMap<number, readonly TermInfo[]>,
): (school: number, date: string) => string | null {
  const exits = new Map<number, Map<string, string | null>>();
  const find = (school: number, date: string): string | null => {
    let best: TermInfo | null = null;
    let bestLength = -1;
    for (const t of termsBySchool.get(school) ?? []) {
      if (t.firstDay > date || t.lastDay < date) continue;
      const length = Date.parse(t.lastDay) - Date.parse(t.firstDay);
      // Longest first, then the lower term id (the list is in term id order).
      if (best === null || length > bestLength) {
        best = t;
        bestLength = length;
      }
    }
    return best?.after ?? null;
  };
  return (school, date) => {
    let bySchool = exits.get(school);
    if (!bySchool) exits.set(school, bySchool = new Map());
    let exit = bySchool.get(date);
    if (exit === undefined) {
      exit = find(school, date);
      if (bySchool.size < 10_000) bySchool.set(date, exit);
    }
    return exit;
  };
}

/** The rules of the students table. */
export const STUDENTS: TableRules = {
  table: "students",
  label: "Students",
  catalog: () => CATALOG,
  hasModes: false,
  districtOffice: true,
  target: "students",
  keysInMemory: true,
  targetsBySectionIndex: false,
  // A student in District Office context must be given a school in the file.
  schoolFromFileInDistrictOffice: true,
  schoolIsContext: false,
  extraColumns: [],
  resolvedColumns: ["def"],
  references: new Set(["schools", "terms"]),
  needsSections: false,
  checks: CHECKS,
  // The school must exist; a new student's exit date defaults from the school's terms
  // (no_term when none holds the entry date); the two dates must come in order. What
  // needs the existing record (its school or entry date) is checked in the apply stage.
  rowCheck(refs, layout) {
    const sv = layout.field("SchoolID");
    const ev = layout.field("EntryDate");
    const xv = layout.field("ExitDate");
    const svMask = sv?.maskPosition ?? -1;
    const evMask = ev?.maskPosition ?? -1;
    const xvMask = xv?.maskPosition ?? -1;
    const defSlot = layout.at.def;
    const schools = refs.schools;
    const defaultExit = defaultExits(refs.termsBySchool);
    const ordSchool = checkOrd("students", CHECKS, "school");
    const ordNoTerm = checkOrd("students", CHECKS, "no_term");
    const ordBadDate = checkOrd("students", CHECKS, "bad_date");
    const dateField = xv ? DATE_ORDER.later : DATE_ORDER.earlier;
    const checkDates = xv !== null || ev !== null;
    return (row, line, rejected, sink) => {
      const schoolGiven = givenAt(row, svMask);
      const school = schoolGiven ? row[sv!.slot] as number | null : null;
      if (schoolGiven && school !== null && !schools.has(school)) {
        sink.errors.push({
          line,
          field: "SchoolID",
          code: "missing_reference",
          message: `SchoolID: there is no school ${school}`,
          row: null,
          ord: ordSchool,
        });
      }
      if (rejected) return;
      const entryGiven = givenAt(row, evMask);
      const entry = entryGiven ? row[ev!.slot] as string | null : null;
      const exitGiven = givenAt(row, xvMask);
      const exit = exitGiven ? row[xv!.slot] as string | null : null;
      // Otherwise the school or the entry date is the existing record's: apply.ts.
      if (schoolGiven && entryGiven) {
        const def = school !== null && entry !== null ? defaultExit(school, entry) : null;
        row[defSlot] = def;
        if (def === null && school !== null && entry !== null && !(exitGiven && exit !== null)) {
          sink.conditional.push({
            line,
            when: 0,
            ord: ordNoTerm,
            field: "EntryDate",
            code: "no_term",
            message:
              `EntryDate: no term of school ${school} contains this date, so ExitDate cannot default; add the term or give ExitDate`,
          });
        }
      }
      if (
        checkDates && entryGiven && exitGiven && entry !== null && exit !== null && exit <= entry
      ) {
        sink.errors.push({
          line,
          field: dateField,
          code: "bad_date",
          message: DATE_ORDER.message,
          row: null,
          ord: ordBadDate,
        });
      }
    };
  },
  scopeColumn: null,
  dateOrder: DATE_ORDER,
  inactive: (ctx) => ctx.mapped("Enroll_Status") ? null : "t.enroll_status = 2",
  // Only the District Office may move a student active at another school.
  elsewhere: (ctx) =>
    ctx.districtOffice
      ? "0"
      : `(t.enroll_status = 0 AND t.schoolid <> ${ctx.valueOr("SchoolID", "t.schoolid")})`,
  elsewhereError: {
    field: "SchoolID",
    code: "enrolled_elsewhere",
    message:
      `'Student_Number ' || s.k_student_number || ' is active at school ' || t.schoolid || '; only the District Office may move a student'`,
  },
  badDates(ctx) {
    if (!ctx.mapped("ExitDate") && !ctx.mapped("EntryDate")) return "0";
    // Rows that give both dates were checked in the map stage.
    const entry = ctx.valueOr("EntryDate", "t.entrydate");
    const exit = ctx.valueOr("ExitDate", "t.exitdate");
    return `(NOT (${ctx.given("EntryDate")} AND ${
      ctx.given("ExitDate")
    }) AND ${entry} IS NOT NULL AND ${exit} IS NOT NULL AND ${exit} <= ${entry})`;
  },
  // Default exit dates of existing students whose school or entry date is not in the row.
  existingDefaults(ctx) {
    const effSchool = ctx.valueOr(
      "SchoolID",
      "(SELECT t.schoolid FROM students t WHERE t.id = s.tid)",
    );
    const entry = ctx.valueOr(
      "EntryDate",
      "(SELECT t.entrydate FROM students t WHERE t.id = s.tid)",
    );
    return {
      sql: `UPDATE ${ctx.rows} AS s SET def = (SELECT date(tm.last_day, '+1 day') FROM terms tm
       WHERE tm.school_number = ${effSchool} AND tm.first_day <= ${entry} AND tm.last_day >= ${entry}
       ORDER BY julianday(tm.last_day) - julianday(tm.first_day) DESC, tm.term_id LIMIT 1)
     WHERE s.rej = 0 AND s.tid IS NOT NULL AND NOT (${ctx.given("SchoolID")} AND ${
        ctx.given("EntryDate")
      })`,
    };
  },
  activeScope: (ctx) => ({
    from: "students t",
    where: `t.enroll_status = 0 AND ${ctx.districtOffice ? "1" : `t.schoolid = ${ctx.schoolId}`}`,
  }),
  insertColumns(columns) {
    columns.set("exitdate", `coalesce(${columns.get("exitdate") ?? "NULL"}, s.def)`);
    columns.set("enroll_status", `coalesce(${columns.get("enroll_status") ?? "NULL"}, 0)`);
  },
  // Students moving school: the old enrollment is closed and kept as history, and
  // their open schedules at the old school are dropped.
  afterInsert(ctx) {
    if (!ctx.mapped("SchoolID")) return [];
    const moved = `${ctx.provided("SchoolID")} AND s.v_schoolid <> t.schoolid`;
    const entry = ctx.valueOr("EntryDate", lit(ctx.today));
    return [
      {
        sql:
          `INSERT INTO reenrollments (student_number, schoolid, grade_level, entrydate, exitdate, entrycode, exitcode, run_id)
       SELECT t.student_number, t.schoolid, t.grade_level, t.entrydate,
              CASE WHEN t.exitdate IS NULL OR t.exitdate > ${entry} THEN ${entry} ELSE t.exitdate END,
              t.entrycode, t.exitcode, ?
       FROM ${ctx.writing("JOIN students t ON t.id = s.tid")} AND ${moved}`,
        args: [ctx.runId],
      },
      {
        sql: `UPDATE cc SET ${dropSchedules("?")}
       WHERE dropped = 0 AND id IN (SELECT e.id FROM ${
          ctx.writing(
            "JOIN students t ON t.id = s.tid JOIN cc e ON e.student_number = t.student_number AND e.schoolid = t.schoolid",
          )
        } AND ${moved})`,
        args: [ctx.today, ctx.today],
      },
    ];
  },
  updateSets(ctx, T) {
    const sets: string[] = [];
    if (!ctx.mapped("Enroll_Status")) {
      sets.push(`enroll_status = CASE WHEN s.react = 1 THEN 0 ELSE ${T}.enroll_status END`);
    }
    if (!ctx.mapped("ExitDate")) {
      // A returning student whose exit date has passed gets the default one again.
      sets.push(
        `exitdate = CASE WHEN s.react = 1 AND coalesce(${T}.exitdate, '0000') <= ${
          lit(ctx.today)
        } THEN coalesce(s.def, ${T}.exitdate) ELSE ${T}.exitdate END`,
      );
    }
    return sets;
  },
  // With Mark inactive, a student in the file whose ExitDate has come and who is active
  // or pre-registered becomes Enroll_Status 2; their open schedules are dropped as of
  // the exit date.
  inactivate(ctx) {
    if (!ctx.inactivateExited) return [];
    const R = ctx.rows;
    const exited =
      `${OK} AND t.enroll_status IN (-1, 0) AND t.exitdate IS NOT NULL AND t.exitdate <= ?`;
    const join = `JOIN students t ON t.student_number = s.k_student_number`;
    return [
      {
        sql: `INSERT INTO run_changes (run_id, table_name, action, key, changes)
       SELECT ?, 'students', 'inactivate', json_array(t.student_number), NULL
       FROM ${R} s ${join} WHERE ${exited} ORDER BY s.line`,
        args: [ctx.runId, ctx.today],
      },
      {
        sql: `UPDATE cc SET ${dropSchedules("x.exitdate")}, last_run_id = ?
       FROM (SELECT t.student_number, t.exitdate FROM ${R} s ${join} WHERE ${exited}) x
       WHERE cc.student_number = x.student_number AND cc.dropped = 0`,
        args: [ctx.runId, ctx.today],
      },
      {
        sql:
          `UPDATE students SET enroll_status = 2, last_run_id = ? WHERE student_number IN (SELECT s.k_student_number FROM ${R} s WHERE ${OK})
       AND enroll_status IN (-1, 0) AND exitdate IS NOT NULL AND exitdate <= ?`,
        args: [ctx.runId, ctx.today],
        counts: true,
      },
    ];
  },
  // Transferred out: Enroll_Status 2, ExitDate today unless earlier, schedules dropped.
  removalWords: {
    noun: ["student", "students"],
    effect:
      "transferred out (Enroll_Status 2, ExitDate today unless earlier) and their open schedules dropped (DateLeft today unless earlier)",
  },
  removal: (X, ctx) => [
    {
      sql: `UPDATE cc SET ${dropSchedules("?")}, last_run_id = ?
         WHERE dropped = 0 AND student_number IN (SELECT t.student_number FROM ${X} x CROSS JOIN students t ON t.id = x.id)`,
      args: [ctx.today, ctx.today, ctx.runId],
    },
    {
      sql:
        `UPDATE students SET enroll_status = 2, exitdate = CASE WHEN exitdate IS NULL OR exitdate > ? THEN ? ELSE exitdate END, last_run_id = ?
         WHERE id IN (SELECT id FROM ${X})`,
      args: [ctx.today, ctx.today, ctx.runId],
    },
  ],
  readout: {
    mode: "daily",
    from: "students t",
    lead: [],
    omit: [],
    status: [],
    school: "t.schoolid = ?",
    order: null,
  },
};
