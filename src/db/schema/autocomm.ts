/** The AutoComm side of the database: records, runs, their reports, connections. */
import { sql } from "drizzle-orm";
import {
  blob,
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";

/** One AutoComm record: a file, where it goes, and when. */
export const records = sqliteTable("autocomm_records", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  schoolId: integer("school_id").notNull(),
  name: text("name").notNull(),
  table: text("table_name").notNull(),
  attendanceMode: text("attendance_mode"),
  hour: integer("hour").notNull().default(0),
  minute: integer("minute").notNull().default(0),
  days: text("days").notNull().default(""),
  executionOff: integer("execution_off", { mode: "boolean" }).notNull().default(false),
  source: text("source").notNull().default("local"),
  connectionId: integer("connection_id"),
  path: text("path").notNull(),
  fieldDelimiter: text("field_delimiter").notNull().default("tab"),
  recordDelimiter: text("record_delimiter").notNull().default("CRLF"),
  charset: text("charset").notNull().default("windows-1252"),
  sortOrder: integer("sort_order"),
  synchronize: integer("synchronize", { mode: "boolean" }).notNull().default(false),
  updateExisting: integer("update_existing", { mode: "boolean" }).notNull().default(false),
  inactivateExited: integer("inactivate_exited", { mode: "boolean" }).notNull().default(false),
  expectRecordCount: integer("expect_record_count", { mode: "boolean" }).notNull().default(false),
  emailTo: text("email_to").notNull().default(""),
  /** JSON array of catalog field names, one per column of the file. */
  fields: text("fields", { mode: "json" }).$type<string[]>().notNull(),
  ignoreBlankCells: integer("ignore_blank_cells", { mode: "boolean" }).notNull().default(false),
  removalLimitPercent: integer("removal_limit_percent").notNull().default(10),
  minFileAgeSeconds: integer("min_file_age_seconds"),
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
}, (t) => [uniqueIndex("records_school_name").on(t.schoolId, t.name)]);

/** One run of a record (or a one-off import). */
export const runs = sqliteTable("runs", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  recordId: integer("record_id"),
  schoolId: integer("school_id").notNull(),
  table: text("table_name").notNull(),
  /** schedule, run_now, webhook, api, cli, approval. */
  trigger: text("trigger").notNull(),
  /** queued, running, waiting, succeeded, … (`RunStatus` in src/pipeline/run_state.ts). */
  status: text("status").notNull(),
  /** `recordId@YYYY-MM-DDTHH:MM` for scheduled runs: the claim of that slot. */
  slotKey: text("slot_key"),
  /** The record's settings as the run used them (JSON). */
  options: text("options", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
  preview: integer("preview", { mode: "boolean" }).notNull().default(false),
  queuedAt: text("queued_at").notNull(),
  startedAt: text("started_at"),
  endedAt: text("ended_at"),
  /** While running: when the run's lease ends unless renewed. */
  leaseExpiresAt: text("lease_expires_at"),
  /** The run this one approves (approval runs). */
  approvesRunId: integer("approves_run_id"),
  fileName: text("file_name"),
  fileSize: integer("file_size"),
  fileSha256: text("file_sha256"),
  /** Where a held file is kept until approved or discarded. */
  heldPath: text("held_path"),
  heldUntil: text("held_until"),
  /** The date the run used as "today" (YYYY-MM-DD). */
  today: text("today"),
  read: integer("read").notNull().default(0),
  inserted: integer("inserted").notNull().default(0),
  updated: integer("updated").notNull().default(0),
  unchanged: integer("unchanged").notNull().default(0),
  skipped: integer("skipped").notNull().default(0),
  rejected: integer("rejected").notNull().default(0),
  removed: integer("removed").notNull().default(0),
  inactivated: integer("inactivated").notNull().default(0),
  blankLines: integer("blank_lines").notNull().default(0),
  shortRows: integer("short_rows").notNull().default(0),
  /** The ids of the run's change-log entries, first and last (null: none). */
  changesFrom: integer("changes_from"),
  changesTo: integer("changes_to"),
  /** Why a run failed or the file was rejected. */
  message: text("message"),
  emailStatus: text("email_status"),
  emailError: text("email_error"),
  emailAttempts: integer("email_attempts").notNull().default(0),
  /**
   * Progress of a run under way, written by its import process at most about once a
   * second (`run_state.ts`, `progressStatement`): the stage (fetching, reading,
   * checking, applying, reporting), the data records and bytes read so far, and when.
   */
  stage: text("stage"),
  rowsRead: integer("rows_read"),
  bytesRead: integer("bytes_read"),
  progressAt: text("progress_at"),
}, (t) => [
  uniqueIndex("runs_slot").on(t.slotKey),
  // One active run per record: the claim that makes Run Now answer "already running".
  uniqueIndex("runs_one_active").on(t.recordId).where(
    sql`status IN ('queued', 'running', 'waiting') AND preview = 0 AND record_id IS NOT NULL`,
  ),
  index("runs_record").on(t.recordId, t.id),
  index("runs_status").on(t.status),
]);

/**
 * A file kept in the database (inline mode, the serverless profile: no local disk), in
 * chunks of at most 256 KiB in order of `seq`: a managed record's download while its
 * run reads it, and a held run's file until it is approved, discarded or expires
 * (`src/pipeline/fetch.ts`). Its SHA-256 is the run's `file_sha256`.
 */
export const heldFileChunks = sqliteTable("held_file_chunks", {
  runId: integer("run_id").notNull(),
  seq: integer("seq").notNull(),
  bytes: blob("bytes", { mode: "buffer" }).notNull(),
}, (t) => [primaryKey({ columns: [t.runId, t.seq] })]);

/** A rejected row, or a row-level problem, of a run. */
export const runErrors = sqliteTable("run_errors", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  runId: integer("run_id").notNull(),
  line: integer("line").notNull(),
  field: text("field").notNull(),
  code: text("code").notNull(),
  message: text("message").notNull(),
  /** The row's cells as read (JSON array), for the rejected-rows CSV. */
  row: text("row"),
}, (t) => [index("run_errors_run").on(t.runId, t.line)]);

/** File-level notes of a run. */
export const runNotes = sqliteTable("run_notes", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  runId: integer("run_id").notNull(),
  code: text("code").notNull(),
  message: text("message").notNull(),
  line: integer("line"),
}, (t) => [index("run_notes_run").on(t.runId)]);

/**
 * What a committed run did (or, for a held run or a preview, would do): one row per
 * key inserted, updated, removed, inactivated or re-activated.
 */
export const runChanges = sqliteTable("run_changes", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  runId: integer("run_id").notNull(),
  table: text("table_name").notNull(),
  /** insert, update, remove, inactivate, reactivate, drop. */
  action: text("action").notNull(),
  /**
   * The match key's values as a JSON array, in the order of the table's catalog key
   * (`runChangeLog` gives it back as an object of catalog names).
   */
  key: text("key").notNull(),
  /** For updates: JSON object field → [old, new] (personal fields redacted elsewhere). */
  changes: text("changes"),
});
// No index on run_id: a run writes its change log inside its one transaction, so its
// entries are one range of ids, kept on the run row (runs.changes_from/changes_to),
// and every reader reads that range by primary key. The index cost a quarter of the
// change log's writes (bench/profile.ts).

/** An SFTP server that records can read from. */
export const connections = sqliteTable("managed_connections", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull(),
  description: text("description").notNull().default(""),
  host: text("host").notNull(),
  port: integer("port").notNull().default(22),
  /** password or key. */
  authMethod: text("auth_method").notNull(),
  username: text("username").notNull(),
  /** AES-256-GCM ciphertext of the password or private key (+ passphrase), base64. */
  secret: text("secret"),
  secretKeyId: text("secret_key_id"),
  allowDownload: integer("allow_download", { mode: "boolean" }).notNull().default(true),
  allowUpload: integer("allow_upload", { mode: "boolean" }).notNull().default(false),
  allowLegacyCiphers: integer("allow_legacy_ciphers", { mode: "boolean" }).notNull()
    .default(false),
  hostFingerprint: text("host_fingerprint"),
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
}, (t) => [uniqueIndex("connections_name").on(t.name)]);

/** Signed-in sessions (standalone sign-in or a host launch). The id is stored hashed. */
export const sessions = sqliteTable("sessions", {
  /** SHA-256 (hex) of the session cookie value. */
  idHash: text("id_hash").primaryKey(),
  user: text("user").notNull(),
  /** viewer, runner, editor or admin. */
  role: text("role").notNull(),
  /** School context chosen at sign-in or launch. */
  schoolId: integer("school_id").notNull().default(0),
  /** Anti-CSRF token of forms posted in this session. */
  csrfToken: text("csrf_token").notNull(),
  createdAt: text("created_at").notNull(),
  expiresAt: text("expires_at").notNull(),
}, (t) => [index("sessions_expiry").on(t.expiresAt)]);

/**
 * The school context each user last chose on the list page, so that the next
 * sign-in (a new session) lands there again. One row per user.
 */
export const userSchools = sqliteTable("user_schools", {
  user: text("user").primaryKey(),
  /** School_Number last chosen (0 is the District Office). */
  schoolId: integer("school_id").notNull(),
  updatedAt: text("updated_at").notNull(),
});

/** One-time tokens: local administrator sign-in links and host launch tokens. */
export const oneTimeTokens = sqliteTable("one_time_tokens", {
  /** SHA-256 (hex) of the token. */
  tokenHash: text("token_hash").primaryKey(),
  /** admin_link or launch. */
  kind: text("kind").notNull(),
  expiresAt: text("expires_at").notNull(),
  usedAt: text("used_at"),
});

/**
 * OpenID Connect sign-ins under way: one row per authorization request, keyed by the
 * SHA-256 of its `state`, bound to the browser that started it by the SHA-256 of a
 * random value in a short-lived cookie. Used once (deleted by the callback whatever
 * its outcome); expired rows are pruned when a new sign-in starts.
 */
export const oidcLogins = sqliteTable("oidc_logins", {
  /** SHA-256 (hex) of the authorization request's `state`. */
  stateHash: text("state_hash").primaryKey(),
  /** SHA-256 (hex) of the browser-binding cookie's value. */
  browserHash: text("browser_hash").notNull(),
  nonce: text("nonce").notNull(),
  /** The PKCE code verifier (S256). */
  codeVerifier: text("code_verifier").notNull(),
  /** The local path to land on after sign-in. */
  nextPath: text("next_path").notNull(),
  createdAt: text("created_at").notNull(),
  expiresAt: text("expires_at").notNull(),
}, (t) => [index("oidc_logins_expiry").on(t.expiresAt)]);

/**
 * Webhook signatures seen while their timestamp is inside the window: each is
 * accepted once, whatever the answer was. Rows are pruned once expired.
 */
export const webhookSignatures = sqliteTable("webhook_signatures", {
  /** The hex HMAC-SHA256 of the request, lower case. */
  signature: text("signature").primaryKey(),
  /** Unix seconds after which the request's timestamp is out of the window. */
  expiresAt: integer("expires_at").notNull(),
}, (t) => [index("webhook_signatures_expiry").on(t.expiresAt)]);

/** Webhook deliveries already accepted: a delivery id is used once. */
export const webhookDeliveries = sqliteTable("webhook_deliveries", {
  deliveryId: text("delivery_id").primaryKey(),
  recordId: integer("record_id").notNull(),
  runId: integer("run_id"),
  receivedAt: text("received_at").notNull(),
});

/**
 * The change feed's memory of what retention removed: one row (`id` 1) holding the
 * highest change-log id the hourly process has deleted. A feed cursor at or below it
 * may have missed entries, and the feed answers a gap first (`src/host/feed.ts`).
 */
export const changeFeedState = sqliteTable("change_feed_state", {
  id: integer("id").primaryKey(),
  /** The highest `run_changes.id` deleted by retention (0: none yet). */
  removedThrough: integer("removed_through").notNull().default(0),
});

/**
 * The completion callback of a finished run to the host (`AUTOCOMM_HOST_CALLBACK_URL`):
 * one row per run, made by its first delivery attempt, which also claims it.
 */
export const hostCallbacks = sqliteTable("host_callbacks", {
  runId: integer("run_id").primaryKey(),
  /** sending (an attempt holds it), pending (to be retried), delivered, failed (given up). */
  status: text("status").notNull(),
  attempts: integer("attempts").notNull().default(0),
  /** When the first attempt was made: retries stop 24 hours after it. */
  firstAttemptAt: text("first_attempt_at").notNull(),
  /** When a pending delivery is tried again; while sending, when the attempt's claim ends. */
  nextAttemptAt: text("next_attempt_at"),
  /** The last failure: an HTTP status or a network error, never a payload value. */
  lastError: text("last_error"),
  deliveredAt: text("delivered_at"),
}, (t) => [index("host_callbacks_due").on(t.status, t.nextAttemptAt)]);
