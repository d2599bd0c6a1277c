/**
 * A broken environment at start-up — a data folder that cannot be made, a read-only
 * database, a full disk — stops the service and the CLI with one sentence naming the
 * file and the cause (exit 78 for the setup to mend, 1 otherwise). The read-only and
 * full-disk cases use small tmpfs mounts, which need root: elsewhere they are skipped
 * with a line saying so (in CI, where tests run as root, a refused mount fails).
 */
import assert from "node:assert/strict";
import { REPO_ROOT, runCli, spawnScript } from "../support/cli.ts";

async function mountTmpfs(dir: string, size: string): Promise<string | undefined> {
  const out = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir],
    stdout: "null",
    stderr: "piped",
  }).output().catch((error) => ({ success: false, stderr: new TextEncoder().encode(`${error}`) }));
  return out.success ? undefined : new TextDecoder().decode(out.stderr).trim() || "mount failed";
}

async function umount(dir: string): Promise<void> {
  await new Deno.Command("umount", { args: [dir], stdout: "null", stderr: "null" }).output();
}

const probe = await Deno.makeTempDir({ prefix: "autocomm_mount_probe_" });
const mountProblem = await mountTmpfs(probe, "64k");
if (mountProblem === undefined) await umount(probe);
await Deno.remove(probe, { recursive: true });
if (mountProblem !== undefined && Deno.env.get("CI") !== "true") {
  console.log(
    `Skipping the read-only and full-disk tests: tmpfs cannot be mounted here (run as root) — ${mountProblem}`,
  );
}

/** Starts the service as `deno task start` does and returns its exit code and error output. */
async function startService(dataDir: string): Promise<{ code: number; stderr: string }> {
  const child = spawnScript(`${REPO_ROOT}/src/main.ts`, [], {
    AUTOCOMM_DATA_DIR: dataDir,
    PORT: "0",
    AUTOCOMM_LOG_LEVEL: "error",
  });
  const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const out = await child.output();
  clearTimeout(killer);
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

function assertOneSentence(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one line, not a stack trace:\n${stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(stderr, /\s+at |params:|Failed query/);
}

Deno.test("a data folder that cannot be made stops the service and the CLI with one sentence and exit 78", async () => {
  const dataDir = "/proc/autocomm-missing/data";
  const expected =
    /^AutoComm cannot start: Cannot open the database \/proc\/autocomm-missing\/data\/autocomm\.db: its folder does not exist and cannot be created\.$/;
  const service = await startService(dataDir);
  assert.equal(service.code, 78);
  assertOneSentence(service.stderr, expected);
  const cli = await runCli(["records"], { AUTOCOMM_DATA_DIR: dataDir });
  assert.equal(cli.code, 78);
  assertOneSentence(cli.stderr, expected);
});

Deno.test({
  name:
    "a read-only database stops the service with one sentence and exit 78, and the CLI still reads it",
  ignore: mountProblem !== undefined && Deno.env.get("CI") !== "true",
  async fn() {
    const mount = await Deno.makeTempDir({ prefix: "autocomm_ro_" });
    assert.equal(await mountTmpfs(mount, "4m"), undefined);
    try {
      const dataDir = `${mount}/data`;
      assert.equal((await runCli(["db", "migrate"], { AUTOCOMM_DATA_DIR: dataDir })).code, 0);
      const remount = await new Deno.Command("mount", { args: ["-o", "remount,ro", mount] })
        .output();
      assert.ok(remount.success, "the folder is remounted read-only");
      const service = await startService(dataDir);
      assert.equal(service.code, 78);
      assertOneSentence(
        service.stderr,
        new RegExp(
          `^AutoComm cannot start: Cannot open the database ${dataDir}/autocomm\\.db: it is read-only\\.$`,
        ),
      );
      const cli = await runCli(["records"], { AUTOCOMM_DATA_DIR: dataDir });
      assert.equal(cli.code, 0, cli.stderr);
    } finally {
      await umount(mount);
      await Deno.remove(mount, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "a full disk stops the service and the CLI with one sentence and exit 1",
  ignore: mountProblem !== undefined && Deno.env.get("CI") !== "true",
  async fn() {
    const mount = await Deno.makeTempDir({ prefix: "autocomm_full_" });
    assert.equal(await mountTmpfs(mount, "1m"), undefined);
    try {
      await Deno.writeFile(`${mount}/filler`, new Uint8Array(1_000_000));
      const dataDir = `${mount}/data`;
      const expected = new RegExp(
        `^AutoComm cannot start: Cannot open the database ${dataDir}/autocomm\\.db: the disk is full\\.$`,
      );
      const service = await startService(dataDir);
      assert.equal(service.code, 1);
      assertOneSentence(service.stderr, expected);
      const cli = await runCli(["records"], { AUTOCOMM_DATA_DIR: dataDir });
      assert.equal(cli.code, 1);
      assertOneSentence(cli.stderr, expected);
    } finally {
      await umount(mount);
      await Deno.remove(mount, { recursive: true }).catch(() => {});
    }
  },
});
