import assert from "node:assert/strict";
import { type FileDigest, hashedChunks } from "../../src/pipeline/run.ts";

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
      using file = await Deno.open(path);
      for await (const chunk of hashedChunks(file, bytes.length, digest, wholeFileBytes)) {
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
