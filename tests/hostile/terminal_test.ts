/**
 * Text that reaches a terminal or an e-mail is inert: the CLI's human output shows
 * control characters escaped (`\x1b`), `--csv` is escaped on a terminal and raw
 * when piped, record names and other single-line settings refuse controls, and the
 * completion e-mail keeps every stored text on its line.
 */
import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { records } from "../../src/db/schema/autocomm.ts";
import { queueRecordRun } from "../../src/pipeline/service.ts";
import { baseEnv, type CliResult, describe, REPO_ROOT, runCli } from "../support/cli.ts";
import { importArgs, Sandbox, TEACHER_FIELDS } from "../support/sandbox.ts";
import { startSmtpServer } from "../support/smtp.ts";
import { startTestService, studentsRecord } from "../support/web.ts";
import { fixture } from "../schedule/fixture.ts";

/** Control characters other than the tab and line feed that lay out the output. */
// deno-lint-ignore no-control-regex
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

const FIELDS = [...TEACHER_FIELDS, "Title"];

function assertInert(result: CliResult, args: string[]): void {
  assert.equal(result.code, 0, describe(args, result));
  const raw = RAW_CONTROL.exec(result.stdout);
  assert.equal(raw, null, `raw control ${JSON.stringify(raw?.[0])} in\n${result.stdout}`);
}

/** Runs the CLI with its standard output on a terminal (a pseudo-terminal from `script`). */
async function cliOnTerminal(args: string[], env: Record<string, string>): Promise<string> {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = [
    Deno.execPath(),
    "run",
    "--allow-all",
    "--frozen",
    `--config=${REPO_ROOT}/deno.json`,
    `${REPO_ROOT}/src/cli.ts`,
    ...args,
  ].map(quote).join(" ");
  const out = await new Deno.Command("script", {
    args: ["-q", "-e", "-c", command, "/dev/null"],
    clearEnv: true,
    env: { ...baseEnv(), ...env },
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, `${stdout}\n${new TextDecoder().decode(out.stderr)}`);
  return stdout;
}

Deno.test("sis, runs list and runs show print control characters escaped; --json keeps the values", async () => {
  await using sb = await Sandbox.create();
  // ISO 8859-1 files may hold C1 controls: 0x9b is CSI, a terminal's escape sequence.
  const bytes = new Uint8Array([
    ...new TextEncoder().encode("T1\tAda\tLovelace\tHead"),
    0x9b,
    ...new TextEncoder().encode("2J\n"),
  ]);
  const file = await sb.write("teachers\x1b[2J.txt", bytes);
  const first = JSON.parse(
    (await sb.ok(importArgs(file, { table: "teachers", fields: FIELDS, charset: "iso-8859-1" })))
      .stdout,
  );
  assert.equal(first.status, "succeeded", JSON.stringify(first));
  // A value stored before control characters were refused.
  await sb.query("UPDATE teachers SET last_name = ? WHERE teachernumber = 'T1'", [
    "Love\x1b]0;owned\x07lace",
  ]);

  let args = ["sis", "teachers"];
  let result = await sb.cli(args);
  assertInert(result, args);
  assert.ok(result.stdout.includes("Head\\x9b2J"), result.stdout);
  assert.ok(result.stdout.includes("Love\\x1b]0;owned\\x07lace"), result.stdout);
  const [row] = JSON.parse((await sb.ok(["sis", "teachers", "--json"])).stdout);
  assert.equal(row["Title"], "Head\x9b2J");
  assert.equal(row["Last_Name"], "Love\x1b]0;owned\x07lace");

  // An update of the title: its old value is in the change log.
  const second = await sb.import("T1\tAda\tLovelace\tDean\n", {
    table: "teachers",
    fields: FIELDS,
    updateExisting: true,
  });
  assert.equal(second.report.counts["updated"], 1, JSON.stringify(second.report));
  args = ["runs", "show", String(second.report.runId)];
  result = await sb.cli(args);
  assertInert(result, args);
  assert.ok(result.stdout.includes('"Title":["Head\\x9b2J","Dean"]'), result.stdout);

  args = ["runs", "list"];
  result = await sb.cli(args);
  assertInert(result, args);
  assert.ok(result.stdout.includes("teachers\\x1b[2J.txt"), result.stdout);
});

Deno.test("runs show --csv is escaped on a terminal and raw, valid CSV when piped", async () => {
  await using sb = await Sandbox.create();
  const { report } = await sb.import('T1\tAda\tLovelace\t"Esc\x1b[31mRed"\nT2\tAlan\tTuring\t\n', {
    table: "teachers",
    fields: FIELDS,
  });
  assert.deepEqual(report.errors.map((e) => [e.line, e.field, e.code]), [
    [1, "Title", "bad_character"],
  ]);
  const args = ["runs", "show", String(report.runId), "--csv"];
  const piped = await sb.ok(args);
  assert.ok(piped.stdout.endsWith("\r\n") && !piped.stdout.endsWith("\r\n\n"), piped.stdout);
  const lines = piped.stdout.slice(0, -2).split("\r\n");
  assert.equal(lines.length, 2, piped.stdout);
  assert.equal(lines[0], "line,field,code,message,TeacherNumber,First_Name,Last_Name,Title");
  assert.ok(lines[1]!.startsWith("1,"), lines[1]!);
  assert.ok(lines[1]!.endsWith(",T1,Ada,Lovelace,Esc\x1b[31mRed"), lines[1]!);

  const shown = await cliOnTerminal(args, sb.env);
  assert.ok(!shown.includes("\x1b"), shown);
  assert.ok(shown.includes("T1,Ada,Lovelace,Esc\\x1b[31mRed"), shown);
});

Deno.test("a record name, path or e-mail list with a control character is refused with a problem per field", async () => {
  const s = await startTestService();
  try {
    const cases: [Record<string, unknown>, string][] = [
      [{ name: "Nightly\r\nBcc: evil@example.org" }, "name"],
      [{ name: "Nightly\x1b[2J" }, "name"],
      [{ name: "Night\tly" }, "name"],
      [{ name: "Night\x7fly" }, "name"],
      [{ path: "students\x00.txt" }, "path"],
      [{ path: "stu\ndents.txt" }, "path"],
      [{ emailTo: "a\x1b@example.org" }, "emailTo"],
      [{ emailTo: "a@example.org\r\nBcc: evil@example.org" }, "emailTo"],
    ];
    for (const [over, field] of cases) {
      const res = await s.api("/api/v1/records", { method: "POST", json: studentsRecord(over) });
      assert.equal(res.status, 400, JSON.stringify(over));
      assert.match(res.headers.get("content-type") ?? "", /application\/json/);
      const body = await res.json();
      assert.equal(body.error.code, "invalid");
      assert.deepEqual(
        body.error.problems.map((p: { field: string }) => p.field),
        [field],
        JSON.stringify(body),
      );
      assert.match(body.error.problems[0].message, /control character U\+00[0-9A-F]{2}/);
    }
    let res = await s.api("/api/v1/records", { method: "POST", json: studentsRecord() });
    assert.equal(res.status, 201);
    const id = (await res.json()).records[0].id;
    res = await s.api(`/api/v1/records/${id}`, {
      method: "PATCH",
      json: { name: "Nightly\nSubject: hi" },
    });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.problems[0].field, "name");
  } finally {
    await s.close();
  }
});

Deno.test("a stored name or file name with line ends stays on its line in the completion e-mail and the CLI", async () => {
  await using smtp = await startSmtpServer();
  await using f = await fixture({ env: { SMTP_URL: smtp.url } });
  const record = await f.addRecord({ emailTo: "a@example.org" });
  // Settings saved before controls were refused.
  const name = "Nightly\r\nBcc: evil@example.org";
  const path = "teach\x1b[2Jers\r\nX-Injected: 1.txt";
  await f.db.update(records).set({ name, path }).where(eq(records.id, record.id));
  await f.write(path, "T1\tAnn\tLee\n");
  const runId = await queueRecordRun(f.deps, record.id, { trigger: "run_now" });
  f.queue.enqueue(runId);
  await f.queue.idle();
  const [mail] = await smtp.waitFor(1);
  assert.equal((await f.run(runId)).status, "succeeded");
  assert.equal(mail!.bcc, undefined);
  assert.equal(mail!.headers.get("x-injected"), undefined);
  assert.doesNotMatch(mail!.subject ?? "", /[\r\n]/);
  assert.match(mail!.subject ?? "", /^AutoComm: Nightly\\x0d\\x0aBcc: evil@example\.org succeeded/);
  const text = mail!.text ?? "";
  for (const line of text.split(/\r?\n/)) {
    assert.doesNotMatch(line, /^(Bcc|X-Injected):/, text);
    assert.doesNotMatch(line, RAW_CONTROL, JSON.stringify(line));
  }
  assert.match(text, /Record: +Nightly\\x0d\\x0aBcc: evil@example\.org\n/);
  assert.match(text, /File: +teach\\x1b\[2Jers\\x0d\\x0aX-Injected: 1\.txt\n/);
  assert.match(String(mail!.html), /Nightly\\x0d\\x0aBcc: evil@example\.org/);

  const env = { AUTOCOMM_DATA_DIR: f.dir };
  for (const args of [["records"], ["runs", "list"]]) {
    const result = await runCli(args, env);
    assertInert(result, args);
    assert.equal(result.stdout.trimEnd().split("\n").length, 1, result.stdout);
  }
});
