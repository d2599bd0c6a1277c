/** `/records`: list, create (with duplicates), read, update, delete, run now, preview. */
import { z } from "@hono/zod-openapi";
import type { OpenAPIHono, RouteConfig } from "@hono/zod-openapi";
import { deleteRecord, getRecord, listRecords, updateRecord } from "../../records/store.ts";
import { getRun } from "../../pipeline/launch.ts";
import { runChangeLog } from "../../pipeline/service.ts";
import type { AppDeps, AppEnv } from "../context.ts";
import { notFound } from "../errors.ts";
import { countChanges, runErrorsPage, runNotesOf } from "../queries.ts";
import { createRecords } from "../records_write.ts";
import { startRecordRun } from "../start_run.ts";
import { requestScope } from "../auth/school_scope.ts";
import { changeJson, guardedRoute, newApi, recordJson, runJson } from "./common.ts";
import {
  Change,
  CreateRecordInput,
  ErrorBody,
  IdParam,
  jsonBody,
  RecordInput,
  RecordSchema,
  RunDetail,
  RunError,
  SchoolQuery,
} from "./schemas.ts";
import { callbackJson, hostCallbackOf } from "../../host/callback.ts";

const notFoundResponse = jsonBody(ErrorBody, "No such record");

/** How many changes and errors a preview answer includes. */
export const PREVIEW_SAMPLE = 50;

/** The run detail of the API: the run, its notes, and its error and change counts. */
export async function runDetail(deps: AppDeps, runId: number) {
  const { db } = deps.database;
  const run = await getRun(db, runId);
  if (!run) throw notFound(`run ${runId}`);
  return {
    ...runJson(run),
    notes: await runNotesOf(db, runId),
    errorCount: (await runErrorsPage(db, runId, { limit: 0 })).total,
    changeCount: await countChanges(db, runId),
    callback: callbackJson(await hostCallbackOf(db, runId)),
  };
}

const listRecordsRoute = {
  method: "get",
  path: "/records",
  tags: ["Records"],
  summary: "List records",
  description: "Records of a school (or all), by sort order then name.",
  request: { query: z.object({ school: SchoolQuery }) },
  responses: {
    200: jsonBody(z.object({ records: z.array(RecordSchema) }), "The records"),
  },
} satisfies RouteConfig;

const createRecordRoute = {
  method: "post",
  path: "/records",
  tags: ["Records"],
  summary: "Create a record",
  description:
    "Checked by the same rules as the form. With duplicateToAllSchools, one record per school.",
  request: {
    body: { content: { "application/json": { schema: CreateRecordInput } }, required: true },
  },
  responses: {
    201: jsonBody(z.object({ records: z.array(RecordSchema) }), "The created record(s)"),
  },
} satisfies RouteConfig;

const readRecordRoute = {
  method: "get",
  path: "/records/{id}",
  tags: ["Records"],
  summary: "Read a record",
  request: { params: IdParam },
  responses: { 200: jsonBody(RecordSchema, "The record"), 404: notFoundResponse },
} satisfies RouteConfig;

const replaceRecordRoute = {
  method: "put",
  path: "/records/{id}",
  tags: ["Records"],
  summary: "Replace a record's settings",
  description: "Every field as on create; missing ones take their defaults. The school stays.",
  request: {
    params: IdParam,
    body: { content: { "application/json": { schema: RecordInput } }, required: true },
  },
  responses: { 200: jsonBody(RecordSchema, "The record"), 404: notFoundResponse },
} satisfies RouteConfig;

const changeRecordRoute = {
  method: "patch",
  path: "/records/{id}",
  tags: ["Records"],
  summary: "Change some of a record's settings",
  description: "Fields not sent keep their values. The school stays.",
  request: {
    params: IdParam,
    body: { content: { "application/json": { schema: RecordInput } }, required: true },
  },
  responses: { 200: jsonBody(RecordSchema, "The record"), 404: notFoundResponse },
} satisfies RouteConfig;

const deleteRecordRoute = {
  method: "delete",
  path: "/records/{id}",
  tags: ["Records"],
  summary: "Delete a record",
  description: "Its runs stay as history.",
  request: { params: IdParam },
  responses: { 204: { description: "Deleted" }, 404: notFoundResponse },
} satisfies RouteConfig;

const runNowRoute = {
  method: "post",
  path: "/records/{id}/run",
  tags: ["Runs"],
  summary: "Run now",
  description: "Queues a run of the record. 409 with the running run's id when one is under way.",
  request: { params: IdParam },
  responses: {
    202: jsonBody(
      z.object({ runId: z.number().int(), status: z.string(), href: z.string() }),
      "The run is queued",
    ),
    404: notFoundResponse,
    409: jsonBody(ErrorBody, "The record is already running (error.runId)"),
  },
} satisfies RouteConfig;

const previewRoute = {
  method: "post",
  path: "/records/{id}/preview",
  tags: ["Runs"],
  summary: "Preview a record",
  description:
    "Runs the record's pipeline without committing and answers when it has finished: the run, " +
    `the first ${PREVIEW_SAMPLE} changes it would make and the first ${PREVIEW_SAMPLE} row errors.`,
  request: { params: IdParam },
  responses: {
    200: jsonBody(
      z.object({ run: RunDetail, changes: z.array(Change), errors: z.array(RunError) }),
      "The preview",
    ),
    404: notFoundResponse,
  },
} satisfies RouteConfig;

/** The records API: reading and writing records, and starting their runs and previews. */
export function recordsApi(deps: AppDeps): OpenAPIHono<AppEnv> {
  const app = newApi();
  registerRecordReadsAndCreate(app, deps);
  registerRecordChanges(app, deps);
  registerRecordRuns(app, deps);
  return app;
}

/** List a school's records, create one (or one per school), read one. */
function registerRecordReadsAndCreate(app: OpenAPIHono<AppEnv>, deps: AppDeps) {
  const { db } = deps.database;
  const cfg = deps.config;
  app.openapi(guardedRoute(cfg, "viewer", listRecordsRoute), async (c) => {
    const { school } = c.req.valid("query");
    const records = await listRecords(db, school);
    return c.json({ records: records.map(recordJson) }, 200);
  });

  app.openapi(guardedRoute(cfg, "editor", createRecordRoute), async (c) => {
    const { duplicateToAllSchools, ...input } = c.req.valid("json");
    const created = await createRecords(db, input, duplicateToAllSchools === true, {
      schoolScope: requestScope(c),
    });
    c.header("Location", `/api/v1/records/${created[0]!.id}`);
    return c.json({ records: created.map(recordJson) }, 201);
  });

  app.openapi(guardedRoute(cfg, "viewer", readRecordRoute), async (c) => {
    const { id } = c.req.valid("param");
    const record = await getRecord(db, id);
    if (!record) throw notFound(`record ${id}`);
    return c.json(recordJson(record), 200);
  });
}

/** Replace (PUT), change (PATCH: members not sent keep their values) and delete a record. */
function registerRecordChanges(app: OpenAPIHono<AppEnv>, deps: AppDeps) {
  const { db } = deps.database;
  const cfg = deps.config;
  app.openapi(guardedRoute(cfg, "editor", replaceRecordRoute), async (c) => {
    const { id } = c.req.valid("param");
    const updated = await updateRecord(db, id, c.req.valid("json"));
    if (!updated) throw notFound(`record ${id}`);
    return c.json(recordJson(updated), 200);
  });

  app.openapi(guardedRoute(cfg, "editor", changeRecordRoute), async (c) => {
    const { id } = c.req.valid("param");
    const current = await getRecord(db, id);
    if (!current) throw notFound(`record ${id}`);
    const changes = Object.fromEntries(
      Object.entries(c.req.valid("json")).filter(([, v]) => v !== undefined),
    );
    const updated = await updateRecord(db, id, { ...current, ...changes });
    if (!updated) throw notFound(`record ${id}`);
    return c.json(recordJson(updated), 200);
  });

  app.openapi(guardedRoute(cfg, "editor", deleteRecordRoute), async (c) => {
    const { id } = c.req.valid("param");
    if (!(await deleteRecord(db, id))) throw notFound(`record ${id}`);
    return c.body(null, 204);
  });
}

/** Run Now (queued, answered at once) and Preview (answered when it has finished). */
function registerRecordRuns(app: OpenAPIHono<AppEnv>, deps: AppDeps) {
  const { db } = deps.database;
  const cfg = deps.config;
  app.openapi(guardedRoute(cfg, "runner", runNowRoute), async (c) => {
    const { id } = c.req.valid("param");
    if (!(await getRecord(db, id))) throw notFound(`record ${id}`);
    const runId = await startRecordRun(deps, id, { trigger: "api" });
    c.header("Location", `/api/v1/runs/${runId}`);
    return c.json({ runId, status: "queued", href: `/api/v1/runs/${runId}` }, 202);
  });

  app.openapi(guardedRoute(cfg, "runner", previewRoute), async (c) => {
    const { id } = c.req.valid("param");
    if (!(await getRecord(db, id))) throw notFound(`record ${id}`);
    const runId = await startRecordRun(deps, id, { trigger: "api", preview: true });
    await deps.queue.idle();
    const changes = await runChangeLog(db, runId, { limit: PREVIEW_SAMPLE });
    const errors = await runErrorsPage(db, runId, { limit: PREVIEW_SAMPLE });
    return c.json({
      run: await runDetail(deps, runId),
      changes: changes.map(changeJson),
      errors: errors.errors,
    }, 200);
  });
}
