import assert from "node:assert/strict";
import { loadSetup, readSetup, SetupError } from "../../src/sis/setup.ts";
import { tempDatabase } from "../support/db.ts";

const SETUP = {
  schools: [{
    schoolNumber: 100,
    name: "Lincoln Elementary",
    attendanceMethod: "daily",
    terms: [{ id: 3500, abbreviation: "25-26", firstDay: "2025-08-18", lastDay: "2026-05-29" }],
    periods: [{ abbreviation: "1", sortOrder: 1 }],
    days: [{ abbreviation: "A", sortOrder: 1 }],
    attendanceCodes: [{ id: 11, code: "A", description: "Absent", presence: "absent" }],
  }],
  extensions: [{
    table: "students",
    name: "U_StudentsUserFields",
    fields: [{ name: "email", type: "text", maxLength: 100 }],
  }],
};

async function snapshot(t: Awaited<ReturnType<typeof tempDatabase>>) {
  const out: Record<string, unknown[]> = {};
  for (
    const table of [
      "schools",
      "terms",
      "periods",
      "days",
      "attendance_codes",
      "extension_tables",
      "extension_fields",
    ]
  ) {
    out[table] = (await t.database.client.execute(`SELECT * FROM ${table} ORDER BY 1, 2`)).rows.map(
      (r) => ({ ...r }),
    );
  }
  return out;
}

Deno.test("a setup file loads and reads back in the same format", async () => {
  await using t = await tempDatabase();
  await loadSetup(t.database.db, SETUP);
  const back = await readSetup(t.database.db);
  assert.deepEqual(back.schools.map((s) => s.schoolNumber), [0, 100]);
  assert.deepEqual(back.schools[1], SETUP.schools[0]);
  assert.deepEqual(back.extensions, SETUP.extensions);
});

Deno.test("loading the same setup twice gives the same state", async () => {
  await using t = await tempDatabase();
  await loadSetup(t.database.db, SETUP);
  const once = await snapshot(t);
  await loadSetup(t.database.db, SETUP);
  assert.deepEqual(await snapshot(t), once);
});

Deno.test("a listed school's terms, periods, days and codes become exactly the file's", async () => {
  await using t = await tempDatabase();
  await loadSetup(t.database.db, SETUP);
  const changed = structuredClone(SETUP);
  changed.schools[0]!.periods = [{ abbreviation: "HR", sortOrder: 0 }];
  await loadSetup(t.database.db, changed);
  const back = await readSetup(t.database.db);
  assert.deepEqual(back.schools[1]!.periods, [{ abbreviation: "HR", sortOrder: 0 }]);
});

const INVALID: [string, (s: typeof SETUP) => unknown, string][] = [
  ["a term ending before it starts", (s) => {
    s.schools[0]!.terms[0]!.lastDay = "2025-01-01";
  }, "$.schools[0].terms[0].lastDay"],
  ["a date that does not exist", (s) => {
    s.schools[0]!.terms[0]!.firstDay = "2025-02-30";
  }, "$.schools[0].terms[0].firstDay"],
  ["an unknown attendance method", (s) => {
    (s.schools[0] as { attendanceMethod: string }).attendanceMethod = "hourly";
  }, "$.schools[0].attendanceMethod"],
  ["a period abbreviation longer than 3", (s) => {
    s.schools[0]!.periods[0]!.abbreviation = "LUNCH";
  }, "$.schools[0].periods[0].abbreviation"],
  ["a duplicate school", (s) => {
    s.schools.push(structuredClone(s.schools[0]!));
  }, "$.schools[1]"],
  ["an extension on an unknown table", (s) => {
    (s.extensions[0] as { table: string }).table = "buses";
  }, "$.extensions[0].table"],
  ["an unknown top-level key", (s) => {
    (s as Record<string, unknown>)["school"] = [];
  }, "$"],
];

for (const [what, mutate, path] of INVALID) {
  Deno.test(`a setup file with ${what} is refused at ${path} and nothing changes`, async () => {
    await using t = await tempDatabase();
    await loadSetup(t.database.db, SETUP);
    const before = await snapshot(t);
    const bad = structuredClone(SETUP);
    mutate(bad);
    await assert.rejects(() => loadSetup(t.database.db, bad), (error: unknown) => {
      assert.ok(error instanceof SetupError);
      assert.equal(error.path, path);
      return true;
    });
    assert.deepEqual(await snapshot(t), before);
  });
}

Deno.test("setup load and setup show work from the command line", async () => {
  await using t = await tempDatabase();
  const file = `${t.dir}/setup.json`;
  await Deno.writeTextFile(file, JSON.stringify(SETUP));
  const run = (args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--frozen", "src/cli.ts", ...args],
      env: { AUTOCOMM_DATA_DIR: t.dir },
      stdout: "piped",
      stderr: "piped",
    }).output();
  const load = await run(["setup", "load", file]);
  assert.equal(load.code, 0, new TextDecoder().decode(load.stderr));
  assert.match(
    new TextDecoder().decode(load.stdout),
    /Loaded 1 school\(s\) and 1 extension table\(s\)/,
  );
  const show = await run(["setup", "show", "--json"]);
  assert.equal(show.code, 0);
  const shown = JSON.parse(new TextDecoder().decode(show.stdout));
  assert.deepEqual(shown.schools[1], SETUP.schools[0]);
  const bad = structuredClone(SETUP);
  bad.schools[0]!.terms[0]!.lastDay = "2025-01-01";
  await Deno.writeTextFile(file, JSON.stringify(bad));
  const refused = await run(["setup", "load", file]);
  assert.equal(refused.code, 1);
  assert.match(
    new TextDecoder().decode(refused.stderr),
    /\$\.schools\[0\]\.terms\[0\]\.lastDay: lastDay is before firstDay\. Nothing was changed\./,
  );
});
