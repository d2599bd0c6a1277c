import assert from "node:assert/strict";
import { type Role, ROLES } from "../../src/web/auth/roles.ts";
import { API_TOKEN, startTestService } from "../support/web.ts";

type Need = Role | "public";

/**
 * Every route of the app and the least role it needs. Ids name nothing, so an
 * allowed request reaches its handler (and gets 200/400/404) without side effects,
 * while a refused one is stopped before.
 */
const ROUTES: [method: string, path: string, need: Need][] = [
  ["GET", "/healthz", "public"],
  ["GET", "/assets/app.css", "public"],
  ["GET", "/assets/app.js", "public"],
  ["GET", "/assets/favicon.svg", "public"],
  ["GET", "/assets/progress.js", "public"],
  ["GET", "/assets/overview.css", "public"],
  ["GET", "/signin", "public"],
  ["GET", "/signin/link", "public"],
  ["POST", "/signin/link", "public"],
  ["GET", "/oidc/login", "public"],
  ["GET", "/oidc/initiate", "public"],
  ["POST", "/oidc/initiate", "public"],
  ["GET", "/oidc/callback", "public"],
  ["GET", "/plugin/manifest.json", "public"],
  ["GET", "/plugin/manifest.schema.json", "public"],
  ["POST", "/signout", "viewer"],
  ["GET", "/", "viewer"],
  ["GET", "/records/new", "editor"],
  ["POST", "/records", "editor"],
  ["GET", "/records/:id/edit", "editor"],
  ["POST", "/records/:id", "editor"],
  ["GET", "/records/:id/delete", "editor"],
  ["POST", "/records/:id/delete", "editor"],
  ["POST", "/records/:id/run", "runner"],
  ["POST", "/records/:id/preview", "runner"],
  ["POST", "/records/preview", "editor"],
  ["GET", "/records/:id/runs", "viewer"],
  ["GET", "/runs", "viewer"],
  ["GET", "/runs/:id/progress", "viewer"],
  ["GET", "/runs/:id", "viewer"],
  ["GET", "/runs/:id/rejected.csv", "viewer"],
  ["GET", "/runs/:id/approve", "editor"],
  ["POST", "/runs/:id/approve", "editor"],
  ["GET", "/runs/:id/removals.csv", "viewer"],
  ["GET", "/runs/:id/discard", "editor"],
  ["POST", "/runs/:id/discard", "editor"],
  ["GET", "/fields/:table", "viewer"],
  ["GET", "/connections", "admin"],
  ["GET", "/connections/new", "admin"],
  ["POST", "/connections", "admin"],
  ["GET", "/connections/:id/edit", "admin"],
  ["POST", "/connections/:id", "admin"],
  ["GET", "/connections/:id/delete", "admin"],
  ["POST", "/connections/:id/delete", "admin"],
  ["POST", "/connections/:id/test", "admin"],
  ["POST", "/connections/:id/fingerprint", "admin"],
  ["GET", "/api/v1/openapi.json", "public"],
  ["GET", "/api/v1/connections", "admin"],
  ["POST", "/api/v1/connections", "admin"],
  ["GET", "/api/v1/connections/:id", "admin"],
  ["PATCH", "/api/v1/connections/:id", "admin"],
  ["DELETE", "/api/v1/connections/:id", "admin"],
  ["POST", "/api/v1/connections/:id/test", "admin"],
  ["GET", "/api/v1/records", "viewer"],
  ["POST", "/api/v1/records", "editor"],
  ["GET", "/api/v1/records/:id", "viewer"],
  ["PUT", "/api/v1/records/:id", "editor"],
  ["PATCH", "/api/v1/records/:id", "editor"],
  ["DELETE", "/api/v1/records/:id", "editor"],
  ["POST", "/api/v1/records/:id/run", "runner"],
  ["POST", "/api/v1/records/:id/preview", "runner"],
  ["GET", "/api/v1/runs", "viewer"],
  ["GET", "/api/v1/runs/summary", "viewer"],
  ["GET", "/api/v1/runs/:id/progress", "viewer"],
  ["GET", "/api/v1/runs/:id", "viewer"],
  ["GET", "/api/v1/runs/:id/errors", "viewer"],
  ["GET", "/api/v1/runs/:id/changes", "viewer"],
  ["GET", "/api/v1/runs/:id/rejected.csv", "viewer"],
  ["POST", "/api/v1/runs/:id/approve", "editor"],
  ["POST", "/api/v1/runs/:id/discard", "editor"],
  ["GET", "/api/v1/catalog/:table", "viewer"],
  ["GET", "/api/v1/changes", "viewer"],
  ["GET", "/api/v1/setup", "viewer"],
  ["POST", "/api/v1/setup", "admin"],
  ["GET", "/api/v1/sis/:table", "viewer"],
];

const concrete = (path: string) => path.replace(":id", "987654").replace(":table", "students");
const isApi = (path: string) => path.startsWith("/api/");

function allows(role: Role, need: Need): boolean {
  return need === "public" || ROLES.indexOf(role) >= ROLES.indexOf(need);
}

Deno.test("the access table names every route of the app", async () => {
  const s = await startTestService();
  try {
    // The signed Run Now webhook (/hooks) has its own access rules and tests.
    const registered = new Set(
      s.app.routes.filter((r) => r.method !== "ALL" && !r.path.startsWith("/hooks/"))
        .map((r) => `${r.method} ${r.path}`),
    );
    const listed = new Set(ROUTES.map(([m, p]) => `${m} ${p}`));
    assert.deepEqual(
      [...registered].filter((r) => !listed.has(r)),
      [],
      "routes missing from the table",
    );
    assert.deepEqual([...listed].filter((r) => !registered.has(r)), [], "table rows with no route");
  } finally {
    await s.close();
  }
});

Deno.test("every route lets in the roles it allows and refuses the others, and anonymous users are sent to sign in", async (t) => {
  const s = await startTestService();
  try {
    for (const [method, pattern, need] of ROUTES) {
      const path = concrete(pattern);
      await t.step(`${method} ${pattern} (${need})`, async () => {
        // Anonymous.
        const anonymous = await s.app.request(path, {
          method,
          headers: {
            origin: "http://localhost",
            "content-type": isApi(path) ? "application/json" : "application/x-www-form-urlencoded",
          },
          ...(method === "GET" ? {} : { body: isApi(path) ? "{}" : "" }),
        });
        if (need === "public") {
          assert.ok(![401, 403].includes(anonymous.status), `anonymous got ${anonymous.status}`);
        } else if (isApi(path)) {
          assert.equal(anonymous.status, 401);
          assert.match(anonymous.headers.get("content-type") ?? "", /application\/json/);
          assert.equal((await anonymous.json()).error.code, "unauthenticated");
          assert.match(anonymous.headers.get("www-authenticate") ?? "", /^Bearer/);
        } else {
          assert.equal(anonymous.status, method === "GET" ? 302 : 303);
          assert.match(anonymous.headers.get("location") ?? "", /^\/signin\?next=/);
        }
        if (!anonymous.bodyUsed) await anonymous.body?.cancel();

        // Each role, with a fresh session (a sign-out ends its own).
        for (const role of ROLES) {
          const session = await s.session(role, 100);
          const res = isApi(path)
            ? await s.apiAs(session, path, { method, ...(method === "GET" ? {} : { json: {} }) })
            : await s.page(session, path, method === "GET" ? undefined : {});
          if (allows(role, need)) {
            assert.ok(![401, 403].includes(res.status), `${role} got ${res.status}`);
            assert.doesNotMatch(
              res.headers.get("location") ?? "",
              /^\/signin\?next/,
              `${role} was sent to sign in`,
            );
          } else {
            assert.equal(res.status, 403, `${role} got ${res.status}`);
            if (isApi(path)) {
              assert.match(res.headers.get("content-type") ?? "", /application\/json/);
              assert.equal((await res.json()).error.code, "forbidden");
            } else {
              assert.match(res.headers.get("content-type") ?? "", /text\/html/);
              assert.match(await res.text(), /Not allowed/);
            }
          }
          if (!res.bodyUsed) await res.body?.cancel();
        }

        // The API token acts as admin; a wrong token is nobody.
        if (isApi(path) && need !== "public") {
          const init = {
            method,
            headers: { "content-type": "application/json" },
            ...(method === "GET" ? {} : { body: "{}" }),
          };
          const good = await s.app.request(path, {
            ...init,
            headers: { ...init.headers, authorization: `Bearer ${API_TOKEN}` },
          });
          assert.ok(![401, 403].includes(good.status), `the API token got ${good.status}`);
          await good.body?.cancel();
          const bad = await s.app.request(path, {
            ...init,
            headers: { ...init.headers, authorization: `Bearer ${API_TOKEN}x` },
          });
          assert.equal(bad.status, 401);
          await bad.body?.cancel();
        }
      });
    }
  } finally {
    await s.close();
  }
});
