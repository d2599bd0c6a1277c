/**
 * The `sqlite3` side of the bench: the same work on the same TSV, as scripts for
 * Debian's `sqlite3` CLI, in a WAL database with `synchronous=NORMAL`.
 *
 * - first import: `CREATE TABLE` with the match key as primary key, then `.mode tabs`
 *   and `.import` inside one `BEGIN … COMMIT` (plus an `active` column, added after
 *   the `.import` so the CLI does not warn about a missing column on every row);
 * - re-import (Update existing): `.import` into a TEMP table, then one
 *   `INSERT … SELECT … ON CONFLICT DO UPDATE … WHERE` any column differs;
 * - Synchronize Mode: the same, an index on the temp table's key, then one
 *   `UPDATE … SET active = 0 WHERE … NOT EXISTS` in the temp table — one transaction.
 *
 * Column types follow AutoComm's field catalog, so values compare the same way.
 */
import { coreCatalog, findField, storageType } from "../src/sis/catalog.ts";
import { type BenchTable, FIELDS } from "./generate.ts";

/**
 * The sqlite3 side's connection settings: WAL and `synchronous=NORMAL` as AutoComm's
 * import connection, and the temporary tables and page cache in memory (64 MiB).
 * AutoComm keeps its staging tables in a temporary file past a 16 MiB cache and its
 * page cache at 40 MiB, to stay under 300 MB per process; sqlite3 is not held to that.
 */
export const PRAGMAS = [
  "PRAGMA journal_mode = WAL;",
  "PRAGMA synchronous = NORMAL;",
  "PRAGMA temp_store = MEMORY;",
  "PRAGMA cache_size = -65536;",
];

/** Scenario kinds, in the order they run for each table. */
export const SCENARIOS = ["first-import", "reimport-identical", "reimport-changed-sync"] as const;
export type ScenarioKind = typeof SCENARIOS[number];

interface Shape {
  name: string;
  columns: { name: string; type: string }[];
  key: string[];
}

/** Columns and key of the sqlite3 table of a bench table (from the catalog). */
export function shapeOf(table: BenchTable): Shape {
  const catalog = coreCatalog(table, "daily");
  const fields = FIELDS[table].map((n) => {
    const f = findField(catalog, n);
    if (!f) throw new Error(`bench: ${n} is not a field of ${table}`);
    return f;
  });
  const key = catalog.key.map((k) => {
    const f = fields.find((x) => x.name === k);
    if (!f) throw new Error(`bench: the ${table} file lacks key field ${k}`);
    return f.name.toLowerCase();
  });
  return {
    name: `b_${table}`,
    columns: fields.map((f) => ({ name: f.name.toLowerCase(), type: storageType(f) })),
    key,
  };
}

function quotePath(path: string): string {
  return `"${path.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** The script `sqlite3` runs for a scenario. */
export function sqliteScript(table: BenchTable, kind: ScenarioKind, file: string): string {
  const s = shapeOf(table);
  const cols = s.columns.map((c) => c.name);
  const defs = s.columns.map((c) => `${c.name} ${c.type}`).join(", ");
  const lines = [...PRAGMAS, ".mode tabs"];
  if (kind === "first-import") {
    lines.push(
      `CREATE TABLE ${s.name} (${defs}, PRIMARY KEY (${s.key.join(", ")}));`,
      "BEGIN;",
      `.import ${quotePath(file)} ${s.name}`,
      `ALTER TABLE ${s.name} ADD COLUMN active INTEGER NOT NULL DEFAULT 1;`,
      "COMMIT;",
    );
    return lines.join("\n") + "\n";
  }
  const nonKey = cols.filter((c) => !s.key.includes(c));
  const differs = [
    ...nonKey.map((c) => `${s.name}.${c} IS NOT excluded.${c}`),
    `${s.name}.active <> 1`,
  ];
  lines.push(
    "BEGIN;",
    `CREATE TEMP TABLE incoming (${defs});`,
    `.import --schema temp ${quotePath(file)} incoming`,
  );
  if (kind === "reimport-changed-sync") {
    lines.push(`CREATE INDEX temp.incoming_key ON incoming (${s.key.join(", ")});`);
  }
  lines.push(
    `INSERT INTO ${s.name} (${cols.join(", ")})\n  SELECT ${
      cols.join(", ")
    } FROM incoming WHERE true\n` +
      `  ON CONFLICT (${s.key.join(", ")}) DO UPDATE SET ${
        [...nonKey.map((c) => `${c} = excluded.${c}`), "active = 1"].join(", ")
      }\n  WHERE ${differs.join(" OR ")};`,
    "SELECT 'upserted', changes();",
  );
  if (kind === "reimport-changed-sync") {
    lines.push(
      `UPDATE ${s.name} SET active = 0 WHERE active = 1\n  AND NOT EXISTS (SELECT 1 FROM incoming x WHERE ${
        s.key.map((k) => `x.${k} = ${s.name}.${k}`).join(" AND ")
      });`,
      "SELECT 'removed', changes();",
    );
  }
  lines.push("COMMIT;");
  return lines.join("\n") + "\n";
}

/** Counts the script printed (`upserted N`, `removed N`). */
export function sqliteCounts(stdout: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of stdout.split("\n")) {
    const [name, n] = line.split("\t");
    if (name && n !== undefined && /^\d+$/.test(n.trim())) out[name] = Number(n);
  }
  return out;
}
