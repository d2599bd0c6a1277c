import assert from "node:assert/strict";
import { createClient } from "@libsql/client";
import { eq, sql } from "drizzle-orm";
import { runChanges, runs } from "../../src/db/schema/autocomm.ts";
import { decodeCursor } from "../../src/host/feed.ts";
import { createLogger } from "../../src/log.ts";
import { applyRetention } from "../../src/schedule/hourly.ts";
import {
  schoolYear,
  type Session,
  startTestService,
  studentsRecord,
  type TestService,
  tsv,
} from "../support/web.ts";

const ENTRY = `08/20/${schoolYear()}`;

interface Entry {
  cursor: string;
  runId: number;
  recordId: number | null;
  table: string;
  schoolId: number;
  action: string;
  key: Record<string, unknown>;
  changes: Record<string, { old: unknown; new: unknown }> | null;
  committedAt: string | null;
  gap?: true;
  from?: string;
  to?: string;
  message?: string;
}

interface Page {
  entries: Entry[];
  next: string;
  more: boolean;
}

async function createRecord(s: TestService, over: Record<string, unknown> = {}): Promise<number> {
  const res = await s.api("/api/v1/records", { method: "POST", json: studentsRecord(over) });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()).records[0].id;
}

async function runNow(s: TestService, recordId: number, path = "run"): Promise<number> {
  const res = await s.api(`/api/v1/records/${recordId}/${path}`, { method: "POST" });
  assert.ok(res.status === 202 || res.status === 200, await res.clone().text());
  const body = await res.json();
  await s.queue.idle();
  return body.runId ?? body.run.id;
}

/** One page of the feed, as the API token (or a session) reads it. */
async function page(
  s: TestService,
  query: { since?: string; limit?: number } = {},
  as?: Session,
): Promise<Page> {
  const params = new URLSearchParams();
  if (query.since !== undefined) params.set("since", query.since);
  if (query.limit !== undefined) params.set("limit", String(query.limit));
  const path = `/api/v1/changes?${params}`;
  const res = as ? await s.apiAs(as, path) : await s.api(path);
  assert.equal(res.status, 200, await res.clone().text());
  return await res.json();
}

/** Every entry from `since` on, page by page. */
async function readAll(s: TestService, since?: string, limit = 3, as?: Session) {
  const entries: Entry[] = [];
  let cursor = since;
  for (let i = 0; i < 100; i++) {
    const p = await page(s, { ...(cursor !== undefined ? { since: cursor } : {}), limit }, as);
    entries.push(...p.entries);
    cursor = p.next;
    if (!p.more) break;
  }
  return { entries, next: cursor! };
}

const students = (numbers: number[], grade = 3) =>
  tsv(numbers.map((n) => [n, `First${n}`, `Last${n}`, grade, ENTRY]));

const label = (e: Entry) => e.gap ? "gap" : `${e.runId} ${e.action} ${e.key["Student_Number"]}`;

Deno.test("paging the feed while runs commit between pages gives every entry exactly once, in commit order", async () => {
  const s = await startTestService();
  try {
    const id = await createRecord(s);
    await s.writeImport("students.txt", students([1001, 1002, 1003, 1004, 1005]));
    const first = await runNow(s, id);

    const p1 = await page(s, { limit: 2 });
    assert.deepEqual(p1.entries.map(label), [`${first} inserted 1001`, `${first} inserted 1002`]);
    assert.equal(p1.more, true);

    // A run commits between two pages: one new student, one changed, the rest unchanged.
    await s.writeImport(
      "students.txt",
      students([1001, 1002, 1003, 1004, 1005, 1006]).replace("Last1002", "Other"),
    );
    const second = await runNow(s, id);

    const rest = await readAll(s, p1.next, 2);
    assert.deepEqual([...p1.entries, ...rest.entries].map(label), [
      `${first} inserted 1001`,
      `${first} inserted 1002`,
      `${first} inserted 1003`,
      `${first} inserted 1004`,
      `${first} inserted 1005`,
      `${second} inserted 1006`,
      `${second} updated 1002`,
    ]);
    const update = rest.entries.at(-1)!;
    assert.deepEqual(update.changes, { Last_Name: { old: "Last1002", new: "Other" } });
    assert.equal(update.table, "students");
    assert.equal(update.schoolId, 100);
    assert.equal(update.recordId, id);
    const run = (await s.database.db.select().from(runs).where(eq(runs.id, second)))[0]!;
    assert.equal(update.committedAt, run.endedAt);

    // Nothing new: the same cursor comes back, with no entries.
    const idle = await page(s, { since: rest.next });
    assert.deepEqual(idle, { entries: [], next: rest.next, more: false });

    // Every entry's own cursor resumes right after it.
    const resumed = await page(s, { since: p1.entries[0]!.cursor, limit: 1 });
    assert.deepEqual(resumed.entries.map(label), [`${first} inserted 1002`]);
  } finally {
    await s.close();
  }
});

Deno.test("a page stops before the entries of a run that is not final yet, and they come once it is", async () => {
  const s = await startTestService();
  try {
    const id = await createRecord(s);
    await s.writeImport("students.txt", students([2001, 2002]));
    const first = await runNow(s, id);
    await s.writeImport("students.txt", students([2001, 2002, 2003]));
    const second = await runNow(s, id);
    await s.writeImport("students.txt", students([2001, 2002, 2003, 2004]));
    const third = await runNow(s, id);

    // As if the second run's entries were visible while it is still running.
    const db = s.database.db;
    await db.update(runs).set({ status: "running" }).where(eq(runs.id, second));
    const before = await readAll(s, undefined, 10);
    assert.deepEqual(before.entries.map(label), [
      `${first} inserted 2001`,
      `${first} inserted 2002`,
    ]);

    await db.update(runs).set({ status: "succeeded" }).where(eq(runs.id, second));
    const after = await readAll(s, before.next, 10);
    assert.deepEqual(after.entries.map(label), [
      `${second} inserted 2003`,
      `${third} inserted 2004`,
    ]);
  } finally {
    await s.close();
  }
});

Deno.test("entries of a run whose transaction has not committed are not read, and come once it commits", async () => {
  const s = await startTestService();
  const other = createClient({ url: s.config.databaseUrl });
  try {
    const id = await createRecord(s);
    await s.writeImport("students.txt", students([3001]));
    const first = await runNow(s, id);
    const seen = await readAll(s);

    // Another connection applies a run the way the import process does: its entries and
    // its final status in one write transaction.
    const queued = await other.execute({
      sql: `INSERT INTO runs (record_id, school_id, table_name, trigger, status, options, queued_at)
            VALUES (?, 100, 'students', 'cli', 'running', '{}', ?) RETURNING id`,
      args: [id, new Date().toISOString()],
    });
    const runId = Number(queued.rows[0]!["id"]);
    const tx = await other.transaction("write");
    await tx.execute({
      sql: `INSERT INTO run_changes (run_id, table_name, action, key, changes)
            VALUES (?, 'students', 'insert', '[3002]', NULL), (?, 'students', 'insert', '[3003]', NULL)`,
      args: [runId, runId],
    });
    await tx.execute({
      sql: "UPDATE runs SET status = 'succeeded', ended_at = ? WHERE id = ?",
      args: [new Date().toISOString(), runId],
    });
    const during = await page(s, { since: seen.next });
    assert.deepEqual(during, { entries: [], next: seen.next, more: false });
    await tx.commit();

    const after = await readAll(s, seen.next);
    assert.deepEqual([...seen.entries, ...after.entries].map(label), [
      `${first} inserted 3001`,
      `${runId} inserted 3002`,
      `${runId} inserted 3003`,
    ]);
  } finally {
    other.close();
    await s.close();
  }
});

Deno.test("previews and held runs are not in the feed; the approval of a held run is", async () => {
  const s = await startTestService();
  try {
    const load = await createRecord(s, { name: "Load" });
    const sync = await createRecord(s, { name: "Sync", path: "sync.txt", synchronize: true });
    await s.writeImport("students.txt", students([4001, 4002, 4003, 4004, 4005, 4006]));
    await s.writeImport("sync.txt", students([4001]));
    const loaded = await runNow(s, load);
    await s.writeImport("students.txt", students([4001, 4002, 4003, 4004, 4005, 4006, 4007]));
    const preview = await runNow(s, load, "preview");
    const held = await runNow(s, sync);
    const heldRun = (await s.database.db.select().from(runs).where(eq(runs.id, held)))[0]!;
    assert.equal(heldRun.status, "held");
    assert.ok(heldRun.changesTo !== null, "the held run logged what it would remove");
    const previewRun = (await s.database.db.select().from(runs).where(eq(runs.id, preview)))[0]!;
    assert.equal(previewRun.status, "preview");
    assert.equal(previewRun.preview, true);
    assert.ok(previewRun.changesTo !== null, "the preview logged what it would do");

    const before = await readAll(s, undefined, 4);
    assert.deepEqual(before.entries.map((e) => e.runId), Array(6).fill(loaded));

    const res = await s.api(`/api/v1/runs/${held}/approve`, { method: "POST" });
    assert.equal(res.status, 200);
    const approval = (await res.json()).approvalRunId;
    const after = await readAll(s, before.next, 4);
    assert.deepEqual(
      after.entries.map(label),
      [4002, 4003, 4004, 4005, 4006].map((n) => `${approval} removed ${n}`),
    );
  } finally {
    await s.close();
  }
});

Deno.test("a session with a school context sees only its school's entries; the District Office sees all", async () => {
  const s = await startTestService();
  try {
    const a = await createRecord(s, { name: "A" });
    const b = await createRecord(s, { name: "B", schoolId: 200, path: "b.txt" });
    await s.writeImport("students.txt", students([5001]));
    await s.writeImport("b.txt", students([5002]));
    await runNow(s, a);
    await runNow(s, b);

    const lincoln = await readAll(s, undefined, 10, await s.session("viewer", 100));
    assert.deepEqual(lincoln.entries.map((e) => [e.schoolId, e.key["Student_Number"]]), [
      [100, 5001],
    ]);
    const washington = await readAll(s, undefined, 10, await s.session("viewer", 200));
    assert.deepEqual(washington.entries.map((e) => [e.schoolId, e.key["Student_Number"]]), [
      [200, 5002],
    ]);
    const office = await readAll(s, undefined, 10, await s.session("viewer", 0));
    assert.deepEqual(office.entries.map((e) => e.schoolId), [100, 200]);

    // Lincoln's cursor moved past Washington's entry: it is not read again on every call.
    const [last] = await s.database.db.select({ id: sql<number>`max(id)` }).from(runChanges);
    assert.equal(decodeCursor(lincoln.next).after, Number(last?.id));
    const again = await page(s, { since: lincoln.next }, await s.session("viewer", 100));
    assert.deepEqual(again, { entries: [], next: lincoln.next, more: false });
  } finally {
    await s.close();
  }
});

Deno.test("entries removed by retention before a host read them answer a gap first, once", async () => {
  const s = await startTestService();
  try {
    const id = await createRecord(s);
    await s.writeImport("students.txt", students([6001, 6002]));
    const old = await runNow(s, id);
    const upToDate = (await readAll(s)).next;

    // A year and more later the hourly process deletes the old run.
    const deps = { db: s.database.db, config: s.config, logger: createLogger("error") };
    const later = new Date(Date.now() + (s.config.runRetentionDays + 1) * 86_400_000);
    assert.equal(await applyRetention(deps, later), 1);
    const [gone] = await s.database.db.select({ n: sql<number>`count(*)` }).from(runs)
      .where(eq(runs.id, old));
    assert.equal(Number(gone?.n), 0);

    await s.writeImport("students.txt", students([6001, 6002, 6003]));
    const fresh = await runNow(s, id);

    const fromStart = await page(s);
    assert.deepEqual(fromStart.entries.map(label), ["gap", `${fresh} inserted 6003`]);
    const gap = fromStart.entries[0]!;
    assert.match(gap.message!, /removed by retention/);
    assert.equal(typeof gap.from, "string");
    assert.equal(typeof gap.to, "string");
    // Going on from the gap's cursor or the page's next does not report it again.
    assert.deepEqual((await page(s, { since: gap.cursor })).entries.map(label), [
      `${fresh} inserted 6003`,
    ]);
    assert.deepEqual((await page(s, { since: fromStart.next })).entries, []);

    // A host that had read everything before retention lost nothing: no gap.
    assert.deepEqual((await page(s, { since: upToDate })).entries.map(label), [
      `${fresh} inserted 6003`,
    ]);
  } finally {
    await s.close();
  }
});

Deno.test("a malformed cursor or limit answers 400; a viewer may read the feed, nobody signed out", async () => {
  const s = await startTestService();
  try {
    for (const since of ["nonsense!", "bm90IGEgY3Vyc29y", "MS4xLg", "MS4wMS4w"]) {
      const res = await s.api(`/api/v1/changes?since=${since}`);
      assert.equal(res.status, 400, since);
      const body = await res.json();
      assert.equal(body.error.code, "bad_cursor");
      assert.match(body.error.message, /not a cursor of the change feed/);
    }
    for (const limit of ["0", "1001", "x"]) {
      const res = await s.api(`/api/v1/changes?limit=${limit}`);
      assert.equal(res.status, 400, limit);
      assert.equal((await res.json()).error.code, "invalid");
    }
    assert.equal((await s.apiAs(await s.session("viewer"), "/api/v1/changes")).status, 200);
    assert.equal((await s.app.request("/api/v1/changes")).status, 401);
    const doc = await (await s.app.request("/api/v1/openapi.json")).json();
    const op = doc.paths["/changes"].get;
    assert.equal(op["x-required-role"], "viewer");
    assert.ok(doc.components.schemas.FeedPage);
  } finally {
    await s.close();
  }
});
