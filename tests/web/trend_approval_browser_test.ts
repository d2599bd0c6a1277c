/**
 * A record's trend and the approval of a held run in a real browser, at 1280 px and
 * at 390 px (a phone): screenshots of the trend and of the approval page, axe-core
 * (WCAG 2.2 A/AA) on every state visited, the approval refused without the typed
 * number of removals, Discard behind its confirmation, and Approve with the number.
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { issueAdminLink } from "../../src/web/auth/admin_link.ts";
import { assertAccessible } from "../support/axe.ts";
import { browserTest, launchChromium, SCREENSHOTS } from "../support/browser.ts";
import {
  schoolYear,
  serveOnLoopback,
  startTestService,
  studentsRecord,
  type TestService,
  tsv,
} from "../support/web.ts";

const ENTRY = `08/20/${schoolYear()}`;

async function record(s: TestService, over: Record<string, unknown>): Promise<number> {
  const res = await s.api("/api/v1/records", { method: "POST", json: studentsRecord(over) });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()).records[0].id;
}

async function run(s: TestService, id: number): Promise<number> {
  const res = await s.api(`/api/v1/records/${id}/run`, { method: "POST" });
  assert.equal(res.status, 202, await res.clone().text());
  const { runId } = await res.json();
  await s.queue.idle();
  return runId;
}

/** Eight runs of a growing, changing students file: a trend worth drawing. */
async function history(s: TestService, load: number): Promise<void> {
  for (let day = 1; day <= 8; day++) {
    const rows = Array.from({ length: 10 + day * 3 }, (_, i) => {
      const n = 8000 + i;
      return [n, `F${n}`, i % 7 === day % 7 ? "" : `L${n}`, 3 + ((i + day) % 3), ENTRY];
    });
    await s.writeImport("students.txt", tsv(rows));
    await run(s, load);
  }
}

/** A new page signed in as admin (editor and more), `width` wide. */
async function signedIn(
  browser: Browser,
  s: TestService,
  base: string,
  width: number,
): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width, height: 900 },
    acceptDownloads: true,
  });
  const page = await context.newPage();
  const link = new URL(await issueAdminLink(s.database.db, s.config));
  await page.goto(`${base}${link.pathname}${link.search}&next=${encodeURIComponent("/")}`);
  await page.getByRole("button", { name: "Sign in" }).click();
  // Sign-in lands on the school context the user last used (or the first with records).
  await page.waitForURL((url) => url.pathname === "/");
  return page;
}

/** The element does not reach past the window's right edge. */
async function assertFits(page: Page, selector: string): Promise<void> {
  const [right, width] = await page.evaluate(
    `[document.querySelector(${
      JSON.stringify(selector)
    }).getBoundingClientRect().right, innerWidth]`,
  ) as [number, number];
  assert.ok(right <= width + 0.5, `${selector} ends at ${right} px in a ${width} px window`);
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: new URL(name, SCREENSHOTS).pathname, fullPage: true });
}

browserTest(
  "a record's trend and a held run's approval read well at 1280 px and 390 px, with no axe-core violations",
  async () => {
    const s = await startTestService();
    const { server, base } = serveOnLoopback(s);
    const browser = await launchChromium();
    try {
      const load = await record(s, { name: "Nightly students" });
      const sync = await record(s, { name: "Sync", path: "sync.txt", synchronize: true });
      await history(s, load);
      await s.writeImport("sync.txt", tsv([[8000, "F8000", "L8000", 3, ENTRY]]));

      for (const width of [1280, 390]) {
        const page = await signedIn(browser, s, base, width);
        const errors: string[] = [];
        page.on("pageerror", (e) => errors.push(e.message));

        // Preview on the New form, before saving.
        await page.goto(`${base}/records/new?school=100`);
        await page.getByLabel("Name", { exact: true }).fill(`Tried first ${width}`);
        await page.getByLabel("Path").fill("students.txt");
        await page.getByLabel("Record Delimiter").selectOption("LF");
        await page.getByLabel("Character Set").selectOption("utf-8");
        await page.getByLabel("Days to Execute").fill("MTWHF");
        await page.locator("#f-fields").fill(
          "Student_Number\nFirst_Name\nLast_Name\nGrade_Level\nEntryDate",
        );
        await page.getByRole("button", { name: "Preview before saving" }).click();
        await page.waitForURL(`${base}/records/preview#preview-result`);
        assert.match(await page.locator("#preview-result").innerText(), /Preview run #\d+/);
        assert.equal(
          await page.getByLabel("Name", { exact: true }).inputValue(),
          `Tried first ${width}`,
        );
        await assertAccessible(page, `a preview on the New form at ${width} px`);
        await shot(page, `preview_new_${width}.png`);

        // The trend on the record's runs page.
        await page.goto(`${base}/records/${load}/runs`);
        assert.equal(
          await page.locator("#trend-title").innerText(),
          "Trend of the last 8 runs",
        );
        const shown = width < 600 ? "narrow" : "wide";
        assert.ok(await page.locator(`.trend svg.${shown}`).isVisible(), `${shown} chart shown`);
        assert.ok(await page.locator(`.trend svg:not(.${shown})`).isHidden());
        assert.equal(await page.locator(`.trend svg.${shown} rect`).count(), 40);
        await assertFits(page, ".trend");
        await assertAccessible(page, `the trend at ${width} px`);
        await page.locator(".trend").screenshot({
          path: new URL(`trend_${width}.png`, SCREENSHOTS).pathname,
        });
        await page.getByText("The chart's numbers as a table").click();
        assert.equal(await page.locator(".trend table tbody tr").count(), 8);
        await assertAccessible(page, `the trend's table at ${width} px`);

        // A held run: its page says what remove means, and Approve… asks first.
        const held = await run(s, sync);
        await page.goto(`${base}/runs/${held}`);
        assert.match(await page.locator(".held").innerText(), /“remove” means: students/);
        await assertAccessible(page, `the held run at ${width} px`);
        await page.getByRole("link", { name: "Approve…" }).click();
        await page.waitForURL(`${base}/runs/${held}/approve`);
        const removals = Number(
          (await page.locator(".approval-words").innerText()).match(/^(\d+) students/)![1],
        );
        assert.ok(removals >= 5, `${removals} removals`);
        assert.equal(await page.locator("ol.keys li").count(), Math.min(removals, 100));
        await assertFits(page, "form.confirm");
        await assertAccessible(page, `the approval page at ${width} px`);
        await shot(page, `approval_${width}.png`);

        const field = page.getByLabel(/Type the number of records that will be removed/);
        await field.fill(String(removals - 1));
        await page.getByRole("button", { name: "Approve and apply" }).click();
        await page.waitForLoadState();
        assert.match(await page.locator("#e-confirm_removals").innerText(), /not the number/);
        assert.equal(await field.getAttribute("aria-invalid"), "true");
        await assertAccessible(page, `the refused approval at ${width} px`);
        await shot(page, `approval_refused_${width}.png`);

        if (width === 1280) {
          // Cancel, then Discard… behind its own confirmation.
          await page.getByRole("link", { name: "Cancel" }).click();
          await page.waitForURL(`${base}/runs/${held}`);
          assert.match(await page.locator("h1").innerText(), /Held for approval/);
          await page.getByRole("link", { name: "Discard…" }).click();
          await page.waitForURL(`${base}/runs/${held}/discard`);
          await assertAccessible(page, "the discard confirmation");
          await page.getByRole("button", { name: "Discard the held run" }).click();
          await page.waitForURL(`${base}/runs/${held}?done=discarded`);
          assert.match(await page.locator("h1").innerText(), /Discarded/);
        } else {
          await field.fill(String(removals));
          await page.getByRole("button", { name: "Approve and apply" }).click();
          await page.waitForURL(/\/runs\/\d+$/);
          assert.notEqual(page.url(), `${base}/runs/${held}`);
          await assertAccessible(page, "the approval run");
          const heldRun = await (await s.api(`/api/v1/runs/${held}`)).json();
          assert.equal(heldRun.status, "approved");
        }
        assert.deepEqual(errors, []);
        await page.context().close();
      }
    } finally {
      await browser.close();
      await server.shutdown();
      await s.close();
    }
  },
);
