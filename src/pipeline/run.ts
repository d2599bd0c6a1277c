/**
 * The orchestrator of one run, in the import's own process:
 *
 *   claim (run row) → fetch → decode → parse → frame → map → stage → validate+apply → report
 *
 * It owns the run row. Every stage is its own module; this file only composes
 * them, keeps the counts, and decides the run's status.
 */
import type { Charset } from "./decode.ts";
import { decodeStream } from "./decode.ts";
import { type FileNote, FileRejection, type RowError } from "./errors.ts";
import type { SqlExecutor, SqlValue } from "./executor.ts";
import {
  type FieldDelimiter,
  parseRecords,
  type ParseStats,
  type RecordDelimiter,
} from "./parse.ts";
import {
  buildPlan,
  type ConditionalError,
  type ImportPlan,
  RowMapper,
  type StagedError,
} from "./plan.ts";
import { Lookups } from "./lookups.ts";
import type { DuplicateLines } from "./duplicates.ts";
import {
  createStage,
  dropStage,
  indexStage,
  type StageNames,
  stageNames,
  Stager,
  TARGET,
} from "./stage.ts";
import { heldRemovals, type RunCounts, validateStaged, writeStaged } from "./apply.ts";
import {
  NoFileError,
  type OpenedFile,
  openImportFile,
  openNamedFile,
  UnsafePathError,
} from "./paths.ts";
import { LEASE_LOST, leaseEnd, RunLease } from "./lease.ts";
import { type AttendanceMode, type ImportTable, normaliseFieldName } from "../sis/catalog.ts";
import { readExtensionTables } from "./run_store.ts";
import { type DayDef, type Meeting, parseExpression, type PeriodDef } from "../sis/expressions.ts";
import { todayIn } from "../sis/values.ts";

/** The settings a run uses, snapshotted on the run row when it is queued. */
export interface RunSettings {
  table: ImportTable;
  attendanceMode: AttendanceMode | null;
  schoolId: number;
  fields: string[];
  fieldDelimiter: FieldDelimiter;
  recordDelimiter: RecordDelimiter;
  charset: Charset;
  updateExisting: boolean;
  ignoreBlankCells: boolean;
  synchronize: boolean;
  removalLimitPercent: number;
  inactivateExited: boolean;
  expectRecordCount: boolean;
  /** Where a stored record's file comes from (absent in snapshots taken before it existed: local). */
  source?: "local" | "managed";
  /** Path relative to the import root (records), or null when `file` is given. */
  path: string | null;
  /** Absolute or working-directory path of a one-off file (CLI import). */
  file: string | null;
  /** Seconds the file must be unchanged; 0 reads at once. */
  minFileAgeSeconds: number;
  recordName: string | null;
  emailTo: string;
}

/**
 * What a run of a one-off file has (the CLI import, the bench, tests): no stored record,
 * so no record path, no minimum file age, no record name and nobody to e-mail.
 */
export const ONE_OFF_RUN = {
  path: null,
  minFileAgeSeconds: 0,
  recordName: null,
  emailTo: "",
} as const satisfies Partial<RunSettings>;

/** Final statuses of a run (the README lists them). */
export type RunStatus =
  | "queued"
  | "running"
  | "waiting"
  | "succeeded"
  | "succeeded_with_errors"
  | "rejected"
  | "failed"
  | "held"
  | "discarded"
  | "no_file"
  | "empty"
  | "interrupted"
  | "preview";

/** What the import process needs besides the database. */
export interface RunEnvironment {
  importRoot: string;
  dataDir: string;
  timeZone: string;
  runTimeoutSeconds: number;
  /** Length of the run's lease; this process renews it every third of it (`lease.ts`). */
  leaseSeconds: number;
  /** The current instant; tests may fix it. */
  now?: () => Date;
  onProgress?: (event: { phase: string; rows: number }) => void;
  /**
   * Stops the run at its next safe point when aborted — between batches while
   * staging, before the apply transaction, and before its commit: everything is rolled
   * back and the run is marked interrupted, with the signal's reason as its message.
   */
  signal?: AbortSignal;
  /**
   * False once the process that asked for the run (the service, the CLI) is gone:
   * checked at every safe point, the last one just before the commit, so that a run
   * is never committed for a process that no longer waits for it.
   */
  ownerAlive?: () => boolean;
  /**
   * Files of at least this many bytes are staged on a second thread when the database
   * is the embedded file (`side_writer.ts`; `Config.stagingThreadMinBytes`).
   */
  stagingThreadMinBytes: number;
}

/** The environment of a run from the configuration; callers add progress and a signal. */
export function runEnvironment(
  config:
    & Pick<
      RunEnvironment,
      "importRoot" | "dataDir" | "timeZone" | "runTimeoutSeconds" | "stagingThreadMinBytes"
    >
    & { runLeaseSeconds: number },
): RunEnvironment {
  return {
    importRoot: config.importRoot,
    dataDir: config.dataDir,
    timeZone: config.timeZone,
    runTimeoutSeconds: config.runTimeoutSeconds,
    leaseSeconds: config.runLeaseSeconds,
    stagingThreadMinBytes: config.stagingThreadMinBytes,
  };
}

/** What a run ended with. */
export interface RunOutcome {
  runId: number;
  status: RunStatus;
  counts: RunCounts;
  message: string | null;
}

const ZERO: RunCounts = {
  read: 0,
  inserted: 0,
  updated: 0,
  unchanged: 0,
  skipped: 0,
  rejected: 0,
  removed: 0,
  inactivated: 0,
  blankLines: 0,
  shortRows: 0,
};

/**
 * Records per batch of the map and stage loop. Small batches let each batch's rows
 * die young (a batch of 2,000 rows kept 60 MB more of the V8 heap alive at a million
 * rows, and took longer to collect).
 */
const BATCH = 250;
/** Records between two "stage" progress events. */
const PROGRESS_ROWS = 2000;
/** Most change-log entries a preview keeps. */
const PREVIEW_CHANGES = 10_000;

interface RunRow {
  recordId: number | null;
  settings: RunSettings;
  trigger: string;
  preview: boolean;
  approves: number | null;
}

async function loadRun(exec: SqlExecutor, runId: number): Promise<RunRow> {
  const [row] = await exec.all(
    "SELECT record_id, options, trigger, preview, approves_run_id FROM runs WHERE id = ?",
    [runId],
  );
  if (!row) throw new Error(`There is no run ${runId}`);
  return {
    recordId: row["record_id"] === null ? null : Number(row["record_id"]),
    settings: JSON.parse(String(row["options"])) as RunSettings,
    trigger: String(row["trigger"]),
    preview: Number(row["preview"]) === 1,
    approves: row["approves_run_id"] === null ? null : Number(row["approves_run_id"]),
  };
}

/** Extension tables and the record school's periods and days, read once per run. */
async function loadSetup(exec: SqlExecutor, schoolId: number) {
  const extensions = await readExtensionTables(exec);
  const periods = (await exec.all(
    "SELECT abbreviation, sort_order FROM periods WHERE school_number = ? ORDER BY sort_order",
    [schoolId],
  )).map((r) => ({ abbreviation: String(r["abbreviation"]), sortOrder: Number(r["sort_order"]) }));
  const days = (await exec.all(
    "SELECT abbreviation, sort_order FROM days WHERE school_number = ? ORDER BY sort_order",
    [schoolId],
  )).map((r) => ({ abbreviation: String(r["abbreviation"]), sortOrder: Number(r["sort_order"]) }));
  return { extensions, periods, days };
}

/**
 * A section's meetings as staged: a JSON object of each period's days,
 * `{"3":["A","B"],"4":["A"]}`. apply.ts takes it apart with two `json_each` and no
 * function call per meeting (a third of the time an array of pairs took). The parser
 * sorts meetings by period, so a period's days are together.
 */
export function meetingsJson(meetings: readonly Meeting[]): string {
  const parts: string[] = [];
  let period: string | null = null;
  let days: string[] = [];
  for (const m of meetings) {
    if (m.period !== period) {
      if (period !== null) parts.push(`${JSON.stringify(period)}:${JSON.stringify(days)}`);
      period = m.period;
      days = [];
    }
    days.push(m.day);
  }
  if (period !== null) parts.push(`${JSON.stringify(period)}:${JSON.stringify(days)}`);
  return `{${parts.join(",")}}`;
}

/** Most distinct section expressions whose parse is kept for the rest of the run. */
const EXPRESSION_CACHE = 10_000;

/**
 * The map-stage check of a table, if it has one: a section's expression is parsed
 * into its meetings (a bad one is an error of the row), staged by `meetingsJson`.
 */
function rowCheck(
  plan: ImportPlan,
  mapper: RowMapper,
  periods: PeriodDef[],
  days: DayDef[],
): ((row: SqlValue[], errors: RowError[]) => void) | undefined {
  if (plan.table !== "sections") return undefined;
  const pf = plan.values.find((v) => v.field.name === "Expression");
  if (!pf) return undefined;
  const slot = mapper.slot(pf.stageColumn);
  const meetings = mapper.extraSlot;
  const cache = new Map<string, { meetings: string } | { message: string }>();
  return (row, errors) => {
    const expression = row[slot];
    const mask = row[2] as string;
    if (mask.charCodeAt(pf.maskPosition) !== 49 || typeof expression !== "string") return;
    if (expression === "") return;
    let parsed = cache.get(expression);
    if (!parsed) {
      const result = parseExpression(expression, periods, days);
      parsed = result.ok
        ? { meetings: meetingsJson(result.meetings) }
        : { message: result.message };
      if (cache.size < EXPRESSION_CACHE) cache.set(expression, parsed);
    }
    if ("meetings" in parsed) {
      row[meetings] = parsed.meetings;
      return;
    }
    errors.push({
      line: row[0] as number,
      field: "Expression",
      code: "bad_expression",
      message: `Expression: ${parsed.message}`,
    });
  };
}

/**
 * The last id the change log has given out. A run writes its entries inside its
 * one write transaction, so they are the ids after this one when it starts, up to
 * this one when it ends: the range kept on the run row.
 */
async function changeLogEnd(exec: SqlExecutor): Promise<number> {
  const [row] = await exec.all("SELECT seq FROM sqlite_sequence WHERE name = 'run_changes'");
  return Number(row?.["seq"] ?? 0);
}

/** The embedded file's data version: it changes when another connection commits. */
async function dataVersion(exec: SqlExecutor): Promise<number> {
  const [row] = await exec.all("PRAGMA data_version");
  return Number(row?.["data_version"]);
}

/**
 * Opens the file of a run, once: a held run's kept copy, the file a one-off import
 * names, or the record's path under the import root (`openImportFile`: never a file
 * outside it). Everything after reads the file through this handle.
 */
async function openRunFile(
  exec: SqlExecutor,
  run: RunRow,
  env: RunEnvironment,
): Promise<OpenedFile & { name: string }> {
  const named = (path: string) => ({ name: path.split("/").pop() ?? path });
  if (run.approves !== null) {
    const [held] = await exec.all("SELECT status, held_path FROM runs WHERE id = ?", [
      run.approves,
    ]);
    // Approved once: a second approval of the same held run applies nothing.
    if (held?.["status"] !== "held") {
      throw new FileRejection(
        "not_held",
        `Run ${run.approves} is ${held?.["status"] ?? "gone"}, not held; nothing was applied`,
      );
    }
    const path = held["held_path"];
    if (typeof path !== "string") {
      throw new FileRejection("no_held_file", `Run ${run.approves} has no held file`);
    }
    return { ...named(path), ...await openNamedFile(path) };
  }
  if (run.settings.file !== null) {
    return { ...named(run.settings.file), ...await openNamedFile(run.settings.file) };
  }
  const path = run.settings.path ?? "";
  return {
    name: recordFileName(path, run.settings.schoolId),
    ...await openImportFile(env.importRoot, path, run.settings.schoolId),
  };
}

/** The file name of a record's path: its last segment, `{school}` substituted. */
function recordFileName(path: string, school: number): string {
  const last = path.split(/[\\/]+/).filter((p) => p !== "").pop() ?? path;
  return last.replaceAll(/\{school\}/gi, String(school));
}

/** A file read by {@linkcode hashedChunks}: its size and, once read to the end, its SHA-256. */
export interface FileDigest {
  bytes: number;
  sha256: string | null;
}

/**
 * Files up to this size are read whole and hashed with Web Crypto; larger ones are
 * hashed as they stream, with `node:crypto`, whose module alone takes about 15 ms
 * to load — a quarter of a small import.
 */
const WHOLE_FILE_BYTES = 8 * 1024 * 1024;
/** Size of the chunks a file read whole is handed on in. */
const CHUNK_BYTES = 64 * 1024;

let heapTuned = false;

/**
 * Heap tuning for a large file, once per process. V8's allocation-site pretenuring
 * sees some of a batch's short-lived rows survive a young-generation collection and
 * starts allocating them straight into the old generation, where they pile up until
 * a full collection: at 1.4 million schedule rows about 40 MB more peak memory and 3 %
 * more time, in runs where the heuristic fires (bench). `node:v8` takes ~5 ms to load,
 * so small files leave the flag as it is.
 */
async function tuneHeapFor(size: number): Promise<void> {
  if (heapTuned || size <= WHOLE_FILE_BYTES) return;
  heapTuned = true;
  const { setFlagsFromString } = await import("node:v8");
  setFlagsFromString("--no-allocation-site-pretenuring");
}

/**
 * Reads an open file from where it stands as a stream of chunks and hashes it, in one
 * pass; `digest` is filled in at the end. `size` (the handle's) chooses how: a file up
 * to `wholeFileBytes` is read whole, a larger one chunk by chunk.
 */
export async function* hashedChunks(
  file: Deno.FsFile,
  size: number,
  digest: FileDigest,
  wholeFileBytes = WHOLE_FILE_BYTES,
) {
  if (size <= wholeFileBytes) {
    const bytes = await readToEnd(file, size);
    digest.bytes = bytes.byteLength;
    for (let i = 0; i < bytes.byteLength; i += CHUNK_BYTES) {
      yield bytes.subarray(i, i + CHUNK_BYTES);
    }
    const sum = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    digest.sha256 = Array.from(sum, (b) => b.toString(16).padStart(2, "0")).join("");
    return;
  }
  const { createHash } = await import("node:crypto");
  const hash = createHash("sha256");
  for (;;) {
    const buffer = new Uint8Array(CHUNK_BYTES);
    const n = await file.read(buffer);
    if (n === null) break;
    const chunk = n === CHUNK_BYTES ? buffer : buffer.subarray(0, n);
    hash.update(chunk);
    digest.bytes += n;
    yield chunk;
  }
  digest.sha256 = hash.digest("hex");
}

/** The rest of an open file, expected to be `size` bytes (it may have grown or shrunk). */
async function readToEnd(file: Deno.FsFile, size: number): Promise<Uint8Array<ArrayBuffer>> {
  // One byte more than expected, so that the end is seen without growing the buffer.
  let buffer = new Uint8Array(size + 1);
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      const larger = new Uint8Array(buffer.length * 2);
      larger.set(buffer);
      buffer = larger;
    }
    const n = await file.read(buffer.subarray(length));
    if (n === null) break;
    length += n;
  }
  return buffer.subarray(0, length);
}

/** The run is not queued (another process took it, or it ended): leave it alone. */
export class RunNotClaimable extends Error {
  constructor(runId: number) {
    super(`Run ${runId} is not queued`);
    this.name = "RunNotClaimable";
  }
}

/** The run was asked to stop (`RunEnvironment.signal`); nothing was changed. */
export class RunStopped extends Error {
  constructor(reason: unknown) {
    super(typeof reason === "string" ? reason : "The run was stopped before it finished");
    this.name = "RunStopped";
  }
}

/** Why a run of a record that reads over a managed connection fails (SFTP is not built yet). */
export const MANAGED_UNAVAILABLE =
  "This record gets its file over a managed connection (SFTP), which this version of AutoComm cannot fetch yet; no local file was read and nothing was changed";

/** What a run stopped for when the process that asked for it is gone. */
export const OWNER_GONE =
  "The process that started the run (the service or the command) stopped before the run finished; nothing was changed";

/**
 * The safe points where a run asked to stop (`RunEnvironment.signal`), whose lease
 * another process took, or whose owner is gone (`RunEnvironment.ownerAlive`) ends.
 */
class SafePoints {
  readonly #signal: AbortSignal | undefined;
  readonly #ownerAlive: (() => boolean) | undefined;
  #lastTurn = performance.now();

  constructor(signal: AbortSignal | undefined, ownerAlive?: () => boolean) {
    this.#signal = signal;
    this.#ownerAlive = ownerAlive;
  }

  /** Throws {@linkcode RunStopped} when the run must stop (between batches). */
  check(): void {
    if (this.#signal?.aborted) throw new RunStopped(this.#signal.reason);
    if (this.#ownerAlive && !this.#ownerAlive()) throw new RunStopped(OWNER_GONE);
  }

  /**
   * The same after long synchronous work (the apply's SQLite calls never yield): if
   * more than 100 ms went by since the last time, it first lets the event loop run once
   * (a timer, ~2 ms), so that a signal's listener waiting behind that work can abort.
   */
  async settle(): Promise<void> {
    if (!this.#signal && !this.#ownerAlive) return;
    if (performance.now() - this.#lastTurn > 100) {
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
      this.#lastTurn = performance.now();
    }
    this.check();
  }
}

const NUMBER_OF_RECORDS = /^\s*number_of_records\s*=\s*(\d+)\s*$/i;

/** Executes a queued run to its end. Never throws for problems in the file. */
export async function executeRun(
  exec: SqlExecutor,
  runId: number,
  env: RunEnvironment,
): Promise<RunOutcome> {
  const now = env.now ?? (() => new Date());
  const run = await loadRun(exec, runId);
  const s = run.settings;
  const started = now();
  const claimed = await exec.run(
    `UPDATE runs SET status = 'running', started_at = ?, lease_expires_at = ? WHERE id = ? AND status IN ('queued', 'waiting')`,
    [
      started.toISOString(),
      leaseEnd(started, env.leaseSeconds).toISOString(),
      runId,
    ],
  );
  if (claimed === 0) throw new RunNotClaimable(runId);
  using lease = new RunLease(exec, runId, { seconds: env.leaseSeconds });
  const today = todayIn(env.timeZone, started);
  const notes: FileNote[] = [];
  const counts: RunCounts = { ...ZERO };
  const safePoints = new SafePoints(
    env.signal ? AbortSignal.any([env.signal, lease.lost]) : lease.lost,
    env.ownerAlive,
  );

  const finish = async (
    status: RunStatus,
    message: string | null,
    extra: Record<string, SqlValue> = {},
  ) => {
    const fields: Record<string, SqlValue> = {
      status,
      message,
      ended_at: now().toISOString(),
      lease_expires_at: null,
      today,
      read: counts.read,
      inserted: counts.inserted,
      updated: counts.updated,
      unchanged: counts.unchanged,
      skipped: counts.skipped,
      rejected: counts.rejected,
      removed: counts.removed,
      inactivated: counts.inactivated,
      blank_lines: counts.blankLines,
      short_rows: counts.shortRows,
      ...extra,
    };
    const keys = Object.keys(fields);
    // Only a run still running is this process's: one another process marked
    // interrupted (its lease had expired) keeps that outcome, and nothing commits.
    const ended = await exec.run(
      `UPDATE runs SET ${
        keys.map((k) => `"${k}" = ?`).join(", ")
      } WHERE id = ? AND status = 'running'`,
      [...keys.map((k) => fields[k]!), runId],
    );
    if (ended === 0) throw new RunStopped(LEASE_LOST);
    if (notes.length > 0) {
      await exec.many(
        "INSERT INTO run_notes (run_id, code, message, line) VALUES (?, ?, ?, ?)",
        notes.map((n) => [runId, n.code, n.message, n.line ?? null]),
      );
    }
    return { runId, status, counts, message };
  };

  // A managed record's file is on an SFTP server: never read a local file in its place.
  if (s.source === "managed") return await finish("failed", MANAGED_UNAVAILABLE);

  // Fetch: the file is opened once; its size, time, hash and bytes come from the handle.
  const shown = s.file ?? s.path;
  let opened: Awaited<ReturnType<typeof openRunFile>>;
  try {
    opened = await openRunFile(exec, run, env);
  } catch (error) {
    if (error instanceof UnsafePathError) {
      return await finish(
        "rejected",
        `Cannot read the file ${shown}: ${error.message}; nothing was read`,
      );
    }
    if (error instanceof FileRejection) return await finish("rejected", error.message);
    if (error instanceof NoFileError) {
      return await finish(
        "no_file",
        error.kind === "missing" ? `There is no file at ${shown}` : `${shown} is not a file`,
        { file_name: recordFileName(shown ?? "", s.schoolId) },
      );
    }
    throw error;
  }
  using file = opened.file;
  const stat = opened.info;
  const fileName = opened.name;
  if (run.approves === null && s.file === null && stat.nlink !== null && stat.nlink > 1) {
    notes.push({
      code: "hard_linked",
      message:
        `${shown} has ${stat.nlink} hard links: AutoComm cannot tell whether another name of the same file lies outside the import folder`,
    });
  }
  const stableFor = (now().getTime() - (stat.mtime?.getTime() ?? 0)) / 1000;
  if (run.approves === null && s.minFileAgeSeconds > 0 && stableFor < s.minFileAgeSeconds) {
    await exec.run(
      "UPDATE runs SET status = 'waiting', lease_expires_at = NULL, file_name = ?, file_size = ?, message = ? WHERE id = ?",
      [
        fileName,
        stat.size,
        `The file changed ${
          Math.max(0, Math.floor(stableFor))
        } s ago; waiting until it has been unchanged for ${s.minFileAgeSeconds} s`,
        runId,
      ],
    );
    return { runId, status: "waiting", counts, message: null };
  }

  await tuneHeapFor(stat.size);
  const { extensions, periods, days } = await loadSetup(exec, s.schoolId);
  const plan = buildPlan(s.table, s.fields, s.schoolId, {
    mode: s.attendanceMode ?? "daily",
    extensions,
    ignoreBlankCells: s.ignoreBlankCells,
  });
  const names = stageNames(exec, runId, plan, stat.size >= env.stagingThreadMinBytes);
  const mapper = new RowMapper(plan);
  const check = rowCheck(plan, mapper, periods, days);
  const digest: FileDigest = { bytes: 0, sha256: null };
  const stats: ParseStats = { blankLines: 0, records: 0, lines: 0 };
  let dataRecords = 0;
  let declared: number | null = null;
  let first = true;
  let stagingOpen = false;
  /** Data version of the embedded file while staging looked up existing records. */
  let stagedVersion: number | null = null;
  /** The target's largest id when staging began (embedded; 0: the table was empty). */
  let existing: number | null = null;
  let staged = 0;
  /** Records read when the last "stage" progress was reported. */
  let reported = 0;
  const scope = new Set<string | number>();
  /** The lines that may repeat a match key (`duplicates.ts`). */
  let candidates: DuplicateLines | undefined;
  /** Rows with more fields than mapped, the extra ones all empty (a note, not an error). */
  const extraEmpty: { rows: number; first: number | null } = { rows: 0, first: null };

  try {
    await createStage(exec, plan, names);
    // Decode, parse, frame, map and stage, one batch at a time.
    try {
      const records = parseRecords(
        decodeStream(hashedChunks(file, stat.size, digest), s.charset, { notes }),
        {
          fieldDelimiter: s.fieldDelimiter,
          recordDelimiter: s.recordDelimiter,
          notes,
          stats,
          batchSize: BATCH,
        },
      );
      // Staging writes only the import's temporary tables: one transaction on the
      // embedded file makes them fast and takes no lock on the SIS tables. Its one
      // snapshot of the SIS is what the references are checked against and what each
      // row's existing record is looked up in; the apply transaction uses those
      // lookups only if no other connection has committed since (`data_version`).
      if (exec.embedded) {
        await exec.exec("BEGIN");
        stagingOpen = true;
      }
      // Into an empty table (a first load) every row is new: nothing to look up. The
      // largest id bounds the table's size without counting it.
      const [top] = exec.embedded
        ? await exec.all(`SELECT max(id) AS n FROM ${TARGET[plan.table]}`)
        : [];
      existing = exec.embedded ? Number(top?.["n"] ?? 0) : null;
      const resolveTargets = existing !== null && existing > 0;
      const lookups = await Lookups.load(exec, plan, mapper, {
        updateExisting: s.updateExisting,
        today,
        // Loading every existing record's key costs about a third of looking one up
        // per row: worth it for a table up to a few times the file's rows (64 bytes a
        // row, as below), not for a short file into a large table.
        targetsInMemory: resolveTargets && existing! <= 4 * (stat.size / 64),
      });
      if (exec.embedded) stagedVersion = await dataVersion(exec);
      const stager = new Stager(exec, plan, names, {
        resolveTargets,
        targetOf: lookups.targetOf,
        // A guess of the rows from the file's size (64 bytes a row: most files' rows
        // are longer), so that the table of key hashes seldom grows.
        expectedRows: stat.size / 64,
      });
      const rowErrors: RowError[] = [];
      // The terms (sections, schedules) or dates (attendance) the file names.
      const scopeSlot = mapper.scopeSlot;
      for await (const batch of records) {
        safePoints.check();
        const rows: SqlValue[][] = [];
        const sink = {
          errors: [] as StagedError[],
          conditional: [] as ConditionalError[],
          marks: [] as number[],
        };
        /** Rows of a school whose sections are not loaded yet, checked after the batch. */
        const pending: { row: SqlValue[]; errors: RowError[] }[] = [];
        for (const record of batch) {
          if (first) {
            first = false;
            const only = record.fields.length === 1 ||
              record.fields.slice(1).every((f) => f.trim() === "");
            const m = only ? NUMBER_OF_RECORDS.exec(record.fields[0] ?? "") : null;
            if (m) {
              declared = Number(m[1]);
              if (!s.expectRecordCount) {
                notes.push({
                  code: "record_count_line_skipped",
                  message:
                    `Line ${record.line} (number_of_records=${declared}) was skipped; the record does not check it`,
                  line: record.line,
                });
              }
              continue;
            }
            if (s.expectRecordCount) {
              throw new FileRejection(
                "missing_record_count",
                `Cannot read line ${record.line}: the record expects the first line to read number_of_records=N`,
                { line: record.line },
              );
            }
          }
          const header = dataRecords === 0 ? isHeader(plan, record.fields) : null;
          if (header !== null) {
            if (header === "same") {
              notes.push({
                code: "header_skipped",
                message: `Line ${record.line} is a header row; skipped`,
                line: record.line,
              });
              continue;
            }
            throw new FileRejection(
              "header_mismatch",
              `Cannot read line ${record.line}: it is a header naming the fields in another order than the record's field list (${
                plan.mappedNames.join(", ")
              }); the columns would land in the wrong fields`,
              { line: record.line },
            );
          }
          dataRecords++;
          if (record.fields.length < plan.columns.length) counts.shortRows++;
          else if (
            record.fields.length > plan.columns.length &&
            record.fields.slice(plan.columns.length).every((f) => f.trim() === "")
          ) {
            extraEmpty.rows++;
            extraEmpty.first ??= record.line;
          }
          rowErrors.length = 0;
          const row = mapper.map(record.line, record.fields, rowErrors, check);
          if (rowErrors.length > 0) {
            const json = JSON.stringify(record.fields);
            for (const e of rowErrors) sink.errors.push({ ...e, row: json, ord: 0 });
          }
          if (row === null) continue; // the key cannot be read: rejected, not staged
          rows.push(row);
          if (lookups.pending(row) === null) lookups.check(row, rowErrors, sink);
          else pending.push({ row, errors: [...rowErrors] });
        }
        for (const p of pending) {
          await lookups.loadSchool(lookups.pending(p.row)!);
          lookups.check(p.row, p.errors, sink);
        }
        await stager.write(rows, sink.errors, sink.conditional, sink.marks);
        if (scopeSlot >= 0) {
          for (const row of rows) scope.add(row[scopeSlot] as string | number);
        }
        staged += rows.length;
        if (dataRecords - reported >= PROGRESS_ROWS) {
          reported = dataRecords;
          env.onProgress?.({ phase: "stage", rows: dataRecords });
        }
      }
      candidates = await stager.flush();
      if (extraEmpty.first !== null) {
        notes.push({
          code: "extra_empty_fields",
          message: `${extraEmpty.rows} ${
            extraEmpty.rows === 1 ? "row has" : "rows have"
          } more fields than mapped, all empty (such as a spreadsheet's trailing tabs); the extra fields were ignored (first on line ${extraEmpty.first})`,
          line: extraEmpty.first,
        });
      }
      if (stagingOpen) {
        stagingOpen = false;
        await exec.exec("COMMIT");
      }
      if (s.expectRecordCount && declared === null && dataRecords === 0 && first === false) {
        throw new FileRejection(
          "missing_record_count",
          "The record expects a first line number_of_records=N",
        );
      }
      if (s.expectRecordCount && declared !== null && declared !== dataRecords) {
        throw new FileRejection(
          "record_count_mismatch",
          `Cannot import: line 1 says number_of_records=${declared} but the file has ${dataRecords} data records`,
          { line: 1 },
        );
      }
    } catch (error) {
      if (stagingOpen) await exec.exec("ROLLBACK");
      if (error instanceof FileRejection) {
        counts.blankLines = stats.blankLines;
        return await finish("rejected", error.message, {
          file_name: fileName,
          file_size: digest.bytes || stat.size,
          file_sha256: null,
        });
      }
      throw error;
    }
    const sha256 = digest.sha256;
    counts.read = dataRecords;
    counts.blankLines = stats.blankLines;
    const fileInfo = { file_name: fileName, file_size: digest.bytes, file_sha256: sha256 };
    if (dataRecords === 0) {
      return await finish("empty", "The file has no data records; nothing was changed", fileInfo);
    }
    const duplicates = await indexStage(exec, plan, names, candidates!);
    await safePoints.settle();

    // Validate and apply in one transaction. Validation changes no SIS table; the
    // writes run under a savepoint so that a preview keeps its report while every
    // change to the SIS is undone. A held run writes nothing.
    /** A held run's copy of its file, removed again if the run does not commit. */
    let kept: string | null = null;
    await exec.begin();
    try {
      const changesBefore = await changeLogEnd(exec);
      const targetsResolved = stagedVersion !== null &&
        (await dataVersion(exec)) === stagedVersion;
      const options = {
        runId,
        today,
        updateExisting: s.updateExisting,
        synchronize: s.synchronize,
        inactivateExited: s.inactivateExited,
        removalLimitPercent: s.removalLimitPercent,
        enforceRemovalLimit: run.approves === null,
        targetsResolved,
        noneExisting: targetsResolved && existing === 0,
        duplicates,
        staged,
        scope: [...scope],
        ...(env.onProgress ? { onProgress: env.onProgress } : {}),
      };
      const validation = await validateStaged(exec, plan, names, options);
      Object.assign(counts, {
        inserted: validation.counts.inserted,
        updated: validation.counts.updated,
        unchanged: validation.counts.unchanged,
        skipped: validation.counts.skipped,
      });
      counts.rejected = counts.read - counts.inserted - counts.updated - counts.unchanged -
        counts.skipped;
      let status: RunStatus;
      let message: string | null = null;
      const extra: Record<string, SqlValue> = { ...fileInfo };
      if (validation.held) {
        // The keys that would go are the held run's report.
        const keys = await heldRemovals(exec, names);
        status = "held";
        counts.removed = validation.held.removals;
        message =
          `Held: Synchronize Mode would remove ${validation.held.removals} of ${validation.held.activeBefore} active records (more than the removal limit of ${s.removalLimitPercent}%). Nothing was changed; approve or discard the run.`;
        await exec.many(
          "INSERT INTO run_changes (run_id, table_name, action, key, changes) VALUES (?, ?, 'remove', ?, NULL)",
          keys.map((k) => [runId, plan.table, k["key"] ?? null]),
        );
        kept = await keepHeldFile(file, env.dataDir, runId, fileName);
        extra["held_path"] = kept;
        extra["held_until"] = new Date(now().getTime() + 24 * 3600 * 1000).toISOString();
      } else {
        await exec.exec("SAVEPOINT apply");
        const written = await writeStaged(exec, plan, names, options, validation);
        Object.assign(counts, {
          inserted: validation.counts.inserted,
          unchanged: validation.counts.unchanged,
          skipped: validation.counts.skipped,
        });
        counts.rejected = counts.read - counts.inserted - counts.updated - counts.unchanged -
          counts.skipped;
        counts.inactivated = written.inactivated;
        counts.removed = written.removed;
        if (run.preview) {
          const changes = await exec.all(
            `SELECT table_name, action, key, changes FROM run_changes WHERE id > ? ORDER BY id LIMIT ${PREVIEW_CHANGES}`,
            [changesBefore],
          );
          await exec.exec("ROLLBACK TO apply");
          await exec.many(
            "INSERT INTO run_changes (run_id, table_name, action, key, changes) VALUES (?, ?, ?, ?, ?)",
            changes.map((
              c,
            ) => [runId, c["table_name"]!, c["action"]!, c["key"]!, c["changes"] ?? null]),
          );
          status = "preview";
        } else {
          status = counts.rejected > 0 ? "succeeded_with_errors" : "succeeded";
        }
        await exec.exec("RELEASE apply");
      }
      await writeErrors(exec, plan, names, runId);
      if (status === "succeeded" || status === "succeeded_with_errors") {
        // A committed run settles earlier held runs: an approved one is done, any
        // other held run of the same record is discarded.
        if (run.approves !== null) {
          await exec.run("UPDATE runs SET status = 'approved' WHERE id = ? AND status = 'held'", [
            run.approves,
          ]);
        }
        if (run.recordId !== null) {
          await exec.run(
            "UPDATE runs SET status = 'discarded', message = 'Discarded: a later run of the record committed' WHERE record_id = ? AND status = 'held' AND id < ?",
            [run.recordId, runId],
          );
        }
      }
      const changesAfter = await changeLogEnd(exec);
      if (changesAfter > changesBefore) {
        extra["changes_from"] = changesBefore + 1;
        extra["changes_to"] = changesAfter;
      }
      await safePoints.settle();
      const outcome = await finish(status, message, extra);
      await exec.commit();
      return outcome;
    } catch (error) {
      await exec.rollback().catch(() => {});
      if (kept) await Deno.remove(kept).catch(() => {});
      throw error;
    }
  } finally {
    await dropStage(exec, names).catch(() => {});
  }
}

/** Copies row errors from staging into the run's report, with each row's cells. */
async function writeErrors(exec: SqlExecutor, plan: ImportPlan, names: StageNames, runId: number) {
  const all = [...plan.keys, ...plan.values, ...plan.extensions, ...plan.context];
  const cells = plan.columns.map((f) => {
    const pf = all.find((p) => p.field === f);
    return pf ? `s.${pf.stageColumn}` : "NULL";
  });
  await exec.run(
    `INSERT INTO run_errors (run_id, line, field, code, message, row)
     SELECT ?, e.line, e.field, e.code, e.message,
       coalesce(e.row, (SELECT json_array(${
      cells.join(", ")
    }) FROM ${names.rows} s WHERE s.line = e.line))
     FROM ${names.errors} e ORDER BY e.line, e.ord, e.rowid`,
    [runId],
  );
}

/** `same` for a header equal to the field list, `other` for catalog names in another order. */
function isHeader(plan: ImportPlan, cells: readonly string[]): "same" | "other" | null {
  const names = cells.filter((c) => c.trim() !== "").map(normaliseFieldName);
  if (names.length === 0) return null;
  const mapped = plan.mappedNames.map(normaliseFieldName);
  if (names.length === mapped.length && names.every((n, i) => n === mapped[i])) return "same";
  const catalog = new Set(plan.catalog.fields.map((f) => normaliseFieldName(f.name)));
  if (names.length >= 2 && names.every((n) => catalog.has(n))) return "other";
  return null;
}

/** Copies the run's open file, from its start, under `<dataDir>/held/`. */
async function keepHeldFile(
  file: Deno.FsFile,
  dataDir: string,
  runId: number,
  fileName: string,
): Promise<string> {
  const dir = `${dataDir}/held`;
  await Deno.mkdir(dir, { recursive: true });
  const target = `${dir}/run-${runId}-${fileName.replace(/[^A-Za-z0-9._-]/g, "_")}`;
  await file.seek(0, Deno.SeekMode.Start);
  using out = await Deno.open(target, { write: true, create: true, truncate: true });
  const buffer = new Uint8Array(1024 * 1024);
  for (;;) {
    const n = await file.read(buffer);
    if (n === null) break;
    let written = 0;
    while (written < n) written += await out.write(buffer.subarray(written, n));
  }
  return target;
}

/** How an execution ended, as the import process reports it. */
export type ExecutionEnd =
  | { event: "done"; status: RunStatus }
  | { event: "skipped"; message: string }
  | { event: "failed"; message: string };

/**
 * Executes a queued run and never throws: a run another process took is
 * `skipped`; a run asked to stop (`env.signal`) rolls back and is marked
 * interrupted (`done`); any other failure rolls back, marks the run failed
 * (nothing was changed) and is `failed`.
 */
export async function executeRunToEnd(
  exec: SqlExecutor,
  runId: number,
  env: RunEnvironment,
): Promise<ExecutionEnd> {
  try {
    const outcome = await executeRun(exec, runId, env);
    return { event: "done", status: outcome.status };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof RunNotClaimable) return { event: "skipped", message };
    const stopped = error instanceof RunStopped;
    try {
      await exec.rollback();
      await exec.run(
        `UPDATE runs SET status = '${
          stopped ? "interrupted" : "failed"
        }', message = ?, ended_at = ?, lease_expires_at = NULL WHERE id = ? AND status IN ('queued', 'running', 'waiting')`,
        [
          stopped ? message : `The run failed and changed nothing: ${message}`,
          new Date().toISOString(),
          runId,
        ],
      );
    } catch {
      // The database itself is unreachable; the lease marks the run interrupted later.
    }
    return stopped ? { event: "done", status: "interrupted" } : { event: "failed", message };
  }
}
