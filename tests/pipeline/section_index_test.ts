import assert from "node:assert/strict";
import { SectionIndex } from "../../src/pipeline/lookups.ts";

type Row = [number, number, string, string];

function check(rows: Row[]) {
  const index = new SectionIndex(rows);
  for (const [id, term, course, section] of rows) {
    assert.equal(index.get(term, course, section), id, `${term} ${course}.${section}`);
  }
  const [, term, course, section] = rows[0]!;
  assert.equal(index.get(term + 99, course, section), undefined, "another term");
  assert.equal(index.get(term, `${course}x`, section), undefined, "another course");
  assert.equal(index.get(term, course, `${section}x`), undefined, "another section number");
  assert.equal(index.get(term, course.toLowerCase(), section), undefined, "keys compare exactly");
  return index;
}

Deno.test("a school's sections are found by term, course and section number", () => {
  const rows: Row[] = [];
  let id = 1;
  for (const term of [3600, 3601]) {
    for (let c = 0; c < 50; c++) {
      for (let n = 1; n <= 4; n++) {
        if ((c + n) % 3 !== 0) rows.push([id++, term, `MATH${c}`, String(n)]);
      }
    }
  }
  check(rows);
  // A section missing from the grid is not found.
  const index = new SectionIndex(rows);
  assert.equal(index.get(3600, "MATH2", "1"), undefined);
});

Deno.test("a school too large for the grid, or with ids past 31 bits, is found all the same", () => {
  const wide: Row[] = [];
  for (let i = 0; i < 5000; i++) wide.push([i + 1, 3600 + (i % 2), `C${i % 2500}`, `S${i}`]);
  check(wide);
  check([[2 ** 40, 3600, "ART1", "1"], [7, 3600, "ART1", "2"]]);
});
