/**
 * The Managed Connections pages through the app: only admins manage connections,
 * posts need the CSRF token, connections are created, changed (an empty secret field
 * keeps the stored secret), tested against a real SFTP server in this process, their
 * fingerprint accepted, and deleted unless records use them. No page ever carries a
 * stored password, key or passphrase.
 */
import assert from "node:assert/strict";
import { getConnection, listConnections } from "../../src/connections/store.ts";
import { CSRF_FIELD } from "../../src/web/auth/middleware.ts";
import { ed25519Keys, type SftpServer, startSftpServer } from "../support/sftp_server.ts";
import {
  type Session,
  startTestService,
  studentsRecord,
  type TestService,
  textOf,
} from "../support/web.ts";

const KEY_B64 = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
const OTHER_FINGERPRINT = `SHA256:${"A".repeat(43)}`;

/** Every page body the test saw, to check no secret is ever in one. */
const seen: string[] = [];

async function html(res: Response, status = 200): Promise<string> {
  const body = await res.text();
  assert.equal(res.status, status, `status ${res.status}: ${textOf(body).slice(0, 400)}`);
  assert.match(res.headers.get("content-type") ?? "", /text\/html/);
  seen.push(body);
  return body;
}

function assertNoSecret(secrets: string[]) {
  for (const page of seen) {
    for (const secret of secrets) {
      assert.equal(
        page.includes(secret),
        false,
        `a page carries the secret ${secret.slice(0, 20)}`,
      );
    }
  }
}

/** A connection form as the browser posts it, for `server`. */
function connectionForm(
  server: SftpServer,
  over: Record<string, string> = {},
): Record<string, string> {
  return {
    protocol: "sftp",
    name: "State SFTP",
    description: "The state's nightly drop",
    host: "127.0.0.1",
    port: String(server.port),
    username: server.username,
    authType: "password",
    password: server.password,
    privateKey: "",
    passphrase: "",
    allowDownload: "on",
    hostKeyFingerprint: "",
    ...over,
  };
}

async function setup() {
  const server = await startSftpServer({ password: "s3cret-Pa55word" });
  const s = await startTestService({ env: { AUTOCOMM_SECRET_KEY: KEY_B64 } });
  const admin = await s.session("admin");
  return {
    server,
    s,
    admin,
    async [Symbol.asyncDispose]() {
      await s.close();
      await server.close();
    },
  };
}

async function create(
  s: TestService,
  admin: Session,
  form: Record<string, string>,
): Promise<number> {
  const res = await s.page(admin, "/connections", form);
  assert.equal(res.status, 303, textOf(await res.text()).slice(0, 400));
  assert.equal(res.headers.get("location"), "/connections?done=created");
  const made = (await listConnections(s.database.db)).find((c) => c.name === form["name"]);
  assert.ok(made);
  return made.id;
}

Deno.test("only admins see and manage the connections pages; the setup page links them for admins", async () => {
  await using t = await setup();
  const { s, server, admin } = t;
  const id = await create(s, admin, connectionForm(server));
  for (const role of ["viewer", "runner", "editor"] as const) {
    const who = await s.session(role, 100);
    for (const path of ["/connections", "/connections/new", `/connections/${id}/edit`]) {
      assert.match(await html(await s.page(who, path), 403), /needs the admin role/);
    }
    for (const path of ["/connections", `/connections/${id}`, `/connections/${id}/test`]) {
      await html(await s.page(who, path, connectionForm(server)), 403);
    }
    await html(await s.page(who, `/connections/${id}/delete`, {}), 403);
    await html(await s.page(who, `/connections/${id}/fingerprint`, { fingerprint: "x" }), 403);
    assert.doesNotMatch(await html(await s.page(who, "/?school=100")), /href="\/connections"/);
  }
  assert.equal((await getConnection(s.database.db, id))?.name, "State SFTP");
  const anonymous = await s.page(undefined, "/connections");
  assert.equal(anonymous.status, 302);
  assert.match(anonymous.headers.get("location") ?? "", /^\/signin\?next=%2Fconnections/);
  assert.match(
    await html(await s.page(admin, "/?school=100")),
    /<a class="button secondary" href="\/connections">Managed connections<\/a>/,
  );
});

Deno.test("the plugin manifest names the connections page for admins, where the app serves it", async () => {
  const manifest = JSON.parse(
    await Deno.readTextFile(new URL("../../plugin/manifest.json", import.meta.url)),
  ) as { pages: { path: string; role: string; navigation: string[] }[] };
  const page = manifest.pages.find((p) => p.path === "/connections");
  assert.ok(page, "plugin/manifest.json lists /connections");
  assert.equal(page.role, "admin");
  assert.equal(page.navigation.at(-1), "Managed Connections");
});

Deno.test("a test that cannot reach the server or log in says it failed and lists no folder", async () => {
  await using t = await setup();
  const { s, server, admin } = t;
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (closed.addr as Deno.NetAddr).port;
  closed.close();
  const away = await create(s, admin, connectionForm(server, { name: "Away", port: String(port) }));
  const unreachable = textOf(await html(await s.page(admin, `/connections/${away}/test`, {})));
  assert.match(unreachable, /The test failed/);
  assert.match(unreachable, /No host key to show/);
  assert.doesNotMatch(unreachable, /Accept this fingerprint|Login folder/);

  const wrong = await create(
    s,
    admin,
    connectionForm(server, { name: "Wrong password", password: "not-the-one" }),
  );
  const refused = textOf(await html(await s.page(admin, `/connections/${wrong}/test`, {})));
  assert.match(
    refused,
    /The test failed\. The server 127\.0\.0\.1:\d+ refused the login of "sis" \(wrong password\)/,
  );
  assert.doesNotMatch(refused, /Login folder/);
  assertNoSecret([server.password, "not-the-one"]);
});

Deno.test("a connections form posted without the session's CSRF token changes nothing", async () => {
  await using t = await setup();
  const { s, server, admin } = t;
  const id = await create(s, admin, connectionForm(server));
  const forged = { ...connectionForm(server, { name: "Forged" }), [CSRF_FIELD]: "0".repeat(43) };
  assert.match(
    await html(await s.page(admin, "/connections", forged), 403),
    /This form has expired or came from elsewhere/,
  );
  await html(await s.page(admin, `/connections/${id}`, forged), 403);
  await html(await s.page(admin, `/connections/${id}/delete`, { [CSRF_FIELD]: "x" }), 403);
  await html(
    await s.page(admin, `/connections/${id}/fingerprint`, {
      fingerprint: server.fingerprint,
      [CSRF_FIELD]: "x",
    }),
    403,
  );
  const still = await listConnections(s.database.db);
  assert.deepEqual(still.map((c) => [c.name, c.hostKeyFingerprint]), [["State SFTP", null]]);
});

Deno.test("an admin creates a connection; the list shows it without its password, and problems show beside their fields with the input kept", async () => {
  await using t = await setup();
  const { s, server, admin } = t;
  const blank = await html(await s.page(admin, "/connections/new"));
  assert.match(blank, /<input type="text" inputmode="numeric" value="22"/);
  assert.match(blank, /name="allowDownload"[^>]*checked|checked[^>]*name="allowDownload"/);

  const bad = await html(
    await s.page(
      admin,
      "/connections",
      connectionForm(server, { host: "", port: "70000", name: "Typed name" }),
    ),
    400,
  );
  assert.match(textOf(bad), /There is a problem with this connection/);
  assert.match(bad, /<a href="#f-host">Host: Host is required<\/a>/);
  assert.match(bad, /id="e-port"[\s\S]*Port must be a whole number from 1 to 65535/);
  assert.match(bad, /value="Typed name"/);
  assert.match(bad, /value="70000"/);
  assert.equal((await listConnections(s.database.db)).length, 0);

  await create(s, admin, connectionForm(server));
  const list = await html(await s.page(admin, "/connections?done=created"));
  const text = textOf(list);
  assert.match(text, /The connection was created/);
  assert.match(text, /State SFTP The state's nightly drop/);
  assert.match(text, new RegExp(`sftp://127\\.0\\.0\\.1:${server.port}`));
  assert.match(text, /sis Password \(stored\)/);
  assert.match(text, /Not accepted yet/);
  assert.match(text, /No records/);

  const taken = await html(await s.page(admin, "/connections", connectionForm(server)), 400);
  assert.match(textOf(taken), /Name: Another connection has this name/);
  assertNoSecret([server.password]);
});

Deno.test("editing keeps the stored password when its field is left empty and never shows it", async () => {
  await using t = await setup();
  const { s, server, admin } = t;
  const id = await create(s, admin, connectionForm(server));
  const form = await html(await s.page(admin, `/connections/${id}/edit`));
  assert.match(form, /<input type="password" value=""/);
  assert.match(textOf(form), /leave empty to keep the stored password/);

  const saved = await s.page(
    admin,
    `/connections/${id}`,
    connectionForm(server, { password: "", description: "Changed", allowUpload: "on" }),
  );
  assert.equal(saved.status, 303);
  assert.equal(saved.headers.get("location"), "/connections?done=saved");
  const after = await getConnection(s.database.db, id);
  assert.equal(after?.description, "Changed");
  assert.equal(after?.allowUpload, true);
  assert.equal(after?.hasSecret, true);
  // The stored password still logs in.
  const tested = await html(await s.page(admin, `/connections/${id}/test`, {}));
  assert.match(textOf(tested), /Connected and logged in/);

  // Switching to a key needs one; a bad one is named beside its field.
  const noKey = await html(
    await s.page(admin, `/connections/${id}`, connectionForm(server, { authType: "key" })),
    400,
  );
  assert.match(noKey, /id="e-privateKey"[\s\S]*Paste the private key \(OpenSSH or PEM\)/);
  const badKey = await html(
    await s.page(
      admin,
      `/connections/${id}`,
      connectionForm(server, { authType: "key", privateKey: "not a key" }),
    ),
    400,
  );
  assert.match(badKey, /The private key is not an OpenSSH or PEM private key/);

  const pair = ed25519Keys({
    passphrase: "k3y-phrase",
    cipher: "aes256-ctr",
  });
  const keyed = await s.page(
    admin,
    `/connections/${id}`,
    connectionForm(server, {
      authType: "key",
      password: "",
      privateKey: pair.private,
      passphrase: "k3y-phrase",
    }),
  );
  assert.equal(keyed.status, 303);
  const keyForm = await html(await s.page(admin, `/connections/${id}/edit`));
  assert.match(textOf(keyForm), /leave empty to keep the stored key/);
  assert.match(textOf(await html(await s.page(admin, "/connections"))), /Private key \(stored\)/);
  assertNoSecret([server.password, "k3y-phrase", pair.private.split("\n")[1]!]);
});

Deno.test("Test connection shows the server's fingerprint and login folder; accepting pins it, and a different key shows both", async () => {
  await using t = await setup();
  const { s, server, admin } = t;
  await server.write("students.txt", "1\tAnn\n");
  await server.write("teachers.txt", "");
  const id = await create(s, admin, connectionForm(server));

  const first = await html(await s.page(admin, `/connections/${id}/test`, {}));
  const text = textOf(first);
  assert.match(text, /Connected and logged in/);
  assert.match(
    first,
    new RegExp(
      `<code id="server-fingerprint">${server.fingerprint.replace(/[+/]/g, "\\$&")}</code>`,
    ),
  );
  assert.match(text, /Accepted fingerprint None accepted yet/);
  assert.match(text, /students\.txt 6 bytes/);
  assert.match(text, /teachers\.txt 0 bytes/);
  assert.match(first, /<button type="submit" class="button">Accept this fingerprint<\/button>/);
  assert.match(
    first,
    new RegExp(`name="fingerprint" value="${server.fingerprint.replace(/[+/]/g, "\\$&")}"`),
  );

  const accepted = await s.page(admin, `/connections/${id}/fingerprint`, {
    fingerprint: server.fingerprint,
  });
  assert.equal(accepted.status, 303);
  assert.equal(accepted.headers.get("location"), "/connections?done=accepted");
  assert.equal((await getConnection(s.database.db, id))?.hostKeyFingerprint, server.fingerprint);
  const list = textOf(await html(await s.page(admin, "/connections?done=accepted")));
  assert.match(list, /The server's fingerprint is accepted/);
  assert.ok(list.includes(server.fingerprint));

  const again = await html(await s.page(admin, `/connections/${id}/test`, {}));
  assert.match(textOf(again), /The server's key is the accepted one/);
  assert.doesNotMatch(again, /Accept this fingerprint/);

  // Another key pinned: both are shown, nothing is listed, and the server's can be accepted.
  const pinned = await s.page(
    admin,
    `/connections/${id}`,
    connectionForm(server, { password: "", hostKeyFingerprint: OTHER_FINGERPRINT }),
  );
  assert.equal(pinned.status, 303);
  const differs = await html(await s.page(admin, `/connections/${id}/test`, {}));
  const differsText = textOf(differs);
  assert.match(differsText, /The test failed/);
  assert.match(differsText, /The server's key differs from the accepted one/);
  assert.ok(differsText.includes(`Server's fingerprint ${server.fingerprint}`));
  assert.ok(differsText.includes(`Accepted fingerprint ${OTHER_FINGERPRINT}`));
  assert.doesNotMatch(differsText, /students\.txt/);
  assert.match(differs, /class="button danger">Accept this fingerprint/);

  const bogus = await s.page(admin, `/connections/${id}/fingerprint`, { fingerprint: "MD5:xx" });
  assert.equal(bogus.status, 400);
  assert.equal((await getConnection(s.database.db, id))?.hostKeyFingerprint, OTHER_FINGERPRINT);
  assertNoSecret([server.password]);
});

Deno.test("a connection records use is not deleted and the page lists them; an unused one is", async () => {
  await using t = await setup();
  const { s, server, admin } = t;
  const id = await create(s, admin, connectionForm(server));
  const spare = await create(s, admin, connectionForm(server, { name: "Spare" }));
  const res = await s.api("/api/v1/records", {
    method: "POST",
    json: studentsRecord({ source: "managed", connectionId: id, name: "Managed students" }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  const recordId = (await res.json()).records[0].id;

  assert.match(textOf(await html(await s.page(admin, "/connections"))), /1 record/);
  const ask = await html(await s.page(admin, `/connections/${id}/delete`));
  assert.match(textOf(ask), /The connection “State SFTP” is in use/);
  assert.match(ask, new RegExp(`<a href="/records/${recordId}/edit">Managed students</a>`));
  assert.doesNotMatch(ask, /class="button danger">Delete/);

  const refused = await html(await s.page(admin, `/connections/${id}/delete`, {}), 409);
  assert.match(textOf(refused), /One record uses this connection, so it cannot be deleted/);
  assert.match(textOf(refused), /Managed students \(school 100\)/);
  assert.ok(await getConnection(s.database.db, id));

  const confirm = await html(await s.page(admin, `/connections/${spare}/delete`));
  assert.match(textOf(confirm), /Delete the managed connection “Spare”\?/);
  const deleted = await s.page(admin, `/connections/${spare}/delete`, {});
  assert.equal(deleted.status, 303);
  assert.equal(deleted.headers.get("location"), "/connections?done=deleted");
  assert.equal(await getConnection(s.database.db, spare), undefined);
  assert.match(
    textOf(await html(await s.page(admin, "/connections?done=deleted"))),
    /The connection was deleted/,
  );
  await html(await s.page(admin, `/connections/${spare}/edit`), 404);
  await html(await s.page(admin, "/connections/abc/edit"), 404);
});

Deno.test("without AUTOCOMM_SECRET_KEY the list warns and a password cannot be stored", async () => {
  const server = await startSftpServer();
  const s = await startTestService();
  try {
    const admin = await s.session("admin");
    assert.match(
      textOf(await html(await s.page(admin, "/connections"))),
      /The service has no AUTOCOMM_SECRET_KEY/,
    );
    const refused = await html(await s.page(admin, "/connections", connectionForm(server)), 400);
    assert.match(textOf(refused), /cannot store a password or key/);
    assert.equal((await listConnections(s.database.db)).length, 0);
  } finally {
    await s.close();
    await server.close();
  }
});
