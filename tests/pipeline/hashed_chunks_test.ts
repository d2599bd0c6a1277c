import assert from "node:assert/strict";
import {
  type FileDigest,
  hashedChunks,
  LocalFileSource,
  unchangedFor,
} from "../../src/pipeline/fetch.ts";
import { openNamedFile } from "../../src/pipeline/paths.ts";

Deno.test("a file read whole and a file streamed give the same bytes, size and SHA-256", async () => {
  const path = await Deno.makeTempFile();
  try {
    const bytes = new Uint8Array(300_000).map((_, i) => (i * 7919) % 251);
    await Deno.writeFile(path, bytes);
    const expected = Array.from(
      new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
    // The first reads the file whole (Web Crypto), the second streams it (node:crypto).
    for (const wholeFileBytes of [1_000_000, 1_000]) {
      const digest: FileDigest = { bytes: 0, sha256: null };
      const parts: Uint8Array[] = [];
      using source = new LocalFileSource(await openNamedFile(path), {
        displayName: path,
        fileName: "f",
      });
      const { size } = await source.stat();
      for await (const chunk of hashedChunks(source.open(), size, digest, wholeFileBytes)) {
        parts.push(chunk.slice());
      }
      const read = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        read.set(p, at);
        at += p.length;
      }
      assert.deepEqual(read, bytes, `${wholeFileBytes}`);
      assert.equal(digest.bytes, bytes.length);
      assert.equal(digest.sha256, expected);
    }
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("a local source reads its file from the start at every open, whole up to 8 MiB and in chunks above", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const length of [5, 9 * 1024 * 1024]) {
      const bytes = new Uint8Array(length).map((_, i) => i % 256);
      await Deno.writeFile(`${dir}/f`, bytes);
      using source = new LocalFileSource(await openNamedFile(`${dir}/f`), {
        displayName: "f",
        fileName: "f",
      });
      for (let pass = 0; pass < 2; pass++) {
        const chunks: Uint8Array[] = [];
        for await (const chunk of source.open()) chunks.push(chunk.slice());
        assert.equal(chunks.reduce((n, c) => n + c.length, 0), length);
        assert.equal(chunks.length, length === 5 ? 1 : Math.ceil(length / 65536));
        assert.equal(chunks[chunks.length - 1]!.at(-1), (length - 1) % 256);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a file is unchanged since its modification time unless its size changed since an earlier look", () => {
  const now = new Date("2026-12-06T12:00:00Z");
  const stat = { size: 100, mtime: new Date("2026-12-06T11:58:00Z"), links: 1 };
  assert.equal(unchangedFor(stat, { now, previousSize: null }), 120);
  assert.equal(unchangedFor(stat, { now, previousSize: 100 }), 120);
  assert.equal(unchangedFor(stat, { now, previousSize: 90 }), 0);
  const future = { ...stat, mtime: new Date("2026-12-06T12:05:00Z") };
  assert.equal(unchangedFor(future, { now, previousSize: null }), 0);
});
