/**
 * Live progress of a run under way: during a real import of a large file, the progress
 * endpoints (`/api/v1/runs/{id}/progress`, `/runs/:id/progress`) answer its stage and
 * rows and bytes read as they grow, and the run page and the overview show them. The
 * file comes from a slow in-process SFTP server (`slowSftpRun`), so that the run reads
 * for several seconds however fast the machine is (from a local file a fast machine read
 * it within the one-second progress timer, and no reading was ever seen).
 */
import assert from "node:assert/strict";
import { startSftpServer } from "../support/sftp_server.ts";
import { schoolYear, slowSftpRun, startTestService } from "../support/web.ts";

/** Rows of the large students file: about 3.5 MB, read in about six seconds. */
const ROWS = 100_000;
/** The key that seals the managed connection's password. */
const SECRET_KEY = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));

/** A students file of `rows` rows (tab-separated, LF). */
function bigStudents(rows: number): string {
  const entry = `08/20/${schoolYear()}`;
  const lines: string[] = [];
  for (let i = 1; i <= rows; i++) {
    lines.push(`${100000 + i}\tFirst${i % 977}\tLast${i % 1999}\t${(i % 12) + 1}\t${entry}`);
  }
  return lines.join("\n") + "\n";
}

interface Answer {
  runId: number;
  status: string;
  active: boolean;
  short: string;
  progress: {
    stage: string;
    rowsRead: number;
    bytesRead: number;
    fileSize: number | null;
    percent: number | null;
  } | null;
}

Deno.test("during a large import the progress endpoint answers its stage and growing rows and bytes", async () => {
  await using sftp = await startSftpServer();
  const s = await startTestService({
    env: { AUTOCOMM_LOG_LEVEL: "error", AUTOCOMM_SECRET_KEY: SECRET_KEY },
  });
  try {
    const text = bigStudents(ROWS);
    const size = new TextEncoder().encode(text).length;
    const runId = await slowSftpRun(s, sftp, text);
    const viewer = await s.session("viewer");
    const seen: Answer[] = [];
    let page = "";
    let overview = "";
    let setupList = "";
    let fromPage: Answer | undefined;
    for (const started = Date.now(); Date.now() - started < 120_000;) {
      const res = await s.api(`/api/v1/runs/${runId}/progress`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("cache-control"), null);
      const answer = await res.json() as Answer;
      if (!answer.active) break;
      if (answer.progress?.stage === "reading" && answer.progress.rowsRead > 0) {
        seen.push(answer);
        if (!page) {
          // The pages of one moment, kept once the run is still under way after them
          // (then it was while they were made); otherwise taken again next time.
          const texts = await Promise.all(
            [`/runs/${runId}`, "/runs", "/?school=100"].map(async (path) =>
              await (await s.page(viewer, path)).text()
            ),
          );
          const res = await s.page(viewer, `/runs/${runId}/progress`);
          assert.equal(res.headers.get("cache-control"), "no-store");
          const answer = await res.json() as Answer;
          if (answer.active) {
            [page, overview, setupList] = texts as [string, string, string];
            fromPage = answer;
          }
        }
      }
      await new Promise((r) => setTimeout(r, 150));
    }
    await s.queue.idle();
    const end = await (await s.api(`/api/v1/runs/${runId}`)).json();
    assert.equal(end.status, "succeeded", JSON.stringify(end));
    assert.equal(end.counts.read, ROWS);

    assert.ok(seen.length >= 1, `progress seen ${seen.length} times while reading`);
    assert.ok(page, "the pages were never taken while the run was under way");
    const rows = seen.map((a) => a.progress!.rowsRead);
    // Live figures: what was read so far, short of the file's rows (on a loaded machine
    // the one-second writer may not tick twice while reading, so growth between two
    // readings is not required).
    assert.ok(rows[0]! < ROWS, `rows read while reading: ${rows.join(", ")} of ${ROWS}`);
    for (let i = 1; i < rows.length; i++) assert.ok(rows[i]! >= rows[i - 1]!, rows.join(", "));
    for (const a of seen) {
      assert.equal(a.status, "running");
      assert.equal(a.progress!.fileSize, size);
      assert.ok(a.progress!.bytesRead <= size);
      assert.ok(a.progress!.percent! >= 0 && a.progress!.percent! <= 100);
      assert.equal(a.short, `${a.progress!.percent} %`);
    }
    // The run page shows the panel, updated by the service's script (refreshing without it).
    assert.match(page, /<h2 id="progress-title">Progress<\/h2>/);
    assert.match(page, /<script src="\/assets\/progress.js" defer><\/script>/);
    assert.match(page, /<noscript><meta http-equiv="refresh" content="3"/);
    assert.match(page, /Rows read<\/dt><dd data-field="rows">[\d,]+<\/dd>/);
    // The overview and the AutoComm Setup list say "Running — 41 %", kept current by the script.
    const running = /Running<\/span> — <span data-field="short">(\d+ %|[a-z ]+)<\/span>/;
    assert.match(overview, running);
    assert.match(setupList, running);
    assert.match(setupList, /<script src="\/assets\/progress.js" defer><\/script>/);
    assert.equal(fromPage?.runId, runId);
    // Once ended, the run has no progress to show, and the progress file is gone.
    const after = await (await s.api(`/api/v1/runs/${runId}/progress`)).json() as Answer;
    assert.equal(after.active, false);
    assert.equal(after.progress, null);
    const left = [...Deno.readDirSync(`${s.config.dataDir}/tmp`)].map((e) => e.name);
    assert.deepEqual(left.filter((n) => n.includes("progress")), []);
  } finally {
    await s.close();
  }
});

Deno.test("the progress script is served by the service as JavaScript", async () => {
  const s = await startTestService({ setup: false });
  try {
    const res = await s.app.request("/assets/progress.js");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/javascript/);
    assert.match(await res.text(), /data-progress-run/);
    const css = await s.app.request("/assets/overview.css");
    assert.match(css.headers.get("content-type") ?? "", /text\/css/);
  } finally {
    await s.close();
  }
});
