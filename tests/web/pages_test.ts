import assert from "node:assert/strict";
import { connections } from "../../src/db/schema/autocomm.ts";
import { queueRecordRun } from "../../src/pipeline/service.ts";
import {
  schoolYear,
  type Session,
  startTestService,
  studentsForm,
  studentsRecord,
  type TestService,
  textOf,
  tsv,
} from "../support/web.ts";

const ENTRY = `08/20/${schoolYear()}`;

/** A regular expression for an `<option>` as Hono renders it. */
function option(value: string, label: string, selected = false): RegExp {
  const esc = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(
    `<option value="${esc(value)}"\\s*${selected ? 'selected(="")?' : ""}\\s*>${
      esc(label)
    }</option>`,
  );
}

async function html(res: Response, status = 200): Promise<string> {
  assert.equal(res.status, status, `status ${res.status}`);
  assert.match(res.headers.get("content-type") ?? "", /text\/html/);
  return await res.text();
}

async function apiRecord(s: TestService, over: Record<string, unknown> = {}): Promise<number> {
  const res = await s.api("/api/v1/records", { method: "POST", json: studentsRecord(over) });
  assert.equal(res.status, 201);
  return (await res.json()).records[0].id;
}

Deno.test("the setup list shows the school's records in order with schedule, zone, state, last run and actions by role", async () => {
  const s = await startTestService();
  try {
    await apiRecord(s, { name: "Zulu", hour: 6, minute: 5, days: "MWF" });
    await apiRecord(s, { name: "Alpha", executionOff: true });
    const first = await apiRecord(s, { name: "Ordered", sortOrder: 1 });
    await apiRecord(s, { name: "Other school", schoolId: 200 });
    await s.writeImport("students.txt", tsv([[1, "A", "B", 3, ENTRY]]));
    await s.api(`/api/v1/records/${first}/run`, { method: "POST" });
    await s.queue.idle();

    // District Office context: its school switch offers every school.
    const editor = await s.session("editor", 0);
    const page = await html(await s.page(editor, "/?school=100"));
    const text = textOf(page);
    assert.match(text, /AutoComm Setup — Lincoln Elementary/);
    const order = ["Ordered", "Alpha", "Zulu"].map((n) => text.indexOf(`${n} `));
    assert.ok(
      order.every((i) => i > 0) && order[0]! < order[1]! && order[1]! < order[2]!,
      "sort order, then name",
    );
    assert.doesNotMatch(text, /Other school/);
    assert.match(text, /When \(America\/Chicago\)/);
    assert.match(text, /06:05 America\/Chicago MWF On/);
    assert.match(text, /Alpha Students 02:30 America\/Chicago MTWHF Off Never run/);
    assert.match(
      text,
      /Ordered Sort 1 Students .* Succeeded \d{4}-\d\d-\d\d \d\d:\d\d:\d\d America\/Chicago/,
    );
    // Each row's links have names of their own ("Edit Zulu", "Runs of Zulu").
    assert.match(text, /Edit Zulu Delete Zulu Runs of Zulu/);
    assert.match(
      page,
      /<a href="\/records\/\d+\/delete">Delete<span class="visually-hidden"> Zulu<\/span><\/a>/,
    );
    assert.match(page, /aria-label="Run Now: Zulu"/);
    assert.match(page, /<a class="button" href="\/records\/new\?school=100">New<\/a>/);
    assert.match(page, option("0", "District Office"));
    assert.match(page, option("100", "Lincoln Elementary (100)", true));

    const viewer = await s.session("viewer", 100);
    const viewed = await html(await s.page(viewer, "/"));
    assert.doesNotMatch(viewed, />Edit<|>Delete<|Run Now|>New</);
    assert.doesNotMatch(textOf(viewed), /Edit Zulu|Delete Zulu/);
    const runner = await s.session("runner", 100);
    const ran = await html(await s.page(runner, "/"));
    assert.match(ran, /Run Now/);
    assert.doesNotMatch(ran, />Edit<|>New</);
    assert.doesNotMatch(textOf(ran), /Edit Zulu/);

    const other = textOf(await html(await s.page(editor, "/?school=200")));
    assert.match(other, /AutoComm Setup — Washington High/);
    assert.match(other, /Other school/);
    const district = textOf(await html(await s.page(editor, "/?school=0")));
    assert.match(district, /District Office context: only Students and Teachers/);
    assert.match(district, /No AutoComm records in this school yet/);
    await html(await s.page(editor, "/?school=42"), 404);
  } finally {
    await s.close();
  }
});

Deno.test("the New form has every field of the setup page and ours, labelled as users know them", async () => {
  const s = await startTestService();
  try {
    const editor = await s.session("editor", 100);
    const page = await html(await s.page(editor, "/records/new?school=100"));
    const labels = [
      "Name",
      "Table to Import",
      "Attendance mode",
      "When to Execute",
      "Days to Execute",
      "Turn Execution Off",
      "Get Input From",
      "Path",
      "Field Delimiter",
      "Record Delimiter",
      "Character Set",
      "Sort Order",
      "Synchronize Mode",
      "Update existing records with imported data (when applicable)",
      "Mark students and their schedules inactive when their exit date is &lt;= today",
      "First record of file is number_of_records=",
      "E-Mail completion report to",
      "PowerSchool fields to import into",
      "Duplicate this AutoComm record to all schools on this server",
      "Ignore blank cells",
      "Removal limit (%)",
      "Minimum file age (seconds)",
    ];
    for (const label of labels) assert.ok(page.includes(`>${label}<`), `label ${label}`);
    for (
      const field of [
        "name",
        "table",
        "attendanceMode",
        "hour",
        "minute",
        "days",
        "path",
        "fieldDelimiter",
        "recordDelimiter",
        "charset",
        "sortOrder",
        "emailTo",
        "fields",
        "removalLimitPercent",
        "minFileAgeSeconds",
      ]
    ) {
      assert.match(page, new RegExp(`<label for="f-${field}"`), `a label for ${field}`);
    }
    assert.match(page, /For advanced users only/);
    assert.match(page, option("windows-1252", "Windows ANSI", true));
    assert.match(page, option("macintosh", "Mac Roman"));
    assert.match(page, /<legend>Input file<\/legend>/);
    assert.match(
      page,
      /<a href="\/fields\/students" target="_blank" rel="noopener" data-field-list="true">Field List \(Students\)<\/a>/,
    );
    assert.match(page, /<script src="\/assets\/app.js" defer(="")?><\/script>/);
    assert.match(page, /America\/Chicago/);
    // No download-enabled connection: no managed choice.
    assert.doesNotMatch(page, /Managed Connection/);
    // Lincoln records daily attendance only.
    assert.match(page, option("daily", "Daily attendance", true));
    assert.doesNotMatch(page, /Meeting attendance/);
  } finally {
    await s.close();
  }
});

Deno.test("the form offers what the school context allows: attendance modes, District Office tables, managed connections", async () => {
  const s = await startTestService();
  try {
    const editor = await s.session("editor");
    const both = await html(await s.page(editor, "/records/new?school=200"));
    assert.match(both, option("", "Choose…", true));
    assert.match(both, option("daily", "Daily attendance"));
    assert.match(both, option("meeting", "Meeting attendance"));
    const meeting = await html(await s.page(editor, "/records/new?school=300"));
    assert.match(meeting, option("meeting", "Meeting attendance", true));
    assert.doesNotMatch(meeting, /Daily attendance/);

    const district = await html(await s.page(editor, "/records/new?school=0"));
    const tables = [...district.matchAll(/<select id="f-table"[\s\S]*?<\/select>/g)][0]![0];
    assert.deepEqual([...tables.matchAll(/<option value="(\w+)"/g)].map((m) => m[1]), [
      "students",
      "teachers",
    ]);
    assert.doesNotMatch(district, /Duplicate this AutoComm record/);

    const now = new Date().toISOString();
    await s.database.db.insert(connections).values([
      {
        name: "Upload only",
        host: "h",
        authMethod: "password",
        username: "u",
        allowDownload: false,
        createdAt: now,
        updatedAt: now,
      },
      {
        name: "State SFTP",
        host: "h",
        authMethod: "password",
        username: "u",
        allowDownload: true,
        createdAt: now,
        updatedAt: now,
      },
    ]);
    const managed = await html(await s.page(editor, "/records/new?school=100"));
    assert.match(managed, option("managed", "Managed Connection"));
    assert.match(managed, />State SFTP<\/option>/);
    assert.doesNotMatch(managed, /Upload only/);
  } finally {
    await s.close();
  }
});

Deno.test("a form with problems comes back with a linked summary, each problem beside its field, and the input kept", async () => {
  const s = await startTestService();
  try {
    const editor = await s.session("editor", 100);
    const bad = studentsForm({
      name: "",
      days: "MTX",
      path: "..\\secret.txt",
      emailTo: "someone@example.org, nope",
      fields: "Student_Number\r\nFrist_Name\r\nLast_Name",
      sortOrder: "soon",
    });
    const page = await html(await s.page(editor, "/records", bad), 400);
    const text = textOf(page);
    assert.match(page, /<title>Error: New AutoComm Record — AutoComm<\/title>/);
    assert.match(page, /<div class="error-summary" role="alert"/);
    for (const field of ["name", "days", "path", "emailTo", "fields", "sortOrder"]) {
      assert.match(page, new RegExp(`<a href="#f-${field}">`), `summary links to ${field}`);
      assert.match(
        page,
        new RegExp(
          `id="f-${field}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="f-${field}"`,
        ),
        `${field} is marked invalid`,
      );
      assert.match(
        page,
        new RegExp(`<p class="field-error" id="e-${field}">`),
        `${field} has its error`,
      );
    }
    assert.match(text, /Name: Enter a name/);
    assert.match(text, /Unknown field "Frist_Name" for Students; did you mean First_Name/);
    // What the user typed is kept.
    assert.match(page, /value="MTX"/);
    assert.match(page, /value="..\\secret.txt"/);
    assert.match(page, /value="someone@example.org, nope"/);
    assert.match(page, />Student_Number\nFrist_Name\nLast_Name<\/textarea>/);
    assert.match(page, /<input type="checkbox" value="on" checked="" id="f-updateExisting"/);

    // The same rules as the API, with the same words.
    const api = await s.api("/api/v1/records", {
      method: "POST",
      json: { ...bad, schoolId: 100, fields: bad.fields!.split("\r\n") },
    });
    const problems = (await api.json()).error.problems as { message: string }[];
    assert.ok(problems.length >= 6);
    for (const p of problems) assert.ok(text.includes(p.message), `the form shows "${p.message}"`);

    const res = await s.page(editor, "/records", studentsForm());
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/?school=100&done=created&n=1");
    const list = textOf(await html(await s.page(editor, "/?school=100&done=created&n=1")));
    assert.match(list, /The record was created\./);
    assert.match(list, /Students nightly/);
  } finally {
    await s.close();
  }
});

Deno.test("duplicating from the form creates the record in every school", async () => {
  const s = await startTestService();
  try {
    const editor = await s.session("editor", 0); // only District Office context duplicates
    const res = await s.page(
      editor,
      "/records",
      studentsForm({ name: "Everywhere", duplicateToAllSchools: "on" }),
    );
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/?school=100&done=created&n=3");
    const list = textOf(await html(await s.page(editor, "/?school=100&done=created&n=3")));
    assert.match(list, /Created 3 records, one in each school/);
    for (const school of [200, 300]) {
      assert.match(textOf(await html(await s.page(editor, `/?school=${school}`))), /Everywhere/);
    }
  } finally {
    await s.close();
  }
});

Deno.test("a record is edited through its form, keeps its school, and is deleted after a confirmation", async () => {
  const s = await startTestService();
  try {
    const id = await apiRecord(s, { name: "Before", emailTo: "a@example.org", sortOrder: 3 });
    const editor = await s.session("editor", 100);
    let page = await html(await s.page(editor, `/records/${id}/edit`));
    assert.match(page, /Edit AutoComm Record: Before/);
    assert.match(page, /value="Before"/);
    assert.match(page, /value="a@example.org"/);
    assert.match(
      page,
      />Student_Number\nFirst_Name\nLast_Name\nGrade_Level\nEntryDate<\/textarea>/,
    );
    assert.match(page, option("LF", "LF: line feed (Unix)", true));
    assert.doesNotMatch(page, /Duplicate this AutoComm record/);

    page = await html(
      await s.page(editor, `/records/${id}`, studentsForm({ name: "After", days: "UU" })),
      400,
    );
    assert.match(textOf(page), /Days to Execute: A day letter appears more than once/);
    assert.match(page, /value="After"/);

    let res = await s.page(
      editor,
      `/records/${id}`,
      studentsForm({ name: "After", schoolId: "200", executionOff: "on" }),
    );
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/?school=100&done=saved");
    const record = await (await s.api(`/api/v1/records/${id}`)).json();
    assert.equal(record.name, "After");
    assert.equal(record.schoolId, 100);
    assert.equal(record.executionOff, true);
    assert.equal(record.sortOrder, null);

    page = await html(await s.page(editor, `/records/${id}/delete`));
    assert.match(textOf(page), /Delete the AutoComm record “After”\?/);
    assert.match(page, /<form method="post" action="\/records\/\d+\/delete"/);
    res = await s.page(editor, `/records/${id}/delete`, {});
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/?school=100&done=deleted");
    assert.equal((await s.api(`/api/v1/records/${id}`)).status, 404);
    page = await html(await s.page(editor, `/records/${id}/edit`), 404);
    assert.match(textOf(page), /There is no record/);
  } finally {
    await s.close();
  }
});

Deno.test("Run Now opens the run page, and a record already running says so with a link to its run", async () => {
  const s = await startTestService();
  try {
    const id = await apiRecord(s);
    await s.writeImport("students.txt", tsv([[11, "A", "B", 3, ENTRY], [12, "C", "", 3, ENTRY]]));
    const runner = await s.session("runner", 100);
    let res = await s.page(runner, `/records/${id}/run`, {});
    assert.equal(res.status, 303);
    const location = res.headers.get("location")!;
    assert.match(location, /^\/runs\/\d+$/);
    await s.queue.idle();
    const page = await html(await s.page(runner, location));
    const text = textOf(page);
    assert.match(text, /Run #\d+: Succeeded with errors/);
    assert.match(text, /Trigger Run Now/);
    assert.match(text, /Started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d America\/Chicago/);
    assert.match(text, /File students\.txt · \d+ bytes/);
    assert.match(text, /SHA-256 [0-9a-f]{64}/);
    assert.match(text, /Read 2 Inserted 1/);
    assert.match(text, /Row errors \(1\)/);
    assert.match(page, new RegExp(`href="${location}/rejected.csv" download`));
    assert.doesNotMatch(page, /http-equiv="refresh"/);

    const active = await queueRecordRun({ db: s.database.db, config: s.config }, id, {
      trigger: "run_now",
    });
    const busy = await html(await s.page(runner, `/records/${id}/run`, {}), 409);
    assert.match(textOf(busy), /“Students nightly” is already running/);
    assert.match(busy, new RegExp(`<a href="/runs/${active}">See run #${active}</a>`));
    const queued = await html(await s.page(runner, `/runs/${active}`));
    assert.match(queued, /<meta http-equiv="refresh" content="3">/);
    s.queue.enqueue(active);
    await s.queue.idle();

    res = await s.page(runner, `/runs/${location.split("/").pop()}/rejected.csv`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/csv/);
    assert.match(res.headers.get("content-disposition") ?? "", /^attachment/);
    assert.match(await res.text(), /^line,field,code,message,/);
  } finally {
    await s.close();
  }
});

Deno.test("Preview shows on the edit page what the saved record would change, and on the run page for runners", async () => {
  const s = await startTestService();
  try {
    const id = await apiRecord(s, {
      updateExisting: true,
      fields: ["Student_Number", "First_Name", "Last_Name", "Grade_Level", "EntryDate", "DOB"],
    });
    await s.writeImport("students.txt", tsv([[21, "Ann", "Lee", 3, ENTRY, "01/02/2015"]]));
    await s.api(`/api/v1/records/${id}/run`, { method: "POST" });
    await s.queue.idle();
    await s.writeImport(
      "students.txt",
      tsv([[21, "Ann", "Lee", 4, ENTRY, "03/04/2015"], [22, "Bo", "Ng", 3, ENTRY, ""]]),
    );

    const editor = await s.session("editor", 100);
    let res = await s.page(editor, `/records/${id}/preview`, {});
    assert.equal(res.status, 303);
    const location = res.headers.get("location")!;
    assert.match(location, new RegExp(`^/records/${id}/edit\\?preview=\\d+#preview-result$`));
    const page = await html(await s.page(editor, location.replace(/#.*/, "")));
    const text = textOf(page);
    assert.match(text, /Preview run #\d+ : Preview/);
    assert.match(text, /Inserted 1/);
    assert.match(text, /Updated 1/);
    assert.match(text, /Insert students Student_Number=22/);
    assert.match(
      text,
      /Update students Student_Number=21 Grade_Level: 3 → 4; DOB: \(personal\) → \(personal\)/,
    );
    assert.doesNotMatch(text, /2015-03-04|03\/04\/2015/, "personal values are not shown");

    const runner = await s.session("runner", 100);
    res = await s.page(runner, `/records/${id}/preview`, {});
    assert.equal(res.status, 303);
    assert.match(res.headers.get("location")!, /^\/runs\/\d+$/);
    const runPage = textOf(await html(await s.page(runner, res.headers.get("location")!)));
    assert.match(runPage, /Trigger Run Now \(preview: nothing is changed\)/);
    assert.match(runPage, /What would change/);

    const sis = await (await s.api("/api/v1/sis/students")).json();
    assert.equal(sis.total, 1, "previews changed nothing");
  } finally {
    await s.close();
  }
});

Deno.test("a record's runs are listed newest first in pages, and a run's errors are paged", async () => {
  const s = await startTestService();
  try {
    const id = await apiRecord(s);
    const rows: (string | number)[][] = [];
    for (let n = 1; n <= 60; n++) rows.push([1000 + n, "A", n <= 55 ? "" : "B", 3, ENTRY]);
    await s.writeImport("students.txt", tsv(rows));
    await s.api(`/api/v1/records/${id}/run`, { method: "POST" });
    await s.queue.idle();
    const runDeps = { db: s.database.db, config: s.config };
    for (let i = 0; i < 25; i++) {
      await queueRecordRun(runDeps, id, { trigger: "run_now", preview: true });
    }

    const viewer = await s.session("viewer", 100);
    let page = await html(await s.page(viewer, `/records/${id}/runs`));
    let text = textOf(page);
    assert.match(text, /Runs of Students nightly/);
    assert.match(text, /Page 1 of 2/);
    assert.match(text, /#26 Queued/);
    assert.doesNotMatch(text, /#1 /);
    assert.doesNotMatch(page, /action="\/records\/\d+\/run"|>Edit</);
    page = await html(await s.page(viewer, `/records/${id}/runs?page=2`));
    text = textOf(page);
    assert.match(text, /#1 Succeeded with errors API/);
    assert.match(text, /Page 2 of 2/);

    page = await html(await s.page(viewer, `/runs/1`));
    text = textOf(page);
    assert.match(text, /Row errors \(55\)/);
    assert.match(text, /Page 1 of 2/);
    assert.match(page, /href="\/runs\/1\?errors_page=2#errors-title" rel="next"/);
    page = await html(await s.page(viewer, `/runs/1?errors_page=2`));
    text = textOf(page);
    assert.match(text, / 51 Last_Name missing_required/);
    assert.doesNotMatch(text, / 50 Last_Name missing_required/);
    assert.doesNotMatch(page, /Approve/);
    await html(await s.page(viewer, `/runs/999`), 404);
  } finally {
    await s.close();
  }
});

async function heldRun(s: TestService, editor: Session): Promise<{ sync: number; held: number }> {
  const load = await apiRecord(s, { name: "Load" });
  const sync = await apiRecord(s, { name: "Sync", path: "sync.txt", synchronize: true });
  await s.writeImport(
    "students.txt",
    tsv([1, 2, 3, 4, 5, 6].map((n) => [500 + n, "A", "B", 3, ENTRY])),
  );
  await s.writeImport("sync.txt", tsv([[501, "A", "B", 3, ENTRY]]));
  await s.page(editor, `/records/${load}/run`, {});
  await s.queue.idle();
  const res = await s.page(editor, `/records/${sync}/run`, {});
  await s.queue.idle();
  return { sync, held: Number(res.headers.get("location")!.split("/").pop()) };
}

Deno.test("a held run page lists what would be removed; an editor discards one and approves another once", async () => {
  const s = await startTestService();
  try {
    const editor = await s.session("editor", 100);
    const { sync, held } = await heldRun(s, editor);
    let page = await html(await s.page(editor, `/runs/${held}`));
    let text = textOf(page);
    assert.match(text, /Run #\d+: Held for approval/);
    assert.match(text, /Synchronize Mode would remove 5 record\(s\)/);
    assert.match(text, /What would be removed/);
    for (const n of [502, 503, 504, 505, 506]) {
      assert.match(text, new RegExp(`Remove students Student_Number=${n}`));
    }
    assert.match(text, /Held until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d America\/Chicago/);
    assert.match(page, new RegExp(`href="/runs/${held}/approve"`));
    assert.match(page, new RegExp(`href="/runs/${held}/discard"`));

    const runner = await s.session("runner", 100);
    assert.match(
      textOf(await html(await s.page(runner, `/runs/${held}`))),
      /An editor can approve or discard this run/,
    );

    let res = await s.page(editor, `/runs/${held}/discard`, {});
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), `/runs/${held}?done=discarded`);
    text = textOf(await html(await s.page(editor, `/runs/${held}?done=discarded`)));
    assert.match(text, /Run #\d+: Discarded/);
    assert.match(text, /The held run was discarded/);

    res = await s.page(editor, `/records/${sync}/run`, {});
    await s.queue.idle();
    const second = Number(res.headers.get("location")!.split("/").pop());
    res = await s.page(editor, `/runs/${second}/approve`, { confirm_removals: "5" });
    assert.equal(res.status, 303);
    const approval = res.headers.get("location")!;
    page = await html(await s.page(editor, approval));
    text = textOf(page);
    assert.match(text, /Run #\d+: Succeeded/);
    assert.match(text, new RegExp(`Trigger Approval of held run #${second}`));
    assert.match(text, /Removed 5/);

    page = await html(
      await s.page(editor, `/runs/${second}/approve`, { confirm_removals: "5" }),
      409,
    );
    assert.match(textOf(page), /is approved, not held|no longer held/);
    text = textOf(await html(await s.page(editor, `/runs/${second}`)));
    assert.match(text, /Run #\d+: Approved/);
    assert.match(text, /Approval run\(s\): #\d+ Succeeded/);
  } finally {
    await s.close();
  }
});

Deno.test("the Field List page lists a table's catalog and extension fields, filtered", async () => {
  const s = await startTestService();
  try {
    const viewer = await s.session("viewer");
    let text = textOf(await html(await s.page(viewer, "/fields/students")));
    assert.match(text, /Students Field List/);
    assert.match(text, /Match key: Student_Number/);
    assert.match(text, /U_StudentsUserFields\.homeroom_number Text, max 10 Homeroom number/);
    assert.match(text, /Student_Number Whole number Match key, Needed to create/);
    assert.match(text, /Last_Name Text, max \d+ Needed to create, Personal/);
    // Every word of the filter, in any order, in the name or the description.
    text = textOf(await html(await s.page(viewer, "/fields/students?filter=zip%20mailing")));
    assert.match(text, /1 of \d+ fields/);
    assert.match(text, /Mailing_Zip/);
    text = textOf(await html(await s.page(viewer, "/fields/students?filter=homeroom%20NUMBER")));
    assert.match(text, /1 of \d+ fields/);
    text = textOf(
      await html(await s.page(viewer, "/fields/students?table=attendance&mode=meeting")),
    );
    assert.match(text, /Attendance \(meeting\) Field List/);
    assert.match(text, /Section_Number/);
    await html(await s.page(viewer, "/fields/grades"), 404);
  } finally {
    await s.close();
  }
});

Deno.test("unknown pages answer with a page, and the assets are served by the service", async () => {
  const s = await startTestService();
  try {
    const viewer = await s.session("viewer");
    const text = textOf(await html(await s.page(viewer, "/nothing/here"), 404));
    assert.match(text, /Not found/);
    let res = await s.app.request("/assets/app.js");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/javascript/);
    assert.match(await res.text(), /field-list/);
    res = await s.app.request("/assets/app.css");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/css/);
    assert.match(await res.text(), /:focus-visible/);
  } finally {
    await s.close();
  }
});
