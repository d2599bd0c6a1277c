/**
 * Records with a managed connection, end to end: the service's run queue and import
 * process fetch the file from a real SFTP server (in this test's process) and import
 * it, or end the run with a plain reason.
 */
import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { SecretBox } from "../../src/connections/secrets.ts";
import { connections } from "../../src/db/schema/autocomm.ts";
import { type SftpServer, startSftpServer } from "../support/sftp_server.ts";
import {
  schoolYear,
  startTestService,
  studentsRecord,
  type TestService,
  tsv,
} from "../support/web.ts";

const KEY = crypto.getRandomValues(new Uint8Array(32));
const KEY_B64 = btoa(String.fromCharCode(...KEY));
const ENTRY = `08/20/${schoolYear()}`;

async function addConnection(
  s: TestService,
  server: SftpServer,
  over: { name?: string; password?: string; fingerprint?: string | null } = {},
): Promise<number> {
  const now = new Date().toISOString();
  const [row] = await s.database.db.insert(connections).values({
    name: over.name ?? "State SFTP",
    host: "127.0.0.1",
    port: server.port,
    authMethod: "password",
    username: server.username,
    allowDownload: true,
    hostFingerprint: over.fingerprint === undefined ? server.fingerprint : over.fingerprint,
    createdAt: now,
    updatedAt: now,
  }).returning({ id: connections.id });
  const box = await SecretBox.create({ current: KEY });
  const secret = await box.seal(
    JSON.stringify({ password: over.password ?? server.password }),
    row!.id,
  );
  await s.database.db.update(connections).set({ secret }).where(eq(connections.id, row!.id));
  return row!.id;
}

async function createRecord(s: TestService, over: Record<string, unknown>): Promise<number> {
  const res = await s.api("/api/v1/records", { method: "POST", json: studentsRecord(over) });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()).records[0].id;
}

async function runNow(s: TestService, recordId: number) {
  const res = await s.api(`/api/v1/records/${recordId}/run`, { method: "POST" });
  assert.equal(res.status, 202, await res.clone().text());
  const { runId } = await res.json();
  await s.queue.idle();
  return await (await s.api(`/api/v1/runs/${runId}`)).json();
}

async function setup() {
  const server = await startSftpServer();
  const s = await startTestService({ env: { AUTOCOMM_SECRET_KEY: KEY_B64 } });
  return {
    server,
    s,
    async [Symbol.asyncDispose]() {
      await s.close();
      await server.close();
    },
  };
}

Deno.test("a managed record imports its file from the SFTP server and notes where it came from", async () => {
  await using t = await setup();
  const { s, server } = t;
  const connectionId = await addConnection(s, server);
  const id = await createRecord(s, {
    source: "managed",
    connectionId,
    path: "in\\{school}\\students.txt",
  });
  await server.write(
    "in/100/students.txt",
    tsv([[9001, "Ann", "Lee", 3, ENTRY], [9002, "Bo", "Kim", 4, ENTRY]]),
  );
  // A local file of the same name is never read for a managed record.
  await s.writeImport("in/100/students.txt", tsv([[9999, "Lo", "Cal", 3, ENTRY]]));
  const run = await runNow(s, id);
  assert.equal(run.status, "succeeded", run.message);
  assert.equal(run.counts.inserted, 2);
  const notes = await (await s.api(`/api/v1/runs/${run.id}`)).json();
  assert.ok(
    JSON.stringify(notes).includes("Fetched State SFTP:in/100/students.txt over SFTP"),
    JSON.stringify(notes),
  );
  const sis = await (await s.api(`/api/v1/sis/students?school=100`)).json();
  assert.deepEqual(sis.rows.map((r: { Student_Number: number }) => r.Student_Number), [9001, 9002]);
});

Deno.test("a missing remote file ends no_file; a wrong password and a changed host key end failed", async () => {
  await using t = await setup();
  const { s, server } = t;
  const good = await addConnection(s, server);
  const id = await createRecord(s, { source: "managed", connectionId: good, path: "none.txt" });
  let run = await runNow(s, id);
  assert.equal(run.status, "no_file");
  assert.match(run.message, /There is no file at none\.txt/);

  await server.write("students.txt", tsv([[9001, "Ann", "Lee", 3, ENTRY]]));
  const wrong = await addConnection(s, server, { name: "Wrong", password: "wrong" });
  const byWrong = await createRecord(s, { name: "W", source: "managed", connectionId: wrong });
  run = await runNow(s, byWrong);
  assert.equal(run.status, "failed");
  assert.match(
    run.message,
    /Cannot fetch Wrong:students\.txt: The server .* refused the login of "sis" \(wrong password\); nothing was changed/,
  );
  assert.doesNotMatch(run.message, /wrong"|secret/);

  const other = "SHA256:" + "B".repeat(43);
  const moved = await addConnection(s, server, { name: "Moved", fingerprint: other });
  const byMoved = await createRecord(s, { name: "M", source: "managed", connectionId: moved });
  run = await runNow(s, byMoved);
  assert.equal(run.status, "failed");
  assert.ok(
    run.message.includes(`host key ${server.fingerprint} differs from the accepted ${other}`),
  );
  const sis = await (await s.api(`/api/v1/sis/students?school=100`)).json();
  assert.equal(sis.total, 0);
});

Deno.test("a remote file that changes during the download is not applied and the run waits", async () => {
  await using t = await setup();
  const { s, server } = t;
  const connectionId = await addConnection(s, server);
  const id = await createRecord(s, { source: "managed", connectionId });
  const rows = Array.from({ length: 20_000 }, (_, i) => [10_000 + i, "Ann", "Lee", 3, ENTRY]);
  const path = await server.write("students.txt", tsv(rows));
  const old = new Date(Date.now() - 3600_000);
  await Deno.utime(path, old, old);
  server.afterFirstRead = async () => {
    await Deno.writeTextFile(path, tsv(rows.slice(0, 10)));
  };
  const run = await runNow(s, id);
  assert.equal(run.status, "waiting");
  assert.match(run.message ?? "", /changed while it was downloaded/);
  const sis = await (await s.api(`/api/v1/sis/students?school=100`)).json();
  assert.equal(sis.total, 0, "nothing of it was applied");
});

Deno.test("a remote file that grows during the download waits; a connection lost mid-transfer fails the run", async () => {
  await using t = await setup();
  const { s, server } = t;
  const connectionId = await addConnection(s, server);
  const id = await createRecord(s, { source: "managed", connectionId });
  const rows = Array.from({ length: 20_000 }, (_, i) => [10_000 + i, "Ann", "Lee", 3, ENTRY]);
  const path = await server.write("students.txt", tsv(rows));
  server.afterFirstRead = async () => {
    await Deno.writeTextFile(path, tsv([[99_999, "Late", "Row", 3, ENTRY]]), { append: true });
  };
  let run = await runNow(s, id);
  assert.equal(run.status, "waiting");
  assert.match(run.message ?? "", /changed while it was downloaded/);

  await s.database.db.update(connections).set({ name: "Flaky" })
    .where(eq(connections.id, connectionId));
  server.disconnectAfterBytes = 200_000;
  const again = await createRecord(s, { name: "Again", source: "managed", connectionId });
  run = await runNow(s, again);
  assert.equal(run.status, "failed");
  assert.match(
    run.message,
    /^Cannot fetch Flaky:students\.txt: The connection to 127\.0\.0\.1.* lost.*; nothing was changed$/,
  );
  const sis = await (await s.api(`/api/v1/sis/students?school=100`)).json();
  assert.equal(sis.total, 0, "nothing of either was applied");
});

Deno.test("a held run from a managed record keeps the downloaded bytes, and approval applies them", async () => {
  await using t = await setup();
  const { s, server } = t;
  const connectionId = await addConnection(s, server);
  const load = await createRecord(s, { name: "Load", source: "managed", connectionId });
  const sync = await createRecord(s, {
    name: "Sync",
    source: "managed",
    connectionId,
    path: "sync.txt",
    synchronize: true,
  });
  await server.write(
    "students.txt",
    tsv([1, 2, 3, 4, 5, 6].map((n) => [9100 + n, "A", "B", 3, ENTRY])),
  );
  await server.write("sync.txt", tsv([[9101, "A", "B", 3, ENTRY]]));
  assert.equal((await runNow(s, load)).status, "succeeded");
  const held = await runNow(s, sync);
  assert.equal(held.status, "held");
  // The server's file changes after the hold: approval applies the held bytes.
  await server.write("sync.txt", tsv([[9101, "A", "B", 3, ENTRY], [9102, "A", "B", 3, ENTRY]]));
  const res = await s.api(`/api/v1/runs/${held.id}/approve`, { method: "POST" });
  assert.equal(res.status, 200);
  const approved = (await res.json()).run;
  assert.equal(approved.status, "succeeded");
  assert.equal(approved.counts.removed, 5);
  assert.match(held.file.sha256, /^[0-9a-f]{64}$/);
  assert.equal(approved.file.sha256, held.file.sha256, "the approval read the held bytes");
  const sis = await (await s.api(`/api/v1/sis/students?school=100`)).json();
  const active = sis.rows.filter((r: { Enroll_Status: number }) => r.Enroll_Status === 0)
    .map((r: { Student_Number: number }) => r.Student_Number);
  assert.deepEqual(active, [9101], "the server's newer file (listing 9102) was not applied");
});

Deno.test("a small remote file is parsed as it downloads: the run's progress moves before the last byte", async () => {
  await using t = await setup();
  const { s, server } = t;
  const connectionId = await addConnection(s, server);
  const id = await createRecord(s, { source: "managed", connectionId, path: "students.txt" });
  // 20,000 rows (under the size a local file is read whole at), each 32 KB read after 200 ms.
  const rows = Array.from({ length: 20_000 }, (_, i) => [10_000 + i, "Ann", "Lee", 3, ENTRY]);
  await server.write("students.txt", tsv(rows));
  server.readDelayMs = 200;
  const res = await s.api(`/api/v1/records/${id}/run`, { method: "POST" });
  const { runId } = await res.json();
  const seen: { status: string; rowsRead: number; bytesRead: number; fileSize: number }[] = [];
  for (let i = 0; i < 600; i++) {
    const now = await (await s.api(`/api/v1/runs/${runId}/progress`)).json();
    if (!now.active) break;
    if (now.progress) seen.push({ status: now.status, ...now.progress });
    await new Promise((r) => setTimeout(r, 100));
  }
  await s.queue.idle();
  const during = seen.filter((p) => p.bytesRead > 0 && p.bytesRead < p.fileSize);
  assert.ok(during.length > 0, `bytes counted during the download: ${JSON.stringify(seen)}`);
  assert.ok(during.some((p) => p.rowsRead > 0), `rows read during the download`);
  const run = await (await s.api(`/api/v1/runs/${runId}`)).json();
  assert.equal(run.status, "succeeded", run.message);
  assert.equal(run.counts.inserted, 20_000);
});
