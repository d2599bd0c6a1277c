/**
 * Accessibility checks for the browser tests: axe-core (from npm, injected into the
 * page under test — no CDN) with the WCAG 2.0, 2.1 and 2.2 A and AA rules.
 */
import assert from "node:assert/strict";
import axe from "axe-core";
import type { Frame, Page } from "playwright-core";

/** The rule tags checked: WCAG 2.2 A and AA (which include 2.0 and 2.1's). */
export const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"];

/** One rule an element breaks, as axe reports it (trimmed for messages). */
export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** Runs axe-core on the page (or frame) as it is now; returns the violations. */
export async function axeViolations(page: Page | Frame): Promise<AxeViolation[]> {
  await page.evaluate(axe.source);
  return await page.evaluate(async (tags: string[]) => {
    const a = (globalThis as unknown as { axe: typeof axe }).axe;
    const result = await a.run(
      (globalThis as unknown as { document: axe.ElementContext }).document,
      { runOnly: { type: "tag", values: tags } },
    );
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact ?? null,
      help: v.help,
      targets: v.nodes.map((n) => n.target.join(" ")),
    }));
  }, AXE_TAGS);
}

/** Fails with a readable list when axe-core finds a violation on the page in `state`. */
export async function assertAccessible(page: Page | Frame, state: string): Promise<void> {
  const violations = await axeViolations(page);
  assert.deepEqual(
    violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.targets.join(", ")}`),
    [],
    `axe-core found violations on ${state}`,
  );
}
