/**
 * The pages in a real browser (Debian's chromium through playwright-core): sign in
 * with a one-time link, create a Students record through the form with the Field
 * List pop-up, see an inline error and fix it, Run Now against a file in the import
 * root, open the run page and download the rejected rows. Screenshots go to
 * tests/screenshots/ (git-ignored).
 */
import assert from "node:assert/strict";
import { issueAdminLink } from "../../src/web/auth/admin_link.ts";
import { browserTest, launchChromium, SCREENSHOTS } from "../support/browser.ts";
import { schoolYear, startTestService, tsv } from "../support/web.ts";

browserTest(
  "a person creates a Students record with the Field List pop-up, fixes an error, runs it and downloads the rejected rows",
  async () => {
    const s = await startTestService();
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, s.app.fetch);
    const base = `http://127.0.0.1:${server.addr.port}`;
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
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(`${base}/?school=100`);
      assert.equal(await page.locator("h1").innerText(), "AutoComm Setup — Lincoln Elementary");

      // New record.
      await page.getByRole("link", { name: "New", exact: true }).click();
      await page.waitForURL(/\/records\/new/);
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

      // The Field List pop-up: filter, click to append; Enter picks the first match.
      const fieldList = page.locator("[data-field-list]");
      assert.equal(await fieldList.innerText(), "Field List (Students)");
      for (const name of ["Student_Number", "First_Name", "Last_Name"]) {
        await fieldList.click();
        const dialog = page.getByRole("dialog", { name: "Students Field List" });
        await dialog.waitFor();
        await page.getByLabel("Filter").fill(name.toLowerCase().replace("_", " "));
        await page.locator(`#field-list-items button[data-field="${name}"]`).click();
        assert.equal(await dialog.isVisible(), false, "the pop-up closes after a click");
      }
      await fieldList.click();
      await page.getByLabel("Filter").fill("grade_level");
      const shown = await page.locator("#field-list-items button").count();
      await page.screenshot({ path: new URL("field_list.png", SCREENSHOTS).pathname });
      assert.ok(shown >= 1 && shown < 5, `the filter narrows the list (${shown})`);
      assert.match(await page.locator("#field-list-status").innerText(), /of \d+ fields/);
      await page.getByLabel("Filter").press("Enter");
      await fieldList.click();
      await page.getByLabel("Filter").fill("homeroom");
      await page.locator(
        '#field-list-items button[data-field="U_StudentsUserFields.homeroom_number"]',
      ).waitFor();
      await page.getByRole("button", { name: "Close the field list" }).click();
      await page.getByLabel("PowerSchool fields to import into").press("Control+End");
      await page.keyboard.type("\nEntryDate");
      assert.equal(
        await page.getByLabel("PowerSchool fields to import into").inputValue(),
        "Student_Number\nFirst_Name\nLast_Name\nGrade_Level\nEntryDate",
      );
      await page.screenshot({ path: new URL("form.png", SCREENSHOTS).pathname, fullPage: true });

      // An inline error, with the input kept; then fixed.
      await page.getByRole("button", { name: "Submit" }).click();
      await page.locator(".error-summary").waitFor();
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
