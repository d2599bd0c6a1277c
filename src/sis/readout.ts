/**
 * Reading the SIS tables back keyed by catalog field names, for people and
 * scripts checking what an import did (CLI `sis`, API). Dates are `YYYY-MM-DD`.
 */
import type { Client, InValue } from "@libsql/client";
import { coreCatalog, IMPORT_TABLES, type ImportTable } from "./catalog.ts";

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

/** Status columns that are not catalog fields but say whether a row is active. */
const STATUS: Record<ImportTable, { select: string; name: string }[]> = {
  students: [],
  teachers: [],
  courses: [{ select: "sc.offered", name: "Offered" }],
  sections: [{ select: "t.inactive", name: "Inactive" }],
  schedules: [{ select: "t.dropped", name: "Dropped" }],
  attendance: [{ select: "t.mode", name: "Mode" }],
};

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
  const catalog = coreCatalog(table, table === "attendance" ? "meeting" : "daily");
  const fields = catalog.fields.filter((f) => !(table === "courses" && f.column === "schoolid"));
  const columns = fields.map((f) => `t.${f.column} AS "${f.name}"`);
  if (table === "courses") columns.unshift(`sc.schoolid AS "SchoolID"`);
  for (const s of STATUS[table]) columns.push(`${s.select} AS "${s.name}"`);
  const from = table === "courses"
    ? "courses t JOIN school_courses sc ON sc.course_number = t.course_number"
    : `${catalog.sqlTable} t`;
  const where: string[] = [];
  const args: InValue[] = [];
  if (options.school !== undefined) {
    where.push(table === "courses" ? "sc.schoolid = ?" : "t.schoolid = ?");
    args.push(options.school);
  }
  const whereSql = where.length > 0 ? `WHERE ${where.join(" AND ")}` : "";
  const order = table === "courses"
    ? "sc.schoolid, t.course_number"
    : catalog.key.map((k) => `t.${catalog.fields.find((f) => f.name === k)!.column}`).join(", ");
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
    if (table === "attendance" && out["Mode"] === "daily") {
      delete out["Course_Number"];
      delete out["Section_Number"];
      delete out["Period"];
    }
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
