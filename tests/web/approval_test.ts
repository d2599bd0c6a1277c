/**
 * Approving and discarding a held run through its confirmation pages: the words of
 * what will happen, the keys (paged and as CSV), and no approval without the typed
 * number of removals; the API's optional `confirmRemovals`.
 */
import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { runs } from "../../src/db/schema/autocomm.ts";
import {
  schoolYear,
  startTestService,
  studentsRecord,
  type TestService,
  tsv,
} from "../support/web.ts";

const ENTRY = `08/20/${schoolYear()}`;

/** A Synchronize record's held run that would remove 5 of 6 students (4002–4006). */
async function heldRun(s: TestService): Promise<number> {
  const ids: number[] = [];
  for (const over of [{ name: "Load" }, { name: "Sync", path: "sync.txt", synchronize: true }]) {
    const res = await s.api("/api/v1/records", { method: "POST", json: studentsRecord(over) });
    assert.equal(res.status, 201, await res.clone().text());
    ids.push((await res.json()).records[0].id);
  }
  await s.writeImport(
    "students.txt",
    tsv([1, 2, 3, 4, 5, 6].map((n) => [4000 + n, "A", "B", 3, ENTRY])),
  );
  await s.writeImport("sync.txt", tsv([[4001, "A", "B", 3, ENTRY], [4100, "N", "E", 3, ENTRY]]));
  let runId = 0;
  for (const id of ids) {
    const res = await s.api(`/api/v1/records/${id}/run`, { method: "POST" });
    assert.equal(res.status, 202);
    runId = (await res.json()).runId;
    await s.queue.idle();
  }
  assert.equal(await statusOf(s, runId), "held");
  return runId;
}

async function statusOf(s: TestService, runId: number): Promise<string | undefined> {
  const [run] = await s.database.db.select().from(runs).where(eq(runs.id, runId));
  return run?.status;
}

async function approvalRuns(s: TestService, runId: number): Promise<number> {
  return (await s.database.db.select().from(runs).where(eq(runs.approvesRunId, runId))).length;
}

Deno.test("Approve shows in words what will happen and the keys, and applies nothing without the typed number of removals", async () => {
  const s = await startTestService();
  try {
    const held = await heldRun(s);
    const editor = await s.session("editor", 100);

    let res = await s.page(editor, `/runs/${held}`);
    let html = await res.text();
    assert.match(html, /href="\/runs\/\d+\/approve"/, "the run page links to the confirmation");
    assert.doesNotMatch(html, /action="\/runs\/\d+\/approve"/, "no one-click approval");
    assert.match(html, /“remove” means: students missing from the file will be transferred out/);

    res = await s.page(editor, `/runs/${held}/approve`);
    assert.equal(res.status, 200);
    html = await res.text();
    assert.match(
      html,
      /5 students will be transferred out \(Enroll_Status 2, ExitDate today unless earlier\) and their open schedules dropped \(DateLeft today unless earlier\); 1 will be inserted\./,
    );
    for (const n of [4002, 4003, 4004, 4005, 4006]) {
      assert.ok(html.includes(`Student_Number=${n}`), `key ${n}`);
    }
    assert.ok(!html.includes("Student_Number=4001"), "a kept key is not listed");

    res = await s.page(editor, `/runs/${held}/removals.csv`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-disposition") ?? "", /run-\d+-removals\.csv/);
    assert.equal(await res.text(), "Student_Number\r\n4002\r\n4003\r\n4004\r\n4005\r\n4006\r\n");

    for (const typed of [undefined, "", "4", "50", "five"]) {
      res = await s.page(
        editor,
        `/runs/${held}/approve`,
        typed === undefined ? {} : { confirm_removals: typed },
      );
      assert.equal(res.status, 422, `typed ${typed}`);
      html = await res.text();
      assert.match(html, /class="field-error" id="e-confirm_removals"/);
      assert.match(html, /aria-invalid="true"/);
      assert.equal(await statusOf(s, held), "held", "nothing approved");
      assert.equal(await approvalRuns(s, held), 0, "no approval run");
    }

    res = await s.page(editor, `/runs/${held}/approve`, { confirm_removals: " 5 " });
    assert.equal(res.status, 303);
    await s.queue.idle();
    assert.equal(await statusOf(s, held), "approved");
    assert.equal(await approvalRuns(s, held), 1);

    res = await s.page(editor, `/runs/${held}/approve`);
    assert.equal(res.status, 303, "an approved run has no confirmation page any more");
  } finally {
    await s.close();
  }
});

Deno.test("Discard asks for confirmation before it deletes the held file", async () => {
  const s = await startTestService();
  try {
    const held = await heldRun(s);
    const editor = await s.session("editor", 100);
    let res = await s.page(editor, `/runs/${held}/discard`);
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /Discarding deletes the kept file/);
    assert.match(html, /action="\/runs\/\d+\/discard"/);
    assert.equal(await statusOf(s, held), "held", "opening the confirmation discards nothing");
    res = await s.page(editor, `/runs/${held}/discard`, {});
    assert.equal(res.status, 303);
    assert.equal(await statusOf(s, held), "discarded");
  } finally {
    await s.close();
  }
});

Deno.test("the API's approve refuses a wrong confirmRemovals and applies with the right one", async () => {
  const s = await startTestService();
  try {
    const held = await heldRun(s);
    let res = await s.api(`/api/v1/runs/${held}/approve`, {
      method: "POST",
      json: { confirmRemovals: 4 },
    });
    assert.equal(res.status, 422);
    const body = await res.json();
    assert.equal(body.error.problems[0].field, "confirmRemovals");
    assert.equal(await statusOf(s, held), "held");
    assert.equal(await approvalRuns(s, held), 0);
    res = await s.api(`/api/v1/runs/${held}/approve`, {
      method: "POST",
      json: { confirmRemovals: 5 },
    });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal((await res.json()).run.counts.removed, 5);
    assert.equal(await statusOf(s, held), "approved");
  } finally {
    await s.close();
  }
});

Deno.test("the keys an approval will remove are listed 100 a page and all in the CSV", async () => {
  const s = await startTestService();
  try {
    const ids: number[] = [];
    for (const over of [{ name: "Load" }, { name: "Sync", path: "sync.txt", synchronize: true }]) {
      const res = await s.api("/api/v1/records", { method: "POST", json: studentsRecord(over) });
      ids.push((await res.json()).records[0].id);
    }
    await s.writeImport(
      "students.txt",
      tsv(Array.from({ length: 121 }, (_, i) => [5000 + i, "A", "B", 3, ENTRY])),
    );
    await s.writeImport("sync.txt", tsv([[5000, "A", "B", 3, ENTRY]]));
    let held = 0;
    for (const id of ids) {
      held = (await (await s.api(`/api/v1/records/${id}/run`, { method: "POST" })).json()).runId;
      await s.queue.idle();
    }
    assert.equal(await statusOf(s, held), "held");
    const editor = await s.session("editor", 100);
    const keysOf = (html: string) => [...html.matchAll(/<code>Student_Number=(\d+)<\/code>/g)];
    let html = await (await s.page(editor, `/runs/${held}/approve`)).text();
    assert.equal(keysOf(html).length, 100);
    assert.match(html, /Page 1 of 2/);
    assert.match(html, /<ol class="keys" start="1"/);
    html = await (await s.page(editor, `/runs/${held}/approve?page=2`)).text();
    assert.equal(keysOf(html).length, 20);
    assert.match(html, /<ol class="keys" start="101"/);
    const csv = await (await s.page(editor, `/runs/${held}/removals.csv`)).text();
    assert.equal(csv.trimEnd().split("\r\n").length, 121, "header and 120 keys");
  } finally {
    await s.close();
  }
});
