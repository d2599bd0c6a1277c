/**
 * A record's trend on its runs page: the last runs (previews aside) as an SVG with a
 * title and description, one panel per measure, outcome symbols, and the same
 * numbers as a table.
 */
import assert from "node:assert/strict";
import {
  schoolYear,
  startTestService,
  studentsRecord,
  type TestService,
  tsv,
} from "../support/web.ts";

const ENTRY = `08/20/${schoolYear()}`;

async function runNow(s: TestService, id: number, preview = false): Promise<number> {
  const res = await s.api(`/api/v1/records/${id}/${preview ? "preview" : "run"}`, {
    method: "POST",
  });
  assert.ok(res.status < 300, await res.clone().text());
  const { runId } = await res.json();
  await s.queue.idle();
  return runId;
}

/** The cells of each body row of the page's trend table. */
function trendRows(html: string): string[][] {
  const table = html.match(/<caption>Runs in the trend, oldest first<\/caption>[\s\S]*?<\/table>/);
  assert.ok(table, "the trend's numbers are a table");
  const body = table[0].split("<tbody>")[1]!;
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...row[1]!.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) =>
      c[1]!.replace(/<[^>]+>/g, "").trim()
    )
  );
}

Deno.test("a record's runs page shows the trend of its last runs as an SVG chart and a table", async () => {
  const s = await startTestService();
  try {
    const created = await s.api("/api/v1/records", { method: "POST", json: studentsRecord() });
    const id = (await created.json()).records[0].id;
    const viewer = await s.session("viewer", 100);

    await s.writeImport("students.txt", tsv([[61, "A", "B", 3, ENTRY]]));
    const one = await runNow(s, id);
    let html = await (await s.page(viewer, `/records/${id}/runs`)).text();
    assert.doesNotMatch(html, /<svg/, "one run makes no trend");

    await s.writeImport(
      "students.txt",
      tsv([[61, "A", "B", 4, ENTRY], [62, "C", "D", 3, ENTRY], [63, "E", "", 3, ENTRY]]),
    );
    const two = await runNow(s, id);
    await runNow(s, id, true); // a preview is not part of the trend
    await s.writeImport("students.txt", tsv([[64, "G", "H", 3, ENTRY]]));
    const three = await runNow(s, id);

    const res = await s.page(viewer, `/records/${id}/runs`);
    assert.equal(res.status, 200);
    html = await res.text();
    assert.match(html, /<h2 id="trend-title">Trend of the last 3 runs<\/h2>/);
    assert.match(
      html,
      /<svg class="wide"[^>]*role="img"[^>]*aria-labelledby="trend-wide-title trend-wide-desc"/,
    );
    assert.match(html, /<title id="trend-wide-title">Students nightly: the last 3 runs, /);
    assert.match(
      html,
      /<desc id="trend-wide-desc">[^<]*Inserted: latest 1, most 1; Updated: latest 0, most 1;/,
    );
    for (const name of ["Inserted", "Updated", "Removed", "Rejected", "Duration", "Outcome"]) {
      assert.match(html, new RegExp(`<text[^>]*class="name"[^>]*>${name}</text>`), name);
    }
    assert.equal(
      [...html.matchAll(/<rect /g)].length,
      30,
      "a bar per run and measure, wide and narrow",
    );
    assert.match(
      html,
      /<svg class="narrow"[^>]*aria-labelledby="trend-narrow-title trend-narrow-desc"/,
    );
    assert.match(
      html,
      /class="symbol">✓<\/text>[^]*class="symbol">!<\/text>[^]*class="symbol">✓<\/text>/,
    );
    assert.doesNotMatch(html, / key="/, "no JSX keys in the page");

    const rows = trendRows(html);
    assert.deepEqual(rows.map((r) => [r[0], r[2], r[3], r[4], r[5], r[6]]), [
      [`Run #${one}`, "Succeeded", "1", "0", "0", "0"],
      [`Run #${two}`, "Succeeded with errors", "1", "1", "0", "1"],
      [`Run #${three}`, "Succeeded", "1", "0", "0", "0"],
    ]);
    assert.match(rows[0]![7]!, /^\d+ ms$|^\d+(\.\d)? s$/, "a duration");
  } finally {
    await s.close();
  }
});
