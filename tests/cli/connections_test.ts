import assert from "node:assert/strict";
import { REPO_ROOT, runCli, spawnScript } from "../support/cli.ts";
import { startSftpServer } from "../support/sftp_server.ts";

const key = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));

Deno.test("connections add, test --accept, list and remove through the CLI; secrets from stdin", async () => {
  await using server = await startSftpServer();
  await server.write("students.txt", "1\n");
  const dir = await Deno.makeTempDir({ prefix: "autocomm_cli_conn_" });
  const env = { AUTOCOMM_DATA_DIR: dir, AUTOCOMM_SECRET_KEY: key() };
  try {
    let r = await runCli(
      [
        "connections",
        "add",
        "--name",
        "State SFTP",
        "--host",
        "127.0.0.1",
        "--port",
        String(server.port),
        "--username",
        server.username,
        "--password-stdin",
      ],
      env,
      { stdin: `${server.password}\n` },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Created connection 1 \(State SFTP\)\./);

    r = await runCli(["connections", "test", "1", "--accept"], env);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(`Host key: ${server.fingerprint} (not accepted yet)`), r.stdout);
    assert.match(r.stdout, /students\.txt\t2\t/);
    assert.ok(r.stdout.includes(`Accepted ${server.fingerprint}.`));

    r = await runCli(["connections", "list", "--json"], env);
    assert.equal(r.code, 0, r.stderr);
    const [listed] = JSON.parse(r.stdout).connections;
    assert.equal(listed.hostKeyFingerprint, server.fingerprint);
    assert.equal(listed.hasSecret, true);
    assert.ok(!r.stdout.includes(server.password));

    r = await runCli(["connections", "add", "--name", "", "--host", "x"], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /name: Name is required/);

    r = await runCli(["connections", "remove", "1"], env);
    assert.equal(r.code, 0, r.stderr);
    r = await runCli(["connections", "list"], env);
    assert.match(r.stdout, /No managed connections\./);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("secrets rotate seals stored secrets under the new key; the old key alone then fails at start", async () => {
  const dir = await Deno.makeTempDir({ prefix: "autocomm_cli_rotate_" });
  const oldKey = key();
  const newKey = key();
  try {
    const add = await runCli(
      ["connections", "add", "--name", "A", "--host", "h", "--username", "u", "--password-stdin"],
      { AUTOCOMM_DATA_DIR: dir, AUTOCOMM_SECRET_KEY: oldKey },
      { stdin: "pw" },
    );
    assert.equal(add.code, 0, add.stderr);
    const rotate = await runCli(["secrets", "rotate"], {
      AUTOCOMM_DATA_DIR: dir,
      AUTOCOMM_SECRET_KEY: newKey,
      AUTOCOMM_SECRET_KEY_PREVIOUS: oldKey,
    });
    assert.equal(rotate.code, 0, rotate.stderr);
    assert.match(rotate.stdout, /Sealed 1 connection secret again/);
    const again = await runCli(["secrets", "rotate"], {
      AUTOCOMM_DATA_DIR: dir,
      AUTOCOMM_SECRET_KEY: newKey,
    });
    assert.match(again.stdout, /already sealed/);

    // The service refuses to start with a key that opens no stored secret, or none.
    for (
      const [keys, pattern] of [
        [
          { AUTOCOMM_SECRET_KEY: oldKey },
          /secret of connection "A": it was sealed with another key/,
        ],
        [{}, /AUTOCOMM_SECRET_KEY is not set, but 1 managed connection has a stored password/],
      ] as const
    ) {
      const child = spawnScript(`${REPO_ROOT}/src/main.ts`, [], {
        AUTOCOMM_DATA_DIR: dir,
        PORT: "0",
        ...keys,
      });
      const out = await child.output();
      assert.equal(out.code, 78);
      assert.match(new TextDecoder().decode(out.stderr), pattern);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
