/**
 * The pages on a phone (390 px wide, Debian's chromium through playwright-core): the
 * setup list, the record form with its Field List pop-up, a run page, a record's runs,
 * the Field List page, the Delete confirmation, the connections list and the connection
 * form never scroll sideways (wide tables
 * scroll inside their own box), and axe-core (WCAG 2.2 A/AA, including 24×24 px
 * targets) finds nothing on each. Screenshots go to tests/screenshots/phone_*.png.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
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

const KEY_B64 = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));

/** The phone's width, in CSS pixels. */
const WIDTH = 390;

/** Asserts the page fits the phone's width, checks it with axe-core and takes a screenshot. */
async function checkFits(page: Page, state: string, shot: string): Promise<void> {
  assert.equal(
    await page.evaluate("document.compatMode"),
    "CSS1Compat",
    `${state}: standards mode`,
  );
  const width = await page.evaluate("document.documentElement.scrollWidth") as number;
  // Nothing hidden past the edge either (a screen reader's text included): try to scroll.
  const scrolled = await page.evaluate("window.scrollTo(1000, 0), window.scrollX") as number;
  assert.equal(scrolled, 0, `${state} scrolls sideways by ${scrolled} px`);
  await page.screenshot({
    path: new URL(`phone_${shot}.png`, SCREENSHOTS).pathname,
    fullPage: true,
  });
  if (width > WIDTH) {
    // Name the elements that reach past the right edge, to say what to fix.
    const wide = await page.evaluate(`[...document.querySelectorAll("body *")]
      .filter((e) => e.getBoundingClientRect().right > ${WIDTH} && !e.closest(".table-scroll"))
      .slice(-5).map((e) => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().right))`);
    assert.fail(`${state} is ${width} px wide at ${WIDTH} px: ${JSON.stringify(wide)}`);
  }
  await assertAccessible(page, `${state} at ${WIDTH} px`);
  // Stricter than axe-core (which lets spacing excuse a small target): every control and
  // link is at least 24×24 px, except a link inside a sentence (WCAG 2.5.8's inline case).
  const small = await page.evaluate(`[...document.querySelectorAll(
      "a[href], button, input:not([type=hidden]), select, textarea")]
    .filter((e) => {
      const r = e.getBoundingClientRect();
      if (r.width === 0 || e.closest("dialog:not([open])")) return false;
      if (e.tagName === "A" && e.parentElement.closest("p, li, .hint, .desc")) return false;
      return r.width < 24 || r.height < 24;
    })
    .map((e) => e.tagName + " " + (e.id || e.textContent.trim().slice(0, 30)) + " " +
      Math.round(e.getBoundingClientRect().width) + "×" + Math.round(e.getBoundingClientRect().height))`);
  assert.deepEqual(small, [], `${state}: targets smaller than 24×24 px`);
}

/** Two records (one with a long name, one run with a rejected row) and a connection. */
async function seed(s: TestService): Promise<{ recordId: number; runId: number }> {
  const make = async (over: Record<string, unknown>) => {
    const res = await s.api("/api/v1/records", { method: "POST", json: studentsRecord(over) });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()).records[0].id as number;
  };
  const recordId = await make({ name: "Nightly students", sortOrder: 1 });
  await make({
    name: "Students from the state's enrollment system, every weekday",
    path: "state/enrollment/weekday/students_full_export_with_a_long_name.txt",
    days: "MTWHFSU",
  });
  const res = await s.api("/api/v1/connections", {
    method: "POST",
    json: {
      name: "State SFTP",
      host: "sftp.state.example.org",
      username: "district",
      password: "x",
    },
  });
  assert.equal(res.status, 201, await res.clone().text());
  const entry = `08/20/${schoolYear()}`;
  await s.writeImport(
    "students.txt",
    tsv([[7001, "Ann", "Lee", 3, entry], [7002, "Bob", "", 4, entry]]),
  );
  const run = await s.api(`/api/v1/records/${recordId}/run`, { method: "POST" });
  assert.equal(run.status, 202);
  const { runId } = await run.json();
  await s.queue.idle();
  return { recordId, runId };
}

browserTest(
  "at 390 px no page scrolls sideways and axe-core finds nothing: list, form, pop-up, run, runs, fields, connections",
  async () => {
    const s = await startTestService({ env: { AUTOCOMM_SECRET_KEY: KEY_B64 } });
    const { server, base } = serveOnLoopback(s);
    const browser = await launchChromium();
    try {
      const { recordId, runId } = await seed(s);
      const context = await browser.newContext({
        viewport: { width: WIDTH, height: 844 },
      });
      const page = await context.newPage();
      const link = new URL(await issueAdminLink(s.database.db, s.config));
      await page.goto(`${base}${link.pathname}${link.search}`);
      await checkFits(page, "the sign-in link page", "signin");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(`${base}/?school=100`);
      await checkFits(page, "the setup list", "list");

      await page.goto(`${base}/records/new?school=100`);
      await checkFits(page, "the New record form", "form");
      await page.locator("[data-field-list]").click();
      await page.getByRole("dialog", { name: "Students Field List" }).waitFor();
      await page.getByLabel("Filter").fill("name");
      await page.locator('#field-list-items button[data-field="First_Name"]').click();
      await checkFits(page, "the Field List pop-up", "field_list_popup");
      await page.getByRole("button", { name: "Done" }).click();

      await page.goto(`${base}/records/${recordId}/edit`);
      await checkFits(page, "the Edit record form", "edit");
      await page.goto(`${base}/runs/${runId}`);
      assert.match(await page.locator("h1").innerText(), /Succeeded with errors/);
      await checkFits(page, "a run page with a rejected row", "run");
      await page.goto(`${base}/records/${recordId}/runs`);
      await checkFits(page, "a record's runs", "runs");
      await page.goto(`${base}/fields/students`);
      await checkFits(page, "the Field List page", "fields");
      await page.goto(`${base}/records/${recordId}/delete`);
      await checkFits(page, "the Delete confirmation", "delete");
      await page.goto(`${base}/connections`);
      await checkFits(page, "the connections list", "connections");
      await page.goto(`${base}/connections/new`);
      await checkFits(page, "the New connection form", "connection_form");
      await context.close();
    } finally {
      await browser.close();
      await server.shutdown();
      await s.close();
    }
  },
);
