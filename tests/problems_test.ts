/**
 * The registry of problem codes (`src/problems.ts`) and the README's "Problem codes"
 * section: the section sits right before "Pages, sign-in and roles" and has one table
 * per kind (row errors, file notes, rejections) listing exactly the registry's codes of
 * that kind, each with the registry's description as its meaning; every default message
 * is a sentence without values; no code is of two kinds; and every registered code is
 * still produced somewhere under src/.
 */
import assert from "node:assert/strict";
import {
  FILE_NOTE_CODES,
  type ProblemInfo,
  REJECTION_CODES,
  ROW_ERROR_CODES,
} from "../src/problems.ts";
import { fromFileUrl } from "../src/util/paths.ts";

const README = fromFileUrl(new URL("../README.md", import.meta.url));
const SRC = fromFileUrl(new URL("../src/", import.meta.url));

/** The README's sub-heading of each kind, and the kind's registry. */
const KINDS: readonly { heading: string; codes: Readonly<Record<string, ProblemInfo>> }[] = [
  { heading: "Row errors", codes: ROW_ERROR_CODES },
  { heading: "File notes", codes: FILE_NOTE_CODES },
  { heading: "Rejections", codes: REJECTION_CODES },
];

const SECTION = "## Problem codes";
const NEXT_SECTION = "## Pages, sign-in and roles";

/** The rows (`code → meaning`) of the table under `### heading`, or null without one. */
function tableOf(section: string, heading: string): Map<string, string> | null {
  const parts = section.split(/^### /m);
  const part = parts.find((p) => p.startsWith(`${heading}\n`));
  if (part === undefined) return null;
  const rows = new Map<string, string>();
  const lines = part.split("\n").filter((l) => l.startsWith("|"));
  // The header row and the separator row first.
  for (const line of lines.slice(2)) {
    const cells = line.split("|").slice(1, -1).map((c) => c.trim());
    const code = /^`([a-z_]+)`$/.exec(cells[0] ?? "")?.[1] ?? cells[0] ?? "";
    if (rows.has(code)) rows.set(`${code} (again)`, cells[1] ?? "");
    else rows.set(code, cells[1] ?? "");
  }
  return rows;
}

/** What is wrong with a README's "Problem codes" section against the registry. */
function readmeProblems(markdown: string): string[] {
  const problems: string[] = [];
  const lines = markdown.split("\n");
  const at = lines.indexOf(SECTION);
  if (at < 0) return [`no "${SECTION}" section`];
  const next = lines.findIndex((l, i) => i > at && l.startsWith("## "));
  if (lines[next] !== NEXT_SECTION) {
    problems.push(`"${SECTION}" is not right before "${NEXT_SECTION}"`);
  }
  const section = lines.slice(at + 1, next < 0 ? undefined : next).join("\n");
  for (const { heading, codes } of KINDS) {
    const table = tableOf(section, heading);
    if (table === null) {
      problems.push(`no "### ${heading}" table`);
      continue;
    }
    for (const [code, info] of Object.entries(codes)) {
      const meaning = table.get(code);
      if (meaning === undefined) {
        problems.push(`${heading}: \`${code}\` is missing (| \`${code}\` | ${info.description} |)`);
      } else if (meaning !== info.description) {
        problems.push(
          `${heading}: \`${code}\` means "${meaning}", the registry "${info.description}"`,
        );
      }
    }
    for (const code of table.keys()) {
      if (!Object.hasOwn(codes, code)) {
        problems.push(`${heading}: \`${code}\` is not in the registry`);
      }
    }
  }
  return problems;
}

/** What is wrong with a default message or description: empty, not a sentence, a placeholder. */
function textProblems(text: string): string[] {
  const problems: string[] = [];
  if (text.trim() === "") return ["is empty"];
  if (!/^[A-Z]/.test(text)) problems.push("does not start with a capital letter");
  if (!text.endsWith(".")) problems.push("does not end with a full stop");
  if (/[{}<>$%]|\b(TODO|XXX)\b/.test(text)) problems.push("holds a placeholder");
  if (text !== text.trim() || /\s{2}/.test(text)) problems.push("has stray white space");
  return problems;
}

/** Every module's source under src/ but the registry itself. */
async function sources(dir = SRC): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`.replace("//", "/");
    if (entry.isDirectory) found.push(...await sources(path));
    else if (/\.tsx?$/.test(entry.name) && !path.endsWith("/src/problems.ts")) {
      found.push(await Deno.readTextFile(path));
    }
  }
  return found;
}

Deno.test("the README's Problem codes tables list exactly the registry's codes, with its meanings", async () => {
  assert.deepEqual(readmeProblems(await Deno.readTextFile(README)), []);
});

/** A "Problem codes" section made from the registry, followed by the next section. */
function registryReadme(): string {
  const tables = KINDS.map(({ heading, codes }) =>
    [
      `### ${heading}`,
      "",
      "| Code | Meaning |",
      "| --- | --- |",
      ...Object.entries(codes).map(([code, info]) => `| \`${code}\` | ${info.description} |`),
    ].join("\n")
  );
  return `${SECTION}\n\nIntro.\n\n${tables.join("\n\n")}\n\n${NEXT_SECTION}\n\nText.\n`;
}

Deno.test("a missing, extra, repeated or reworded code, a missing table and a moved section are each found", () => {
  const readme = registryReadme();
  assert.deepEqual(readmeProblems(readme), []);
  const firstRow = `| \`too_many_fields\` | ${ROW_ERROR_CODES.too_many_fields.description} |`;
  const secondRow = `| \`bad_encoding\` | ${REJECTION_CODES.bad_encoding.description} |`;
  assert.deepEqual(readmeProblems(readme.replace(`${firstRow}\n`, "")), [
    `Row errors: \`too_many_fields\` is missing (${firstRow})`,
  ]);
  const extra = readme.replace(firstRow, `${firstRow}\n| \`no_such_code\` | Made up. |`);
  assert.deepEqual(readmeProblems(extra), ["Row errors: `no_such_code` is not in the registry"]);
  const twice = readme.replace(secondRow, `${secondRow}\n${secondRow}`);
  assert.deepEqual(readmeProblems(twice), [
    "Rejections: `bad_encoding (again)` is not in the registry",
  ]);
  const reworded = readme.replace(firstRow, "| `too_many_fields` | Something else. |");
  assert.match(readmeProblems(reworded).join("\n"), /`too_many_fields` means "Something else\."/);
  assert.deepEqual(readmeProblems(readme.replace("### File notes", "### Notes")), [
    'no "### File notes" table',
  ]);
  const moved = readme.replace(`${NEXT_SECTION}\n`, `## Something else\n\n${NEXT_SECTION}\n`);
  assert.deepEqual(readmeProblems(moved), [`"${SECTION}" is not right before "${NEXT_SECTION}"`]);
  assert.deepEqual(readmeProblems(readme.replace(SECTION, "## Codes")), [
    `no "${SECTION}" section`,
  ]);
});

Deno.test("every default message and description is a sentence without placeholders", () => {
  const problems: string[] = [];
  for (const { heading, codes } of KINDS) {
    for (const [code, info] of Object.entries(codes)) {
      for (const p of textProblems(info.message)) problems.push(`${heading} ${code}: message ${p}`);
      for (const p of textProblems(info.description)) {
        problems.push(`${heading} ${code}: description ${p}`);
      }
    }
  }
  assert.deepEqual(problems, []);
  assert.deepEqual(textProblems(""), ["is empty"]);
  assert.deepEqual(textProblems("line ${line} is bad"), [
    "does not start with a capital letter",
    "does not end with a full stop",
    "holds a placeholder",
  ]);
});

Deno.test("no code is of two kinds, and every code is a snake_case word", () => {
  const all = KINDS.flatMap(({ codes }) => Object.keys(codes));
  assert.deepEqual(all.filter((c, i) => all.indexOf(c) !== i), []);
  assert.deepEqual(all.filter((c) => !/^[a-z]+(_[a-z]+)*$/.test(c)), []);
});

Deno.test("every registered code is still produced somewhere under src/", async () => {
  const text = (await sources()).join("\n");
  const unused = KINDS.flatMap(({ codes }) => Object.keys(codes)).filter((code) =>
    !text.includes(`"${code}"`)
  );
  assert.deepEqual(unused, []);
});
