/**
 * Browser tests with Debian's chromium through playwright-core: where chromium is
 * missing they are skipped with a printed line saying what to install, except in CI
 * (`CI=true`), where a missing chromium fails. Screenshots go to tests/screenshots/
 * (git-ignored).
 */
import { type Browser, chromium } from "playwright-core";

/** Where Debian puts chromium. */
export const CHROMIUM = "/usr/bin/chromium";
/** Where the browser tests write their screenshots. */
export const SCREENSHOTS = new URL("../screenshots/", import.meta.url);

const haveChromium = await Deno.stat(CHROMIUM).then(() => true, () => false);
const inCi = Deno.env.get("CI") === "true";
if (!haveChromium && !inCi) {
  console.log("install chromium (apt-get install -y chromium) to run the browser tests");
}

/** Launches chromium with the flags this machine needs (no sandbox as root, no network chatter). */
export async function launchChromium(): Promise<Browser> {
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
      "--no-first-run",
    ],
  });
}

/** A browser test: skipped without chromium (except in CI, where that fails); screenshots' folder made. */
export function browserTest(name: string, fn: () => Promise<void>): void {
  Deno.test({
    name,
    ignore: !haveChromium && !inCi,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      if (!haveChromium) {
        throw new Error(
          `The browser tests need Chromium at ${CHROMIUM}; install it with apt-get install -y chromium`,
        );
      }
      await Deno.mkdir(SCREENSHOTS, { recursive: true });
      await fn();
    },
  });
}
