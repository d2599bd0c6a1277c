import assert from "node:assert/strict";
import { streamLines } from "../../src/util/lines.ts";

/** A stream that delivers `chunks` one by one. */
function streamOf(chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return ReadableStream.from(chunks.map((c) => typeof c === "string" ? encoder.encode(c) : c));
}

async function linesOf(chunks: (string | Uint8Array)[]): Promise<string[]> {
  return await Array.fromAsync(streamLines(streamOf(chunks)));
}

Deno.test("lines split across chunks come out whole, however the chunks fall", async () => {
  const text = 'first line\n{"event":"progress","rows":12}\n\nlast\n';
  const expected = ["first line", '{"event":"progress","rows":12}', "", "last"];
  assert.deepEqual(await linesOf([text]), expected);
  for (let cut = 1; cut < text.length; cut++) {
    assert.deepEqual(await linesOf([text.slice(0, cut), text.slice(cut)]), expected, `cut ${cut}`);
  }
  assert.deepEqual(await linesOf([...text]), expected);
});

Deno.test("a character split between chunks is decoded once whole", async () => {
  const bytes = new TextEncoder().encode("Zoë Ångström\n€\n");
  const chunks = [...bytes].map((b) => new Uint8Array([b]));
  assert.deepEqual(await linesOf(chunks), ["Zoë Ångström", "€"]);
});

Deno.test("CRLF line ends read like LF, even with CR and LF in different chunks", async () => {
  assert.deepEqual(await linesOf(["12\r\n13\r", "\n14\n"]), ["12", "13", "14"]);
  assert.deepEqual(await linesOf(["a\rb\r\n"]), ["a\rb"]);
});

Deno.test("text after the last line end is no line (a writer that stopped mid-line)", async () => {
  assert.deepEqual(await linesOf(["12\n13"]), ["12"]);
  assert.deepEqual(await linesOf(['{"event":"do', "ne"]), []);
  assert.deepEqual(await linesOf([]), []);
});
