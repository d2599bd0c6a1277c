/**
 * The completion callback: with `AUTOCOMM_HOST_CALLBACK_URL` set, each finished run of
 * a stored record is POSTed to the host SIS as JSON, signed like the Run Now webhook
 * with `AUTOCOMM_HOST_CALLBACK_SECRET` (`src/util/signature.ts`).
 *
 * Rules:
 * - Which runs: every run of a stored record that ends with a final status —
 *   `succeeded`, `succeeded_with_errors`, `rejected`, `empty`, `no_file`, `failed`,
 *   `held`, `interrupted` — sent from where its completion e-mail is sent
 *   (`src/mail/completion.ts`), whether or not the record mails one. Not previews, not
 *   one-off `autocomm import` runs (their changes are in the feed all the same). A held
 *   run is notified once, as held: its approval is a run of its own with its own
 *   callback, and a discard changes nothing.
 * - The body: `{runId, recordId, recordName, schoolId, table, status, counts: {read,
 *   inserted, updated, unchanged, skipped, rejected, removed, inactivated},
 *   changesCursor, finishedAt}`; `status` is the run's status when the attempt is made,
 *   `changesCursor` the change feed's cursor just after the run's entries (null when
 *   the run committed no change). No values of personal fields.
 * - Headers: `X-AutoComm-Timestamp` (the attempt's time), `X-AutoComm-Delivery`
 *   (`run-<runId>-<first attempt, YYYYMMDDTHHMMSSZ>`: the same for every attempt of one
 *   run's callback, so a host that already processed it answers 2xx again),
 *   `X-AutoComm-Signature` over `<timestamp>.<delivery>.<path>.<body>` with the callback
 *   URL's path.
 * - Delivery: one attempt right after the run (10 s timeout). A 2xx answer delivers it;
 *   anything else — another status, a timeout, a network error — leaves it `pending`,
 *   retried by the hourly process with growing pauses (1, 2, 4, 8 hours), the last
 *   attempt 24 hours after the first; a failure then gives up (`failed`, logged). It
 *   never changes the run's status.
 * - Claims: the first attempt inserts the run's row of `host_callbacks`, and each retry
 *   claims it with a conditional update, so two processes never send the same attempt.
 *   An attempt's claim lasts {@linkcode CLAIM_SECONDS}; one left by a process that died
 *   is retried.
 * - Logged: run id, attempt, HTTP status or network error; never the body.
 */
import { and, eq, lt, lte, or, sql } from "drizzle-orm";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import { hostCallbacks } from "../db/schema/autocomm.ts";
import { errorText, type Logger } from "../log.ts";
import { getRun } from "../pipeline/launch.ts";
import { signedHeaders } from "../util/signature.ts";
import { VERSION } from "../version.ts";
import { cursorAfterRun } from "./feed.ts";

/** How long an attempt waits for the host's answer. */
export const CALLBACK_TIMEOUT_MS = 10_000;
/** How long after the first attempt the last one is made. */
export const CALLBACK_GIVE_UP_MS = 24 * 3600 * 1000;
/** How long an attempt holds its claim on the delivery. */
const CLAIM_SECONDS = 60;
/** Pause after the n-th failed attempt (1-based): 1, 2, 4, 8, 8, … hours. */
export function retryPauseMs(attempts: number): number {
  return Math.min(2 ** Math.max(attempts - 1, 0), 8) * 3600 * 1000;
}

/** What the callback needs. */
export interface CallbackDeps {
  db: Db;
  config: Pick<Config, "hostCallbackUrl" | "hostCallbackSecret">;
  logger: Logger;
  /** How long an attempt waits for an answer; default {@linkcode CALLBACK_TIMEOUT_MS}. */
  timeoutMs?: number;
}

/** A run's callback as stored. */
export type HostCallbackRow = typeof hostCallbacks.$inferSelect;

/** What an attempt did. */
export type CallbackOutcome =
  | "delivered"
  | "pending"
  | "failed"
  /** No callback URL configured. */
  | "off"
  /** Not a run that gets a callback: a preview, a one-off import, not finished. */
  | "not_applicable"
  /** Another attempt holds or finished the delivery. */
  | "claimed_elsewhere";

const NOT_FINISHED = new Set(["queued", "running", "waiting"]);

type RunRow = NonNullable<Awaited<ReturnType<typeof getRun>>>;

/** The JSON body of a run's callback. */
export function callbackPayload(run: RunRow) {
  const recordName = (run.options as { recordName?: unknown }).recordName;
  return {
    runId: run.id,
    recordId: run.recordId,
    recordName: typeof recordName === "string" ? recordName : null,
    schoolId: run.schoolId,
    table: run.table,
    status: run.status,
    counts: {
      read: run.read,
      inserted: run.inserted,
      updated: run.updated,
      unchanged: run.unchanged,
      skipped: run.skipped,
      rejected: run.rejected,
      removed: run.removed,
      inactivated: run.inactivated,
    },
    changesCursor: cursorAfterRun(run),
    finishedAt: run.endedAt,
  };
}

/** The delivery id of a run's callback: the same for every attempt. */
export function callbackDeliveryId(runId: number, firstAttemptAt: string): string {
  return `run-${runId}-${firstAttemptAt.replace(/\.\d+/, "").replace(/[-:]/g, "")}`;
}

/** The run's callback row, if an attempt was made. */
export async function hostCallbackOf(db: Db, runId: number): Promise<HostCallbackRow | undefined> {
  const [row] = await db.select().from(hostCallbacks).where(eq(hostCallbacks.runId, runId));
  return row;
}

/** A run's callback as the API shows it (null: none attempted). */
export function callbackJson(row: HostCallbackRow | undefined) {
  if (!row) return null;
  return {
    status: row.status as "sending" | "pending" | "delivered" | "failed",
    attempts: row.attempts,
    firstAttemptAt: row.firstAttemptAt,
    nextAttemptAt: row.nextAttemptAt,
    lastError: row.lastError,
    deliveredAt: row.deliveredAt,
  };
}

/** POSTs the body; undefined when the host answered 2xx, else what went wrong. */
async function post(
  deps: CallbackDeps,
  request: { body: string; delivery: string },
): Promise<string | undefined> {
  const url = new URL(deps.config.hostCallbackUrl!);
  const timeoutMs = deps.timeoutMs ?? CALLBACK_TIMEOUT_MS;
  const headers = {
    "content-type": "application/json",
    "user-agent": `AutoComm/${VERSION}`,
    ...signedHeaders(deps.config.hostCallbackSecret!, { ...request, path: url.pathname }),
  };
  try {
    const response = await fetch(url, {
      method: "POST",
      headers,
      body: request.body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel().catch(() => {});
    if (response.ok) return undefined;
    return `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
  } catch (error) {
    if (error instanceof DOMException && error.name === "TimeoutError") {
      return `No answer within ${timeoutMs / 1000} s`;
    }
    return errorText(error).slice(0, 300);
  }
}

/** Makes the claimed attempt and records its outcome. */
async function attempt(
  deps: CallbackDeps,
  run: RunRow,
  claim: { attempts: number; firstAttemptAt: string; now: Date },
): Promise<CallbackOutcome> {
  const { db, logger } = deps;
  const delivery = callbackDeliveryId(run.id, claim.firstAttemptAt);
  const problem = await post(deps, { body: JSON.stringify(callbackPayload(run)), delivery });
  const mine = and(eq(hostCallbacks.runId, run.id), eq(hostCallbacks.status, "sending"));
  if (problem === undefined) {
    await db.update(hostCallbacks).set({
      status: "delivered",
      deliveredAt: new Date().toISOString(),
      nextAttemptAt: null,
      lastError: null,
    }).where(mine);
    logger.info("host_callback_delivered", { runId: run.id, attempt: claim.attempts, delivery });
    return "delivered";
  }
  const last = Date.parse(claim.firstAttemptAt) + CALLBACK_GIVE_UP_MS;
  const now = claim.now.getTime();
  if (now >= last) {
    await db.update(hostCallbacks).set({
      status: "failed",
      lastError: problem,
      nextAttemptAt: null,
    })
      .where(mine);
    logger.error("host_callback_given_up", {
      runId: run.id,
      attempts: claim.attempts,
      error: problem,
    });
    return "failed";
  }
  const next = new Date(Math.min(now + retryPauseMs(claim.attempts), last)).toISOString();
  await db.update(hostCallbacks).set({ status: "pending", lastError: problem, nextAttemptAt: next })
    .where(mine);
  logger.warn("host_callback_failed", {
    runId: run.id,
    attempt: claim.attempts,
    error: problem,
    retryAt: next,
  });
  return "pending";
}

/** Whether a run gets a callback. */
function applicable(run: RunRow | undefined): run is RunRow {
  return run !== undefined && !run.preview && run.recordId !== null &&
    !NOT_FINISHED.has(run.status);
}

/**
 * The first attempt of a finished run's callback (see the module's rules). Never
 * throws for a delivery failure: it is recorded for the hourly retry.
 */
export async function notifyHost(
  deps: CallbackDeps,
  runId: number,
  options: { now?: Date } = {},
): Promise<CallbackOutcome> {
  if (deps.config.hostCallbackUrl === undefined) return "off";
  const now = options.now ?? new Date();
  const run = await getRun(deps.db, runId);
  if (!applicable(run)) return "not_applicable";
  const firstAttemptAt = now.toISOString();
  const claimed = await deps.db.insert(hostCallbacks).values({
    runId,
    status: "sending",
    attempts: 1,
    firstAttemptAt,
    nextAttemptAt: new Date(now.getTime() + CLAIM_SECONDS * 1000).toISOString(),
  }).onConflictDoNothing().returning({ runId: hostCallbacks.runId });
  if (claimed.length === 0) return "claimed_elsewhere";
  return await attempt(deps, run, { attempts: 1, firstAttemptAt, now });
}

/** Deliveries due at `now`: pending ones whose time came, and attempts whose claim ended. */
function due(now: Date) {
  const at = now.toISOString();
  return or(
    and(eq(hostCallbacks.status, "pending"), lte(hostCallbacks.nextAttemptAt, at)),
    and(eq(hostCallbacks.status, "sending"), lt(hostCallbacks.nextAttemptAt, at)),
  );
}

/** What {@linkcode retryHostCallbacks} did. */
export interface CallbackRetryResult {
  delivered: number[];
  pending: number[];
  failed: number[];
}

/** Retries the callbacks that are due: the hourly process's job. */
export async function retryHostCallbacks(
  deps: CallbackDeps,
  now: Date,
): Promise<CallbackRetryResult> {
  const result: CallbackRetryResult = { delivered: [], pending: [], failed: [] };
  if (deps.config.hostCallbackUrl === undefined) return result;
  const rows = await deps.db.select({ runId: hostCallbacks.runId }).from(hostCallbacks)
    .where(due(now)).orderBy(hostCallbacks.runId);
  for (const { runId } of rows) {
    const [claim] = await deps.db.update(hostCallbacks).set({
      status: "sending",
      attempts: sql`${hostCallbacks.attempts} + 1`,
      nextAttemptAt: new Date(now.getTime() + CLAIM_SECONDS * 1000).toISOString(),
    }).where(and(eq(hostCallbacks.runId, runId), due(now))).returning();
    if (!claim) continue;
    const run = await getRun(deps.db, runId);
    if (!run) {
      // Deleted by retention meanwhile: nothing to tell.
      await deps.db.delete(hostCallbacks).where(eq(hostCallbacks.runId, runId));
      continue;
    }
    const outcome = await attempt(deps, run, { ...claim, now });
    if (outcome === "delivered" || outcome === "pending" || outcome === "failed") {
      result[outcome].push(runId);
    }
  }
  return result;
}
