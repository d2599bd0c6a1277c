/**
 * The serverless profile under the platform's rules: `src/main.ts` started as its own
 * process with exactly `--allow-net --allow-env --allow-read --allow-sys` (no run, no
 * ffi, no write), `DATABASE_URL` on a real libSQL server (sqld), records reading from an
 * in-process SFTP server, completion reports to an in-process SMTP server. Without sqld
 * these are skipped with a printed line, except under CI=true, where that fails.
 */
import assert from "node:assert/strict";
import { generateTable, setupJson, sizesAt } from "../../bench/generate.ts";
import { FIELDS } from "../../bench/generate.ts";
import { loadConfig } from "../../src/config.ts";
import { createConnection } from "../../src/connections/store.ts";
import { openDatabase } from "../../src/db/client.ts";
import { migrateDatabase } from "../../src/db/migrate.ts";
import { createRecord } from "../../src/records/store.ts";
import { ensureDistrictOffice, loadSetup } from "../../src/sis/setup.ts";
import { signWebhook, webhookPath } from "../../src/web/hooks/run_now.ts";
import { ed25519Keys, startSftpServer } from "../support/sftp_server.ts";
import { startSmtpServer } from "../support/smtp.ts";
import { freePort, sqldProblem, sqldQuery, startSqld } from "../support/sqld.ts";

const problem = await sqldProblem();
if (problem !== undefined && Deno.env.get("CI") !== "true") {
  console.log(`Skipping the serverless profile tests: ${problem}`);
}
const ignore = problem !== undefined && Deno.env.get("CI") !== "true";

/**
 * The Deno that runs the service: this one, or another build named by
 * `AUTOCOMM_TEST_DENO` (e.g. the oldest version the platform documents, installed with
 * `npx -y deno@2.5.0`).
 */
const DENO = Deno.env.get("AUTOCOMM_TEST_DENO") ?? Deno.execPath();
const MAIN = new URL("../../src/main.ts", import.meta.url);
const CONFIG = new URL("../../deno.json", import.meta.url);
/** The platform's permissions: exactly these. */
const PLATFORM = ["--allow-net", "--allow-env", "--allow-read", "--allow-sys"];
const TOKEN = "profile-api-token-0123456789";
const SECRET = "profile-webhook-secret";
const TEACHER_FIELDS = ["TeacherNumber", "First_Name", "Last_Name"];

const teachers = (...numbers: number[]) =>
  numbers.map((n) => `T${n}\tFirst${n}\tLast${n}\n`).join("");
const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/** A running service process. */
interface Service {
  url: string;
  child: Deno.ChildProcess;
  output(): string;
  api(path: string, init?: RequestInit): Promise<Response>;
}

/** A district: sqld, an SFTP server, an SMTP server, the database set up, a connection. */
async function district() {
  const sqld = await startSqld();
  const sftp = await startSftpServer({ hostKey: ed25519Keys().private });
  const smtp = await startSmtpServer();
  const dir = await Deno.makeTempDir({ prefix: "autocomm_profile_" });
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
  const env: Record<string, string> = {
    DATABASE_URL: sqld.url,
    AUTOCOMM_DATA_DIR: `${dir}/data`,
    AUTOCOMM_SECRET_KEY: key,
    AUTOCOMM_API_TOKEN: TOKEN,
    AUTOCOMM_WEBHOOK_SECRET: SECRET,
    AUTOCOMM_TIMEZONE: "UTC",
    AUTOCOMM_MIN_FILE_AGE_SECONDS: "0",
    AUTOCOMM_LOG_LEVEL: "info",
    SMTP_URL: smtp.url,
  };
  const config = loadConfig({ env });
  const database = await openDatabase(config);
  await migrateDatabase(database);
  await ensureDistrictOffice(database.db);
  await loadSetup(database.db, setupJson());
  const connection = await createConnection(
    { db: database.db, keys: { current: config.secretKey, previous: undefined } },
    {
      name: "District SFTP",
      host: "127.0.0.1",
      port: sftp.port,
      username: sftp.username,
      password: sftp.password,
      hostKeyFingerprint: sftp.fingerprint,
    },
  );
  const addRecord = async (input: Record<string, unknown>) => {
    const [record] = await createRecord(database.db, {
      schoolId: 100,
      table: "teachers",
      source: "managed",
      connectionId: connection.id,
      fieldDelimiter: "tab",
      recordDelimiter: "LF",
      charset: "utf-8",
      fields: TEACHER_FIELDS,
      minFileAgeSeconds: 0,
      emailTo: "data@example.org",
      ...input,
    });
    return record!.id;
  };
  return {
    sqld,
    sftp,
    smtp,
    dir,
    env,
    addRecord,
    /** Starts `src/main.ts` with the platform's permissions and waits for /healthz. */
    async start(): Promise<Service> {
      const port = freePort();
      const child = new Deno.Command(DENO, {
        args: ["run", "--frozen", `--config=${CONFIG.pathname}`, ...PLATFORM, MAIN.href],
        env: { ...env, PORT: String(port) },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const out = { text: "" };
      for (const stream of [child.stdout, child.stderr]) {
        (async () => {
          const decoder = new TextDecoder();
          for await (const chunk of stream) out.text += decoder.decode(chunk, { stream: true });
        })().catch(() => {});
      }
      const url = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 30_000;
      for (;;) {
        const ok = await fetch(`${url}/healthz`).then(async (r) => {
          await r.body?.cancel();
          return r.ok;
        }, () => false);
        if (ok) break;
        if (Date.now() > deadline) {
          child.kill("SIGKILL");
          throw new Error(`the service did not start:\n${out.text}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const api = (path: string, init: RequestInit = {}) =>
        fetch(`${url}/api/v1${path}`, {
          ...init,
          headers: { authorization: `Bearer ${TOKEN}`, ...init.headers },
        });
      return { url, child, output: () => out.text, api };
    },
    async close() {
      database.close();
      await smtp.close();
      await sftp.close();
      await sqld.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Waits for a run to reach one of `statuses`; returns it as the API shows it. */
async function waitForRun(
  s: Service,
  runId: number,
  statuses: readonly string[],
  timeoutMs = 60_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await (await s.api(`/runs/${runId}`)).json();
    if (statuses.includes(run.status)) return run;
    if (Date.now() > deadline) {
      throw new Error(
        `run ${runId} is ${run.status} (${run.message}), not ${statuses.join("/")}\n${s.output()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function stop(s: Service, signal: Deno.Signal = "SIGINT"): Promise<Deno.CommandStatus> {
  try {
    s.child.kill(signal);
  } catch {
    // already gone
  }
  return await s.child.status;
}

Deno.test({
  name:
    "with the platform's permissions the service starts and runs Run Now, the webhook, a held run's approval and its reports",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    if (problem !== undefined) throw new Error(`This test needs sqld: ${problem}`);
    const d = await district();
    let service: Service | undefined;
    try {
      await d.sftp.write("teachers.txt", teachers(...upTo(20)));
      const plain = await d.addRecord({ name: "Teachers", path: "teachers.txt" });
      await d.sftp.write("sync.txt", teachers(...upTo(20)));
      const sync = await d.addRecord({
        name: "Teachers sync",
        path: "sync.txt",
        synchronize: true,
      });
      service = await d.start();
      assert.match(service.output(), /"importMode":"inline"/);

      // Run Now through the API: 202 at once, the run goes on in the background.
      const runNow = await service.api(`/records/${plain}/run`, { method: "POST" });
      assert.equal(runNow.status, 202);
      const first = await waitForRun(service, (await runNow.json()).runId, ["succeeded"]);
      assert.equal((first["counts"] as Record<string, number>)["inserted"], 20);

      // The webhook.
      const body = '{"reason":"uploaded"}';
      const timestamp = String(Math.floor(Date.now() / 1000));
      const delivery = crypto.randomUUID();
      const path = webhookPath(plain);
      const hook = await fetch(`${service.url}${path}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "X-AutoComm-Timestamp": timestamp,
          "X-AutoComm-Delivery": delivery,
          "X-AutoComm-Signature": signWebhook(SECRET, { timestamp, delivery, path, body }),
        },
        body,
      });
      assert.equal(hook.status, 202, await hook.clone().text());
      const hooked = await waitForRun(service, (await hook.json()).runId, ["succeeded"]);
      assert.equal((hooked["counts"] as Record<string, number>)["read"], 20);

      // A held run, kept in the database, approved once.
      const loaded = await service.api(`/records/${sync}/run`, { method: "POST" });
      await waitForRun(service, (await loaded.json()).runId, ["succeeded"]);
      await d.sftp.write("sync.txt", teachers(...upTo(14), 21));
      const holding = await service.api(`/records/${sync}/run`, { method: "POST" });
      const heldId = (await holding.json()).runId;
      await waitForRun(service, heldId, ["held"]);
      const [chunks] = await sqldQuery(
        d.sqld.url,
        `SELECT count(*) AS n FROM held_file_chunks WHERE run_id = ${heldId}`,
      );
      assert.equal(chunks?.["n"], 1);
      const approved = await service.api(`/runs/${heldId}/approve`, { method: "POST" });
      assert.equal(approved.status, 200, await approved.clone().text());
      const approval = await approved.json();
      assert.equal(approval.run.status, "succeeded");
      assert.equal(approval.run.counts.removed, 6);
      await waitForRun(service, heldId, ["approved"]);
      const [left] = await sqldQuery(d.sqld.url, "SELECT count(*) AS n FROM held_file_chunks");
      assert.equal(left?.["n"], 0);

      // Completion reports: one per finished run of a record (held included).
      const mails = await d.smtp.waitFor(5, 30_000);
      assert.ok(mails.length >= 5, `${mails.length} reports`);

      // Nothing was written to the local disk (the process may not write at all).
      assert.deepEqual([...Deno.readDirSync(d.dir)], []);
      const status = await stop(service);
      assert.equal(status.code, 0, service.output());
      assert.doesNotMatch(service.output(), /Requires (ffi|run|write) access/);
    } finally {
      if (service) await stop(service, "SIGKILL");
      await d.close();
    }
  },
});

/** The next wall minute (UTC) at least 15 s away. */
function nextMinute(): { hour: number; minute: number; at: Date } {
  const at = new Date(Math.ceil((Date.now() + 15_000) / 60_000) * 60_000);
  return { hour: at.getUTCHours(), minute: at.getUTCMinutes(), at };
}

Deno.test({
  name:
    "with the platform's permissions a scheduled slot runs through the tick; SIGINT stops it with nothing applied and the next tick's retry commits once",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    if (problem !== undefined) throw new Error(`This test needs sqld: ${problem}`);
    const d = await district();
    let service: Service | undefined;
    try {
      const files = await generateTable(d.dir, "students", 20260817, sizesAt(0.5));
      await d.sftp.write("students.tsv", await Deno.readFile(files.base));
      await Deno.remove(files.base);
      await Deno.remove(files.changed);
      const when = nextMinute();
      const record = await d.addRecord({
        name: "Students",
        table: "students",
        fields: [...FIELDS.students],
        path: "students.tsv",
        updateExisting: true,
        hour: when.hour,
        minute: when.minute,
        days: "MTWHFSU",
      });
      service = await d.start();
      // The minute tick claims the slot and runs it; SIGINT while it stages.
      const deadline = when.at.getTime() + 90_000;
      let running: Record<string, string | number | null> | undefined;
      while (running === undefined) {
        [running] = await sqldQuery(
          d.sqld.url,
          `SELECT id, slot_key FROM runs WHERE record_id = ${record} AND status = 'running' AND read = 0`,
        );
        if (Date.now() > deadline) throw new Error(`no scheduled run:\n${service.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const status = await stop(service);
      assert.equal(status.code, 0, service.output());
      const [stopped] = await sqldQuery(
        d.sqld.url,
        `SELECT status, message FROM runs WHERE id = ${running["id"]}`,
      );
      assert.equal(stopped?.["status"], "interrupted");
      assert.match(String(stopped?.["message"]), /service was stopped \(SIGINT\)/);
      const [none] = await sqldQuery(d.sqld.url, "SELECT count(*) AS n FROM students");
      assert.equal(none?.["n"], 0, "a stopped run applied nothing");

      // Another instance: its next tick retries the slot once, and the retry commits.
      service = await d.start();
      const retryKey = `${running["slot_key"]}#retry`;
      const until = Date.now() + 240_000;
      let retried: Record<string, string | number | null> | undefined;
      for (;;) {
        [retried] = await sqldQuery(
          d.sqld.url,
          `SELECT id, status FROM runs WHERE slot_key = '${retryKey}'`,
        );
        if (retried?.["status"] === "succeeded") break;
        if (Date.now() > until) throw new Error(`no retry:\n${service.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      const [count] = await sqldQuery(d.sqld.url, "SELECT count(*) AS n FROM students");
      assert.equal(count?.["n"], files.expected.rows);
      const runs = await sqldQuery(
        d.sqld.url,
        `SELECT status FROM runs WHERE record_id = ${record} ORDER BY id`,
      );
      assert.deepEqual(runs.map((r) => r["status"]), ["interrupted", "succeeded"]);
    } finally {
      if (service) await stop(service, "SIGKILL");
      await d.close();
    }
  },
});
