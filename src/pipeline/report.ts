/** The report stage's outputs beyond the run row: the rejected-rows CSV. */
import { asc, eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { runErrors } from "../db/schema/autocomm.ts";

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
 * The rejected rows of a run as CSV: line, the errors of the row, then the row's
 * cells as read. One line per rejected row, in file order.
 */
export async function rejectedRowsCsv(db: Db, runId: number): Promise<string> {
  return (await rejectedRowsCsvLines(db, runId)).map((line) => `${line}\r\n`).join("");
}

/**
 * The records of {@linkcode rejectedRowsCsv}, header first, without their CRLF (a
 * quoted cell may itself hold a line end).
 */
export async function rejectedRowsCsvLines(db: Db, runId: number): Promise<string[]> {
  const errors = await db.select().from(runErrors).where(eq(runErrors.runId, runId))
    .orderBy(asc(runErrors.line), asc(runErrors.id));
  const byLine = new Map<number, { messages: string[]; row: unknown[] }>();
  let width = 0;
  for (const e of errors) {
    let entry = byLine.get(e.line);
    if (!entry) {
      const row = e.row ? JSON.parse(e.row) as unknown[] : [];
      entry = { messages: [], row };
      byLine.set(e.line, entry);
      width = Math.max(width, row.length);
    }
    entry.messages.push(`${e.field ? `${e.field} ` : ""}${e.code}: ${e.message}`);
  }
  const header = ["line", "errors", ...Array.from({ length: width }, (_, i) => `column_${i + 1}`)];
  const lines = [header.join(",")];
  for (const [line, entry] of byLine) {
    lines.push([line, entry.messages.join("; "), ...entry.row].map(csvCell).join(","));
  }
  return lines;
}
