/**
 * Reading the SIS tables back keyed by catalog field names, for people and
 * scripts checking what an import did (CLI `sis`, API). Dates are `YYYY-MM-DD`.
 */
import type { Client, InValue } from "@libsql/client";
import { IMPORT_TABLES, type ImportTable } from "./catalog.ts";
import { tableRules } from "./tables/registry.ts";

/** Options of {@linkcode readSisTable}. */
export interface ReadSisOptions {
  /** Only rows of this School_Number. */
  school?: number;
  /** Rows to skip; default 0. */
  offset?: number;
  /** Most rows to return; default all. */
  limit?: number;
}

/** A page of SIS rows. */
export interface SisPage {
  table: ImportTable;
  total: number;
  rows: Record<string, unknown>[];
}

/** True when `name` is one of the import tables. */
export function isImportTable(name: string): name is ImportTable {
  return (IMPORT_TABLES as readonly string[]).includes(name);
}

/** Reads rows of an SIS table with extension values, ordered by match key. */
export async function readSisTable(
  client: Client,
  table: ImportTable,
  options: ReadSisOptions = {},
): Promise<SisPage> {
  const rules = tableRules(table);
  const readout = rules.readout;
  const catalog = rules.catalog(readout.mode);
  const fields = catalog.fields.filter((f) => !readout.omit.includes(f.column));
  const columns = [...readout.lead, ...fields.map((f) => `t.${f.column} AS "${f.name}"`)];
  // Status columns that are not catalog fields but say whether a row is active.
  for (const s of readout.status) columns.push(`${s.select} AS "${s.name}"`);
  const from = readout.from;
  const where: string[] = [];
  const args: InValue[] = [];
  if (options.school !== undefined) {
    where.push(readout.school);
    args.push(options.school);
  }
  const whereSql = where.length > 0 ? `WHERE ${where.join(" AND ")}` : "";
  const order = readout.order ??
    catalog.key.map((k) => `t.${catalog.fields.find((f) => f.name === k)!.column}`).join(", ");
  const total = Number(
    (await client.execute({ sql: `SELECT count(*) AS n FROM ${from} ${whereSql}`, args }))
      .rows[0]?.["n"] ?? 0,
  );
  const page = options.limit !== undefined ? ` LIMIT ${Math.max(0, options.limit | 0)}` : "";
  const skip = options.offset
    ? `${page === "" ? " LIMIT -1" : ""} OFFSET ${options.offset | 0}`
    : "";
  const rs = await client.execute({
    sql: `SELECT t.id AS __id, ${
      columns.join(", ")
    } FROM ${from} ${whereSql} ORDER BY ${order}${page}${skip}`,
    args,
  });
  const rows = rs.rows.map((r) => {
    const out: Record<string, unknown> = {};
    for (const name of rs.columns) {
      if (name === "__id") continue;
      const v = r[name];
      out[name] = typeof v === "bigint" ? Number(v) : v ?? null;
    }
    readout.tidy?.(out);
    return { out, id: Number(r["__id"]) };
  });
  // Extension values, keyed `Ext.field`.
  if (rows.length > 0) {
    const ext = await client.execute({
      sql: `SELECT v.extension_table, v.field, v.record_id, v.value FROM extension_values v
            JOIN extension_tables e ON e.name = v.extension_table AND e.base_table = ?
            WHERE v.record_id IN (${rows.map(() => "?").join(",")})`,
      args: [table, ...rows.map((r) => r.id)],
    });
    const byId = new Map(rows.map((r) => [r.id, r.out]));
    for (const e of ext.rows) {
      const target = byId.get(Number(e["record_id"]));
      if (target) target[`${e["extension_table"]}.${e["field"]}`] = e["value"] ?? null;
    }
  }
  return { table, total, rows: rows.map((r) => r.out) };
}
