/**
 * Staging: the rows of a file, converted and typed, go into a staging table with
 * their line numbers before anything touches the SIS tables. On the embedded file
 * it is a TEMP table of the import's own connection; on a remote server a real
 * table named after the run, dropped when the run ends. Row errors are staged
 * beside it. The apply stage then works set-based from these tables.
 */
import type { CatalogField } from "../sis/catalog.ts";
import { isNumericCode } from "../db/schema/sis.ts";
import type { RowError } from "./errors.ts";
import type { SqlExecutor, SqlValue } from "./executor.ts";
import { type ImportPlan, stagedColumns } from "./plan.ts";

/** Names of a run's staging tables. */
export interface StageNames {
  /** Staged rows. */
  readonly rows: string;
  /** Row errors. */
  readonly errors: string;
  /** Keys found for removal (Synchronize Mode). */
  readonly removals: string;
}

/** Extra staging columns per table, filled by the table's row check (in order). */
export function rowExtraColumns(plan: ImportPlan): string[] {
  return plan.table === "sections" ? ["meetings"] : [];
}

function affinity(field: CatalogField): string {
  if (field.extension) return "TEXT";
  switch (field.type) {
    case "integer":
    case "boolean":
      return "INTEGER";
    case "decimal":
      return "REAL";
    case "code":
      return isNumericCode(field) ? "INTEGER" : "TEXT";
    default:
      return "TEXT";
  }
}

/** Names of the staging tables of a run. */
export function stageNames(exec: SqlExecutor, runId: number): StageNames {
  const prefix = exec.embedded ? "temp." : "";
  return {
    rows: `${prefix}stage_${runId}`,
    errors: `${prefix}stage_errors_${runId}`,
    removals: `${prefix}stage_removals_${runId}`,
  };
}

/** Creates the staging tables (dropping leftovers of an earlier attempt). */
export async function createStage(
  exec: SqlExecutor,
  plan: ImportPlan,
  names: StageNames,
): Promise<void> {
  const fields = [...plan.keys, ...plan.values, ...plan.extensions, ...plan.context];
  const columns = [
    "line INTEGER PRIMARY KEY",
    "rej INTEGER NOT NULL DEFAULT 0",
    "mask TEXT NOT NULL",
    ...fields.map((f) => `${f.stageColumn} ${affinity(f.field)}`),
    ...rowExtraColumns(plan).map((c) => `${c} TEXT`),
    "tid INTEGER",
    "act TEXT",
    "react INTEGER NOT NULL DEFAULT 0",
    "ref_id INTEGER",
    "ref_text TEXT",
    "sec_id INTEGER",
    "def TEXT",
    "diff TEXT",
  ];
  const temp = exec.embedded ? "TEMP " : "";
  const bare = (n: string) => n.replace(/^temp\./, "");
  await exec.exec(`
    DROP TABLE IF EXISTS ${names.rows};
    DROP TABLE IF EXISTS ${names.errors};
    DROP TABLE IF EXISTS ${names.removals};
    CREATE ${temp}TABLE ${bare(names.rows)} (${columns.join(", ")});
    CREATE ${temp}TABLE ${
    bare(names.errors)
  } (line INTEGER NOT NULL, field TEXT NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL, row TEXT);
    CREATE ${temp}TABLE ${bare(names.removals)} (id INTEGER PRIMARY KEY, key TEXT);
  `);
}

/** Drops the staging tables. */
export async function dropStage(exec: SqlExecutor, names: StageNames): Promise<void> {
  await exec.exec(`
    DROP TABLE IF EXISTS ${names.rows};
    DROP TABLE IF EXISTS ${names.errors};
    DROP TABLE IF EXISTS ${names.removals};
  `);
}

/** Writes staged rows and row errors of one batch. */
export async function stageBatch(
  exec: SqlExecutor,
  plan: ImportPlan,
  names: StageNames,
  rows: readonly SqlValue[][],
  errors: readonly (RowError & { row: string | null })[],
): Promise<void> {
  const columns = [...stagedColumns(plan), ...rowExtraColumns(plan)];
  if (rows.length > 0) {
    await exec.many(
      `INSERT INTO ${names.rows} (${columns.join(", ")}) VALUES (${
        columns.map(() => "?").join(", ")
      })`,
      rows,
    );
  }
  if (errors.length > 0) {
    await exec.many(
      `INSERT INTO ${names.errors} (line, field, code, message, row) VALUES (?, ?, ?, ?, ?)`,
      errors.map((e) => [e.line, e.field, e.code, e.message, e.row]),
    );
  }
}

/** Indexes the staged keys once every row is in (faster than indexing as rows arrive). */
export async function indexStage(
  exec: SqlExecutor,
  plan: ImportPlan,
  names: StageNames,
): Promise<void> {
  const bare = names.rows.replace(/^temp\./, "");
  const schema = exec.embedded ? "temp." : "";
  await exec.exec(`
    CREATE INDEX ${schema}${bare}_key ON ${bare} (${
    plan.keys.map((k) => k.stageColumn).join(", ")
  });
    CREATE INDEX ${schema}${names.errors.replace(/^temp\./, "")}_line ON ${
    names.errors.replace(/^temp\./, "")
  } (line);
  `);
}
