import assert from "node:assert/strict";
import { type Client, createClient } from "@libsql/client";
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
      "cc",
      "attendance",
      "sessions",
      "one_time_tokens",
      "webhook_deliveries",
      "webhook_signatures",
    ]
  ) assert.ok(names.includes(table), `missing table ${table}`);
  const views = await t.database.client.execute(
    "SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name",
  );
  assert.deepEqual(views.rows.map((r) => String(r["name"])), ["section_meetings"]);
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

/**
 * Applies the migrations of the journal after `afterTag` (from the first without it) up to
 * and including `lastTag`, statement by statement as Drizzle would.
 */
async function migrateUpTo(client: Client, lastTag: string, afterTag?: string): Promise<void> {
  const folder = new URL("../../migrations/", import.meta.url);
  const journal = JSON.parse(await Deno.readTextFile(new URL("meta/_journal.json", folder))) as {
    entries: { tag: string }[];
  };
  let started = afterTag === undefined;
  for (const { tag } of journal.entries) {
    if (!started) {
      started = tag === afterTag;
      continue;
    }
    const text = await Deno.readTextFile(new URL(`${tag}.sql`, folder));
    for (const statement of text.split("--> statement-breakpoint")) {
      if (statement.trim() !== "") await client.execute(statement);
    }
    if (tag === lastTag) return;
  }
  throw new Error(`no migration ${lastTag}`);
}

Deno.test("migration 0009 moves every section meeting into sections.meetings, in the school's order", async () => {
  const dir = await Deno.makeTempDir({ prefix: "autocomm-test-" });
  const client = createClient({ url: `file:${dir}/m.db` });
  try {
    await migrateUpTo(client, "0008_section_meetings_without_rowid");
    await client.executeMultiple(`
      INSERT INTO periods (school_number, abbreviation, sort_order) VALUES (100, 'HR', 1), (100, '10', 2), (100, '2', 3);
      INSERT INTO days (school_number, abbreviation, sort_order) VALUES (100, 'B', 1), (100, 'A', 2);
      INSERT INTO sections (id, schoolid, termid, course_number, section_number, expression)
        VALUES (1, 100, 3600, 'ENG', '1', '2(A-B) HR(A) 10(B)'), (2, 100, 3600, 'ENG', '2', NULL);
      INSERT INTO section_meetings (section_id, period, day)
        VALUES (1, '2', 'A'), (1, '2', 'B'), (1, 'HR', 'A'), (1, '10', 'B');
    `);
    await migrateUpTo(
      client,
      "0009_sections_meetings_json",
      "0008_section_meetings_without_rowid",
    );
    const rows = (await client.execute("SELECT id, meetings FROM sections ORDER BY id")).rows;
    assert.deepEqual(rows.map((r) => [r["id"], r["meetings"]]), [
      [1, '{"HR":["A"],"10":["B"],"2":["B","A"]}'],
      [2, null],
    ]);
    const view = (await client.execute(
      "SELECT section_id, period, day FROM section_meetings ORDER BY section_id, period, day",
    )).rows;
    assert.deepEqual(view.map((r) => [r["section_id"], r["period"], r["day"]]), [
      [1, "10", "B"],
      [1, "2", "A"],
      [1, "2", "B"],
      [1, "HR", "A"],
    ]);
  } finally {
    client.close();
    await Deno.remove(dir, { recursive: true });
  }
});
