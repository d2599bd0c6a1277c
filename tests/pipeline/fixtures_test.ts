/**
 * The import fixtures of tests/testdata/import/: every file option and every
 * file-level rejection of a file, as committed bytes (CRLF, CR, Windows ANSI,
 * Mac Roman, ISO 8859-1, UTF-8 with a byte-order mark, invalid UTF-8), each imported
 * through the real CLI (`autocomm import`) as cases.json describes. A file
 * that is rejected or empty must leave the database exactly as it was.
 */
import assert from "node:assert/strict";
import { type ImportOptions, Sandbox, seedSchool, testSetup } from "../support/sandbox.ts";
import { fixtures } from "../testdata/import/make.ts";

const DIR = new URL("../testdata/import/", import.meta.url);
const NOT_FIXTURES = new Set(["make.ts", "cases.json"]);

type Value = string | number | boolean | null;

/** A stored value to check after the import. */
interface RowCheck {
  table: string;
  keyField: string;
  key: Value;
  field: string;
  value: Value;
}

/** A row that must not exist after the import. */
interface AbsentCheck {
  table: string;
  keyField: string;
  key: Value;
}

interface Expect {
  status: string;
  exitCode: number;
  /** A subset of the report's counts. */
  counts?: Record<string, number>;
  /** Every row error as [line, field, code], in report order. */
  errors?: [number, string, string][];
  /** Every note code, in report order. */
  notes?: string[];
  /** A regular expression (source) the run message must match. */
  message?: string;
  rows?: RowCheck[];
  absent?: AbsentCheck[];
}

interface Case {
  file: string;
  /** One sentence; the test's name. */
  what: string;
  /** Run the shared {@linkcode seedSchool} before the import. */
  seed?: boolean;
  /** Extension tables added to the sandbox's {@linkcode testSetup}. */
  extensions?: unknown[];
  options: ImportOptions;
  expect: Expect;
}

// ---------------------------------------------------------------- reading cases.json

type Json = Record<string, unknown>;

function fail(where: string, what: string): never {
  throw new Error(`cases.json ${where}: ${what}`);
}

function object(v: unknown, where: string): Json {
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail(where, "not an object");
  return v as Json;
}

function string(v: unknown, where: string): string {
  if (typeof v !== "string") fail(where, "not a string");
  return v;
}

function number(v: unknown, where: string): number {
  if (typeof v !== "number") fail(where, "not a number");
  return v;
}

function array(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) fail(where, "not an array");
  return v;
}

function value(v: unknown, where: string): Value {
  if (v === null || ["string", "number", "boolean"].includes(typeof v)) return v as Value;
  fail(where, "not a JSON scalar");
}

function known(o: Json, keys: string[], where: string): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) fail(where, `unknown key ${k}`);
}

const OPTION_KEYS = [
  "table",
  "fields",
  "school",
  "fieldDelimiter",
  "recordDelimiter",
  "charset",
  "attendanceMode",
  "updateExisting",
  "ignoreBlankCells",
  "synchronize",
  "removalLimit",
  "inactivateExited",
  "expectRecordCount",
  "preview",
];

function options(v: unknown, where: string): ImportOptions {
  const o = object(v, where);
  known(o, OPTION_KEYS, where);
  string(o["table"], `${where}.table`);
  array(o["fields"], `${where}.fields`).forEach((f, i) => string(f, `${where}.fields[${i}]`));
  const oneOf = (key: string, allowed: string[]) => {
    if (o[key] !== undefined && !allowed.includes(string(o[key], `${where}.${key}`))) {
      fail(`${where}.${key}`, `not one of ${allowed.join(", ")}`);
    }
  };
  oneOf("fieldDelimiter", ["tab", "comma"]);
  oneOf("recordDelimiter", ["CRLF", "CR", "LF"]);
  oneOf("charset", ["windows-1252", "macintosh", "iso-8859-1", "utf-8"]);
  oneOf("attendanceMode", ["daily", "meeting"]);
  return o as unknown as ImportOptions;
}

function rowCheck(v: unknown, where: string): RowCheck {
  const o = object(v, where);
  known(o, ["table", "keyField", "key", "field", "value"], where);
  if (!("value" in o)) fail(where, "no value");
  return {
    table: string(o["table"], `${where}.table`),
    keyField: string(o["keyField"], `${where}.keyField`),
    key: value(o["key"], `${where}.key`),
    field: string(o["field"], `${where}.field`),
    value: value(o["value"], `${where}.value`),
  };
}

function absentCheck(v: unknown, where: string): AbsentCheck {
  const o = object(v, where);
  known(o, ["table", "keyField", "key"], where);
  return {
    table: string(o["table"], `${where}.table`),
    keyField: string(o["keyField"], `${where}.keyField`),
    key: value(o["key"], `${where}.key`),
  };
}

function expectation(v: unknown, where: string): Expect {
  const o = object(v, where);
  known(
    o,
    ["status", "exitCode", "counts", "errors", "notes", "message", "rows", "absent"],
    where,
  );
  const e: Expect = {
    status: string(o["status"], `${where}.status`),
    exitCode: number(o["exitCode"], `${where}.exitCode`),
  };
  if (o["counts"] !== undefined) {
    const counts = object(o["counts"], `${where}.counts`);
    e.counts = Object.fromEntries(
      Object.entries(counts).map(([k, n]) => [k, number(n, `${where}.counts.${k}`)]),
    );
  }
  if (o["errors"] !== undefined) {
    e.errors = array(o["errors"], `${where}.errors`).map((t, i) => {
      const at = `${where}.errors[${i}]`;
      const triple = array(t, at);
      if (triple.length !== 3) fail(at, "not a [line, field, code] triple");
      return [number(triple[0], at), string(triple[1], at), string(triple[2], at)];
    });
  }
  if (o["notes"] !== undefined) {
    e.notes = array(o["notes"], `${where}.notes`).map((n, i) => string(n, `${where}.notes[${i}]`));
  }
  if (o["message"] !== undefined) e.message = string(o["message"], `${where}.message`);
  if (o["rows"] !== undefined) {
    e.rows = array(o["rows"], `${where}.rows`).map((r, i) => rowCheck(r, `${where}.rows[${i}]`));
  }
  if (o["absent"] !== undefined) {
    e.absent = array(o["absent"], `${where}.absent`).map((r, i) =>
      absentCheck(r, `${where}.absent[${i}]`)
    );
  }
  return e;
}

function readCases(text: string): Case[] {
  return array(JSON.parse(text), "top level").map((v, i) => {
    const where = `[${i}]`;
    const o = object(v, where);
    known(o, ["file", "what", "seed", "extensions", "options", "expect"], where);
    const c: Case = {
      file: string(o["file"], `${where}.file`),
      what: string(o["what"], `${where}.what`),
      options: options(o["options"], `${where}.options`),
      expect: expectation(o["expect"], `${where}.expect`),
    };
    if (o["seed"] !== undefined) {
      if (typeof o["seed"] !== "boolean") fail(`${where}.seed`, "not a boolean");
      c.seed = o["seed"];
    }
    if (o["extensions"] !== undefined) c.extensions = array(o["extensions"], `${where}.extensions`);
    return c;
  });
}

const CASES = readCases(await Deno.readTextFile(new URL("cases.json", DIR)));

// ---------------------------------------------------------------- the cases

for (const c of CASES) {
  Deno.test(c.what, async () => {
    const setup = testSetup();
    if (c.extensions) (setup.extensions as unknown[]).push(...c.extensions);
    await using sb = await Sandbox.create({ setup });
    if (c.seed) await seedSchool(sb);
    const bytes = await Deno.readFile(new URL(c.file, DIR));
    const unchanged = c.expect.status === "rejected" || c.expect.status === "empty";
    const before = unchanged ? await sb.checksum() : undefined;

    const { code, report } = await sb.import(bytes, c.options);
    const shown = `${c.file}: ${JSON.stringify(report)}`;
    const e = c.expect;

    assert.equal(report.status, e.status, shown);
    assert.equal(code, e.exitCode, shown);
    if (e.counts) {
      const got = Object.fromEntries(Object.keys(e.counts).map((k) => [k, report.counts[k]]));
      assert.deepEqual(got, e.counts, shown);
    }
    if (e.errors) {
      assert.deepEqual(report.errors.map((r) => [r.line, r.field, r.code]), e.errors, shown);
    }
    if (e.notes) assert.deepEqual(report.notes.map((n) => n.code), e.notes, shown);
    if (e.message !== undefined) {
      assert.match(report.message ?? "", new RegExp(e.message), shown);
    }
    if (before !== undefined) {
      assert.equal(
        await sb.checksum(),
        before,
        `${c.file}: a ${e.status} file changed the database`,
      );
    }

    // One `sis` call per table rather than one per check.
    const tables = new Map<string, Promise<Record<string, unknown>[]>>();
    const rowsOf = (table: string) => {
      let rows = tables.get(table);
      if (!rows) tables.set(table, rows = sb.sis(table));
      return rows;
    };
    for (const r of e.rows ?? []) {
      const row = (await rowsOf(r.table)).find((x) => x[r.keyField] === r.key);
      assert.ok(row, `${c.file}: no ${r.table} row with ${r.keyField} ${JSON.stringify(r.key)}`);
      assert.deepEqual(
        row[r.field],
        r.value,
        `${c.file}: ${r.table} ${r.keyField} ${JSON.stringify(r.key)} ${r.field}`,
      );
    }
    for (const r of e.absent ?? []) {
      const row = (await rowsOf(r.table)).find((x) => x[r.keyField] === r.key);
      assert.equal(
        row,
        undefined,
        `${c.file}: a ${r.table} row with ${r.keyField} ${JSON.stringify(r.key)} exists`,
      );
    }
  });
}

// ---------------------------------------------------------------- the fixture set itself

Deno.test("every fixture file is used by exactly one case and every case has a fixture", async () => {
  const files: string[] = [];
  for await (const entry of Deno.readDir(DIR)) {
    if (entry.isFile && !NOT_FIXTURES.has(entry.name)) files.push(entry.name);
  }
  const used = CASES.map((c) => c.file);
  const twice = used.filter((f, i) => used.indexOf(f) !== i);
  assert.deepEqual(twice, [], "files used by more than one case");
  assert.deepEqual([...used].sort(), files.sort());
  const names = CASES.map((c) => c.what);
  assert.deepEqual(names.filter((n, i) => names.indexOf(n) !== i), [], "cases with the same name");
});

Deno.test("make.ts generates exactly the committed fixture bytes", async () => {
  const generated = fixtures();
  const committed: string[] = [];
  for await (const entry of Deno.readDir(DIR)) {
    if (entry.isFile && !NOT_FIXTURES.has(entry.name)) committed.push(entry.name);
  }
  assert.deepEqual([...generated.keys()].sort(), committed.sort());
  for (const [name, bytes] of generated) {
    assert.deepEqual(
      await Deno.readFile(new URL(name, DIR)),
      bytes,
      `${name} differs from make.ts`,
    );
  }
});
