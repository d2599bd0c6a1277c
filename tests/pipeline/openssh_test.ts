/**
 * A managed record end to end against Debian's OpenSSH: a connection with a key,
 * tested through the API (the fingerprint `ssh-keygen -l` prints), accepted, and a
 * record's Run Now importing the file from the server.
 */
import assert from "node:assert/strict";
import { opensshProblem, startOpenSsh } from "../support/openssh.ts";
import { schoolYear, startTestService, studentsRecord, tsv } from "../support/web.ts";

const problem = await opensshProblem();
const inCi = Deno.env.get("CI") === "true";
if (problem !== undefined && !inCi) console.log(`Skipping the OpenSSH tests: ${problem}`);

Deno.test({
  name: "a managed record imports its file from OpenSSH's sshd with key login",
  ignore: problem !== undefined && !inCi,
  async fn() {
    if (problem !== undefined) throw new Error(problem);
    await using sshd = await startOpenSsh();
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
    const s = await startTestService({ env: { AUTOCOMM_SECRET_KEY: key } });
    try {
      const entry = `08/20/${schoolYear()}`;
      await Deno.mkdir(`${sshd.root}/drop`, { recursive: true });
      await Deno.writeTextFile(
        `${sshd.root}/drop/students.txt`,
        tsv([[7101, "Ann", "Lee", 3, entry], [7102, "Bo", "Kim", 4, entry]]),
      );
      let res = await s.api("/api/v1/connections", {
        method: "POST",
        json: {
          name: "District SFTP",
          host: "127.0.0.1",
          port: sshd.port,
          username: sshd.username,
          authType: "key",
          privateKey: sshd.privateKey,
        },
      });
      assert.equal(res.status, 201, await res.clone().text());
      const connection = await res.json();
      res = await s.api(`/api/v1/connections/${connection.id}/test`, { method: "POST" });
      const test = await res.json();
      assert.equal(test.ok, true, test.error);
      assert.equal(test.fingerprint, sshd.fingerprint);
      assert.deepEqual(test.entries.map((e: { name: string }) => e.name), ["drop"]);
      res = await s.api(`/api/v1/connections/${connection.id}`, {
        method: "PATCH",
        json: { hostKeyFingerprint: test.fingerprint },
      });
      assert.equal(res.status, 200);

      res = await s.api("/api/v1/records", {
        method: "POST",
        json: studentsRecord({
          source: "managed",
          connectionId: connection.id,
          path: "drop\\students.txt",
        }),
      });
      assert.equal(res.status, 201, await res.clone().text());
      const recordId = (await res.json()).records[0].id;
      res = await s.api(`/api/v1/records/${recordId}/run`, { method: "POST" });
      assert.equal(res.status, 202);
      const { runId } = await res.json();
      await s.queue.idle();
      const run = await (await s.api(`/api/v1/runs/${runId}`)).json();
      assert.equal(run.status, "succeeded", run.message);
      assert.equal(run.counts.inserted, 2);
    } finally {
      await s.close();
    }
  },
});
