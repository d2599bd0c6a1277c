/**
 * Managed connections in a real browser (Debian's chromium through playwright-core):
 * an admin signs in with a one-time link, creates a connection on the Managed
 * Connections pages, tests it against an SFTP server in this process, accepts the
 * server's fingerprint, creates a Students record that gets its input from that
 * connection and runs it. Screenshots of the connections list, the test result and
 * the run page go to tests/screenshots/ (git-ignored). Skipped without chromium,
 * except in CI.
 */
import assert from "node:assert/strict";
import { issueAdminLink } from "../../src/web/auth/admin_link.ts";
import { assertAccessible } from "../support/axe.ts";
import { browserTest, launchChromium, SCREENSHOTS } from "../support/browser.ts";
import { startSftpServer } from "../support/sftp_server.ts";
import { schoolYear, serveOnLoopback, startTestService, tsv } from "../support/web.ts";

const KEY_B64 = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));

browserTest(
  "an admin creates a managed connection, tests it, accepts its fingerprint, and a record using it runs",
  async () => {
    const sftp = await startSftpServer({ password: "browser-Pa55" });
    const entry = `08/20/${schoolYear()}`;
    await sftp.write(
      "students.txt",
      tsv([[8001, "Ann", "Lee", 3, entry], [8002, "Bob", "Ray", 4, entry]]),
    );
    const s = await startTestService({ env: { AUTOCOMM_SECRET_KEY: KEY_B64 } });
    const { server, base } = serveOnLoopback(s);
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
      const page = await context.newPage();
      const consoleErrors: string[] = [];
      page.on("pageerror", (e) => consoleErrors.push(e.message));
      page.on("console", (m) => {
        if (m.type() === "error") consoleErrors.push(m.text());
      });

      // Sign in, then go from AutoComm Setup to Managed Connections.
      const link = new URL(await issueAdminLink(s.database.db, s.config));
      await page.goto(
        `${base}${link.pathname}${link.search}&next=${encodeURIComponent("/?school=100")}`,
      );
      await assertAccessible(page, "the sign-in link page");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(`${base}/?school=100`);
      await page.getByRole("link", { name: "Managed connections" }).click();
      await page.waitForURL(`${base}/connections`);
      assert.equal(await page.locator("h1").innerText(), "Managed Connections");
      await assertAccessible(page, "the empty connections list");

      // A new connection.
      await page.getByRole("link", { name: "New connection" }).click();
      await page.waitForURL(`${base}/connections/new`);
      assert.equal(await page.getByLabel("Port").inputValue(), "22");
      await assertAccessible(page, "the New connection form");
      await page.getByLabel("Name", { exact: true }).fill("State SFTP");
      await page.getByLabel("Description").fill("Nightly student file from the state");
      await page.getByLabel("Host", { exact: true }).fill("127.0.0.1");
      await page.getByLabel("Port").fill(String(sftp.port));
      await page.getByLabel("Username").fill(sftp.username);
      await page.locator("#f-authType").check();
      await page.locator("#f-password").fill(sftp.password);
      await page.screenshot({
        path: new URL("connection_form.png", SCREENSHOTS).pathname,
        fullPage: true,
      });
      await page.getByRole("button", { name: "Save" }).click();
      await page.waitForURL(`${base}/connections?done=created`);
      const row = page.locator("table.list tbody tr", { hasText: "State SFTP" });
      assert.match(await row.innerText(), /Not accepted yet/);
      await page.screenshot({
        path: new URL("connections_list.png", SCREENSHOTS).pathname,
        fullPage: true,
      });
      await assertAccessible(page, "the connections list with a connection");

      // Test it: the server's fingerprint and the login folder; accept the fingerprint.
      await page.getByRole("button", { name: "Test connection: State SFTP" }).click();
      await page.waitForURL(/\/connections\/\d+\/test$/);
      assert.equal(await page.locator("#server-fingerprint").innerText(), sftp.fingerprint);
      assert.match(await page.locator("#listing").innerText(), /students\.txt/);
      await page.screenshot({
        path: new URL("connection_test.png", SCREENSHOTS).pathname,
        fullPage: true,
      });
      await assertAccessible(page, "the connection test result");
      await page.getByRole("button", { name: "Accept this fingerprint" }).click();
      await page.waitForURL(`${base}/connections?done=accepted`);
      assert.match(await row.innerText(), new RegExp(sftp.fingerprint.replace(/[+/]/g, "\\$&")));
      assert.equal((await page.content()).includes(sftp.password), false);
      await assertAccessible(page, "the connections list after accepting");

      // A record that gets its input from the connection.
      await page.goto(`${base}/records/new?school=100`);
      await page.getByLabel("Name", { exact: true }).fill("Students from the state");
      await page.getByLabel("Get Input From").selectOption({ label: "Managed Connection" });
      await page.getByLabel("Managed connection", { exact: true }).selectOption({
        label: "State SFTP",
      });
      await page.getByLabel("Path").fill("students.txt");
      await page.getByLabel("Record Delimiter").selectOption("LF");
      await page.getByLabel("Character Set").selectOption("utf-8");
      await page.getByLabel("Update existing records with imported data (when applicable)").check();
      await page.getByLabel("PowerSchool fields to import into").fill(
        "Student_Number\nFirst_Name\nLast_Name\nGrade_Level\nEntryDate",
      );
      await assertAccessible(page, "the record form with a managed connection");
      await page.getByRole("button", { name: "Submit" }).click();
      await page.waitForURL(`${base}/?school=100&done=created&n=1`);
      await assertAccessible(page, "the setup list with the new record");

      // Run it.
      await page.getByRole("button", { name: "Run Now: Students from the state" }).click();
      await page.waitForURL(/\/runs\/\d+$/);
      for (let i = 0; i < 75; i++) {
        if (/Succeeded|Failed/.test(await page.locator("h1").innerText())) break;
        await new Promise((r) => setTimeout(r, 200));
        await page.reload();
      }
      assert.match(await page.locator("h1").innerText(), /Run #\d+: Succeeded$/);
      assert.match(await page.locator("dl.counts").innerText(), /Inserted\s+2/);
      await page.screenshot({
        path: new URL("connection_run.png", SCREENSHOTS).pathname,
        fullPage: true,
      });
      await assertAccessible(page, "the run page of a managed-connection record");

      // A key that differs from the accepted one: both fingerprints, side by side.
      const other = `SHA256:${"A".repeat(43)}`;
      await page.goto(`${base}/connections`);
      await page.getByRole("link", { name: "Edit State SFTP", exact: true }).click();
      await assertAccessible(page, "the Edit connection form");
      await page.getByLabel("Host-key fingerprint").fill(other);
      await page.getByRole("button", { name: "Save" }).click();
      await page.waitForURL(`${base}/connections?done=saved`);
      await page.getByRole("button", { name: "Test connection: State SFTP" }).click();
      await page.waitForURL(/\/connections\/\d+\/test$/);
      assert.equal(await page.locator("#server-fingerprint").innerText(), sftp.fingerprint);
      assert.equal(await page.locator("#accepted-fingerprint").innerText(), other);
      assert.match(await page.locator("main").innerText(), /differs from the accepted one/);
      await page.screenshot({
        path: new URL("connection_test_differs.png", SCREENSHOTS).pathname,
        fullPage: true,
      });
      await assertAccessible(page, "the connection test with a differing fingerprint");

      assert.deepEqual(consoleErrors, []);
      await context.close();
    } finally {
      await browser.close();
      await server.shutdown();
      await s.close();
      await sftp.close();
    }
  },
);
