/**
 * Finding each row's existing record: in memory while staging (students, teachers,
 * courses by KeyIndex, sections by the school's SectionIndex), and again in SQL at the
 * apply when another connection changed the SIS in between.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { KeyIndex } from "../../src/pipeline/lookups.ts";
import { changeWhileStaged } from "../support/cli.ts";
import { queue } from "../support/in_process.ts";
import { Sandbox, TEACHER_FIELDS, teacherRunSettings, tsv } from "../support/sandbox.ts";

Deno.test("KeyIndex finds a record by every part of its key, compared exactly", () => {
  // Staged rows here: [line, key part 1, key part 2].
  // Records 7, 8 and 9 by (number, school).
  const index = new KeyIndex([7, 8, 9], [["T1", "T1", "t2"], [100, 200, 100]], [1, 2]);
  assert.equal(index.get([1, "T1", 100]), 7);
  assert.equal(index.get([2, "T1", 200]), 8);
  assert.equal(index.get([3, "t2", 100]), 9);
  assert.equal(index.get([4, "T2", 100]), null, "text compares with its case");
  assert.equal(index.get([5, "T1", 300]), null, "another school");
  assert.equal(index.get([6, "T3", 100]), null, "another number");
  assert.equal(index.get([7, "T1", "100"]), null, "an integer is not its text");
  const single = new KeyIndex([1, 2], [[224401, 224402]], [0]);
  assert.equal(single.get([224402]), 2);
  assert.equal(single.get([224403]), null);
});

/**
 * Imports 60,000 teachers in an import process while another connection saves T40000
 * in the middle of the staging; `seeded`: the table already has a teacher (else this
 * is a first import). The import runs in a process of its own: an import connection
 * in this process would share it with the libSQL handles the sandbox's helpers leave
 * to the garbage collector, whose closing drops its locks (two SQLite libraries opening one file in one process).
 */
async function savedWhileStaged(seeded: boolean) {
  await using sb = await Sandbox.create();
  if (seeded) {
    await sb.import(tsv(["T0", "Ada", "Lovelace"]), { table: "teachers", fields: TEACHER_FIELDS });
  }
  const rows = 60_000;
  const lines: string[] = [];
  for (let i = 1; i <= rows; i++) lines.push(`T${i}\tFirst${i}\tLast${i}`);
  const file = await sb.write("teachers.txt", lines.join("\n") + "\n");
  const runId = await queue(sb, teacherRunSettings(file));
  // T40000 is saved while the file is staged.
  const events = await changeWhileStaged(runId, sb.env, () => {
    const other = new DatabaseSync(`${sb.data.dir}/autocomm.db`, { timeout: 10_000 });
    try {
      other.exec(
        "INSERT INTO teachers (teachernumber, schoolid, first_name, last_name, status) VALUES ('T40000', 100, 'Grace', 'Hopper', 1)",
      );
    } finally {
      other.close();
    }
    return Promise.resolve();
  });
  assert.deepEqual(events.at(-1), { event: "done", status: "succeeded" });
  const [run] = await sb.query("SELECT inserted, updated FROM runs WHERE id = ?", [runId]);
  assert.deepEqual([run!["inserted"], run!["updated"]], [rows - 1, 1]);
  const found = await sb.query(
    "SELECT first_name, count(*) OVER () AS n FROM teachers WHERE teachernumber = 'T40000'",
  );
  assert.deepEqual(found.map((r) => [r["first_name"], r["n"]]), [["First40000", 1]]);
}

Deno.test("a record another connection saves while the file is staged is updated, not inserted twice", async () => {
  await savedWhileStaged(true);
});

Deno.test("a first import into an empty table updates a record another connection saves while it stages", async () => {
  await savedWhileStaged(false);
});
