/**
 * The validate and apply stages, set-based over the staging tables (set-based SQL measured fastest: docs/performance.md).
 *
 * The map stage has already converted every row, checked its references and noted
 * the rules that depend on whether the record exists (`lookups.ts`). Here, inside
 * the one write transaction the orchestrator opened:
 *
 * - {@linkcode validateStaged} resolves each row's existing record (unless staging
 *   already did), finds duplicate keys with one GROUP BY over the staged key index,
 *   turns the conditional errors into errors, reads each existing record once — the
 *   rules that need its values, and whether the row changes it or brings it back,
 *   kept in a small flags table — builds the change JSON only for the rows that
 *   change something, and finds what Synchronize Mode would remove. It changes no
 *   SIS table, so everything it found is kept for a held run or a preview.
 * - {@linkcode writeStaged} inserts the new records (in line order, in chunks of
 *   lines, each chunk's change log entries right after it), updates the changed
 *   ones, writes the table's specifics, inactivations and removals.
 *
 * A staged row's outcome is not stored per row: it follows from `rej` (rejected),
 * `tid` (the existing record, NULL for a new one), `diff` (the fields it changes,
 * set only on rows that change something) and `react` (it brings an inactive
 * record back). So only the rows that need it are ever rewritten, and the counts
 * come from the small tables (errors, flags) and the inserts.
 */
import { ROW_ERROR_CODES, type RowErrorCode, sqlCode } from "../problems.ts";
import type { ImportTable } from "../sis/catalog.ts";
import { tableRules } from "../sis/tables/registry.ts";
import {
  NEW,
  OK,
  type SqlContext,
  type Statement,
  type TableRules,
  WRITES,
} from "../sis/tables/rules.ts";
import type { SqlExecutor, SqlRow, SqlValue } from "./executor.ts";
import { ORD, ordOf } from "./lookups.ts";
import type { ImportPlan, PlanField } from "./plan.ts";
import { type DuplicateSource, keyColumns, lit, type StageNames, targetIdOf } from "./stage.ts";

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
  /** True when staging already looked up each row's existing record (`tid`). */
  targetsResolved: boolean;
  /**
   * True when staging wrote each row's existing record (`tid`) as it was then, but
   * something may have changed since (a remote server; the embedded file written by
   * another connection meanwhile): the apply corrects the rows whose record is no
   * longer that one, instead of looking every row's record up again.
   */
  targetsStaged?: boolean;
  /**
   * True when no row has an existing record: the table was empty when the rows were
   * staged and nothing has changed since (a first import). The reads of existing
   * records are then skipped.
   */
  noneExisting?: boolean;
  /** Where repeated keys can be (`indexStage`): every staged row, the candidates, or none. */
  duplicates: DuplicateSource;
  /** Rows staged. */
  staged: number;
  /**
   * The distinct terms (sections, schedules) or dates (attendance) of the staged rows:
   * the scope of Synchronize Mode.
   */
  scope: readonly (string | number)[];
  /** Rows per chunk of the write statements; default 50,000. */
  chunkSize?: number;
  /** Called after each chunk written inside the transaction. */
  onProgress?: (event: { phase: string; rows: number }) => void;
}

/** What the validation found. */
export interface Validation {
  counts: Omit<RunCounts, "read" | "blankLines" | "shortRows" | "rejected"> & {
    rejectedStaged: number;
  };
  /** Rows staged. */
  staged: number;
  /** Set when the removal limit holds the run: nothing may be written. */
  held: { removals: number; activeBefore: number } | null;
}

interface Ctx {
  exec: SqlExecutor;
  plan: ImportPlan;
  names: StageNames;
  options: ApplyOptions;
  /** The table's rules, resolved once per stage. */
  rules: TableRules;
  /** What the rules' SQL needs of the run. */
  sql: SqlContext;
}

/** The stage's context: the table's rules and the run as their SQL needs it. */
function context(
  exec: SqlExecutor,
  plan: ImportPlan,
  names: StageNames,
  options: ApplyOptions,
): Ctx {
  const sql: SqlContext = {
    schoolId: plan.schoolId,
    districtOffice: plan.districtOffice,
    mode: plan.mode,
    today: options.today,
    runId: options.runId,
    inactivateExited: options.inactivateExited,
    scope: options.scope,
    rows: names.rows,
    flags: names.flags,
    marks: names.marks,
    mapped: (name) => findValue(plan, name) !== undefined,
    provided: (name) => provided(findValue(plan, name)!),
    given: (name) => given(plan, name),
    valueOr: (name, fallback) => valueOr(plan, name, fallback),
    staged: (name) => `s.${findValue(plan, name)!.stageColumn}`,
    writing: (join) => writing(names, join === undefined ? {} : { join }),
    keyJson: () => keyJson(plan),
  };
  return { exec, plan, names, options, rules: tableRules(plan.table), sql };
}

/** Runs a table's statements; returns the changed rows of those marked `counts`. */
async function runAll(ctx: Ctx, statements: readonly Statement[]): Promise<number> {
  let n = 0;
  for (const st of statements) {
    const changed = await ctx.exec.run(st.sql, st.args ? [...st.args] : []);
    if (st.counts) n += changed;
  }
  return n;
}

/**
 * The staged rows `s` of existing records that the row updates or brings back,
 * reached through the flags table (every such row has flags) rather than a scan of
 * every staged row; `range` limits them to a range of lines. (An IN list, not a
 * join: the planner then drives every statement, UPDATE … FROM included, from the
 * flags.)
 */
function writing(names: StageNames, options: { range?: boolean; join?: string } = {}): string {
  return `${names.rows} s ${options.join ?? ""}
    WHERE s.line IN (SELECT line FROM ${names.flags} WHERE (chg = 1 OR react = 1)${
    options.range ? " AND line BETWEEN ? AND ?" : ""
  }) AND ${WRITES}`;
}

const provided = (pf: PlanField) => `substr(s.mask, ${pf.maskPosition + 1}, 1) = '1'`;

function findValue(plan: ImportPlan, name: string): PlanField | undefined {
  return plan.values.find((v) => v.field.name === name);
}

/** SQL that is true when the row gave the value field (false when it is not mapped). */
function given(plan: ImportPlan, name: string): string {
  const pf = findValue(plan, name);
  return pf ? provided(pf) : "0";
}

/** `provided ? new : fallback` for a value field, or the fallback when it is not mapped. */
function valueOr(plan: ImportPlan, name: string, fallback: string): string {
  const pf = findValue(plan, name);
  return pf ? `CASE WHEN ${provided(pf)} THEN s.${pf.stageColumn} ELSE ${fallback} END` : fallback;
}

/** The new value a field writes (fields the map stage resolves write the resolved value). */
function newValue(rules: TableRules, pf: PlanField): string {
  const resolved = rules.resolvedWrites?.find((r) => r.name === pf.field.name);
  return resolved ? resolved.value : `s.${pf.stageColumn}`;
}

/** Value fields written to the target table, with the resolved ones kept together. */
function writtenValues(
  plan: ImportPlan,
  rules: TableRules,
): { column: string; provided: string; value: string; name: string; own?: boolean }[] {
  const out = plan.values.map((pf) => {
    const value = newValue(rules, pf);
    // The field's own staged column is NULL whenever the row does not give it (plan.ts).
    return {
      column: pf.field.column,
      provided: provided(pf),
      value,
      name: pf.field.name,
      own: value === `s.${pf.stageColumn}`,
    };
  });
  const together = rules.resolvedWrites;
  if (together) {
    const resolvedFields = plan.values.filter((v) => together.some((r) => r.name === v.field.name));
    if (resolvedFields.length > 0) {
      const any = `(${resolvedFields.map(provided).join(" OR ")})`;
      const rest = out.filter((o) => !together.some((r) => r.column === o.column));
      return [
        ...rest,
        ...together.map((r) => ({ column: r.column, provided: any, value: r.value, name: r.name })),
      ];
    }
  }
  return out;
}

/**
 * The match key of the staged row `alias` as the change log stores it: its values
 * as a JSON array in the order of the table's catalog key (`runChangeLog` names
 * them; an array is a third of the size of an object with the names, and a change
 * log has a million of them).
 */
function keyJson(plan: ImportPlan, alias = "s"): string {
  return `json_array(${
    keyColumns(plan, alias).filter((k) => k.name !== null).map((k) => k.expr).join(", ")
  })`;
}

/** Key JSON read from a target row aliased `t` (for removals). */
function targetKeyJson(plan: ImportPlan): string {
  return `json_array(${
    keyColumns(plan).filter((k) => k.name !== null).map((k) => `t.${k.column}`).join(", ")
  })`;
}

/**
 * Writes a row error for every staged row `s` matching `where` (optionally joined).
 * `message` is SQL; where it comes out NULL the code's default message stands in.
 */
async function reject(
  ctx: Ctx,
  where: string,
  field: string,
  code: RowErrorCode,
  message: string,
  ord: number,
  join = "",
): Promise<void> {
  const { names } = ctx;
  await ctx.exec.run(
    `INSERT INTO ${names.errors} (line, field, code, message, ord)
     SELECT s.line, ${lit(field)}, ${sqlCode(code)}, coalesce(${message}, ${
      lit(`${field}: ${ROW_ERROR_CODES[code].message}`)
    }), ${ord}
     FROM ${names.rows} s ${join} WHERE ${where} ORDER BY s.line`,
  );
}

/**
 * On a remote server: true when the target table is empty (a first import), so that
 * no row has an existing record and neither the lookup of each row's record nor the
 * read of existing records is needed — what the embedded path knows from staging
 * (`noneExisting`). Asked inside the apply's transaction, which holds the write lock:
 * nothing can be inserted before the writes. One request instead of a lookup per
 * staged row (0.5–2 s of a 200,000-row first import over sqld).
 */
async function remoteTargetEmpty(ctx: Ctx): Promise<boolean> {
  if (ctx.exec.embedded || ctx.options.targetsResolved || ctx.options.targetsStaged) return false;
  return await count(ctx, `SELECT NOT EXISTS (SELECT 1 FROM ${ctx.rules.target}) AS n`) === 1;
}

/**
 * Resolves each staged row's existing record into `tid`. When staging wrote them
 * (`targetsStaged`), only the rows whose record is no longer that one are written.
 * Inside the apply's transaction, which holds the write lock, so the records cannot
 * change before the writes.
 */
async function resolveTargets(ctx: Ctx): Promise<void> {
  const { plan, names } = ctx;
  const lookup = targetIdOf(plan);
  await ctx.exec.run(
    `UPDATE ${names.rows} AS s SET tid = ${lookup}${
      ctx.options.targetsStaged ? ` WHERE tid IS NOT ${lookup}` : ""
    }`,
  );
}

/**
 * Two rows with the same match key are both rejected. Every line of a repeated key
 * is among the candidates when the check looks there (`duplicates.ts`).
 */
async function checkDuplicates(ctx: Ctx): Promise<void> {
  const { plan, names, options } = ctx;
  if (options.duplicates === "none") return;
  const from = options.duplicates === "candidates" ? names.dupes : names.rows;
  const keys = plan.keys.map((k) => k.stageColumn);
  const keyText = plan.keys.map((k) => `'${k.field.name} ' || s.${k.stageColumn}`).join(
    " || ', ' || ",
  );
  const same = (a: string) => keys.map((k) => `${a}.${k} = s.${k}`).join(" AND ");
  // The keys found twice first (one scan of the key index), then the lines of each.
  await ctx.exec.run(
    `INSERT INTO ${names.errors} (line, field, code, message, ord)
     SELECT s.line, ${lit(plan.keys[0]!.field.name)}, ${sqlCode("duplicate_key")},
       'The same match key (' || ${keyText} || ') is on lines ' ||
         (SELECT group_concat(o.line, ', ') FROM ${from} o WHERE ${same("o")}) ||
         '; both rows are rejected', ${ORD.duplicate}
     FROM (SELECT ${keys.join(", ")} FROM ${from} GROUP BY ${keys.join(", ")} HAVING count(*) > 1) d
     JOIN ${from} s ON ${same("d")}
     ORDER BY s.line`,
  );
}

/** Errors that hold only for a new record, or only for an existing one. */
async function conditionalErrors(ctx: Ctx): Promise<void> {
  const { names } = ctx;
  await ctx.exec.run(
    `INSERT INTO ${names.errors} (line, field, code, message, ord)
     SELECT c.line, c.field, c.code, c.message, c.ord FROM ${names.conditional} c
     JOIN ${names.rows} s ON s.line = c.line
     WHERE CASE c.w WHEN 0 THEN s.tid IS NULL ELSE s.tid IS NOT NULL END ORDER BY c.rowid`,
  );
}

/** Whether the target record `t` is inactive, so that listing it brings it back. */
function inactiveCondition(ctx: Ctx): string | null {
  return ctx.rules.inactive(ctx.sql);
}

/** Old value of an extension field of the record `t`. */
function extensionOld(x: PlanField): string {
  return `(SELECT v.value FROM extension_values v WHERE v.extension_table = ${
    lit(x.field.extension!.table)
  } AND v.field = ${lit(x.field.extension!.field)} AND v.record_id = t.id)`;
}

/** 1 when the condition holds, else 0 (NULL, as in a WHERE clause, does not hold). */
const flag = (condition: string) => `CASE WHEN ${condition} THEN 1 ELSE 0 END`;

/**
 * One read of every existing record a row names: the rules that need its values
 * (a student active elsewhere, exit or end dates against the existing ones), and
 * whether the row changes it or brings it back. Only rows with something to say
 * are kept, in the flags table.
 */
async function readExisting(ctx: Ctx): Promise<void> {
  const { plan, names, options, rules } = ctx;
  const T = rules.target;
  const elsewhere = rules.elsewhere?.(ctx.sql) ?? "0";
  const bad = rules.badDates?.(ctx.sql) ?? "0";
  let chg = "0";
  if (options.updateExisting) {
    const differs = [
      // The comparison first: on the many unchanged rows it is false and the mask is
      // never read.
      ...writtenValues(plan, rules).map((w) =>
        `(t.${w.column} IS NOT ${w.value} AND ${w.provided})`
      ),
      ...plan.extensions.map((x) =>
        `(${provided(x)} AND ${extensionOld(x)} IS NOT s.${x.stageColumn})`
      ),
    ];
    if (differs.length > 0) chg = `(${differs.join(" OR ")})`;
  }
  const react = inactiveCondition(ctx) ?? "0";
  await ctx.exec.run(
    `INSERT INTO ${names.flags} (line, elsewhere, bad, chg, react)
     SELECT line, e, b, c, r FROM (
       SELECT s.line AS line, ${flag(elsewhere)} AS e, ${flag(`${OK} AND ${bad}`)} AS b,
         ${flag(`${OK} AND ${chg}`)} AS c, ${flag(`${OK} AND ${react}`)} AS r
       FROM ${names.rows} s JOIN ${T} t ON t.id = s.tid
     ) WHERE e OR b OR c OR r`,
  );
  const error = rules.elsewhereError;
  if (error) {
    await reject(
      ctx,
      `s.line IN (SELECT line FROM ${names.flags} WHERE elsewhere = 1)`,
      error.field,
      error.code,
      error.message,
      ordOf(plan.table, error.code),
      `JOIN ${T} t ON t.id = s.tid`,
    );
  }
  const order = rules.dateOrder;
  if (order) {
    await reject(
      ctx,
      `s.line IN (SELECT line FROM ${names.flags} WHERE bad = 1)`,
      findValue(plan, order.later) ? order.later : order.earlier,
      "bad_date",
      lit(order.message),
      ordOf(plan.table, "bad_date"),
    );
  }
}

/** Checks that need the database beyond the existing record (meeting attendance). */
async function checkMeetings(ctx: Ctx): Promise<void> {
  const { plan, names } = ctx;
  if (!ctx.rules.checksMeetings?.(plan.mode)) return;
  // The section met: the one of this course and number whose term holds the date.
  await ctx.exec.run(
    `UPDATE ${names.rows} AS s SET sec_id = (SELECT x.id FROM sections x JOIN terms tm ON tm.school_number = x.schoolid AND tm.term_id = x.termid
       WHERE x.schoolid = s.k_schoolid AND x.course_number = s.k_course_number AND x.section_number = s.k_section_number
         AND tm.first_day <= s.k_att_date AND tm.last_day >= s.k_att_date
       ORDER BY julianday(tm.last_day) - julianday(tm.first_day), tm.term_id LIMIT 1)`,
  );
  await reject(
    ctx,
    `s.sec_id IS NULL`,
    "Section_Number",
    "missing_reference",
    `'Section_Number: there is no section ' || s.k_course_number || '.' || s.k_section_number || ' at school ' || s.k_schoolid || ' in a term holding ' || s.k_att_date`,
    ordOf(plan.table, "section"),
  );
  await reject(
    ctx,
    `s.sec_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM cc e WHERE e.section_id = s.sec_id AND e.student_number = s.k_student_number AND e.dateenrolled <= s.k_att_date AND (e.dateleft IS NULL OR e.dateleft > s.k_att_date))`,
    "Section_Number",
    "not_enrolled",
    `'Student_Number ' || s.k_student_number || ' is not enrolled in ' || s.k_course_number || '.' || s.k_section_number || ' on ' || s.k_att_date`,
    ordOf(plan.table, "not_enrolled"),
  );
  const period = findValue(plan, "Period");
  if (period) {
    await reject(
      ctx,
      `s.sec_id IS NOT NULL AND ${
        provided(period)
      } AND s.v_period IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sections x, json_each(x.meetings) m WHERE x.id = s.sec_id AND upper(m.key) = upper(s.v_period))`,
      "Period",
      "bad_period",
      `'Period: ' || s.v_period || ' is not a period of section ' || s.k_course_number || '.' || s.k_section_number`,
      ordOf(plan.table, "period"),
    );
  }
}

/** Default end dates of existing records whose row does not say enough (students). */
async function existingDefaults(ctx: Ctx): Promise<void> {
  const statement = ctx.rules.existingDefaults?.(ctx.sql);
  if (statement) await runAll(ctx, [statement]);
}

/** Marks every row with an error rejected. */
async function markRejected(ctx: Ctx): Promise<void> {
  const { names } = ctx;
  await ctx.exec.run(
    `UPDATE ${names.rows} SET rej = 1 WHERE line IN (SELECT line FROM ${names.errors}) AND rej = 0`,
  );
}

/** The fields each changing row changes, and the rows that bring a record back. */
async function classify(ctx: Ctx): Promise<void> {
  const { plan, names, options, rules } = ctx;
  const T = rules.target;
  if (options.updateExisting) {
    // {"Field":[old,new],…} of the fields that differ, in field order, built by
    // concatenation (as json_group_object would print it, without parsing JSON).
    const entry = (name: string, differs: string, pair: string) =>
      `CASE WHEN ${differs} THEN ${lit(`,${JSON.stringify(name)}:`)} || ${pair} ELSE '' END`;
    const entries = [
      ...writtenValues(plan, rules).map((w) =>
        entry(
          w.name,
          `t.${w.column} IS NOT ${w.value} AND ${w.provided}`,
          `json_array(t.${w.column}, ${w.value})`,
        )
      ),
      ...plan.extensions.map((x) => {
        const old = extensionOld(x);
        return entry(
          x.field.name,
          `${provided(x)} AND ${old} IS NOT s.${x.stageColumn}`,
          `json_array(${old}, s.${x.stageColumn})`,
        );
      }),
    ];
    if (entries.length > 0) {
      await ctx.exec.run(
        `UPDATE ${names.rows} AS s SET diff = '{' || substr(${entries.join(" || ")}, 2) || '}'
         FROM ${T} t
         WHERE s.line IN (SELECT line FROM ${names.flags} WHERE chg = 1) AND s.rej = 0 AND t.id = s.tid`,
      );
    }
  }
  await ctx.exec.run(
    `UPDATE ${names.rows} SET react = 1
     WHERE line IN (SELECT line FROM ${names.flags} WHERE react = 1) AND rej = 0`,
  );
}

/** Active in-scope records of the table (what "active" means is the table's rule), as a FROM … WHERE over alias `t`. */
function activeScope(ctx: Ctx): { from: string; where: string } {
  return ctx.rules.activeScope(ctx.sql);
}

async function count(ctx: Ctx, sql: string, args: SqlValue[] = []): Promise<number> {
  const rows = await ctx.exec.all(sql, args);
  return Number(rows[0]?.["n"] ?? 0);
}

/**
 * Finds the active in-scope records the file does not list. Every staged row names
 * a record present in the file — rejected rows included — by its `tid` (one pass
 * that collects the ids, then one probe per in-scope record; a correlated probe of
 * the staged key index per record was four times slower).
 */
async function findRemovals(ctx: Ctx): Promise<number> {
  const { plan, names } = ctx;
  const scope = activeScope(ctx);
  return await ctx.exec.run(
    `INSERT INTO ${names.removals} (id, key) SELECT t.id, ${targetKeyJson(plan)} FROM ${scope.from}
     WHERE ${scope.where} AND t.id NOT IN (SELECT s.tid FROM ${names.rows} s WHERE s.tid IS NOT NULL)`,
  );
}

/** Rows of new records (a scan; only for a run that writes nothing). */
async function countNew(ctx: Ctx): Promise<number> {
  return await count(ctx, `SELECT count(*) AS n FROM ${ctx.names.rows} s WHERE ${NEW}`);
}

/** Fills in inserted, unchanged and skipped once the new records are counted. */
function settle(
  counts: Validation["counts"],
  options: ApplyOptions,
  staged: number,
  inserted: number,
) {
  counts.inserted = inserted;
  const kept = staged - counts.rejectedStaged - inserted - counts.updated;
  if (options.updateExisting) counts.unchanged = kept;
  else counts.skipped = kept;
}

/**
 * Validates the staged rows inside the open transaction, without changing any SIS
 * table. With the removal limit reached the result says `held`: nothing may be
 * written.
 */
export async function validateStaged(
  exec: SqlExecutor,
  plan: ImportPlan,
  names: StageNames,
  options: ApplyOptions,
): Promise<Validation> {
  const ctx = context(exec, plan, names, options);
  const noneExisting = options.noneExisting || await remoteTargetEmpty(ctx);
  if (!options.targetsResolved && !noneExisting) await resolveTargets(ctx);
  await checkDuplicates(ctx);
  await conditionalErrors(ctx);
  if (!noneExisting) await readExisting(ctx);
  await checkMeetings(ctx);
  await existingDefaults(ctx);
  await markRejected(ctx);
  await classify(ctx);

  // Counted from the small tables: rejected rows are the staged lines with errors,
  // updated ones have flags; new and kept rows are told apart when the inserts are
  // written (or by `countNew` for a run that writes nothing).
  const staged = options.staged;
  const rejected = await count(
    ctx,
    `SELECT count(*) AS n FROM ${names.rows} WHERE line IN (SELECT line FROM ${names.errors})`,
  );
  const updated = await count(ctx, `SELECT count(*) AS n FROM ${writing(names)}`);
  const counts = {
    inserted: 0,
    updated,
    unchanged: 0,
    skipped: 0,
    rejectedStaged: rejected,
    removed: 0,
    inactivated: 0,
  };

  if (options.synchronize && staged > 0) {
    const scope = activeScope(ctx);
    const activeBefore = await count(
      ctx,
      `SELECT count(*) AS n FROM ${scope.from} WHERE ${scope.where}`,
    );
    const removals = await findRemovals(ctx);
    if (
      options.enforceRemovalLimit && removals >= 5 &&
      removals * 100 > options.removalLimitPercent * activeBefore
    ) {
      settle(counts, options, staged, await countNew(ctx));
      return { counts, staged, held: { removals, activeBefore } };
    }
  }
  return { counts, staged, held: null };
}

/**
 * Calls `write(from, to)` for consecutive ranges of `chunkSize` lines (so at most as
 * many rows each) up to the last staged line; `write` returns the rows it wrote.
 */
async function chunks(
  ctx: Ctx,
  phase: string,
  write: (from: number, to: number) => Promise<number>,
): Promise<number> {
  const size = ctx.options.chunkSize ?? 50_000;
  const [last] = await ctx.exec.all(`SELECT max(line) AS n FROM ${ctx.names.rows}`);
  const end = Number(last?.["n"] ?? 0);
  let done = 0;
  for (let from = 1; from <= end; from += size) {
    const n = await write(from, Math.min(from + size - 1, end));
    if (n === 0) continue;
    done += n;
    ctx.options.onProgress?.({ phase, rows: done });
  }
  return done;
}

/** Change log entries of the records updated or brought back (after those inserted). */
async function logUpdates(ctx: Ctx): Promise<void> {
  const { plan, names, options } = ctx;
  await ctx.exec.run(
    `INSERT INTO run_changes (run_id, table_name, action, key, changes)
     SELECT ?, ?, CASE WHEN s.react = 1 AND s.diff IS NULL THEN 'reactivate' ELSE 'update' END, ${
      keyJson(plan)
    }, s.diff
     FROM ${writing(names)} ORDER BY s.line`,
    [options.runId, plan.table],
  );
}

/** Writes the records; returns how many were inserted. */
async function upsert(ctx: Ctx): Promise<number> {
  const { plan, names, options, rules } = ctx;
  const R = names.rows;
  const T = rules.target;
  const keys = keyColumns(plan);
  const written = writtenValues(plan, rules).filter((w) =>
    !keys.some((k) => k.column === w.column)
  );
  const run = options.runId;

  // Inserts: keys, provided values, table defaults.
  const insertColumns = new Map<string, string>();
  for (const k of keys) insertColumns.set(k.column, k.expr);
  for (const w of written) {
    // A field's own staged column is NULL when not given: no test of the mask needed
    // (25 of them per row cost a third of a students insert).
    insertColumns.set(w.column, w.own ? w.value : `CASE WHEN ${w.provided} THEN ${w.value} END`);
  }
  rules.insertColumns?.(insertColumns, ctx.sql);
  insertColumns.set("last_run_id", String(run));
  const cols = [...insertColumns.keys()];
  // Each chunk's change log entries right after its records, while its staged rows
  // are in the cache (the entries stay in line order, before those of updates).
  const inserted = await chunks(ctx, "insert", async (from, to) => {
    const n = await ctx.exec.run(
      `INSERT INTO ${T} (${cols.join(", ")}) SELECT ${
        cols.map((c) => insertColumns.get(c)).join(", ")
      }
       FROM ${R} s WHERE ${NEW} AND s.line BETWEEN ? AND ? ORDER BY s.line`,
      [from, to],
    );
    if (n > 0) {
      await ctx.exec.run(
        `INSERT INTO run_changes (run_id, table_name, action, key, changes)
         SELECT ?, ?, 'insert', ${keyJson(plan)}, NULL FROM ${R} s
         WHERE ${NEW} AND s.line BETWEEN ? AND ? ORDER BY s.line`,
        [run, plan.table, from, to],
      );
    }
    return n;
  });

  await runAll(ctx, rules.afterInsert?.(ctx.sql) ?? []);

  // Updates: each provided field of a changed row (Update existing on) takes the
  // file's value; reactivation restores the status — unless the file maps the
  // status field itself, which then wins. A row that only brings a record back
  // changes nothing else.
  const sets = written.map((w) =>
    `${w.column} = CASE WHEN s.diff IS NOT NULL AND ${w.provided} THEN ${w.value} ELSE ${T}.${w.column} END`
  );
  sets.push(...(rules.updateSets?.(ctx.sql, T) ?? []));
  sets.push(`last_run_id = ${run}`);
  await chunks(ctx, "update", async (from, to) =>
    await ctx.exec.run(
      `UPDATE ${T} SET ${sets.join(", ")}
       FROM ${writing(names, { range: true })} AND s.tid = ${T}.id`,
      [from, to],
    ));

  // Extension fields (records inserted above are found by their key).
  const id = `coalesce(s.tid, ${targetIdOf(plan)})`;
  for (const x of plan.extensions) {
    const ext = x.field.extension!;
    await ctx.exec.run(
      `INSERT INTO extension_values (extension_table, field, record_id, value)
       SELECT ${lit(ext.table)}, ${lit(ext.field)}, ${id}, s.${x.stageColumn} FROM ${R} s
       WHERE ${OK} AND (s.tid IS NULL OR s.diff IS NOT NULL) AND ${provided(x)}
       ON CONFLICT (extension_table, field, record_id) DO UPDATE SET value = excluded.value`,
    );
  }

  await runAll(ctx, rules.afterUpdate?.(ctx.sql) ?? []);
  return inserted;
}

/** Marks exited or ended records inactive (the table's rule); returns how many changed. */
async function inactivate(ctx: Ctx): Promise<number> {
  return await runAll(ctx, ctx.rules.inactivate?.(ctx.sql) ?? []);
}

/** Synchronize Mode: removes the records found missing (the table's rule); returns how many. */
async function removeMissing(ctx: Ctx): Promise<number> {
  const { plan, names, options } = ctx;
  const X = names.removals;
  const run = options.runId;
  await ctx.exec.run(
    `INSERT INTO run_changes (run_id, table_name, action, key, changes) SELECT ?, ?, 'remove', key, NULL FROM ${X} ORDER BY id`,
    [run, plan.table],
  );
  // The last statement's changed rows are the records removed.
  const statements = ctx.rules.removal(X, ctx.sql);
  let removed = 0;
  for (const st of statements) removed = await ctx.exec.run(st.sql, st.args ? [...st.args] : []);
  return removed;
}

/**
 * Writes a validated run: the change log, inserts, updates, the table's specifics,
 * inactivations and (Synchronize Mode) removals. Returns the inactivated and removed
 * counts.
 */
export async function writeStaged(
  exec: SqlExecutor,
  plan: ImportPlan,
  names: StageNames,
  options: ApplyOptions,
  validation: Validation,
): Promise<{ inserted: number; inactivated: number; removed: number }> {
  const ctx = context(exec, plan, names, options);
  const inserted = await upsert(ctx);
  settle(validation.counts, options, validation.staged, inserted);
  await logUpdates(ctx);
  const inactivated = await inactivate(ctx);
  // Inserted rows cannot be in the removal set: it was found before they existed.
  const removed = options.synchronize && validation.staged > 0 ? await removeMissing(ctx) : 0;
  return { inserted, inactivated, removed };
}

/** Keys that a held run would remove, for its report. */
export async function heldRemovals(exec: SqlExecutor, names: StageNames): Promise<SqlRow[]> {
  return await exec.all(`SELECT key FROM ${names.removals} ORDER BY id`);
}
