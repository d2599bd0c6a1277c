/**
 * A session confined to a school (its school from the sign-in provider) sees and acts
 * only on that school's records and runs; District Office context sees every school.
 */
import assert from "node:assert/strict";
import {
  schoolYear,
  startTestService,
  studentsForm,
  studentsRecord,
  type TestService,
  tsv,
} from "../support/web.ts";

interface Fixture {
  s: TestService;
  lincoln: number;
  washington: number;
  lincolnRun: number;
  washingtonRun: number;
}

async function twoSchools(): Promise<Fixture> {
  const s = await startTestService();
  const make = async (schoolId: number, name: string) => {
    const res = await s.api("/api/v1/records", {
      method: "POST",
      json: studentsRecord({ schoolId, name, path: `s${schoolId}.txt` }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()).records[0].id as number;
  };
  const lincoln = await make(100, "Lincoln students");
  const washington = await make(200, "Washington students");
  const run = async (id: number, school: number) => {
    await s.writeImport(
      `s${school}.txt`,
      tsv([[`${school}1`, "Ann", "Lee", 5, `${schoolYear()}-08-20`]]),
    );
    const res = await s.api(`/api/v1/records/${id}/run`, { method: "POST" });
    assert.equal(res.status, 202);
    const { runId } = await res.json();
    await s.queue.idle();
    return runId as number;
  };
  return {
    s,
    lincoln,
    washington,
    lincolnRun: await run(lincoln, 100),
    washingtonRun: await run(washington, 200),
  };
}

Deno.test("a school's session lists only its school's records and runs, and its school switch offers only its school", async () => {
  const f = await twoSchools();
  try {
    const editor = await f.s.session("editor", 100);
    const page = await (await f.s.page(editor, "/")).text();
    assert.match(page, /Lincoln students/);
    assert.doesNotMatch(page, /Washington students/);
    assert.doesNotMatch(page, /Washington High|District Office/, "the switch offers other schools");

    const records = await (await f.s.apiAs(editor, "/api/v1/records")).json();
    assert.deepEqual(records.records.map((r: { id: number }) => r.id), [f.lincoln]);
    const runs = await (await f.s.apiAs(editor, "/api/v1/runs")).json();
    assert.deepEqual(runs.runs.map((r: { id: number }) => r.id), [f.lincolnRun]);
    assert.equal(runs.total, 1);

    const sis = await (await f.s.apiAs(editor, "/api/v1/sis/students")).json();
    assert.deepEqual(sis.rows.map((r: Record<string, unknown>) => r["Student_Number"]), [1001]);

    // District Office context sees both.
    const district = await f.s.session("editor", 0);
    const all = await (await f.s.apiAs(district, "/api/v1/records")).json();
    assert.equal(all.records.length, 2);
    const allRuns = await (await f.s.apiAs(district, "/api/v1/runs")).json();
    assert.equal(allRuns.total, 2);
    const allSis = await (await f.s.apiAs(district, "/api/v1/sis/students")).json();
    assert.equal(allSis.total, 2);
  } finally {
    await f.s.close();
  }
});

Deno.test("another school's record, run or school answers 404 to a school's session, on pages and the API, as if it did not exist", async () => {
  const f = await twoSchools();
  try {
    const editor = await f.s.session("editor", 100);
    const refused: [string, Promise<Response>][] = [
      ["page ?school", f.s.page(editor, "/?school=200")],
      ["page edit", f.s.page(editor, `/records/${f.washington}/edit`)],
      ["page runs", f.s.page(editor, `/records/${f.washington}/runs`)],
      ["page run", f.s.page(editor, `/runs/${f.washingtonRun}`)],
      ["page run csv", f.s.page(editor, `/runs/${f.washingtonRun}/rejected.csv`)],
      ["page Run Now", f.s.page(editor, `/records/${f.washington}/run`, {})],
      ["page save", f.s.page(editor, `/records/${f.washington}`, { name: "x" })],
      ["page delete", f.s.page(editor, `/records/${f.washington}/delete`, {})],
      ["api record", f.s.apiAs(editor, `/api/v1/records/${f.washington}`)],
      ["api list ?school", f.s.apiAs(editor, "/api/v1/records?school=200")],
      ["api sis ?school", f.s.apiAs(editor, "/api/v1/sis/students?school=200")],
      ["api runs ?recordId", f.s.apiAs(editor, `/api/v1/runs?recordId=${f.washington}`)],
      ["api run", f.s.apiAs(editor, `/api/v1/runs/${f.washingtonRun}`)],
      ["api run changes", f.s.apiAs(editor, `/api/v1/runs/${f.washingtonRun}/changes`)],
      [
        "api patch",
        f.s.apiAs(editor, `/api/v1/records/${f.washington}`, {
          method: "PATCH",
          json: { name: "x" },
        }),
      ],
      ["api delete", f.s.apiAs(editor, `/api/v1/records/${f.washington}`, { method: "DELETE" })],
      ["api run now", f.s.apiAs(editor, `/api/v1/records/${f.washington}/run`, { method: "POST" })],
      // Other spellings of the same id or school.
      ["api record %-encoded", f.s.apiAs(editor, `/api/v1/records/%3${f.washington}`)],
      ["page edit %-encoded", f.s.page(editor, `/records/%3${f.washington}/edit`)],
      ["api runs ?recordId=N.0", f.s.apiAs(editor, `/api/v1/runs?recordId=${f.washington}.0`)],
      [
        "api runs ?recordId= x2",
        f.s.apiAs(editor, `/api/v1/runs?recordId=${f.lincoln}&recordId=${f.washington}`),
      ],
      ["api list ?school=", f.s.apiAs(editor, "/api/v1/records?school=")],
      ["api list ?school=200.0", f.s.apiAs(editor, "/api/v1/records?school=200.0")],
      ["api list ?school= x2", f.s.apiAs(editor, "/api/v1/records?school=100&school=200")],
      ["page ?school= x2", f.s.page(editor, "/?school=100&school=200")],
    ];
    for (const [what, answer] of refused) {
      const res = await answer;
      assert.equal(res.status, 404, `${what}: ${res.status}`);
      await res.body?.cancel();
    }
    // Nothing changed, and its own school's record and run still open.
    const record = await (await f.s.api(`/api/v1/records/${f.washington}`)).json();
    assert.equal(record.name, "Washington students");
    assert.equal((await f.s.page(editor, `/records/${f.lincoln}/edit`)).status, 200);
    assert.equal((await f.s.apiAs(editor, `/api/v1/runs/${f.lincolnRun}`)).status, 200);
    assert.equal((await f.s.page(editor, "/?school=100")).status, 200);
  } finally {
    await f.s.close();
  }
});

Deno.test("a role too low for a route gets 403 for another school's record exactly as for a missing one", async () => {
  const f = await twoSchools();
  try {
    const viewer = await f.s.session("viewer", 100);
    const foreign = await f.s.apiAs(viewer, `/api/v1/records/${f.washington}/run`, {
      method: "POST",
    });
    const missing = await f.s.apiAs(viewer, "/api/v1/records/987654/run", { method: "POST" });
    assert.equal(foreign.status, 403);
    assert.equal(missing.status, 403);
    assert.deepEqual(await foreign.json(), await missing.json());
  } finally {
    await f.s.close();
  }
});

Deno.test("a school's session cannot create a record for another school or copy one to every school: a field error", async () => {
  const f = await twoSchools();
  try {
    const editor = await f.s.session("editor", 100);
    const api = await f.s.apiAs(editor, "/api/v1/records", {
      method: "POST",
      json: studentsRecord({ schoolId: 200, name: "Sneaky" }),
    });
    assert.equal(api.status, 400);
    const body = await api.json();
    assert.equal(body.error.problems[0].field, "schoolId");

    const copy = await f.s.apiAs(editor, "/api/v1/records", {
      method: "POST",
      json: { ...studentsRecord({ name: "Copied" }), duplicateToAllSchools: true },
    });
    assert.equal(copy.status, 400);
    assert.equal((await copy.json()).error.problems[0].field, "duplicateToAllSchools");

    const page = await f.s.page(
      editor,
      "/records",
      studentsForm({ schoolId: "200", name: "Sneaky" }),
    );
    assert.equal(page.status, 400);
    assert.match(await page.text(), /only for school 100/);

    const all = await (await f.s.api("/api/v1/records")).json();
    assert.deepEqual(
      all.records.map((r: { name: string }) => r.name).sort(),
      ["Lincoln students", "Washington students"],
    );
    // Its own school works.
    const own = await f.s.apiAs(editor, "/api/v1/records", {
      method: "POST",
      json: studentsRecord({ schoolId: 100, name: "Own" }),
    });
    assert.equal(own.status, 201);
  } finally {
    await f.s.close();
  }
});
