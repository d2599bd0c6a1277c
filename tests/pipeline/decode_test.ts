import assert from "node:assert/strict";
import { type Charset, decodeStream, findUtf8Fault } from "../../src/pipeline/decode.ts";
import { type FileNote, FileRejection } from "../../src/pipeline/errors.ts";

const TESTDATA = new URL("../testdata/encoding/", import.meta.url);

// ---------------------------------------------------------------- helpers

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

function bytesOf(...parts: (string | number[] | Uint8Array)[]): Uint8Array {
  const arrays = parts.map((p) =>
    typeof p === "string" ? utf8(p) : p instanceof Uint8Array ? p : Uint8Array.from(p)
  );
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let offset = 0;
  for (const a of arrays) {
    out.set(a, offset);
    offset += a.length;
  }
  return out;
}

async function* source(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield chunk;
}

function split(bytes: Uint8Array, size: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.slice(i, i + size));
  return chunks;
}

/** A small seeded PRNG (mulberry32), so random chunkings are repeatable. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomSplit(bytes: Uint8Array, seed: number, max: number): Uint8Array[] {
  const next = random(seed);
  const chunks: Uint8Array[] = [];
  let i = 0;
  while (i < bytes.length) {
    const size = 1 + Math.floor(next() * max);
    chunks.push(bytes.slice(i, i + size));
    i += size;
  }
  return chunks;
}

async function decode(
  chunks: Uint8Array[],
  charset: Charset,
  notes: FileNote[] = [],
): Promise<string> {
  let text = "";
  for await (const piece of decodeStream(source(chunks), charset, { notes })) text += piece;
  return text;
}

async function rejection(chunks: Uint8Array[], charset: Charset): Promise<FileRejection> {
  try {
    await decode(chunks, charset);
  } catch (error) {
    assert.ok(error instanceof FileRejection, `expected a FileRejection, got ${error}`);
    return error;
  }
  assert.fail("expected the file to be rejected");
}

async function readFixture(name: string, charset: Charset, notes: FileNote[] = []) {
  using file = await Deno.open(new URL(name, TESTDATA));
  let text = "";
  for await (const piece of decodeStream(file.readable, charset, { notes })) text += piece;
  return text;
}

const ANSI_HINT =
  "; the file looks like Windows ANSI (windows-1252) — check the record's Character Set";

// ---------------------------------------------------------------- windows-1252

Deno.test("windows-1252 decodes accented letters, the euro sign and curly quotes", async () => {
  const bytes = bytesOf("Jos", [0xe9], " Mu", [0xf1], "ez M", [0xfc], "ller ", [0x80], "5 ");
  const quotes = bytesOf([0x91], "a", [0x92], " ", [0x93], "b", [0x94], " ", [0x96], [0x97]);
  assert.equal(
    await decode([bytesOf(bytes, quotes)], "windows-1252"),
    "José Muñez Müller €5 ‘a’ “b” –—",
  );
});

Deno.test("a windows-1252 file is decoded the same whatever its chunking", async () => {
  const bytes = await Deno.readFile(new URL("cp1252.txt", TESTDATA));
  const whole = await decode([bytes], "windows-1252");
  assert.equal(
    whole,
    "Last\tFirst\tNote\r\nMüller\tJosé\t€5 ‘single’ “double”\r\nNuñez\tZoë\tCafé\r\n",
  );
  assert.equal(await decode(split(bytes, 1), "windows-1252"), whole);
  assert.equal(await decode(randomSplit(bytes, 7, 9), "windows-1252"), whole);
});

Deno.test("the windows-1252 fixture file decodes when streamed from disk", async () => {
  const notes: FileNote[] = [];
  const text = await readFixture("cp1252.txt", "windows-1252", notes);
  assert.ok(text.includes("Müller\tJosé\t€5 ‘single’ “double”"));
  assert.deepEqual(notes, []);
});

// ---------------------------------------------------------------- Mac Roman

Deno.test("Mac Roman maps its high bytes by the Mac OS Roman table", async () => {
  const cases: [number, string][] = [
    [0x80, "Ä"],
    [0x87, "á"],
    [0x8e, "é"],
    [0x96, "ñ"],
    [0x9f, "ü"],
    [0xa5, "•"],
    [0xa7, "ß"],
    [0xc7, "«"],
    [0xc9, "…"],
    [0xca, "\u00a0"],
    [0xd0, "–"],
    [0xd1, "—"],
    [0xd2, "“"],
    [0xd3, "”"],
    [0xd4, "‘"],
    [0xd5, "’"],
    [0xdb, "€"],
    [0xde, "ﬁ"],
    [0xf0, "\uf8ff"],
    [0xff, "ˇ"],
  ];
  for (const [byte, expected] of cases) {
    assert.equal(await decode([Uint8Array.of(byte)], "macintosh"), expected, `byte ${byte}`);
  }
  assert.equal(await decode([utf8("plain ASCII\r")], "macintosh"), "plain ASCII\r");
});

Deno.test("the Mac Roman fixture file decodes with its CR line ends kept", async () => {
  const text = await readFixture("macroman.txt", "macintosh");
  assert.equal(
    text,
    "Last\tFirst\tNote\rMüller\tJosé\t€5 ‘single’ “double”\rNuñez\tZoë\tCafé\r",
  );
});

// ---------------------------------------------------------------- ISO 8859-1

Deno.test("ISO 8859-1 maps every byte to the code point of the same number", async () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const text = await decode([all], "iso-8859-1");
  assert.equal(text.length, 256);
  for (let i = 0; i < 256; i++) assert.equal(text.charCodeAt(i), i, `byte ${i}`);
});

Deno.test("ISO 8859-1 keeps 0x80–0x9F as C1 controls, unlike windows-1252", async () => {
  const bytes = Uint8Array.of(0x80, 0x92, 0x9f);
  assert.equal(await decode([bytes], "iso-8859-1"), "\u0080\u0092\u009f");
  assert.equal(await decode([bytes], "windows-1252"), "€’Ÿ");
});

Deno.test("ISO 8859-1 decodes chunks larger than one conversion slice", async () => {
  const next = random(3);
  const bytes = Uint8Array.from({ length: 70_000 }, () => Math.floor(next() * 256));
  const text = await decode([bytes], "iso-8859-1");
  assert.equal(text.length, bytes.length);
  for (let i = 0; i < bytes.length; i += 997) assert.equal(text.charCodeAt(i), bytes[i]);
  assert.equal(text.charCodeAt(69_999), bytes[69_999]);
  assert.equal(await decode(randomSplit(bytes, 11, 20_000), "iso-8859-1"), text);
});

Deno.test("the ISO 8859-1 fixture file keeps its 0x80–0x9F bytes", async () => {
  const text = await readFixture("latin1.txt", "iso-8859-1");
  let controls = "";
  for (let c = 0x80; c <= 0x9f; c++) controls += String.fromCharCode(c);
  assert.equal(text, `C1:${controls}\nJosé\tÿ\n`);
});

// ---------------------------------------------------------------- UTF-8

Deno.test("UTF-8 decodes accented letters, the euro sign, curly quotes and emoji", async () => {
  const text = "José Muñoz Müller €5 ‘a’ “b” 中文 😀";
  assert.equal(await decode([utf8(text)], "utf-8"), text);
});

Deno.test("a UTF-8 byte-order mark at the start is removed", async () => {
  const bytes = bytesOf([0xef, 0xbb, 0xbf], "Last\tFirst\n");
  assert.equal(await decode([bytes], "utf-8"), "Last\tFirst\n");
});

Deno.test("a UTF-8 byte-order mark split over chunks is still removed", async () => {
  const bytes = bytesOf([0xef, 0xbb, 0xbf], "id\n");
  assert.equal(await decode(split(bytes, 1), "utf-8"), "id\n");
  assert.equal(await decode(split(bytes, 2), "utf-8"), "id\n");
});

Deno.test("a byte-order mark later in a UTF-8 file is kept as a character", async () => {
  const bytes = bytesOf([0xef, 0xbb, 0xbf], "a\n", [0xef, 0xbb, 0xbf], "b\n");
  assert.equal(await decode([bytes], "utf-8"), "a\n\ufeffb\n");
});

Deno.test("the UTF-8 fixture with a byte-order mark decodes without it", async () => {
  assert.equal(await readFixture("utf8_bom.txt", "utf-8"), "Last\tFirst\nMüller\tJosé\n");
});

Deno.test("a UTF-8 byte-order mark under another charset is kept and noted", async () => {
  const notes: FileNote[] = [];
  const bytes = bytesOf([0xef, 0xbb, 0xbf], "id\n");
  assert.equal(await decode(split(bytes, 1), "windows-1252", notes), "ï»¿id\n");
  assert.equal(notes.length, 1);
  assert.equal(notes[0]?.code, "bom_ignored");
  assert.match(notes[0]?.message ?? "", /Windows ANSI \(windows-1252\)/);
});

Deno.test("a multi-byte character split across chunks decodes at every split position", async () => {
  const text = "é€😀中ñ";
  const bytes = utf8(text);
  for (let at = 1; at < bytes.length; at++) {
    const chunks = [bytes.slice(0, at), bytes.slice(at)];
    assert.equal(await decode(chunks, "utf-8"), text, `split at ${at}`);
  }
});

Deno.test("UTF-8 fed one byte per chunk or in random chunks decodes exactly", async () => {
  const line = "Müller\tJosé\t€5\t‘single’ “double”\t😀\t中文\tNuñez\n";
  const text = line.repeat(50);
  const bytes = utf8(text);
  assert.equal(await decode(split(bytes, 1), "utf-8"), text);
  for (let seed = 1; seed <= 20; seed++) {
    assert.equal(await decode(randomSplit(bytes, seed, 13), "utf-8"), text, `seed ${seed}`);
  }
});

Deno.test("empty chunks and an empty file are accepted", async () => {
  assert.equal(await decode([], "utf-8"), "");
  assert.equal(await decode([new Uint8Array(0)], "windows-1252"), "");
  const chunks = [new Uint8Array(0), utf8("a"), new Uint8Array(0), utf8("é"), new Uint8Array(0)];
  assert.equal(await decode(chunks, "utf-8"), "aé");
});

// ---------------------------------------------------------------- invalid UTF-8

Deno.test("an invalid UTF-8 byte rejects the file with its line, byte offset and an ANSI hint", async () => {
  // "Jos" + 0xE9 (é in windows-1252) + "\n": 0xE9 opens a 3-byte sequence that never follows.
  const bytes = bytesOf("id\tname\n1\tAnn\n2\tJos", [0xe9], "\n3\tBo\n");
  const error = await rejection([bytes], "utf-8");
  assert.equal(error.code, "bad_encoding");
  assert.equal(error.line, 3);
  assert.equal(error.byteOffset, 19);
  assert.equal(
    error.message,
    "Cannot decode line 3 as UTF-8: invalid byte 0xE9 at byte offset 19" + ANSI_HINT,
  );
});

Deno.test("the invalid UTF-8 fixture file is rejected at line 3", async () => {
  try {
    await readFixture("utf8_invalid.txt", "utf-8");
    assert.fail("expected a rejection");
  } catch (error) {
    assert.ok(error instanceof FileRejection);
    assert.equal(error.code, "bad_encoding");
    assert.equal(error.line, 3);
    assert.equal(error.byteOffset, 19);
    assert.ok(error.message.endsWith(ANSI_HINT));
  }
});

Deno.test("an invalid UTF-8 byte is located the same whatever the chunking", async () => {
  const bytes = bytesOf("a\tb\r\nc\t€\r\nd\tM", [0xfc], "ller\r\n");
  for (const chunks of [[bytes], split(bytes, 1), split(bytes, 2), split(bytes, 5)]) {
    const error = await rejection(chunks, "utf-8");
    assert.equal(error.line, 3);
    assert.equal(error.byteOffset, 15);
    assert.equal(
      error.message,
      "Cannot decode line 3 as UTF-8: invalid byte 0xFC at byte offset 15" + ANSI_HINT,
    );
  }
});

Deno.test("a bad byte right after a character split over chunks is located exactly", async () => {
  // "é" split over the chunk boundary, then 0xE9 followed by an ASCII letter.
  const bytes = bytesOf("x\n\u00e9", [0xe9], "z");
  for (let at = 1; at < bytes.length; at++) {
    const error = await rejection([bytes.slice(0, at), bytes.slice(at)], "utf-8");
    assert.equal(error.byteOffset, 4, `split at ${at}`);
    assert.equal(error.line, 2);
  }
});

Deno.test("a stray windows-1252 punctuation byte gets the Windows ANSI hint", async () => {
  // 0x92 is ’ in windows-1252 and a lone continuation byte in UTF-8.
  const error = await rejection([bytesOf("O", [0x92], "Brien\n")], "utf-8");
  assert.equal(
    error.message,
    "Cannot decode line 1 as UTF-8: invalid byte 0x92 at byte offset 1" + ANSI_HINT,
  );
});

Deno.test("a byte undefined in windows-1252 gets no Windows ANSI hint", async () => {
  const error = await rejection([bytesOf("ab", [0x81], "c")], "utf-8");
  assert.equal(error.message, "Cannot decode line 1 as UTF-8: invalid byte 0x81 at byte offset 2");
});

Deno.test("a file starting with a UTF-16 byte-order mark is said to look like UTF-16", async () => {
  const error = await rejection([Uint8Array.of(0xff, 0xfe, 0x61, 0x00)], "utf-8");
  assert.equal(error.byteOffset, 0);
  assert.match(error.message, /looks like UTF-16/);
  assert.doesNotMatch(error.message, /Windows ANSI/);
});

Deno.test("overlong encodings, surrogates and code points above U+10FFFF are invalid", async () => {
  const cases: [number[], number][] = [
    [[0xc0, 0xaf], 0], // overlong "/"
    [[0xc1, 0xbf], 0],
    [[0xe0, 0x80, 0xaf], 0], // overlong 3-byte
    [[0xf0, 0x80, 0x80, 0xaf], 0], // overlong 4-byte
    [[0xed, 0xa0, 0x80], 0], // surrogate U+D800
    [[0xed, 0xbf, 0xbf], 0], // surrogate U+DFFF
    [[0xf4, 0x90, 0x80, 0x80], 0], // U+110000
    [[0xf5, 0x80, 0x80, 0x80], 0],
    [[0xff], 0],
    [[0x61, 0xe2, 0x82, 0x41], 1], // sequence cut by an ASCII letter
    [[0x61, 0xc3, 0xa9, 0xa9], 3], // one continuation byte too many
  ];
  for (const [bytes, index] of cases) {
    const input = bytesOf("ok\n", bytes, "\n");
    const error = await rejection([input], "utf-8");
    assert.equal(error.code, "bad_encoding");
    assert.equal(error.byteOffset, 3 + index, `bytes ${bytes}`);
    assert.equal(error.line, 2);
    assert.equal(findUtf8Fault(input)?.index, 3 + index);
  }
});

Deno.test("the UTF-8 validator accepts the edges of each valid range", () => {
  const valid = [
    [0x7f],
    [0xc2, 0x80],
    [0xdf, 0xbf],
    [0xe0, 0xa0, 0x80],
    [0xed, 0x9f, 0xbf],
    [0xee, 0x80, 0x80],
    [0xef, 0xbf, 0xbf],
    [0xf0, 0x90, 0x80, 0x80],
    [0xf4, 0x8f, 0xbf, 0xbf],
  ];
  for (const bytes of valid) assert.equal(findUtf8Fault(Uint8Array.from(bytes)), null);
  assert.deepEqual(findUtf8Fault(Uint8Array.of(0x61, 0xf0, 0x9f)), {
    index: 1,
    truncated: true,
    single: false,
  });
});

Deno.test("a sequence truncated at the end of the file rejects it at the lead byte", async () => {
  const bytes = bytesOf("a\nb\nc", [0xe2, 0x82]); // "€" without its last byte
  for (const chunks of [[bytes], split(bytes, 1), split(bytes, 3)]) {
    const error = await rejection(chunks, "utf-8");
    assert.equal(error.code, "bad_encoding");
    assert.equal(error.line, 3);
    assert.equal(error.byteOffset, 5);
    assert.equal(
      error.message,
      "Cannot decode line 3 as UTF-8: the file ends in the middle of a character " +
        "(byte 0xE2 at byte offset 5)",
    );
  }
});

Deno.test("a windows-1252 letter as the last byte of the file gets the ANSI hint", async () => {
  const error = await rejection([bytesOf("1\tJos", [0xe9])], "utf-8");
  assert.equal(error.byteOffset, 5);
  assert.ok(error.message.endsWith(ANSI_HINT));
});

Deno.test("the line of a bad byte counts CR line ends in a file without LF", async () => {
  const error = await rejection([bytesOf("a\rb\rJos", [0xe9], "\r")], "utf-8");
  assert.equal(error.line, 3);
  assert.equal(error.byteOffset, 7);
});

Deno.test("the line of a bad byte counts CRLF line ends once", async () => {
  const bytes = bytesOf("a\r\nb\r\n\r\nJos", [0xe9], "\r\n");
  assert.equal((await rejection([bytes], "utf-8")).line, 4);
  assert.equal((await rejection(split(bytes, 1), "utf-8")).line, 4);
});

Deno.test("invalid UTF-8 deep in a long file reports the offset in the whole file", async () => {
  const line = "12345\tMüller\tJosé\t€\n"; // 24 bytes
  const prefix = utf8(line.repeat(5000));
  const bytes = bytesOf(prefix, "99\t", [0xa0], "x\n");
  const error = await rejection(randomSplit(bytes, 5, 4096), "utf-8");
  assert.equal(error.line, 5001);
  assert.equal(error.byteOffset, prefix.length + 3);
});

Deno.test("the decoder yields text before it has read the whole input", async () => {
  let pulled = 0;
  async function* counted(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < 100; i++) {
      pulled++;
      yield utf8(`line ${i} é\n`);
    }
  }
  const texts = decodeStream(counted(), "utf-8", { notes: [] });
  const first = await texts.next();
  assert.equal(first.value, "line 0 é\n");
  assert.ok(pulled <= 2, `pulled ${pulled} chunks for the first text`);
  await texts.return(undefined);
});

// ---------------------------------------------------------------- double encoding

Deno.test("double-encoded text adds one note with the first line where it is seen", async () => {
  const notes: FileNote[] = [];
  const text = "id\tname\n1\tAnn\n2\tJosÃ©\n3\tMÃ¼ller\n4\tdonâ€™t\n";
  assert.equal(await decode([utf8(text)], "utf-8", notes), text);
  assert.deepEqual(notes, [{
    code: "double_encoded",
    message: 'Some text looks double-encoded (UTF-8 read as Windows ANSI, e.g. "JosÃ©" for ' +
      `"José"); check the file's character set`,
    line: 3,
  }]);
});

Deno.test("the double-encoding note names no value from the file", async () => {
  const notes: FileNote[] = [];
  await decode([utf8("1\tMarÃ­a Ãlvarez\n")], "utf-8", notes);
  assert.equal(notes.length, 1);
  assert.doesNotMatch(notes[0]?.message ?? "", /Mar|lvarez/);
});

Deno.test("double-encoded text split over chunks is seen once, on the right line", async () => {
  const text = "a\nb\nc\nd â€™ e\nJosÃ©\n";
  for (const size of [1, 2, 3, 5]) {
    const notes: FileNote[] = [];
    await decode(split(utf8(text), size), "utf-8", notes);
    assert.equal(notes.length, 1, `chunks of ${size}`);
    assert.equal(notes[0]?.line, 4, `chunks of ${size}`);
  }
});

Deno.test("a UTF-8 file read as windows-1252 is flagged as double-encoded", async () => {
  const notes: FileNote[] = [];
  const text = await decode([utf8("x\nJosé ’\n")], "windows-1252", notes);
  assert.equal(text, "x\nJosÃ© â€™\n");
  assert.equal(notes.length, 1);
  assert.equal(notes[0]?.code, "double_encoded");
  assert.equal(notes[0]?.line, 2);
});

Deno.test("a UTF-8 file read as ISO 8859-1 is flagged as double-encoded", async () => {
  const notes: FileNote[] = [];
  await decode([utf8("Zoë ’\n")], "iso-8859-1", notes);
  assert.equal(notes.length, 1);
  assert.equal(notes[0]?.line, 1);
});

Deno.test("ordinary accented text is not taken for double encoding", async () => {
  const notes: FileNote[] = [];
  const text = "JOÃO\tSão Paulo\tÅngström\tÂge\tâme\tÄrger\tcrème brûlée\t€ ‘x’\n";
  await decode([utf8(text)], "utf-8", notes);
  await decode(split(utf8(text), 1), "utf-8", notes);
  assert.deepEqual(notes, []);
});

Deno.test("the double-encoding line counts CR line ends in a file without LF", async () => {
  const notes: FileNote[] = [];
  await decode([utf8("a\rb\rJosÃ©\r")], "utf-8", notes);
  assert.equal(notes[0]?.line, 3);
});
