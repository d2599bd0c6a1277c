/**
 * The orchestrator of one run, in the import's own process:
 *
 *   claim (run row) → fetch → decode → parse → frame → map → stage → validate+apply → report
 *
 * It owns the run row. Every stage is its own module; this file only composes
 * them, keeps the counts, and decides the run's status.
 */
import { isTransactionTimeout } from "../db/busy.ts";
import type { Charset } from "./decode.ts";
import { decodeStream } from "./decode.ts";
import { type FileNote, FileRejection, type RowError } from "./errors.ts";
import type { SqlExecutor, SqlValue } from "./executor.ts";
import {
  type FieldDelimiter,
  type ParsedRecord,
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
import { NoFileError, UnsafePathError } from "./paths.ts";
import { Framer } from "./frame.ts";
import { tableRules } from "../sis/tables/registry.ts";
import { FetchFailure, SourceChanged } from "./fetch_failures.ts";
import {
  databaseSpool,
  type FileDigest,
  type FileSource,
  fileSpool,
  hashedChunks,
  HELD_IN_DATABASE,
  keepHeldFile,
  openRunSource,
  recordFileName,
  removeHeldChunks,
  type SourceStat,
  unchangedFor,
} from "./fetch.ts";
import { LEASE_LOST, RunLease, RunProgress } from "./lease.ts";
import { type AttendanceMode, type ImportTable } from "../sis/catalog.ts";
import { readExtensionTables } from "./run_store.ts";
import { type DayDef, type Meeting, parseExpression, type PeriodDef } from "../sis/expressions.ts";
import { todayIn } from "../sis/values.ts";
import {
  discardedMessage,
  failedMessage,
  interruptedMessage,
  leaseEnd,
  type RunProgressState,
  type RunStatus,
  transitionStatement,
} from "./run_state.ts";

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
  /** The managed connection of a `managed` record. */
  connectionId?: number | null;
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

export type { RunStatus };

/** What the import process needs besides the database. */
export interface RunEnvironment {
  importRoot: string;
  dataDir: string;
  timeZone: string;
  /** Length of the run's lease; this process renews it every third of it (`lease.ts`). */
  leaseSeconds: number;
  /** Keys that open managed connections' secrets (`AUTOCOMM_SECRET_KEY`, `…_PREVIOUS`). */
  secretKeys?: { current: Uint8Array | undefined; previous: Uint8Array | undefined };
  /** The current instant; tests may fix it. */
  now?: () => Date;
  onProgress?: (event: { phase: string; rows: number }) => void;
  /**
   * Called about once a second while the run is under way, and at each new stage, with
   * its stage, rows and bytes read and the file's size (`lease.ts`, `RunProgress`).
   */
  onStage?: (progress: RunProgressState) => void;
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
  /**
   * A run in the service's own event loop (inline mode) lets the loop run (a timer,
   * so that requests and timers are served) whenever this many milliseconds of its
   * work went by without a turn; unset in the import process.
   */
  yieldEveryMs?: number;
  /**
   * Inline mode (`import_mode.ts`, the serverless profile): no local disk. A record's
   * local folder is refused, a download is spooled and a held run's file kept in the
   * database (`held_file_chunks`), and the run yields every {@linkcode INLINE_YIELD_MS}.
   */
  inline?: boolean;
}

/** Milliseconds of an inline run's work between two turns of the event loop. */
export const INLINE_YIELD_MS = 10;

/** The environment of a run from the configuration; callers add progress and a signal. */
export function runEnvironment(
  config:
    & Pick<
      RunEnvironment,
      "importRoot" | "dataDir" | "timeZone" | "stagingThreadMinBytes"
    >
    & {
      runLeaseSeconds: number;
      secretKey?: Uint8Array | undefined;
      secretKeyPrevious?: Uint8Array | undefined;
      importMode?: "process" | "inline" | undefined;
    },
): RunEnvironment {
  const inline = config.importMode === "inline";
  return {
    ...(inline ? { inline, yieldEveryMs: INLINE_YIELD_MS } : {}),
    secretKeys: { current: config.secretKey, previous: config.secretKeyPrevious },
    importRoot: config.importRoot,
    dataDir: config.dataDir,
    timeZone: config.timeZone,
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
  // Only a table that stages meetings (sections) has an expression to parse.
  if (!tableRules(plan.table).extraColumns.includes("meetings")) return undefined;
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
  if (heapTuned || size <= 8 * 1024 * 1024) return;
  heapTuned = true;
  const { setFlagsFromString } = await import("node:v8");
  setFlagsFromString("--no-allocation-site-pretenuring");
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
    super(typeof reason === "string" ? reason : interruptedMessage("stopped"));
    this.name = "RunStopped";
  }
}

/** What a run stopped for when the process that asked for it is gone. */
const OWNER_GONE = interruptedMessage("owner_gone");

/**
 * The safe points where a run asked to stop (`RunEnvironment.signal`), whose lease
 * another process took, or whose owner is gone (`RunEnvironment.ownerAlive`) ends.
 */
class SafePoints {
  readonly #signal: AbortSignal | undefined;
  readonly #ownerAlive: (() => boolean) | undefined;
  readonly #yieldEveryMs: number | undefined;
  #lastTurn = performance.now();

  constructor(
    signal: AbortSignal | undefined,
    options: { ownerAlive?: (() => boolean) | undefined; yieldEveryMs?: number | undefined } = {},
  ) {
    this.#signal = signal;
    this.#ownerAlive = options.ownerAlive;
    this.#yieldEveryMs = options.yieldEveryMs;
  }

  /**
   * Between batches in inline mode (`RunEnvironment.yieldEveryMs`): lets the event loop
   * run once when the run has worked that long without a turn, then checks.
   */
  async turn(): Promise<void> {
    if (
      this.#yieldEveryMs !== undefined && performance.now() - this.#lastTurn >= this.#yieldEveryMs
    ) {
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
      this.#lastTurn = performance.now();
    }
    this.check();
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

/** What the stages of one run share: its row, its environment, its report so far. */
interface RunContext {
  exec: SqlExecutor;
  runId: number;
  run: RunRow;
  env: RunEnvironment;
  now: () => Date;
  /** The date in the service's time zone when the run started. */
  today: string;
  notes: FileNote[];
  counts: RunCounts;
  safePoints: SafePoints;
  /** The run's stage and how much it has read, for the pages and the CLI. */
  progress: RunProgress;
}

/**
 * Executes a queued run to its end. Never throws for problems in the file. The
 * stages in order: claim, fetch ({@linkcode fetchFile}), decode → parse → frame →
 * map → stage ({@linkcode stageFile}), validate and apply ({@linkcode applyStaged}).
 */
export async function executeRun(
  exec: SqlExecutor,
  runId: number,
  env: RunEnvironment,
): Promise<RunOutcome> {
  const now = env.now ?? (() => new Date());
  const run = await loadRun(exec, runId);
  const started = now();
  const claim = transitionStatement(runId, "running", {
    from: ["queued", "waiting"],
    set: {
      started_at: started.toISOString(),
      lease_expires_at: leaseEnd(started, env.leaseSeconds).toISOString(),
      // The progress starts over (a waiting run tried again read its file before).
      stage: "fetching",
      rows_read: 0,
      bytes_read: 0,
      progress_at: started.toISOString(),
    },
  });
  const claimed = await exec.run(claim.sql, claim.args);
  if (claimed === 0) throw new RunNotClaimable(runId);
  using lease = new RunLease(exec, runId, { seconds: env.leaseSeconds });
  using progress = new RunProgress(exec, runId, {
    dataDir: env.dataDir,
    ...(env.onStage ? { onReport: env.onStage } : {}),
  });
  progress.enter("fetching");
  const ctx: RunContext = {
    exec,
    runId,
    run,
    env,
    now,
    today: todayIn(env.timeZone, started),
    notes: [],
    counts: { ...ZERO },
    safePoints: new SafePoints(
      env.signal ? AbortSignal.any([env.signal, lease.lost]) : lease.lost,
      { ownerAlive: env.ownerAlive, yieldEveryMs: env.yieldEveryMs },
    ),
    progress,
  };
  const fetched = await fetchFile(ctx);
  if ("status" in fetched) return fetched;
  using _source = fetched.source;
  const prepared = await prepareStaging(ctx, fetched.stat);
  try {
    const staged = await stageFile(ctx, fetched, prepared);
    if ("status" in staged) return staged;
    return await applyStaged(ctx, fetched, { ...prepared, ...staged });
  } finally {
    await dropStage(exec, prepared.names).catch(() => {});
  }
}

/**
 * Ends the run with its outcome: status, message, counts and notes. Only a run still
 * running is this process's: one another process marked interrupted (its lease had
 * expired) keeps that outcome, and nothing commits ({@linkcode RunStopped}).
 */
async function finishRun(
  ctx: RunContext,
  status: RunStatus,
  options: { message: string | null; extra?: Record<string, SqlValue> },
): Promise<RunOutcome> {
  const { exec, runId, counts, notes, today, now } = ctx;
  const message = options.message;
  const extra = options.extra ?? {};
  const fields: Record<string, SqlValue> = {
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
  const end = transitionStatement(runId, status, { from: ["running"], set: fields });
  const ended = await exec.run(end.sql, end.args);
  if (ended === 0) throw new RunStopped(LEASE_LOST);
  if (notes.length > 0) {
    await exec.many(
      "INSERT INTO run_notes (run_id, code, message, line) VALUES (?, ?, ?, ?)",
      notes.map((n) => [runId, n.code, n.message, n.line ?? null]),
    );
  }
  return { runId, status, counts, message };
}

/** The run's file, opened once, and what it tells without being read. */
interface FetchedFile {
  source: FileSource;
  stat: SourceStat;
  /** Leaves the run waiting for its file to settle; the tick tries it again each minute. */
  wait(message: string): Promise<RunOutcome>;
}

/**
 * The fetch stage: opens the file once (its size, time, hash and bytes come from the
 * source), and ends the run when there is none, it may not be read, or it is still
 * being written (waiting).
 */
async function fetchFile(ctx: RunContext): Promise<FetchedFile | RunOutcome> {
  const { exec, run, env, notes, runId, counts } = ctx;
  const s = run.settings;
  const shown = s.file ?? s.path;
  let source: FileSource;
  try {
    source = await openRunSource(exec, run, {
      importRoot: env.importRoot,
      // Without a local disk a download is spooled in the database, under the run.
      spool: () => env.inline ? databaseSpool(exec, runId) : fileSpool(`${env.dataDir}/tmp`),
      localFolder: !env.inline,
      keys: env.secretKeys ?? { current: undefined, previous: undefined },
    });
  } catch (error) {
    const end = (status: RunStatus, message: string, extra?: Record<string, SqlValue>) =>
      finishRun(ctx, status, { message, ...(extra ? { extra } : {}) });
    if (error instanceof UnsafePathError) {
      return await end(
        "rejected",
        `Cannot read the file ${shown}: ${error.message}; nothing was read`,
      );
    }
    if (error instanceof FileRejection) return await end("rejected", error.message);
    if (error instanceof FetchFailure) return await end("failed", error.message);
    if (error instanceof NoFileError) {
      return await end(
        "no_file",
        error.kind === "missing" ? `There is no file at ${shown}` : `${shown} is not a file`,
        { file_name: recordFileName(shown ?? "", s.schoolId) },
      );
    }
    throw error;
  }
  const stat = await source.stat();
  const wait = async (message: string): Promise<RunOutcome> => {
    const waiting = transitionStatement(runId, "waiting", {
      from: ["running"],
      set: { lease_expires_at: null, file_name: source.fileName, file_size: stat.size, message },
    });
    if (await exec.run(waiting.sql, waiting.args) === 0) throw new RunStopped(LEASE_LOST);
    return { runId, status: "waiting", counts, message: null };
  };
  const fetched = { source, stat, wait };
  if (s.source === "managed" && run.approves === null) {
    notes.push({ code: "fetched_sftp", message: `Fetched ${source.displayName} over SFTP` });
  }
  if (run.approves === null && s.file === null && stat.links !== null && stat.links > 1) {
    notes.push({
      code: "hard_linked",
      message:
        `${shown} has ${stat.links} hard links: AutoComm cannot tell whether another name of the same file lies outside the import folder`,
    });
  }
  if (run.approves === null && s.minFileAgeSeconds > 0) {
    // Still being written: changed (in time or, since an earlier look, in size) within
    // the minimum file age.
    const [seen] = await exec.all("SELECT file_size FROM runs WHERE id = ?", [runId]);
    const previousSize = typeof seen?.["file_size"] === "number" ? seen["file_size"] : null;
    const stableFor = unchangedFor(stat, { now: ctx.now(), previousSize });
    if (stableFor < s.minFileAgeSeconds && run.preview) {
      // A preview answers now: it reads the file as it is and says that it is recent.
      notes.push({
        code: "file_recent",
        message: `The file changed ${
          Math.floor(stableFor)
        } s ago, within the minimum file age of ${s.minFileAgeSeconds} s: the preview read it as it was; a run waits until it has been unchanged that long`,
      });
    } else if (stableFor < s.minFileAgeSeconds) {
      try {
        return await wait(
          `The file changed ${
            Math.floor(stableFor)
          } s ago; waiting until it has been unchanged for ${s.minFileAgeSeconds} s`,
        );
      } finally {
        source[Symbol.dispose]();
      }
    }
  }
  return fetched;
}

/** What staging needs before the first byte: the plan, the staging tables' names, the mapper. */
interface PreparedStaging {
  plan: ImportPlan;
  names: StageNames;
  mapper: RowMapper;
  check: ReturnType<typeof rowCheck>;
}

async function prepareStaging(ctx: RunContext, stat: SourceStat): Promise<PreparedStaging> {
  const { exec, runId, env } = ctx;
  const s = ctx.run.settings;
  await tuneHeapFor(stat.size);
  const { extensions, periods, days } = await loadSetup(exec, s.schoolId);
  const plan = buildPlan(s.table, s.fields, s.schoolId, {
    mode: s.attendanceMode ?? "daily",
    extensions,
    ignoreBlankCells: s.ignoreBlankCells,
  });
  const names = stageNames(exec, runId, plan, stat.size >= env.stagingThreadMinBytes);
  const mapper = new RowMapper(plan);
  return { plan, names, mapper, check: rowCheck(plan, mapper, periods, days) };
}

/** What staging the file found, for the apply. */
interface StagedFile {
  framer: Framer;
  digest: FileDigest;
  stats: ParseStats;
  /** Data version of the embedded file while staging looked up existing records. */
  stagedVersion: number | null;
  /** The target's largest id when staging began (0: the table was empty). */
  existing: number;
  /** True when staging wrote each row's existing record (`tid`) as it was then. */
  targetsStaged: boolean;
  staged: number;
  scope: Set<string | number>;
  /** The lines that may repeat a match key (`duplicates.ts`). */
  candidates: DuplicateLines;
}

/**
 * Decode, parse, frame, map and stage, one batch at a time. A refused file, a file
 * that changed while it was read, or a failed download ends the run here.
 */
async function stageFile(
  ctx: RunContext,
  fetched: FetchedFile,
  prepared: PreparedStaging,
): Promise<StagedFile | RunOutcome> {
  const { exec, notes, counts } = ctx;
  const s = ctx.run.settings;
  const { source, stat } = fetched;
  const { plan, names } = prepared;
  const digest: FileDigest = { bytes: 0, sha256: null };
  const stats: ParseStats = { blankLines: 0, records: 0, lines: 0 };
  let stagingOpen = false;
  const framer = new Framer(plan, { expectRecordCount: s.expectRecordCount, notes, counts });
  await createStage(exec, plan, names);
  try {
    const records = parseRecords(
      decodeStream(
        // A download is parsed as it arrives, whatever its size (`FileSource.downloads`).
        hashedChunks(source.open(), stat.size, digest, source.downloads ? 0 : undefined),
        s.charset,
        { notes },
      ),
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
    // lookups only if no other connection has committed since (`data_version`), so
    // from here on the progress is not written to the run's row on the embedded file.
    ctx.progress.enter("reading", {
      size: stat.size,
      counters: { rows: () => framer.dataRecords, bytes: () => digest.bytes },
    });
    if (exec.embedded) {
      ctx.progress.holdDatabase();
      await exec.exec("BEGIN");
      stagingOpen = true;
    }
    const snapshot = await openSnapshot(ctx, stat, prepared);
    const { staged, scope } = await stageBatches(ctx, records, {
      ...prepared,
      ...snapshot,
      framer,
    });
    const candidates = await snapshot.stager.flush();
    if (stagingOpen) {
      stagingOpen = false;
      await exec.exec("COMMIT");
    }
    framer.finish();
    const { stagedVersion, existing, targetsStaged } = snapshot;
    return {
      framer,
      digest,
      stats,
      stagedVersion,
      existing,
      targetsStaged,
      staged,
      scope,
      candidates,
    };
  } catch (error) {
    if (stagingOpen) await exec.exec("ROLLBACK");
    return await stagingFailed(ctx, error, { fetched, digest, stats });
  }
}

/** What staging looks existing records up in, and writes the staged rows with. */
interface StagingSnapshot {
  lookups: Lookups;
  stager: Stager;
  /** Data version of the embedded file (null: a remote server). */
  stagedVersion: number | null;
  /** The target's largest id (0: the table is empty). */
  existing: number;
  /** True when the stager writes each row's existing record (`tid`). */
  targetsStaged: boolean;
}

/**
 * The lookups (reference data, existing records' keys) and the stager of a run, read
 * inside the staging transaction on the embedded file (see {@linkcode stageFile}).
 */
async function openSnapshot(
  ctx: RunContext,
  stat: SourceStat,
  prepared: PreparedStaging,
): Promise<StagingSnapshot> {
  const { exec, today } = ctx;
  const s = ctx.run.settings;
  const { plan, names, mapper } = prepared;
  // Into an empty table (a first load) every row is new: nothing to look up. The
  // largest id bounds the table's size without counting it.
  const [top] = await exec.all(`SELECT max(id) AS n FROM ${TARGET[plan.table]}`);
  const existing = Number(top?.["n"] ?? 0);
  // Loading every existing record's key costs about a third of looking one up per
  // row: worth it for a table up to a few times the file's rows (64 bytes a row, as
  // below), not for a short file into a large table.
  const inMemory = existing > 0 && existing <= 4 * (stat.size / 64);
  const lookups = await Lookups.load(exec, plan, mapper, {
    updateExisting: s.updateExisting,
    today,
    targetsInMemory: inMemory,
  });
  // On the embedded file a row's record is otherwise looked up as it is staged, in
  // the same statement. A remote server gets the rows as JSON in few requests (a
  // statement with a lookup per row would go one row a request): there only records
  // found in memory — tables that keep their keys there — are staged with the rows,
  // and the apply corrects the ones changed meanwhile (`targetsStaged` in apply.ts).
  const resolveTargets = exec.embedded ? existing > 0 : lookups.targetOf !== undefined;
  const stagedVersion = exec.embedded ? await dataVersion(exec) : null;
  const stager = new Stager(exec, plan, names, {
    resolveTargets,
    targetOf: lookups.targetOf,
    // A guess of the rows from the file's size (64 bytes a row: most files' rows
    // are longer), so that the table of key hashes seldom grows.
    expectedRows: stat.size / 64,
  });
  return { lookups, stager, stagedVersion, existing, targetsStaged: resolveTargets };
}

/**
 * The batches of parsed records: each record framed, mapped and checked against the
 * lookups, then the batch written to the stage. Returns the rows staged and the scope
 * (the terms — sections, schedules — or dates — attendance — the file names).
 */
async function stageBatches(
  ctx: RunContext,
  records: AsyncIterable<ParsedRecord[]>,
  staging: PreparedStaging & StagingSnapshot & { framer: Framer },
): Promise<{ staged: number; scope: Set<string | number> }> {
  const { env, safePoints } = ctx;
  const { mapper, check, lookups, stager, framer } = staging;
  const scope = new Set<string | number>();
  let staged = 0;
  /** Records read when the last "stage" progress was reported. */
  let reported = 0;
  const rowErrors: RowError[] = [];
  const scopeSlot = mapper.scopeSlot;
  for await (const batch of records) {
    await safePoints.turn();
    const rows: SqlValue[][] = [];
    const sink = {
      errors: [] as StagedError[],
      conditional: [] as ConditionalError[],
      marks: [] as number[],
    };
    /** Rows of a school whose sections are not loaded yet, checked after the batch. */
    const pending: { row: SqlValue[]; errors: RowError[] }[] = [];
    for (const record of batch) {
      if (!framer.accept(record)) continue;
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
    if (framer.dataRecords - reported >= PROGRESS_ROWS) {
      reported = framer.dataRecords;
      env.onProgress?.({ phase: "stage", rows: framer.dataRecords });
    }
  }
  return { staged, scope };
}

/**
 * How staging ended early: a file that changed while it was read waits to be tried
 * again, a failed download fails the run, a refused file rejects it; anything else is
 * thrown on.
 */
async function stagingFailed(
  ctx: RunContext,
  error: unknown,
  read: { fetched: FetchedFile; digest: FileDigest; stats: ParseStats },
): Promise<RunOutcome> {
  const { fetched } = read;
  if (error instanceof SourceChanged) return await fetched.wait(`${error.message}; trying again`);
  if (error instanceof FetchFailure) {
    return await finishRun(ctx, "failed", { message: error.message });
  }
  if (error instanceof FileRejection) {
    ctx.counts.blankLines = read.stats.blankLines;
    return await finishRun(ctx, "rejected", {
      message: error.message,
      extra: {
        file_name: fetched.source.fileName,
        file_size: read.digest.bytes || fetched.stat.size,
        file_sha256: null,
      },
    });
  }
  throw error;
}

/**
 * Validate and apply in one transaction. Validation changes no SIS table; the writes
 * run under a savepoint so that a preview keeps its report while every change to the
 * SIS is undone. A held run writes nothing but its report and keeps its file.
 */
async function applyStaged(
  ctx: RunContext,
  fetched: FetchedFile,
  file: PreparedStaging & StagedFile,
): Promise<RunOutcome> {
  const { exec, run, counts } = ctx;
  const { plan, names, digest, framer, stats } = file;
  const fileName = fetched.source.fileName;
  const sha256 = digest.sha256;
  if (run.approves !== null) {
    // An approval applies exactly the file that was held.
    const [held] = await exec.all("SELECT file_sha256 FROM runs WHERE id = ?", [run.approves]);
    if (held?.["file_sha256"] !== sha256) {
      return await finishRun(ctx, "rejected", {
        message:
          `The kept file of run ${run.approves} is not the file that was held (its SHA-256 differs); nothing was applied`,
        extra: { file_name: fileName, file_size: digest.bytes, file_sha256: sha256 },
      });
    }
  }
  counts.read = framer.dataRecords;
  counts.blankLines = stats.blankLines;
  const fileInfo = { file_name: fileName, file_size: digest.bytes, file_sha256: sha256 };
  if (framer.dataRecords === 0) {
    return await finishRun(ctx, "empty", {
      message: "The file has no data records; nothing was changed",
      extra: fileInfo,
    });
  }
  ctx.progress.enter("checking");
  const duplicates = await indexStage(exec, plan, names, file.candidates);
  await ctx.safePoints.settle();
  // What the apply changes of the run's own state, to start again from.
  const before = { counts: { ...counts }, notes: ctx.notes.length };
  for (let attempt = 1;; attempt++) {
    /** A held run's copy of its file, removed again if the run does not commit. */
    const kept: { path: string | null } = { path: null };
    await exec.begin();
    try {
      const outcome = await applyInTransaction(ctx, fetched, {
        ...file,
        duplicates,
        fileInfo,
        kept,
      });
      await exec.commit();
      return outcome;
    } catch (error) {
      await exec.rollback().catch(() => {});
      if (kept.path === HELD_IN_DATABASE) await removeHeldChunks(exec, ctx.runId).catch(() => {});
      else if (kept.path) await Deno.remove(kept.path).catch(() => {});
      // A libSQL server gave the write lock of an apply longer than 5 s to another
      // writer and rolled it back: the staged rows are still there (tables of the
      // server), so the apply starts again from them, a few times.
      if (exec.embedded || !isTransactionTimeout(error) || attempt >= APPLY_ATTEMPTS) throw error;
      Object.assign(counts, before.counts);
      ctx.notes.length = before.notes;
    }
  }
}

/** How many times an apply over a libSQL server is tried when the server ends it. */
const APPLY_ATTEMPTS = 3;
/** The validation and writes of {@linkcode applyStaged}, inside its transaction. */
async function applyInTransaction(
  ctx: RunContext,
  fetched: FetchedFile,
  file: PreparedStaging & StagedFile & {
    duplicates: Awaited<ReturnType<typeof indexStage>>;
    fileInfo: Record<string, SqlValue>;
    kept: { path: string | null };
  },
): Promise<RunOutcome> {
  const { exec, run, runId, env, counts, today, safePoints } = ctx;
  const s = run.settings;
  const { plan, names, stagedVersion, existing, targetsStaged, duplicates, staged, scope } = file;
  const { fileInfo } = file;
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
    targetsStaged,
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
    status = "held";
    message = await holdRun(ctx, fetched, { ...file, held: validation.held, extra });
  } else {
    await exec.exec("SAVEPOINT apply");
    ctx.progress.enter("applying");
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
  ctx.progress.enter("reporting");
  await writeErrors(exec, plan, names, runId);
  if (status === "succeeded" || status === "succeeded_with_errors") {
    // A committed run settles earlier held runs: an approved one is done, any
    // other held run of the same record is discarded.
    if (run.approves !== null) {
      const approved = transitionStatement(run.approves, "approved", { from: ["held"] });
      await exec.run(approved.sql, approved.args);
    }
    if (run.recordId !== null) {
      const discarded = transitionStatement(
        { sql: "record_id = ? AND id < ?", args: [run.recordId, runId] },
        "discarded",
        { from: ["held"], set: { message: discardedMessage("superseded") } },
      );
      await exec.run(discarded.sql, discarded.args);
    }
  }
  const changesAfter = await changeLogEnd(exec);
  if (changesAfter > changesBefore) {
    extra["changes_from"] = changesBefore + 1;
    extra["changes_to"] = changesAfter;
  }
  await safePoints.settle();
  return await finishRun(ctx, status, { message, extra });
}

/**
 * A run over the removal limit applies nothing: its report lists the keys that would
 * go, and its file is kept for an approval. Returns the run's message.
 */
async function holdRun(
  ctx: RunContext,
  fetched: FetchedFile,
  file: PreparedStaging & {
    held: { removals: number; activeBefore: number };
    extra: Record<string, SqlValue>;
    kept: { path: string | null };
  },
): Promise<string> {
  const { exec, runId, env, counts } = ctx;
  const s = ctx.run.settings;
  const { plan, names, held, extra } = file;
  // The keys that would go are the held run's report.
  const keys = await heldRemovals(exec, names);
  counts.removed = held.removals;
  await exec.many(
    "INSERT INTO run_changes (run_id, table_name, action, key, changes) VALUES (?, ?, 'remove', ?, NULL)",
    keys.map((k) => [runId, plan.table, k["key"] ?? null]),
  );
  file.kept.path = await keepHeldFile(fetched.source, {
    dataDir: env.dataDir,
    runId,
    database: env.inline ? exec : undefined,
  });
  extra["held_path"] = file.kept.path;
  extra["held_until"] = new Date(ctx.now().getTime() + 24 * 3600 * 1000).toISOString();
  return `Held: Synchronize Mode would remove ${held.removals} of ${held.activeBefore} active records (more than the removal limit of ${s.removalLimitPercent}%). Nothing was changed; approve or discard the run.`;
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
  } catch (thrown) {
    // A run asked to stop while a request to a libSQL server was under way fails with
    // that request's abort (`OpenExecutorOptions.signal`): it stopped all the same.
    const error =
      !(thrown instanceof RunStopped || thrown instanceof RunNotClaimable) && env.signal?.aborted
        ? new RunStopped(env.signal.reason)
        : thrown;
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof RunNotClaimable) return { event: "skipped", message };
    const stopped = error instanceof RunStopped;
    try {
      // A transaction whose request was aborted may not roll back on its stream; the
      // server drops it when the stream ends, and the run's end is written anyway.
      await exec.rollback().catch(() => {});
      const end = transitionStatement(runId, stopped ? "interrupted" : "failed", {
        from: ["queued", "running", "waiting"],
        set: {
          message: stopped ? message : failedMessage(message),
          ended_at: new Date().toISOString(),
          lease_expires_at: null,
        },
      });
      await exec.run(end.sql, end.args);
    } catch {
      // The database itself is unreachable; the lease marks the run interrupted later.
    }
    return stopped ? { event: "done", status: "interrupted" } : { event: "failed", message };
  }
}
