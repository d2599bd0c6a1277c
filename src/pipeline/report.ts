/** The report stage's outputs beyond the run row: the rejected-rows CSV. */
import { asc, eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { runErrors } from "../db/schema/autocomm.ts";

/** A cell a spreadsheet would not run as a formula: `=`, `+`, `-`, `@`, tab and CR are neutralised. */
export function csvCell(value: unknown): string {
  let text = value === null || value === undefined ? "" : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The rejected rows of a run as CSV: line, the errors of the row, then the row's
 * cells as read. One line per rejected row, in file order.
 */
export async function rejectedRowsCsv(db: Db, runId: number): Promise<string> {
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
  return lines.join("\r\n") + "\r\n";
}
