/** The report stage's outputs beyond the run row: the rejected-rows CSV. */
import { asc, eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { runErrors, runs } from "../db/schema/autocomm.ts";

/**
 * What a spreadsheet may read as the start of a formula or a control (OWASP's CSV
 * injection list): `=`, `+`, `-`, `@`, tab, CR, LF, NUL, their full-width forms
 * `＝＋－＠`, also after leading white space (spaces, NBSP and the like).
 */
const FORMULA_START = /^\s*[=+\-@\t\r\n\0＝＋－＠]/;

/**
 * A cell a spreadsheet shows as text: one that starts like a formula
 * ({@linkcode FORMULA_START}) gets a leading apostrophe; a cell with a quote, comma,
 * line end or surrounding white space is quoted.
 */
export function csvCell(value: unknown): string {
  let text = value === null || value === undefined ? "" : String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The rejected rows of a run as CSV, one line per row error in file order: `line`,
 * `field`, `code`, `message`, then the row's cells under the record's field names
 * (the run's field list; cells beyond it are `extra_1`, `extra_2`, …). A row with
 * several errors is repeated, once per error. An error found while the line was read
 * keeps the line's cells as they were in the file; one found later (a duplicate key,
 * a missing reference, a field needed to create a record) shows the values as read
 * and converted. Every cell goes through {@linkcode csvCell}, so nothing in the file
 * runs as a spreadsheet formula.
 */
export async function rejectedRowsCsv(db: Db, runId: number): Promise<string> {
  return (await rejectedRowsCsvLines(db, runId)).map((line) => `${line}\r\n`).join("");
}

/** The leading columns of {@linkcode rejectedRowsCsv}. */
export const REJECTED_ROWS_LEAD = ["line", "field", "code", "message"] as const;

/**
 * The records of {@linkcode rejectedRowsCsv}, header first, without their CRLF (a
 * quoted cell may itself hold a line end).
 */
export async function rejectedRowsCsvLines(db: Db, runId: number): Promise<string[]> {
  const [run] = await db.select({ options: runs.options }).from(runs).where(eq(runs.id, runId));
  const fields = (run?.options as { fields?: unknown } | undefined)?.fields;
  const names = Array.isArray(fields) ? fields.map(String) : [];
  const errors = await db.select().from(runErrors).where(eq(runErrors.runId, runId))
    .orderBy(asc(runErrors.line), asc(runErrors.id));
  const rows = errors.map((e) => ({ e, cells: e.row ? JSON.parse(e.row) as unknown[] : [] }));
  const width = Math.max(names.length, ...rows.map((r) => r.cells.length));
  const header = [
    ...REJECTED_ROWS_LEAD,
    ...Array.from({ length: width }, (_, i) => names[i] ?? `extra_${i - names.length + 1}`),
  ];
  const lines = [header.map(csvCell).join(",")];
  for (const { e, cells } of rows) {
    const padded = Array.from({ length: width }, (_, i) => cells[i] ?? "");
    lines.push([e.line, e.field, e.code, e.message, ...padded].map(csvCell).join(","));
  }
  return lines;
}
