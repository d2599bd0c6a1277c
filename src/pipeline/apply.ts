/**
 * The validate and apply stages, set-based over the staging tables (PERFORMANCE.md):
 * resolve each row's existing record, check references and creation rules with a
 * few statements per table, classify rows (insert, update, unchanged, skip),
 * write the change log, upsert, inactivate, and synchronize — all in the one write
 * transaction the orchestrator opened, so the run commits whole or not at all.
 */
import type { ImportTable } from "../sis/catalog.ts";
import type { SqlExecutor, SqlRow, SqlValue } from "./executor.ts";
import type { ImportPlan, PlanField } from "./plan.ts";
import type { StageNames } from "./stage.ts";

/** The counts a run reports. */
export interface RunCounts {
  read: number;
  inserted: number;
  updated: number;
  unchanged: number;
  skipped: number;
  rejected: number;
  removed: number;
  inactivated: number;
  blankLines: number;
  shortRows: number;
}

/** One entry of the change log. */
export interface Change {
  table: ImportTable;
  action: "insert" | "update" | "remove" | "inactivate" | "reactivate";
  key: string;
  changes: string | null;
}

/** Settings of the apply, from the record (or the CLI). */
export interface ApplyOptions {
  runId: number;
  today: string;
  updateExisting: boolean;
  synchronize: boolean;
  inactivateExited: boolean;
  removalLimitPercent: number;
  /** False when applying an approved held file: the limit was already waived by a person. */
  enforceRemovalLimit: boolean;
  /** Rows per chunk of the write statements; default 50,000. */
  chunkSize?: number;
  /** Called after each chunk written inside the transaction. */
  onProgress?: (event: { phase: string; rows: number }) => void;
}

/** What the apply did. */
export interface ApplyResult {
  counts: Omit<RunCounts, "read" | "blankLines" | "shortRows" | "rejected"> & {
    rejectedStaged: number;
  };
  /** Set when the removal limit holds the run: the keys that would be removed. */
  held: { removals: number; activeBefore: number } | null;
}

interface Ctx {
  exec: SqlExecutor;
  plan: ImportPlan;
  names: StageNames;
  options: ApplyOptions;
}

/** A target table key column and the staging expression that matches it. */
interface KeyColumn {
  column: string;
  name: string | null;
  expr: string;
}

const TARGET: Record<ImportTable, string> = {
  students: "students",
  teachers: "teachers",
  courses: "courses",
  sections: "sections",
  schedules: "cc",
  attendance: "attendance",
};

function lit(v: string | number): string {
  return typeof v === "number" ? String(v) : `'${v.replace(/'/g, "''")}'`;
}

function keyColumns(plan: ImportPlan): KeyColumn[] {
  const keys: KeyColumn[] = plan.keys.map((k) => ({
    column: k.field.column,
    name: k.field.name,
    expr: `s.${k.stageColumn}`,
  }));
  if (plan.table === "attendance") {
    keys.unshift({ column: "mode", name: null, expr: lit(plan.mode) });
    if (plan.mode === "daily") {
      keys.push({ column: "course_number", name: null, expr: "''" });
      keys.push({ column: "section_number", name: null, expr: "''" });
    }
  }
  return keys;
}

const provided = (pf: PlanField) => `substr(s.mask, ${pf.maskPosition + 1}, 1) = '1'`;

function findValue(plan: ImportPlan, name: string): PlanField | undefined {
  return plan.values.find((v) => v.field.name === name);
}

/** `provided ? new : fallback` for a value field, or the fallback when it is not mapped. */
function valueOr(plan: ImportPlan, name: string, fallback: string): string {
  const pf = findValue(plan, name);
  return pf ? `CASE WHEN ${provided(pf)} THEN s.${pf.stageColumn} ELSE ${fallback} END` : fallback;
}

/** The new value a field writes (attendance code fields write the resolved code). */
function newValue(plan: ImportPlan, pf: PlanField): string {
  if (plan.table === "attendance" && pf.field.name === "Attendance_CodeID") return "s.ref_id";
  if (plan.table === "attendance" && pf.field.name === "Att_Code") return "s.ref_text";
  return `s.${pf.stageColumn}`;
}

/** Value fields written to the target table, with the attendance code pair kept together. */
function writtenValues(
  plan: ImportPlan,
): { column: string; provided: string; value: string; name: string }[] {
  const out = plan.values.map((pf) => ({
    column: pf.field.column,
    provided: provided(pf),
    value: newValue(plan, pf),
    name: pf.field.name,
  }));
  if (plan.table === "attendance") {
    const codeFields = plan.values.filter((v) =>
      v.field.name === "Attendance_CodeID" || v.field.name === "Att_Code"
    );
    if (codeFields.length > 0) {
      const anyCode = `(${codeFields.map(provided).join(" OR ")})`;
      const rest = out.filter((o) => o.column !== "attendance_codeid" && o.column !== "att_code");
      return [
        ...rest,
        {
          column: "attendance_codeid",
          provided: anyCode,
          value: "s.ref_id",
          name: "Attendance_CodeID",
        },
        { column: "att_code", provided: anyCode, value: "s.ref_text", name: "Att_Code" },
      ];
    }
  }
  return out;
}

function keyJson(plan: ImportPlan): string {
  return `json_object(${
    keyColumns(plan).filter((k) => k.name !== null).map((k) => `${lit(k.name!)}, ${k.expr}`).join(
      ", ",
    )
  })`;
}

/** Key JSON read from a target row aliased `t` (for removals). */
function targetKeyJson(plan: ImportPlan): string {
  const pairs = keyColumns(plan).filter((k) => k.name !== null).map((k) =>
    `${lit(k.name!)}, t.${k.column}`
  );
  return `json_object(${pairs.join(", ")})`;
}

async function reject(
  ctx: Ctx,
  where: string,
  field: string,
  code: string,
  message: string,
  args: SqlValue[] = [],
): Promise<void> {
  const { names } = ctx;
  await ctx.exec.run(
    `INSERT INTO ${names.errors} (line, field, code, message)
     SELECT s.line, ${lit(field)}, ${lit(code)}, coalesce(${message}, ${lit(`${field}: ${code}`)})
     FROM ${names.rows} s WHERE ${where}`,
    args,
  );
}

async function markRejected(ctx: Ctx): Promise<void> {
  const { names } = ctx;
  await ctx.exec.run(
    `UPDATE ${names.rows} SET rej = 1 WHERE rej = 0 AND line IN (SELECT line FROM ${names.errors})`,
  );
}

/** Resolves each staged row's existing record into `tid`. */
async function resolveTargets(ctx: Ctx): Promise<void> {
  const { plan, names } = ctx;
  const keys = keyColumns(plan);
  await ctx.exec.run(
    `UPDATE ${names.rows} AS s SET tid = (SELECT t.id FROM ${TARGET[plan.table]} t WHERE ${
      keys.map((k) => `t.${k.column} = ${k.expr}`).join(" AND ")
    })`,
  );
  const bare = names.rows.replace(/^temp\./, "");
  await ctx.exec.exec(
    `CREATE INDEX ${ctx.exec.embedded ? "temp." : ""}${bare}_tid ON ${bare} (tid)`,
  );
}

async function checkDuplicates(ctx: Ctx): Promise<void> {
  const { plan, names } = ctx;
  const same = plan.keys.map((k) => `o.${k.stageColumn} = s.${k.stageColumn}`).join(" AND ");
  const keyText = plan.keys.map((k) => `'${k.field.name} ' || s.${k.stageColumn}`).join(
    " || ', ' || ",
  );
  await reject(
    ctx,
    `EXISTS (SELECT 1 FROM ${names.rows} o WHERE ${same} AND o.line <> s.line)`,
    plan.keys[0]!.field.name,
    "duplicate_key",
    `'The same match key (' || ${keyText} || ') is on lines ' || (SELECT group_concat(o.line, ', ') FROM ${names.rows} o WHERE ${same}) || '; both rows are rejected'`,
  );
}

/** Fields needed to create a record: a row error for each one missing on a new row. */
async function checkRequired(ctx: Ctx): Promise<void> {
  const { plan } = ctx;
  const label = plan.catalog.label.toLowerCase().replace(/s$/, "");
  for (const f of plan.catalog.fields) {
    if (!f.requiredToCreate || f.key) continue;
    const pf = findValue(plan, f.name);
    const missing = pf ? `NOT (${provided(pf)} AND s.${pf.stageColumn} IS NOT NULL)` : "1";
    const noErrorYet =
      `NOT EXISTS (SELECT 1 FROM ${ctx.names.errors} e WHERE e.line = s.line AND e.field = ${
        lit(f.name)
      })`;
    await reject(
      ctx,
      `s.tid IS NULL AND ${missing} AND ${noErrorYet}`,
      f.name,
      "missing_required",
      lit(`${f.name}: required to create a new ${label}`),
    );
    if (pf && ctx.options.updateExisting && !plan.ignoreBlankCells) {
      await reject(
        ctx,
        `s.tid IS NOT NULL AND ${provided(pf)} AND s.${pf.stageColumn} IS NULL`,
        f.name,
        "required_blank",
        lit(`${f.name}: a required field cannot be cleared`),
      );
    }
  }
  if (plan.table === "students" && plan.districtOffice && !findValue(plan, "SchoolID")) {
    await reject(
      ctx,
      "s.tid IS NULL",
      "SchoolID",
      "missing_required",
      lit("SchoolID: required to create a student in District Office context"),
    );
  }
  if (plan.table === "attendance") {
    const codes = plan.values.filter((v) =>
      v.field.name === "Attendance_CodeID" || v.field.name === "Att_Code"
    );
    const none = codes.length === 0
      ? "1"
      : `NOT (${
        codes.map((c) => `(${provided(c)} AND s.${c.stageColumn} IS NOT NULL)`).join(" OR ")
      })`;
    await reject(
      ctx,
      `s.tid IS NULL AND ${none}`,
      "Attendance_CodeID",
      "missing_required",
      lit("Attendance_CodeID or Att_Code: required to record attendance"),
    );
  }
}

/** Per-table references and rules that need the database. */
async function checkTable(ctx: Ctx): Promise<void> {
  const { plan, names } = ctx;
  const R = names.rows;
  switch (plan.table) {
    case "students": {
      const schoolV = findValue(plan, "SchoolID");
      if (schoolV) {
        await reject(
          ctx,
          `${
            provided(schoolV)
          } AND s.v_schoolid IS NOT NULL AND NOT EXISTS (SELECT 1 FROM schools x WHERE x.school_number = s.v_schoolid)`,
          "SchoolID",
          "missing_reference",
          `'SchoolID: there is no school ' || s.v_schoolid`,
        );
      }
      const effSchool = valueOr(
        plan,
        "SchoolID",
        "(SELECT t.schoolid FROM students t WHERE t.id = s.tid)",
      );
      if (!plan.districtOffice) {
        await reject(
          ctx,
          `s.tid IS NOT NULL AND EXISTS (SELECT 1 FROM students t WHERE t.id = s.tid AND t.enroll_status = 0 AND t.schoolid <> ${effSchool})`,
          "SchoolID",
          "enrolled_elsewhere",
          `'Student_Number ' || s.k_student_number || ' is active at school ' || (SELECT t.schoolid FROM students t WHERE t.id = s.tid) || '; only the District Office may move a student'`,
        );
      }
      // Default exit date: the day after the last day of the longest term of the
      // school that contains the entry date.
      const entry = valueOr(
        plan,
        "EntryDate",
        "(SELECT t.entrydate FROM students t WHERE t.id = s.tid)",
      );
      await ctx.exec.run(
        `UPDATE ${R} AS s SET def = (SELECT date(tm.last_day, '+1 day') FROM terms tm
           WHERE tm.school_number = ${effSchool} AND tm.first_day <= ${entry} AND tm.last_day >= ${entry}
           ORDER BY julianday(tm.last_day) - julianday(tm.first_day) DESC, tm.term_id LIMIT 1)
         WHERE s.rej = 0`,
      );
      const exitV = findValue(plan, "ExitDate");
      const exitGiven = exitV ? `(${provided(exitV)} AND s.v_exitdate IS NOT NULL)` : "0";
      await reject(
        ctx,
        `s.rej = 0 AND s.tid IS NULL AND NOT ${exitGiven} AND s.def IS NULL AND ${entry} IS NOT NULL AND ${effSchool} IS NOT NULL`,
        "EntryDate",
        "no_term",
        `'EntryDate: no term of school ' || ${effSchool} || ' contains this date, so ExitDate cannot default; add the term or give ExitDate'`,
      );
      const exitEff = valueOr(
        plan,
        "ExitDate",
        "(SELECT t.exitdate FROM students t WHERE t.id = s.tid)",
      );
      if (exitV || findValue(plan, "EntryDate")) {
        await reject(
          ctx,
          `s.rej = 0 AND ${entry} IS NOT NULL AND ${exitEff} IS NOT NULL AND ${exitEff} <= ${entry}`,
          exitV ? "ExitDate" : "EntryDate",
          "bad_date",
          lit("ExitDate must be after EntryDate (exit dates are exclusive)"),
        );
      }
      break;
    }
    case "sections": {
      await reject(
        ctx,
        `NOT EXISTS (SELECT 1 FROM terms tm WHERE tm.school_number = s.k_schoolid AND tm.term_id = s.k_termid)`,
        "TermID",
        "missing_reference",
        `'TermID: school ' || s.k_schoolid || ' has no term ' || s.k_termid`,
      );
      await reject(
        ctx,
        `NOT EXISTS (SELECT 1 FROM courses c WHERE c.course_number = s.k_course_number)`,
        "Course_Number",
        "missing_reference",
        `'Course_Number: there is no course ' || s.k_course_number`,
      );
      const teacher = findValue(plan, "Teacher");
      if (teacher) {
        await reject(
          ctx,
          `${
            provided(teacher)
          } AND s.v_teacher_number IS NOT NULL AND NOT EXISTS (SELECT 1 FROM teachers x WHERE x.teachernumber = s.v_teacher_number AND x.schoolid = s.k_schoolid)`,
          "Teacher",
          "missing_reference",
          `'Teacher: there is no teacher ' || s.v_teacher_number || ' at school ' || s.k_schoolid`,
        );
      }
      break;
    }
    case "schedules": {
      await reject(
        ctx,
        `NOT EXISTS (SELECT 1 FROM students x WHERE x.student_number = s.k_student_number)`,
        "Student_Number",
        "missing_reference",
        `'Student_Number: there is no student ' || s.k_student_number`,
      );
      await ctx.exec.run(
        `UPDATE ${R} AS s SET ref_id = (SELECT x.id FROM sections x WHERE x.schoolid = s.k_schoolid AND x.termid = s.k_termid AND x.course_number = s.k_course_number AND x.section_number = s.k_section_number),
           def = (SELECT date(tm.last_day, '+1 day') FROM terms tm WHERE tm.school_number = s.k_schoolid AND tm.term_id = s.k_termid)`,
      );
      await reject(
        ctx,
        `s.ref_id IS NULL`,
        "Section_Number",
        "missing_reference",
        `'Section_Number: there is no section ' || s.k_course_number || '.' || s.k_section_number || ' in term ' || s.k_termid || ' at school ' || s.k_schoolid`,
      );
      const enrolled = valueOr(
        plan,
        "DateEnrolled",
        "(SELECT t.dateenrolled FROM cc t WHERE t.id = s.tid)",
      );
      const left = valueOr(
        plan,
        "DateLeft",
        "coalesce((SELECT t.dateleft FROM cc t WHERE t.id = s.tid), s.def)",
      );
      await reject(
        ctx,
        `s.rej = 0 AND ${enrolled} IS NOT NULL AND ${left} IS NOT NULL AND ${left} <= ${enrolled}`,
        findValue(plan, "DateLeft") ? "DateLeft" : "DateEnrolled",
        "bad_date",
        lit("DateLeft must be after DateEnrolled (DateLeft is the day after the last day)"),
      );
      break;
    }
    case "attendance": {
      await reject(
        ctx,
        `NOT EXISTS (SELECT 1 FROM students x WHERE x.student_number = s.k_student_number)`,
        "Student_Number",
        "missing_reference",
        `'Student_Number: there is no student ' || s.k_student_number`,
      );
      const id = findValue(plan, "Attendance_CodeID");
      const text = findValue(plan, "Att_Code");
      const byId = id ? `CASE WHEN ${provided(id)} THEN s.v_attendance_codeid END` : "NULL";
      const byText = text
        ? `CASE WHEN ${
          provided(text)
        } AND s.v_att_code IS NOT NULL THEN (SELECT c.id FROM attendance_codes c WHERE c.school_number = s.k_schoolid AND upper(c.code) = upper(s.v_att_code)) END`
        : "NULL";
      await ctx.exec.run(`UPDATE ${R} AS s SET ref_id = coalesce(${byId}, ${byText})`);
      if (id) {
        await reject(
          ctx,
          `${
            provided(id)
          } AND s.v_attendance_codeid IS NOT NULL AND NOT EXISTS (SELECT 1 FROM attendance_codes c WHERE c.school_number = s.k_schoolid AND c.id = s.v_attendance_codeid)`,
          "Attendance_CodeID",
          "missing_reference",
          `'Attendance_CodeID: school ' || s.k_schoolid || ' has no attendance code ' || s.v_attendance_codeid`,
        );
      }
      if (text) {
        await reject(
          ctx,
          `${
            provided(text)
          } AND s.v_att_code IS NOT NULL AND NOT EXISTS (SELECT 1 FROM attendance_codes c WHERE c.school_number = s.k_schoolid AND upper(c.code) = upper(s.v_att_code))`,
          "Att_Code",
          "missing_reference",
          `'Att_Code: school ' || s.k_schoolid || ' has no attendance code ' || s.v_att_code`,
        );
      }
      if (id && text) {
        await reject(
          ctx,
          `${provided(id)} AND ${
            provided(text)
          } AND s.v_attendance_codeid IS NOT NULL AND s.v_att_code IS NOT NULL AND NOT EXISTS (SELECT 1 FROM attendance_codes c WHERE c.school_number = s.k_schoolid AND c.id = s.v_attendance_codeid AND upper(c.code) = upper(s.v_att_code))`,
          "Att_Code",
          "code_mismatch",
          lit("Attendance_CodeID and Att_Code name different codes"),
        );
      }
      await ctx.exec.run(
        `UPDATE ${R} AS s SET ref_text = (SELECT c.code FROM attendance_codes c WHERE c.school_number = s.k_schoolid AND c.id = s.ref_id)`,
      );
      if (plan.mode === "meeting") {
        // The section met: the one of this course and number whose term holds the date.
        await ctx.exec.run(
          `UPDATE ${R} AS s SET sec_id = (SELECT x.id FROM sections x JOIN terms tm ON tm.school_number = x.schoolid AND tm.term_id = x.termid
             WHERE x.schoolid = s.k_schoolid AND x.course_number = s.k_course_number AND x.section_number = s.k_section_number
               AND tm.first_day <= s.k_att_date AND tm.last_day >= s.k_att_date
             ORDER BY julianday(tm.last_day) - julianday(tm.first_day) LIMIT 1)`,
        );
        await reject(
          ctx,
          `s.sec_id IS NULL`,
          "Section_Number",
          "missing_reference",
          `'Section_Number: there is no section ' || s.k_course_number || '.' || s.k_section_number || ' at school ' || s.k_schoolid || ' in a term holding ' || s.k_att_date`,
        );
        await reject(
          ctx,
          `s.sec_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM cc e WHERE e.section_id = s.sec_id AND e.student_number = s.k_student_number AND e.dateenrolled <= s.k_att_date AND (e.dateleft IS NULL OR e.dateleft > s.k_att_date))`,
          "Section_Number",
          "not_enrolled",
          `'Student_Number ' || s.k_student_number || ' is not enrolled in ' || s.k_course_number || '.' || s.k_section_number || ' on ' || s.k_att_date`,
        );
        const period = findValue(plan, "Period");
        if (period) {
          await reject(
            ctx,
            `s.sec_id IS NOT NULL AND ${
              provided(period)
            } AND s.v_period IS NOT NULL AND NOT EXISTS (SELECT 1 FROM section_meetings m WHERE m.section_id = s.sec_id AND upper(m.period) = upper(s.v_period))`,
            "Period",
            "bad_period",
            `'Period: ' || s.v_period || ' is not a period of section ' || s.k_course_number || '.' || s.k_section_number`,
          );
        }
      }
      break;
    }
    default:
      break;
  }
}

/** Sets `act` (insert, update, unchanged, skip) and `react`, and writes insert/update log entries. */
async function classify(ctx: Ctx): Promise<void> {
  const { plan, names, options } = ctx;
  const R = names.rows;
  const T = TARGET[plan.table];
  await ctx.exec.run(`UPDATE ${R} SET act = 'insert' WHERE rej = 0 AND tid IS NULL`);
  await ctx.exec.run(`UPDATE ${R} SET act = 'skip' WHERE rej = 0 AND tid IS NOT NULL`);
  if (options.updateExisting) {
    const written = writtenValues(plan);
    const diffs = [
      ...written.map((w) =>
        `${
          lit(w.name)
        }, CASE WHEN ${w.provided} AND t.${w.column} IS NOT ${w.value} THEN json_array(t.${w.column}, ${w.value}) END`
      ),
      ...plan.extensions.map((x) => {
        const old = `(SELECT v.value FROM extension_values v WHERE v.extension_table = ${
          lit(x.field.extension!.table)
        } AND v.field = ${lit(x.field.extension!.field)} AND v.record_id = t.id)`;
        return `${lit(x.field.name)}, CASE WHEN ${
          provided(x)
        } AND ${old} IS NOT s.${x.stageColumn} THEN json_array(${old}, s.${x.stageColumn}) END`;
      }),
    ];
    if (diffs.length > 0) {
      await ctx.exec.run(
        `UPDATE ${R} AS u SET act = 'update', diff = d.diff FROM (
           SELECT s.line AS line, (SELECT json_group_object(j.key, json(j.value)) FROM json_each(json_object(${
          diffs.join(", ")
        })) j WHERE j.type <> 'null') AS diff
           FROM ${R} s JOIN ${T} t ON t.id = s.tid WHERE s.act = 'skip'
         ) d WHERE u.line = d.line AND d.diff <> '{}'`,
      );
    }
    await ctx.exec.run(`UPDATE ${R} SET act = 'unchanged' WHERE act = 'skip'`);
  }
  // A record the file lists comes back to active, whatever Update existing says.
  const inactive: Record<ImportTable, string | null> = {
    students: findValue(plan, "Enroll_Status") ? null : "t.enroll_status = 2",
    teachers: findValue(plan, "Status") ? null : "t.status = 2",
    courses:
      `NOT EXISTS (SELECT 1 FROM school_courses o WHERE o.schoolid = ${plan.schoolId} AND o.course_number = t.course_number AND o.offered = 1)`,
    sections: "t.inactive = 1",
    schedules: `t.dropped = 1 AND coalesce(${
      valueOr(plan, "DateLeft", "t.dateleft")
    }, '9999-12-31') > ${lit(options.today)}`,
    attendance: null,
  };
  const cond = inactive[plan.table];
  if (cond) {
    await ctx.exec.run(
      `UPDATE ${R} AS s SET react = 1, act = CASE WHEN s.act = 'update' THEN 'update' ELSE 'react' END
       FROM ${T} t WHERE t.id = s.tid AND s.rej = 0 AND s.act IN ('skip', 'unchanged', 'update') AND ${cond}`,
    );
  }
}

async function writeChangeLog(ctx: Ctx): Promise<void> {
  const { plan, names, options } = ctx;
  const R = names.rows;
  await ctx.exec.run(
    `INSERT INTO run_changes (run_id, table_name, action, key, changes)
     SELECT ?, ?, 'insert', ${
      keyJson(plan)
    }, NULL FROM ${R} s WHERE s.act = 'insert' ORDER BY s.line`,
    [options.runId, plan.table],
  );
  await ctx.exec.run(
    `INSERT INTO run_changes (run_id, table_name, action, key, changes)
     SELECT ?, ?, CASE WHEN s.react = 1 AND s.act <> 'update' THEN 'reactivate' ELSE 'update' END, ${
      keyJson(plan)
    },
       CASE WHEN s.act = 'update' THEN s.diff END
     FROM ${R} s WHERE s.act IN ('update', 'react') ORDER BY s.line`,
    [options.runId, plan.table],
  );
}

async function chunks(
  ctx: Ctx,
  phase: string,
  where: string,
  write: (from: number, to: number) => Promise<void>,
) {
  const size = ctx.options.chunkSize ?? 50_000;
  const rows = await ctx.exec.all(
    `SELECT s.line FROM ${ctx.names.rows} s WHERE ${where} ORDER BY s.line`,
  );
  for (let i = 0; i < rows.length; i += size) {
    const from = Number(rows[i]!["line"]);
    const to = Number(rows[Math.min(i + size, rows.length) - 1]!["line"]);
    await write(from, to);
    ctx.options.onProgress?.({ phase, rows: Math.min(i + size, rows.length) });
  }
}

async function upsert(ctx: Ctx): Promise<void> {
  const { plan, names, options } = ctx;
  const R = names.rows;
  const T = TARGET[plan.table];
  const keys = keyColumns(plan);
  const written = writtenValues(plan).filter((w) => !keys.some((k) => k.column === w.column));
  const run = options.runId;

  // Inserts: keys, provided values, table defaults.
  const insertColumns = new Map<string, string>();
  for (const k of keys) insertColumns.set(k.column, k.expr);
  for (const w of written) {
    insertColumns.set(w.column, `CASE WHEN ${w.provided} THEN ${w.value} END`);
  }
  switch (plan.table) {
    case "students":
      insertColumns.set("exitdate", `coalesce(${insertColumns.get("exitdate") ?? "NULL"}, s.def)`);
      insertColumns.set(
        "enroll_status",
        `coalesce(${insertColumns.get("enroll_status") ?? "NULL"}, 0)`,
      );
      break;
    case "teachers":
      insertColumns.set("status", `coalesce(${insertColumns.get("status") ?? "NULL"}, 1)`);
      break;
    case "sections":
      insertColumns.set("inactive", "0");
      break;
    case "schedules":
      insertColumns.set("dateleft", `coalesce(${insertColumns.get("dateleft") ?? "NULL"}, s.def)`);
      insertColumns.set("section_id", "s.ref_id");
      insertColumns.set("dropped", "0");
      break;
    default:
      break;
  }
  insertColumns.set("last_run_id", String(run));
  const cols = [...insertColumns.keys()];
  await chunks(ctx, "insert", "s.act = 'insert'", async (from, to) => {
    await ctx.exec.run(
      `INSERT INTO ${T} (${cols.join(", ")}) SELECT ${
        cols.map((c) => insertColumns.get(c)).join(", ")
      }
       FROM ${R} s WHERE s.act = 'insert' AND s.line BETWEEN ? AND ? ORDER BY s.line`,
      [from, to],
    );
  });
  if (await anyRow(ctx, "s.act = 'insert'")) {
    await ctx.exec.run(
      `UPDATE ${R} AS s SET tid = (SELECT t.id FROM ${T} t WHERE ${
        keys.map((k) => `t.${k.column} = ${k.expr}`).join(" AND ")
      })
       WHERE s.act = 'insert'`,
    );
  }

  // Students moving school: the old enrollment is closed and kept as history.
  if (plan.table === "students" && findValue(plan, "SchoolID")) {
    const sv = findValue(plan, "SchoolID")!;
    const entry = valueOr(plan, "EntryDate", lit(options.today));
    await ctx.exec.run(
      `INSERT INTO reenrollments (student_number, schoolid, grade_level, entrydate, exitdate, entrycode, exitcode, run_id)
       SELECT t.student_number, t.schoolid, t.grade_level, t.entrydate,
              CASE WHEN t.exitdate IS NULL OR t.exitdate > ${entry} THEN ${entry} ELSE t.exitdate END,
              t.entrycode, t.exitcode, ?
       FROM ${R} s JOIN students t ON t.id = s.tid
       WHERE s.act IN ('update', 'react') AND ${provided(sv)} AND s.v_schoolid <> t.schoolid`,
      [run],
    );
    await ctx.exec.run(
      `UPDATE cc SET dropped = 1, dateleft = CASE WHEN dateleft IS NULL OR dateleft > ? THEN ? ELSE dateleft END
       WHERE dropped = 0 AND id IN (SELECT e.id FROM ${R} s JOIN students t ON t.id = s.tid JOIN cc e ON e.student_number = t.student_number AND e.schoolid = t.schoolid
         WHERE s.act IN ('update', 'react') AND ${provided(sv)} AND s.v_schoolid <> t.schoolid)`,
      [options.today, options.today],
    );
  }

  // Updates: each provided field takes the file's value; reactivation restores status.
  const sets = written.map((w) =>
    `${w.column} = CASE WHEN ${w.provided} THEN ${w.value} ELSE ${T}.${w.column} END`
  );
  switch (plan.table) {
    case "students":
      sets.push(`enroll_status = CASE WHEN s.react = 1 THEN 0 ELSE ${T}.enroll_status END`);
      if (!findValue(plan, "ExitDate")) {
        // A returning student whose exit date has passed gets the default one again.
        sets.push(
          `exitdate = CASE WHEN s.react = 1 AND coalesce(${T}.exitdate, '0000') <= ${
            lit(options.today)
          } THEN coalesce(s.def, ${T}.exitdate) ELSE ${T}.exitdate END`,
        );
      }
      break;
    case "teachers":
      sets.push(`status = CASE WHEN s.react = 1 THEN 1 ELSE ${T}.status END`);
      break;
    case "sections":
      sets.push(`inactive = CASE WHEN s.react = 1 THEN 0 ELSE ${T}.inactive END`);
      break;
    case "schedules":
      sets.push(`dropped = CASE WHEN s.react = 1 THEN 0 ELSE ${T}.dropped END`);
      break;
    default:
      break;
  }
  sets.push(`last_run_id = ${run}`);
  await chunks(ctx, "update", "s.act IN ('update', 'react')", async (from, to) => {
    await ctx.exec.run(
      `UPDATE ${T} SET ${
        sets.join(", ")
      } FROM ${R} s WHERE s.tid = ${T}.id AND s.act IN ('update', 'react') AND s.line BETWEEN ? AND ?`,
      [from, to],
    );
  });

  // Extension fields.
  for (const x of plan.extensions) {
    const ext = x.field.extension!;
    await ctx.exec.run(
      `INSERT INTO extension_values (extension_table, field, record_id, value)
       SELECT ${lit(ext.table)}, ${lit(ext.field)}, s.tid, s.${x.stageColumn} FROM ${R} s
       WHERE s.act IN ('insert', 'update') AND ${provided(x)}
       ON CONFLICT (extension_table, field, record_id) DO UPDATE SET value = excluded.value`,
    );
  }

  // Table specifics after the rows are written.
  switch (plan.table) {
    case "courses":
      await ctx.exec.run(
        `INSERT INTO school_courses (schoolid, course_number, offered, last_run_id)
         SELECT ?, s.k_course_number, 1, ? FROM ${R} s WHERE s.rej = 0 AND s.act IS NOT NULL
         ON CONFLICT (schoolid, course_number) DO UPDATE SET offered = 1, last_run_id = excluded.last_run_id WHERE school_courses.offered = 0`,
        [plan.schoolId, run],
      );
      break;
    case "sections": {
      const ex = findValue(plan, "Expression");
      if (ex) {
        await ctx.exec.run(
          `DELETE FROM section_meetings WHERE section_id IN (SELECT s.tid FROM ${R} s WHERE s.act IN ('insert', 'update') AND ${
            provided(ex)
          })`,
        );
        await ctx.exec.run(
          `INSERT OR IGNORE INTO section_meetings (section_id, period, day)
           SELECT s.tid, json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]')
           FROM ${R} s, json_each(s.meetings) j WHERE s.act IN ('insert', 'update') AND ${
            provided(ex)
          } AND s.meetings IS NOT NULL`,
        );
      }
      break;
    }
    default:
      break;
  }
}

async function anyRow(ctx: Ctx, where: string): Promise<boolean> {
  const rows = await ctx.exec.all(`SELECT 1 AS x FROM ${ctx.names.rows} s WHERE ${where} LIMIT 1`);
  return rows.length > 0;
}

async function count(ctx: Ctx, sql: string, args: SqlValue[] = []): Promise<number> {
  const rows = await ctx.exec.all(sql, args);
  return Number(rows[0]?.["n"] ?? 0);
}

/** Marks exited students and ended schedule rows inactive; returns how many changed. */
async function inactivate(ctx: Ctx): Promise<number> {
  const { plan, names, options } = ctx;
  const R = names.rows;
  const run = options.runId;
  let n = 0;
  if (plan.table === "students" && options.inactivateExited) {
    await ctx.exec.run(
      `INSERT INTO run_changes (run_id, table_name, action, key, changes)
       SELECT ?, 'students', 'inactivate', json_object('Student_Number', t.student_number), NULL
       FROM ${R} s JOIN students t ON t.id = s.tid
       WHERE s.rej = 0 AND t.enroll_status IN (-1, 0) AND t.exitdate IS NOT NULL AND t.exitdate <= ?`,
      [run, options.today],
    );
    // Their open schedule rows are dropped as of the exit date.
    await ctx.exec.run(
      `UPDATE cc SET dropped = 1, dateleft = CASE WHEN dateleft IS NULL OR dateleft > x.exitdate THEN x.exitdate ELSE dateleft END, last_run_id = ?
       FROM (SELECT t.student_number, t.exitdate FROM ${R} s JOIN students t ON t.id = s.tid
             WHERE s.rej = 0 AND t.enroll_status IN (-1, 0) AND t.exitdate IS NOT NULL AND t.exitdate <= ?) x
       WHERE cc.student_number = x.student_number AND cc.dropped = 0`,
      [run, options.today],
    );
    n += await ctx.exec.run(
      `UPDATE students SET enroll_status = 2, last_run_id = ? WHERE id IN (SELECT s.tid FROM ${R} s WHERE s.rej = 0)
       AND enroll_status IN (-1, 0) AND exitdate IS NOT NULL AND exitdate <= ?`,
      [run, options.today],
    );
  }
  if (plan.table === "schedules") {
    await ctx.exec.run(
      `INSERT INTO run_changes (run_id, table_name, action, key, changes)
       SELECT ?, 'schedules', 'inactivate', ${keyJson(plan)}, NULL
       FROM ${R} s JOIN cc t ON t.id = s.tid WHERE s.act IN ('insert', 'update', 'react') AND t.dropped = 0 AND t.dateleft <= ?`,
      [run, options.today],
    );
    n += await ctx.exec.run(
      `UPDATE cc SET dropped = 1, last_run_id = ? WHERE id IN (SELECT s.tid FROM ${R} s WHERE s.act IN ('insert', 'update', 'react'))
       AND dropped = 0 AND dateleft <= ?`,
      [run, options.today],
    );
  }
  return n;
}

/** Active in-scope records of the table (SPEC.md §2), as a FROM … WHERE over alias `t`. */
function activeScope(ctx: Ctx): { from: string; where: string } {
  const { plan, names } = ctx;
  const R = names.rows;
  const school = plan.districtOffice ? "1" : `t.schoolid = ${plan.schoolId}`;
  switch (plan.table) {
    case "students":
      return { from: "students t", where: `t.enroll_status = 0 AND ${school}` };
    case "teachers":
      return { from: "teachers t", where: `t.status = 1 AND ${school}` };
    case "courses":
      return {
        from: "courses t JOIN school_courses o ON o.course_number = t.course_number",
        where: `o.offered = 1 AND o.schoolid = ${plan.schoolId}`,
      };
    case "sections":
      return {
        from: "sections t",
        where: `t.inactive = 0 AND ${school} AND t.termid IN (SELECT DISTINCT k_termid FROM ${R})`,
      };
    case "schedules":
      return {
        from: "cc t",
        where: `t.dropped = 0 AND ${school} AND t.termid IN (SELECT DISTINCT k_termid FROM ${R})`,
      };
    case "attendance":
      return {
        from: "attendance t",
        where: `t.mode = ${
          lit(plan.mode)
        } AND ${school} AND t.att_date IN (SELECT DISTINCT k_att_date FROM ${R})`,
      };
  }
}

/** Counts in-scope active records before anything is written (the removal limit's base). */
async function countActive(ctx: Ctx): Promise<number> {
  const scope = activeScope(ctx);
  return await count(ctx, `SELECT count(*) AS n FROM ${scope.from} WHERE ${scope.where}`);
}

/** Finds the active in-scope records the file does not list. */
async function findRemovals(ctx: Ctx): Promise<number> {
  const { plan, names } = ctx;
  const scope = activeScope(ctx);
  await ctx.exec.run(
    `INSERT INTO ${names.removals} (id, key) SELECT t.id, ${targetKeyJson(plan)} FROM ${scope.from}
     WHERE ${scope.where} AND NOT EXISTS (SELECT 1 FROM ${names.rows} s WHERE s.tid = t.id)`,
  );
  return await count(ctx, `SELECT count(*) AS n FROM ${names.removals}`);
}

async function removeMissing(ctx: Ctx): Promise<number> {
  const { plan, names, options } = ctx;
  const X = names.removals;
  const run = options.runId;
  const today = options.today;
  await ctx.exec.run(
    `INSERT INTO run_changes (run_id, table_name, action, key, changes) SELECT ?, ?, 'remove', key, NULL FROM ${X} ORDER BY id`,
    [run, plan.table],
  );
  switch (plan.table) {
    case "students":
      await ctx.exec.run(
        `UPDATE cc SET dropped = 1, dateleft = CASE WHEN dateleft IS NULL OR dateleft > ? THEN ? ELSE dateleft END, last_run_id = ?
         WHERE dropped = 0 AND student_number IN (SELECT t.student_number FROM students t JOIN ${X} x ON x.id = t.id)`,
        [today, today, run],
      );
      return await ctx.exec.run(
        `UPDATE students SET enroll_status = 2, exitdate = CASE WHEN exitdate IS NULL OR exitdate > ? THEN ? ELSE exitdate END, last_run_id = ?
         WHERE id IN (SELECT id FROM ${X})`,
        [today, today, run],
      );
    case "teachers":
      return await ctx.exec.run(
        `UPDATE teachers SET status = 2, last_run_id = ? WHERE id IN (SELECT id FROM ${X})`,
        [run],
      );
    case "courses":
      return await ctx.exec.run(
        `UPDATE school_courses SET offered = 0, last_run_id = ? WHERE schoolid = ? AND offered = 1
         AND course_number IN (SELECT t.course_number FROM courses t JOIN ${X} x ON x.id = t.id)`,
        [run, plan.schoolId],
      );
    case "sections":
      await ctx.exec.run(
        `UPDATE cc SET dropped = 1, dateleft = CASE WHEN dateleft IS NULL OR dateleft > ? THEN ? ELSE dateleft END, last_run_id = ?
         WHERE dropped = 0 AND section_id IN (SELECT id FROM ${X})`,
        [today, today, run],
      );
      return await ctx.exec.run(
        `UPDATE sections SET inactive = 1, last_run_id = ? WHERE id IN (SELECT id FROM ${X})`,
        [run],
      );
    case "schedules":
      return await ctx.exec.run(
        `UPDATE cc SET dropped = 1, dateleft = CASE WHEN dateleft IS NULL OR dateleft > ? THEN ? ELSE dateleft END, last_run_id = ?
         WHERE id IN (SELECT id FROM ${X})`,
        [today, today, run],
      );
    case "attendance":
      return await ctx.exec.run(`DELETE FROM attendance WHERE id IN (SELECT id FROM ${X})`);
  }
}

/**
 * Validates and applies the staged rows inside the open transaction. With the
 * removal limit reached it stops before writing anything and reports `held`; the
 * caller rolls back.
 */
export async function applyStaged(
  exec: SqlExecutor,
  plan: ImportPlan,
  names: StageNames,
  options: ApplyOptions,
): Promise<ApplyResult> {
  const ctx: Ctx = { exec, plan, names, options };
  await resolveTargets(ctx);
  await checkDuplicates(ctx);
  await checkRequired(ctx);
  await checkTable(ctx);
  await markRejected(ctx);
  await classify(ctx);

  const staged = await count(ctx, `SELECT count(*) AS n FROM ${names.rows}`);
  const activeBefore = options.synchronize && staged > 0 ? await countActive(ctx) : 0;
  const tally = async (act: string) =>
    await count(ctx, `SELECT count(*) AS n FROM ${names.rows} WHERE act = ?`, [act]);
  const counts = {
    inserted: await tally("insert"),
    updated: (await tally("update")) + (await tally("react")),
    unchanged: await tally("unchanged"),
    skipped: await tally("skip"),
    rejectedStaged: await count(ctx, `SELECT count(*) AS n FROM ${names.rows} WHERE rej = 1`),
    removed: 0,
    inactivated: 0,
  };

  if (options.synchronize && staged > 0) {
    // Rows resolved so far name the records present in the file, rejected rows included.
    const removals = await findRemovals(ctx);
    if (
      options.enforceRemovalLimit && removals >= 5 &&
      removals * 100 > options.removalLimitPercent * activeBefore
    ) {
      return { counts, held: { removals, activeBefore } };
    }
  }
  await writeChangeLog(ctx);
  await upsert(ctx);
  counts.inactivated = await inactivate(ctx);
  if (options.synchronize && staged > 0) {
    // Newly inserted rows now have ids; none of them can be in the removal set.
    counts.removed = await removeMissing(ctx);
  }
  return { counts, held: null };
}

/** Keys that a held run would remove, for its report. */
export async function heldRemovals(exec: SqlExecutor, names: StageNames): Promise<SqlRow[]> {
  return await exec.all(`SELECT key FROM ${names.removals} ORDER BY id`);
}
