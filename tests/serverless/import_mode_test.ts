/**
 * `AUTOCOMM_IMPORT_MODE`: the default follows what the runtime may do, and what cannot
 * work is refused with what to change; embedded replicas are refused at start-up.
 */
import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../../src/config.ts";
import {
  ImportModeError,
  resolveImportMode,
  runtimeAbilities,
} from "../../src/pipeline/import_mode.ts";
import { NO_LOCAL_FOLDER, refuseLocalFolders } from "../../src/records/validate.ts";
import { startTestService, studentsRecord } from "../support/web.ts";

const REMOTE = "http://127.0.0.1:8080";
const FILE = "file:/tmp/autocomm.db";
const ALL = { run: true, ffi: true };
const SERVERLESS = { run: false, ffi: false };

Deno.test("unset, imports run in a process where the runtime may start one, inline where it may not", () => {
  assert.equal(resolveImportMode({ databaseUrl: REMOTE, importMode: undefined }, ALL), "process");
  assert.equal(
    resolveImportMode({ databaseUrl: REMOTE, importMode: undefined }, SERVERLESS),
    "inline",
  );
  assert.equal(resolveImportMode({ databaseUrl: FILE, importMode: undefined }, ALL), "process");
  assert.equal(resolveImportMode({ databaseUrl: REMOTE, importMode: "inline" }, ALL), "inline");
});

Deno.test("what cannot work is refused with what to change", () => {
  assert.throws(
    () => resolveImportMode({ databaseUrl: FILE, importMode: "inline" }, ALL),
    (e: unknown) => e instanceof ImportModeError && /needs a remote database/.test(e.message),
  );
  assert.throws(
    () => resolveImportMode({ databaseUrl: FILE, importMode: undefined }, SERVERLESS),
    (e: unknown) =>
      e instanceof ImportModeError && /point DATABASE_URL at a libSQL server/.test(e.message),
  );
  assert.throws(
    () => resolveImportMode({ databaseUrl: REMOTE, importMode: "process" }, SERVERLESS),
    (e: unknown) => e instanceof ImportModeError && /--allow-run/.test(e.message),
  );
});

Deno.test("the runtime's permissions are asked, not guessed", () => {
  // The tests run with --allow-all.
  assert.deepEqual(runtimeAbilities(), { run: true, ffi: true });
});

Deno.test("AUTOCOMM_IMPORT_MODE accepts process and inline only", () => {
  assert.equal(loadConfig({ env: { AUTOCOMM_IMPORT_MODE: "Inline" } }).importMode, "inline");
  assert.equal(loadConfig({ env: {} }).importMode, undefined);
  assert.throws(
    () => loadConfig({ env: { AUTOCOMM_IMPORT_MODE: "thread" } }),
    (e: unknown) => e instanceof ConfigError && e.variable === "AUTOCOMM_IMPORT_MODE",
  );
});

Deno.test("an embedded replica (a sync URL) is refused at start-up with what to do instead", () => {
  for (
    const env of [
      { AUTOCOMM_DATABASE_SYNC_URL: "libsql://primary.example.org" },
      { DATABASE_SYNC_URL: "libsql://primary.example.org" },
      { DATABASE_URL: "file:replica.db?syncUrl=libsql://primary.example.org" },
    ]
  ) {
    assert.throws(
      () => loadConfig({ env }),
      (e: unknown) =>
        e instanceof ConfigError && /embedded replicas .*not supported/.test(e.message) &&
        /primary/.test(e.message),
    );
  }
});

Deno.test("the service refuses an inline import mode on the embedded file at start-up", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--frozen", "--allow-all", new URL("../../src/main.ts", import.meta.url).href],
      env: {
        DATABASE_URL: `file:${dir}/autocomm.db`,
        AUTOCOMM_IMPORT_MODE: "inline",
        PORT: "0",
        AUTOCOMM_DATA_DIR: dir,
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 78, stderr);
    assert.match(
      stderr,
      /AutoComm cannot start: AUTOCOMM_IMPORT_MODE=inline needs a remote database/,
    );
    // Refused before the database was opened.
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("without a local disk the record API refuses a local folder and says to use SFTP", async () => {
  const s = await startTestService();
  try {
    refuseLocalFolders();
    const res = await s.api("/api/v1/records", { method: "POST", json: studentsRecord() });
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.deepEqual(body.error.problems, [{ field: "source", message: NO_LOCAL_FOLDER }]);
    refuseLocalFolders(false);
    const allowed = await s.api("/api/v1/records", { method: "POST", json: studentsRecord() });
    assert.equal(allowed.status, 201, await allowed.clone().text());
  } finally {
    refuseLocalFolders(false);
    await s.close();
  }
});
