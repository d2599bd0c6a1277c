/**
 * Preview that answers: the New and Edit forms preview the settings as they are
 * filled in, without saving them, and a preview never waits for the minimum file
 * age — it reads the file as it is and says so in a `file_recent` note.
 */
import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { runs } from "../../src/db/schema/autocomm.ts";
import {
  schoolYear,
  startTestService,
  studentsForm,
  studentsRecord,
  type TestService,
  textOf,
  tsv,
} from "../support/web.ts";

const ENTRY = `08/20/${schoolYear()}`;

async function allRuns(s: TestService) {
  return await s.database.db.select().from(runs);
}

Deno.test("Preview on the New form previews the form's settings and creates no record", async () => {
  const s = await startTestService();
  try {
    await s.writeImport(
      "students.txt",
      tsv([[31, "Ann", "Lee", 3, ENTRY], [32, "Bo", "", 3, ENTRY]]),
    );
    const editor = await s.session("editor", 100);

    const form = await (await s.page(editor, "/records/new?school=100")).text();
    assert.match(
      form,
      /formaction="\/records\/preview#preview-result"/,
      "New has a Preview button",
    );

    let res = await s.page(editor, "/records/preview", studentsForm({ name: "" }));
    assert.equal(res.status, 400, "a form that breaks a rule is not previewed");
    assert.match(textOf(await res.text()), /Name/);
    assert.equal((await allRuns(s)).length, 0);

    res = await s.page(editor, "/records/preview", studentsForm({ name: "Try it" }));
    assert.equal(res.status, 200);
    const page = await res.text();
    const text = textOf(page);
    assert.match(text, /Preview of the unsaved record/);
    assert.match(text, /Preview run #\d+ : Preview/);
    assert.match(text, /Inserted 1/);
    assert.match(text, /Rejected 1/);
    assert.match(text, /Insert students Student_Number=31/);
    assert.match(page, /value="Try it"/, "the form keeps what was typed");

    const [run] = await allRuns(s);
    assert.equal(run?.preview, true);
    assert.equal(run?.recordId, null);
    assert.equal(run?.status, "preview");
    const records = (await (await s.api("/api/v1/records")).json()).records;
    assert.equal(records.length, 0, "no record was created");
    const sis = await (await s.api("/api/v1/sis/students?school=100")).json();
    assert.equal(sis.total, 0, "nothing was imported");
    const runPage = textOf(await (await s.page(editor, `/runs/${run!.id}`)).text());
    assert.match(runPage, /Unsaved record \(preview\)/);
  } finally {
    await s.close();
  }
});

Deno.test("Preview on Edit previews the changed settings before they are saved", async () => {
  const s = await startTestService();
  try {
    const created = await s.api("/api/v1/records", { method: "POST", json: studentsRecord() });
    const id = (await created.json()).records[0].id;
    await s.writeImport("other.txt", tsv([[41, "Cy", "Do", 5, ENTRY]]));
    const editor = await s.session("editor", 100);
    const res = await s.page(
      editor,
      `/records/preview?record=${id}`,
      studentsForm({ path: "other.txt" }),
    );
    assert.equal(res.status, 200);
    const text = textOf(await res.text());
    assert.match(text, /Insert students Student_Number=41/, "the typed path was read");
    const [run] = await allRuns(s);
    assert.equal(run?.recordId, id);
    assert.equal(run?.fileName, "other.txt");
    const record = await (await s.api(`/api/v1/records/${id}`)).json();
    assert.equal(record.path, "students.txt", "the record is not saved");
  } finally {
    await s.close();
  }
});

Deno.test("a preview reads a file younger than the minimum file age at once and notes it", async () => {
  const s = await startTestService();
  try {
    const created = await s.api("/api/v1/records", {
      method: "POST",
      json: studentsRecord({ minFileAgeSeconds: 3600 }),
    });
    const id = (await created.json()).records[0].id;
    await s.writeImport("students.txt", tsv([[51, "Ed", "Fa", 3, ENTRY]]));

    let res = await s.api(`/api/v1/records/${id}/preview`, { method: "POST" });
    assert.ok(res.status < 300, await res.clone().text());
    await s.queue.idle();
    const [preview] = await allRuns(s);
    assert.equal(preview?.status, "preview", preview?.message ?? "");
    assert.equal(preview?.inserted, 1);
    const detail = await (await s.api(`/api/v1/runs/${preview!.id}`)).json();
    const note = detail.notes.find((n: { code: string }) => n.code === "file_recent");
    assert.ok(note, JSON.stringify(detail.notes));
    assert.match(note.message, /within the minimum file age of 3600 s/);

    const editor = await s.session("editor", 100);
    res = await s.page(
      editor,
      "/records/preview",
      studentsForm({ name: "New", minFileAgeSeconds: "3600" }),
    );
    assert.equal(res.status, 200);
    const text = textOf(await res.text());
    assert.match(text, /Inserted 1/, "the form's preview does not wait either");
    assert.match(text, /within the minimum file age of 3600 s: the preview read it as it was/);

    res = await s.api(`/api/v1/records/${id}/run`, { method: "POST" });
    assert.equal(res.status, 202);
    await s.queue.idle();
    const real = (await s.database.db.select().from(runs).where(eq(runs.preview, false)))[0];
    assert.equal(real?.status, "waiting", "a run still waits for the minimum file age");
  } finally {
    await s.close();
  }
});

Deno.test("a session confined to a school previews nothing of another school", async () => {
  const s = await startTestService();
  try {
    const created = await s.api("/api/v1/records", { method: "POST", json: studentsRecord() });
    const id = (await created.json()).records[0].id;
    await s.writeImport("students.txt", tsv([[51, "Di", "Ek", 4, ENTRY]]));
    const elsewhere = await s.session("editor", 200);
    let res = await s.page(elsewhere, `/records/preview?record=${id}`, studentsForm());
    assert.equal(res.status, 404, "another school's record");
    res = await s.page(elsewhere, "/records/preview", studentsForm({ schoolId: "100" }));
    assert.equal(res.status, 404, "a new record of another school");
    assert.equal((await allRuns(s)).length, 0, "nothing was previewed");
    const own = await s.session("editor", 100);
    res = await s.page(own, "/records/preview", studentsForm({ name: "Another" }));
    assert.equal(res.status, 200, "its own school still previews");
  } finally {
    await s.close();
  }
});
