import assert from "node:assert/strict";
import { loadConfig } from "../../src/config.ts";
import { SecretBox, SecretError } from "../../src/connections/secrets.ts";

const key = () => crypto.getRandomValues(new Uint8Array(32));

Deno.test("a secret sealed for a connection opens for it, with a fresh nonce each time", async () => {
  const box = await SecretBox.create({ current: key() });
  const one = await box.seal("p@ss word", 7);
  const two = await box.seal("p@ss word", 7);
  assert.notEqual(one, two, "a fresh nonce per encryption");
  assert.doesNotMatch(one, /p@ss/);
  assert.match(one, /^v1\.[0-9a-f]{16}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
  assert.equal(await box.open(one, { id: 7, name: "State" }), "p@ss word");
});

Deno.test("a secret does not open for another connection, under another key, or altered", async () => {
  const box = await SecretBox.create({ current: key() });
  const sealed = await box.seal("secret", 1);
  await assert.rejects(
    () => box.open(sealed, { id: 2, name: "Other" }),
    (e) => e instanceof SecretError && /connection "Other".*does not belong/.test(e.message),
  );
  const other = await SecretBox.create({ current: key() });
  await assert.rejects(
    () => other.open(sealed, { id: 1, name: "State" }),
    (e) =>
      e instanceof SecretError &&
      /sealed with another key than AUTOCOMM_SECRET_KEY/.test(e.message),
  );
  const parts = sealed.split(".");
  const flipped = parts[3]!.startsWith("A") ? "B" + parts[3]!.slice(1) : "A" + parts[3]!.slice(1);
  await assert.rejects(
    () => box.open([...parts.slice(0, 3), flipped].join("."), { id: 1, name: "State" }),
    SecretError,
  );
});

Deno.test("after a rotation the previous key still opens old secrets, which count as stale", async () => {
  const oldKey = key();
  const newKey = key();
  const before = await SecretBox.create({ current: oldKey });
  const sealed = await before.seal("kept", 3);
  const after = await SecretBox.create({ current: newKey, previous: oldKey });
  assert.equal(await after.open(sealed, { id: 3, name: "S" }), "kept");
  assert.ok(after.isStale(sealed));
  const resealed = await after.seal("kept", 3);
  assert.ok(!after.isStale(resealed));
  const newOnly = await SecretBox.create({ current: newKey });
  await assert.rejects(() => newOnly.open(sealed, { id: 3, name: "S" }), SecretError);
});

Deno.test("nothing is sealed without a key, and a key must be 32 bytes of base64", async () => {
  const none = await SecretBox.create({ current: undefined });
  assert.equal(none.canSeal, false);
  await assert.rejects(() => none.seal("x", 1), /AUTOCOMM_SECRET_KEY is not set/);
  const b64 = btoa(String.fromCharCode(...key()));
  assert.equal(loadConfig({ env: { AUTOCOMM_SECRET_KEY: b64 } }).secretKey?.length, 32);
  assert.throws(
    () => loadConfig({ env: { AUTOCOMM_SECRET_KEY: btoa("short") } }),
    /AUTOCOMM_SECRET_KEY: expected 32 bytes in base64.*got 5 bytes/,
  );
  assert.throws(
    () => loadConfig({ env: { AUTOCOMM_SECRET_KEY_PREVIOUS: "not base64!" } }),
    /AUTOCOMM_SECRET_KEY_PREVIOUS: expected 32 bytes/,
  );
});
