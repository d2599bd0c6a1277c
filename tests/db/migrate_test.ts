import assert from "node:assert/strict";
import { migrateDatabase } from "../../src/db/migrate.ts";
import { tempDatabase } from "../support/db.ts";

Deno.test("migrations create every table on an empty database", async () => {
  await using t = await tempDatabase();
  const rs = await t.database.client.execute(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
  );
  const names = rs.rows.map((r) => String(r["name"]));
  for (
    const table of [
      "autocomm_records",
      "runs",
      "run_errors",
      "run_notes",
      "run_changes",
      "managed_connections",
      "schools",
      "terms",
      "periods",
      "days",
      "attendance_codes",
      "extension_tables",
      "extension_fields",
      "extension_values",
      "students",
      "reenrollments",
      "teachers",
      "courses",
      "school_courses",
      "sections",
      "section_meetings",
      "cc",
      "attendance",
      "sessions",
      "one_time_tokens",
      "webhook_deliveries",
    ]
  ) assert.ok(names.includes(table), `missing table ${table}`);
});

Deno.test("running the migrations again changes nothing", async () => {
  await using t = await tempDatabase();
  const before = await t.database.client.execute("SELECT count(*) AS n FROM __drizzle_migrations");
  await migrateDatabase(t.database);
  await migrateDatabase(t.database);
  const after = await t.database.client.execute("SELECT count(*) AS n FROM __drizzle_migrations");
  assert.equal(Number(after.rows[0]!["n"]), Number(before.rows[0]!["n"]));
});

Deno.test("the embedded database runs in WAL mode", async () => {
  await using t = await tempDatabase();
  const rs = await t.database.client.execute("PRAGMA journal_mode");
  assert.equal(String(rs.rows[0]![0]).toLowerCase(), "wal");
});

Deno.test("the District Office always exists", async () => {
  await using t = await tempDatabase();
  const rs = await t.database.client.execute("SELECT name FROM schools WHERE school_number = 0");
  assert.equal(rs.rows[0]?.["name"], "District Office");
});

Deno.test("the change-log backfill gives each earlier run the range of its entries", async () => {
  await using t = await tempDatabase();
  const c = t.database.client;
  const run = async () =>
    Number(
      (await c.execute(
        "INSERT INTO runs (school_id, table_name, trigger, status, options, queued_at) VALUES (100, 'teachers', 'cli', 'succeeded', '{}', '2026-01-01') RETURNING id",
      )).rows[0]!["id"],
    );
  const [a, b, none] = [await run(), await run(), await run()];
  for (const [runId, n] of [[a, 3], [b, 2]] as const) {
    for (let i = 0; i < n; i++) {
      await c.execute({
        sql:
          "INSERT INTO run_changes (run_id, table_name, action, key) VALUES (?, 'teachers', 'insert', '[\"T1\",100]')",
        args: [runId],
      });
    }
  }
  const backfill = await Deno.readTextFile(
    new URL("../../migrations/0005_backfill_change_log_ranges.sql", import.meta.url),
  );
  await c.executeMultiple(backfill);
  const rows = (await c.execute("SELECT id, changes_from, changes_to FROM runs ORDER BY id")).rows;
  assert.deepEqual(rows.map((r) => [r["id"], r["changes_from"], r["changes_to"]]), [
    [a, 1, 3],
    [b, 4, 5],
    [none, null, null],
  ]);
});

Deno.test("section meetings are a WITHOUT ROWID table, and rebuilding it keeps every meeting", async () => {
  await using t = await tempDatabase();
  const c = t.database.client;
  const schemaSql = async () =>
    String(
      (await c.execute("SELECT sql FROM sqlite_schema WHERE name = 'section_meetings'")).rows[0]
        ?.["sql"],
    );
  // drizzle-kit cannot express WITHOUT ROWID: a migration it generates that rebuilds the
  // table would silently lose it, and this test would say so.
  assert.match(await schemaSql(), /WITHOUT ROWID\s*$/);
  await c.executeMultiple(
    "INSERT INTO section_meetings (section_id, period, day) VALUES (1, '1', 'A'), (1, '1', 'B'), (2, 'HR', 'A');",
  );
  const rebuild = await Deno.readTextFile(
    new URL("../../migrations/0008_section_meetings_without_rowid.sql", import.meta.url),
  );
  await c.executeMultiple(rebuild.replaceAll("--> statement-breakpoint", ""));
  assert.match(await schemaSql(), /WITHOUT ROWID\s*$/);
  const rows = (await c.execute(
    "SELECT section_id, period, day FROM section_meetings ORDER BY section_id, period, day",
  )).rows;
  assert.deepEqual(rows.map((r) => [r["section_id"], r["period"], r["day"]]), [
    [1, "1", "A"],
    [1, "1", "B"],
    [2, "HR", "A"],
  ]);
});
