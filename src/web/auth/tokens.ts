/** Random tokens, their hashes, and comparisons that take the same time whatever the input. */

const encoder = new TextEncoder();

/** A random token of `bytes` bytes, base64url without padding. */
export function randomToken(bytes = 32): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  let text = "";
  for (const b of raw) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** SHA-256 of `text` as lower-case hex: how tokens and session ids are stored. */
export async function sha256Hex(text: string): Promise<string> {
  return Array.from(await digest(text), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * True when `a` equals `b`. Both are hashed first, so the comparison takes the
 * same time whatever their lengths and wherever they differ.
 */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([digest(a), digest(b)]);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}
