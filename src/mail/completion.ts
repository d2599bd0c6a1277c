/**
 * The completion report of a run, mailed to the record's `emailTo` after every run
 * of a stored record (schedule, Run Now, webhook, API, approval): status, counts,
 * the file's name, size and SHA-256, the duration, the first errors by line and
 * field, and a link to the run page. It never holds values from the file: row
 * errors are written by the engine without values of personal fields, and the
 * rows' cells (`run_errors.row`) are not read here.
 *
 * Sending is claimed on the run row (`email_status`), so a report goes out once
 * even when several processes try: `sending` while a process sends (with
 * `lease_expires_at` as the send's lease), then `sent`, `failed` (with
 * `email_error`, retried by the hourly process up to {@linkcode MAX_EMAIL_ATTEMPTS}
 * attempts in all), or `logged` when no SMTP server is configured. A failed send
 * never changes the run's status.
 *
 * Every text taken from stored data — the record's name, the run's message, the
 * file name, error and note messages — is made single-line first
 * ({@linkcode escapeControls}: a line end reads `\x0d\x0a`), so none can add a line
 * of its own to the subject or the text body (a name saved with CR/LF before such
 * names were refused could otherwise put a `Bcc:`-looking line in the body).
 */
import { escapeControls } from "../util/text.ts";
import { localTime } from "../util/time.ts";

import { and, eq, isNull, lt, or, sql } from "drizzle-orm";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import { runErrors, runs } from "../db/schema/autocomm.ts";
import { errorText, type Logger } from "../log.ts";
import { notifyHost } from "../host/callback.ts";
import { getRun } from "../pipeline/launch.ts";
import { runReport } from "../pipeline/service.ts";
import type { RunReport } from "../pipeline/run_store.ts";
import { statusWords } from "../pipeline/run_state.ts";
import type { Mailer, MailMessage } from "./mailer.ts";

/** Errors listed in a report. */
export const REPORT_ERROR_LIMIT = 50;
/** Sends tried per run, the first included, before the hourly process gives up. */
export const MAX_EMAIL_ATTEMPTS = 25;
/** How long one send may hold its claim before another process may retry it. */
const SEND_LEASE_SECONDS = 300;

/** What reporting needs (with the callback's settings, the host is notified too). */
export interface MailDeps {
  db: Db;
  config:
    & Pick<Config, "publicUrl" | "timeZone">
    & Partial<Pick<Config, "hostCallbackUrl" | "hostCallbackSecret">>;
  logger: Logger;
  mailer: Mailer;
}

export type { RunReport };

/** Options of {@linkcode composeCompletionReport}. */
export interface ComposeOptions {
  recordName: string;
  /** Addresses of the message. */
  to: string;
  /** Base URL of the run page links, without a trailing slash. */
  publicUrl: string;
  /** Time zone the times are shown in. */
  timeZone: string;
  /** All row errors of the run (the report lists at most {@linkcode REPORT_ERROR_LIMIT}). */
  totalErrors: number;
}

/** A status as the report words it (`STATUS_WORDING` of `run_state.ts`, the one table of them). */
export function statusLabel(status: string): string {
  return statusWords(status, "mail");
}

function zonedTime(iso: string | null, timeZone: string): string {
  return iso === null ? "—" : `${localTime(iso, timeZone)} (${timeZone})`;
}

/** A duration as `1 h 2 min 3.4 s`. */
export function formatDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = Math.round(s % 60);
  return h > 0 ? `${h} h ${m} min ${rest} s` : `${m} min ${rest} s`;
}

function formatSize(bytes: number | null): string {
  if (bytes === null) return "—";
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ["KiB", "MiB", "GiB"];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]} (${bytes} bytes)`;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

const COUNT_LABELS: [keyof RunReport["counts"], string][] = [
  ["read", "Records read"],
  ["inserted", "Inserted"],
  ["updated", "Updated"],
  ["unchanged", "Unchanged"],
  ["skipped", "Skipped (existing, not updated)"],
  ["rejected", "Rejected"],
  ["removed", "Removed"],
  ["inactivated", "Inactivated"],
  ["blankLines", "Blank lines"],
  ["shortRows", "Short rows"],
];

/** Stored text as one line: every control character escaped. */
const oneLine = (text: string): string => escapeControls(text);

/** The subject, text and HTML of a run's completion report. */
export function composeCompletionReport(report: RunReport, options: ComposeOptions): MailMessage {
  const c = report.counts;
  const recordName = oneLine(options.recordName);
  const label = statusLabel(report.status);
  const removed = c.removed > 0 ? `, ${c.removed} removed` : "";
  const subject = `AutoComm: ${recordName} ${label.replace(/ \(.*\)$/, "")} — ` +
    `${c.read} read, ${c.inserted} inserted, ${c.updated} updated, ${c.rejected} rejected${removed}`;
  const link = `${options.publicUrl}/runs/${report.runId}`;
  const duration = report.startedAt !== null && report.endedAt !== null
    ? formatDuration(Date.parse(report.endedAt) - Date.parse(report.startedAt))
    : "—";
  const facts: [string, string][] = [
    ["Record", recordName],
    ["Run", `${report.runId} (${oneLine(report.trigger).replace(/_/g, " ")})`],
    ["Status", oneLine(label)],
    ...(report.message ? [["Message", oneLine(report.message)] as [string, string]] : []),
    ["Started", zonedTime(report.startedAt, options.timeZone)],
    ["Ended", zonedTime(report.endedAt, options.timeZone)],
    ["Duration", duration],
    ["File", report.file.name === null ? "—" : oneLine(report.file.name)],
    ["Size", formatSize(report.file.size)],
    ["SHA-256", report.file.sha256 ?? "—"],
  ];
  const shown = report.errors.slice(0, REPORT_ERROR_LIMIT).map((e) => ({
    line: e.line,
    field: oneLine(e.field),
    code: oneLine(e.code),
    message: oneLine(e.message),
  }));
  const notes = report.notes.map((n) => ({
    line: "line" in n && n.line !== null && n.line !== undefined ? n.line : null,
    message: oneLine(n.message),
  }));
  const errorTitle = options.totalErrors > shown.length
    ? `Errors (the first ${shown.length} of ${options.totalErrors}, by line)`
    : `Errors (${options.totalErrors})`;

  const text: string[] = ["AutoComm completion report", ""];
  const width = Math.max(...facts.map(([k]) => k.length)) + 2;
  for (const [k, v] of facts) text.push(`${`${k}:`.padEnd(width)}${v}`);
  text.push("", "Counts");
  for (const [key, name] of COUNT_LABELS) text.push(`  ${name.padEnd(34)}${c[key]}`);
  if (shown.length > 0) {
    text.push("", errorTitle);
    for (const e of shown) {
      text.push(`  Line ${e.line}${e.field ? `, ${e.field}` : ""} [${e.code}]: ${e.message}`);
    }
  }
  if (notes.length > 0) {
    text.push("", "Notes");
    for (const n of notes) text.push(`  ${n.line !== null ? `Line ${n.line}: ` : ""}${n.message}`);
  }
  text.push("", `Run page: ${link}`, "");

  const h: string[] = [
    `<!doctype html><html><body style="font-family: sans-serif">`,
    `<h1 style="font-size: 1.2em">AutoComm completion report: ${escapeHtml(recordName)}</h1>`,
    `<table cellpadding="3">`,
    ...facts.map(([k, v]) =>
      `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`
    ),
    `</table>`,
    `<h2 style="font-size: 1.1em">Counts</h2><table cellpadding="3">`,
    ...COUNT_LABELS.map(([key, name]) =>
      `<tr><th align="left">${escapeHtml(name)}</th><td align="right">${c[key]}</td></tr>`
    ),
    `</table>`,
  ];
  if (shown.length > 0) {
    h.push(
      `<h2 style="font-size: 1.1em">${escapeHtml(errorTitle)}</h2>`,
      `<table cellpadding="3" border="1" style="border-collapse: collapse">`,
      `<tr><th>Line</th><th>Field</th><th>Code</th><th>Message</th></tr>`,
      ...shown.map((e) =>
        `<tr><td align="right">${e.line}</td><td>${escapeHtml(e.field)}</td><td>${
          escapeHtml(e.code)
        }</td><td>${escapeHtml(e.message)}</td></tr>`
      ),
      `</table>`,
    );
  }
  if (notes.length > 0) {
    h.push(
      `<h2 style="font-size: 1.1em">Notes</h2><ul>`,
      ...notes.map((n) =>
        `<li>${n.line !== null ? `Line ${n.line}: ` : ""}${escapeHtml(n.message)}</li>`
      ),
      `</ul>`,
    );
  }
  h.push(`<p><a href="${escapeHtml(link)}">Open the run page</a></p>`, `</body></html>`);
  return { to: options.to, subject, text: text.join("\n"), html: h.join("\n") };
}

/** What {@linkcode sendCompletionReport} did. */
export type ReportOutcome =
  | "sent"
  | "logged"
  | "failed"
  /** Not a run that gets a report: a preview, a one-off import, no `emailTo`, not finished. */
  | "not_applicable"
  /** Another attempt holds or finished the send. */
  | "claimed_elsewhere";

/** Options of {@linkcode sendCompletionReport}. */
export interface SendReportOptions {
  /** A retry of a failed send (the hourly process); default false: the first send. */
  retry?: boolean;
  /** The current instant. */
  now?: Date;
}

const NOT_FINISHED = new Set(["queued", "running", "waiting"]);

/**
 * Reports a finished run: mails its completion report to its record's `emailTo` (as
 * the run snapshotted it) and, at the same time, makes the first attempt of the host's
 * completion callback when `AUTOCOMM_HOST_CALLBACK_URL` is set (`src/host/callback.ts`;
 * not on a retry, which is the e-mail's alone). Suitable as the run queue's
 * `onFinished`; every place that reports a finished run calls it. Never throws for a
 * send or delivery failure: the failure is recorded for the hourly retry. Returns what
 * happened to the e-mail.
 */
export async function sendCompletionReport(
  deps: MailDeps,
  runId: number,
  options: SendReportOptions = {},
): Promise<ReportOutcome> {
  if (options.retry) return await mailCompletionReport(deps, runId, options);
  const [outcome] = await Promise.all([
    mailCompletionReport(deps, runId, options),
    notifyHostQuietly(deps, runId, options.now),
  ]);
  return outcome;
}

/** The host callback's first attempt; a database failure is logged, never thrown. */
async function notifyHostQuietly(deps: MailDeps, runId: number, now?: Date): Promise<void> {
  try {
    await notifyHost(
      {
        db: deps.db,
        logger: deps.logger,
        config: {
          hostCallbackUrl: deps.config.hostCallbackUrl,
          hostCallbackSecret: deps.config.hostCallbackSecret,
        },
      },
      runId,
      now ? { now } : {},
    );
  } catch (error) {
    deps.logger.error("host_callback_error", { runId, error: errorText(error) });
  }
}

/** The e-mail part of {@linkcode sendCompletionReport}. */
async function mailCompletionReport(
  deps: MailDeps,
  runId: number,
  options: SendReportOptions,
): Promise<ReportOutcome> {
  const now = options.now ?? new Date();
  const run = await getRun(deps.db, runId);
  if (!run || run.preview || run.recordId === null || NOT_FINISHED.has(run.status)) {
    return "not_applicable";
  }
  const settings = run.options as { emailTo?: unknown; recordName?: unknown };
  const to = typeof settings.emailTo === "string" ? settings.emailTo.trim() : "";
  if (to === "") return "not_applicable";

  const claimable = options.retry
    ? or(
      and(eq(runs.emailStatus, "failed"), lt(runs.emailAttempts, MAX_EMAIL_ATTEMPTS)),
      and(eq(runs.emailStatus, "sending"), lt(runs.leaseExpiresAt, now.toISOString())),
    )
    : isNull(runs.emailStatus);
  const claimed = await deps.db.update(runs).set({
    emailStatus: "sending",
    emailAttempts: sql`${runs.emailAttempts} + 1`,
    leaseExpiresAt: new Date(now.getTime() + SEND_LEASE_SECONDS * 1000).toISOString(),
  }).where(and(eq(runs.id, runId), claimable)).returning({ attempts: runs.emailAttempts });
  if (claimed.length === 0) return "claimed_elsewhere";

  const report = await runReport(deps.db, runId, { errorLimit: REPORT_ERROR_LIMIT });
  const [total] = await deps.db.select({ n: sql<number>`count(*)` }).from(runErrors).where(
    eq(runErrors.runId, runId),
  );
  const message = composeCompletionReport(report, {
    recordName: typeof settings.recordName === "string" && settings.recordName !== ""
      ? settings.recordName
      : `record ${run.recordId}`,
    to,
    publicUrl: deps.config.publicUrl,
    timeZone: deps.config.timeZone,
    totalErrors: Number(total?.n ?? 0),
  });
  try {
    await deps.mailer.send(message);
  } catch (error) {
    const text = (error instanceof Error ? error.message : String(error)).slice(0, 500);
    await deps.db.update(runs).set({
      emailStatus: "failed",
      emailError: text,
      leaseExpiresAt: null,
    }).where(and(eq(runs.id, runId), eq(runs.emailStatus, "sending")));
    deps.logger.warn("report_send_failed", {
      runId,
      attempt: claimed[0]!.attempts,
      error: text,
    });
    return "failed";
  }
  const outcome = deps.mailer.kind === "log" ? "logged" : "sent";
  await deps.db.update(runs).set({ emailStatus: outcome, emailError: null, leaseExpiresAt: null })
    .where(and(eq(runs.id, runId), eq(runs.emailStatus, "sending")));
  deps.logger.info("report_sent", { runId, outcome, attempt: claimed[0]!.attempts });
  return outcome;
}

/** What {@linkcode retryUnsentReports} did. */
export interface RetryResult {
  sent: number[];
  failed: number[];
}

/**
 * Retries the reports whose send failed (and sends abandoned by a process that
 * died): the hourly process's job.
 */
export async function retryUnsentReports(deps: MailDeps, now: Date): Promise<RetryResult> {
  const due = await deps.db.select({ id: runs.id }).from(runs).where(or(
    and(eq(runs.emailStatus, "failed"), lt(runs.emailAttempts, MAX_EMAIL_ATTEMPTS)),
    and(eq(runs.emailStatus, "sending"), lt(runs.leaseExpiresAt, now.toISOString())),
  )).orderBy(runs.id);
  const result: RetryResult = { sent: [], failed: [] };
  for (const { id } of due) {
    const outcome = await mailCompletionReport(deps, id, { retry: true, now });
    if (outcome === "sent" || outcome === "logged") result.sent.push(id);
    else if (outcome === "failed") result.failed.push(id);
  }
  return result;
}
