import assert from "node:assert/strict";
import { startTestService } from "../support/web.ts";

Deno.test("the health endpoint answers with the version and the database status", async () => {
  const service = await startTestService({ setup: false });
  try {
    const res = await service.app.request("/healthz");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    const body = await res.json();
    assert.equal(body.status, "ok");
    assert.equal(body.database, "ok");
    assert.match(body.version, /^\d+\.\d+\.\d+$/);
  } finally {
    await service.close();
  }
});

Deno.test("the health endpoint says so when the database cannot be reached", async () => {
  const service = await startTestService({ setup: false });
  try {
    service.database.client.close();
    const res = await service.app.request("/healthz");
    assert.equal(res.status, 503);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    const body = await res.json();
    assert.deepEqual([body.status, body.database], ["degraded", "unavailable"]);
  } finally {
    await service.close().catch(() => {});
  }
});
