/** Reference data: the field catalog, school setup (read and load), and the SIS tables (paged). */
import { z } from "@hono/zod-openapi";
import type { OpenAPIHono, RouteConfig } from "@hono/zod-openapi";
import { catalogFor, type TableCatalog } from "../../sis/catalog.ts";
import { readSisTable } from "../../sis/readout.ts";
import { tableRules } from "../../sis/tables/registry.ts";
import { loadSetup, readSetup, SetupFile } from "../../sis/setup.ts";
import type { AppDeps, AppEnv } from "../context.ts";
import { guardedRoute, newApi } from "./common.ts";
import { CatalogSchema, ErrorBody, jsonBody, pageOf, SchoolQuery, TableParam } from "./schemas.ts";

const catalogRoute = {
  method: "get",
  path: "/catalog/{table}",
  tags: ["Reference"],
  summary: "The field catalog of a table",
  description: "Every importable field, with the extension fields of school setup.",
  request: {
    params: TableParam,
    query: z.object({
      mode: z.enum(["daily", "meeting"]).default("daily").openapi({
        param: { name: "mode", in: "query" },
        description: "Attendance mode",
      }),
    }),
  },
  responses: { 200: jsonBody(CatalogSchema, "The catalog") },
} satisfies RouteConfig;

const readSetupRoute = {
  method: "get",
  path: "/setup",
  tags: ["Reference"],
  summary: "School setup",
  description: "Schools, terms, periods, days, attendance codes and extension tables.",
  responses: { 200: jsonBody(SetupFile, "The setup, in the format of the setup file") },
} satisfies RouteConfig;

const loadSetupRoute = {
  method: "post",
  path: "/setup",
  tags: ["Reference"],
  summary: "Load school setup",
  description:
    "Checks the whole document first (400 with the JSON path of the first problem), then loads it in one transaction. Listed schools' terms, periods, days and codes become exactly what is listed.",
  request: {
    body: {
      content: {
        "application/json": {
          schema: z.looseObject({}).openapi({ description: "A setup file (see GET /setup)" }),
        },
      },
      required: true,
    },
  },
  responses: {
    200: jsonBody(
      z.object({ schools: z.number().int(), extensions: z.number().int() }),
      "Loaded: how many schools and extension tables",
    ),
    400: jsonBody(ErrorBody, "The document breaks a rule: error.path is its JSON path"),
  },
} satisfies RouteConfig;

const sisRowsRoute = {
  method: "get",
  path: "/sis/{table}",
  tags: ["Reference"],
  summary: "Rows of an SIS table",
  description:
    "Keyed by catalog field names (extension values as Ext.field), ordered by match key, paged.",
  request: {
    params: TableParam,
    query: z.object({
      school: SchoolQuery,
      limit: z.coerce.number().int().min(1).max(1000).default(100).openapi({
        param: { name: "limit", in: "query" },
        type: "integer",
      }),
      offset: z.coerce.number().int().min(0).default(0).openapi({
        param: { name: "offset", in: "query" },
        type: "integer",
      }),
    }),
  },
  responses: {
    200: jsonBody(
      pageOf("rows", z.record(z.string(), z.unknown())).extend({ table: z.string() }),
      "A page of rows",
    ),
    400: jsonBody(ErrorBody, "A bad parameter"),
  },
} satisfies RouteConfig;

/** The reference API: the field catalog, school setup (read and load) and the SIS tables. */
export function referenceApi(deps: AppDeps): OpenAPIHono<AppEnv> {
  const app = newApi();
  const { db } = deps.database;
  const cfg = deps.config;

  app.openapi(guardedRoute(cfg, "viewer", catalogRoute), async (c) => {
    const { table } = c.req.valid("param");
    const { mode } = c.req.valid("query");
    const setup = await readSetup(db);
    const catalog = catalogFor(table, { mode, extensions: setup.extensions });
    return c.json(catalogJson(catalog, tableRules(table).hasModes ? mode : null), 200);
  });

  app.openapi(
    guardedRoute(cfg, "viewer", readSetupRoute),
    async (c) => c.json(await readSetup(db), 200),
  );

  app.openapi(guardedRoute(cfg, "admin", loadSetupRoute), async (c) => {
    const loaded = await loadSetup(db, c.req.valid("json"));
    deps.logger.info("setup_loaded", {
      schools: loaded.schools.length,
      user: c.get("identity")?.user,
    });
    return c.json({ schools: loaded.schools.length, extensions: loaded.extensions.length }, 200);
  });

  app.openapi(guardedRoute(cfg, "viewer", sisRowsRoute), async (c) => {
    const { table } = c.req.valid("param");
    const { school, limit, offset } = c.req.valid("query");
    const page = await readSisTable(deps.database.client, table, {
      ...(school !== undefined ? { school } : {}),
      limit,
      offset,
    });
    return c.json({ table: page.table, total: page.total, limit, offset, rows: page.rows }, 200);
  });

  return app;
}

/** A table's catalog as the API shows it; `mode` is null for a table without modes. */
function catalogJson(catalog: TableCatalog, mode: string | null) {
  return {
    table: catalog.table,
    label: catalog.label,
    mode,
    rowDescription: catalog.rowDescription,
    key: [...catalog.key],
    fields: catalog.fields.map((f) => ({
      name: f.name,
      type: f.type,
      maxLength: f.maxLength ?? null,
      codes: f.codes ? [...f.codes] : null,
      requiredToCreate: f.requiredToCreate,
      key: f.key !== undefined,
      personal: f.personal,
      extension: f.extension !== undefined,
      description: f.description,
    })),
  };
}
