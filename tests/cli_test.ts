/** The command line as users run it: the demo, stored records, SIS read-out, usage errors. */
import assert from "node:assert/strict";
import { migrationsPending } from "../src/db/schema_version.ts";
import { openExecutor } from "../src/pipeline/executor.ts";
import { runCli, tempEnv } from "./support/cli.ts";

Deno.test("seed-demo loads two schools, example files and records that run in order", async () => {
  await using data = await tempEnv();
  const seed = await runCli(["seed-demo"], data.env);
  assert.equal(seed.code, 0, seed.stderr);
  assert.match(seed.stdout, /Lincoln Elementary/);
  const again = await runCli(["seed-demo"], data.env);
  assert.match(again.stdout, /already exist/);
  const setup = JSON.parse((await runCli(["setup", "show", "--json"], data.env)).stdout);
  assert.deepEqual(setup.schools.map((s: { schoolNumber: number }) => s.schoolNumber), [
    0,
    100,
    200,
  ]);
  const records = JSON.parse(
    (await runCli(["records", "--school", "100", "--json"], data.env)).stdout,
  );
  assert.deepEqual(records.map((r: { name: string }) => r.name), [
    "Teachers",
    "Courses",
    "Sections",
    "Students",
    "Student schedules",
    "Daily attendance",
  ]);
  const statuses: string[] = [];
  for (const r of records) {
    const run = await runCli(["run", String(r.id), "--json"], data.env);
    statuses.push(JSON.parse(run.stdout).status);
  }
  assert.deepEqual(statuses, [
    "succeeded",
    "succeeded",
    "succeeded",
    "succeeded_with_errors",
    "succeeded",
    "succeeded",
  ]);
  const byName = await runCli(["run", "--school", "100", "Teachers", "--json"], data.env);
  assert.equal(JSON.parse(byName.stdout).counts.unchanged, 3);
  const students = JSON.parse(
    (await runCli(["sis", "students", "--school", "100", "--json"], data.env)).stdout,
  );
  assert.equal(students.length, 4);
  const jose = students.find((s: Record<string, unknown>) => s["Student_Number"] === 1001);
  assert.equal(jose["First_Name"], "José");
  assert.match(jose["EntryDate"], /^\d{4}-08-17$/);
  assert.match(jose["ExitDate"], /^\d{4}-05-29$/);
  assert.equal(jose["U_StudentsUserFields.email"], "jose@example.org");
  const cc = JSON.parse((await runCli(["sis", "schedules", "--json"], data.env)).stdout);
  assert.equal(cc.length, 4);
});

Deno.test("sis prints an empty list for a table with no rows and pages with --limit", async () => {
  await using data = await tempEnv();
  const out = await runCli(["sis", "teachers", "--json"], data.env);
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(JSON.parse(out.stdout), []);
});

Deno.test("usage errors name the problem and exit 64", async () => {
  await using data = await tempEnv();
  const cases: [string[], RegExp][] = [
    [["nope"], /Unknown command "nope"/],
    [["sis", "buses"], /Unknown table "buses"/],
    [["import", "--table", "students", "x.txt"], /--school is required/],
    [[
      "import",
      "--table",
      "students",
      "--school",
      "100",
      "--fields",
      "Student_Number,Frist_Name",
      "x.txt",
    ], /Unknown field "Frist_Name".*First_Name/],
    [
      ["import", "--table", "students", "--school", "100", "--fields", "First_Name", "x.txt"],
      /match key needs Student_Number/,
    ],
    [[
      "import",
      "--table",
      "students",
      "--school",
      "100",
      "--fields",
      "Student_Number",
      "--charset",
      "ebcdic",
      "x.txt",
    ], /--charset is one of/],
    [["run", "42"], /Use: run/],
  ];
  await runCli(["seed-demo"], data.env);
  for (const [args, message] of cases) {
    const out = await runCli(args, data.env);
    assert.equal(out.code, 64, `${args.join(" ")}: ${out.stderr}`);
    assert.match(out.stderr, message);
  }
});

Deno.test("the start command migrates a new database and serves health", async () => {
  await using data = await tempEnv();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const server = new Deno.Command(Deno.execPath(), {
    args: ["task", "start"],
    env: { ...data.env, PORT: String(port), AUTOCOMM_LOG_LEVEL: "warn" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  try {
    let body: Record<string, unknown> | undefined;
    for (let i = 0; i < 100 && !body; i++) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        assert.equal(res.status, 200);
        assert.match(res.headers.get("content-type") ?? "", /application\/json/);
        body = await res.json();
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.ok(body, "the service did not answer /healthz");
    assert.equal(body["status"], "ok");
    assert.equal(body["database"], "ok");
    assert.match(String(body["version"]), /^\d+\.\d+\.\d+$/);
    await Deno.stat(`${data.dir}/autocomm.db`);
  } finally {
    server.kill("SIGTERM");
    await server.status;
    await server.stderr.cancel();
  }
});

Deno.test("import migrates a new database in a process of its own, then imports", async () => {
  await using data = await tempEnv();
  const file = `${data.dir}/teachers.txt`;
  await Deno.writeTextFile(file, "T1\tAda\tLovelace\n");
  const args = [
    "import",
    "--table",
    "teachers",
    "--school",
    "100",
    "--fields",
    "TeacherNumber,First_Name,Last_Name",
    "--record-delimiter",
    "LF",
    "--json",
    file,
  ];
  // A new data folder: the schema is created, and the school is not there yet.
  const fresh = await runCli(args, data.env);
  assert.equal(fresh.code, 64, fresh.stderr);
  assert.match(fresh.stderr, /There is no school 100/);
  const exec = await openExecutor({
    databaseUrl: `file:${data.dir}/autocomm.db`,
    busyTimeoutMs: 5000,
  });
  try {
    assert.equal(await migrationsPending(exec), false, "every migration applied");
    // Without the newest migration's record the schema reads as outdated.
    const [newest] = await exec.all(
      "SELECT hash, created_at FROM __drizzle_migrations ORDER BY created_at DESC LIMIT 1",
    );
    await exec.run("DELETE FROM __drizzle_migrations WHERE created_at = ?", [
      newest!["created_at"]!,
    ]);
    assert.equal(await migrationsPending(exec), true);
    await exec.run("INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)", [
      newest!["hash"]!,
      newest!["created_at"]!,
    ]);
    assert.equal(await migrationsPending(exec), false);
  } finally {
    exec.close();
  }
  await runCli(["seed-demo"], data.env);
  const out = await runCli(args, data.env);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(JSON.parse(out.stdout).status, "succeeded");
});
