/**
 * AutoComm inside a host SIS, in Chromium: the demo host (`deno task demo:host`) with
 * its real OpenID Connect provider. An editor launched from the host's navigation signs
 * in at the provider inside the frame, runs a record now, sees its run page in the
 * frame, and the host page shows the change feed and the signed completion callback.
 * A viewer's launch shows no Run Now, and the Run Now route answers 403 for it.
 */
import assert from "node:assert/strict";
import type { FrameLocator, Page } from "playwright-core";
import { startDemoHost } from "../../demo/host.ts";
import { assertAccessible } from "../support/axe.ts";
import { browserTest, launchChromium, SCREENSHOTS } from "../support/browser.ts";

/** Signs in at the demo provider's form, inside the frame. */
async function signInAtProvider(frame: FrameLocator, user: string): Promise<void> {
  await frame.locator('input[name="login"]').fill(user);
  await frame.locator('input[name="password"]').fill("demo");
  await frame.locator('button[type="submit"]').click();
  // The provider asks once for consent to share the profile with AutoComm.
  await frame.getByRole("button", { name: "Continue" }).click();
}

/** AutoComm's page inside the host's frame. */
function pluginFrame(page: Page) {
  const frame = page.frames().find((f) => f.name() === "plugin");
  assert.ok(frame, "the host has its plugin frame");
  return frame;
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: new URL(name, SCREENSHOTS).pathname, fullPage: true });
}

browserTest(
  "An editor launched from the demo host runs a record inside the frame and the host follows the feed",
  async () => {
    const demo = await startDemoHost();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
      await page.goto(demo.hostUrl);
      await page.getByRole("link", { name: "AutoComm Setup" }).click();
      const frame = page.frameLocator('iframe[name="plugin"]');
      await frame.locator('input[name="login"]').waitFor();
      await screenshot(page, "host_signin.png");
      await signInAtProvider(frame, "editor");
      await frame.getByRole("button", { name: "Run Now: Teachers" }).waitFor();
      await screenshot(page, "host_setup.png");
      await assertAccessible(pluginFrame(page), "AutoComm Setup in the host's frame");

      await frame.getByRole("button", { name: "Run Now: Teachers" }).click();
      const heading = frame.locator("h1");
      await heading.filter({ hasText: /Run #\d+/ }).waitFor();
      for (let i = 0; i < 100 && !/Succeeded/.test(await heading.innerText()); i++) {
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.match(await heading.innerText(), /Run #\d+: Succeeded/);
      await assertAccessible(pluginFrame(page), "the run page in the host's frame");

      await page.locator("#feed li").first().waitFor({ timeout: 20_000 });
      await page.locator("#callbacks li").first().waitFor({ timeout: 20_000 });
      assert.match(await page.locator("#feed").innerText(), /teachers · school 100 · inserted/);
      assert.match(await page.locator("#callbacks").innerText(), /"Teachers"/);
      await screenshot(page, "host_run.png");
    } finally {
      await browser.close();
      await demo.stop();
    }
  },
);

browserTest(
  "A viewer launched from the demo host sees no Run Now, and Run Now answers 403 for it",
  async () => {
    const demo = await startDemoHost();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
      await page.goto(demo.hostUrl);
      await page.getByRole("link", { name: "AutoComm Setup" }).click();
      const frame = page.frameLocator('iframe[name="plugin"]');
      await signInAtProvider(frame, "viewer");
      await frame.locator('a[href^="/records/"][href$="/runs"]').first().waitFor();
      assert.equal(await frame.getByRole("button", { name: /^Run Now/ }).count(), 0);
      await screenshot(page, "host_viewer.png");
      await assertAccessible(pluginFrame(page), "a viewer's AutoComm Setup in the host's frame");

      // The route itself refuses, whatever the page shows: post the form a runner would,
      // with the session's own CSRF token, so that only the role can refuse it.
      const runs = await frame.locator('a[href^="/records/"][href$="/runs"]').first()
        .getAttribute("href");
      const action = runs!.replace(/\/runs$/, "/run");
      const token = await frame.locator('input[name="_csrf"]').first().inputValue();
      const answer = await pluginFrame(page).evaluate(
        async (args) => {
          const body = new URLSearchParams({ _csrf: args.token });
          const res = await fetch(args.path, { method: "POST", body });
          return { status: res.status, text: await res.text() };
        },
        { path: action, token },
      );
      assert.equal(answer.status, 403);
      assert.match(answer.text, /runner role/);
    } finally {
      await browser.close();
      await demo.stop();
    }
  },
);
