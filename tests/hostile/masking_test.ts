/**
 * Values of personal fields stay masked wherever a run's changes are shown: the run
 * page, `GET /api/v1/runs/{id}/changes`, a preview's answer and `autocomm runs show`
 * all print "(personal)" for their old and new values.
 */
import assert from "node:assert/strict";
import { runCli } from "../support/cli.ts";
import { schoolYear, startTestService, studentsRecord, tsv } from "../support/web.ts";

const ENTRY = `08/20/${schoolYear()}`;
const FIELDS = ["Student_Number", "First_Name", "Last_Name", "Grade_Level", "EntryDate", "DOB"];
const SECRETS = ["Annabel", "Annika", "2011-04-05", "2012-06-07", "04/05/2011", "06/07/2012"];

Deno.test("a changed personal field shows (personal) in the API's changes, a preview, the run page and runs show; other fields show their values", async () => {
  const s = await startTestService();
  try {
    let res = await s.api("/api/v1/records", {
      method: "POST",
      json: studentsRecord({ fields: FIELDS }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    const id = (await res.json()).records[0].id;
    const run = async () => {
      const r = await s.api(`/api/v1/records/${id}/run`, { method: "POST" });
      assert.equal(r.status, 202, await r.clone().text());
      const { runId } = await r.json();
      await s.queue.idle();
      return runId as number;
    };
    await s.writeImport("students.txt", tsv([[5001, "Annabel", "Lee", 3, ENTRY, "04/05/2011"]]));
    await run();
    await s.writeImport("students.txt", tsv([[5001, "Annika", "Lee", 4, ENTRY, "06/07/2012"]]));

    const expected = {
      table: "students",
      action: "update",
      key: { Student_Number: 5001 },
      changes: {
        First_Name: ["(personal)", "(personal)"],
        Grade_Level: [3, 4],
        DOB: ["(personal)", "(personal)"],
      },
    };

    res = await s.api(`/api/v1/records/${id}/preview`, { method: "POST" });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const preview = await res.json();
    assert.deepEqual(preview.changes, [expected]);

    const second = await run();
    res = await s.api(`/api/v1/runs/${second}/changes`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const text = await res.text();
    assert.deepEqual(JSON.parse(text).changes, [expected]);
    for (const secret of SECRETS) assert.ok(!text.includes(secret), `the API shows ${secret}`);

    const session = await s.session("viewer");
    res = await s.page(session, `/runs/${second}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/html/);
    const html = await res.text();
    assert.match(html, /First_Name: \(personal\) → \(personal\)/);
    assert.match(html, /Grade_Level: 3 → 4/);
    for (const secret of SECRETS) assert.ok(!html.includes(secret), `the page shows ${secret}`);

    const cli = await runCli(["runs", "show", String(second)], {
      AUTOCOMM_DATA_DIR: s.dir,
      DATABASE_URL: `file:${s.dir}/autocomm.db`,
    });
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /update \{"Student_Number":5001\}/);
    assert.match(cli.stdout, /"First_Name":\["\(personal\)","\(personal\)"\]/);
    assert.match(cli.stdout, /"DOB":\["\(personal\)","\(personal\)"\]/);
    assert.match(cli.stdout, /"Grade_Level":\[3,4\]/);
    for (const secret of SECRETS) {
      assert.ok(!cli.stdout.includes(secret), `runs show prints ${secret}`);
    }
  } finally {
    await s.close();
  }
});
