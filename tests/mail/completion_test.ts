import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { runs } from "../../src/db/schema/autocomm.ts";
import {
  composeCompletionReport,
  MAX_EMAIL_ATTEMPTS,
  type RunReport,
  sendCompletionReport,
} from "../../src/mail/completion.ts";
import { queueRecordRun } from "../../src/pipeline/service.ts";
import { runHourly } from "../../src/schedule/hourly.ts";
import { tick } from "../../src/schedule/tick.ts";
import { fixture } from "../schedule/fixture.ts";
import { freePort, startSmtpServer } from "../support/smtp.ts";

/** Teachers with one row missing its last name; "Zelda" is a personal value. */
const FILE = "T1\tAnn\tLee\nT2\tZelda\n";

function report(over: Partial<RunReport> = {}): RunReport {
  return {
    runId: 9,
    recordId: 1,
    status: "succeeded_with_errors",
    trigger: "run_now",
    message: null,
    file: { name: "teachers.txt", size: 2048, sha256: "ab".repeat(32) },
    startedAt: "2026-03-10T15:05:00.000Z",
    endedAt: "2026-03-10T15:06:03.500Z",
    counts: {
      read: 70,
      inserted: 10,
      updated: 0,
      unchanged: 0,
      skipped: 0,
      rejected: 60,
      removed: 0,
      inactivated: 0,
      blankLines: 1,
      shortRows: 0,
    },
    errors: Array.from({ length: 60 }, (_, i) => ({
      line: i + 2,
      field: "Email_Addr",
      code: "too_long",
      message: "Email_Addr: longer than 50 characters <b>",
    })),
    notes: [{ code: "header_skipped", message: "Line 1 is a header row; skipped", line: 1 }],
    ...over,
  };
}

Deno.test("a completion report lists status, counts, file, duration, the first 50 errors and a link", () => {
  const mail = composeCompletionReport(report(), {
    recordName: "Teachers <HS>",
    to: "a@example.org",
    publicUrl: "https://autocomm.example.org",
    timeZone: "America/Chicago",
    totalErrors: 60,
  });
  assert.equal(
    mail.subject,
    "AutoComm: Teachers <HS> succeeded with errors — 70 read, 10 inserted, 0 updated, 60 rejected",
  );
  assert.match(mail.text, /Started: +2026-03-10 10:05:00 \(America\/Chicago\)/);
  assert.match(mail.text, /Duration: +1 min 4 s/);
  assert.match(mail.text, /Size: +2\.0 KiB \(2048 bytes\)/);
  assert.match(mail.text, new RegExp(`SHA-256: +${"ab".repeat(32)}`));
  assert.match(mail.text, /Errors \(the first 50 of 60, by line\)/);
  assert.match(mail.text, /Line 51, Email_Addr \[too_long\]/);
  assert.doesNotMatch(mail.text, /Line 52,/);
  assert.match(mail.text, /Line 1: Line 1 is a header row; skipped/);
  assert.match(mail.text, /Run page: https:\/\/autocomm\.example\.org\/runs\/9/);
  assert.match(mail.html, /Teachers &lt;HS&gt;/);
  assert.match(mail.html, /longer than 50 characters &lt;b&gt;/);
  assert.doesNotMatch(mail.html, /<b>/);
  assert.match(mail.html, /href="https:\/\/autocomm\.example\.org\/runs\/9"/);
  assert.equal((mail.html.match(/<td align="right">\d+<\/td><td>Email_Addr/g) ?? []).length, 50);
});

Deno.test("a scheduled run mails its completion report, without values from the file", async () => {
  await using smtp = await startSmtpServer();
  await using f = await fixture({
    env: { SMTP_URL: smtp.url, SMTP_FROM: "autocomm@district.org" },
  });
  const record = await f.addRecord({ emailTo: "a@example.org, b@example.org" });
  await f.write("teachers.txt", FILE);
  const result = await tick(f.deps, new Date("2026-03-10T10:05:00Z"));
  const runId = result.claimed[0]!.runId;
  await f.queue.idle();
  const [mail] = await smtp.waitFor(1);
  const run = await f.run(runId);
  assert.equal(run.status, "succeeded_with_errors");
  assert.equal(run.emailStatus, "sent");
  assert.equal(run.emailAttempts, 1);
  assert.equal(
    mail!.subject,
    `AutoComm: ${record.name} succeeded with errors — 2 read, 1 inserted, 0 updated, 1 rejected`,
  );
  assert.equal(mail!.from?.text, "autocomm@district.org");
  assert.equal(
    mail!.to && !Array.isArray(mail!.to) ? mail!.to.text : "",
    "a@example.org, b@example.org",
  );
  const text = mail!.text ?? "";
  assert.match(text, /File: +teachers\.txt/);
  assert.match(text, new RegExp(`Size: +${run.fileSize} bytes`));
  assert.match(text, new RegExp(`SHA-256: +${run.fileSha256}`));
  assert.match(text, /Duration: +\d+\.\d s/);
  assert.match(text, /Records read +2/);
  assert.match(text, /Line 2, Last_Name \[missing_required\]/);
  assert.match(text, new RegExp(`https://autocomm\\.example\\.org/runs/${runId}`));
  assert.match(String(mail!.html), /<th>Line<\/th><th>Field<\/th>/);
  // The rejected row's cells are kept for the CSV, never mailed.
  for (const body of [text, String(mail!.html), mail!.subject ?? ""]) {
    assert.doesNotMatch(body, /Zelda/);
  }
});

Deno.test("a failed send is recorded on the run, never changes its status, and the hourly process retries it", async () => {
  await using smtp = await startSmtpServer({ reject: true });
  await using f = await fixture({ env: { SMTP_URL: smtp.url } });
  const record = await f.addRecord({ emailTo: "a@example.org" });
  await f.write("teachers.txt", FILE);
  const runId = await queueRecordRun(f.deps, record.id, { trigger: "run_now" });
  f.queue.enqueue(runId);
  await f.queue.idle();
  const failed = await f.run(runId);
  assert.equal(failed.status, "succeeded_with_errors");
  assert.equal(failed.emailStatus, "failed");
  assert.match(failed.emailError ?? "", /550|Mailbox unavailable/);
  assert.equal(failed.emailAttempts, 1);
  assert.equal(smtp.messages.length, 0);
  assert.ok(f.logger.events.some((e) => e.event === "report_send_failed"));

  smtp.reject = false;
  const hourly = await tick(f.deps, new Date("2026-03-10T11:00:00Z"));
  await hourly.reports;
  await smtp.waitFor(1);
  const sent = await f.run(runId);
  assert.equal(sent.status, "succeeded_with_errors");
  assert.equal(sent.emailStatus, "sent");
  assert.equal(sent.emailError, null);
  assert.equal(sent.emailAttempts, 2);
  // Nothing is sent twice.
  await (await tick(f.deps, new Date("2026-03-10T12:00:00Z"))).reports;
  assert.equal(smtp.messages.length, 1);
});

Deno.test("a report that could not reach the server is sent by the hourly process once it is back", async () => {
  const port = await freePort();
  await using f = await fixture({ env: { SMTP_URL: `smtp://127.0.0.1:${port}` } });
  const record = await f.addRecord({ emailTo: "a@example.org" });
  await f.write("teachers.txt", FILE);
  const runId = await queueRecordRun(f.deps, record.id, { trigger: "webhook" });
  f.queue.enqueue(runId);
  await f.queue.idle();
  const failed = await f.run(runId);
  assert.equal(failed.emailStatus, "failed");
  assert.match(failed.emailError ?? "", /ECONNREFUSED|connect|refused/i);

  await using smtp = await startSmtpServer({ port });
  const result = await runHourly(f.deps, new Date());
  assert.deepEqual(result.reports, { sent: [runId], failed: [] });
  const [mail] = await smtp.waitFor(1);
  assert.match(mail!.subject ?? "", new RegExp(record.name));
  assert.equal((await f.run(runId)).emailStatus, "sent");
});

Deno.test("the hourly process stops retrying a report after the last attempt", async () => {
  const port = await freePort();
  await using f = await fixture({ env: { SMTP_URL: `smtp://127.0.0.1:${port}` } });
  const record = await f.addRecord({ emailTo: "a@example.org" });
  const runId = await queueRecordRun(f.deps, record.id, { trigger: "run_now" });
  await f.db.update(runs).set({
    status: "no_file",
    emailStatus: "failed",
    emailAttempts: MAX_EMAIL_ATTEMPTS,
  }).where(eq(runs.id, runId));
  const result = await runHourly(f.deps, new Date());
  assert.deepEqual(result.reports, { sent: [], failed: [] });
});

Deno.test("a report is sent once even when two processes try at the same time", async () => {
  await using smtp = await startSmtpServer();
  await using f = await fixture({ env: { SMTP_URL: smtp.url } });
  const record = await f.addRecord({ emailTo: "a@example.org" });
  await f.write("teachers.txt", FILE);
  const runId = await queueRecordRun(f.deps, record.id, { trigger: "run_now" });
  f.queue.enqueue(runId);
  await f.queue.idle();
  await smtp.waitFor(1);
  // The queue's own send happened; as if it had not, two processes try at once.
  await f.db.update(runs).set({ emailStatus: null }).where(eq(runs.id, runId));
  const outcomes = await Promise.all([
    sendCompletionReport(f.deps, runId),
    sendCompletionReport(f.deps, runId),
  ]);
  assert.deepEqual(outcomes.sort(), ["claimed_elsewhere", "sent"]);
  await smtp.waitFor(2);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(smtp.messages.length, 2);
  assert.equal((await f.run(runId)).emailAttempts, 2);
});

Deno.test("previews, runs without addresses and waiting runs get no report", async () => {
  await using smtp = await startSmtpServer();
  await using f = await fixture({ env: { SMTP_URL: smtp.url } });
  const silent = await f.addRecord({ emailTo: "" });
  const waiting = await f.addRecord({ emailTo: "a@example.org", minFileAgeSeconds: 3600 });
  const previewed = await f.addRecord({ emailTo: "a@example.org", hour: 3 });
  await f.write("teachers.txt", FILE);
  const a = await queueRecordRun(f.deps, silent.id, { trigger: "run_now" });
  const b = await queueRecordRun(f.deps, waiting.id, { trigger: "run_now" });
  const c = await queueRecordRun(f.deps, previewed.id, { trigger: "run_now", preview: true });
  for (const id of [a, b, c]) f.queue.enqueue(id);
  await f.queue.idle();
  assert.equal((await f.run(b)).status, "waiting");
  assert.equal((await f.run(c)).status, "preview");
  for (const id of [a, b, c]) {
    assert.equal(await sendCompletionReport(f.deps, id), "not_applicable");
    assert.equal((await f.run(id)).emailStatus, null);
  }
  assert.equal(smtp.messages.length, 0);
});

Deno.test("without SMTP_URL the report is written to the log", async () => {
  await using f = await fixture();
  assert.equal(f.mailer.kind, "log");
  const record = await f.addRecord({ emailTo: "a@example.org" });
  await f.write("teachers.txt", FILE);
  const runId = await queueRecordRun(f.deps, record.id, { trigger: "run_now" });
  f.queue.enqueue(runId);
  await f.queue.idle();
  const run = await f.run(runId);
  assert.equal(run.emailStatus, "logged");
  const logged = f.logger.events.find((e) => e.event === "mail_not_sent");
  assert.ok(logged);
  assert.equal(logged.data["to"], "a@example.org");
  assert.match(String(logged.data["subject"]), new RegExp(record.name));
  assert.match(String(logged.data["text"]), /Line 2, Last_Name \[missing_required\]/);
  assert.doesNotMatch(JSON.stringify(f.logger.events), /Zelda/);
});
