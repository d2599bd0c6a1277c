import assert from "node:assert/strict";
import { fromFileUrl } from "../../src/util/paths.ts";
import { killAfter, scriptArgs } from "../../src/util/process.ts";

const REPO = fromFileUrl(new URL("../../", import.meta.url));

function sleeper(ms: number): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["eval", `await new Promise((r) => setTimeout(r, ${ms}))`],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

Deno.test("a project script runs with all permissions, the lock file and the project's deno.json", () => {
  assert.deepEqual(scriptArgs(new URL("../../src/cli.ts", import.meta.url), ["db", "migrate"]), [
    "run",
    "--allow-all",
    "--frozen",
    `--config=${REPO}deno.json`,
    `${REPO}src/cli.ts`,
    "db",
    "migrate",
  ]);
  assert.equal(scriptArgs("/x/child.ts").at(-1), "/x/child.ts");
});

Deno.test("a process still running when its time is up is killed with SIGKILL", async () => {
  const child = sleeper(60_000);
  using killer = killAfter(child, 100);
  assert.equal(killer.fired, false);
  const status = await child.status;
  assert.equal(status.signal, "SIGKILL");
  assert.equal(killer.fired, true, "the killer says it killed");
});

Deno.test("a process whose killer was disposed in time is left to finish", async () => {
  const child = sleeper(300);
  let killer;
  {
    using disposed = killAfter(child, 100);
    killer = disposed;
  }
  const status = await child.status;
  assert.equal(status.code, 0);
  assert.equal(status.signal, null);
  assert.equal(killer.fired, false);
});

Deno.test("a process that ended before its time is not an error when the time comes", async () => {
  const child = sleeper(0);
  await child.status;
  using _killer = killAfter(child, 10);
  await new Promise((resolve) => setTimeout(resolve, 50));
});
