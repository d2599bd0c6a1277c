import assert from "node:assert/strict";
import type { FileNote } from "../../src/pipeline/errors.ts";
import { FileRejection } from "../../src/pipeline/errors.ts";
import { Framer } from "../../src/pipeline/frame.ts";

const plan = {
  columns: { length: 3 },
  mappedNames: ["TeacherNumber", "First_Name", "Last_Name"],
  catalog: { fields: [{ name: "TeacherNumber" }, { name: "First_Name" }, { name: "Last_Name" }] },
};

function frame(rows: string[][], expectRecordCount = false) {
  const notes: FileNote[] = [];
  const counts = { shortRows: 0 };
  const framer = new Framer(plan, { expectRecordCount, notes, counts });
  const data = rows.map((fields, i) => ({ line: i + 1, fields }))
    .filter((r) => framer.accept(r)).map((r) => r.line);
  framer.finish();
  return { data, notes, counts, dataRecords: framer.dataRecords };
}

Deno.test("a count line and a header equal to the field list are skipped with notes", () => {
  const out = frame([
    ["number_of_records=2"],
    ["teachernumber", "First_Name", "LAST_NAME"],
    ["1", "A", "B"],
    ["2", "C"],
  ]);
  assert.deepEqual(out.data, [3, 4]);
  assert.deepEqual(out.notes.map((n) => n.code), ["record_count_line_skipped", "header_skipped"]);
  assert.equal(out.counts.shortRows, 1);
  assert.equal(out.dataRecords, 2);
});

Deno.test("a count line must be there and agree when the record expects it", () => {
  assert.deepEqual(frame([["number_of_records=1"], ["1", "A", "B"]], true).data, [2]);
  for (
    const [rows, code] of [
      [[["1", "A", "B"]], "missing_record_count"],
      [[["number_of_records=1"], ["1", "A", "B"], ["2", "C", "D"]], "record_count_mismatch"],
      [[["number_of_records=3"], ["1", "A", "B"]], "record_count_mismatch"],
    ] as const
  ) {
    assert.throws(
      () => frame(rows.map((r) => [...r]), true),
      (e) => e instanceof FileRejection && e.code === code,
    );
  }
});

Deno.test("a header naming the fields in another order rejects the file", () => {
  assert.throws(
    () => frame([["Last_Name", "First_Name", "TeacherNumber"], ["1", "A", "B"]]),
    (e) => e instanceof FileRejection && e.code === "header_mismatch",
  );
});

Deno.test("rows whose extra fields are all empty are data, counted in one note", () => {
  const out = frame([["1", "A", "B", "", " "], ["2", "C", "D", ""], ["3", "E", "F", "x"]]);
  assert.deepEqual(out.data, [1, 2, 3]);
  assert.equal(out.notes.length, 1);
  assert.equal(out.notes[0]!.code, "extra_empty_fields");
  assert.match(out.notes[0]!.message, /^2 rows have more fields than mapped.*first on line 1/);
});
