/**
 * The plugin manifest: the file and the served copy against its JSON Schema (ajv,
 * draft 2020-12, strict), the served URLs and version, caching and CORS, and every
 * page and endpoint it names answering in the app.
 */
import assert from "node:assert/strict";
import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import { hasRole, isRole, ROLES } from "../../src/web/auth/roles.ts";
import { MANIFEST_FILE, MANIFEST_SCHEMA, type PluginManifest } from "../../src/web/plugin.ts";
import { VERSION } from "../../src/version.ts";
import { startTestService, studentsRecord, type TestService } from "../support/web.ts";

const PUBLIC_URL = "https://autocomm.example.org";
const HOST_ORIGIN = "https://sis.example.org";

/**
 * Endpoints other engineers are building on their branches right now: the OpenID
 * Connect sign-in and the change feed. The integrator empties this set at merge, after
 * which every endpoint is checked.
 */
function validator() {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  return ajv.compile(MANIFEST_SCHEMA);
}

function errorsOf(data: unknown): ErrorObject[] {
  const validate = validator();
  return validate(data) ? [] : validate.errors ?? [];
}

/** Every string of a JSON value with its JSON pointer. */
function strings(value: unknown, pointer = ""): [string, string][] {
  if (typeof value === "string") return [[pointer, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, `${pointer}/${i}`));
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => strings(v, `${pointer}/${k}`));
  }
  return [];
}

/** The value at a JSON pointer. */
function at(value: unknown, pointer: string): unknown {
  return pointer.split("/").slice(1).reduce<unknown>(
    (v, key) => (v as Record<string, unknown>)[key],
    value,
  );
}

/** The pointers of the file's locations: its paths on the service (and `$schema`). */
function fileLocations(): string[] {
  return strings(MANIFEST_FILE).filter(([p, v]) => v.startsWith("/") || p === "/$schema")
    .map(([p]) => p);
}

async function service(): Promise<TestService> {
  return await startTestService({
    env: {
      AUTOCOMM_PUBLIC_URL: PUBLIC_URL,
      AUTOCOMM_HOST_ORIGINS: `${HOST_ORIGIN},https://other-host.example.org`,
      AUTOCOMM_WEBHOOK_SECRET: "webhook-secret-for-tests",
      // A provider that is not there: the sign-in routes answer (502, 400), not 404.
      AUTOCOMM_OIDC_ISSUER: "http://127.0.0.1:9",
      AUTOCOMM_OIDC_CLIENT_ID: "autocomm",
      AUTOCOMM_OIDC_CLIENT_SECRET: "secret-for-tests",
    },
  });
}

async function served(s: TestService): Promise<PluginManifest> {
  const res = await s.app.request("/plugin/manifest.json");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  return await res.json();
}

Deno.test("plugin/manifest.json and the served copy are valid by the manifest's schema", async () => {
  assert.deepEqual(errorsOf(MANIFEST_FILE), []);
  await using s = await asyncDisposable(await service());
  assert.deepEqual(errorsOf(await served(s.value)), []);
});

Deno.test("the manifest's schema describes every property it allows", () => {
  const undescribed: string[] = [];
  const walk = (schema: unknown, pointer: string) => {
    if (schema === null || typeof schema !== "object") return;
    const node = schema as Record<string, unknown>;
    if (pointer !== "" && !/\/(properties|\$defs)$/.test(pointer) && !("description" in node)) {
      undescribed.push(pointer);
    }
    for (const [key, child] of Object.entries(node)) {
      if (key === "properties" || key === "$defs") {
        for (const [name, sub] of Object.entries(child as object)) {
          walk(sub, `${pointer}/${key}/${name}`);
        }
      } else if (key === "items") walk(child, `${pointer}/items`);
    }
  };
  walk(MANIFEST_SCHEMA, "");
  assert.deepEqual(undescribed, []);
  assert.equal(MANIFEST_SCHEMA.$schema, "https://json-schema.org/draft/2020-12/schema");
});

Deno.test("the schema refuses an unknown property, a page without a path and an unknown role", () => {
  const copy = () => structuredClone(MANIFEST_FILE) as PluginManifest & Record<string, unknown>;

  const extra = copy();
  extra.launch = { url: "/launch" };
  assert.ok(
    errorsOf(extra).some((e) =>
      e.keyword === "additionalProperties" && e.params.additionalProperty === "launch"
    ),
  );

  const pathless = copy();
  delete (pathless.pages[0] as Partial<PluginManifest["pages"][0]>).path;
  assert.ok(
    errorsOf(pathless).some((e) =>
      e.keyword === "required" && e.instancePath === "/pages/0" &&
      e.params.missingProperty === "path"
    ),
  );

  const badRole = copy();
  badRole.pages[1]!.role = "superuser";
  assert.ok(
    errorsOf(badRole).some((e) => e.keyword === "enum" && e.instancePath === "/pages/1/role"),
  );

  const absolute = copy();
  absolute.pages[0]!.path = "connections";
  assert.ok(errorsOf(absolute).some((e) => e.instancePath === "/pages/0/path"));
});

Deno.test("the file names its locations as paths on the service, and the service's version", () => {
  assert.equal(MANIFEST_FILE.version, VERSION);
  assert.equal(MANIFEST_FILE.id, "autocomm");
  assert.deepEqual(MANIFEST_FILE.roles, [...ROLES]);
  for (const page of MANIFEST_FILE.pages) assert.ok(isRole(page.role), page.id);
  const locations = fileLocations();
  assert.ok(locations.includes("/pages/0/path") && locations.includes("/signIn/callback"));
  for (const [pointer, value] of strings(MANIFEST_FILE)) {
    if (locations.includes(pointer)) continue;
    // Any other URL is one of the publisher's own web pages, never one of the service's.
    if (/^https?:/.test(value)) assert.match(pointer, /^\/(publisher|contact)\/url$/);
  }
});

Deno.test("the served manifest has every location as an absolute URL on AUTOCOMM_PUBLIC_URL", async () => {
  for (const publicUrl of [PUBLIC_URL, "https://sis.example.org/autocomm"]) {
    const s = await startTestService({ setup: false, env: { AUTOCOMM_PUBLIC_URL: publicUrl } });
    try {
      const manifest = await served(s);
      assert.equal(manifest.version, VERSION);
      for (const pointer of fileLocations()) {
        const original = at(MANIFEST_FILE, pointer) as string;
        const expected = pointer === "/$schema"
          ? `${publicUrl}/plugin/manifest.schema.json`
          : `${publicUrl}${original}`;
        assert.equal(at(manifest, pointer), expected, pointer);
      }
      for (const [pointer, value] of strings(manifest)) {
        assert.ok(!value.startsWith("/") && !value.startsWith("./"), `${pointer} is relative`);
      }
      assert.equal(manifest.webhooks[0]!.path, `${publicUrl}/hooks/run-now/{recordId}`);
      const schema = await s.app.request("/plugin/manifest.schema.json");
      assert.equal(schema.status, 200);
      assert.deepEqual(await schema.json(), MANIFEST_SCHEMA);
    } finally {
      await s.close();
    }
  }
});

Deno.test("the served manifest names the claims and scopes of the configured provider", async () => {
  const s = await startTestService({
    setup: false,
    env: {
      AUTOCOMM_OIDC_ISSUER: "http://127.0.0.1:9",
      AUTOCOMM_OIDC_CLIENT_ID: "autocomm",
      AUTOCOMM_OIDC_CLIENT_SECRET: "secret-for-tests",
      AUTOCOMM_OIDC_ROLE_CLAIM: "groups",
      AUTOCOMM_OIDC_SCHOOL_CLAIM: "school_number",
      AUTOCOMM_OIDC_SCOPES: "openid profile groups",
    },
  });
  try {
    const manifest = await served(s);
    assert.deepEqual(manifest.signIn.claims, { role: "groups", school: "school_number" });
    assert.deepEqual(manifest.signIn.scopes, ["openid", "profile", "groups"]);
    assert.deepEqual(errorsOf(manifest), []);
  } finally {
    await s.close();
  }
});

Deno.test("the manifest is public, revalidated by ETag, and readable by scripts of the host origins only", async () => {
  await using t = await asyncDisposable(await service());
  const s = t.value;
  const first = await s.app.request("/plugin/manifest.json");
  assert.equal(first.status, 200);
  await first.body?.cancel();
  assert.equal(first.headers.get("cache-control"), "no-cache");
  const etag = first.headers.get("etag");
  assert.match(etag ?? "", /^"[A-Za-z0-9_-]{43}"$/);

  const again = await s.app.request("/plugin/manifest.json", {
    headers: { "if-none-match": `"other", ${etag}` },
  });
  assert.equal(again.status, 304);
  assert.equal(await again.text(), "");
  assert.equal(again.headers.get("etag"), etag);
  const changed = await s.app.request("/plugin/manifest.json", {
    headers: { "if-none-match": `"other"` },
  });
  assert.equal(changed.status, 200);
  await changed.body?.cancel();

  const fromHost = await s.app.request("/plugin/manifest.json", {
    headers: { origin: HOST_ORIGIN },
  });
  await fromHost.body?.cancel();
  assert.equal(fromHost.headers.get("access-control-allow-origin"), HOST_ORIGIN);
  assert.match(fromHost.headers.get("vary") ?? "", /Origin/i);
  const fromElsewhere = await s.app.request("/plugin/manifest.json", {
    headers: { origin: "https://evil.example.net" },
  });
  assert.equal(fromElsewhere.status, 200);
  await fromElsewhere.body?.cancel();
  assert.equal(fromElsewhere.headers.get("access-control-allow-origin"), null);

  const preflight = await s.app.request("/plugin/manifest.json", {
    method: "OPTIONS",
    headers: { origin: HOST_ORIGIN, "access-control-request-method": "GET" },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get("access-control-allow-origin"), HOST_ORIGIN);
});

Deno.test("every page and endpoint the served manifest names answers in the app", async () => {
  await using t = await asyncDisposable(await service());
  const s = t.value;
  const created = await s.api("/api/v1/records", { method: "POST", json: studentsRecord() });
  assert.equal(created.status, 201);
  const recordId = String((await created.json()).id);
  const admin = await s.session("admin");
  // A route that does not exist answers 404 to a signed-in admin, GET or POST: what
  // the checks below tell apart from a route that exists.
  assert.equal((await s.apiAs(admin, "/plugin/nothing")).status, 404);
  assert.equal((await s.apiAs(admin, "/nothing/here", { method: "POST" })).status, 404);

  const manifest = await served(s);
  const checked: string[] = [];
  for (const [pointer, url] of strings(manifest)) {
    if (!url.startsWith(`${PUBLIC_URL}/`)) continue;
    const path = url.slice(PUBLIC_URL.length).replace("{recordId}", recordId);
    // The API's base is the prefix of its paths, not an endpoint of its own.
    if (pointer === "/api/base") continue;
    const page = /^\/pages\/\d+\/path$/.test(pointer)
      ? at(manifest, pointer.replace(/\/path$/, "")) as PluginManifest["pages"][0]
      : undefined;
    if (page) {
      for (const role of ROLES) {
        const res = await s.page(await s.session(role), path);
        await res.body?.cancel();
        assert.equal(res.status, hasRole(role, page.role as typeof role) ? 200 : 403, role + path);
      }
    } else {
      const parent = at(manifest, pointer.replace(/\/[^/]+$/, "")) as { method?: string };
      const method = parent.method ?? "GET";
      const res = await s.apiAs(admin, path, { method });
      await res.body?.cancel();
      assert.ok(![404, 405].includes(res.status), `${method} ${path} answered ${res.status}`);
    }
    checked.push(pointer);
  }
  assert.ok(checked.includes("/pages/1/path") && checked.includes("/webhooks/0/path"));
  assert.ok(checked.includes("/$schema") && checked.includes("/api/openapi"));
});

/** Wraps a test service so `await using` closes it. */
function asyncDisposable(value: TestService): AsyncDisposable & { value: TestService } {
  return { value, [Symbol.asyncDispose]: () => value.close() };
}
