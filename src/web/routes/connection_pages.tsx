/**
 * The Managed Connections pages (`/connections`): list, New / Edit, Delete, Test
 * connection and accepting the server's host-key fingerprint. Admins only; form posts
 * are checked for CSRF. Secrets are write-only: no page renders a stored password,
 * key or passphrase, and a secret field left empty keeps what is stored. Rule problems
 * re-show the form with each problem beside its field; a connection records use is
 * not deleted, and the page lists those records.
 */
import { asc, count, eq, isNotNull } from "drizzle-orm";
import { Hono } from "hono";
import type { Context, MiddlewareHandler } from "hono";
import {
  type ConnectionDeps,
  type ConnectionInput,
  ConnectionInUse,
  ConnectionInvalid,
  type ConnectionProblem,
  type ConnectionView,
  createConnection,
  deleteConnection,
  getConnection,
  listConnections,
  testConnection,
  updateConnection,
} from "../../connections/store.ts";
import { records } from "../../db/schema/autocomm.ts";
import type { Db } from "../../db/client.ts";
import type { AppDeps, AppEnv, Identity } from "../context.ts";
import { csrfProtection, requireRole } from "../auth/middleware.ts";
import { HttpError, notFound } from "../errors.ts";
import {
  ConnectionForm,
  type ConnectionFormValues,
  emptyConnectionValues,
} from "../pages/connection_form.tsx";
import { ConnectionDelete, type ConnectionUser } from "../pages/connection_delete.tsx";
import { ConnectionList } from "../pages/connection_list.tsx";
import { ConnectionTestPage } from "../pages/connection_test.tsx";
import { idOf } from "./setup_pages.tsx";

type Body = Record<string, string | File | (string | File)[]>;

const NOTICES: Record<string, string> = {
  created: "The connection was created. Test it to see and accept the server's host key.",
  saved: "The connection was saved.",
  deleted: "The connection was deleted.",
  accepted: "The server's fingerprint is accepted.",
};

function identityOf(c: Context<AppEnv>): Identity {
  const identity = c.get("identity");
  if (!identity) throw new HttpError(401, "unauthenticated", "Sign in to continue");
  return identity;
}

/** One text value of a form body ("" when missing or a file). */
function field(body: Body, name: string): string {
  const v = body[name];
  const one = Array.isArray(v) ? v[0] : v;
  return typeof one === "string" ? one : "";
}

/** The form's values as typed; secrets are not among them. */
export function connectionValuesFromBody(body: Body): ConnectionFormValues {
  return {
    name: field(body, "name"),
    description: field(body, "description"),
    host: field(body, "host"),
    port: field(body, "port"),
    authType: field(body, "authType") === "key" ? "key" : "password",
    username: field(body, "username"),
    allowDownload: field(body, "allowDownload") === "on",
    allowUpload: field(body, "allowUpload") === "on",
    allowLegacyCiphers: field(body, "allowLegacyCiphers") === "on",
    hostKeyFingerprint: field(body, "hostKeyFingerprint"),
  };
}

/** The form values of a stored connection. */
export function connectionValuesOf(c: ConnectionView): ConnectionFormValues {
  return {
    name: c.name,
    description: c.description,
    host: c.host,
    port: String(c.port),
    authType: c.authType,
    username: c.username,
    allowDownload: c.allowDownload,
    allowUpload: c.allowUpload,
    allowLegacyCiphers: c.allowLegacyCiphers,
    hostKeyFingerprint: c.hostKeyFingerprint ?? "",
  };
}

/**
 * The store's input from a posted form: every shown field, a port of digits as a
 * number (anything else as typed, for the rules to name), and a secret only when one
 * was typed — an empty secret field keeps the stored one.
 */
export function connectionInputOf(body: Body): ConnectionInput {
  const v = connectionValuesFromBody(body);
  const port = v.port.trim();
  const input: ConnectionInput = {
    name: v.name,
    description: v.description,
    protocol: "sftp",
    host: v.host,
    port: port === "" ? 22 : /^\d{1,5}$/.test(port) ? Number(port) : port,
    authType: field(body, "authType") === "" ? "password" : field(body, "authType"),
    username: v.username,
    allowDownload: v.allowDownload,
    allowUpload: v.allowUpload,
    allowLegacyCiphers: v.allowLegacyCiphers,
    hostKeyFingerprint: v.hostKeyFingerprint.trim() === "" ? null : v.hostKeyFingerprint,
  };
  for (const k of ["password", "privateKey", "passphrase"] as const) {
    const secret = field(body, k);
    if (secret !== "") input[k] = secret;
  }
  return input;
}

/** The records that use a connection, by id. */
async function usersOf(db: Db, id: number): Promise<ConnectionUser[]> {
  return await db.select({ id: records.id, name: records.name, schoolId: records.schoolId })
    .from(records).where(eq(records.connectionId, id)).orderBy(asc(records.id));
}

/** How many records use each connection. */
async function usage(db: Db): Promise<Map<number, number>> {
  const rows = await db.select({ id: records.connectionId, n: count() }).from(records)
    .where(isNotNull(records.connectionId)).groupBy(records.connectionId);
  return new Map(rows.map((r) => [r.id!, r.n]));
}

/** What the connection page routes share. */
interface ConnectionRoutes {
  app: Hono<AppEnv>;
  deps: AppDeps;
  /** The connection store, with the keys that seal secrets. */
  store: ConnectionDeps;
  /** The CSRF check of form posts. */
  csrf: MiddlewareHandler<AppEnv>;
  /** Admins only. */
  admin: MiddlewareHandler<AppEnv>;
  zone: string;
}

/** The Managed Connections pages, in groups: the list and the form; delete; test and accept. */
export function connectionPages(deps: AppDeps): Hono<AppEnv> {
  const routes: ConnectionRoutes = {
    app: new Hono<AppEnv>(),
    deps,
    store: {
      db: deps.database.db,
      keys: { current: deps.config.secretKey, previous: deps.config.secretKeyPrevious },
    },
    csrf: csrfProtection(deps.config, "form"),
    admin: requireRole("admin", "page"),
    zone: deps.config.timeZone,
  };
  registerListAndForm(routes);
  registerDelete(routes);
  registerTest(routes);
  return routes.app;
}

/** The connection a path id names, or a 404. */
async function connectionOf(db: Db, value: string | undefined): Promise<ConnectionView> {
  const id = idOf(value, "such connection");
  const connection = await getConnection(db, id);
  if (!connection) throw notFound(`connection ${id}`);
  return connection;
}

/** What {@linkcode renderForm} shows: the values, problems, and the stored connection (edit). */
interface FormView {
  values: ConnectionFormValues;
  problems?: ConnectionProblem[];
  stored?: ConnectionView;
  /** 400 when the form comes back with problems. */
  status?: 200 | 400;
}

/** The connection form page: New without a stored connection, Edit with one. */
function renderForm(c: Context<AppEnv>, routes: ConnectionRoutes, view: FormView) {
  const { stored } = view;
  return c.html(
    ConnectionForm({
      mode: stored ? "edit" : "new",
      ...(stored ? { connectionId: stored.id } : {}),
      timeZone: routes.zone,
      identity: identityOf(c),
      values: view.values,
      problems: view.problems ?? [],
      stored: stored
        ? { authType: stored.authType, hasSecret: stored.hasSecret, name: stored.name }
        : undefined,
    }),
    view.status ?? 200,
  );
}

/**
 * The list, New / Edit and their posts. A post that breaks a connection rule comes
 * back as the form (400) with the problems and what was typed, secrets excepted.
 */
function registerListAndForm(routes: ConnectionRoutes) {
  const { app, deps, store, csrf, admin } = routes;
  app.get("/connections", admin, async (c) => {
    const done = c.req.query("done");
    return c.html(ConnectionList({
      timeZone: routes.zone,
      identity: identityOf(c),
      connections: await listConnections(store.db),
      usage: await usage(store.db),
      notice: done ? NOTICES[done] : undefined,
      noSecretKey: deps.config.secretKey === undefined,
    }));
  });

  app.get(
    "/connections/new",
    admin,
    (c) => renderForm(c, routes, { values: emptyConnectionValues() }),
  );

  app.post("/connections", admin, csrf, async (c) => {
    const body = await c.req.parseBody();
    try {
      const created = await createConnection(store, connectionInputOf(body));
      deps.logger.info("connection_created", {
        connectionId: created.id,
        user: identityOf(c).user,
      });
      return c.redirect("/connections?done=created", 303);
    } catch (error) {
      if (!(error instanceof ConnectionInvalid)) throw error;
      const values = connectionValuesFromBody(body);
      return renderForm(c, routes, { values, problems: error.problems, status: 400 });
    }
  });

  app.get("/connections/:id/edit", admin, async (c) => {
    const stored = await connectionOf(store.db, c.req.param("id"));
    return renderForm(c, routes, { values: connectionValuesOf(stored), stored });
  });

  app.post("/connections/:id", admin, csrf, async (c) => {
    const stored = await connectionOf(store.db, c.req.param("id"));
    const body = await c.req.parseBody();
    try {
      const saved = await updateConnection(store, stored.id, connectionInputOf(body));
      if (!saved) throw notFound(`connection ${stored.id}`);
      deps.logger.info("connection_saved", { connectionId: stored.id, user: identityOf(c).user });
      return c.redirect("/connections?done=saved", 303);
    } catch (error) {
      if (!(error instanceof ConnectionInvalid)) throw error;
      const values = connectionValuesFromBody(body);
      return renderForm(c, routes, { values, problems: error.problems, stored, status: 400 });
    }
  });
}

/** Delete after a confirmation; a connection records use is not deleted (409, listing them). */
function registerDelete({ app, deps, store, csrf, admin, zone }: ConnectionRoutes) {
  const { db } = store;
  app.get("/connections/:id/delete", admin, async (c) => {
    const connection = await connectionOf(db, c.req.param("id"));
    return c.html(ConnectionDelete({
      timeZone: zone,
      identity: identityOf(c),
      connection,
      users: await usersOf(db, connection.id),
    }));
  });

  app.post("/connections/:id/delete", admin, csrf, async (c) => {
    const connection = await connectionOf(db, c.req.param("id"));
    try {
      await deleteConnection(db, connection.id);
    } catch (error) {
      if (!(error instanceof ConnectionInUse)) throw error;
      return c.html(
        ConnectionDelete({
          timeZone: zone,
          identity: identityOf(c),
          connection,
          users: error.records,
        }),
        409,
      );
    }
    deps.logger.info("connection_deleted", {
      connectionId: connection.id,
      user: identityOf(c).user,
    });
    return c.redirect("/connections?done=deleted", 303);
  });
}

/** Test connection, and accepting the server's host-key fingerprint it showed. */
function registerTest({ app, deps, store, csrf, admin, zone }: ConnectionRoutes) {
  app.post("/connections/:id/test", admin, csrf, async (c) => {
    const connection = await connectionOf(store.db, c.req.param("id"));
    const result = await testConnection(store, connection.id);
    if (!result) throw notFound(`connection ${connection.id}`);
    return c.html(ConnectionTestPage({
      timeZone: zone,
      identity: identityOf(c),
      connection,
      result,
    }));
  });

  app.post("/connections/:id/fingerprint", admin, csrf, async (c) => {
    const connection = await connectionOf(store.db, c.req.param("id"));
    const fingerprint = field(await c.req.parseBody(), "fingerprint").trim();
    try {
      await updateConnection(store, connection.id, { hostKeyFingerprint: fingerprint || "-" });
    } catch (error) {
      if (!(error instanceof ConnectionInvalid)) throw error;
      throw new HttpError(400, "invalid_fingerprint", error.problems[0]!.message);
    }
    deps.logger.info("connection_fingerprint_accepted", {
      connectionId: connection.id,
      fingerprint,
      user: identityOf(c).user,
    });
    return c.redirect("/connections?done=accepted", 303);
  });
}
