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
import type { Context } from "hono";
import {
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

export function connectionPages(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { db } = deps.database;
  const store = {
    db,
    keys: { current: deps.config.secretKey, previous: deps.config.secretKeyPrevious },
  };
  const csrf = csrfProtection(deps.config, "form");
  const zone = deps.config.timeZone;
  const admin = requireRole("admin", "page");

  async function connectionOf(value: string | undefined): Promise<ConnectionView> {
    const id = idOf(value, "such connection");
    const connection = await getConnection(db, id);
    if (!connection) throw notFound(`connection ${id}`);
    return connection;
  }

  function renderForm(
    c: Context<AppEnv>,
    options: {
      values: ConnectionFormValues;
      problems?: ConnectionProblem[];
      stored?: ConnectionView;
    },
    status: 200 | 400 = 200,
  ) {
    const { stored } = options;
    return c.html(
      ConnectionForm({
        mode: stored ? "edit" : "new",
        ...(stored ? { connectionId: stored.id } : {}),
        timeZone: zone,
        identity: identityOf(c),
        values: options.values,
        problems: options.problems ?? [],
        stored: stored
          ? { authType: stored.authType, hasSecret: stored.hasSecret, name: stored.name }
          : undefined,
      }),
      status,
    );
  }

  app.get("/connections", admin, async (c) => {
    const done = c.req.query("done");
    return c.html(ConnectionList({
      timeZone: zone,
      identity: identityOf(c),
      connections: await listConnections(db),
      usage: await usage(db),
      notice: done ? NOTICES[done] : undefined,
      noSecretKey: deps.config.secretKey === undefined,
    }));
  });

  app.get("/connections/new", admin, (c) => renderForm(c, { values: emptyConnectionValues() }));

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
      return renderForm(
        c,
        { values: connectionValuesFromBody(body), problems: error.problems },
        400,
      );
    }
  });

  app.get("/connections/:id/edit", admin, async (c) => {
    const stored = await connectionOf(c.req.param("id"));
    return renderForm(c, { values: connectionValuesOf(stored), stored });
  });

  app.post("/connections/:id", admin, csrf, async (c) => {
    const stored = await connectionOf(c.req.param("id"));
    const body = await c.req.parseBody();
    try {
      const saved = await updateConnection(store, stored.id, connectionInputOf(body));
      if (!saved) throw notFound(`connection ${stored.id}`);
      deps.logger.info("connection_saved", { connectionId: stored.id, user: identityOf(c).user });
      return c.redirect("/connections?done=saved", 303);
    } catch (error) {
      if (!(error instanceof ConnectionInvalid)) throw error;
      return renderForm(
        c,
        { values: connectionValuesFromBody(body), problems: error.problems, stored },
        400,
      );
    }
  });

  app.get("/connections/:id/delete", admin, async (c) => {
    const connection = await connectionOf(c.req.param("id"));
    return c.html(ConnectionDelete({
      timeZone: zone,
      identity: identityOf(c),
      connection,
      users: await usersOf(db, connection.id),
    }));
  });

  app.post("/connections/:id/delete", admin, csrf, async (c) => {
    const connection = await connectionOf(c.req.param("id"));
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

  app.post("/connections/:id/test", admin, csrf, async (c) => {
    const connection = await connectionOf(c.req.param("id"));
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
    const connection = await connectionOf(c.req.param("id"));
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

  return app;
}
