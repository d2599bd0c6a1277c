import assert from "node:assert/strict";
import { startSftpServer } from "../support/sftp_server.ts";
import { startTestService, studentsRecord } from "../support/web.ts";

const KEY_B64 = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
const SECRET = "pa55-word-that-never-comes-back";

Deno.test("connections are managed through the API by admins, and secrets never come back", async () => {
  await using server = await startSftpServer({ password: SECRET });
  await server.write("students.txt", "1\n");
  const s = await startTestService({ env: { AUTOCOMM_SECRET_KEY: KEY_B64 } });
  try {
    const bodies: string[] = [];
    const call = async (path: string, init: { method?: string; json?: unknown } = {}) => {
      const res = await s.api(path, init);
      const text = await res.text();
      bodies.push(text);
      return { status: res.status, type: res.headers.get("content-type") ?? "", text };
    };

    let res = await call("/api/v1/connections", {
      method: "POST",
      json: {
        name: "State SFTP",
        host: "127.0.0.1",
        port: server.port,
        username: server.username,
        password: SECRET,
      },
    });
    assert.equal(res.status, 201, res.text);
    assert.match(res.type, /application\/json/);
    const created = JSON.parse(res.text);
    assert.deepEqual(Object.keys(created).sort(), [
      "allowDownload",
      "allowLegacyCiphers",
      "allowUpload",
      "authType",
      "description",
      "hasSecret",
      "host",
      "hostKeyFingerprint",
      "id",
      "name",
      "port",
      "protocol",
      "username",
    ]);
    assert.equal(created.protocol, "sftp");
    assert.equal(created.hasSecret, true);

    res = await call(`/api/v1/connections/${created.id}/test`, { method: "POST" });
    assert.equal(res.status, 200);
    const test = JSON.parse(res.text);
    assert.equal(test.ok, true);
    assert.equal(test.fingerprint, server.fingerprint);
    assert.equal(test.pinned, false);
    assert.deepEqual(test.entries.map((e: { name: string }) => e.name), ["students.txt"]);

    res = await call(`/api/v1/connections/${created.id}`, {
      method: "PATCH",
      json: { hostKeyFingerprint: test.fingerprint, description: "The state's drop box" },
    });
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.text).hostKeyFingerprint, server.fingerprint);
    res = await call(`/api/v1/connections/${created.id}/test`, { method: "POST" });
    assert.equal(JSON.parse(res.text).pinned, true);

    res = await call("/api/v1/connections", { method: "POST", json: { name: "", port: 0 } });
    assert.equal(res.status, 400);
    const invalid = JSON.parse(res.text).error;
    assert.equal(invalid.code, "invalid");
    assert.deepEqual(
      invalid.problems.map((p: { field: string }) => p.field).sort(),
      ["host", "name", "password", "port", "username"],
    );

    // A record uses it: deleting is refused with the record named.
    res = await call("/api/v1/records", {
      method: "POST",
      json: studentsRecord({ source: "managed", connectionId: created.id }),
    });
    assert.equal(res.status, 201, res.text);
    const recordId = JSON.parse(res.text).records[0].id;
    res = await call(`/api/v1/connections/${created.id}`, { method: "DELETE" });
    assert.equal(res.status, 409);
    const inUse = JSON.parse(res.text).error;
    assert.equal(inUse.code, "in_use");
    assert.deepEqual(inUse.records.map((r: { id: number }) => r.id), [recordId]);
    await s.api(`/api/v1/records/${recordId}`, { method: "DELETE" });
    res = await call(`/api/v1/connections/${created.id}`, { method: "DELETE" });
    assert.equal(res.status, 204);
    res = await call(`/api/v1/connections/${created.id}`);
    assert.equal(res.status, 404);

    for (const body of bodies) assert.ok(!body.includes(SECRET), `a secret came back: ${body}`);

    // Only admins manage connections; editors choose them for records.
    const editor = await s.session("editor", 100);
    const denied = await s.apiAs(editor, "/api/v1/connections");
    assert.equal(denied.status, 403);
    await denied.body?.cancel();
    const other = (await (await s.api("/api/v1/connections", {
      method: "POST",
      json: { name: "Other", host: "h", username: "u", password: SECRET },
    })).json()).id;
    const chosen = await s.apiAs(editor, "/api/v1/records", {
      method: "POST",
      json: studentsRecord({ name: "Editor's", source: "managed", connectionId: other }),
    });
    assert.equal(chosen.status, 201, await chosen.clone().text());
    await chosen.body?.cancel();
    const doc = await (await s.api("/api/v1/openapi.json")).json();
    assert.ok(doc.paths["/connections"] && doc.paths["/connections/{id}/test"]);
  } finally {
    await s.close();
  }
});
