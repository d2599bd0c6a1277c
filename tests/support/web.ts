/**
 * Test helpers for the web app: a temporary libSQL file database with a small
 * school setup, the app built with a real run queue (runs execute in the real
 * import process), signed-in sessions per role, and request helpers.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/config.ts";
import type { Config } from "../../src/config.ts";
import { openDatabase } from "../../src/db/client.ts";
import type { Database } from "../../src/db/client.ts";
import { migrateDatabase } from "../../src/db/migrate.ts";
import { createLogger } from "../../src/log.ts";
import { createRunQueue, type RunQueue } from "../../src/pipeline/queue.ts";
import { ensureDistrictOffice, loadSetup, type SetupFile } from "../../src/sis/setup.ts";
import { createApp } from "../../src/web/app.ts";
import { CSRF_FIELD, CSRF_HEADER } from "../../src/web/auth/middleware.ts";
import type { Role } from "../../src/web/auth/roles.ts";
import { createSession, SESSION_COOKIE } from "../../src/web/auth/session.ts";
import type { SftpServer } from "./sftp_server.ts";

/** The API token of test services. */
export const API_TOKEN = "test-api-token-0123456789";

/** The origin `app.request()` uses. */
export const ORIGIN = "http://localhost";

/** The school year under way, as the tests use it. */
export function schoolYear(today = new Date()): number {
  return today.getUTCMonth() >= 6 ? today.getUTCFullYear() : today.getUTCFullYear() - 1;
}

/** A small district: 100 (daily), 200 (daily and meeting), 300 (meeting only), an extension on Students. */
export function testSetup(year = schoolYear()): SetupFile {
  const termId = (year - 1990) * 100;
  const terms = [{
    id: termId,
    abbreviation: "YR",
    firstDay: `${year}-08-01`,
    lastDay: `${year + 1}-06-30`,
  }];
  const codes = [
    { id: 1, code: "P", description: "Present", presence: "present" as const },
    { id: 2, code: "A", description: "Absent", presence: "absent" as const },
  ];
  const periods = [1, 2, 3].map((n) => ({ abbreviation: String(n), sortOrder: n }));
  const days = ["A", "B"].map((d, i) => ({ abbreviation: d, sortOrder: i + 1 }));
  return {
    schools: [
      {
        schoolNumber: 100,
        name: "Lincoln Elementary",
        attendanceMethod: "daily",
        terms,
        periods,
        days,
        attendanceCodes: codes,
      },
      {
        schoolNumber: 200,
        name: "Washington High",
        attendanceMethod: "both",
        terms,
        periods,
        days,
        attendanceCodes: codes,
      },
      {
        schoolNumber: 300,
        name: "Jefferson Middle",
        attendanceMethod: "meeting",
        terms,
        periods,
        days,
        attendanceCodes: codes,
      },
    ],
    extensions: [{
      table: "students",
      name: "U_StudentsUserFields",
      fields: [
        { name: "homeroom_number", type: "text", maxLength: 10, description: "Homeroom number" },
        { name: "email", type: "text", maxLength: 100 },
      ],
    }],
  };
}

/** Options of {@linkcode startTestService}. */
export interface TestServiceOptions {
  /** Extra environment variables for the config. */
  env?: Record<string, string>;
  /** Load {@linkcode testSetup}; default true. */
  setup?: boolean;
}

/** A service under test. */
export interface TestService {
  app: ReturnType<typeof createApp>;
  config: Config;
  database: Database;
  queue: RunQueue;
  dir: string;
  /** Writes a file under the import root. */
  writeImport(path: string, content: string | Uint8Array): Promise<void>;
  /** A signed-in session of `role`: its Cookie header and CSRF token. */
  session(role: Role, schoolId?: number): Promise<Session>;
  /** An API request with the API token (admin). */
  api(path: string, init?: JsonInit): Promise<Response>;
  /** An API request with a session (cookie, and the CSRF header on unsafe methods). */
  apiAs(session: Session, path: string, init?: JsonInit): Promise<Response>;
  /** A page request with a session; a form body gets the CSRF field and the Origin header. */
  page(
    session: Session | undefined,
    path: string,
    form?: Record<string, string | string[]>,
  ): Promise<Response>;
  close(): Promise<void>;
}

/** A test session. */
export interface Session {
  cookie: string;
  csrf: string;
  role: Role;
}

/** A request init whose `json` is sent as the body. */
export interface JsonInit {
  method?: string;
  json?: unknown;
  headers?: Record<string, string>;
}

/** Starts a service on a temporary database; call close() at the end. */
export async function startTestService(options: TestServiceOptions = {}): Promise<TestService> {
  const dir = await Deno.makeTempDir({ prefix: "autocomm_web_" });
  const config = loadConfig({
    env: {
      AUTOCOMM_DATA_DIR: dir,
      DATABASE_URL: `file:${dir}/autocomm.db`,
      AUTOCOMM_API_TOKEN: API_TOKEN,
      AUTOCOMM_MIN_FILE_AGE_SECONDS: "0",
      AUTOCOMM_LOG_LEVEL: "error",
      AUTOCOMM_TIMEZONE: "America/Chicago",
      ...options.env,
    },
  });
  const database = await openDatabase(config);
  await migrateDatabase(database);
  await ensureDistrictOffice(database.db);
  if (options.setup !== false) await loadSetup(database.db, testSetup());
  await Deno.mkdir(config.importRoot, { recursive: true });
  const logger = createLogger(config.logLevel);
  const queue = createRunQueue({ db: database.db, config }, { logger });
  const app = createApp({ config, database, logger, queue });

  const request = async (path: string, init: JsonInit, headers: Record<string, string>) => {
    const h: Record<string, string> = { ...headers, ...init.headers };
    let body: string | undefined;
    if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      h["content-type"] ??= "application/json";
    }
    return await app.request(path, {
      method: init.method ?? "GET",
      headers: h,
      ...(body !== undefined ? { body } : {}),
    });
  };

  return {
    app,
    config,
    database,
    queue,
    dir,
    async writeImport(path, content) {
      const full = `${config.importRoot}/${path}`;
      await Deno.mkdir(full.replace(/\/[^/]*$/, ""), { recursive: true });
      if (typeof content === "string") await Deno.writeTextFile(full, content);
      else await Deno.writeFile(full, content);
    },
    async session(role, schoolId = 0) {
      const s = await createSession(database.db, { user: `${role} user`, role, schoolId });
      return { cookie: `${SESSION_COOKIE}=${s.cookieValue}`, csrf: s.csrfToken, role };
    },
    api: (path, init = {}) => request(path, init, { authorization: `Bearer ${API_TOKEN}` }),
    apiAs: (session, path, init = {}) => {
      const unsafe = (init.method ?? "GET") !== "GET";
      return request(path, init, {
        cookie: session.cookie,
        ...(unsafe ? { [CSRF_HEADER]: session.csrf, origin: ORIGIN } : {}),
      });
    },
    async page(session, path, form) {
      const headers: Record<string, string> = session ? { cookie: session.cookie } : {};
      if (form === undefined) return await app.request(path, { headers });
      const body = new URLSearchParams();
      for (const [k, v] of Object.entries(form)) {
        for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
      }
      if (session && form[CSRF_FIELD] === undefined) body.set(CSRF_FIELD, session.csrf);
      return await app.request(path, {
        method: "POST",
        headers: {
          ...headers,
          origin: ORIGIN,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: body.toString(),
      });
    },
    async close() {
      await queue.close();
      database.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** A Students record input that passes every rule (school 100, file students.txt). */
export function studentsRecord(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schoolId: 100,
    name: "Students nightly",
    table: "students",
    hour: 2,
    minute: 30,
    days: "MTWHF",
    path: "students.txt",
    fieldDelimiter: "tab",
    recordDelimiter: "LF",
    charset: "utf-8",
    updateExisting: true,
    fields: ["Student_Number", "First_Name", "Last_Name", "Grade_Level", "EntryDate"],
    ...overrides,
  };
}

/** A form body for a Students record, as the browser would post it. */
export function studentsForm(over: Record<string, string> = {}): Record<string, string> {
  return {
    schoolId: "100",
    name: "Students nightly",
    table: "students",
    attendanceMode: "daily",
    hour: "2",
    minute: "30",
    days: "MTWHF",
    source: "local",
    path: "students.txt",
    fieldDelimiter: "tab",
    recordDelimiter: "LF",
    charset: "utf-8",
    sortOrder: "",
    updateExisting: "on",
    emailTo: "",
    fields: "Student_Number\r\nFirst_Name\r\nLast_Name\r\nGrade_Level\r\nEntryDate",
    removalLimitPercent: "10",
    minFileAgeSeconds: "",
    ...over,
  };
}

/** Tab-separated LF lines. */
export function tsv(rows: (string | number)[][]): string {
  return rows.map((r) => r.join("\t")).join("\n") + "\n";
}

/** Waits until a run has left queued/running (the queue executes it). */
export async function waitForRun(
  service: TestService,
  runId: number,
): Promise<Record<string, unknown>> {
  await service.queue.idle();
  const res = await service.api(`/api/v1/runs/${runId}`);
  return await res.json();
}

/** Serves a test service's app on 127.0.0.1 at a free port (for a browser); `server.shutdown()` ends it. */
export function serveOnLoopback(s: TestService): { server: Deno.HttpServer; base: string } {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, s.app.fetch);
  return { server, base: `http://127.0.0.1:${server.addr.port}` };
}

/** The visible text of an HTML page, entities decoded and whitespace collapsed. */
export function textOf(html: string): string {
  return html.replace(/<script[\s\S]*?<\/script>/g, "").replace(/<[^>]+>/g, " ")
    .replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&").replace(/\s+/g, " ");
}

/**
 * Starts a run of a new students record that reads `content` from `sftp` through a
 * managed connection, each 32 KB read of the file answered after 60 ms — so that the run
 * is surely under way for a while however fast or busy the machine is. The service needs
 * `AUTOCOMM_SECRET_KEY` (the connection's password is sealed with it).
 */
export async function slowSftpRun(
  s: TestService,
  sftp: SftpServer,
  content: string,
): Promise<number> {
  await sftp.write("students.txt", content);
  sftp.readDelayMs = 60;
  const connection = await s.api("/api/v1/connections", {
    method: "POST",
    json: {
      name: "State SFTP",
      host: "127.0.0.1",
      port: sftp.port,
      username: sftp.username,
      password: sftp.password,
      hostKeyFingerprint: sftp.fingerprint,
    },
  });
  assert.equal(connection.status, 201, await connection.clone().text());
  const created = await s.api("/api/v1/records", {
    method: "POST",
    json: studentsRecord({
      name: "Students from the state",
      source: "managed",
      connectionId: (await connection.json()).id,
      path: "students.txt",
    }),
  });
  assert.equal(created.status, 201, await created.clone().text());
  const recordId = (await created.json()).records[0].id as number;
  const res = await s.api(`/api/v1/records/${recordId}/run`, { method: "POST" });
  assert.equal(res.status, 202, await res.clone().text());
  return (await res.json() as { runId: number }).runId;
}
