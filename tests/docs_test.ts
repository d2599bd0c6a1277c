/**
 * The repository stands alone: the README, `docs/` and the comments of the code point
 * only at files in the repository — never at the team's folder beside it or at the
 * specification, design and performance notes kept there (the rules those notes hold
 * are stated in place, in the README or in `docs/`) — and every relative link or image
 * of the README and `docs/` names a file that exists.
 */
import assert from "node:assert/strict";
import { fromFileUrl } from "../src/util/paths.ts";

const ROOT = fromFileUrl(new URL("../", import.meta.url)).replace(/\/+$/, "");
/** Folders searched for text files (besides the README). */
const FOLDERS = ["src", "tests", "bench", "demo", "docs", "plugin", ".ci"];
const SKIP = new Set(["node_modules", "screenshots", "testdata", "data", "out"]);
const TEXT = /\.(ts|tsx|md|json|sh)$|^run$/;

/** The team's folder beside the repository, and the notes kept there (assembled, so that this file names none of them). */
const TEAM_FOLDER = ["..", "shared"].join("/");
const TEAM_NOTES = ["SPEC", "DESIGN", "PERFORMANCE"].map((n) => `${n}.md`);

/** `text` as a literal inside a regular expression. */
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** What no file may point at: the team's folder or its notes. */
const OUTSIDE = new RegExp(
  [`${literal(TEAM_FOLDER)}\\b`, ...TEAM_NOTES.map((n) => `\\b${literal(n)}\\b`)].join("|"),
);

async function* textFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(`${ROOT}/${dir}`)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory && !SKIP.has(entry.name)) yield* textFiles(path);
    else if (entry.isFile && TEXT.test(entry.name)) yield path;
  }
}

/** Lines of `text` that point outside the repository, as `path:line`. */
export function outsideReferences(path: string, text: string): string[] {
  const found: string[] = [];
  text.split("\n").forEach((line, i) => {
    if (OUTSIDE.test(line)) found.push(`${path}:${i + 1}`);
  });
  return found;
}

/** The relative targets of a Markdown file's links and images (no URLs, no anchors). */
export function relativeLinks(markdown: string): string[] {
  const targets: string[] = [];
  for (const m of markdown.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = m[1]!.replace(/#.*$/, "");
    if (target === "" || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
    targets.push(target);
  }
  return targets;
}

Deno.test("no file of the repository points at the team folder outside it or its documents", async () => {
  const found: string[] = [];
  for (const path of ["README.md"]) {
    found.push(...outsideReferences(path, await Deno.readTextFile(`${ROOT}/${path}`)));
  }
  for (const folder of FOLDERS) {
    for await (const path of textFiles(folder)) {
      found.push(...outsideReferences(path, await Deno.readTextFile(`${ROOT}/${path}`)));
    }
  }
  assert.deepEqual(found, []);
});

Deno.test("every relative link and image of the README and docs/ names a file that exists", async () => {
  const missing: string[] = [];
  const files = ["README.md"];
  for await (const path of textFiles("docs")) if (path.endsWith(".md")) files.push(path);
  for (const path of files) {
    const base = path.includes("/") ? path.replace(/\/[^/]*$/, "") : ".";
    for (const target of relativeLinks(await Deno.readTextFile(`${ROOT}/${path}`))) {
      const exists = await Deno.stat(`${ROOT}/${base}/${target}`).then(() => true, () => false);
      if (!exists) missing.push(`${path} → ${target}`);
    }
  }
  assert.deepEqual(missing, []);
  assert.ok(files.length > 2, "the README and the docs were read");
});

Deno.test("the checks find what they look for", () => {
  assert.deepEqual(outsideReferences("x.ts", `ok\n// see ${TEAM_FOLDER}/x.txt\n`), ["x.ts:2"]);
  assert.deepEqual(outsideReferences("x.md", `${TEAM_NOTES[2]} says`), ["x.md:1"]);
  assert.deepEqual(outsideReferences("x.md", `as ${TEAM_NOTES[0]} puts it`), ["x.md:1"]);
  assert.deepEqual(outsideReferences("x.md", "docs/performance.md"), []);
  assert.deepEqual(
    relativeLinks('[a](docs/a.md) ![b](img/b.png "t") [c](https://x.org) [d](#top) [e](f.md#g)'),
    ["docs/a.md", "img/b.png", "f.md"],
  );
});
