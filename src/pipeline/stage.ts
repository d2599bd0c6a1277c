/**
 * Staging: the rows of a file, converted and typed, go into a staging table with
 * their line numbers before anything touches the SIS tables. On the embedded file
 * it is a TEMP table of the import's own connection — or, for a large file, a table
 * in the run's stage file, written by the staging thread (`side_writer.ts`) and
 * attached to the connection; on a remote server a real table named after the run,
 * dropped when the run ends. Row errors are staged beside it. The apply stage then
 * works set-based from these tables.
 *
 * On the embedded file each staged row is written once, with the id of its
 * existing record looked up in the same statement, several rows per statement
 * (a reused prepared statement; fewer calls into SQLite than one per row).
 */
import { type CatalogField, IMPORT_TABLES, type ImportTable, storageType } from "../sis/catalog.ts";
import { tableRules } from "../sis/tables/registry.ts";
import { lit } from "../sis/tables/rules.ts";
import { filePathOf, type SqlExecutor, type SqlValue } from "./executor.ts";
import { DuplicateCandidates, type DuplicateLines } from "./duplicates.ts";
import type { SideWriter } from "./side_writer.ts";
import {
  type ConditionalError,
  type ImportPlan,
  rowExtraColumns,
  stagedColumns,
  type StagedError,
} from "./plan.ts";

/** Names of a run's staging tables. */
export interface StageNames {
  /** Staged rows. */
  readonly rows: string;
  /** Row errors. */
  readonly errors: string;
  /** Errors that apply to new records only, or to existing ones only. */
  readonly conditional: string;
  /** Existing records whose rows need more than a look (apply.ts). */
  readonly flags: string;
  /** Keys found for removal (Synchronize Mode). */
  readonly removals: string;
  /** Lines the map stage marked (schedule rows a new record would save dropped). */
  readonly marks: string;
  /** The staged keys of the lines that may repeat a key (`duplicates.ts`). */
  readonly dupes: string;
  /**
   * The run's stage file (`side_writer.ts`), attached to the import's connection as
   * `schema`, where `rows` lives; null when `rows` is a table of the connection's own.
   */
  readonly side: { readonly schema: string; readonly file: string } | null;
}

/** The SIS table each import table writes (its rules' `target`). */
export const TARGET: Readonly<Record<ImportTable, string>> = Object.fromEntries(
  IMPORT_TABLES.map((t) => [t, tableRules(t).target]),
) as Record<ImportTable, string>;

/** A target table key column and the staging expression that matches it. */
export interface KeyColumn {
  column: string;
  name: string | null;
  expr: string;
}

export { lit };

/**
 * The target's key columns and the staged value each matches (staged row alias `s`):
 * the catalog key, with the columns the table fixes per mode around it (attendance).
 */
export function keyColumns(plan: ImportPlan, alias = "s"): KeyColumn[] {
  const keys: KeyColumn[] = plan.keys.map((k) => ({
    column: k.field.column,
    name: k.field.name,
    expr: `${alias}.${k.stageColumn}`,
  }));
  const fixed = tableRules(plan.table).fixedKeys?.(plan.mode);
  if (fixed) {
    keys.unshift(...fixed.before.map((k) => ({ column: k.column, name: null, expr: k.expr })));
    keys.push(...fixed.after.map((k) => ({ column: k.column, name: null, expr: k.expr })));
  }
  return keys;
}

/** `SELECT id` of the target record matching the staged row `alias`. */
export function targetIdOf(plan: ImportPlan, alias = "s"): string {
  return `(SELECT t.id FROM ${TARGET[plan.table]} t WHERE ${
    keyColumns(plan, alias).map((k) => `t.${k.column} = ${k.expr}`).join(" AND ")
  })`;
}

function affinity(field: CatalogField): string {
  return field.extension ? "TEXT" : storageType(field);
}

/** The column definitions of each staging table of a plan. */
function stageDefinitions(plan: ImportPlan): Record<Exclude<keyof StageNames, "side">, string> {
  const fields = [...plan.keys, ...plan.values, ...plan.extensions, ...plan.context];
  const keys = plan.keys.map((k) => `${k.stageColumn} ${affinity(k.field)}`);
  return {
    rows: [
      "line INTEGER PRIMARY KEY",
      "rej INTEGER NOT NULL DEFAULT 0",
      "mask TEXT NOT NULL",
      ...fields.map((f) => `${f.stageColumn} ${affinity(f.field)}`),
      ...rowExtraColumns(plan).map((c) => `${c} TEXT`),
      "ref_id INTEGER",
      "ref_text TEXT",
      "def TEXT",
      "tid INTEGER",
      "sec_id INTEGER",
      "react INTEGER NOT NULL DEFAULT 0",
      "diff TEXT",
    ].join(", "),
    errors:
      "line INTEGER NOT NULL, field TEXT NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL, row TEXT, ord INTEGER NOT NULL DEFAULT 0",
    conditional:
      "line INTEGER NOT NULL, w INTEGER NOT NULL, field TEXT NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL, ord INTEGER NOT NULL",
    flags:
      "line INTEGER PRIMARY KEY, elsewhere INTEGER NOT NULL, bad INTEGER NOT NULL, chg INTEGER NOT NULL, react INTEGER NOT NULL",
    removals: "id INTEGER PRIMARY KEY, key TEXT",
    marks: "line INTEGER PRIMARY KEY",
    dupes: ["line INTEGER PRIMARY KEY", ...keys].join(", "),
  };
}

/** A number for each set of staging-table definitions this process has seen. */
const shapeTags = new Map<string, string>();

function shapeTag(plan: ImportPlan): string {
  const key = JSON.stringify(stageDefinitions(plan));
  let tag = shapeTags.get(key);
  if (tag === undefined) shapeTags.set(key, tag = `k${shapeTags.size + 1}`);
  return tag;
}

/**
 * Names of the staging tables of a run.
 *
 * On the embedded file they are TEMP tables of the import's connection, named by
 * their columns (a number per set of definitions) and kept from run to run: a warm
 * import process's next run of the same kind of file empties them instead of
 * creating them again, and its statements stay prepared (a 3,000-row re-import:
 * ~10 % less time, bench/profile.ts --warm).
 * With `side` (a large file) and an executor that has a staging thread, the rows go
 * into the run's stage file instead. On a remote server they are real tables named
 * after the run.
 */
export function stageNames(
  exec: SqlExecutor,
  runId: number,
  plan: ImportPlan,
  side = false,
): StageNames {
  const file = side ? exec.side?.file : undefined;
  const schema = `side_${runId}`;
  const tag = exec.embedded ? shapeTag(plan) : String(runId);
  const prefix = exec.embedded ? "temp." : "";
  const name = (kind: StageTable) => `${prefix}stage_${STAGE_TABLES[kind]}${tag}`;
  return {
    rows: file ? `${schema}.stage_${runId}` : name("rows"),
    errors: name("errors"),
    conditional: name("conditional"),
    flags: name("flags"),
    removals: name("removals"),
    marks: name("marks"),
    dupes: name("dupes"),
    side: file ? { schema, file: stageFile(file, runId) } : null,
  };
}

/** The staging tables of a run. */
type StageTable = Exclude<keyof StageNames, "side">;
/** What each staging table's name has between `stage_` and its tag (or run id). */
const STAGE_TABLES: Readonly<Record<StageTable, string>> = {
  rows: "",
  errors: "errors_",
  conditional: "cond_",
  flags: "flags_",
  removals: "removals_",
  marks: "marks_",
  dupes: "dupes_",
};
/** A remote server's staging table name: `stage_`, the table's infix, the run id. */
const REMOTE_STAGE_TABLE = new RegExp(
  `^stage_(?:${Object.values(STAGE_TABLES).filter((x) => x !== "").join("|")})?(\\d+)$`,
);

/** The run whose staging table on a remote server is `name` (see above), or null. */
export function stageTableRun(name: string): number | null {
  const m = REMOTE_STAGE_TABLE.exec(name);
  return m ? Number(m[1]) : null;
}

/** A staging table's name without its schema. */
const bare = (n: string) => n.replace(/^\w+\./, "");
/** The schema of a staging table's name, with its dot (`temp.`), or "". */
const schemaOf = (n: string) => /^\w+\./.exec(n)?.[0] ?? "";

/** The stage file of run `runId` on the embedded database `file` (`side_writer.ts`). */
function stageFile(file: string, runId: number): string {
  return `${file}-stage-${runId}`;
}

/**
 * Removes the stage file of a run whose import process died before it could
 * (`databaseUrl` is the configuration's; nothing to do for a remote server).
 */
export async function removeRunStage(databaseUrl: string, runId: number): Promise<void> {
  const file = filePathOf(databaseUrl);
  if (file !== undefined) await removeStageFile(stageFile(file, runId));
}

/** Removes a stage file and what SQLite keeps beside it. */
async function removeStageFile(file: string): Promise<void> {
  for (const f of [file, `${file}-journal`]) {
    await Deno.remove(f).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }
}

/** The staging tables of `names` other than the stage file's, in creation order. */
function ownTables(names: StageNames): [StageTable, string][] {
  return (Object.keys(STAGE_TABLES) as StageTable[])
    .filter((k) => !(k === "rows" && names.side))
    .map((k) => [k, names[k]]);
}

/** The index of every staged key, made when the duplicate check needs it (`indexStage`). */
const rowsKeyIndex = (names: StageNames) => `${schemaOf(names.rows)}${bare(names.rows)}_key`;

/**
 * Creates the staging tables, or on the embedded file empties the ones an earlier
 * run of the connection left (remote: drops leftovers of an earlier attempt first).
 */
export async function createStage(
  exec: SqlExecutor,
  plan: ImportPlan,
  names: StageNames,
): Promise<void> {
  const definitions = stageDefinitions(plan);
  if (names.side) {
    exec.side?.writer.start();
    // Left by an attempt of the same run that died.
    await removeStageFile(names.side.file);
    await exec.run(`ATTACH DATABASE ? AS ${names.side.schema}`, [names.side.file]);
    const sc = names.side.schema;
    await exec.exec(
      `PRAGMA ${sc}.synchronous = OFF; PRAGMA ${sc}.cache_size = -16384;
       CREATE TABLE ${names.rows} (${definitions.rows});`,
    );
  }
  const tables = ownTables(names);
  const keys = plan.keys.map((k) => k.stageColumn).join(", ");
  // The small tables' indexes from the start: errors are looked up by line, the
  // candidate duplicates by key.
  const indexes = `
    CREATE INDEX IF NOT EXISTS ${schemaOf(names.errors)}${bare(names.errors)}_line ON ${
    bare(names.errors)
  } (line, ord);
    CREATE INDEX IF NOT EXISTS ${schemaOf(names.dupes)}${bare(names.dupes)}_key ON ${
    bare(names.dupes)
  } (${keys});`;
  if (exec.embedded) {
    await exec.exec(`
      ${
      tables.map(([k, n]) => `CREATE TEMP TABLE IF NOT EXISTS ${bare(n)} (${definitions[k]});`)
        .join("\n")
    }
      ${indexes}
      ${emptyScript(names)}`);
  } else {
    await exec.exec(`
      ${tables.map(([, n]) => `DROP TABLE IF EXISTS ${n};`).join("\n")}
      ${tables.map(([k, n]) => `CREATE TABLE ${n} (${definitions[k]});`).join("\n")}
      ${indexes}`);
  }
}

/** Empties the kept TEMP tables of the embedded file (and drops the index of every key). */
function emptyScript(names: StageNames): string {
  return [
    ...(names.side ? [] : [`DROP INDEX IF EXISTS ${rowsKeyIndex(names)};`]),
    ...ownTables(names).map(([, n]) => `DELETE FROM ${n};`),
  ].join("\n");
}

/**
 * How long a remote server may keep the import waiting to drop its staging tables:
 * the run has ended by then, and the import process should take the next one rather
 * than wait on a server busy with something else (its own log compaction, another
 * writer); the tables left are dropped by the hourly housekeeping
 * (`removeOrphanStages` in `src/schedule/hourly.ts`).
 */
export const REMOTE_DROP_WAIT_MS = 30_000;

/**
 * Ends the run's staging tables: emptied and kept on the embedded file, dropped on a
 * remote server (waiting at most `dropWaitMs`); the stage file is detached and removed.
 */
export async function dropStage(
  exec: SqlExecutor,
  names: StageNames,
  dropWaitMs = REMOTE_DROP_WAIT_MS,
): Promise<void> {
  try {
    if (exec.embedded) await exec.exec(emptyScript(names));
    else {
      const drop = exec.exec(
        ownTables(names).map(([, n]) => `DROP TABLE IF EXISTS ${n};`).join("\n"),
      );
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waited = new Promise<void>((resolve) => timer = setTimeout(resolve, dropWaitMs));
      try {
        await Promise.race([drop, waited]);
      } finally {
        clearTimeout(timer);
        drop.catch(() => {}); // after the wait: the housekeeping drops what is left
      }
    }
  } finally {
    if (names.side) {
      await exec.side?.writer.abort();
      // Not attached when createStage failed before it could.
      const attached = await exec.all("SELECT name FROM pragma_database_list WHERE name = ?", [
        names.side.schema,
      ]);
      if (attached.length > 0) await exec.exec(`DETACH DATABASE ${names.side.schema}`);
      await removeStageFile(names.side.file);
    }
  }
}

/** Options of {@linkcode Stager}. */
export interface StagerOptions {
  /**
   * Look up each row's existing record (`tid`) while staging it. Only valid when
   * nothing can change the SIS between staging and applying, or when the caller
   * checks that nothing did (see `run.ts`).
   */
  resolveTargets: boolean;
  /**
   * With `resolveTargets`: finds a row's existing record in memory (`Lookups.targetOf`),
   * bound as one more parameter instead of a subquery per row, in the larger statements
   * of plain staging.
   */
  targetOf?: ((row: readonly SqlValue[]) => number | null) | undefined;
  /** A guess of the rows to come, for the table of key hashes (`duplicates.ts`). */
  expectedRows: number;
}

/** Most parameters of one multi-row staging statement. */
const PARAMS_PER_STATEMENT = 480;
/**
 * Most parameters of one when no row looks up its existing record: larger
 * statements mean fewer calls (0.2–0.5 s less at a million rows), but with a
 * lookup per row each statement compiles that many subqueries, and the import
 * process grew by 40–70 MB (bench/profile.ts).
 */
const PARAMS_PER_PLAIN_STATEMENT = 2000;
/**
 * Rows a remote server is sent at once: one `many` call, one request of JSON rows
 * (`LibsqlExecutor.many`), the next batch parsed while it is stored (`#send`). Larger
 * sets bought no time — the server's inserts are the cost — and cost memory: the
 * import process peaked at 274 MB with 4,000 and 393 MB with 10,000 (students,
 * bench/profile.ts --url).
 */
const REMOTE_ROWS = 2000;

/** Writes batches of staged rows and row errors. */
export class Stager {
  readonly #exec: SqlExecutor;
  readonly #names: StageNames;
  readonly #columns: string[];
  /** Slots of the staged row bound, in the order of `#columns`. */
  readonly #slots: number[];
  readonly #perStatement: number;
  readonly #tidSql: string | null;
  /** Slots of the staged row whose values the tid lookup binds again. */
  readonly #tidSlots: number[];
  readonly #keySlots: number[];
  readonly #targetOf: ((row: readonly SqlValue[]) => number | null) | null;
  readonly #statements = new Map<number, string>();
  /** The staging thread, when the rows go into the stage file. */
  readonly #side: SideWriter | null;
  /** The key hashes, taken here when there is no staging thread to take them. */
  readonly #candidates: DuplicateCandidates | null;

  constructor(exec: SqlExecutor, plan: ImportPlan, names: StageNames, options: StagerOptions) {
    this.#exec = exec;
    this.#names = names;
    const all = stagedColumns(plan);
    // `rej` (slot 1) is not bound: it is 1 on few rows, set from the errors afterwards.
    this.#slots = all.map((_, i) => i).filter((i) => i !== 1);
    this.#columns = this.#slots.map((i) => all[i]!);
    this.#keySlots = plan.keys.map((k) => all.indexOf(k.stageColumn));
    this.#targetOf = options.resolveTargets ? options.targetOf ?? null : null;
    if (this.#targetOf) this.#columns.push("tid");
    const width = this.#columns.length;
    this.#perStatement = exec.embedded
      ? Math.max(
        1,
        options.resolveTargets && !this.#targetOf
          ? Math.floor(PARAMS_PER_STATEMENT / (width + plan.keys.length))
          : Math.floor(PARAMS_PER_PLAIN_STATEMENT / width),
      )
      : 1;
    // Embedded only: to a remote server rows go as JSON (`LibsqlExecutor.many`), which
    // a statement with a lookup per row would turn into a request per row; `run.ts`
    // resolves remotely only with `targetOf`, and the apply corrects every row anyway.
    if (options.resolveTargets && !this.#targetOf && exec.embedded) {
      // Per row: `(SELECT t.id FROM target t WHERE t.key = ? …)`, the key values bound
      // again after the row's columns (plain `?` parameters: node:sqlite binds
      // numbered ones about three times slower).
      const keys = keyColumns(plan);
      const slots: number[] = [];
      this.#tidSql = `(SELECT t.id FROM ${TARGET[plan.table]} t WHERE ${
        keys.map((k) => {
          const i = plan.keys.findIndex((p) => `s.${p.stageColumn}` === k.expr);
          if (i < 0) return `t.${k.column} = ${k.expr}`;
          slots.push(this.#keySlots[i]!);
          return `t.${k.column} = ?`;
        }).join(" AND ")
      })`;
      this.#tidSlots = slots;
    } else {
      this.#tidSql = null;
      this.#tidSlots = [];
    }
    this.#side = names.side ? exec.side?.writer ?? null : null;
    if (names.side && this.#side) {
      // The thread finds a row's line and key among a statement's arguments (#push).
      this.#side.open(names.side.file, {
        width: this.#slots.length + (this.#targetOf ? 1 : 0) + this.#tidSlots.length,
        keys: this.#keySlots.map((slot) => this.#slots.indexOf(slot)),
        expectedRows: options.expectedRows,
      });
      this.#candidates = null;
    } else {
      this.#candidates = new DuplicateCandidates(this.#keySlots, options.expectedRows);
    }
  }

  /** The INSERT of `n` rows. */
  #sql(n: number): string {
    let sql = this.#statements.get(n);
    if (sql) return sql;
    const one = `(${this.#columns.map(() => "?").join(", ")}${
      this.#tidSql ? `, ${this.#tidSql}` : ""
    })`;
    const columns = this.#tidSql ? [...this.#columns, "tid"] : this.#columns;
    // The staging thread's connection has the stage file as its main database.
    const table = this.#side ? bare(this.#names.rows) : this.#names.rows;
    sql = `INSERT INTO ${table} (${columns.join(", ")}) VALUES ${
      Array.from({ length: n }, () => one).join(", ")
    }`;
    this.#statements.set(n, sql);
    return sql;
  }

  #push(args: SqlValue[], row: readonly SqlValue[]): void {
    for (const slot of this.#slots) args.push(row[slot]!);
    if (this.#targetOf) args.push(this.#targetOf(row));
    for (const slot of this.#tidSlots) args.push(row[slot]!);
  }

  /** Rows and errors given to {@linkcode write} and not written yet. */
  #rows: SqlValue[][] = [];
  #errors: StagedError[] = [];
  #conditional: ConditionalError[] = [];
  #marks: number[] = [];

  /**
   * Takes one batch. Rows are written in whole statements (embedded) or in requests
   * of {@linkcode REMOTE_ROWS} (remote); the rest waits for the next batch or
   * {@linkcode flush}.
   */
  async write(
    rows: readonly SqlValue[][],
    errors: readonly StagedError[],
    conditional: readonly ConditionalError[],
    marks: readonly number[] = [],
  ): Promise<void> {
    for (const r of rows) this.#rows.push(r);
    if (this.#candidates) { for (const r of rows) this.#candidates.add(r); }
    for (const e of errors) this.#errors.push(e);
    for (const c of conditional) this.#conditional.push(c);
    for (const m of marks) this.#marks.push(m);
    const unit = this.#exec.embedded ? this.#perStatement : REMOTE_ROWS;
    if (this.#rows.length >= unit) await this.#writeRows(false);
    if (this.#errors.length + this.#conditional.length + this.#marks.length >= REMOTE_ROWS) {
      await this.#writeOthers();
    }
  }

  /** Writes everything still waiting; returns the lines that may repeat a key. */
  async flush(): Promise<DuplicateLines> {
    const duplicates = await this.#writeRows(true);
    await this.#writeOthers();
    await this.#send(null);
    return duplicates ?? this.#candidates!.found;
  }

  /** With `all`, on the staging thread: what its hashes found. */
  async #writeRows(all: boolean): Promise<DuplicateLines | undefined> {
    const exec = this.#exec;
    const rows = this.#rows;
    if (exec.embedded) {
      const per = this.#perStatement;
      const statements: [string, SqlValue[]][] = [];
      let i = 0;
      for (; i + per <= rows.length; i += per) {
        const args: SqlValue[] = [];
        for (let r = i; r < i + per; r++) this.#push(args, rows[r]!);
        statements.push([this.#sql(per), args]);
      }
      if (all && i < rows.length) {
        const args: SqlValue[] = [];
        for (let r = i; r < rows.length; r++) this.#push(args, rows[r]!);
        statements.push([this.#sql(rows.length - i), args]);
        i = rows.length;
      }
      this.#rows = rows.slice(i);
      if (this.#side) {
        if (statements.length > 0) await this.#side.run(statements);
        if (all) return await this.#side.finish();
      } else {
        for (const [sql, args] of statements) await exec.run(sql, args);
      }
    } else if (rows.length > 0) {
      const args = rows.map((row) => {
        const one: SqlValue[] = [];
        this.#push(one, row);
        return one;
      });
      this.#rows = [];
      await this.#send(() => exec.many(this.#sql(1), args));
    }
    if (all) await this.#send(null);
    return undefined;
  }

  /** The remote request under way (see {@linkcode #send}); resolves to its error, if any. */
  #inFlight: Promise<unknown> | null = null;

  /**
   * Writes on the embedded file at once. To a remote server it starts `write` — which
   * turns the rows into the request's JSON at once and queues the request behind the
   * one under way (the executor sends its writes one at a time, in order) — then
   * waits for the one under way, throwing its error, and returns without waiting for
   * this one: the next batch is read, parsed and mapped, and this one's JSON made,
   * while the server stores the one before. `null` only waits.
   */
  async #send(write: (() => Promise<void>) | null): Promise<void> {
    if (this.#exec.embedded) {
      await write?.();
      return;
    }
    const previous = this.#inFlight;
    this.#inFlight = write
      ? write().then(() => undefined, (e: unknown) => e ?? new Error(String(e)))
      : null;
    const error = previous ? await previous : undefined;
    if (error !== undefined) throw error;
  }

  async #writeOthers(): Promise<void> {
    const exec = this.#exec;
    if (this.#errors.length > 0) {
      const errors = this.#errors.map((e) => [e.line, e.field, e.code, e.message, e.row, e.ord]);
      this.#errors = [];
      await this.#send(() =>
        exec.many(
          `INSERT INTO ${this.#names.errors} (line, field, code, message, row, ord) VALUES (?, ?, ?, ?, ?, ?)`,
          errors,
        )
      );
    }
    if (this.#conditional.length > 0) {
      const conditional = this.#conditional.map((
        e,
      ) => [e.line, e.when, e.field, e.code, e.message, e.ord]);
      this.#conditional = [];
      await this.#send(() =>
        exec.many(
          `INSERT INTO ${this.#names.conditional} (line, w, field, code, message, ord) VALUES (?, ?, ?, ?, ?, ?)`,
          conditional,
        )
      );
    }
    if (this.#marks.length > 0) {
      const marks = this.#marks.map((l) => [l]);
      this.#marks = [];
      await this.#send(() =>
        exec.many(`INSERT INTO ${this.#names.marks} (line) VALUES (?)`, marks)
      );
    }
  }
}

/** Where the duplicate check looks (see `duplicates.ts`). */
export type DuplicateSource = "staged" | "candidates" | "none";

/**
 * Marks the rows with map-stage errors rejected and indexes the row errors. For the
 * duplicate check it copies the keys of the candidate lines into their own small
 * indexed table, or — when there were too many candidates — indexes every staged
 * key (once every row is in: faster than indexing as rows arrive).
 */
export async function indexStage(
  exec: SqlExecutor,
  plan: ImportPlan,
  names: StageNames,
  duplicates: DuplicateLines,
): Promise<DuplicateSource> {
  await exec.run(
    `UPDATE ${names.rows} SET rej = 1 WHERE line IN (SELECT line FROM ${names.errors} WHERE ord = 0)`,
  );
  const keys = plan.keys.map((k) => k.stageColumn).join(", ");
  if (duplicates.overflow) {
    await exec.exec(`CREATE INDEX ${rowsKeyIndex(names)} ON ${bare(names.rows)} (${keys});`);
    return "staged";
  }
  if (duplicates.lines.length === 0) return "none";
  await exec.run(
    `INSERT INTO ${names.dupes} (line, ${keys}) SELECT line, ${keys} FROM ${names.rows}
     WHERE line IN (SELECT value FROM json_each(?))`,
    [JSON.stringify(duplicates.lines)],
  );
  return "candidates";
}
