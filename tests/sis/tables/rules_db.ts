/**
 * Helpers of the table rules tests: a run's {@linkcode SqlContext} without a staged
 * file, and a real migrated libSQL file on which a table's active scope and removal
 * statements run.
 */
import type { InValue } from "@libsql/client";
import type { CatalogField } from "../../../src/sis/catalog.ts";
import type { SqlContext, Statement, TableRules } from "../../../src/sis/tables/rules.ts";
import { convert } from "../../../src/pipeline/plan.ts";
import { type TempDatabase, tempDatabase } from "../../support/db.ts";

/** The day the tests' runs take as today. */
export const TODAY = "2026-01-15";

/** A run's context: school 100, run 7, today {@linkcode TODAY}, no field mapped unless listed. */
export function sqlContext(
  options: Partial<Omit<SqlContext, "mapped">> & { mapped?: readonly string[] } = {},
): SqlContext {
  const { mapped: names, ...rest } = options;
  const mapped = new Set(names ?? []);
  const column = (name: string) => `s.v_${name.toLowerCase()}`;
  return {
    schoolId: 100,
    districtOffice: false,
    mode: "daily",
    today: TODAY,
    runId: 7,
    inactivateExited: false,
    scope: [],
    rows: "stage_rows",
    flags: "stage_flags",
    marks: "stage_marks",
    mapped: (name) => mapped.has(name),
    provided: (name) => `provided(${name})`,
    given: (name) => mapped.has(name) ? `provided(${name})` : "0",
    valueOr: (name, fallback) =>
      mapped.has(name)
        ? `CASE WHEN provided(${name}) THEN ${column(name)} ELSE ${fallback} END`
        : fallback,
    staged: column,
    writing: (join) => `stage_rows s ${join ?? ""} WHERE 1`,
    keyJson: () => "json_array(s.k)",
    ...rest,
  };
}

/** A migrated database file and SQL over it. */
export interface RulesDatabase extends AsyncDisposable {
  readonly temp: TempDatabase;
  /** Runs statements of a script, one per `;`-free string. */
  run(...sql: string[]): Promise<void>;
  /** The first column of every row of a query. */
  column(sql: string, args?: InValue[]): Promise<unknown[]>;
  /** Rows of a query as objects. */
  rows(sql: string, args?: InValue[]): Promise<Record<string, unknown>[]>;
}

/** Opens a fresh migrated database file. */
export async function rulesDatabase(): Promise<RulesDatabase> {
  const temp = await tempDatabase();
  const client = temp.database.client;
  const rows = async (sql: string, args: InValue[] = []) =>
    (await client.execute({ sql, args })).rows.map((r) => ({ ...r }) as Record<string, unknown>);
  return {
    temp,
    async run(...sql) {
      for (const s of sql) await client.execute(s);
    },
    rows,
    async column(sql, args = []) {
      const rs = await client.execute({ sql, args });
      return rs.rows.map((r) => r[0]);
    },
    async [Symbol.asyncDispose]() {
      await temp[Symbol.asyncDispose]();
    },
  };
}

/** Ids of the records in the table's active scope, in id order. */
export async function activeIds(
  db: RulesDatabase,
  rules: TableRules,
  ctx: SqlContext,
): Promise<number[]> {
  const scope = rules.activeScope(ctx);
  const ids = await db.column(`SELECT t.id FROM ${scope.from} WHERE ${scope.where} ORDER BY t.id`);
  return ids.map(Number);
}

/**
 * Runs the table's Synchronize removal of the records `ids` (listed in a removals
 * table as the apply stage lists them); returns the count the stage would report.
 */
export async function remove(
  db: RulesDatabase,
  rules: TableRules,
  ids: readonly number[],
  ctx: SqlContext,
): Promise<number> {
  await db.run("CREATE TABLE IF NOT EXISTS removals (id INTEGER PRIMARY KEY, key TEXT)");
  await db.run("DELETE FROM removals");
  for (const id of ids) await db.run(`INSERT INTO removals (id, key) VALUES (${id}, '[]')`);
  let removed = 0;
  for (const st of rules.removal("removals", ctx) as Statement[]) {
    const rs = await db.temp.database.client.execute({ sql: st.sql, args: [...(st.args ?? [])] });
    removed = rs.rowsAffected;
  }
  return removed;
}

/** A key field of the table's catalog (of `mode`), by name. */
export function keyField(rules: TableRules, name: string, mode: "daily" | "meeting" = "daily") {
  const f = rules.catalog(mode).fields.find((x) => x.name === name && x.key !== undefined);
  if (!f) throw new Error(`${name} is not a key field of ${rules.table}`);
  return f;
}

/** The value a key cell is compared by, as the map stage reads it. */
export function keyValue(field: CatalogField, text: string): unknown {
  const r = convert(field, text);
  if (!r.ok) throw new Error(`${field.name}: ${r.message}`);
  return r.value;
}
