/**
 * The only reader of the environment. {@linkcode loadConfig} turns variables into a
 * frozen, typed {@linkcode Config}; a bad value fails start-up with a message that
 * names the variable.
 */
import { isTimeZone } from "./util/time.ts";

/** The AutoComm roles a provider's role claim can map to (the same list as `web/auth/roles.ts`). */
const OIDC_ROLE_NAMES = ["viewer", "runner", "editor", "admin"] as const;

/** Sign-in with OpenID Connect: set when the issuer, client id and client secret are. */
export interface OidcConfig {
  /** The provider's issuer URL, exactly (no trailing slash added or removed). `AUTOCOMM_OIDC_ISSUER`. */
  readonly issuer: string;
  /** The client id registered at the provider. `AUTOCOMM_OIDC_CLIENT_ID`. */
  readonly clientId: string;
  /** The client secret registered at the provider. `AUTOCOMM_OIDC_CLIENT_SECRET`. */
  readonly clientSecret: string;
  /** The ID token claim holding the role (a string or an array). `AUTOCOMM_OIDC_ROLE_CLAIM`, default `autocomm_role`. */
  readonly roleClaim: string;
  /**
   * Claim values → AutoComm roles. `AUTOCOMM_OIDC_ROLES`, a JSON object; default each
   * role name to itself. A value not in the map gives no role.
   */
  readonly roles: Readonly<Record<string, "viewer" | "runner" | "editor" | "admin">>;
  /**
   * The ID token claim holding the School_Number of the session's school context, or
   * undefined (`AUTOCOMM_OIDC_SCHOOL_CLAIM=off`): every session is then District Office
   * context. `AUTOCOMM_OIDC_SCHOOL_CLAIM`, default `school`.
   */
  readonly schoolClaim: string | undefined;
  /** Scopes asked for. `AUTOCOMM_OIDC_SCOPES`, default `openid profile email` (must include openid). */
  readonly scopes: string;
}

/** Everything the service reads from its environment, parsed. */
export interface Config {
  /** TCP port the service listens on. `PORT`, default 8000. */
  readonly port: number;
  /** Address the service listens on. `HOST`, default 127.0.0.1 (0.0.0.0 for all). */
  readonly host: string;
  /** libSQL URL: `file:` for the embedded database, `http(s)://` or `libsql://` for a server. */
  readonly databaseUrl: string;
  /** Auth token for a remote libSQL server. `DATABASE_AUTH_TOKEN`. */
  readonly databaseAuthToken: string | undefined;
  /** Busy timeout for the database, in milliseconds. `AUTOCOMM_BUSY_TIMEOUT_MS`, default 10000. */
  readonly busyTimeoutMs: number;
  /** Folder for the embedded database, held files and keys. `AUTOCOMM_DATA_DIR`, default `./data`. */
  readonly dataDir: string;
  /** Root folder of local import files. `AUTOCOMM_IMPORT_ROOT`, default `<dataDir>/import`. */
  readonly importRoot: string;
  /** IANA time zone of schedules and "today". `AUTOCOMM_TIMEZONE`, default `UTC`. */
  readonly timeZone: string;
  /** Default minimum file age. `AUTOCOMM_MIN_FILE_AGE_SECONDS`, default 60. */
  readonly minFileAgeSeconds: number;
  /** Longest a run may take; its import process is then stopped. `AUTOCOMM_RUN_TIMEOUT_SECONDS`, default 1800. */
  readonly runTimeoutSeconds: number;
  /**
   * How long a queued or running run's lease lasts; whoever holds the run renews it every
   * third of this. A run whose lease ended belongs to a process that died and is marked
   * interrupted. `AUTOCOMM_RUN_LEASE_SECONDS`, default 60.
   */
  readonly runLeaseSeconds: number;
  /**
   * Memory the service's warm import process may keep after a run, in MB; past it the
   * process ends and a new one is started. `AUTOCOMM_IMPORT_PROCESS_MAX_MB`, default 160.
   */
  readonly importProcessMaxMb: number;
  /**
   * Files of at least this many bytes are staged on a second thread when the database
   * is the embedded file (`src/pipeline/side_writer.ts`); 0 for every file.
   * `AUTOCOMM_STAGING_THREAD_MIN_BYTES`, default 4194304 (4 MiB).
   */
  readonly stagingThreadMinBytes: number;
  /** How long finished runs are kept. `AUTOCOMM_RUN_RETENTION_DAYS`, default 365. */
  readonly runRetentionDays: number;
  /** SMTP server for completion reports, e.g. `smtp://user:pass@host:587`. `SMTP_URL`. */
  readonly smtpUrl: string | undefined;
  /** Sender of completion reports. `SMTP_FROM`, default `autocomm@localhost`. */
  readonly smtpFrom: string;
  /** Base URL used in links sent by e-mail. `AUTOCOMM_PUBLIC_URL`, default `http://localhost:<port>`. */
  readonly publicUrl: string;
  /** Bearer token that acts as admin on the API. `AUTOCOMM_API_TOKEN`. */
  readonly apiToken: string | undefined;
  /** Secret of the Run Now webhook signatures. `AUTOCOMM_WEBHOOK_SECRET`. */
  readonly webhookSecret: string | undefined;
  /** Origins allowed to frame the pages. `AUTOCOMM_HOST_ORIGINS`, comma-separated. */
  readonly hostOrigins: readonly string[];
  /** Log level. `AUTOCOMM_LOG_LEVEL`: debug, info, warn, error; default info. */
  readonly logLevel: "debug" | "info" | "warn" | "error";
  /**
   * Key that encrypts managed connections' passwords and private keys (32 bytes).
   * `AUTOCOMM_SECRET_KEY`, base64; none by default.
   */
  readonly secretKey: Uint8Array | undefined;
  /** The key before the last rotation, still able to decrypt. `AUTOCOMM_SECRET_KEY_PREVIOUS`. */
  readonly secretKeyPrevious: Uint8Array | undefined;
  /** Sign-in with OpenID Connect, when configured (see {@linkcode OidcConfig}). */
  readonly oidc: OidcConfig | undefined;
  /**
   * Whether the local administrator sign-in link works (printed at first start, by
   * `autocomm admin-link`, opened at `/signin/link`). `AUTOCOMM_ADMIN_LINK`: `on`
   * (default) or `off`.
   */
  readonly adminLink: boolean;
  // Host SIS: the completion callback (`src/host/callback.ts`).
  /**
   * Where each finished run is POSTed for the host SIS (http or https). Off when unset.
   * `AUTOCOMM_HOST_CALLBACK_URL`.
   */
  readonly hostCallbackUrl: string | undefined;
  /**
   * HMAC secret the completion callback is signed with, like the Run Now webhook;
   * required when `AUTOCOMM_HOST_CALLBACK_URL` is set. `AUTOCOMM_HOST_CALLBACK_SECRET`.
   */
  readonly hostCallbackSecret: string | undefined;
  // Serverless profile: where imports run (`src/pipeline/import_mode.ts`).
  /**
   * Where imports run: `process` (an import process beside the service) or `inline`
   * (in the service's own event loop, over a remote database: the serverless
   * profile). `AUTOCOMM_IMPORT_MODE`; unset: `process` when the runtime may start
   * processes, else `inline` (decided at start-up from the permissions the process has).
   */
  readonly importMode: "process" | "inline" | undefined;
}

/** Raised when a variable has a value the service cannot use. */
export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = "ConfigError";
    this.variable = variable;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function text(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) {
    throw new ConfigError(name, `expected a whole number from ${min} to ${max}, got "${raw}"`);
  }
  const value = Number(raw);
  if (value < min || value > max) {
    throw new ConfigError(name, `expected a whole number from ${min} to ${max}, got ${raw}`);
  }
  return value;
}

function databaseUrl(env: Env, dataDir: string): string {
  const raw = text(env, "DATABASE_URL");
  if (raw === undefined) return `file:${dataDir}/autocomm.db`;
  if (!/^(file:|https?:\/\/|libsql:\/\/|wss?:\/\/)/.test(raw)) {
    throw new ConfigError(
      "DATABASE_URL",
      `expected a file:, http(s)://, libsql:// or ws(s):// URL, got "${
        raw.replace(/\/\/[^@/]*@/, "//…@")
      }"`,
    );
  }
  return raw;
}

function url(env: Env, name: string, fallback: string): string {
  const raw = text(env, name) ?? fallback;
  try {
    const parsed = new URL(raw);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error();
  } catch {
    throw new ConfigError(name, `expected an http(s) URL, got "${raw}"`);
  }
  return raw.replace(/\/+$/, "");
}

/** A 32-byte key written in base64 (standard or URL-safe alphabet). */
function key32(env: Env, name: string): Uint8Array | undefined {
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  let bytes: Uint8Array;
  try {
    const binary = atob(raw.replaceAll("-", "+").replaceAll("_", "/"));
    bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    throw new ConfigError(name, "expected 32 bytes in base64 (e.g. `openssl rand -base64 32`)");
  }
  if (bytes.length !== 32) {
    throw new ConfigError(
      name,
      `expected 32 bytes in base64 (e.g. \`openssl rand -base64 32\`), got ${bytes.length} bytes`,
    );
  }
  return bytes;
}

const LOOPBACK_HOSTS = ["127.0.0.1", "[::1]", "localhost"];

/** The issuer URL: https, or http only on a loopback host (tests and the demo). */
function oidcIssuer(raw: string): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError("AUTOCOMM_OIDC_ISSUER", `expected an https:// URL, got "${raw}"`);
  }
  if (parsed.protocol === "https:") return raw;
  if (parsed.protocol === "http:" && LOOPBACK_HOSTS.includes(parsed.hostname)) return raw;
  throw new ConfigError(
    "AUTOCOMM_OIDC_ISSUER",
    `expected an https:// URL (http:// only on 127.0.0.1, ::1 or localhost), got "${raw}"`,
  );
}

function oidcRoles(env: Env): OidcConfig["roles"] {
  const raw = text(env, "AUTOCOMM_OIDC_ROLES");
  if (raw === undefined) {
    return Object.freeze(Object.fromEntries(OIDC_ROLE_NAMES.map((r) => [r, r])));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError("AUTOCOMM_OIDC_ROLES", 'expected a JSON object like {"staff": "viewer"}');
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError("AUTOCOMM_OIDC_ROLES", 'expected a JSON object like {"staff": "viewer"}');
  }
  const roles: [string, OidcConfig["roles"][string]][] = [];
  for (const [value, role] of Object.entries(parsed)) {
    if (!(OIDC_ROLE_NAMES as readonly unknown[]).includes(role)) {
      throw new ConfigError(
        "AUTOCOMM_OIDC_ROLES",
        `"${value}" maps to ${JSON.stringify(role)}; expected viewer, runner, editor or admin`,
      );
    }
    roles.push([value, role as OidcConfig["roles"][string]]);
  }
  // fromEntries defines own properties, so even a claim value "__proto__" is only a key.
  return Object.freeze(Object.fromEntries(roles));
}

/** The OpenID Connect settings: all three of issuer, client id and secret, or none. */
function oidcConfig(env: Env): OidcConfig | undefined {
  const names = ["AUTOCOMM_OIDC_ISSUER", "AUTOCOMM_OIDC_CLIENT_ID", "AUTOCOMM_OIDC_CLIENT_SECRET"];
  const [issuer, clientId, clientSecret] = names.map((n) => text(env, n));
  if (issuer === undefined && clientId === undefined && clientSecret === undefined) {
    return undefined;
  }
  if (issuer === undefined || clientId === undefined || clientSecret === undefined) {
    const missing = names.filter((n) => text(env, n) === undefined);
    throw new ConfigError(
      missing[0]!,
      `OpenID Connect sign-in needs ${names.join(", ")} together; ${missing.join(", ")} ${
        missing.length > 1 ? "are" : "is"
      } not set`,
    );
  }
  const scopes = (text(env, "AUTOCOMM_OIDC_SCOPES") ?? "openid profile email").split(/\s+/);
  if (!scopes.includes("openid")) {
    throw new ConfigError("AUTOCOMM_OIDC_SCOPES", "the scopes must include openid");
  }
  const school = text(env, "AUTOCOMM_OIDC_SCHOOL_CLAIM") ?? "school";
  return Object.freeze({
    issuer: oidcIssuer(issuer),
    clientId,
    clientSecret,
    roleClaim: text(env, "AUTOCOMM_OIDC_ROLE_CLAIM") ?? "autocomm_role",
    roles: oidcRoles(env),
    schoolClaim: school.toLowerCase() === "off" ? undefined : school,
    scopes: scopes.join(" "),
  });
}

function onOff(env: Env, name: string, fallback: boolean): boolean {
  const raw = text(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (raw === "on") return true;
  if (raw === "off") return false;
  throw new ConfigError(name, `expected on or off, got "${raw}"`);
}

/** The completion callback's URL and secret: both or neither. */
function hostCallback(env: Env): { url: string | undefined; secret: string | undefined } {
  const raw = text(env, "AUTOCOMM_HOST_CALLBACK_URL");
  const secret = text(env, "AUTOCOMM_HOST_CALLBACK_SECRET");
  if (raw === undefined) return { url: undefined, secret };
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    parsed = new URL("invalid:");
  }
  if (
    (parsed.protocol !== "http:" && parsed.protocol !== "https:") || parsed.username !== "" ||
    parsed.password !== ""
  ) {
    throw new ConfigError(
      "AUTOCOMM_HOST_CALLBACK_URL",
      `expected an http(s) URL without a user name or password, such as https://sis.example.org/autocomm/callback, got "${
        raw.replace(/\/\/[^@/]*@/, "//…@")
      }"`,
    );
  }
  if (secret === undefined) {
    throw new ConfigError(
      "AUTOCOMM_HOST_CALLBACK_SECRET",
      "must be set when AUTOCOMM_HOST_CALLBACK_URL is: the callback is signed with it (e.g. `openssl rand -hex 32`)",
    );
  }
  return { url: parsed.href, secret };
}

/** `AUTOCOMM_IMPORT_MODE`: process, inline, or unset (decided at start-up). */
function importMode(env: Env): "process" | "inline" | undefined {
  const raw = text(env, "AUTOCOMM_IMPORT_MODE")?.toLowerCase();
  if (raw === undefined || raw === "process" || raw === "inline") return raw;
  throw new ConfigError("AUTOCOMM_IMPORT_MODE", `expected process or inline, got "${raw}"`);
}

/**
 * Embedded replicas (a local `file:` copy synced from a primary) are not supported:
 * the import path would write the replica. Refused at start-up with what to do instead.
 */
function refuseReplica(env: Env): void {
  for (const name of ["AUTOCOMM_DATABASE_SYNC_URL", "DATABASE_SYNC_URL"]) {
    if (text(env, name) !== undefined) {
      throw new ConfigError(
        name,
        "embedded replicas are not supported: set DATABASE_URL to the primary libSQL server (http(s):// or libsql://) and unset this variable",
      );
    }
  }
  const url = text(env, "DATABASE_URL");
  if (url !== undefined && /[?&]sync_?url=/i.test(url)) {
    throw new ConfigError(
      "DATABASE_URL",
      "embedded replicas (a syncUrl) are not supported: point DATABASE_URL at the primary libSQL server",
    );
  }
}

/** Options of {@linkcode loadConfig}. */
export interface LoadConfigOptions {
  /** Variables to read instead of the process environment. */
  env?: Env;
}

/** Reads and checks every variable. Throws {@linkcode ConfigError} naming a bad one. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? Deno.env.toObject();
  const port = integer(env, "PORT", 8000, 0, 65535);
  const dataDir = (text(env, "AUTOCOMM_DATA_DIR") ?? "./data").replace(/\/+$/, "");
  const timeZone = text(env, "AUTOCOMM_TIMEZONE") ?? "UTC";
  if (!isTimeZone(timeZone)) {
    throw new ConfigError(
      "AUTOCOMM_TIMEZONE",
      `unknown time zone "${timeZone}"; use an IANA name such as America/Chicago`,
    );
  }
  const smtpUrl = text(env, "SMTP_URL");
  if (smtpUrl !== undefined && !/^smtps?:\/\/[^/]/.test(smtpUrl)) {
    throw new ConfigError("SMTP_URL", "expected smtp://host:port or smtps://host:port");
  }
  const logLevel = text(env, "AUTOCOMM_LOG_LEVEL") ?? "info";
  if (logLevel !== "debug" && logLevel !== "info" && logLevel !== "warn" && logLevel !== "error") {
    throw new ConfigError(
      "AUTOCOMM_LOG_LEVEL",
      `expected debug, info, warn or error, got "${logLevel}"`,
    );
  }
  const hostOrigins = (text(env, "AUTOCOMM_HOST_ORIGINS") ?? "").split(",").map((s) => s.trim())
    .filter((s) => s !== "");
  for (const origin of hostOrigins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError(
        "AUTOCOMM_HOST_ORIGINS",
        `"${origin}" is not an origin like https://sis.example.org`,
      );
    }
  }
  const callback = hostCallback(env);
  refuseReplica(env);
  return Object.freeze({
    port,
    host: text(env, "HOST") ?? "127.0.0.1",
    databaseUrl: databaseUrl(env, dataDir),
    databaseAuthToken: text(env, "DATABASE_AUTH_TOKEN"),
    busyTimeoutMs: integer(env, "AUTOCOMM_BUSY_TIMEOUT_MS", 10_000, 0, 600_000),
    dataDir,
    importRoot: (text(env, "AUTOCOMM_IMPORT_ROOT") ?? `${dataDir}/import`).replace(/\/+$/, ""),
    timeZone,
    minFileAgeSeconds: integer(env, "AUTOCOMM_MIN_FILE_AGE_SECONDS", 60, 0, 86_400),
    runTimeoutSeconds: integer(env, "AUTOCOMM_RUN_TIMEOUT_SECONDS", 1800, 10, 86_400),
    runLeaseSeconds: integer(env, "AUTOCOMM_RUN_LEASE_SECONDS", 60, 3, 3600),
    importProcessMaxMb: integer(env, "AUTOCOMM_IMPORT_PROCESS_MAX_MB", 160, 1, 65_536),
    stagingThreadMinBytes: integer(
      env,
      "AUTOCOMM_STAGING_THREAD_MIN_BYTES",
      4_194_304,
      0,
      Number.MAX_SAFE_INTEGER,
    ),
    runRetentionDays: integer(env, "AUTOCOMM_RUN_RETENTION_DAYS", 365, 1, 36_500),
    smtpUrl,
    smtpFrom: text(env, "SMTP_FROM") ?? "autocomm@localhost",
    publicUrl: url(env, "AUTOCOMM_PUBLIC_URL", `http://localhost:${port}`),
    apiToken: text(env, "AUTOCOMM_API_TOKEN"),
    webhookSecret: text(env, "AUTOCOMM_WEBHOOK_SECRET"),
    hostOrigins: Object.freeze(hostOrigins),
    logLevel,
    secretKey: key32(env, "AUTOCOMM_SECRET_KEY"),
    secretKeyPrevious: key32(env, "AUTOCOMM_SECRET_KEY_PREVIOUS"),
    oidc: oidcConfig(env),
    adminLink: onOff(env, "AUTOCOMM_ADMIN_LINK", true),
    hostCallbackUrl: callback.url,
    hostCallbackSecret: callback.secret,
    importMode: importMode(env),
  });
}
