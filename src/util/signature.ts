/**
 * The one signing scheme of AutoComm's signed HTTP requests, in both directions: the
 * Run Now webhook checks incoming requests with it (`src/web/hooks/run_now.ts`), and
 * the completion callback signs its outgoing ones with it (`src/host/callback.ts`).
 *
 * The signature is `sha256=` and the lower-case hex HMAC-SHA256, keyed with the
 * shared secret, of `<timestamp>.<delivery>.<path>.<raw body>`: the timestamp is unix
 * seconds (`X-AutoComm-Timestamp`), the delivery a unique id of the request
 * (`X-AutoComm-Delivery`, 1–200 visible ASCII characters other than `.`), the path the
 * request URL's path. Signing the delivery id and the path binds a signature to one
 * delivery to one place.
 */
import { Buffer } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";

/** The headers of a signed request. */
export const SIGNATURE_HEADERS = {
  timestamp: "X-AutoComm-Timestamp",
  delivery: "X-AutoComm-Delivery",
  signature: "X-AutoComm-Signature",
} as const;

/** A delivery id: 1–200 visible ASCII characters other than `.`, the separator of the signed text. */
export const DELIVERY_ID = /^[\x21-\x2d\x2f-\x7e]{1,200}$/;

/** What a signature covers. */
export interface SignedRequest {
  /** `X-AutoComm-Timestamp`: unix seconds, as sent. */
  timestamp: string;
  /** `X-AutoComm-Delivery`. */
  delivery: string;
  /** The request URL's path, e.g. `/hooks/run-now/12`. */
  path: string;
  /** The raw body. */
  body: string | Uint8Array;
}

function mac(secret: string, request: SignedRequest): Buffer {
  return createHmac("sha256", secret)
    .update(`${request.timestamp}.${request.delivery}.${request.path}.`)
    .update(request.body)
    .digest();
}

/** The signature of a request: `sha256=<hex HMAC-SHA256 of "<timestamp>.<delivery>.<path>.<body>">`. */
export function signRequest(secret: string, request: SignedRequest): string {
  return `sha256=${mac(secret, request).toString("hex")}`;
}

/**
 * The hex digest (lower case) of `signature` when it is the request's, compared in
 * constant time; undefined when it is not, or is not `sha256=` and 64 hex digits.
 */
export function verifySignature(
  secret: string,
  request: SignedRequest & { signature: string },
): string | undefined {
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(request.signature.trim());
  if (!m) return undefined;
  const given = Buffer.from(m[1]!, "hex");
  const expected = mac(secret, request);
  return given.length === expected.length && timingSafeEqual(given, expected)
    ? expected.toString("hex")
    : undefined;
}

/** The three headers of a request signed now (or at `now`). */
export function signedHeaders(
  secret: string,
  request: Omit<SignedRequest, "timestamp"> & { now?: Date },
): Record<string, string> {
  const timestamp = String(Math.floor((request.now ?? new Date()).getTime() / 1000));
  return {
    [SIGNATURE_HEADERS.timestamp]: timestamp,
    [SIGNATURE_HEADERS.delivery]: request.delivery,
    [SIGNATURE_HEADERS.signature]: signRequest(secret, { ...request, timestamp }),
  };
}
