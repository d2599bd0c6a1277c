/**
 * Managed connections' secrets at rest: passwords, private keys and passphrases are
 * encrypted with AES-256-GCM (Web Crypto) under `AUTOCOMM_SECRET_KEY`, with a fresh
 * 96-bit nonce for every encryption and the connection's id as associated data, so a
 * secret copied onto another connection's row does not decrypt. A stored secret reads
 * `v1.<key id>.<nonce>.<ciphertext>` (base64url); the key id (the first 8 bytes of the
 * key's SHA-256, hex) says which key sealed it, so that after a rotation
 * `AUTOCOMM_SECRET_KEY_PREVIOUS` still opens what the old key sealed until everything
 * is sealed again under the new one.
 */

/** A secret that cannot be opened: no key, another key, or a row it does not belong to. */
export class SecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SecretError";
  }
}

const VERSION = "v1";

function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

interface SealingKey {
  id: string;
  key: CryptoKey;
}

async function sealingKey(raw: Uint8Array): Promise<SealingKey> {
  const bytes = new Uint8Array(raw);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const id = Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
  const key = await crypto.subtle.importKey("raw", bytes, "AES-GCM", false, [
    "encrypt",
    "decrypt",
  ]);
  return { id, key };
}

const associatedData = (connectionId: number) =>
  new TextEncoder().encode(`autocomm-connection:${connectionId}`);

/** Seals and opens secrets with the current key, and opens with the previous one. */
export class SecretBox {
  readonly #current: SealingKey | undefined;
  readonly #previous: SealingKey | undefined;

  private constructor(current: SealingKey | undefined, previous: SealingKey | undefined) {
    this.#current = current;
    this.#previous = previous;
  }

  /** A box for the configured keys (either may be missing). */
  static async create(
    keys: { current: Uint8Array | undefined; previous?: Uint8Array | undefined },
  ): Promise<SecretBox> {
    return new SecretBox(
      keys.current ? await sealingKey(keys.current) : undefined,
      keys.previous ? await sealingKey(keys.previous) : undefined,
    );
  }

  /** True when secrets can be sealed (a current key is configured). */
  get canSeal(): boolean {
    return this.#current !== undefined;
  }

  /** Seals `plaintext` for the connection `connectionId`. */
  async seal(plaintext: string, connectionId: number): Promise<string> {
    if (!this.#current) {
      throw new SecretError(
        "AUTOCOMM_SECRET_KEY is not set: a managed connection's password or key cannot be stored without it",
      );
    }
    const nonce = crypto.getRandomValues(new Uint8Array(12));
    const sealed = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: "AES-GCM", iv: nonce, additionalData: associatedData(connectionId) },
        this.#current.key,
        new TextEncoder().encode(plaintext),
      ),
    );
    return [VERSION, this.#current.id, toBase64Url(nonce), toBase64Url(sealed)].join(".");
  }

  /** True when `stored` was sealed with a key other than the current one. */
  isStale(stored: string): boolean {
    return stored.split(".")[1] !== this.#current?.id;
  }

  /**
   * Opens a secret of the connection `connectionId` (named `connectionName` in errors).
   * Throws {@linkcode SecretError} when no configured key sealed it or it belongs to
   * another connection.
   */
  async open(
    stored: string,
    connection: { id: number; name: string },
  ): Promise<string> {
    const [version, keyId, nonce, sealed] = stored.split(".");
    if (version !== VERSION || !keyId || !nonce || !sealed) {
      throw new SecretError(`The stored secret of connection "${connection.name}" is damaged`);
    }
    const key = [this.#current, this.#previous].find((k) => k?.id === keyId);
    if (!key) {
      throw new SecretError(
        `Cannot decrypt the secret of connection "${connection.name}": it was sealed with another key than AUTOCOMM_SECRET_KEY${
          this.#previous ? " or AUTOCOMM_SECRET_KEY_PREVIOUS" : ""
        } (key id ${keyId})`,
      );
    }
    try {
      const plain = await crypto.subtle.decrypt(
        {
          name: "AES-GCM",
          iv: fromBase64Url(nonce),
          additionalData: associatedData(connection.id),
        },
        key.key,
        fromBase64Url(sealed),
      );
      return new TextDecoder().decode(plain);
    } catch {
      throw new SecretError(
        `Cannot decrypt the secret of connection "${connection.name}": it does not belong to this connection or was altered`,
      );
    }
  }
}
