/**
 * A sandbox for import tests: a temporary data folder (or a remote libSQL server),
 * a school setup whose terms surround today, and helpers that run the real CLI —
 * imports execute in the real import process — and read the SIS back.
 */
import { type Client, createClient } from "@libsql/client";
import { createHash } from "node:crypto";
import { type CliResult, describe, runCli, type TempEnv, tempEnv } from "./cli.ts";
import { type SqldServer, startSqld } from "./sqld.ts";
import { ONE_OFF_RUN, type RunSettings } from "../../src/pipeline/run.ts";

/** A date `days` from today (UTC) as YYYY-MM-DD. */
export function isoDay(days: number): string {
  const d = new Date();
  d.setUTCHours(0, 0, 0, 0);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** The same date as MM/DD/YYYY. */
export function usDay(days: number): string {
  const [y, m, d] = isoDay(days).split("-");
  return `${m}/${d}/${y}`;
}

/** The test district: terms that hold today, a daily school and a school recording both ways. */
export function testSetup() {
  const terms = [
    { id: 3600, abbreviation: "year", firstDay: isoDay(-100), lastDay: isoDay(200) },
    { id: 3601, abbreviation: "S1", firstDay: isoDay(-100), lastDay: isoDay(50) },
    { id: 3602, abbreviation: "S2", firstDay: isoDay(51), lastDay: isoDay(200) },
  ];
  return {
    schools: [
      {
        schoolNumber: 100,
        name: "Lincoln Elementary",
        attendanceMethod: "daily",
        terms,
        periods: ["1", "2", "3", "4"].map((p, i) => ({ abbreviation: p, sortOrder: i + 1 })),
        days: ["A", "B", "C", "D", "E"].map((d, i) => ({ abbreviation: d, sortOrder: i + 1 })),
        attendanceCodes: [
          { id: 10, code: "P", description: "Present", presence: "present" },
          { id: 11, code: "A", description: "Absent", presence: "absent" },
          { id: 12, code: "T", description: "Tardy", presence: "tardy" },
        ],
      },
      {
        schoolNumber: 200,
        name: "Washington High",
        attendanceMethod: "both",
        terms,
        periods: ["HR", "1", "2", "3"].map((p, i) => ({ abbreviation: p, sortOrder: i })),
        days: ["M", "T", "W", "H", "F"].map((d, i) => ({ abbreviation: d, sortOrder: i + 1 })),
        attendanceCodes: [
          { id: 20, code: "P", description: "Present", presence: "present" },
          { id: 21, code: "A", description: "Absent", presence: "absent" },
          { id: 22, code: "T", description: "Tardy", presence: "tardy" },
        ],
      },
    ],
    extensions: [{
      table: "students",
      name: "U_StudentsUserFields",
      fields: [
        { name: "homeroom_number", type: "text", maxLength: 10 },
        { name: "email", type: "text", maxLength: 100 },
      ],
    }],
  };
}

/** The JSON an import prints with --json. */
export interface ImportReport {
  runId: number;
  status: string;
  message: string | null;
  counts: Record<string, number>;
  errors: { line: number; field: string; code: string; message: string }[];
  notes: { code: string; message: string; line?: number }[];
}

/** Options of an import: the CLI flags, camel-cased. */
export interface ImportOptions {
  table: string;
  fields: string[];
  school?: number;
  fieldDelimiter?: "tab" | "comma";
  recordDelimiter?: "CRLF" | "CR" | "LF";
  charset?: string;
  attendanceMode?: "daily" | "meeting";
  updateExisting?: boolean;
  ignoreBlankCells?: boolean;
  synchronize?: boolean;
  removalLimit?: number;
  inactivateExited?: boolean;
  expectRecordCount?: boolean;
  preview?: boolean;
}

const SIS_TABLES = [
  "schools",
  "terms",
  "students",
  "reenrollments",
  "teachers",
  "courses",
  "school_courses",
  "sections",
  "cc",
  "attendance",
  "extension_values",
];

/** A temporary district to import into. */
export class Sandbox implements AsyncDisposable {
  readonly data: TempEnv;
  #files = 0;

  readonly #server: SqldServer | undefined;

  private constructor(data: TempEnv, server?: SqldServer) {
    this.data = data;
    this.#server = server;
  }

  /** Creates the sandbox and loads {@linkcode testSetup} (or `setup`). */
  static async create(
    options: { env?: Record<string, string>; setup?: unknown } = {},
  ): Promise<Sandbox> {
    // Loaded through tests/pipeline/remote_pipeline_test.ts, the sandbox uses a real
    // libSQL server (sqld) instead of the embedded file.
    const remote =
      (globalThis as { AUTOCOMM_SANDBOX_BACKEND?: string }).AUTOCOMM_SANDBOX_BACKEND ===
          "sqld"
        ? await startSqld()
        : undefined;
    // Loaded through tests/pipeline/staging_thread_test.ts, every file is staged on the
    // second thread (`src/pipeline/side_writer.ts`), however small.
    const thread =
      (globalThis as { AUTOCOMM_SANDBOX_STAGING?: string }).AUTOCOMM_SANDBOX_STAGING === "thread";
    // Loaded through tests/serverless/inline_pipeline_test.ts, imports run inline.
    const mode = (globalThis as { AUTOCOMM_SANDBOX_IMPORT_MODE?: string })
      .AUTOCOMM_SANDBOX_IMPORT_MODE;
    const env = {
      ...(thread ? { AUTOCOMM_STAGING_THREAD_MIN_BYTES: "0" } : {}),
      ...(mode ? { AUTOCOMM_IMPORT_MODE: mode } : {}),
      ...options.env,
      ...(remote ? { DATABASE_URL: remote.url } : {}),
    };
    const sandbox = new Sandbox(await tempEnv(env), remote);
    const file = `${sandbox.data.dir}/setup.json`;
    await Deno.writeTextFile(file, JSON.stringify(options.setup ?? testSetup()));
    await sandbox.ok(["setup", "load", file]);
    return sandbox;
  }

  get env() {
    return this.data.env;
  }

  /** Runs the CLI. */
  cli(args: string[]): Promise<CliResult> {
    return runCli(args, this.env);
  }

  /** Runs the CLI and expects exit 0. */
  async ok(args: string[]): Promise<CliResult> {
    const result = await this.cli(args);
    if (result.code !== 0) throw new Error(describe(args, result));
    return result;
  }

  /** Writes a file under the import root (text is written as UTF-8). */
  async write(name: string, content: string | Uint8Array): Promise<string> {
    const path = `${this.data.importRoot}/${name}`;
    await Deno.mkdir(path.replace(/\/[^/]+$/, ""), { recursive: true });
    await Deno.writeFile(
      path,
      typeof content === "string" ? new TextEncoder().encode(content) : content,
    );
    return path;
  }

  /** Imports `content` with the CLI; returns the exit code and the JSON report. */
  async import(
    content: string | Uint8Array,
    o: ImportOptions,
  ): Promise<{ code: number; report: ImportReport }> {
    const file = await this.write(`file-${++this.#files}.txt`, content);
    const args = importArgs(file, o);
    const result = await this.cli(args);
    try {
      return { code: result.code, report: JSON.parse(result.stdout) as ImportReport };
    } catch {
      throw new Error(`the import did not print JSON\n${describe(args, result)}`);
    }
  }

  /** Rows of an SIS table keyed by catalog names. */
  async sis(table: string, school?: number): Promise<Record<string, unknown>[]> {
    const args = [
      "sis",
      table,
      "--json",
      ...(school !== undefined ? ["--school", String(school)] : []),
    ];
    return JSON.parse((await this.ok(args)).stdout);
  }

  /** One SIS row by a field value. */
  async row(
    table: string,
    field: string,
    value: unknown,
  ): Promise<Record<string, unknown> | undefined> {
    return (await this.sis(table)).find((r) => r[field] === value);
  }

  /**
   * A libSQL client on the sandbox's database. It waits up to 10 s for a lock, as the
   * service's own clients do: a process that ends checkpoints and removes the WAL file
   * under an exclusive lock, and a client without a timeout opening then gets SQLITE_BUSY.
   */
  client(): Client {
    const url = this.env["DATABASE_URL"] ?? `file:${this.data.dir}/autocomm.db`;
    return createClient({ url, timeout: 10_000 });
  }

  /** Rows of a read-only query on the sandbox's database (for what the CLI does not show). */
  async query(
    sql: string,
    args: (string | number | null)[] = [],
  ): Promise<Record<string, unknown>[]> {
    const client = this.client();
    try {
      const rs = await client.execute({ sql, args });
      return rs.rows.map((r) => {
        const out: Record<string, unknown> = {};
        for (const c of rs.columns) out[c] = typeof r[c] === "bigint" ? Number(r[c]) : r[c];
        return out;
      });
    } finally {
      client.close();
    }
  }

  /** A digest of every SIS table's rows, to prove a refused file changed nothing. */
  async checksum(): Promise<string> {
    const client = this.client();
    try {
      const hash = createHash("sha256");
      for (const t of SIS_TABLES) {
        // Every row, in an order that does not depend on how the table stores them.
        const rs = await client.execute(`SELECT * FROM ${t}`);
        const rows = rs.rows.map((r) => JSON.stringify(Object.values(r).map(String))).sort();
        hash.update(`${t}:${rows.join("\n")}\n`);
      }
      return hash.digest("hex");
    } finally {
      client.close();
    }
  }

  async [Symbol.asyncDispose]() {
    try {
      if (this.#server) {
        // On the remote backend everything went to the server: no local database file.
        for await (const entry of Deno.readDir(this.data.dir)) {
          if (/\.db(-wal|-shm)?$/.test(entry.name)) {
            throw new Error(`the remote sandbox wrote a local database file ${entry.name}`);
          }
        }
      }
    } finally {
      await this.data.remove();
      await this.#server?.stop();
    }
  }
}

/** The arguments of `autocomm import --json` of `file` with options `o`. */
export function importArgs(file: string, o: ImportOptions): string[] {
  const args = [
    "import",
    "--json",
    "--table",
    o.table,
    "--fields",
    o.fields.join(","),
    "--school",
    String(o.school ?? 100),
    "--field-delimiter",
    o.fieldDelimiter ?? "tab",
    "--record-delimiter",
    o.recordDelimiter ?? "LF",
    "--charset",
    o.charset ?? "utf-8",
  ];
  if (o.attendanceMode) args.push("--attendance-mode", o.attendanceMode);
  if (o.updateExisting) args.push("--update-existing");
  if (o.ignoreBlankCells) args.push("--ignore-blank-cells");
  if (o.synchronize) args.push("--synchronize");
  if (o.removalLimit !== undefined) args.push("--removal-limit", String(o.removalLimit));
  if (o.inactivateExited) args.push("--inactivate-exited");
  if (o.expectRecordCount) args.push("--expect-record-count");
  if (o.preview) args.push("--preview");
  args.push(file);
  return args;
}

/** Tab-separated lines joined with LF and ended with LF. */
export const tsv = (...rows: (string | number)[][]) =>
  rows.map((r) => r.join("\t")).join("\n") + "\n";

/** Field lists used across the tests. */
export const STUDENT_FIELDS = [
  "Student_Number",
  "First_Name",
  "Last_Name",
  "Grade_Level",
  "EntryDate",
];
export const TEACHER_FIELDS = ["TeacherNumber", "First_Name", "Last_Name"];

/** The settings of a run importing `file` of {@linkcode TEACHER_FIELDS} into school 100. */
export function teacherRunSettings(file: string): RunSettings {
  return {
    table: "teachers",
    attendanceMode: null,
    schoolId: 100,
    fields: TEACHER_FIELDS,
    fieldDelimiter: "tab",
    recordDelimiter: "LF",
    charset: "utf-8",
    updateExisting: true,
    ignoreBlankCells: false,
    synchronize: false,
    removalLimitPercent: 10,
    inactivateExited: false,
    expectRecordCount: false,
    ...ONE_OFF_RUN,
    file,
  };
}

/** Loads teachers, courses and sections of school 100 for schedule and attendance tests. */
export async function seedSchool(sb: Sandbox): Promise<void> {
  const t = await sb.import(tsv(["T1", "Ada", "Lovelace"], ["T2", "Alan", "Turing"]), {
    table: "teachers",
    fields: TEACHER_FIELDS,
  });
  if (t.report.status !== "succeeded") throw new Error(JSON.stringify(t.report));
  const c = await sb.import(tsv(["MATH", "Mathematics"], ["ELA", "English"]), {
    table: "courses",
    fields: ["Course_Number", "Course_Name"],
  });
  if (c.report.status !== "succeeded") throw new Error(JSON.stringify(c.report));
  const s = await sb.import(
    tsv(["3600", "MATH", "1", "1(A-E)", "T1"], ["3600", "ELA", "1", "2(A-E)", "T2"], [
      "3601",
      "MATH",
      "2",
      "3(A,C)",
      "T1",
    ]),
    {
      table: "sections",
      fields: ["TermID", "Course_Number", "Section_Number", "Expression", "Teacher"],
    },
  );
  if (s.report.status !== "succeeded") throw new Error(JSON.stringify(s.report));
  const st = await sb.import(
    tsv(["1001", "José", "García", "3", usDay(-90)], ["1002", "Zoë", "Brontë", "3", usDay(-90)], [
      "1003",
      "Liam",
      "O'Brien",
      "4",
      usDay(-90),
    ]),
    { table: "students", fields: STUDENT_FIELDS },
  );
  if (st.report.status !== "succeeded") throw new Error(JSON.stringify(st.report));
}
