import assert from "node:assert/strict";
import { intFlag, parse, UsageError } from "../../src/cli/args.ts";

const OPTIONS = {
  table: { type: "string" },
  json: { type: "boolean" },
  school: { type: "string" },
} as const;

Deno.test("flags, values and positionals in any order", () => {
  const { values, positionals } = parse(
    ["a.txt", "--table", "students", "--json", "--school=100", "b.txt"],
    OPTIONS,
  );
  assert.deepEqual(values, { table: "students", json: true, school: "100" });
  assert.deepEqual(positionals, ["a.txt", "b.txt"]);
  assert.deepEqual(parse(["--school", "-1"], OPTIONS).values, { school: "-1" });
  assert.deepEqual(parse(["--", "--json", "-x"], OPTIONS).positionals, ["--json", "-x"]);
  assert.deepEqual(parse(["-"], OPTIONS).positionals, ["-"]);
});

Deno.test("unknown and malformed flags are usage errors", () => {
  const cases: [string[], RegExp][] = [
    [["--nope"], /Unknown option '--nope'/],
    [["-j"], /Unknown option '-j'/],
    [["--table"], /--table <value>' argument missing/],
    [["--table", "--json"], /--table <value>' argument missing/],
    [["--json=yes"], /does not take an argument/],
    [["--constructor", "x"], /Unknown option '--constructor'/],
  ];
  for (const [args, message] of cases) {
    assert.throws(
      () => parse(args, OPTIONS),
      (e) => e instanceof UsageError && message.test(e.message),
    );
  }
  assert.equal(intFlag("42", "limit"), 42);
  assert.throws(() => intFlag("4x", "limit"), /--limit expects a whole number/);
});
