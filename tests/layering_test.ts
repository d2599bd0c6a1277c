/**
 * The layering of src/, read from the import statements of every module. From the
 * bottom: `config`, `log`, `version`, `util` → `db` → `sis` (the SIS model) → `records`
 * (AutoComm records) → `pipeline` (runs) → `schedule`, `mail` → `web`, `cli` → `main`.
 * A module imports from its own layer or below, never from above; pages and hooks reach
 * runs through the pipeline, not the scheduler; and runtime imports form no cycle
 * (`import type` does not count, nor does a literal `import("…")` for the cycles).
 * The import process and `autocomm import` load no Drizzle, libSQL client or Hono
 * module (a remote run's client is loaded through a specifier made at run time).
 */
import assert from "node:assert/strict";
import { fromFileUrl } from "../src/util/paths.ts";

const SRC = fromFileUrl(new URL("../src/", import.meta.url));

/** The layers, bottom first; a module's layer is its first path segment under src/. */
const LAYERS: readonly (readonly string[])[] = [
  ["config.ts", "log.ts", "version.ts", "problems.ts", "util"],
  ["db"],
  ["sis", "connections"],
  ["records"],
  ["pipeline"],
  ["schedule", "mail", "host"],
  ["web", "cli", "cli.ts"],
  ["main.ts"],
];

/**
 * Imports that break a rule, each until its move lands (`from -> to`, paths under src/).
 * An entry whose import is gone allows nothing: delete it then.
 */
const ALLOWED = new Set<string>([]);

/** One import of a module: the imported module (a path under src/) and how. */
interface Edge {
  to: string;
  /** A literal `import("…")`: loaded when called, not when the module loads. */
  dynamic: boolean;
}

const STATIC = /^\s*(import|export)\s+(type\s+)?(?:([^"';]*?)\s+from\s+)?["']([^"']+)["']/gm;
const DYNAMIC = /(?<!typeof\s)\bimport\(\s*["']([^"']+)["']\s*\)/g;

/** True when every name in braces is marked `type` (TypeScript drops the import). */
function onlyTypes(clause: string | undefined): boolean {
  if (clause === undefined) return false;
  const braces = /^\{([^}]*)\}$/.exec(clause.trim());
  if (!braces) return false;
  const names = braces[1]!.split(",").map((n) => n.trim()).filter((n) => n !== "");
  return names.length > 0 && names.every((n) => n.startsWith("type "));
}

/** The specifiers of a module's runtime imports, as written. */
function specifiersOf(source: string): { specifier: string; dynamic: boolean }[] {
  const found: { specifier: string; dynamic: boolean }[] = [];
  for (const m of source.matchAll(STATIC)) {
    if (m[2] !== undefined || onlyTypes(m[3])) continue;
    found.push({ specifier: m[4]!, dynamic: false });
  }
  for (const m of source.matchAll(DYNAMIC)) found.push({ specifier: m[1]!, dynamic: true });
  return found;
}

/** The runtime imports of a module's source that name another module under src/. */
function importsOf(path: string, source: string): Edge[] {
  const edges: Edge[] = [];
  const base = new URL(path, "file:///src/");
  for (const { specifier, dynamic } of specifiersOf(source)) {
    if (!specifier.startsWith("./") && !specifier.startsWith("../")) continue;
    const url = new URL(specifier, base);
    if (url.pathname.startsWith("/src/")) {
      edges.push({ to: url.pathname.slice("/src/".length), dynamic });
    }
  }
  return edges;
}

/**
 * The packages (npm names, as imported) that loading `entries` loads: their runtime
 * imports followed through src/, a literal `import("…")` included (Deno loads its
 * target when the program starts).
 */
function packagesLoaded(modules: ReadonlyMap<string, string>, entries: string[]): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const queue = [...entries];
  for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
    if (seen.has(path)) continue;
    seen.add(path);
    const source = modules.get(path);
    if (source === undefined) throw new Error(`no module src/${path}`);
    for (const { specifier } of specifiersOf(source)) {
      if (!specifier.startsWith(".") && !specifier.startsWith("node:")) packages.add(specifier);
    }
    queue.push(...importsOf(path, source).map((e) => e.to));
  }
  return packages;
}

function layerOf(path: string): number {
  const top = path.split("/")[0]!;
  const layer = LAYERS.findIndex((names) => names.includes(top));
  if (layer < 0) throw new Error(`src/${path} is in no layer: add "${top}" to LAYERS`);
  return layer;
}

/** The imports among `modules` (path under src/ → source) that break the layering. */
function layeringProblems(modules: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  for (const [from, source] of modules) {
    for (const { to } of importsOf(from, source)) {
      const edge = `${from} -> ${to}`;
      if (ALLOWED.has(edge)) continue;
      if (layerOf(to) > layerOf(from)) problems.push(`${edge} (imports from a higher layer)`);
      else if (from.startsWith("web/") && to.startsWith("schedule/")) {
        problems.push(`${edge} (the web reaches runs through the pipeline)`);
      }
    }
  }
  return problems.sort();
}

/** The cycles among the load-time imports of `modules`, one path of each. */
function importCycles(modules: ReadonlyMap<string, string>): string[][] {
  const graph = new Map<string, string[]>();
  for (const [from, source] of modules) {
    graph.set(from, importsOf(from, source).filter((e) => !e.dynamic).map((e) => e.to));
  }
  const cycles: string[][] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (node: string) => {
    const at = path.indexOf(node);
    if (at >= 0) {
      cycles.push([...path.slice(at), node]);
      return;
    }
    if (done.has(node)) return;
    path.push(node);
    for (const next of graph.get(node) ?? []) visit(next);
    path.pop();
    done.add(node);
  };
  for (const node of [...graph.keys()].sort()) visit(node);
  return cycles;
}

async function sources(dir = SRC, prefix = ""): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for await (const entry of Deno.readDir(dir)) {
    const path = `${prefix}${entry.name}`;
    if (entry.isDirectory) {
      for (const [p, s] of await sources(`${dir}${entry.name}/`, `${path}/`)) found.set(p, s);
    } else if (/\.tsx?$/.test(entry.name)) {
      found.set(path, await Deno.readTextFile(`${dir}${entry.name}`));
    }
  }
  return found;
}

Deno.test("no module under src/ imports from a higher layer", async () => {
  const modules = await sources();
  assert.ok(modules.size > 50, `found only ${modules.size} modules under src/`);
  assert.deepEqual(layeringProblems(modules), []);
});

Deno.test("the runtime imports under src/ form no cycle", async () => {
  assert.deepEqual(importCycles(await sources()).map((c) => c.join(" -> ")), []);
});

Deno.test("the import process and `autocomm import` load neither Drizzle, the libSQL client nor Hono", async () => {
  const modules = await sources();
  const heavy = (name: string) => /^(drizzle-orm|@libsql\/client|hono)(\/|$)/.test(name);
  for (
    const entries of [
      ["pipeline/child.ts", "pipeline/side_thread.ts"],
      ["cli.ts", "cli/import_command.ts"],
    ]
  ) {
    assert.deepEqual([...packagesLoaded(modules, entries)].filter(heavy), [], entries.join(", "));
  }
});

Deno.test("an upward import, a page claiming runs and a cycle are each reported", () => {
  const modules = new Map([
    ["db/client.ts", `import { x } from "../pipeline/executor.ts";\n`],
    ["pipeline/executor.ts", `import {\n  y,\n  type Z,\n} from "../db/client.ts";\n`],
    ["web/page.tsx", `import { claim } from "../schedule/claim.ts";\n`],
    ["schedule/claim.ts", `import type { Db } from "../db/client.ts";\n`],
  ]);
  assert.deepEqual(layeringProblems(modules), [
    "db/client.ts -> pipeline/executor.ts (imports from a higher layer)",
    "web/page.tsx -> schedule/claim.ts (the web reaches runs through the pipeline)",
  ]);
  assert.deepEqual(importCycles(modules), [
    ["db/client.ts", "pipeline/executor.ts", "db/client.ts"],
  ]);
});

Deno.test("type-only imports, comments and lazy imports make no cycle", () => {
  const modules = new Map([
    ["db/a.ts", `import type { B } from "./b.ts";\nexport const a = 1;\n`],
    [
      "db/b.ts",
      `/**\n * import { a } from "./a.ts"\n */\nimport { type A } from "./a.ts";\n` +
      `export const load = () => import("./a.ts");\n` +
      `export type T = typeof import("./a.ts");\n`,
    ],
  ]);
  assert.deepEqual(importCycles(modules), []);
});

Deno.test("a side-effect import and a re-export count as imports", () => {
  const modules = new Map([
    [
      "util/a.ts",
      `import "../db/b.ts";\nexport { c } from "../sis/c.ts";\nexport * from "./d.ts";\n`,
    ],
  ]);
  assert.deepEqual(layeringProblems(modules), [
    "util/a.ts -> db/b.ts (imports from a higher layer)",
    "util/a.ts -> sis/c.ts (imports from a higher layer)",
  ]);
});
