import assert from "node:assert/strict";
import { isTimeZone, localTime, zeroPad, zonedDate, zonedParts } from "../../src/util/time.ts";

Deno.test("UTC is read without the time zone data and agrees with it", () => {
  const instants = [
    "2026-01-01T00:00:00Z",
    "2026-03-08T08:30:15Z",
    "2026-12-31T23:59:59Z",
    "2024-02-29T12:00:00Z",
  ].map((s) => new Date(s));
  for (const instant of instants) {
    // Etc/UTC is the same zone read through Intl.
    assert.deepEqual(zonedParts(instant, "UTC"), zonedParts(instant, "Etc/UTC"));
    assert.equal(zonedDate(instant, "UTC"), zonedDate(instant, "Etc/UTC"));
  }
  assert.equal(localTime("2026-03-08T08:30:15.000Z", "UTC"), "2026-03-08 08:30:15");
});

Deno.test("a zone's wall clock comes from the time zone data", () => {
  const instant = new Date("2026-07-01T03:00:00Z");
  assert.equal(zonedDate(instant, "America/Chicago"), "2026-06-30");
  assert.equal(zonedParts(instant, "America/Chicago").hour, 22);
});

Deno.test("known and unknown time zone names", () => {
  assert.equal(isTimeZone("UTC"), true);
  assert.equal(isTimeZone("America/Chicago"), true);
  assert.equal(isTimeZone("Mars/Olympus_Mons"), false);
});

Deno.test("zeroPad writes at least the width in digits and never cuts a longer number", () => {
  assert.equal(zeroPad(7), "07");
  assert.equal(zeroPad(12), "12");
  assert.equal(zeroPad(0), "00");
  assert.equal(zeroPad(987, 4), "0987");
  assert.equal(zeroPad(12345, 4), "12345");
});
