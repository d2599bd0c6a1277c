import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import {
  ConnectionInUse,
  ConnectionInvalid,
  createConnection,
  deleteConnection,
  listConnections,
  rotateSecrets,
  secretKeyProblem,
  testConnection,
  updateConnection,
} from "../../src/connections/store.ts";
import { connections, records } from "../../src/db/schema/autocomm.ts";
import { tempDatabase } from "../support/db.ts";
import { ed25519Keys, startSftpServer } from "../support/sftp_server.ts";

const key = () => crypto.getRandomValues(new Uint8Array(32));

function problems(fields: string[]) {
  return (e: unknown) => {
    assert.ok(e instanceof ConnectionInvalid, String(e));
    assert.deepEqual(e.problems.map((p) => p.field).sort(), [...fields].sort());
    return true;
  };
}

Deno.test("a connection is stored with its secret sealed and is shown without it", async () => {
  await using t = await tempDatabase();
  const deps = { db: t.database.db, keys: { current: key(), previous: undefined } };
  const made = await createConnection(deps, {
    name: "State SFTP",
    host: "sftp.example.org",
    username: "sis",
    password: "hunter2-secret",
  });
  assert.equal(made.port, 22);
  assert.equal(made.authType, "password");
  assert.equal(made.allowDownload, true);
  assert.equal(made.allowUpload, false);
  assert.equal(made.hasSecret, true);
  assert.equal(made.hostKeyFingerprint, null);
  assert.doesNotMatch(JSON.stringify(made), /hunter2/);
  const [row] = await t.database.db.select().from(connections);
  assert.doesNotMatch(row!.secret!, /hunter2/);
  assert.match(row!.secret!, /^v1\./);
  assert.deepEqual((await listConnections(t.database.db)).map((c) => c.name), ["State SFTP"]);

  // A change without a password keeps the stored one.
  const changed = await updateConnection(deps, made.id, { port: 2222, description: "State" });
  assert.equal(changed!.port, 2222);
  const [after] = await t.database.db.select().from(connections);
  assert.equal(after!.secret, row!.secret);
});

Deno.test("a connection's input is checked field by field", async () => {
  await using t = await tempDatabase();
  const deps = { db: t.database.db, keys: { current: key(), previous: undefined } };
  await assert.rejects(
    () => createConnection(deps, { name: "", host: "bad host!", port: 70000 }),
    problems(["name", "host", "port", "username", "password"]),
  );
  await assert.rejects(
    () =>
      createConnection(deps, {
        name: "K",
        host: "h",
        username: "u",
        authType: "key",
        privateKey: "not a key",
        hostKeyFingerprint: "MD5:aa",
      }),
    problems(["privateKey", "hostKeyFingerprint"]),
  );
  const pair = ed25519Keys({
    passphrase: "pp",
    cipher: "aes256-ctr",
    rounds: 16,
  });
  await assert.rejects(
    () =>
      createConnection(deps, {
        name: "K",
        host: "h",
        username: "u",
        authType: "key",
        privateKey: pair.private,
      }),
    problems(["privateKey"]),
  );
  const withKey = await createConnection(deps, {
    name: "K",
    host: "h",
    username: "u",
    authType: "key",
    privateKey: pair.private,
    passphrase: "pp",
  });
  assert.equal(withKey.authType, "key");
  await assert.rejects(
    () => createConnection(deps, { name: "K", host: "h", username: "u", password: "p" }),
    problems(["name"]),
  );
  const noKey = { db: t.database.db, keys: { current: undefined, previous: undefined } };
  await assert.rejects(
    () => createConnection(noKey, { name: "N", host: "h", username: "u", password: "p" }),
    (e) => e instanceof ConnectionInvalid && /AUTOCOMM_SECRET_KEY/.test(e.problems[0]!.message),
  );
});

Deno.test("a connection used by records cannot be deleted, and the answer lists them", async () => {
  await using t = await tempDatabase();
  const deps = { db: t.database.db, keys: { current: key(), previous: undefined } };
  const c = await createConnection(deps, { name: "S", host: "h", username: "u", password: "p" });
  const now = new Date().toISOString();
  await t.database.db.insert(records).values(
    {
      schoolId: 0,
      name: "Students nightly",
      table: "students",
      source: "managed",
      connectionId: c.id,
      path: "s.txt",
      fields: ["Student_Number"],
      createdAt: now,
      updatedAt: now,
    } as typeof records.$inferInsert,
  );
  await assert.rejects(
    () => deleteConnection(t.database.db, c.id),
    (e) =>
      e instanceof ConnectionInUse && e.records.length === 1 &&
      /used by 1 record \(Students nightly in school 0\)/.test(e.message),
  );
  await t.database.db.delete(records);
  assert.equal(await deleteConnection(t.database.db, c.id), true);
  assert.equal(await deleteConnection(t.database.db, c.id), false);
});

Deno.test("testing shows the server's fingerprint and the login folder; a changed key is refused", async () => {
  await using t = await tempDatabase();
  await using server = await startSftpServer();
  await server.write("students.txt", "1\tA\n");
  const deps = { db: t.database.db, keys: { current: key(), previous: undefined } };
  const c = await createConnection(deps, {
    name: "Local",
    host: "127.0.0.1",
    port: server.port,
    username: server.username,
    password: server.password,
  });
  const first = await testConnection(deps, c.id);
  assert.deepEqual(
    { ok: first!.ok, fingerprint: first!.fingerprint, pinned: first!.pinned },
    { ok: true, fingerprint: server.fingerprint, pinned: false },
  );
  assert.deepEqual(first!.entries.map((e) => [e.name, e.size]), [["students.txt", 4]]);
  await updateConnection(deps, c.id, { hostKeyFingerprint: first!.fingerprint });
  assert.equal((await testConnection(deps, c.id))!.pinned, true);

  const other = "SHA256:" + "C".repeat(43);
  await t.database.db.update(connections).set({ hostFingerprint: other })
    .where(eq(connections.id, c.id));
  const refused = await testConnection(deps, c.id);
  assert.equal(refused!.ok, false);
  assert.equal(refused!.fingerprint, server.fingerprint);
  assert.ok(refused!.error!.includes(`differs from the accepted ${other}`));
  assert.equal(await testConnection(deps, 999), undefined);
});

Deno.test("rotation seals every secret under the new key; a missing or wrong key is named", async () => {
  await using t = await tempDatabase();
  const oldKey = key();
  const newKey = key();
  const before = { db: t.database.db, keys: { current: oldKey, previous: undefined } };
  await createConnection(before, { name: "A", host: "h", username: "u", password: "pa" });
  await createConnection(before, { name: "B", host: "h", username: "u", password: "pb" });
  assert.equal(await secretKeyProblem(before), undefined);
  const none = { db: t.database.db, keys: { current: undefined, previous: undefined } };
  assert.match(
    (await secretKeyProblem(none))!,
    /AUTOCOMM_SECRET_KEY is not set, but 2 managed connections have/,
  );
  const wrong = { db: t.database.db, keys: { current: newKey, previous: undefined } };
  assert.match((await secretKeyProblem(wrong))!, /connection "A": it was sealed with another key/);

  const after = { db: t.database.db, keys: { current: newKey, previous: oldKey } };
  assert.equal(await rotateSecrets(after), 2);
  assert.equal(await rotateSecrets(after), 0);
  assert.equal(await secretKeyProblem(wrong), undefined, "the new key alone opens them now");
});
