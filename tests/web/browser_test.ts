/**
 * The pages in a real browser (Debian's chromium through playwright-core): sign in
 * with a one-time link, create a Students record through the form with the Field
 * List pop-up, see an inline error and fix it, Run Now against a file in the import
 * root, open the run page and download the rejected rows. Screenshots go to
 * tests/screenshots/ (git-ignored).
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { issueAdminLink } from "../../src/web/auth/admin_link.ts";
import { assertAccessible } from "../support/axe.ts";
import { browserTest, launchChromium, SCREENSHOTS } from "../support/browser.ts";
import { schoolYear, serveOnLoopback, startTestService, tsv } from "../support/web.ts";

/** Waits until focus is back on the field list (the pop-up's close event moves it). */
async function focusBackOnFields(page: Page): Promise<void> {
  let id = "";
  for (let i = 0; i < 30 && id !== "f-fields"; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 100));
    id = await page.evaluate("document.activeElement ? document.activeElement.id : ''") as string;
  }
  assert.equal(id, "f-fields", "focus is back on the field list");
}

browserTest(
  "a person creates a Students record with the Field List pop-up, fixes an error, runs it and downloads the rejected rows",
  async () => {
    const s = await startTestService();
    const { server, base } = serveOnLoopback(s);
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({
        acceptDownloads: true,
        viewport: { width: 1200, height: 900 },
      });
      const page = await context.newPage();
      const consoleErrors: string[] = [];
      page.on("pageerror", (e) => consoleErrors.push(e.message));
      page.on("console", (m) => {
        // A form sent back with problems answers 400: the browser logs that, rightly.
        if (m.type() === "error" && !/status of 400/.test(m.text())) consoleErrors.push(m.text());
      });

      // Sign in with a one-time link.
      const link = new URL(await issueAdminLink(s.database.db, s.config));
      await page.goto(
        `${base}${link.pathname}${link.search}&next=${encodeURIComponent("/?school=100")}`,
      );
      await assertAccessible(page, "the sign-in link page");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(`${base}/?school=100`);
      assert.equal(await page.locator("h1").innerText(), "AutoComm Setup — Lincoln Elementary");
      await assertAccessible(page, "the empty setup list");

      // New record.
      await page.getByRole("link", { name: "New", exact: true }).click();
      await page.waitForURL(/\/records\/new/);
      await assertAccessible(page, "the New record form");
      await page.getByLabel("Name", { exact: true }).fill("Nightly students");
      await page.getByLabel("Path").fill("sis\\students.txt");
      await page.getByLabel("Record Delimiter").selectOption("LF");
      await page.getByLabel("Character Set").selectOption("utf-8");
      await page.getByLabel("Days to Execute").fill("MTWX");
      await page.getByLabel("Update existing records with imported data (when applicable)").check();
      assert.equal(
        await page.locator("#row-attendanceMode").isHidden(),
        true,
        "attendance mode only for Attendance",
      );

      // The Field List pop-up stays open for several picks: filter by words, click to append
      // (the field is marked as added), Enter picks the first match; Escape or Done closes it
      // and focus returns to the field list.
      const fieldList = page.locator("[data-field-list]");
      assert.equal(await fieldList.innerText(), "Field List (Students)");
      await fieldList.click();
      const dialog = page.getByRole("dialog", { name: "Students Field List" });
      await dialog.waitFor();
      await assertAccessible(page, "the Field List pop-up");
      for (const name of ["Student_Number", "First_Name", "Last_Name"]) {
        await page.getByLabel("Filter").fill(name.toLowerCase().replace("_", " "));
        const button = page.locator(`#field-list-items button[data-field="${name}"]`);
        await button.click();
        assert.equal(await dialog.isVisible(), true, "the pop-up stays open after a pick");
        assert.match(await button.innerText(), /Added/, `${name} is marked as added`);
      }
      await page.getByLabel("Filter").fill("number student");
      const numberButton = page.locator('#field-list-items button[data-field="Student_Number"]');
      assert.match(
        await numberButton.innerText(),
        /Whole number[\s\S]*Match key[\s\S]*Added/,
        "words in any order; the type and flags are shown",
      );
      await page.getByLabel("Filter").fill("LAST legal");
      assert.deepEqual(
        await page.locator("#field-list-items button").evaluateAll((bs) =>
          bs.map((b) => (b as unknown as { dataset: { field: string } }).dataset.field)
        ),
        ["Last_Name"],
        "description words match too",
      );
      await page.getByLabel("Filter").fill("name");
      await page.screenshot({ path: new URL("field_list_added.png", SCREENSHOTS).pathname });
      await page.getByLabel("Filter").fill("grade_level");
      const shown = await page.locator("#field-list-items button").count();
      await page.screenshot({ path: new URL("field_list.png", SCREENSHOTS).pathname });
      assert.ok(shown >= 1 && shown < 5, `the filter narrows the list (${shown})`);
      assert.match(await page.locator("#field-list-status").innerText(), /of \d+ fields/);
      await page.getByLabel("Filter").press("Enter");
      assert.match(await page.locator("#field-list-status").innerText(), /Grade_Level added/);
      await page.getByLabel("Filter").fill("homeroom");
      const homeroom = page.locator(
        '#field-list-items button[data-field="U_StudentsUserFields.homeroom_number"]',
      );
      assert.match(await homeroom.innerText(), /Text, max 10/);
      await page.keyboard.press("Escape");
      assert.equal(await dialog.isVisible(), false, "Escape closes the pop-up");
      await focusBackOnFields(page);
      await fieldList.click();
      await dialog.waitFor();
      await page.getByLabel("Filter").fill("last name");
      assert.match(
        await page.locator('#field-list-items button[data-field="Last_Name"]').innerText(),
        /Added/,
        "fields already in the list show as added when the pop-up opens again",
      );
      await page.getByRole("button", { name: "Done" }).click();
      assert.equal(await dialog.isVisible(), false, "Done closes the pop-up");
      await focusBackOnFields(page);
      await page.getByLabel("PowerSchool fields to import into").press("Control+End");
      await page.keyboard.type("\nEntryDate");
      assert.equal(
        await page.getByLabel("PowerSchool fields to import into").inputValue(),
        "Student_Number\nFirst_Name\nLast_Name\nGrade_Level\nEntryDate",
      );
      await page.screenshot({ path: new URL("form.png", SCREENSHOTS).pathname, fullPage: true });
      await assertAccessible(page, "the filled record form");

      // An inline error, with the input kept; then fixed.
      await page.getByRole("button", { name: "Submit" }).click();
      await page.locator(".error-summary").waitFor();
      await assertAccessible(page, "the record form with an error");
      assert.match(
        await page.locator(".error-summary").innerText(),
        /Days to Execute: Use the letters MTWHFSU/,
      );
      assert.match(await page.locator("#e-days").innerText(), /Use the letters MTWHFSU/);
      assert.equal(await page.getByLabel("Days to Execute").getAttribute("aria-invalid"), "true");
      assert.equal(await page.getByLabel("Name", { exact: true }).inputValue(), "Nightly students");
      assert.equal(
        await page.locator("#f-fields").inputValue(),
        "Student_Number\nFirst_Name\nLast_Name\nGrade_Level\nEntryDate",
      );
      await page.screenshot({
        path: new URL("form_error.png", SCREENSHOTS).pathname,
        fullPage: true,
      });
      await page.locator('.error-summary a[href="#f-days"]').click();
      assert.equal(
        await page.evaluate("document.activeElement && document.activeElement.id"),
        "f-days",
      );
      await page.getByLabel("Days to Execute").fill("MTWHF");
      await page.getByRole("button", { name: "Submit" }).click();
      await page.waitForURL(`${base}/?school=100&done=created&n=1`);
      assert.match(await page.locator(".notice").innerText(), /The record was created/);
      await assertAccessible(page, "the setup list after a create");

      // Run Now against a file in the import root.
      const entry = `08/20/${schoolYear()}`;
      await s.writeImport(
        "sis/students.txt",
        tsv([[7001, "Ann", "Lee", 3, entry], [7002, "Bob", "", 4, entry], [
          7003,
          "Cy",
          "Do",
          5,
          entry,
        ]]),
      );
      await page.screenshot({ path: new URL("list.png", SCREENSHOTS).pathname, fullPage: true });
      await page.getByRole("button", { name: "Run Now: Nightly students" }).click();
      await page.waitForURL(/\/runs\/\d+$/);
      for (let i = 0; i < 50; i++) {
        if (/Succeeded with errors/.test(await page.locator("h1").innerText())) break;
        await new Promise((r) => setTimeout(r, 200));
        await page.reload();
      }
      assert.match(await page.locator("h1").innerText(), /Run #\d+: Succeeded with errors/);
      assert.match(await page.locator("dl.counts").innerText(), /Inserted\s+2/);
      assert.match(await page.locator("main").innerText(), /Last_Name\s+missing_required/);
      await page.screenshot({ path: new URL("run.png", SCREENSHOTS).pathname, fullPage: true });
      await assertAccessible(page, "the finished run page");

      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.getByRole("link", { name: "Download rejected rows (CSV)" }).click(),
      ]);
      assert.match(download.suggestedFilename(), /^run-\d+-rejected-rows\.csv$/);
      const csv = await Deno.readTextFile((await download.path())!);
      const lines = csv.trimEnd().split("\r\n");
      assert.equal(
        lines[0],
        "line,field,code,message,Student_Number,First_Name,Last_Name,Grade_Level,EntryDate",
      );
      assert.equal(lines.length, 2);
      assert.match(lines[1]!, /^2,Last_Name,missing_required,[^,]*,7002,Bob,,4,\d{4}-08-20$/);

      assert.deepEqual(consoleErrors, []);
      await context.close();
    } finally {
      await browser.close();
      await server.shutdown();
      await s.close();
    }
  },
);
