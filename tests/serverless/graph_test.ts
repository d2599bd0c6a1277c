/**
 * The serverless profile loads no native code: the modules `src/main.ts` reaches at
 * run time (`deno info --json`, following code imports — static and literal dynamic
 * ones — not type-only ones) contain no `node:sqlite`, no `@libsql/client` native entry,
 * no `libsql` package and no `@libsql/<platform>` addon.
 */
import assert from "node:assert/strict";

interface Dependency {
  specifier: string;
  code?: { specifier: string };
  isDynamic?: boolean;
}
interface Module {
  specifier: string;
  kind?: string;
  npmPackage?: string;
  dependencies?: Dependency[];
}

const ROOT = new URL("../../src/main.ts", import.meta.url);

/** The modules reachable from `root` through code imports, and which of them only dynamically. */
async function runtimeGraph(root: URL): Promise<{ statics: Set<string>; dynamics: Set<string> }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", root.href],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: Module[];
    redirects: Record<string, string>;
  };
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  const resolve = (s: string) => info.redirects[s] ?? s;
  const walk = (start: string[], dynamic: boolean, seen: Set<string>) => {
    const queue = [...start];
    while (queue.length > 0) {
      const s = resolve(queue.pop()!);
      if (seen.has(s)) continue;
      seen.add(s);
      for (const d of bySpecifier.get(s)?.dependencies ?? []) {
        if (d.code && (dynamic || !d.isDynamic)) queue.push(d.code.specifier);
      }
    }
  };
  const statics = new Set<string>();
  walk([root.href], false, statics);
  const all = new Set<string>();
  walk([root.href], true, all);
  const dynamics = new Set([...all].filter((s) => !statics.has(s)));
  return { statics, dynamics };
}

/** Why a module must not be loaded by a service without ffi, or undefined. */
function nativeCode(specifier: string): string | undefined {
  if (specifier === "node:sqlite") return "node:sqlite";
  if (/^npm:\/?@libsql\/client@[^/]+(\/node|\/sqlite3)?$/.test(specifier)) {
    return "the native entry of @libsql/client";
  }
  if (/^npm:\/?libsql@/.test(specifier)) return "the libsql native package";
  if (/^npm:\/?@libsql\/(linux|darwin|win32)-/.test(specifier)) return "a libsql native addon";
  if (/^npm:\/?drizzle-orm@[^/]+\/libsql$/.test(specifier)) {
    return "drizzle-orm/libsql (it imports the native entry of @libsql/client)";
  }
  return undefined;
}

Deno.test("src/main.ts reaches no node:sqlite and no native libSQL code at run time", async () => {
  const { statics, dynamics } = await runtimeGraph(ROOT);
  assert.ok(statics.has(ROOT.href) && statics.size > 50, "the graph was read");
  const found = [...statics, ...dynamics].flatMap((s) => {
    const why = nativeCode(s);
    return why ? [`${s} (${why}${dynamics.has(s) ? ", dynamic" : ""})`] : [];
  });
  assert.deepEqual(found, []);
});

Deno.test("the module-graph check recognizes native code when it is imported", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const probe = new URL(`file://${dir}/probe.ts`);
    await Deno.writeTextFile(
      probe,
      `import "${new URL("../../src/pipeline/executor_sqlite.ts", import.meta.url).href}";\n`,
    );
    const { statics } = await runtimeGraph(probe);
    assert.ok(statics.has("node:sqlite"));
    assert.equal(nativeCode("node:sqlite"), "node:sqlite");
    assert.ok(nativeCode("npm:/@libsql/client@0.18.0"));
    assert.ok(nativeCode("npm:/drizzle-orm@0.45.4/libsql"));
    assert.equal(nativeCode("npm:/@libsql/client@0.18.0/web"), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
