/**
 * The rejected-rows CSV is safe in every spreadsheet: a cell that a spreadsheet
 * could read as a formula or a control (OWASP's list, after leading spaces too, and
 * the full-width forms) starts with an apostrophe.
 */
import assert from "node:assert/strict";
import { csvCell } from "../../src/pipeline/report.ts";
import { schoolYear, startTestService, studentsRecord } from "../support/web.ts";

const PREFIXES: [string, string][] = [
  ["=", "equals sign"],
  ["+", "plus sign"],
  ["-", "minus sign"],
  ["@", "at sign"],
  ["\t", "tab"],
  ["\r", "carriage return"],
  ["\n", "line feed"],
  ["\0", "NUL"],
  ["＝", "full-width equals sign"],
  ["＋", "full-width plus sign"],
  ["－", "full-width minus sign"],
  ["＠", "full-width at sign"],
];

/** The cell as a spreadsheet reads it back (a quoted cell unquoted). */
function unquoted(cell: string): string {
  return cell.startsWith('"') ? cell.slice(1, -1).replace(/""/g, '"') : cell;
}

for (const [prefix, name] of PREFIXES) {
  Deno.test(`a CSV cell starting with a ${name} is neutralised, also after leading spaces`, () => {
    for (const value of [`${prefix}1+2`, ` ${prefix}1+2`, `   ${prefix}SUM(A1)`]) {
      const cell = csvCell(value);
      assert.equal(unquoted(cell), `'${value}`, JSON.stringify(value));
      // A cell with a line end, a quote or a comma stays one quoted cell.
      if (/[\r\n",]/.test(value)) assert.match(cell, /^".*"$/s);
    }
  });
}

Deno.test("CSV cells that start with anything else are written as they are", () => {
  for (const value of ["Ann", " Ann", "1+2", "5-3", "a@b.org", "x＝1"]) {
    assert.equal(unquoted(csvCell(value)), value);
  }
  assert.equal(csvCell("   "), '"   "');
  assert.equal(csvCell(null), "");
});

Deno.test("the rejected-rows download neutralises formula and control prefixes in every cell", async () => {
  const s = await startTestService();
  try {
    const res0 = await s.api("/api/v1/records", { method: "POST", json: studentsRecord() });
    assert.equal(res0.status, 201, await res0.clone().text());
    const id = (await res0.json()).records[0].id;
    const entry = `08/20/${schoolYear()}`;
    const names = [
      " =1+2",
      "＝1+2",
      "＋1",
      "－1",
      "＠SUM(A1)",
      '"\n=cmd"',
      '"\0=1"',
      "  @x",
      '"\t=1"',
      "-2+3",
    ];
    await s.writeImport(
      "students.txt",
      names.map((n, i) => `${4001 + i}\t${n}\tLee\tx\t${entry}`).join("\n") + "\n",
    );
    let res = await s.api(`/api/v1/records/${id}/run`, { method: "POST" });
    assert.equal(res.status, 202, await res.clone().text());
    const { runId } = await res.json();
    await s.queue.idle();

    res = await s.api(`/api/v1/runs/${runId}/rejected.csv`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/csv/);
    const csv = await res.text();
    const records = csv.trimEnd().split(/\r\n(?=\d+,)/);
    assert.equal(
      records[0],
      "line,field,code,message,Student_Number,First_Name,Last_Name,Grade_Level,EntryDate",
    );
    // One line per row error: a row with two errors comes twice, with the same cells.
    const byLine = new Map<string, string>();
    for (const r of records.slice(1)) {
      const m =
        /^(\d+),[A-Za-z_]+,[a-z_]+,(?:"(?:[^"]|"")*"|[^,]*),\d+,("(?:[^"]|"")*"|[^,]*),Lee,x,/s
          .exec(r);
      assert.ok(m, `unexpected CSV record ${JSON.stringify(r)}`);
      byLine.set(m[1]!, unquoted(m[2]!));
    }
    const firstNames = [...byLine.values()];
    assert.deepEqual(firstNames, [
      "' =1+2",
      "'＝1+2",
      "'＋1",
      "'－1",
      "'＠SUM(A1)",
      "'\n=cmd",
      "'\0=1",
      "'  @x",
      "'\t=1",
      "'-2+3",
    ]);
  } finally {
    await s.close();
  }
});
