/**
 * The duplicate-key candidates found while staging (src/pipeline/duplicates.ts):
 * every line of a repeated key is a candidate, keys that only share a hash are not
 * reported as duplicates, and a file with very many repeats is checked in full.
 */
import assert from "node:assert/strict";
import { DuplicateCandidates, hashKey, MAX_CANDIDATES } from "../../src/pipeline/duplicates.ts";
import type { SqlValue } from "../../src/pipeline/executor.ts";
import { Sandbox, TEACHER_FIELDS } from "../support/sandbox.ts";

/** A staged row: line, rej, mask, then the key values. */
const row = (line: number, ...keys: SqlValue[]): SqlValue[] => [line, 0, "1", ...keys];
const KEY_SLOTS = [3, 4];

/** Two teacher numbers of school 100 whose keys hash alike (a birthday search). */
function collidingTeacherNumbers(): [string, string] {
  const seen = new Map<number, string>();
  for (let n = 0;; n++) {
    const number = `T${n}`;
    const h = hashKey(row(1, number, 100), KEY_SLOTS);
    const other = seen.get(h);
    if (other !== undefined) return [other, number];
    seen.set(h, number);
  }
}

Deno.test("every line of a repeated key is a candidate, across the table growing", () => {
  const c = new DuplicateCandidates(KEY_SLOTS);
  let line = 0;
  for (let i = 0; i < 50_000; i++) c.add(row(++line, `K${i}`, 100));
  c.add(row(++line, "K7", 100)); // repeats line 8
  c.add(row(++line, "K49999", 100)); // repeats line 50000
  c.add(row(++line, "K7", 100)); // a third K7
  c.add(row(++line, "K7", 200)); // another school: another key
  c.add(row(++line, 42, 100)); // a number and the text "42" are different values
  c.add(row(++line, "42", 100));
  const lines = new Set(c.lines);
  for (const l of [8, 50_001, 50_000, 50_002, 50_003]) assert.ok(lines.has(l), `line ${l}`);
  assert.equal(c.overflow, false);
  // Distinct keys make (almost) no candidates: only lines that share a hash.
  assert.ok(lines.size < 20, `${lines.size} candidates`);
});

Deno.test("past the candidate limit every staged key is checked instead", () => {
  const c = new DuplicateCandidates(KEY_SLOTS);
  let line = 0;
  for (let i = 0; i <= MAX_CANDIDATES / 2; i++) {
    c.add(row(++line, `K${i}`, 100));
    c.add(row(++line, `K${i}`, 100));
  }
  assert.equal(c.overflow, true);
  assert.deepEqual(c.lines, []);
});

Deno.test("keys that only share a hash are imported; a repeated key among them is rejected", async () => {
  const [a, b] = collidingTeacherNumbers();
  assert.notEqual(a, b);
  assert.equal(hashKey(row(1, a, 100), KEY_SLOTS), hashKey(row(2, b, 100), KEY_SLOTS));
  await using sb = await Sandbox.create();
  const { report } = await sb.import(
    [[a, "Ada", "Lovelace"], [b, "Alan", "Turing"], ["T-x", "Grace", "Hopper"], [
      "T-x",
      "Grace",
      "Hopper",
    ]].map((r) => r.join("\t")).join("\r\n") + "\r\n",
    { table: "teachers", fields: TEACHER_FIELDS },
  );
  assert.equal(report.status, "succeeded_with_errors", JSON.stringify(report));
  assert.deepEqual(report.errors.map((e) => [e.line, e.code]), [
    [3, "duplicate_key"],
    [4, "duplicate_key"],
  ]);
  assert.equal(report.counts.inserted, 2);
  assert.match(report.errors[0]!.message, /lines 3, 4/);
});

Deno.test("a file with more repeated keys than the candidate limit is checked in full", async () => {
  await using sb = await Sandbox.create();
  const lines: string[] = [];
  const pairs = MAX_CANDIDATES / 2 + 10;
  for (let i = 0; i < pairs; i++) {
    lines.push(`D${i}\tAda\tLovelace`, `D${i}\tAda\tLovelace`);
  }
  lines.push("U1\tAlan\tTuring");
  const { report } = await sb.import(lines.join("\r\n") + "\r\n", {
    table: "teachers",
    fields: TEACHER_FIELDS,
  });
  assert.equal(report.status, "succeeded_with_errors");
  assert.equal(report.counts.inserted, 1);
  assert.equal(report.counts.rejected, pairs * 2);
  assert.equal(report.errors.length, pairs * 2);
  assert.ok(report.errors.every((e) => e.code === "duplicate_key"));
});

Deno.test("a table sized up front from a guess finds the same candidates", () => {
  for (const guess of [0, 10, 1e6, 1e12]) {
    const c = new DuplicateCandidates(KEY_SLOTS, guess);
    let line = 0;
    for (let i = 0; i < 20_000; i++) c.add(row(++line, `K${i}`, 100));
    c.add(row(++line, "K123", 100));
    assert.ok(c.lines.includes(124) && c.lines.includes(line), `guess ${guess}`);
  }
});
