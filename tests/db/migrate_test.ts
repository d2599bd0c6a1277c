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
