/**
 * Hostile request bodies: every route refuses a body over its limit with 413
 * before reading it (anonymous ones too, with or without Content-Length), and
 * error answers repeat at most a short prefix of what was sent.
 */
import assert from "node:assert/strict";
import { API_TOKEN, startTestService, studentsRecord, testSetup } from "../support/web.ts";

const MiB = 1024 * 1024;

/** A body of `total` bytes of `byte` that counts how much of it was pulled. */
function countingBody(total: number, byte = 0x61) {
  const chunk = new Uint8Array(64 * 1024).fill(byte);
  const state = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled >= total) {
        controller.close();
        return;
      }
      const part = chunk.subarray(0, Math.min(chunk.length, total - state.pulled));
      state.pulled += part.length;
      controller.enqueue(part);
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

Deno.test("an anonymous form post declaring more than 1 MiB is refused with 413 before its body is read", async () => {
  const s = await startTestService({ setup: false });
  try {
    const total = 8 * MiB;
    const { stream, state } = countingBody(total);
    const res = await s.app.request("/signin/link", {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "content-length": String(total),
        origin: "http://localhost",
      },
      body: stream,
    });
    assert.equal(res.status, 413);
    assert.match(res.headers.get("content-type") ?? "", /text\/html/);
    assert.match(await res.text(), /larger than 1 MiB/);
    assert.ok(state.pulled <= 64 * 1024, `the service read ${state.pulled} bytes of the body`);
  } finally {
    await s.close();
  }
});

Deno.test("an anonymous chunked post without Content-Length is read only up to the limit", async () => {
  const s = await startTestService({ setup: false });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, s.app.fetch);
  try {
    const total = 48 * MiB;
    const { stream, state } = countingBody(total);
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/signin/link`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: stream,
    });
    assert.equal(res.status, 413);
    assert.match(res.headers.get("content-type") ?? "", /text\/html/);
    assert.match(await res.text(), /larger than 1 MiB/);
    // The 413 came while most of the body was still unsent, and the rest is never pulled.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(state.pulled < total / 4, `the client sent ${state.pulled} of ${total} bytes`);
  } finally {
    await server.shutdown();
    await s.close();
  }
});

Deno.test("an API call over 1 MiB answers 413 in JSON whoever sends it", async () => {
  const s = await startTestService({ setup: false });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, s.app.fetch);
  try {
    const body = new Uint8Array(MiB + 1).fill(0x20);
    const asSent: Record<string, string>[] = [{}, { authorization: `Bearer ${API_TOKEN}` }];
    for (const headers of asSent) {
      const res = await fetch(`http://127.0.0.1:${server.addr.port}/api/v1/records`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      });
      assert.equal(res.status, 413);
      assert.match(res.headers.get("content-type") ?? "", /application\/json/);
      const json = await res.json();
      assert.equal(json.error.code, "payload_too_large");
      assert.match(json.error.message, /larger than 1 MiB/);
    }
  } finally {
    await server.shutdown();
    await s.close();
  }
});

Deno.test("a webhook body over 64 KiB is refused in JSON before it is read", async () => {
  const s = await startTestService({ setup: false });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, s.app.fetch);
  try {
    // Declared by its Content-Length: nothing is read.
    const declared = countingBody(2 * MiB);
    let res = await s.app.request("/hooks/run-now/1", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(2 * MiB) },
      body: declared.stream,
    });
    assert.equal(res.status, 413);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    let json = await res.json();
    assert.equal(json.error.code, "payload_too_large");
    assert.match(json.error.message, /larger than 64 KiB/);
    assert.ok(declared.state.pulled <= 64 * 1024, `read ${declared.state.pulled} bytes`);
    // Chunked: read up to the limit only.
    const chunked = countingBody(16 * MiB);
    res = await fetch(`http://127.0.0.1:${server.addr.port}/hooks/run-now/1`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: chunked.stream,
    });
    assert.equal(res.status, 413);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    json = await res.json();
    assert.equal(json.error.code, "payload_too_large");
    assert.ok(chunked.state.pulled < 8 * MiB, `the client sent ${chunked.state.pulled} bytes`);
  } finally {
    await server.shutdown();
    await s.close();
  }
});

Deno.test("setup load takes a document over 1 MiB and refuses one over its own 8 MiB limit", async () => {
  const s = await startTestService({ setup: false });
  try {
    const base = testSetup().schools[0]!;
    const schools = Array.from({ length: 30 }, (_, i) => ({
      ...base,
      schoolNumber: 1000 + i,
      name: `School ${i}`,
      attendanceCodes: Array.from({ length: 400 }, (_, j) => ({
        id: i * 1000 + j,
        code: `C${j}`,
        description: `Code ${j} `.padEnd(90, "."),
        presence: "absent",
      })),
    }));
    const text = JSON.stringify({ schools });
    assert.ok(text.length > 1.2 * MiB, `the document is ${text.length} bytes`);
    let res = await s.app.request("/api/v1/setup", {
      method: "POST",
      headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
      body: text,
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    assert.deepEqual(await res.json(), { schools: 30, extensions: 0 });

    const total = 8 * MiB + 1;
    const { stream, state } = countingBody(total, 0x20);
    res = await s.app.request("/api/v1/setup", {
      method: "POST",
      headers: {
        authorization: `Bearer ${API_TOKEN}`,
        "content-type": "application/json",
        "content-length": String(total),
      },
      body: stream,
    });
    assert.equal(res.status, 413);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const json = await res.json();
    assert.equal(json.error.code, "payload_too_large");
    assert.match(json.error.message, /larger than 8 MiB/);
    assert.ok(state.pulled <= 64 * 1024, `the service read ${state.pulled} bytes of the body`);
  } finally {
    await s.close();
  }
});

const LONG = "x".repeat(200_000);
const PREFIX = `${"x".repeat(60)}…`;

/** Asserts an answer repeats the long value only as a prefix of at most 60 characters. */
function assertCapped(text: string, what: string) {
  assert.ok(!text.includes("x".repeat(61)), `${what}: more than 60 characters came back`);
  assert.match(text, /x…/, `${what}: the cut prefix is missing`);
  assert.ok(text.length < 8000, `${what}: the answer has ${text.length} characters`);
}

Deno.test("a 200 KB field name sent through the API comes back cut to a 60-character prefix", async () => {
  const s = await startTestService();
  try {
    const res = await s.api("/api/v1/records", {
      method: "POST",
      json: studentsRecord({ fields: ["Student_Number", LONG] }),
    });
    assert.equal(res.status, 400);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const text = await res.text();
    assertCapped(text, "field name");
    const body = JSON.parse(text);
    assert.equal(body.error.code, "invalid");
    assert.deepEqual(body.error.problems, [
      { field: "fields", message: `Unknown field "${PREFIX}" for Students` },
    ]);
  } finally {
    await s.close();
  }
});

Deno.test("other error answers repeat at most a 60-character prefix of a sent value", async () => {
  const s = await startTestService();
  try {
    const editor = await s.session("editor", 100);
    const cases: [string, () => Promise<Response>, RegExp][] = [
      [
        "e-mail address",
        () => s.api("/api/v1/records", { method: "POST", json: studentsRecord({ emailTo: LONG }) }),
        /application\/json/,
      ],
      [
        "setup key",
        () => s.api("/api/v1/setup", { method: "POST", json: { schools: [], [LONG]: 1 } }),
        /application\/json/,
      ],
      ["API path", () => s.api(`/api/v1/${LONG}`), /application\/json/],
      ["page path", () => s.page(editor, `/${LONG}`), /text\/html/],
      ["school of a page", () => s.page(editor, `/records/new?school=${LONG}`), /text\/html/],
    ];
    for (const [what, send, type] of cases) {
      const res = await send();
      assert.ok(res.status >= 400 && res.status < 500, `${what}: ${res.status}`);
      assert.match(res.headers.get("content-type") ?? "", type, what);
      assertCapped(await res.text(), what);
    }
    // The form shows what was typed in its field, and the problem beside it cut.
    const res = await s.page(editor, "/records", {
      ...formOf(studentsRecord()),
      fields: `Student_Number\n${LONG}`,
    });
    assert.equal(res.status, 400);
    assert.match(res.headers.get("content-type") ?? "", /text\/html/);
    const page = await res.text();
    assert.ok(page.includes(`Unknown field &quot;${PREFIX}&quot; for Students`));
    assert.ok(!page.includes(`Unknown field &quot;${"x".repeat(61)}`));
  } finally {
    await s.close();
  }
});

/** A record input as the form posts it. */
function formOf(input: Record<string, unknown>): Record<string, string> {
  const form: Record<string, string> = {};
  for (const [k, v] of Object.entries(input)) {
    if (Array.isArray(v)) form[k] = v.join("\n");
    else if (typeof v === "boolean") {
      if (v) form[k] = "on";
    } else form[k] = String(v);
  }
  return form;
}
