/**
 * The Run Now webhook: `POST /hooks/run-now/{recordId}`, signed with
 * `AUTOCOMM_WEBHOOK_SECRET`.
 *
 * Headers:
 * - `X-AutoComm-Timestamp`: unix seconds; at most 300 s from the service's clock;
 * - `X-AutoComm-Delivery`: a unique id (1–200 visible ASCII characters, no `.`),
 *   accepted once;
 * - `X-AutoComm-Signature`: `sha256=` and the hex HMAC-SHA256, keyed with the
 *   secret, of `<timestamp>.<delivery>.<path>.<raw body>`, where the path is
 *   `/hooks/run-now/<recordId>` (the body may be empty). Signing the delivery id
 *   and the path binds a signature to one delivery and one record. The scheme is
 *   `src/util/signature.ts`, shared with the completion callback the service sends.
 *
 * A signature is accepted once while its timestamp is in the window, whatever the
 * answer was: the signatures seen are kept in the database (`webhook_signatures`,
 * shared by every process of the service) until their timestamp leaves the window.
 *
 * Answers: 202 `{runId}` (queued); 409 `{error, runId}` when the record already has
 * an active run; 400 a missing or malformed header; 401 a bad signature, a
 * timestamp out of the window, a signature already seen, or a delivery id already
 * used; 404 an unknown record; 413 a body over 64 KiB; 503 when no secret is
 * configured. A delivery id is spent only by a request that queued a run, so a
 * sender may retry a 404 or 409 with the same id, signed again with a new
 * timestamp.
 */
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { eq, lt } from "drizzle-orm";
import type { Config } from "../../config.ts";
import type { Db } from "../../db/client.ts";
import { webhookDeliveries, webhookSignatures } from "../../db/schema/autocomm.ts";
import type { Logger } from "../../log.ts";
import {
  isUniqueViolation,
  RunInProgress,
  RunStateError,
  type StartQueue,
  startRecordRun,
} from "../../pipeline/service.ts";
import { getRecord } from "../../records/store.ts";
import { echo } from "../../util/echo.ts";
import {
  DELIVERY_ID,
  type SignedRequest,
  signRequest,
  verifySignature,
} from "../../util/signature.ts";
import { payloadTooLarge } from "../errors.ts";

export type { SignedRequest };

/** What the webhook needs. */
export interface HooksDeps {
  db: Db;
  config: Config;
  logger: Logger;
  queue: StartQueue;
}

/** Largest body accepted, in bytes. */
export const WEBHOOK_MAX_BODY = 64 * 1024;

/** Seconds a signed request stays valid either side of the service's clock. */
export const WEBHOOK_WINDOW_SECONDS = 300;

/** Seconds a seen signature is kept past its window, for processes whose clocks differ a little. */
const SIGNATURE_MEMORY_MARGIN_SECONDS = 60;

/** The path a request for `recordId` signs: `/hooks/run-now/<recordId>`. */
export function webhookPath(recordId: number | string): string {
  return `/hooks/run-now/${recordId}`;
}

/** The signature of a request (`src/util/signature.ts`, the scheme the callback signs with too). */
export const signWebhook: (secret: string, request: SignedRequest) => string = signRequest;

/** The hex digest of `signature` in lower case when it is the request's (compared in constant time). */
export const verifyWebhookSignature: (
  secret: string,
  request: SignedRequest & { signature: string },
) => string | undefined = verifySignature;

function problem(code: string, message: string) {
  return { error: { code, message } };
}

/** The three signature headers of a request, checked for presence and form. */
type Headers = { timestamp: string; delivery: string; signature: string };

/** The request's signature headers, or the 400 answer naming what is wrong with them. */
function readHeaders(c: Context): Headers | Response {
  const timestamp = c.req.header("x-autocomm-timestamp")?.trim();
  const delivery = c.req.header("x-autocomm-delivery")?.trim();
  const signature = c.req.header("x-autocomm-signature")?.trim();
  const missing = [
    ["X-AutoComm-Timestamp", timestamp],
    ["X-AutoComm-Delivery", delivery],
    ["X-AutoComm-Signature", signature],
  ].filter(([, v]) => !v).map(([name]) => name);
  if (missing.length > 0 || !timestamp || !delivery || !signature) {
    return c.json(problem("missing_header", `Missing header: ${missing.join(", ")}`), 400);
  }
  if (!/^\d{1,12}$/.test(timestamp)) {
    return c.json(
      problem("bad_header", "X-AutoComm-Timestamp must be unix seconds (digits only)"),
      400,
    );
  }
  if (!DELIVERY_ID.test(delivery)) {
    return c.json(
      problem(
        "bad_header",
        "X-AutoComm-Delivery must be 1–200 visible ASCII characters other than '.'",
      ),
      400,
    );
  }
  return { timestamp, delivery, signature };
}

/**
 * Checks the signature and the timestamp's window, then claims the signature against
 * replays (inserted once, whatever the answer; forgotten once the window has passed).
 * Undefined when the request may go on; otherwise the 401 answer.
 */
async function authenticate(
  deps: HooksDeps,
  c: Context,
  request: SignedRequest & Headers & { secret: string },
): Promise<Response | undefined> {
  const { delivery, timestamp } = request;
  const digest = verifySignature(request.secret, request);
  if (digest === undefined) {
    deps.logger.warn("webhook_refused", { reason: "bad_signature", delivery });
    return c.json(
      problem(
        "bad_signature",
        "The signature does not match HMAC-SHA256 of <timestamp>.<delivery>.<path>.<body> (path /hooks/run-now/<recordId>)",
      ),
      401,
    );
  }
  const now = Date.now() / 1000;
  const skew = Math.abs(now - Number(timestamp));
  if (skew > WEBHOOK_WINDOW_SECONDS) {
    deps.logger.warn("webhook_refused", { reason: "stale_timestamp", delivery });
    return c.json(
      problem(
        "stale_timestamp",
        `The timestamp is ${
          Math.round(skew)
        } s from the service's clock (at most ${WEBHOOK_WINDOW_SECONDS} s)`,
      ),
      401,
    );
  }
  await deps.db.delete(webhookSignatures).where(
    lt(webhookSignatures.expiresAt, Math.floor(now) - SIGNATURE_MEMORY_MARGIN_SECONDS),
  );
  try {
    await deps.db.insert(webhookSignatures).values({
      signature: digest,
      expiresAt: Number(timestamp) + WEBHOOK_WINDOW_SECONDS,
    });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    deps.logger.warn("webhook_refused", { reason: "replayed_signature", delivery });
    return c.json(
      problem(
        "replayed_signature",
        "This signature was already used; sign each request anew with a new timestamp",
      ),
      401,
    );
  }
  return undefined;
}

/**
 * Spends the delivery id and queues the record's run: 202 `{runId}`, 401 for a used
 * delivery id, 404 for an unknown record, 409 when it is running. The id is given back
 * when no run was queued, so that the sender may retry with it.
 */
async function queueDelivery(
  deps: HooksDeps,
  c: Context,
  target: { raw: string; delivery: string },
): Promise<Response> {
  const { raw, delivery } = target;
  const recordId = /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
  const record = Number.isSafeInteger(recordId) ? await getRecord(deps.db, recordId) : undefined;
  if (!record) {
    return c.json(problem("not_found", `There is no record ${echo(raw)}`), 404);
  }
  try {
    await deps.db.insert(webhookDeliveries).values({
      deliveryId: delivery,
      recordId,
      receivedAt: new Date().toISOString(),
    });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    deps.logger.warn("webhook_refused", { reason: "replayed_delivery", delivery });
    return c.json(problem("replayed_delivery", "This delivery id was already used"), 401);
  }
  let runId: number;
  try {
    runId = await startRecordRun(deps, recordId, { trigger: "webhook" });
  } catch (error) {
    await deps.db.delete(webhookDeliveries).where(eq(webhookDeliveries.deliveryId, delivery));
    if (error instanceof RunStateError) {
      return c.json(problem("not_found", `There is no record ${echo(raw)}`), 404);
    }
    if (!(error instanceof RunInProgress)) throw error;
    return c.json({
      ...problem("already_running", `The record is already running (run ${error.runId})`),
      runId: error.runId,
    }, 409);
  }
  await deps.db.update(webhookDeliveries).set({ runId }).where(
    eq(webhookDeliveries.deliveryId, delivery),
  );
  deps.logger.info("webhook_run_queued", { recordId, runId, delivery });
  return c.json({ runId }, 202);
}

/** The `/hooks` sub-app. */
export function createHooksApp(deps: HooksDeps): Hono {
  const app = new Hono();
  app.use(
    "/run-now/*",
    bodyLimit({
      maxSize: WEBHOOK_MAX_BODY,
      onError: (c) => {
        const error = payloadTooLarge(WEBHOOK_MAX_BODY);
        return c.json(problem(error.code, error.message), 413);
      },
    }),
  );

  app.post("/run-now/:recordId", async (c) => {
    const secret = deps.config.webhookSecret;
    if (secret === undefined) {
      return c.json(
        problem(
          "webhook_disabled",
          "The Run Now webhook is off: AUTOCOMM_WEBHOOK_SECRET is not set",
        ),
        503,
      );
    }
    const headers = readHeaders(c);
    if (headers instanceof Response) return headers;
    const raw = c.req.param("recordId");
    const body = new Uint8Array(await c.req.arrayBuffer());
    const refused = await authenticate(deps, c, {
      ...headers,
      secret,
      path: webhookPath(raw),
      body,
    });
    if (refused) return refused;
    // A delivery id is spent once, by the request that queues a run.
    return await queueDelivery(deps, c, { raw, delivery: headers.delivery });
  });

  return app;
}
