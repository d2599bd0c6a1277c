/**
 * `/connections`: managed SFTP connections — list, create, read, change, delete, test.
 * Admin only. Passwords, private keys and passphrases are write-only: accepted on
 * create and change, never returned.
 */
import { z } from "@hono/zod-openapi";
import type { OpenAPIHono, RouteConfig } from "@hono/zod-openapi";
import {
  type ConnectionDeps,
  type ConnectionView,
  createConnection,
  deleteConnection,
  getConnection,
  listConnections,
  testConnection,
  updateConnection,
} from "../../connections/store.ts";
import type { AppDeps, AppEnv } from "../context.ts";
import { notFound } from "../errors.ts";
import { guardedRoute, newApi } from "./common.ts";
import { ErrorBody, IdParam, jsonBody } from "./schemas.ts";

const Connection = z.object({
  id: z.number().int(),
  name: z.string(),
  description: z.string(),
  protocol: z.literal("sftp"),
  host: z.string(),
  port: z.number().int(),
  authType: z.enum(["password", "key"]),
  username: z.string(),
  allowDownload: z.boolean(),
  allowUpload: z.boolean(),
  allowLegacyCiphers: z.boolean(),
  hostKeyFingerprint: z.string().nullable().openapi({ example: null }),
  hasSecret: z.boolean().openapi({ description: "A password or key is stored (never returned)" }),
}).openapi("Connection");

const ConnectionInput = z.object({
  name: z.string().optional(),
  description: z.string().optional(),
  protocol: z.literal("sftp").optional(),
  host: z.string().optional(),
  port: z.number().int().optional().openapi({ default: 22 }),
  authType: z.enum(["password", "key"]).optional().openapi({ default: "password" }),
  username: z.string().optional(),
  password: z.string().optional().openapi({ description: "Write-only" }),
  privateKey: z.string().optional().openapi({
    description: "Write-only; OpenSSH or PEM private key",
  }),
  passphrase: z.string().optional().openapi({ description: "Write-only" }),
  allowDownload: z.boolean().optional().openapi({ default: true }),
  allowUpload: z.boolean().optional().openapi({ default: false }),
  allowLegacyCiphers: z.boolean().optional().openapi({ default: false }),
  hostKeyFingerprint: z.string().nullable().optional().openapi({
    description: "The accepted host key, `SHA256:` and 43 base64 characters",
  }),
}).openapi("ConnectionInput");

const TestResult = z.object({
  ok: z.boolean(),
  fingerprint: z.string(),
  pinned: z.boolean(),
  entries: z.array(z.object({ name: z.string(), size: z.number(), modified: z.string() })),
  error: z.string().optional(),
}).openapi("ConnectionTest");

const notFoundResponse = jsonBody(ErrorBody, "No such connection");

function shown(c: ConnectionView) {
  const { createdAt: _c, updatedAt: _u, ...rest } = c;
  return rest;
}

const tags = ["Connections"];

const listConnectionsRoute = {
  method: "get",
  path: "/connections",
  tags,
  summary: "List managed connections",
  responses: {
    200: jsonBody(z.object({ connections: z.array(Connection) }), "The connections"),
  },
} satisfies RouteConfig;

const createConnectionRoute = {
  method: "post",
  path: "/connections",
  tags,
  summary: "Create a managed connection",
  request: {
    body: { content: { "application/json": { schema: ConnectionInput } }, required: true },
  },
  responses: { 201: jsonBody(Connection, "The created connection") },
} satisfies RouteConfig;

const readConnectionRoute = {
  method: "get",
  path: "/connections/{id}",
  tags,
  summary: "Read a managed connection",
  request: { params: IdParam },
  responses: { 200: jsonBody(Connection, "The connection"), 404: notFoundResponse },
} satisfies RouteConfig;

const changeConnectionRoute = {
  method: "patch",
  path: "/connections/{id}",
  tags,
  summary: "Change a managed connection",
  description: "Members not given stay as they are; a secret given replaces the stored one.",
  request: {
    params: IdParam,
    body: { content: { "application/json": { schema: ConnectionInput } }, required: true },
  },
  responses: { 200: jsonBody(Connection, "The connection"), 404: notFoundResponse },
} satisfies RouteConfig;

const deleteConnectionRoute = {
  method: "delete",
  path: "/connections/{id}",
  tags,
  summary: "Delete a managed connection",
  description: "Refused with 409 and the records that use it while any does.",
  request: { params: IdParam },
  responses: {
    204: { description: "Deleted" },
    404: notFoundResponse,
    409: jsonBody(ErrorBody, "Records use the connection (listed in `records`)"),
  },
} satisfies RouteConfig;

const testConnectionRoute = {
  method: "post",
  path: "/connections/{id}/test",
  tags,
  summary: "Test a managed connection",
  description:
    "Connects (showing the server's host-key fingerprint even before one is accepted), logs in and lists the login folder. Accept the fingerprint by setting hostKeyFingerprint.",
  request: { params: IdParam },
  responses: { 200: jsonBody(TestResult, "What the test found"), 404: notFoundResponse },
} satisfies RouteConfig;

/** The connections API (admins only): list, create, read, change, delete, test. */
export function connectionsApi(deps: AppDeps): OpenAPIHono<AppEnv> {
  const app = newApi();
  const cfg = deps.config;
  const store: ConnectionDeps = {
    db: deps.database.db,
    keys: { current: cfg.secretKey, previous: cfg.secretKeyPrevious },
  };

  app.openapi(
    guardedRoute(cfg, "admin", listConnectionsRoute),
    async (c) => c.json({ connections: (await listConnections(store.db)).map(shown) }, 200),
  );

  app.openapi(guardedRoute(cfg, "admin", createConnectionRoute), async (c) => {
    const created = await createConnection(store, c.req.valid("json"));
    c.header("Location", `/api/v1/connections/${created.id}`);
    return c.json(shown(created), 201);
  });

  app.openapi(guardedRoute(cfg, "admin", readConnectionRoute), async (c) => {
    const { id } = c.req.valid("param");
    const found = await getConnection(store.db, id);
    if (!found) throw notFound(`connection ${id}`);
    return c.json(shown(found), 200);
  });

  app.openapi(guardedRoute(cfg, "admin", changeConnectionRoute), async (c) => {
    const { id } = c.req.valid("param");
    const updated = await updateConnection(store, id, c.req.valid("json"));
    if (!updated) throw notFound(`connection ${id}`);
    return c.json(shown(updated), 200);
  });

  app.openapi(guardedRoute(cfg, "admin", deleteConnectionRoute), async (c) => {
    const { id } = c.req.valid("param");
    if (!(await deleteConnection(store.db, id))) throw notFound(`connection ${id}`);
    return c.body(null, 204);
  });

  app.openapi(guardedRoute(cfg, "admin", testConnectionRoute), async (c) => {
    const { id } = c.req.valid("param");
    const result = await testConnection(store, id);
    if (!result) throw notFound(`connection ${id}`);
    return c.json(result, 200);
  });

  return app;
}
