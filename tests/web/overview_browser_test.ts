/**
 * The runs overview and a run in progress in a real browser, at 1280 px and at 390 px
 * (a phone): the last 24 hours, the filter form (its filters land in the address),
 * and a run page whose progress the service's script keeps current until the run ends
 * (its file read from a slow SFTP server, so that the run is surely under way).
 * axe-core checks every state; screenshots go to tests/screenshots/.
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { runs } from "../../src/db/schema/autocomm.ts";
import { SESSION_COOKIE } from "../../src/web/auth/session.ts";
import { assertAccessible } from "../support/axe.ts";
import { browserTest, launchChromium, SCREENSHOTS } from "../support/browser.ts";
import { startSftpServer } from "../support/sftp_server.ts";
import {
  schoolYear,
  serveOnLoopback,
  slowSftpRun,
  startTestService,
  studentsRecord,
  type TestService,
} from "../support/web.ts";

const HOUR = 3600_000;
/** The key that seals the managed connection's password. */
const SECRET_KEY = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));

/** A few finished runs of a record: succeeded, failed, held. */
async function someRuns(s: TestService, recordId: number): Promise<void> {
  const statuses = ["succeeded", "failed", "held", "succeeded_with_errors", "rejected"];
  for (const [i, status] of statuses.entries()) {
    const queued = new Date(Date.now() - (10 - i) * HOUR);
    await s.database.db.insert(runs).values({
      recordId,
      schoolId: 100,
      table: "students",
      trigger: i % 2 === 0 ? "schedule" : "run_now",
      status,
      options: {},
      queuedAt: queued.toISOString(),
      startedAt: new Date(queued.getTime() + 500).toISOString(),
      endedAt: new Date(queued.getTime() + 65_000).toISOString(),
      read: 120,
      inserted: status.startsWith("succeeded") ? 100 : 0,
      updated: status.startsWith("succeeded") ? 15 : 0,
      rejected: status === "succeeded_with_errors" ? 5 : 0,
    });
  }
}

/** A students file of `rows` rows. */
function bigStudents(rows: number): string {
  const entry = `08/20/${schoolYear()}`;
  const lines: string[] = [];
  for (let i = 1; i <= rows; i++) lines.push(`${200000 + i}\tF${i % 97}\tL${i % 89}\t3\t${entry}`);
  return lines.join("\n") + "\n";
}

/** A signed-in page of `width` px. */
async function signedIn(browser: Browser, s: TestService, base: string, width: number) {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const session = await s.session("viewer");
  await context.addCookies([{
    name: SESSION_COOKIE,
    value: session.cookie.slice(SESSION_COOKIE.length + 1),
    url: base,
  }]);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  return { page, errors };
}

/** The page does not scroll sideways. */
async function assertNoSideways(page: Page, state: string): Promise<void> {
  const { scroll, inner } = await page.evaluate<{ scroll: number; inner: number }>(
    "({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth })",
  );
  assert.ok(scroll <= inner, `${state}: ${scroll} px wide in a ${inner} px window`);
}

/** Screenshot and checks of a run page with its progress panel. */
async function shootProgress(page: Page, width: number): Promise<void> {
  await page.screenshot({
    path: new URL(`run_in_progress_${width}.png`, SCREENSHOTS).pathname,
    fullPage: true,
  });
  await assertAccessible(page, `a run in progress at ${width} px`);
  const box = await page.locator(".run-progress").boundingBox();
  assert.ok(box && box.x >= 0 && box.x + box.width <= width, `the progress panel fits ${width} px`);
}

browserTest(
  "a data manager reads the last 24 hours, filters the runs and watches a run in progress, at 1280 and 390 px",
  async () => {
    await using sftp = await startSftpServer();
    const s = await startTestService({ env: { AUTOCOMM_SECRET_KEY: SECRET_KEY } });
    const { server, base } = serveOnLoopback(s);
    const browser = await launchChromium();
    try {
      const created = await s.api("/api/v1/records", {
        method: "POST",
        json: studentsRecord({ path: "big.txt", name: "Students nightly" }),
      });
      const recordId = (await created.json()).records[0].id as number;
      await someRuns(s, recordId);

      for (const width of [1280, 390]) {
        const { page, errors } = await signedIn(browser, s, base, width);
        await page.goto(`${base}/runs`);
        assert.equal(await page.locator("h1").innerText(), "Runs");
        await page.getByRole("heading", { name: "Last 24 hours" }).waitFor();
        await page.screenshot({
          path: new URL(`runs_overview_${width}.png`, SCREENSHOTS).pathname,
          fullPage: true,
        });
        await assertAccessible(page, `the runs overview at ${width} px`);
        await assertNoSideways(page, `the runs overview at ${width} px`);

        // The summary's "Failed" record leads into the list, filtered.
        await page.locator(".summary-box", { hasText: "Failed" })
          .getByRole("link", { name: "Students nightly" }).click();
        await page.waitForURL(/status=failed/);
        // Its failed run and its rejected one.
        assert.equal(await page.locator("table.runs-overview tbody tr").count(), 2);

        // The form: two statuses, its filters in the address.
        await page.goto(`${base}/runs`);
        await page.getByLabel("Held for approval").check();
        await page.getByLabel("Succeeded", { exact: true }).check();
        await page.getByRole("button", { name: "Show runs" }).click();
        await page.waitForURL(/status=held&status=succeeded/);
        assert.equal(await page.locator("table.runs-overview tbody tr").count(), 2);
        await assertAccessible(page, `the filtered runs at ${width} px`);
        await assertNoSideways(page, `the filtered runs at ${width} px`);
        assert.deepEqual(errors, []);
        await page.context().close();
      }

      // A run in progress: the page's numbers move by themselves, then the report shows.
      // Its file comes from an SFTP server that answers each 32 KB read after 60 ms, so
      // the run reads for about ten seconds however fast or busy the machine is.
      const phone = await signedIn(browser, s, base, 390);
      const wide = await signedIn(browser, s, base, 1280);
      const runId = await slowSftpRun(s, sftp, bigStudents(200_000));
      for (const { page } of [phone, wide]) {
        await page.goto(`${base}/runs/${runId}`);
        await page.locator(".run-progress").waitFor();
      }
      // The rows read on the wide page, watched from now on (the run may end while the
      // phone's screenshot is taken), with the page loads seen before each reading.
      const rows = wide.page.locator('[data-field="rows"]');
      let loads = 0;
      wide.page.on("load", () => loads++);
      const stage = wide.page.locator('[data-field="stage"]');
      const readings: { text: string; stage: string; loads: number; ms: number }[] = [];
      const since = Date.now();
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          const text = await rows.innerText({ timeout: 2000 }).catch(() => undefined);
          // The report replaced the panel (a slow answer is not the end).
          if (text === undefined && readings.length > 0 && await rows.count() === 0) break;
          if (text !== undefined && text !== readings.at(-1)?.text) {
            const stageText = await stage.innerText({ timeout: 500 }).catch(() => "");
            readings.push({ text, stage: stageText, loads, ms: Date.now() - since });
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      // The phone first, while the run is surely under way.
      await shootProgress(phone.page, 390);
      const movedOn = () => readings.length >= 2 && readings.at(-1)!.text !== "0";
      for (const until = Date.now() + 30_000; Date.now() < until && !movedOn();) {
        await new Promise((r) => setTimeout(r, 100));
      }
      if (await rows.count() > 0) await shootProgress(wide.page, 1280);
      watching = false;
      await watcher;
      // The script updates the numbers in place: the page is not reloaded.
      const now = await (await s.api(`/api/v1/runs/${runId}`)).text();
      assert.ok(
        movedOn(),
        `the rows read moved by themselves: ${JSON.stringify(readings)} (${
          Date.now() - since
        } ms; now ${now})`,
      );
      assert.equal(readings.at(-1)!.loads, 0, "the page was not reloaded while the run went on");
      assert.ok(
        readings.some((r) => r.text !== "0" && /file|rows/.test(r.stage)),
        `rows read while the file was read: ${JSON.stringify(readings)}`,
      );
      // When the run ends, the page shows its report by itself.
      await wide.page.locator("h1", { hasText: "Succeeded" }).waitFor({ timeout: 120_000 });
      await assertAccessible(wide.page, "the run's report after its progress");
      assert.deepEqual([...phone.errors, ...wide.errors], []);
    } finally {
      await browser.close();
      await s.queue.idle();
      await server.shutdown();
      await s.close();
    }
  },
);
