import assert from "node:assert/strict";
import {
  dueRecords,
  dueThisHour,
  hourKey,
  isDue,
  type Schedulable,
  slotKey,
  slotsAt,
  slotsThisHour,
  wallMinuteOf,
  wallText,
} from "../../src/schedule/due.ts";

function rec(over: Partial<Schedulable> = {}): Schedulable {
  return {
    id: 1,
    name: "Teachers",
    hour: 10,
    minute: 5,
    days: "MTWHFSU",
    executionOff: false,
    sortOrder: null,
    ...over,
  };
}

const at = (iso: string) => new Date(iso);
const wall = (iso: string, zone = "UTC") => wallMinuteOf(at(iso), zone);
const NY = "America/New_York";

Deno.test("the wall minute of an instant is read in the service's time zone", () => {
  assert.deepEqual(wall("2026-03-09T15:05:42Z", "America/Chicago"), {
    date: "2026-03-09",
    hour: 10,
    minute: 5,
    day: "M",
  });
  assert.equal(wallText(wall("2026-03-09T04:35:00Z", "Asia/Kolkata")), "2026-03-09T10:05");
  // Monday 01:00 UTC is still Sunday afternoon in Los Angeles.
  assert.equal(wall("2026-03-09T01:00:00Z", "America/Los_Angeles").day, "U");
  assert.equal(wall("2026-03-09T00:00:00Z").hour, 0);
});

Deno.test("day letters are M T W H F S U, with H for Thursday and U for Sunday", () => {
  const days = ["U", "M", "T", "W", "H", "F", "S"];
  for (let i = 0; i < 7; i++) {
    // 2026-03-08 is a Sunday.
    const instant = new Date(Date.UTC(2026, 2, 8 + i, 10, 5));
    assert.equal(wallMinuteOf(instant, "UTC").day, days[i]);
  }
  const thursday = wall("2026-03-12T10:05:00Z");
  assert.equal(isDue(rec({ days: "H" }), thursday), true);
  assert.equal(isDue(rec({ days: "T" }), thursday), false);
  assert.equal(isDue(rec({ days: "u" }), wall("2026-03-08T10:05:00Z")), true);
  assert.equal(isDue(rec({ days: "MTWHFS" }), wall("2026-03-08T10:05:00Z")), false);
  assert.equal(isDue(rec({ days: "" }), thursday), false);
});

Deno.test("a record is due only at its hour and minute and not when execution is off", () => {
  const w = wall("2026-03-10T10:05:00Z");
  assert.equal(isDue(rec(), w), true);
  assert.equal(isDue(rec({ minute: 6 }), w), false);
  assert.equal(isDue(rec({ hour: 11 }), w), false);
  assert.equal(isDue(rec({ executionOff: true }), w), false);
  assert.equal(isDue(rec({ hour: 0, minute: 0 }), wall("2026-03-10T00:00:00Z")), true);
});

Deno.test("records due in the same minute come in sort order, then by name", () => {
  const w = wall("2026-03-10T10:05:00Z");
  const list = [
    rec({ id: 1, name: "c schedules" }),
    rec({ id: 2, name: "Sections", sortOrder: 3 }),
    rec({ id: 3, name: "Teachers", sortOrder: 1 }),
    rec({ id: 4, name: "A courses" }),
    rec({ id: 5, name: "Courses", sortOrder: 2 }),
    rec({ id: 6, name: "Off", sortOrder: 0, executionOff: true }),
    rec({ id: 7, name: "Other minute", sortOrder: 0, minute: 6 }),
  ];
  assert.deepEqual(dueRecords(list, w).map((r) => r.id), [3, 5, 2, 4, 1]);
});

Deno.test("an ordinary minute reaches exactly its own wall minute", () => {
  const slots = slotsAt(at("2026-03-10T15:05:30Z"), "America/Chicago");
  assert.equal(slots.length, 1);
  assert.equal(wallText(slots[0]!.wall), "2026-03-10T10:05");
  assert.equal(slots[0]!.at.toISOString(), "2026-03-10T15:05:00.000Z");
});

Deno.test("the tick at minute 00 considers only that minute; later ticks the whole hour so far", () => {
  assert.deepEqual(
    slotsThisHour(at("2026-03-10T10:00:10Z"), "UTC").map((s) => wallText(s.wall)),
    ["2026-03-10T10:00"],
  );
  const hour = slotsThisHour(at("2026-03-10T10:17:00Z"), "UTC");
  assert.equal(hour.length, 18);
  assert.equal(wallText(hour[0]!.wall), "2026-03-10T10:00");
  assert.equal(wallText(hour[17]!.wall), "2026-03-10T10:17");
  assert.equal(hourKey(at("2026-03-10T10:17:00Z"), "UTC"), "2026-03-10T10");
});

Deno.test("missed minutes of the current hour are due, minutes of earlier hours are not", () => {
  const list = [rec({ id: 1, minute: 5 }), rec({ id: 2, hour: 9, minute: 50 })];
  const due = dueThisHour(list, at("2026-03-10T10:20:00Z"), "UTC");
  assert.deepEqual(due.map((d) => d.key), ["1@2026-03-10T10:05"]);
  assert.equal(due[0]!.slot.at.toISOString(), "2026-03-10T10:05:00.000Z");
});

Deno.test("a slot that became due before the record was last saved is not due", () => {
  const instant = at("2026-03-10T10:20:00Z");
  assert.equal(
    dueThisHour([rec({ updatedAt: "2026-03-10T10:05:00.000Z" })], instant, "UTC").length,
    1,
  );
  assert.equal(
    dueThisHour([rec({ updatedAt: "2026-03-10T10:05:00.001Z" })], instant, "UTC").length,
    0,
  );
});

Deno.test("slot keys name the record and the local date and time", () => {
  assert.equal(slotKey(42, wall("2026-03-08T07:30:00Z", NY)), "42@2026-03-08T03:30");
});

Deno.test("a time inside the spring-forward gap is due once, at the first minute after it", () => {
  // America/New_York, Sunday 2026-03-08: 01:59 EST (06:59Z) is followed by 03:00 EDT (07:00Z).
  const gap = rec({ id: 7, hour: 2, minute: 30, days: "U" });
  const three = rec({ id: 8, hour: 3, minute: 0, days: "U", name: "A first by name" });
  assert.deepEqual(dueThisHour([gap, three], at("2026-03-08T06:59:00Z"), NY), []);
  const reached = slotsAt(at("2026-03-08T07:00:00Z"), NY).map((s) => wallText(s.wall));
  assert.equal(reached.length, 61);
  assert.equal(reached[0], "2026-03-08T02:00");
  assert.equal(reached[60], "2026-03-08T03:00");
  const due = dueThisHour([three, gap], at("2026-03-08T07:00:00Z"), NY);
  assert.deepEqual(due.map((d) => d.key), ["7@2026-03-08T02:30", "8@2026-03-08T03:00"]);
  assert.equal(due[0]!.slot.at.toISOString(), "2026-03-08T07:00:00.000Z");
  // Later ticks of the hour see the same keys (already claimed), never a new one.
  const later = dueThisHour([gap], at("2026-03-08T07:20:00Z"), NY);
  assert.deepEqual(later.map((d) => d.key), ["7@2026-03-08T02:30"]);
  // The next day the record is not due (Monday is not in its days) and 02:30 exists again.
  assert.deepEqual(
    dueThisHour([rec({ id: 7, hour: 2, minute: 30 })], at("2026-03-09T06:30:00Z"), NY).map((d) =>
      d.key
    ),
    ["7@2026-03-09T02:30"],
  );
});

Deno.test("a time that occurs twice on a fall-back day has one slot key", () => {
  // America/New_York, Sunday 2026-11-01: 01:59 EDT (05:59Z) is followed by 01:00 EST (06:00Z).
  const r = rec({ id: 3, hour: 1, minute: 30, days: "U" });
  const first = dueThisHour([r], at("2026-11-01T05:30:00Z"), NY);
  assert.deepEqual(first.map((d) => d.key), ["3@2026-11-01T01:30"]);
  // The repeated 01:00 reaches no new wall minute.
  assert.deepEqual(slotsAt(at("2026-11-01T06:00:00Z"), NY), []);
  // The second 01:30 produces the same key, which the first claim already holds.
  const second = dueThisHour([r], at("2026-11-01T06:45:00Z"), NY);
  assert.deepEqual(second.map((d) => d.key), ["3@2026-11-01T01:30"]);
  // A record at 01:00 is due at the first 01:00 only.
  const one = rec({ id: 4, hour: 1, minute: 0, days: "U" });
  assert.deepEqual(dueThisHour([one], at("2026-11-01T05:00:00Z"), NY).map((d) => d.key), [
    "4@2026-11-01T01:00",
  ]);
  assert.deepEqual(dueThisHour([one], at("2026-11-01T06:00:00Z"), NY), []);
});

Deno.test("time zones without daylight saving and with half-hour offsets are read as local time", () => {
  const r = rec({ hour: 10, minute: 0, days: "M" });
  // 2026-03-09 is a Monday; 10:00 in Kolkata (UTC+5:30) is 04:30Z.
  assert.deepEqual(dueThisHour([r], at("2026-03-09T04:30:00Z"), "Asia/Kolkata").map((d) => d.key), [
    "1@2026-03-09T10:00",
  ]);
  assert.deepEqual(dueThisHour([r], at("2026-03-09T10:00:00Z"), "Asia/Kolkata"), []);
  // Lord Howe Island moves its clocks by 30 minutes: 2026-10-04 02:00 → 02:30.
  const lh = rec({ hour: 2, minute: 15, days: "U" });
  const due = dueThisHour([lh], at("2026-10-03T15:30:00Z"), "Australia/Lord_Howe");
  assert.deepEqual(due.map((d) => d.key), ["1@2026-10-04T02:15"]);
});
