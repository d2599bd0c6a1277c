import assert from "node:assert/strict";
import { connectSftp, SftpError, type SftpTarget } from "../../src/connections/sftp.ts";
import { ed25519Keys, type SftpServer, startSftpServer } from "../support/sftp_server.ts";

function target(server: SftpServer, over: Partial<SftpTarget> = {}): SftpTarget {
  return {
    host: "127.0.0.1",
    port: server.port,
    username: server.username,
    auth: { kind: "password", password: server.password },
    allowLegacyCiphers: false,
    hostKeyFingerprint: server.fingerprint,
    ...over,
  };
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c.slice());
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function failsWith(kind: string, pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof SftpError, String(e));
    assert.equal(e.kind, kind, e.message);
    assert.match(e.message, pattern);
    return true;
  };
}

Deno.test("a password login lists the folder, stats and streams a file, with the server's fingerprint", async () => {
  await using server = await startSftpServer();
  const bytes = new Uint8Array(300_000).map((_, i) => (i * 31) % 251);
  await server.write("in/students.txt", bytes);
  await using session = await connectSftp(target(server));
  assert.equal(session.fingerprint, server.fingerprint);
  assert.match(session.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
  const entries = await session.list(".");
  assert.deepEqual(entries.map((e) => [e.name, e.directory]), [["in", true]]);
  const inside = await session.list("in");
  assert.deepEqual(inside.map((e) => [e.name, e.size]), [["students.txt", 300_000]]);
  const stat = await session.stat("in/students.txt");
  assert.equal(stat.size, 300_000);
  assert.equal(stat.isFile, true);
  assert.deepEqual(await collect(session.read("in/students.txt")), bytes);
});

Deno.test("a host key is always verified: unpinned is refused unless testing, a different key before login", async () => {
  await using server = await startSftpServer();
  await assert.rejects(
    () => connectSftp(target(server, { hostKeyFingerprint: null })),
    failsWith("host_key", /no accepted host key yet \(the server shows SHA256:/),
  );
  await using testing = await connectSftp(target(server, { hostKeyFingerprint: null }), {
    allowUnpinned: true,
  });
  assert.equal(testing.fingerprint, server.fingerprint);
  const other = "SHA256:" + "A".repeat(43);
  server.refusedLogins = 0;
  await assert.rejects(
    () =>
      connectSftp(target(server, {
        hostKeyFingerprint: other,
        auth: { kind: "password", password: "wrong" },
      })),
    failsWith(
      "host_key",
      new RegExp(
        `${
          server.fingerprint.replace(/[+/]/g, "\\$&")
        } differs from the accepted ${other}; refused before logging in`,
      ),
    ),
  );
  assert.equal(server.refusedLogins, 0, "no password was sent to the unknown server");
});

Deno.test("a wrong password and a wrong key are refused logins", async () => {
  const key = ed25519Keys();
  await using server = await startSftpServer();
  await assert.rejects(
    () => connectSftp(target(server, { auth: { kind: "password", password: "nope" } })),
    failsWith("auth", /refused the login of "sis" \(wrong password\)/),
  );
  await assert.rejects(
    () => connectSftp(target(server, { auth: { kind: "key", privateKey: key.private } })),
    failsWith("auth", /refused the login/),
  );
});

Deno.test("a private key with a passphrase logs in; a wrong passphrase is an auth error", async () => {
  const key = ed25519Keys({
    passphrase: "open sesame",
    cipher: "aes256-ctr",
    rounds: 16,
  });
  await using server = await startSftpServer({ publicKey: key.public });
  await server.write("a.txt", "hello");
  await using session = await connectSftp(
    target(server, { auth: { kind: "key", privateKey: key.private, passphrase: "open sesame" } }),
  );
  assert.equal(new TextDecoder().decode(await collect(session.read("a.txt"))), "hello");
  await assert.rejects(
    () =>
      connectSftp(
        target(server, { auth: { kind: "key", privateKey: key.private, passphrase: "wrong" } }),
      ),
    failsWith("auth", /private key cannot be read/),
  );
});

Deno.test("a missing file and a denied one are told apart", async () => {
  await using server = await startSftpServer();
  await server.write("secret.txt", "x");
  server.denied.add("secret.txt");
  await using session = await connectSftp(target(server));
  await assert.rejects(() => session.stat("none.txt"), failsWith("not_found", /No such file/));
  await assert.rejects(
    () => session.stat("secret.txt"),
    failsWith("permission", /permission denied/),
  );
  await assert.rejects(
    () => collect(session.read("none.txt")),
    failsWith("not_found", /No such file/),
  );
});

Deno.test("legacy ciphers are used only when the connection allows them", async () => {
  await using server = await startSftpServer({ algorithms: { cipher: ["aes128-cbc"] } });
  await assert.rejects(() => connectSftp(target(server)), SftpError);
  await using session = await connectSftp(target(server, { allowLegacyCiphers: true }));
  assert.deepEqual(await session.list("."), []);
});

Deno.test("a stalled transfer ends at the idle timeout, a dropped connection as a network error", async () => {
  await using server = await startSftpServer();
  await server.write("big.txt", new Uint8Array(2_000_000));
  {
    server.readDelayMs = 1500;
    await using session = await connectSftp(target(server), { idleTimeoutMs: 300 });
    await assert.rejects(() => collect(session.read("big.txt")), failsWith("timeout", /stalled/));
    server.readDelayMs = 0;
  }
  server.disconnectAfterBytes = 500_000;
  await using session = await connectSftp(target(server));
  await assert.rejects(() => collect(session.read("big.txt")), (e) => {
    assert.ok(e instanceof SftpError && e.retriable, String(e));
    return true;
  });
});

Deno.test("an unreachable server is a network error worth retrying", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await assert.rejects(
    () =>
      connectSftp({
        host: "127.0.0.1",
        port,
        username: "x",
        auth: { kind: "password", password: "x" },
        allowLegacyCiphers: false,
        hostKeyFingerprint: null,
      }),
    (e) => e instanceof SftpError && e.kind === "network" && e.retriable,
  );
});
