/**
 * Managed connections as people manage them: create, list, read, change, test and
 * delete. Secrets (password, private key, passphrase) are write-only: sealed with the
 * connection's id as associated data (`secrets.ts`) and never returned — a connection
 * says only whether it has them. A connection that records use cannot be deleted.
 */
import { and, asc, eq, ne } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { connections, records } from "../db/schema/autocomm.ts";
import { firstControl } from "../util/text.ts";
import { SecretBox } from "./secrets.ts";
import { connectSftp, isFingerprint, SftpError, type SftpTarget } from "./sftp.ts";
// @ts-types="./ssh2.d.ts"
import ssh2 from "ssh2";

/** A problem with one field of a connection's input. */
export interface ConnectionProblem {
  field: string;
  message: string;
}

/** The input breaks the rules; `problems` says where. */
export class ConnectionInvalid extends Error {
  readonly problems: ConnectionProblem[];
  constructor(problems: ConnectionProblem[]) {
    super(problems.map((p) => `${p.field}: ${p.message}`).join("; "));
    this.name = "ConnectionInvalid";
    this.problems = problems;
  }
}

/** Records still use the connection, so it cannot be deleted. */
export class ConnectionInUse extends Error {
  readonly records: { id: number; name: string; schoolId: number }[];
  constructor(name: string, users: { id: number; name: string; schoolId: number }[]) {
    super(
      `The connection "${name}" is used by ${users.length} record${
        users.length === 1 ? "" : "s"
      } (${users.map((r) => `${r.name} in school ${r.schoolId}`).join(", ")}); change them first`,
    );
    this.name = "ConnectionInUse";
    this.records = users;
  }
}

/** A connection as it is shown: never its secrets. */
export interface ConnectionView {
  id: number;
  name: string;
  description: string;
  protocol: "sftp";
  host: string;
  port: number;
  authType: "password" | "key";
  username: string;
  allowDownload: boolean;
  allowUpload: boolean;
  allowLegacyCiphers: boolean;
  hostKeyFingerprint: string | null;
  /** A password or key is stored. */
  hasSecret: boolean;
  createdAt: string;
  updatedAt: string;
}

/** What a person gives for a connection; on change, missing members stay as they are. */
export interface ConnectionInput {
  name?: unknown;
  description?: unknown;
  protocol?: unknown;
  host?: unknown;
  port?: unknown;
  authType?: unknown;
  username?: unknown;
  password?: unknown;
  privateKey?: unknown;
  passphrase?: unknown;
  allowDownload?: unknown;
  allowUpload?: unknown;
  allowLegacyCiphers?: unknown;
  hostKeyFingerprint?: unknown;
}

type Row = typeof connections.$inferSelect;

function view(row: Row): ConnectionView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    protocol: "sftp",
    host: row.host,
    port: row.port,
    authType: row.authMethod === "key" ? "key" : "password",
    username: row.username,
    allowDownload: row.allowDownload,
    allowUpload: row.allowUpload,
    allowLegacyCiphers: row.allowLegacyCiphers,
    hostKeyFingerprint: row.hostFingerprint,
    hasSecret: row.secret !== null,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** Every connection, by name. */
export async function listConnections(db: Db): Promise<ConnectionView[]> {
  return (await db.select().from(connections).orderBy(asc(connections.name))).map(view);
}

/** One connection, or undefined. */
export async function getConnection(db: Db, id: number): Promise<ConnectionView | undefined> {
  const [row] = await db.select().from(connections).where(eq(connections.id, id));
  return row ? view(row) : undefined;
}

interface Checked {
  values: Partial<typeof connections.$inferInsert>;
  secret: { password?: string; privateKey?: string; passphrase?: string } | undefined;
}

/** Checks an input against the rules; `current` is the stored connection when changing one. */
function check(input: ConnectionInput, current: ConnectionView | undefined): Checked {
  const problems: ConnectionProblem[] = [];
  const add = (field: string, message: string) => problems.push({ field, message });
  const values: Checked["values"] = {};
  const has = (k: keyof ConnectionInput) => input[k] !== undefined;
  const text = (k: keyof ConnectionInput, label: string, max: number, required: boolean) => {
    if (!has(k)) {
      if (required && !current) add(k, `${label} is required`);
      return undefined;
    }
    const v = input[k];
    if (typeof v !== "string") return add(k, `${label} must be text`), undefined;
    const t = v.trim();
    if (required && t === "") return add(k, `${label} is required`), undefined;
    if (t.length > max) return add(k, `${label} is longer than ${max} characters`), undefined;
    const control = firstControl(t);
    if (control) return add(k, `${label} may not contain ${control}`), undefined;
    return t;
  };
  const bool = (k: keyof ConnectionInput, label: string) => {
    if (!has(k)) return undefined;
    if (typeof input[k] !== "boolean") return add(k, `${label} must be true or false`), undefined;
    return input[k] as boolean;
  };

  const name = text("name", "Name", 100, true);
  if (name !== undefined) values.name = name;
  const description = text("description", "Description", 500, false);
  if (description !== undefined) values.description = description;
  if (has("protocol") && input.protocol !== "sftp") add("protocol", "The protocol is sftp");
  const host = text("host", "Host", 253, true);
  if (host !== undefined) {
    if (!/^[A-Za-z0-9.:[\]_-]+$/.test(host)) add("host", "Host must be a host name or address");
    else values.host = host;
  }
  if (has("port")) {
    const p = input.port;
    if (typeof p !== "number" || !Number.isInteger(p) || p < 1 || p > 65535) {
      add("port", "Port must be a whole number from 1 to 65535");
    } else values.port = p;
  }
  const username = text("username", "Username", 100, true);
  if (username !== undefined) values.username = username;
  let authType = current?.authType;
  if (has("authType")) {
    if (input.authType !== "password" && input.authType !== "key") {
      add("authType", "Authentication is password or key");
    } else authType = input.authType;
  } else if (!current) authType = "password";
  if (authType) values.authMethod = authType;
  for (
    const [k, label] of [["allowDownload", "Allow download"], ["allowUpload", "Allow upload"], [
      "allowLegacyCiphers",
      "Allow legacy ciphers",
    ]] as const
  ) {
    const b = bool(k, label);
    if (b !== undefined) {
      if (k === "allowDownload") values.allowDownload = b;
      else if (k === "allowUpload") values.allowUpload = b;
      else values.allowLegacyCiphers = b;
    }
  }
  if (has("hostKeyFingerprint")) {
    const f = input.hostKeyFingerprint;
    if (f === null || f === "") values.hostFingerprint = null;
    else if (typeof f !== "string" || !isFingerprint(f.trim())) {
      add("hostKeyFingerprint", "The fingerprint reads SHA256: and 43 base64 characters");
    } else values.hostFingerprint = f.trim();
  }
  const secret = checkSecret(input, current, { authType, add });
  if (problems.length > 0) throw new ConnectionInvalid(problems);
  return { values, secret };
}

/**
 * The secret of a connection being created or changed: write-only, so a new one
 * replaces what is stored; one is needed for a new connection, a changed
 * authentication, or a stored connection without one. A private key must parse
 * (OpenSSH or PEM), with its passphrase when it has one.
 */
function checkSecret(
  input: ConnectionInput,
  current: ConnectionView | undefined,
  options: {
    authType: ConnectionView["authType"] | undefined;
    add: (f: string, m: string) => void;
  },
): Checked["secret"] {
  const { authType, add } = options;
  const has = (k: keyof ConnectionInput) => input[k] !== undefined;
  let secret: Checked["secret"];
  const password = has("password") ? input.password : undefined;
  const privateKey = has("privateKey") ? input.privateKey : undefined;
  const passphrase = has("passphrase") ? input.passphrase : undefined;
  for (
    const [k, v] of [["password", password], ["privateKey", privateKey], [
      "passphrase",
      passphrase,
    ]] as const
  ) {
    if (v !== undefined && typeof v !== "string") add(k, "Must be text");
  }
  const authChanged = has("authType") && current !== undefined && authType !== current.authType;
  if (authType === "password") {
    if (typeof password === "string" && password !== "") secret = { password };
    else if (!current || authChanged || !current.hasSecret) {
      add("password", "Enter the password");
    }
  } else if (authType === "key") {
    if (typeof privateKey === "string" && privateKey.trim() !== "") {
      const phrase = typeof passphrase === "string" && passphrase !== "" ? passphrase : undefined;
      const parsed = ssh2.utils.parseKey(privateKey.trim(), phrase);
      if (parsed instanceof Error) {
        add(
          phrase ? "passphrase" : "privateKey",
          /passphrase|encrypted/i.test(parsed.message)
            ? "The private key needs its passphrase, or the passphrase is wrong"
            : "The private key is not an OpenSSH or PEM private key",
        );
      } else secret = { privateKey: privateKey.trim(), ...(phrase ? { passphrase: phrase } : {}) };
    } else if (!current || authChanged || !current.hasSecret) {
      add("privateKey", "Paste the private key (OpenSSH or PEM)");
    }
  }
  return secret;
}

async function nameTaken(db: Db, name: string, except?: number): Promise<boolean> {
  const [row] = await db.select({ id: connections.id }).from(connections).where(
    except === undefined
      ? eq(connections.name, name)
      : and(eq(connections.name, name), ne(connections.id, except)),
  );
  return row !== undefined;
}

/** What creating and changing need: the database and the configured secret keys. */
export interface ConnectionDeps {
  db: Db;
  keys: { current: Uint8Array | undefined; previous: Uint8Array | undefined };
}

/** A box that can seal `secret`, or a problem naming the missing key. */
async function boxFor(deps: ConnectionDeps, secret: Checked["secret"]): Promise<SecretBox> {
  const box = await SecretBox.create(deps.keys);
  if (secret && !box.canSeal) {
    throw new ConnectionInvalid([{
      field: secret.password !== undefined ? "password" : "privateKey",
      message:
        "The service has no AUTOCOMM_SECRET_KEY, so it cannot store a password or key; set it (32 bytes in base64) and restart",
    }]);
  }
  return box;
}

/** Creates a connection; returns it as shown. */
export async function createConnection(
  deps: ConnectionDeps,
  input: ConnectionInput,
): Promise<ConnectionView> {
  const { values, secret } = check(input, undefined);
  if (await nameTaken(deps.db, values.name!)) {
    throw new ConnectionInvalid([{ field: "name", message: "Another connection has this name" }]);
  }
  const box = await boxFor(deps, secret);
  const now = new Date().toISOString();
  return await deps.db.transaction(async (tx) => {
    const [row] = await tx.insert(connections).values({
      name: values.name!,
      host: values.host!,
      username: values.username!,
      authMethod: values.authMethod ?? "password",
      ...values,
      createdAt: now,
      updatedAt: now,
    }).returning();
    const secretText = secret ? await box.seal(JSON.stringify(secret), row!.id) : null;
    const [done] = await tx.update(connections).set({ secret: secretText })
      .where(eq(connections.id, row!.id)).returning();
    return view(done!);
  });
}

/** Changes a connection; members not given stay as they are. */
export async function updateConnection(
  deps: ConnectionDeps,
  id: number,
  input: ConnectionInput,
): Promise<ConnectionView | undefined> {
  const current = await getConnection(deps.db, id);
  if (!current) return undefined;
  const { values, secret } = check(input, current);
  if (values.name !== undefined && await nameTaken(deps.db, values.name, id)) {
    throw new ConnectionInvalid([{ field: "name", message: "Another connection has this name" }]);
  }
  const box = await boxFor(deps, secret);
  const secretText = secret ? await box.seal(JSON.stringify(secret), id) : undefined;
  const [row] = await deps.db.update(connections).set({
    ...values,
    ...(secretText !== undefined ? { secret: secretText } : {}),
    updatedAt: new Date().toISOString(),
  }).where(eq(connections.id, id)).returning();
  return row ? view(row) : undefined;
}

/** Deletes a connection no record uses; false when there is none. */
export async function deleteConnection(db: Db, id: number): Promise<boolean> {
  const current = await getConnection(db, id);
  if (!current) return false;
  const users = await db.select({ id: records.id, name: records.name, schoolId: records.schoolId })
    .from(records).where(eq(records.connectionId, id)).orderBy(asc(records.id));
  if (users.length > 0) throw new ConnectionInUse(current.name, users);
  await db.delete(connections).where(eq(connections.id, id));
  return true;
}

/** What "Test connection" found. */
export interface ConnectionTest {
  ok: boolean;
  /** The server's host-key fingerprint (empty when it could not be reached). */
  fingerprint: string;
  /** True when that fingerprint is the accepted one. */
  pinned: boolean;
  entries: { name: string; size: number; modified: string }[];
  error?: string;
}

/**
 * Connects (showing the server's key even when none is accepted yet), logs in and
 * lists the login folder. A key that differs from the accepted one is refused before
 * logging in.
 */
export async function testConnection(
  deps: ConnectionDeps,
  id: number,
  options: { connectTimeoutMs?: number } = {},
): Promise<ConnectionTest | undefined> {
  const [row] = await deps.db.select().from(connections).where(eq(connections.id, id));
  if (!row) return undefined;
  let fingerprint = "";
  try {
    const box = await SecretBox.create(deps.keys);
    const secret = row.secret
      ? JSON.parse(await box.open(row.secret, { id, name: row.name })) as Record<string, string>
      : {};
    const target: SftpTarget = {
      host: row.host,
      port: row.port,
      username: row.username,
      auth: row.authMethod === "key"
        ? { kind: "key", privateKey: secret["privateKey"] ?? "", passphrase: secret["passphrase"] }
        : { kind: "password", password: secret["password"] ?? "" },
      allowLegacyCiphers: row.allowLegacyCiphers,
      hostKeyFingerprint: row.hostFingerprint,
    };
    await using session = await connectSftp(target, {
      allowUnpinned: true,
      ...(options.connectTimeoutMs ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    });
    fingerprint = session.fingerprint;
    const entries = (await session.list(".")).map(({ name, size, modified }) => ({
      name,
      size,
      modified,
    }));
    return { ok: true, fingerprint, pinned: row.hostFingerprint === fingerprint, entries };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const seen = /host key (SHA256:[A-Za-z0-9+/]{43}) differs/.exec(message)?.[1];
    return {
      ok: false,
      fingerprint: seen ?? fingerprint,
      pinned: false,
      entries: [],
      error: error instanceof SftpError || error instanceof Error ? message : String(error),
    };
  }
}

/**
 * Seals every stored secret again under the current key (after `AUTOCOMM_SECRET_KEY`
 * changed and the old key moved to `AUTOCOMM_SECRET_KEY_PREVIOUS`), in one
 * transaction; returns how many were sealed again. A secret no configured key opens
 * stops it with the connection's name, and nothing changes.
 */
export async function rotateSecrets(deps: ConnectionDeps): Promise<number> {
  const box = await SecretBox.create(deps.keys);
  if (!box.canSeal) {
    throw new ConnectionInvalid([{
      field: "AUTOCOMM_SECRET_KEY",
      message:
        "Set AUTOCOMM_SECRET_KEY to the new key (and AUTOCOMM_SECRET_KEY_PREVIOUS to the old)",
    }]);
  }
  const rows = await deps.db.select({
    id: connections.id,
    name: connections.name,
    secret: connections.secret,
  }).from(connections);
  const resealed: { id: number; secret: string }[] = [];
  for (const row of rows) {
    if (row.secret === null || !box.isStale(row.secret)) continue;
    const plain = await box.open(row.secret, { id: row.id, name: row.name });
    resealed.push({ id: row.id, secret: await box.seal(plain, row.id) });
  }
  if (resealed.length === 0) return 0;
  await deps.db.transaction(async (tx) => {
    for (const r of resealed) {
      await tx.update(connections).set({ secret: r.secret }).where(eq(connections.id, r.id));
    }
  });
  return resealed.length;
}

/**
 * The problem with the configured keys for the stored secrets, or undefined: stored
 * secrets need `AUTOCOMM_SECRET_KEY`, and each must open with a configured key.
 */
export async function secretKeyProblem(deps: ConnectionDeps): Promise<string | undefined> {
  const rows = await deps.db.select({
    id: connections.id,
    name: connections.name,
    secret: connections.secret,
  }).from(connections);
  const stored = rows.filter((r) => r.secret !== null);
  if (stored.length === 0) return undefined;
  if (deps.keys.current === undefined) {
    return `AUTOCOMM_SECRET_KEY is not set, but ${stored.length} managed connection${
      stored.length === 1 ? " has" : "s have"
    } a stored password or key`;
  }
  const box = await SecretBox.create(deps.keys);
  for (const r of stored) {
    try {
      await box.open(r.secret!, { id: r.id, name: r.name });
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }
  return undefined;
}
