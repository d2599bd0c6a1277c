/**
 * The runs overview: `GET /api/v1/runs` with every filter, the last 24 hours
 * (`GET /api/v1/runs/summary`, including a missed slot), a school's session seeing
 * its school only, and the `/runs` page with the same filters in its address.
 */
import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { records, runs } from "../../src/db/schema/autocomm.ts";
import { zonedParts } from "../../src/util/time.ts";
import { slotKey, wallMinuteOf } from "../../src/schedule/due.ts";
import { startTestService, studentsRecord, type TestService } from "../support/web.ts";

const HOUR = 3600_000;

/** Creates a record through the API; returns its id. */
async function createRecord(s: TestService, overrides: Record<string, unknown>): Promise<number> {
  const res = await s.api("/api/v1/records", {
    method: "POST",
    json: studentsRecord(overrides),
  });
  assert.equal(res.status, 201, await res.clone().text());
  const body = await res.json() as { records: { id: number }[] };
  const id = body.records[0]!.id;
  // Made three days ago, so that every slot of the last 24 hours is its own.
  await s.database.db.update(records).set({
    createdAt: new Date(Date.now() - 72 * HOUR).toISOString(),
  }).where(eq(records.id, id));
  return id;
}

/** A finished run row, queued `hoursAgo` hours ago. */
async function addRun(
  s: TestService,
  run: {
    recordId: number | null;
    schoolId: number;
    status: string;
    hoursAgo: number;
    table?: string;
    trigger?: string;
    preview?: boolean;
    slotKey?: string;
    counts?: Partial<Record<"inserted" | "updated" | "removed" | "rejected" | "read", number>>;
  },
): Promise<number> {
  const queued = new Date(Date.now() - run.hoursAgo * HOUR);
  const [row] = await s.database.db.insert(runs).values({
    recordId: run.recordId,
    schoolId: run.schoolId,
    table: run.table ?? "students",
    trigger: run.trigger ?? "schedule",
    status: run.status,
    slotKey: run.slotKey ?? null,
    options: {},
    preview: run.preview ?? false,
    queuedAt: queued.toISOString(),
    startedAt: new Date(queued.getTime() + 1000).toISOString(),
    endedAt: new Date(queued.getTime() + 4000).toISOString(),
    ...run.counts,
  }).returning({ id: runs.id });
  return row!.id;
}

interface Listed {
  total: number;
  runs: { id: number; status: string; recordName: string | null; schoolId: number }[];
}

async function listed(s: TestService, query: string): Promise<Listed> {
  const res = await s.api(`/api/v1/runs${query}`);
  assert.equal(res.status, 200, await res.clone().text());
  return await res.json() as Listed;
}

const ids = (l: Listed) => l.runs.map((r) => r.id);

/** A district with two records and runs of every kind the filters tell apart. */
async function district() {
  const s = await startTestService();
  const a = await createRecord(s, { name: "Students A", executionOff: true });
  const b = await createRecord(s, {
    name: "Teachers B",
    schoolId: 200,
    table: "teachers",
    fields: ["TeacherNumber", "First_Name", "Last_Name"],
    executionOff: true,
  });
  const r = {
    ok: await addRun(s, {
      recordId: a,
      schoolId: 100,
      status: "succeeded",
      hoursAgo: 50,
      counts: { inserted: 5 },
    }),
    failed: await addRun(s, { recordId: a, schoolId: 100, status: "failed", hoursAgo: 30 }),
    held: await addRun(s, {
      recordId: b,
      schoolId: 200,
      table: "teachers",
      status: "held",
      hoursAgo: 3,
      trigger: "run_now",
    }),
    oneOff: await addRun(s, {
      recordId: null,
      schoolId: 0,
      status: "succeeded_with_errors",
      hoursAgo: 2,
      trigger: "cli",
      counts: { inserted: 7, updated: 3, removed: 2, rejected: 1 },
    }),
    rejected: await addRun(s, {
      recordId: b,
      schoolId: 200,
      table: "teachers",
      status: "rejected",
      hoursAgo: 1,
    }),
  };
  return { s, a, b, r };
}

Deno.test("the runs list keeps its behaviour without filters: every run, newest first, paged", async () => {
  const { s, r } = await district();
  try {
    const all = await listed(s, "");
    assert.equal(all.total, 5);
    assert.deepEqual(ids(all), [r.rejected, r.oneOff, r.held, r.failed, r.ok]);
    assert.equal(all.runs[0]!.recordName, "Teachers B");
    assert.equal(all.runs[1]!.recordName, null);
    const second = await listed(s, "?limit=2&offset=2");
    assert.equal(second.total, 5);
    assert.deepEqual(ids(second), [r.held, r.failed]);
  } finally {
    await s.close();
  }
});

Deno.test("the runs list filters by several statuses, table, school, record and trigger", async () => {
  const { s, a, r } = await district();
  try {
    assert.deepEqual(ids(await listed(s, "?status=failed&status=held")), [r.held, r.failed]);
    assert.deepEqual(ids(await listed(s, "?status=failed,rejected")), [r.rejected, r.failed]);
    assert.deepEqual(ids(await listed(s, "?table=teachers")), [r.rejected, r.held]);
    assert.deepEqual(ids(await listed(s, "?school=0")), [r.oneOff]);
    assert.deepEqual(ids(await listed(s, "?school=100")), [r.failed, r.ok]);
    assert.deepEqual(ids(await listed(s, `?record=${a}`)), [r.failed, r.ok]);
    assert.deepEqual(ids(await listed(s, `?recordId=${a}&status=succeeded`)), [r.ok]);
    assert.deepEqual(ids(await listed(s, "?trigger=run_now")), [r.held]);
    const combined = await listed(s, "?table=teachers&status=held&trigger=run_now&school=200");
    assert.deepEqual(ids(combined), [r.held]);
    assert.equal(combined.total, 1);
  } finally {
    await s.close();
  }
});

Deno.test("the runs list filters by a range of when runs were queued: dates, local times, instants", async () => {
  const { s, r } = await district();
  try {
    const since = new Date(Date.now() - 24 * HOUR).toISOString();
    assert.deepEqual(ids(await listed(s, `?from=${since}`)), [r.rejected, r.oneOff, r.held]);
    const until = new Date(Date.now() - 24 * HOUR).toISOString();
    assert.deepEqual(ids(await listed(s, `?to=${until}`)), [r.failed, r.ok]);
    // A local date names the whole day in the service's time zone (America/Chicago).
    const old = new Date(Date.now() - 50 * HOUR);
    const p = zonedParts(old, "America/Chicago");
    const day = `${p.year}-${String(p.month).padStart(2, "0")}-${String(p.day).padStart(2, "0")}`;
    const onThatDay = ids(await listed(s, `?from=${day}&to=${day}`));
    assert.ok(onThatDay.includes(r.ok), `${day}: ${onThatDay}`);
    assert.ok(!onThatDay.includes(r.rejected));
    const minute = `${day}T${String(p.hour).padStart(2, "0")}:${String(p.minute).padStart(2, "0")}`;
    assert.deepEqual(ids(await listed(s, `?to=${minute}`)), []);
    assert.ok(ids(await listed(s, `?from=${minute}`)).includes(r.ok));
  } finally {
    await s.close();
  }
});

Deno.test("a filter that breaks its rule answers 400 naming it", async () => {
  const { s } = await district();
  try {
    for (
      const [query, field] of [
        ["?status=finished", "status"],
        ["?table=grades", "table"],
        ["?school=abc", "school"],
        ["?record=0", "record"],
        ["?trigger=cron", "trigger"],
        ["?from=yesterday", "from"],
        ["?from=2026-12-05&to=2026-12-01", "to"],
      ] as const
    ) {
      const res = await s.api(`/api/v1/runs${query}`);
      assert.equal(res.status, 400, query);
      const body = await res.json() as { error: { code: string; problems: { field: string }[] } };
      assert.equal(body.error.code, "invalid");
      assert.deepEqual(body.error.problems.map((p) => p.field), [field], query);
    }
  } finally {
    await s.close();
  }
});

Deno.test("a school's session lists only its school's runs, and reads no other school's progress", async () => {
  const { s, r } = await district();
  try {
    const session = await s.session("viewer", 200);
    const res = await s.apiAs(session, "/api/v1/runs");
    const body = await res.json() as Listed;
    assert.deepEqual(ids(body), [r.rejected, r.held]);
    // Another school is answered as if it did not exist.
    const other = await s.apiAs(session, "/api/v1/runs?school=100");
    assert.equal(other.status, 404);
    await other.body?.cancel();
    assert.equal((await s.apiAs(session, `/api/v1/runs/${r.failed}/progress`)).status, 404);
    assert.equal((await s.apiAs(session, `/api/v1/runs/${r.held}/progress`)).status, 200);
    const summary = await (await s.apiAs(session, "/api/v1/runs/summary")).json();
    assert.deepEqual(summary.byStatus, { held: 1, rejected: 1 });
  } finally {
    await s.close();
  }
});

interface Summary {
  from: string;
  byStatus: Record<string, number>;
  failed: { recordId: number; name: string; runs: number; lastRunId: number }[];
  held: { recordId: number; lastRunId: number }[];
  missed: { recordId: number; slotKey: string; at: string }[];
  rows: Record<string, number>;
}

Deno.test("the 24-hour summary counts runs by status, names failed and held records, and sums rows", async () => {
  const { s, b, r } = await district();
  try {
    await addRun(s, { recordId: null, schoolId: 0, status: "preview", hoursAgo: 1, preview: true });
    const res = await s.api("/api/v1/runs/summary");
    assert.equal(res.status, 200);
    const summary = await res.json() as Summary;
    // The run of 30 hours ago and the one of 50 are outside; previews are left out.
    assert.deepEqual(summary.byStatus, { held: 1, rejected: 1, succeeded_with_errors: 1 });
    assert.deepEqual(summary.failed.map((f) => [f.recordId, f.runs, f.lastRunId]), [
      [b, 1, r.rejected],
    ]);
    assert.deepEqual(summary.held.map((h) => [h.recordId, h.lastRunId]), [[b, r.held]]);
    assert.deepEqual(summary.rows, { inserted: 7, updated: 3, removed: 2, rejected: 1 });
    assert.deepEqual(summary.missed, []);
  } finally {
    await s.close();
  }
});

Deno.test("the 24-hour summary names a scheduled slot no run was claimed for, and not a claimed one", async () => {
  const s = await startTestService();
  try {
    const zone = s.config.timeZone;
    const due = zonedParts(new Date(Date.now() - 2 * HOUR), zone);
    const daily = { hour: due.hour, minute: due.minute, days: "MTWHFSU" };
    const missed = await createRecord(s, { name: "Missed", ...daily });
    const ran = await createRecord(s, { name: "Ran", ...daily });
    await createRecord(s, { name: "Off", ...daily, executionOff: true });
    // A record due two hours ago on no day of the week of that slot is not due at all.
    const letter = wallMinuteOf(new Date(Date.now() - 2 * HOUR), zone).day;
    await createRecord(s, { name: "Other days", ...daily, days: "MTWHFSU".replace(letter, "") });
    const wall = wallMinuteOf(new Date(Date.now() - 2 * HOUR), zone);
    await addRun(s, {
      recordId: ran,
      schoolId: 100,
      status: "succeeded",
      hoursAgo: 2,
      slotKey: slotKey(ran, wall),
    });
    const summary = await (await s.api("/api/v1/runs/summary")).json() as Summary;
    assert.deepEqual(summary.missed.map((m) => [m.recordId, m.slotKey]), [
      [missed, slotKey(missed, wall)],
    ]);
    const at = Date.parse(summary.missed[0]!.at);
    assert.ok(Math.abs(at - (Date.now() - 2 * HOUR)) < 61_000, summary.missed[0]!.at);
    // The page names it too, with a link to the record's runs.
    const page = await s.page(await s.session("viewer"), "/runs");
    const html = await page.text();
    assert.match(html, new RegExp(`href="/runs\\?record=${missed}">Missed</a>`));
    assert.doesNotMatch(html, />Ran<\/a> <span class="muted">\(school 100, due/);
  } finally {
    await s.close();
  }
});

Deno.test("the /runs page lists runs with its filters in the address, and links the summary into the list", async () => {
  const { s, r } = await district();
  try {
    const viewer = await s.session("viewer");
    const res = await s.page(viewer, "/runs?status=held&status=rejected&table=teachers");
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /<a href="\/runs">AutoComm Runs<\/a>/);
    assert.match(html, /Last 24 hours/);
    assert.match(html, /2 runs, newest first/);
    assert.match(html, new RegExp(`href="/runs/${r.rejected}"`));
    assert.doesNotMatch(html, new RegExp(`href="/runs/${r.failed}"`));
    // The form shows the filters it was given.
    assert.match(html, /<input type="checkbox" name="status" value="held" checked>/);
    assert.match(html, /<option value="teachers" selected>/);
    // The summary's status counts link into the list with the window and the status.
    assert.match(
      html,
      /href="\/runs\?status=held&amp;from=[^"]+&amp;to=[^"]+">1 Held for approval/,
    );
    const bad = await s.page(viewer, "/runs?status=finished");
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /Some filters were not used: status/);
  } finally {
    await s.close();
  }
});

Deno.test("the OpenAPI document describes the runs filters, the summary and the progress", async () => {
  const s = await startTestService({ setup: false });
  try {
    const doc = await (await s.api("/api/v1/openapi.json")).json();
    const params = doc.paths["/runs"].get.parameters.map((p: { name: string }) => p.name);
    for (const name of ["status", "table", "school", "record", "trigger", "from", "to", "limit"]) {
      assert.ok(params.includes(name), name);
    }
    assert.ok(doc.paths["/runs/summary"].get);
    assert.ok(doc.paths["/runs/{id}/progress"].get);
  } finally {
    await s.close();
  }
});
