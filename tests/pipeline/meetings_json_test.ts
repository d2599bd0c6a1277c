import assert from "node:assert/strict";
import { meetingsJson } from "../../src/pipeline/run.ts";
import { parseExpression } from "../../src/sis/expressions.ts";

const periods = ["HR", "1", "2", "10"].map((abbreviation, i) => ({ abbreviation, sortOrder: i }));
const days = ["A", "B", "C"].map((abbreviation, i) => ({ abbreviation, sortOrder: i }));

Deno.test("a section's meetings are staged as each period's days, in the parser's order", () => {
  const result = parseExpression("10(A) HR(B-C) 1-2(A,C)", periods, days);
  assert.ok(result.ok);
  // tables_test.ts proves apply.ts stores them (the sections test).
  assert.equal(
    meetingsJson(result.meetings),
    '{"HR":["B","C"],"1":["A","C"],"2":["A","C"],"10":["A"]}',
  );
});

Deno.test("no meetings stage as an empty object", () => {
  assert.equal(meetingsJson([]), "{}");
});
