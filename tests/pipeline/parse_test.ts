import assert from "node:assert/strict";
import { decodeStream } from "../../src/pipeline/decode.ts";
import { type FileNote, FileRejection } from "../../src/pipeline/errors.ts";
import {
  type FieldDelimiter,
  type ParsedRecord,
  parseRecords,
  type ParseStats,
  type RecordDelimiter,
} from "../../src/pipeline/parse.ts";

const TESTDATA = new URL("../testdata/encoding/", import.meta.url);

// ---------------------------------------------------------------- helpers

interface Parsed {
  records: ParsedRecord[];
  batches: number[];
  notes: FileNote[];
  stats: ParseStats;
}

interface Setup {
  field?: FieldDelimiter;
  record?: RecordDelimiter;
  batchSize?: number;
  maxRecordLength?: number;
}

async function* textSource(chunks: string[]): AsyncGenerator<string> {
  for (const chunk of chunks) yield chunk;
}

function chunksOf(text: string, size: number): string[] {
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
  return chunks;
}

async function parseChunks(chunks: string[], setup: Setup = {}): Promise<Parsed> {
  const notes: FileNote[] = [];
  const stats: ParseStats = { blankLines: 0, records: 0, lines: 0 };
  const records: ParsedRecord[] = [];
  const batches: number[] = [];
  for await (
    const batch of parseRecords(textSource(chunks), {
      fieldDelimiter: setup.field ?? "tab",
      recordDelimiter: setup.record ?? "LF",
      notes,
      stats,
      ...(setup.batchSize === undefined ? {} : { batchSize: setup.batchSize }),
      ...(setup.maxRecordLength === undefined ? {} : { maxRecordLength: setup.maxRecordLength }),
    })
  ) {
    batches.push(batch.length);
    records.push(...batch);
  }
  return { records, batches, notes, stats };
}

const parse = (text: string, setup: Setup = {}) => parseChunks([text], setup);

/** Fields of each record, for short assertions. */
const fieldsOf = (parsed: Parsed) => parsed.records.map((r) => r.fields);
const linesOf = (parsed: Parsed) => parsed.records.map((r) => r.line);

async function rejection(chunks: string[], setup: Setup = {}): Promise<FileRejection> {
  try {
    await parseChunks(chunks, setup);
  } catch (error) {
    assert.ok(error instanceof FileRejection, `expected a FileRejection, got ${error}`);
    return error;
  }
  assert.fail("expected the file to be rejected");
}

/** Every way of cutting the text in two, and chunks of 1 to 7 characters. */
function chunkings(text: string): string[][] {
  const all: string[][] = [];
  for (let at = 0; at <= text.length; at++) all.push([text.slice(0, at), text.slice(at)]);
  for (let size = 1; size <= 7; size++) all.push(chunksOf(text, size));
  return all;
}

async function assertSameAnyChunking(text: string, setup: Setup = {}): Promise<Parsed> {
  const whole = await parse(text, setup);
  for (const chunks of chunkings(text)) {
    const parsed = await parseChunks(chunks, setup);
    const how = `chunks ${JSON.stringify(chunks.map((c) => c.length))}`;
    assert.deepEqual(parsed.records, whole.records, how);
    assert.deepEqual(parsed.notes, whole.notes, how);
    assert.deepEqual(parsed.stats, whole.stats, how);
  }
  return whole;
}

const MISMATCH = "record_delimiter_mismatch";

// ---------------------------------------------------------------- records and fields

Deno.test("tab-delimited lines become records of untrimmed fields", async () => {
  const parsed = await parse("id\tname\n1\t Ann \n2\tBo\n");
  assert.deepEqual(parsed.records, [
    { line: 1, fields: ["id", "name"] },
    { line: 2, fields: ["1", " Ann "] },
    { line: 3, fields: ["2", "Bo"] },
  ]);
  assert.deepEqual(parsed.notes, []);
  assert.deepEqual(parsed.stats, { blankLines: 0, records: 3, lines: 3 });
});

Deno.test("comma-delimited lines become records of fields", async () => {
  const parsed = await parse("id,name\n1,Ann\n", { field: "comma" });
  assert.deepEqual(fieldsOf(parsed), [["id", "name"], ["1", "Ann"]]);
});

Deno.test("a tab in a comma file and a comma in a tab file are ordinary characters", async () => {
  assert.deepEqual(fieldsOf(await parse("a\tb,c\n", { field: "comma" })), [["a\tb", "c"]]);
  assert.deepEqual(fieldsOf(await parse("a\tb,c\n", { field: "tab" })), [["a", "b,c"]]);
});

Deno.test("a final record without a trailing delimiter is still a record", async () => {
  const parsed = await parse("a\tb\nc\td");
  assert.deepEqual(fieldsOf(parsed), [["a", "b"], ["c", "d"]]);
  assert.equal(parsed.stats.lines, 2);
});

Deno.test("a trailing record delimiter does not make an extra record or line", async () => {
  for (const record of ["LF", "CRLF", "CR"] as const) {
    const end = record === "LF" ? "\n" : record === "CRLF" ? "\r\n" : "\r";
    const parsed = await parse(`a${end}b${end}`, { record });
    assert.deepEqual(fieldsOf(parsed), [["a"], ["b"]], record);
    assert.deepEqual(parsed.stats, { blankLines: 0, records: 2, lines: 2 }, record);
  }
});

Deno.test("a single-record file without any line end is read", async () => {
  for (const record of ["LF", "CRLF", "CR"] as const) {
    const parsed = await parse("1\tAnn", { record });
    assert.deepEqual(parsed.records, [{ line: 1, fields: ["1", "Ann"] }], record);
    assert.deepEqual(parsed.notes, []);
  }
});

Deno.test("an empty file yields no batch", async () => {
  const parsed = await parseChunks(["", ""]);
  assert.deepEqual(parsed.batches, []);
  assert.deepEqual(parsed.stats, { blankLines: 0, records: 0, lines: 0 });
  assert.deepEqual((await parseChunks([])).batches, []);
});

Deno.test("trailing field delimiters make empty fields", async () => {
  assert.deepEqual(fieldsOf(await parse("a\t\t\nb\t\n")), [["a", "", ""], ["b", ""]]);
  assert.deepEqual(fieldsOf(await parse("a,b,\n,,\n", { field: "comma" })), [
    ["a", "b", ""],
    ["", "", ""],
  ]);
});

Deno.test("a line of field delimiters only is a record of empty fields, not a blank line", async () => {
  const parsed = await parse("a\tb\n\t\t\n \t \nc\td\n");
  assert.deepEqual(parsed.records, [
    { line: 1, fields: ["a", "b"] },
    { line: 2, fields: ["", "", ""] },
    { line: 3, fields: [" ", " "] },
    { line: 4, fields: ["c", "d"] },
  ]);
  assert.equal(parsed.stats.blankLines, 0);
});

// ---------------------------------------------------------------- blank lines

Deno.test("blank lines are skipped, counted, and still count as physical lines", async () => {
  const text = "\nid\tname\n\n  \n1\tAnn\n\t\n \u00a0 \n2\tBo\n\n";
  const parsed = await parse(text);
  assert.deepEqual(parsed.records, [
    { line: 2, fields: ["id", "name"] },
    { line: 5, fields: ["1", "Ann"] },
    { line: 6, fields: ["", ""] },
    { line: 8, fields: ["2", "Bo"] },
  ]);
  assert.deepEqual(parsed.stats, { blankLines: 5, records: 4, lines: 9 });
});

Deno.test("a whitespace-only line with a tab is blank in a comma file", async () => {
  const parsed = await parse("a,b\n \t \nc,d\n", { field: "comma" });
  assert.deepEqual(linesOf(parsed), [1, 3]);
  assert.equal(parsed.stats.blankLines, 1);
});

Deno.test("blank CRLF and CR lines are counted", async () => {
  const crlf = await parse("a\r\n\r\n \r\nb\r\n", { record: "CRLF" });
  assert.deepEqual(linesOf(crlf), [1, 4]);
  assert.deepEqual(crlf.stats, { blankLines: 2, records: 2, lines: 4 });
  const cr = await parse("a\r\r \rb\r", { record: "CR" });
  assert.deepEqual(linesOf(cr), [1, 4]);
  assert.deepEqual(cr.stats, { blankLines: 2, records: 2, lines: 4 });
});

Deno.test("a whitespace-only last line without a line end is blank", async () => {
  const parsed = await parse("a\n   ");
  assert.deepEqual(fieldsOf(parsed), [["a"]]);
  assert.deepEqual(parsed.stats, { blankLines: 1, records: 1, lines: 2 });
});

Deno.test("a file of blank lines has no records", async () => {
  const parsed = await parse("\n \n\r\n");
  assert.deepEqual(parsed.batches, []);
  assert.deepEqual(parsed.stats, { blankLines: 3, records: 0, lines: 3 });
});

Deno.test("a quoted empty field is a record, not a blank line", async () => {
  const parsed = await parse('a\n""\n" "\n');
  assert.deepEqual(fieldsOf(parsed), [["a"], [""], [" "]]);
  assert.equal(parsed.stats.blankLines, 0);
});

// ---------------------------------------------------------------- record delimiters

Deno.test("each record delimiter reads a file of its own kind without a note", async () => {
  const cases: [RecordDelimiter, string][] = [
    ["LF", "a\tb\nc\td\n"],
    ["CRLF", "a\tb\r\nc\td\r\n"],
    ["CR", "a\tb\rc\td\r"],
  ];
  for (const [record, text] of cases) {
    const parsed = await parse(text, { record });
    assert.deepEqual(fieldsOf(parsed), [["a", "b"], ["c", "d"]], record);
    assert.deepEqual(parsed.notes, [], record);
  }
});

Deno.test("a CRLF file under an LF setting is read correctly and noted once", async () => {
  const parsed = await parse("a\tb\r\nc\td\r\ne\tf\r\n", { record: "LF" });
  assert.deepEqual(fieldsOf(parsed), [["a", "b"], ["c", "d"], ["e", "f"]]);
  assert.deepEqual(parsed.notes, [{
    code: MISMATCH,
    message: "The file uses CRLF line ends; the record says LF. Read correctly.",
  }]);
});

Deno.test("an LF file under a CRLF setting is read correctly and noted once", async () => {
  const parsed = await parse("a\tb\nc\td\n", { record: "CRLF" });
  assert.deepEqual(fieldsOf(parsed), [["a", "b"], ["c", "d"]]);
  assert.deepEqual(parsed.notes, [{
    code: MISMATCH,
    message: "The file uses LF line ends; the record says CRLF. Read correctly.",
  }]);
});

Deno.test("a CRLF file under a CR setting is read as CRLF and noted once", async () => {
  const parsed = await parse("a\tb\r\n\r\nc\td\r\n", { record: "CR" });
  assert.deepEqual(parsed.records, [
    { line: 1, fields: ["a", "b"] },
    { line: 3, fields: ["c", "d"] },
  ]);
  assert.deepEqual(parsed.stats, { blankLines: 1, records: 2, lines: 3 });
  assert.deepEqual(parsed.notes, [{
    code: MISMATCH,
    message: "The file uses CRLF line ends; the record says CR. Read correctly.",
  }]);
});

Deno.test("a CRLF line end later in an LF file is read and noted", async () => {
  const parsed = await parse("a\nb\nc\r\nd\n", { record: "LF" });
  assert.deepEqual(fieldsOf(parsed), [["a"], ["b"], ["c"], ["d"]]);
  assert.equal(parsed.notes.length, 1);
  assert.equal(parsed.notes[0]?.code, MISMATCH);
});

Deno.test("a CR file under an LF setting is rejected, naming CR", async () => {
  const error = await rejection(["a\tb\rc\td\r"], { record: "LF" });
  assert.equal(error.code, "wrong_record_delimiter");
  assert.equal(error.line, 1);
  assert.equal(
    error.message,
    "Cannot split records: the record delimiter is set to LF but the file uses CR (Mac) line ends",
  );
});

Deno.test("a CR file under a CRLF setting is rejected, naming CR", async () => {
  const error = await rejection(chunksOf("a\tb\rc\td\r", 1), { record: "CRLF" });
  assert.equal(error.code, "wrong_record_delimiter");
  assert.equal(
    error.message,
    "Cannot split records: the record delimiter is set to CRLF but the file uses CR (Mac) " +
      "line ends",
  );
});

Deno.test("an LF file under a CR setting is rejected, naming LF", async () => {
  const error = await rejection(["a\tb\nc\td\n"], { record: "CR" });
  assert.equal(error.code, "wrong_record_delimiter");
  assert.equal(error.line, 1);
  assert.equal(
    error.message,
    "Cannot split records: the record delimiter is set to CR but the file uses LF (Unix) " +
      "line ends",
  );
});

Deno.test("the record delimiter is judged over more than one small chunk", async () => {
  // The first chunk ends with the CR of a CRLF: the decision waits for the next chunk.
  const parsed = await parseChunks(["a\tb\r", "\nc\td\r\n"], { record: "CRLF" });
  assert.deepEqual(fieldsOf(parsed), [["a", "b"], ["c", "d"]]);
  assert.deepEqual(parsed.notes, []);
  // A CR file fed one character at a time is still rejected under LF.
  const error = await rejection(chunksOf("x\ry\rz", 1), { record: "LF" });
  assert.equal(error.code, "wrong_record_delimiter");
});

Deno.test("a lone CR inside an LF file is an ordinary character", async () => {
  const parsed = await parse("a\rb\tc\nd\n", { record: "LF" });
  assert.deepEqual(fieldsOf(parsed), [["a\rb", "c"], ["d"]]);
  assert.deepEqual(parsed.notes, []);
});

Deno.test("a file whose first line end is CR but that has LF later is split on LF", async () => {
  const parsed = await parse("a\rb\nc\n", { record: "LF" });
  assert.deepEqual(fieldsOf(parsed), [["a\rb"], ["c"]]);
});

Deno.test("a CRLF split between chunks ends the record once", async () => {
  for (const record of ["LF", "CRLF", "CR"] as const) {
    const parsed = await parseChunks(["a\tb\r\nc\r", "\nd\r", "\n"], { record });
    assert.deepEqual(parsed.records, [
      { line: 1, fields: ["a", "b"] },
      { line: 2, fields: ["c"] },
      { line: 3, fields: ["d"] },
    ], record);
    assert.equal(parsed.stats.lines, 3, record);
  }
});

Deno.test("a lone CR at the end of an LF file stays in the last field", async () => {
  const parsed = await parseChunks(["a\nb\r"], { record: "LF" });
  assert.deepEqual(fieldsOf(parsed), [["a"], ["b\r"]]);
});

// ---------------------------------------------------------------- quotes

Deno.test("a quoted field keeps field and record delimiters as literal text", async () => {
  const tab = await parse('1\t"a\tb"\t"x\ny"\t3\n2\tz\n');
  assert.deepEqual(tab.records, [
    { line: 1, fields: ["1", "a\tb", "x\ny", "3"] },
    { line: 3, fields: ["2", "z"] },
  ]);
  const comma = await parse('1,"a,b","x\ny",3\n2,z\n', { field: "comma" });
  assert.deepEqual(comma.records, [
    { line: 1, fields: ["1", "a,b", "x\ny", "3"] },
    { line: 3, fields: ["2", "z"] },
  ]);
});

Deno.test("line numbers after a quoted field with several line ends account for them", async () => {
  const text = 'h1\th2\n1\t"line one\nline two\n\nline four"\n\n2\tnext\n3\t"a\r\nb"\r\n4\tlast';
  const parsed = await parse(text);
  assert.deepEqual(parsed.records, [
    { line: 1, fields: ["h1", "h2"] },
    { line: 2, fields: ["1", "line one\nline two\n\nline four"] },
    { line: 7, fields: ["2", "next"] },
    { line: 8, fields: ["3", "a\r\nb"] },
    { line: 10, fields: ["4", "last"] },
  ]);
  assert.deepEqual(parsed.stats, { blankLines: 1, records: 5, lines: 10 });
});

Deno.test("a CR inside quotes counts a line in a CR file", async () => {
  const parsed = await parse('1\t"a\rb"\r2\tc\r', { record: "CR" });
  assert.deepEqual(parsed.records, [
    { line: 1, fields: ["1", "a\rb"] },
    { line: 3, fields: ["2", "c"] },
  ]);
});

Deno.test("two quotes inside a quoted field are one literal quote", async () => {
  const tab = await parse('"say ""hi"""\t""""\t"a""b"\n');
  assert.deepEqual(fieldsOf(tab), [['say "hi"', '"', 'a"b']]);
  const comma = await parse('"say ""hi""",""""\n', { field: "comma" });
  assert.deepEqual(fieldsOf(comma), [['say "hi"', '"']]);
});

Deno.test("a quoted stretch inside a comma field keeps its comma", async () => {
  const parsed = await parse('1,Suite"," 4,x\n2,"a"b,c\n', { field: "comma" });
  assert.deepEqual(fieldsOf(parsed), [["1", "Suite, 4", "x"], ["2", "ab", "c"]]);
});

Deno.test("in a comma field a later quote opens a quoted stretch again", async () => {
  const parsed = await parse('"a,"b"c,d"e,f\n', { field: "comma" });
  assert.deepEqual(fieldsOf(parsed), [["a,bc,de", "f"]]);
});

Deno.test("a quote not at the start of a tab field is an ordinary character", async () => {
  const parsed = await parse(`1\t5'10"\tab"c\tz\n2\tsay "hi"\tx\n`);
  assert.deepEqual(fieldsOf(parsed), [["1", `5'10"`, 'ab"c', "z"], ["2", 'say "hi"', "x"]]);
});

Deno.test("a bare quote in a tab field does not swallow the line end", async () => {
  const parsed = await parse("1\t5'10\"\n2\t6'1\"\n");
  assert.deepEqual(parsed.records, [
    { line: 1, fields: ["1", "5'10\""] },
    { line: 2, fields: ["2", "6'1\""] },
  ]);
});

Deno.test("text after the closing quote of a tab field is appended literally", async () => {
  const parsed = await parse('"Bud" Smith\t"a"b"c\t"x\ty"z\n');
  assert.deepEqual(fieldsOf(parsed), [["Bud Smith", 'ab"c', "x\tyz"]]);
});

Deno.test("a quoted field may be followed by a CRLF under an LF setting", async () => {
  const parsed = await parse('"a"\t"b"\r\n"c"\r\n', { record: "LF" });
  assert.deepEqual(fieldsOf(parsed), [["a", "b"], ["c"]]);
  assert.equal(parsed.notes[0]?.code, MISMATCH);
});

Deno.test("a CR inside quotes is kept under an LF setting", async () => {
  const parsed = await parse('"a\r"\n', { record: "LF" });
  assert.deepEqual(fieldsOf(parsed), [["a\r"]]);
});

Deno.test("an unclosed quote rejects the file with the line and column of the quote", async () => {
  const text = 'id\tname\tnote\n1\tAnn\tok\n\n2\tBo\t"never closed\n3\tCy\tz\n';
  const error = await rejection([text]);
  assert.equal(error.code, "unclosed_quote");
  assert.equal(error.line, 4);
  assert.equal(error.column, 6);
  assert.equal(error.message, "Cannot read line 4: a quote opened at column 6 is never closed");
});

Deno.test("an unclosed quote in a comma field is found at any chunking", async () => {
  const text = 'a,b\nc,Suite "4, d\ne,f\n';
  for (const chunks of chunkings(text)) {
    const error = await rejection(chunks, { field: "comma" });
    assert.equal(error.line, 2);
    assert.equal(error.column, 9);
  }
});

Deno.test("the column of an unclosed quote counts characters, not UTF-16 units", async () => {
  // The second text has a chunking that ends just after a "" inside the open quote.
  for (const text of ['a\n😀é😀\t"x\n', 'a\n😀é😀\t"x""y\n']) {
    for (const chunks of chunkings(text)) {
      const error = await rejection(chunks);
      assert.equal(error.line, 2);
      assert.equal(error.column, 5, JSON.stringify(chunks));
    }
  }
});

Deno.test("an overlong record with an open quote is rejected before the end", async () => {
  const text = 'a\tb\n1\t"x\n' + "filler line\n".repeat(200);
  const error = await rejection(chunksOf(text, 64), { maxRecordLength: 1000 });
  assert.equal(error.code, "unclosed_quote");
  assert.equal(error.line, 2);
  assert.equal(error.column, 3);
  assert.equal(
    error.message,
    "Cannot read line 2: a quote opened at column 3 is not closed within 1000 characters",
  );
});

Deno.test("an overlong record without quotes is rejected", async () => {
  const error = await rejection(chunksOf("a\n" + "x".repeat(5000), 100), {
    maxRecordLength: 1000,
  });
  assert.equal(error.code, "record_too_long");
  assert.equal(error.line, 2);
});

// ---------------------------------------------------------------- chunk boundaries

const MIXED_TAB = [
  "id\tname\tnote",
  "",
  '1\t"Ann\tMarie"\t"two\nlines"',
  '2\t5\'10"\t"say ""hi"""',
  "   ",
  '3\t"Bud" Smith\t',
  "\t\t",
  "4\tJosé 😀\tlast",
].join("\n");

Deno.test("a tab file parses the same at every chunk boundary (LF)", async () => {
  const parsed = await assertSameAnyChunking(MIXED_TAB);
  assert.deepEqual(parsed.records, [
    { line: 1, fields: ["id", "name", "note"] },
    { line: 3, fields: ["1", "Ann\tMarie", "two\nlines"] },
    { line: 5, fields: ["2", "5'10\"", 'say "hi"'] },
    { line: 7, fields: ["3", "Bud Smith", ""] },
    { line: 8, fields: ["", "", ""] },
    { line: 9, fields: ["4", "José 😀", "last"] },
  ]);
  assert.deepEqual(parsed.stats, { blankLines: 2, records: 6, lines: 9 });
});

Deno.test("a tab file parses the same at every chunk boundary (CRLF under LF)", async () => {
  const parsed = await assertSameAnyChunking(MIXED_TAB.replaceAll("\n", "\r\n") + "\r\n");
  assert.deepEqual(linesOf(parsed), [1, 3, 5, 7, 8, 9]);
  assert.deepEqual(parsed.records[1]?.fields, ["1", "Ann\tMarie", "two\r\nlines"]);
  assert.equal(parsed.notes.length, 1);
});

Deno.test("a tab file parses the same at every chunk boundary (CR)", async () => {
  const parsed = await assertSameAnyChunking(MIXED_TAB.replaceAll("\n", "\r"), { record: "CR" });
  assert.deepEqual(linesOf(parsed), [1, 3, 5, 7, 8, 9]);
  assert.deepEqual(parsed.records[1]?.fields, ["1", "Ann\tMarie", "two\rlines"]);
  assert.deepEqual(parsed.notes, []);
});

Deno.test("a CRLF file under a CR setting parses the same at every chunk boundary", async () => {
  const parsed = await assertSameAnyChunking(MIXED_TAB.replaceAll("\n", "\r\n"), {
    record: "CR",
  });
  assert.deepEqual(linesOf(parsed), [1, 3, 5, 7, 8, 9]);
  assert.equal(parsed.notes.length, 1);
});

const MIXED_COMMA = [
  "id,name,address",
  '1,"Smith, Ann","12 Main St, Suite"" 4"""',
  '2,Bo,Suite"," 4',
  "",
  '3,"multi',
  'line",x,',
  ",,",
  '4,"a""b",""',
].join("\r\n");

Deno.test("a comma file parses the same at every chunk boundary", async () => {
  const parsed = await assertSameAnyChunking(MIXED_COMMA, { field: "comma", record: "CRLF" });
  assert.deepEqual(parsed.records, [
    { line: 1, fields: ["id", "name", "address"] },
    { line: 2, fields: ["1", "Smith, Ann", '12 Main St, Suite" 4"'] },
    { line: 3, fields: ["2", "Bo", "Suite, 4"] },
    { line: 5, fields: ["3", "multi\r\nline", "x", ""] },
    { line: 7, fields: ["", "", ""] },
    { line: 8, fields: ["4", 'a"b', ""] },
  ]);
  assert.deepEqual(parsed.stats, { blankLines: 1, records: 6, lines: 8 });
  assert.deepEqual(parsed.notes, []);
});

Deno.test("random chunkings of a long file give the same records", async () => {
  const rows: string[] = [];
  for (let i = 0; i < 300; i++) {
    rows.push(
      i % 7 === 0 ? "" : i % 5 === 0 ? `${i},"q, ${i}\nmore",Suite"," ${i}` : `${i},José,x${i},`,
    );
  }
  const text = rows.join("\r\n");
  const whole = await parse(text, { field: "comma" });
  let seed = 42;
  for (let round = 0; round < 20; round++) {
    const chunks: string[] = [];
    let i = 0;
    while (i < text.length) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const size = 1 + (seed % 97);
      chunks.push(text.slice(i, i + size));
      i += size;
    }
    const parsed = await parseChunks(chunks, { field: "comma" });
    assert.deepEqual(parsed.records, whole.records, `round ${round}`);
    assert.deepEqual(parsed.stats, whole.stats);
  }
  assert.equal(whole.stats.blankLines, 43);
  assert.equal(whole.records.at(-1)?.line, 300 + 51); // the 51 quoted rows span two lines
});

// ---------------------------------------------------------------- batches

Deno.test("records come in batches of the batch size", async () => {
  const parsed = await parse("a\nb\nc\nd\ne\n", { batchSize: 2 });
  assert.deepEqual(parsed.batches, [2, 2, 1]);
  assert.deepEqual(fieldsOf(parsed), [["a"], ["b"], ["c"], ["d"], ["e"]]);
  assert.equal(parsed.stats.records, 5);
});

Deno.test("the default batch size is 2000 records", async () => {
  const parsed = await parseChunks(chunksOf("1\tx\n".repeat(4500), 1000));
  assert.deepEqual(parsed.batches, [2000, 2000, 500]);
  assert.equal(parsed.records[4499]?.line, 4500);
});

Deno.test("the parser yields batches before it has read the whole input", async () => {
  let pulled = 0;
  async function* counted(): AsyncGenerator<string> {
    for (let i = 0; i < 1000; i++) {
      pulled++;
      yield `${i}\tname\n`.repeat(10);
    }
  }
  const stats: ParseStats = { blankLines: 0, records: 0, lines: 0 };
  const batches = parseRecords(counted(), {
    fieldDelimiter: "tab",
    recordDelimiter: "LF",
    notes: [],
    stats,
    batchSize: 10,
  });
  const first = await batches.next();
  assert.equal(first.done, false);
  assert.equal(first.value?.length, 10);
  assert.ok(pulled <= 2, `pulled ${pulled} chunks for the first batch`);
  assert.equal(stats.records, 10);
  await batches.return(undefined);
});

// ---------------------------------------------------------------- with the decoder

async function parseFixture(name: string, record: RecordDelimiter): Promise<Parsed> {
  using file = await Deno.open(new URL(name, TESTDATA));
  const notes: FileNote[] = [];
  const stats: ParseStats = { blankLines: 0, records: 0, lines: 0 };
  const records: ParsedRecord[] = [];
  const text = decodeStream(file.readable, "utf-8", { notes });
  for await (
    const batch of parseRecords(text, {
      fieldDelimiter: "tab",
      recordDelimiter: record,
      notes,
      stats,
    })
  ) records.push(...batch);
  return { records, batches: [], notes, stats };
}

Deno.test("the CRLF fixture file reads with line numbers across a quoted line end", async () => {
  const parsed = await parseFixture("crlf.txt", "CRLF");
  assert.deepEqual(parsed.records, [
    { line: 1, fields: ["id", "name"] },
    { line: 2, fields: ["1", "Ann"] },
    { line: 4, fields: ["2", "Bo\r\nJo"] },
  ]);
  assert.deepEqual(parsed.stats, { blankLines: 1, records: 3, lines: 5 });
  assert.deepEqual(parsed.notes, []);
});

Deno.test("the CR fixture file reads under CR and is rejected under LF", async () => {
  const parsed = await parseFixture("cr.txt", "CR");
  assert.deepEqual(parsed.records, [
    { line: 1, fields: ["id", "name"] },
    { line: 2, fields: ["1", "Ann"] },
    { line: 4, fields: ["2", "Bo"] },
  ]);
  await assert.rejects(parseFixture("cr.txt", "LF"), (error) => {
    assert.ok(error instanceof FileRejection);
    assert.equal(error.code, "wrong_record_delimiter");
    assert.match(error.message, /uses CR \(Mac\) line ends/);
    return true;
  });
});

// ---------------------------------------------------------------- against a reference

/**
 * A deliberately naive parser of the same rules: the whole text, one character at a
 * time. Returns the records, blank lines and lines, or the unclosed quote's position.
 */
function referenceParse(text: string, comma: boolean, splitOnCR: boolean) {
  const delimiter = comma ? "," : "\t";
  const lineEnd = splitOnCR ? "\r" : "\n";
  const records: ParsedRecord[] = [];
  let blankLines = 0;
  let line = 1;
  let lineStart = 0;
  let recordLine = 1;
  let inRecord = false;
  let fields: string[] = [];
  let field = "";
  let quoted = false;
  let state: "start" | "plain" | "quoted" | "quote" = "start";
  let quoteAt = "";
  const endRecord = () => {
    fields.push(field);
    if (!quoted && fields.length === 1 && field.trim() === "") blankLines++;
    else records.push({ line: recordLine, fields });
    fields = [];
    field = "";
    quoted = false;
    inRecord = false;
    state = "start";
  };
  const openQuote = (i: number) => {
    state = "quoted";
    quoted = true;
    quoteAt = `${line}:${[...text.slice(lineStart, i)].length + 1}`;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (!inRecord) {
      inRecord = true;
      recordLine = line;
    }
    if (state === "quote") {
      if (c === '"') {
        field += c;
        state = "quoted";
        continue;
      }
      state = "plain";
    }
    if (state === "quoted") {
      if (c === '"') state = "quote";
      else {
        if (c === lineEnd) {
          line++;
          lineStart = i + 1;
        }
        field += c;
      }
      continue;
    }
    if (state === "start") {
      state = "plain";
      if (c === '"') {
        openQuote(i);
        continue;
      }
    }
    if (c === delimiter) {
      fields.push(field);
      field = "";
      state = "start";
    } else if (comma && c === '"') {
      openQuote(i);
    } else if (c === lineEnd || (c === "\r" && text[i + 1] === "\n")) {
      endRecord();
      if (c === "\r" && text[i + 1] === "\n") i++;
      line++;
      lineStart = i + 1;
    } else {
      field += c;
    }
  }
  if (state === "quoted") return { unclosed: quoteAt };
  if (inRecord) {
    endRecord();
    line++;
  }
  return { records, blankLines, lines: line - 1 };
}

Deno.test("the parser agrees with a naive reference on random text and chunks", async () => {
  const pieces = ["a", "b", " ", "\t", ",", '"', '"', "\n", "\r", "\r\n", "é", "😀", "\u00a0"];
  const next = (() => {
    let seed = 20240611;
    return (below: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor((seed / 2147483648) * below);
    };
  })();
  let compared = 0;
  for (let round = 0; round < 3000; round++) {
    let text = "";
    for (let k = next(40); k > 0; k--) text += pieces[next(pieces.length)];
    const comma = next(2) === 1;
    const record = (["LF", "CRLF", "CR"] as const)[next(3)] ?? "LF";
    const chunks: string[] = [];
    for (let i = 0; i < text.length;) {
      const size = 1 + next(6);
      chunks.push(text.slice(i, i + size));
      i += size;
    }
    const setup: Setup = { field: comma ? "comma" : "tab", record };
    const expected = referenceParse(text, comma, record === "CR");
    const how = `${JSON.stringify(text)} ${setup.field} ${record}`;
    let actual;
    try {
      const parsed = await parseChunks(chunks, setup);
      actual = {
        records: parsed.records,
        blankLines: parsed.stats.blankLines,
        lines: parsed.stats.lines,
      };
    } catch (error) {
      assert.ok(error instanceof FileRejection, how);
      if (error.code === "wrong_record_delimiter") continue;
      actual = { unclosed: `${error.line}:${error.column}` };
    }
    assert.deepEqual(actual, expected, how);
    compared++;
  }
  assert.ok(compared > 2500, `compared ${compared}`);
});
