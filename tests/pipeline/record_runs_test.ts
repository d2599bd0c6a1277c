/** Runs of stored AutoComm records: the stable-file wait, `{school}` paths, unsafe paths. */
import assert from "node:assert/strict";
import { addTeacherRecord as addRecord } from "../support/in_process.ts";
import { Sandbox, tsv } from "../support/sandbox.ts";

async function runJson(sb: Sandbox, id: number) {
  const out = await sb.cli(["run", String(id), "--json"]);
  return { code: out.code, report: JSON.parse(out.stdout) };
}

Deno.test("a file changed within the minimum file age leaves the run waiting", async () => {
  await using sb = await Sandbox.create();
  await sb.write("teachers.txt", tsv(["T1", "Ada", "Lovelace"]));
  const id = await addRecord(sb, { minFileAgeSeconds: 3600 });
  const { code, report } = await runJson(sb, id);
  assert.equal(report.status, "waiting");
  assert.equal(code, 1);
  assert.match(report.message, /waiting until it has been unchanged for 3600 s/);
  assert.deepEqual(await sb.sis("teachers"), []);
  const again = await sb.cli(["run", String(id)]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already running/);
});

Deno.test("a stable file is imported, and {school} in the path is the record's School_Number", async () => {
  await using sb = await Sandbox.create();
  await sb.write("100/teachers.txt", tsv(["T1", "Ada", "Lovelace"]));
  const old = new Date(Date.now() - 120_000);
  await Deno.utime(`${sb.data.importRoot}/100/teachers.txt`, old, old);
  const id = await addRecord(sb, { path: "{school}\\teachers.txt" });
  const { code, report } = await runJson(sb, id);
  assert.equal(code, 0, JSON.stringify(report));
  assert.equal(report.status, "succeeded");
  const [run] = await sb.query("SELECT trigger, record_id, file_name FROM runs WHERE id = ?", [
    report.runId,
  ]);
  assert.deepEqual(run, { trigger: "cli", record_id: id, file_name: "teachers.txt" });
});

Deno.test("a record path that leaves the import root is refused when the record runs", async () => {
  await using sb = await Sandbox.create();
  await Deno.writeTextFile(`${sb.data.dir}/outside.txt`, tsv(["T1", "Ada", "Lovelace"]));
  await Deno.symlink(`${sb.data.dir}/outside.txt`, `${sb.data.importRoot}/link.txt`);
  const id = await addRecord(sb, { path: "link.txt", minFileAgeSeconds: 0 });
  const { code, report } = await runJson(sb, id);
  assert.equal(report.status, "rejected");
  assert.equal(code, 2);
  assert.match(report.message, /outside the import folder/);
  // A path stored before the rules (or edited in the database) is checked again at run time.
  await sb.query("UPDATE autocomm_records SET path = '..\\outside.txt' WHERE id = ?", [id]);
  const dotdot = await runJson(sb, id);
  assert.equal(dotdot.report.status, "rejected");
  assert.match(dotdot.report.message, /may not contain \.\./);
  assert.deepEqual(await sb.sis("teachers"), []);
});

Deno.test("a missing file ends the record's run no_file", async () => {
  await using sb = await Sandbox.create();
  const id = await addRecord(sb, { path: "nothing\\here.txt" });
  const { code, report } = await runJson(sb, id);
  assert.equal(report.status, "no_file");
  assert.equal(code, 2);
});
