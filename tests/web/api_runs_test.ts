import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { connections, runs } from "../../src/db/schema/autocomm.ts";
import { queueRecordRun } from "../../src/pipeline/service.ts";
import {
  schoolYear,
  startTestService,
  studentsRecord,
  type TestService,
  tsv,
} from "../support/web.ts";

const ENTRY = `08/20/${schoolYear()}`;

async function createRecord(s: TestService, over: Record<string, unknown> = {}): Promise<number> {
  const res = await s.api("/api/v1/records", { method: "POST", json: studentsRecord(over) });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()).records[0].id;
}

async function runNow(s: TestService, recordId: number): Promise<number> {
  const res = await s.api(`/api/v1/records/${recordId}/run`, { method: "POST" });
  assert.equal(res.status, 202, await res.clone().text());
  const body = await res.json();
  await s.queue.idle();
  return body.runId;
}

Deno.test("Run Now queues a run that the import process executes, and a running record answers 409 with its run", async () => {
  const s = await startTestService();
  try {
    const id = await createRecord(s);
    await s.writeImport(
      "students.txt",
      tsv([[1001, "Ann", "Lee", 3, ENTRY], [1002, "Bob", "Ray", 4, ENTRY]]),
    );
    let res = await s.api(`/api/v1/records/${id}/run`, { method: "POST" });
    assert.equal(res.status, 202);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const queued = await res.json();
    assert.equal(queued.status, "queued");
    assert.equal(res.headers.get("location"), `/api/v1/runs/${queued.runId}`);
    await s.queue.idle();

    res = await s.api(`/api/v1/runs/${queued.runId}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const run = await res.json();
    assert.equal(run.status, "succeeded");
    assert.equal(run.trigger, "api");
    assert.equal(run.recordId, id);
    assert.equal(run.counts.inserted, 2);
    assert.equal(run.file.name, "students.txt");
    assert.match(run.file.sha256, /^[0-9a-f]{64}$/);
    assert.equal(run.errorCount, 0);
    assert.equal(run.changeCount, 2);

    // A run that is queued (not yet started) holds the record.
    const active = await queueRecordRun({ db: s.database.db, config: s.config }, id, {
      trigger: "run_now",
    });
    res = await s.api(`/api/v1/records/${id}/run`, { method: "POST" });
    assert.equal(res.status, 409);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const conflict = await res.json();
    assert.equal(conflict.error.code, "running");
    assert.equal(conflict.error.runId, active);
    s.queue.enqueue(active);
    await s.queue.idle();

    res = await s.api(`/api/v1/records/999/run`, { method: "POST" });
    assert.equal(res.status, 404);
  } finally {
    await s.close();
  }
});

Deno.test("Run Now first marks interrupted a run whose process died, so the record can run again", async () => {
  const s = await startTestService();
  try {
    const id = await createRecord(s);
    await s.writeImport("students.txt", tsv([[1101, "Ann", "Lee", 3, ENTRY]]));
    const dead = await queueRecordRun({ db: s.database.db, config: s.config }, id, {
      trigger: "run_now",
    });
    await s.database.db.update(runs).set({
      leaseExpiresAt: new Date(Date.now() - 1000).toISOString(),
    })
      .where(eq(runs.id, dead));
    const runId = await runNow(s, id);
    assert.notEqual(runId, dead);
    const old = await (await s.api(`/api/v1/runs/${dead}`)).json();
    assert.equal(old.status, "interrupted");
    const run = await (await s.api(`/api/v1/runs/${runId}`)).json();
    assert.equal(run.status, "succeeded");
  } finally {
    await s.close();
  }
});

Deno.test("runs are listed newest first and paged, with errors paged in file order, changes and the rejected-rows CSV", async () => {
  const s = await startTestService();
  try {
    const id = await createRecord(s);
    await s.writeImport(
      "students.txt",
      tsv([
        [2001, "Cy", "Do", 5, ENTRY],
        [2002, "Ed", "", 5, ENTRY],
        [2003, "=HYPERLINK(1)", "Fa", "x", ENTRY],
        [2004, "Gi", "Ho", 5, "31/31/2020"],
      ]),
    );
    const first = await runNow(s, id);
    const second = await runNow(s, id);

    let res = await s.api(`/api/v1/runs?recordId=${id}&limit=1`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    let body = await res.json();
    assert.equal(body.total, 2);
    assert.deepEqual(body.runs.map((r: { id: number }) => r.id), [second]);
    res = await s.api(`/api/v1/runs?recordId=${id}&limit=1&offset=1`);
    body = await res.json();
    assert.deepEqual(body.runs.map((r: { id: number }) => r.id), [first]);
    res = await s.api(`/api/v1/runs?limit=0`);
    assert.equal(res.status, 400);

    res = await s.api(`/api/v1/runs/${first}`);
    const run = await res.json();
    assert.equal(run.status, "succeeded_with_errors");
    assert.equal(run.counts.read, 4);
    assert.equal(run.counts.inserted, 1);
    assert.equal(run.counts.rejected, 3);

    res = await s.api(`/api/v1/runs/${first}/errors?limit=2`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    body = await res.json();
    assert.equal(body.total, 3);
    assert.deepEqual(body.errors.map((e: { line: number }) => e.line), [2, 3]);
    assert.equal(body.errors[0].field, "Last_Name");
    res = await s.api(`/api/v1/runs/${first}/errors?limit=2&offset=2`);
    body = await res.json();
    assert.deepEqual(body.errors.map((e: { line: number }) => e.line), [4]);
    assert.doesNotMatch(
      JSON.stringify(body),
      /31\/31\/2020/,
      "error messages carry no personal values",
    );

    res = await s.api(`/api/v1/runs/${first}/changes`);
    assert.equal(res.status, 200);
    body = await res.json();
    assert.equal(body.total, 1);
    assert.deepEqual(body.changes[0], {
      table: "students",
      action: "insert",
      key: { Student_Number: 2001 },
      changes: null,
    });

    res = await s.api(`/api/v1/runs/${first}/rejected.csv`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/csv/);
    assert.match(
      res.headers.get("content-disposition") ?? "",
      /^attachment; filename="run-\d+-rejected-rows\.csv"$/,
    );
    const csv = await res.text();
    const lines = csv.trimEnd().split("\r\n");
    assert.equal(
      lines[0],
      "line,field,code,message,Student_Number,First_Name,Last_Name,Grade_Level,EntryDate",
      "the header names the record's fields",
    );
    assert.equal(lines.length, 4);
    assert.match(lines[1]!, /^2,Last_Name,missing_required,.*,2002,Ed,,5,/);
    assert.match(lines[2]!, /^3,.*,2003,'=HYPERLINK\(1\),Fa,x,/, "formula cells are neutralised");
    assert.match(
      lines[3]!,
      /^4,EntryDate,.*,2004,Gi,Ho,5,31\/31\/2020$/,
      "unreadable cells as in the file",
    );

    res = await s.api(`/api/v1/runs/999/errors`);
    assert.equal(res.status, 404);
    res = await s.api(`/api/v1/runs/999/rejected.csv`);
    assert.equal(res.status, 404);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
  } finally {
    await s.close();
  }
});

Deno.test("a preview runs the pipeline without committing and shows what would change", async () => {
  const s = await startTestService();
  try {
    const id = await createRecord(s);
    await s.writeImport(
      "students.txt",
      tsv([[3001, "Ann", "Lee", 3, ENTRY], [3002, "Bob", "", 4, ENTRY]]),
    );
    const res = await s.api(`/api/v1/records/${id}/preview`, { method: "POST" });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const body = await res.json();
    assert.equal(body.run.status, "preview");
    assert.equal(body.run.preview, true);
    assert.equal(body.run.counts.inserted, 1);
    assert.deepEqual(body.changes.map((c: { key: unknown }) => c.key), [{ Student_Number: 3001 }]);
    assert.equal(body.run.counts.rejected, 1);
    // The preview keeps its row errors although every SIS change is rolled back.
    assert.deepEqual(
      body.errors.map((
        e: { line: number; field: string; code: string },
      ) => [e.line, e.field, e.code]),
      [[2, "Last_Name", "missing_required"]],
    );

    const sis = await s.api(`/api/v1/sis/students?school=100`);
    assert.equal((await sis.json()).total, 0, "a preview changes nothing");
  } finally {
    await s.close();
  }
});

Deno.test("a held run shows the keys it would remove and is approved once, or discarded", async () => {
  const s = await startTestService();
  try {
    const load = await createRecord(s, { name: "Load" });
    const sync = await createRecord(s, { name: "Sync", path: "sync.txt", synchronize: true });
    await s.writeImport(
      "students.txt",
      tsv([4001, 4002, 4003, 4004, 4005, 4006].map((n) => [n, "A", "B", 3, ENTRY])),
    );
    await s.writeImport("sync.txt", tsv([[4001, "A", "B", 3, ENTRY]]));
    await runNow(s, load);

    const heldOne = await runNow(s, sync);
    let res = await s.api(`/api/v1/runs/${heldOne}`);
    let run = await res.json();
    assert.equal(run.status, "held");
    assert.equal(run.counts.removed, 5);
    res = await s.api(`/api/v1/runs/${heldOne}/changes?limit=10`);
    const changes = await res.json();
    assert.equal(changes.total, 5);
    assert.deepEqual(
      changes.changes.map((c: { action: string; key: { Student_Number: number } }) =>
        `${c.action} ${c.key.Student_Number}`
      ),
      ["remove 4002", "remove 4003", "remove 4004", "remove 4005", "remove 4006"],
    );

    res = await s.api(`/api/v1/runs/${heldOne}/discard`, { method: "POST" });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    assert.equal((await res.json()).status, "discarded");
    res = await s.api(`/api/v1/runs/${heldOne}/approve`, { method: "POST" });
    assert.equal(res.status, 409);
    assert.equal((await res.json()).error.code, "conflict");

    const heldTwo = await runNow(s, sync);
    res = await s.api(`/api/v1/runs/${heldTwo}/approve`, { method: "POST" });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const approved = await res.json();
    assert.equal(approved.run.trigger, "approval");
    assert.equal(approved.run.approvesRunId, heldTwo);
    assert.equal(approved.run.status, "succeeded");
    assert.equal(approved.run.counts.removed, 5);

    res = await s.api(`/api/v1/runs/${heldTwo}/approve`, { method: "POST" });
    assert.equal(res.status, 409, "a held run is approved once");
    res = await s.api(`/api/v1/runs/${heldTwo}/discard`, { method: "POST" });
    assert.equal(res.status, 409);
    run = await (await s.api(`/api/v1/runs/${heldTwo}`)).json();
    assert.equal(run.status, "approved");

    res = await s.api(`/api/v1/sis/students?school=100`);
    const rows = (await res.json()).rows as { Student_Number: number; Enroll_Status: number }[];
    assert.deepEqual(rows.filter((r) => r.Enroll_Status === 0).map((r) => r.Student_Number), [
      4001,
    ]);
  } finally {
    await s.close();
  }
});

Deno.test("a managed record's run fails with a clear message and never imports the local file of the same name", async () => {
  const s = await startTestService();
  try {
    const now = new Date().toISOString();
    const [connection] = await s.database.db.insert(connections).values({
      name: "State SFTP",
      host: "127.0.0.1",
      port: 1,
      authMethod: "password",
      username: "sis",
      allowDownload: true,
      createdAt: now,
      updatedAt: now,
    }).returning({ id: connections.id });
    const id = await createRecord(s, { source: "managed", connectionId: connection!.id });
    await s.writeImport("students.txt", tsv([[8001, "Ann", "Lee", 3, ENTRY]]));
    const runId = await runNow(s, id);
    const run = await (await s.api(`/api/v1/runs/${runId}`)).json();
    assert.equal(run.status, "failed");
    assert.match(run.message, /"State SFTP" has no password or key stored; nothing was changed/);
    const sis = await (await s.api(`/api/v1/sis/students?school=100`)).json();
    assert.equal(sis.total, 0, "the local file was not imported");
  } finally {
    await s.close();
  }
});
