/** `/runs`: list, read, errors and changes (paged), rejected rows as CSV, approve and discard. */
import { z } from "@hono/zod-openapi";
import type { OpenAPIHono, RouteConfig } from "@hono/zod-openapi";
import { getRun } from "../../pipeline/launch.ts";
import { rejectedRowsCsv } from "../../pipeline/report.ts";
import { discardRun, runChangeLog } from "../../pipeline/service.ts";
import type { Db } from "../../db/client.ts";
import type { AppDeps, AppEnv } from "../context.ts";
import { HttpError, notFound } from "../errors.ts";
import {
  countChanges,
  daySummary,
  listRunsFiltered,
  runErrorsPage,
  runFilterOf,
  runProgressOf,
} from "../queries.ts";
import {
  FILTER_VALUES,
  filterQueryOf,
  progressJson,
  scopeOf,
  visibleRun,
} from "../routes/overview_pages.tsx";
import { csvHeaders } from "../routes/run_pages.tsx";
import { changeJson, guardedRoute, newApi, runJson } from "./common.ts";
import { runDetail } from "./records.ts";
import { approveHeldRun } from "../start_run.ts";
import {
  Change,
  ErrorBody,
  IdParam,
  jsonBody,
  pageOf,
  PageQuery,
  RunDetail,
  RunError,
  RunFilterParams,
  RunListed,
  RunProgressAnswer,
  RunsSummary,
} from "./schemas.ts";

const notFoundResponse = jsonBody(ErrorBody, "No such run");

const listRunsRoute = {
  method: "get",
  path: "/runs",
  tags: ["Runs"],
  summary: "List runs",
  description:
    "Newest first, every run the caller may see (a school's session: that school's), filtered as the runs overview page (/runs) is: " +
    "status (several), table, school, record, trigger and a range of when runs were queued. A running run carries its progress.",
  request: { query: PageQuery.extend(RunFilterParams.shape) },
  responses: {
    200: jsonBody(
      pageOf("runs", RunListed),
      "A page of runs",
    ),
  },
} satisfies RouteConfig;

const summaryRoute = {
  method: "get",
  path: "/runs/summary",
  tags: ["Runs"],
  summary: "The last 24 hours at a glance",
  description:
    "Runs by status, the records that failed, are held or missed a scheduled slot, and the rows the committed runs changed.",
  responses: { 200: jsonBody(RunsSummary, "The last 24 hours") },
} satisfies RouteConfig;

const progressRoute = {
  method: "get",
  path: "/runs/{id}/progress",
  tags: ["Runs"],
  summary: "A run's progress",
  description:
    "While it runs: its stage (fetching, reading, checking, applying, reporting), rows and bytes read, the file's size and share read; measured about once a second.",
  request: { params: IdParam },
  responses: { 200: jsonBody(RunProgressAnswer, "The run's progress"), 404: notFoundResponse },
} satisfies RouteConfig;

const readRunRoute = {
  method: "get",
  path: "/runs/{id}",
  tags: ["Runs"],
  summary: "Read a run",
  description:
    "Status, trigger, times, file, counts and notes; errors and changes are paged apart.",
  request: { params: IdParam },
  responses: { 200: jsonBody(RunDetail, "The run"), 404: notFoundResponse },
} satisfies RouteConfig;

const runErrorsRoute = {
  method: "get",
  path: "/runs/{id}/errors",
  tags: ["Runs"],
  summary: "A run's row errors",
  description: "In file order (line), paged.",
  request: { params: IdParam, query: PageQuery },
  responses: {
    200: jsonBody(
      pageOf("errors", RunError),
      "A page of row errors",
    ),
    404: notFoundResponse,
  },
} satisfies RouteConfig;

const runChangesRoute = {
  method: "get",
  path: "/runs/{id}/changes",
  tags: ["Runs"],
  summary: "A run's change log",
  description:
    "What the run did, or for a held run or a preview would do (a held run: the keys that would be removed). " +
    'Both values of a personal field read "(personal)", as on the run page.',
  request: { params: IdParam, query: PageQuery },
  responses: {
    200: jsonBody(
      pageOf("changes", Change),
      "A page of changes",
    ),
    404: notFoundResponse,
  },
} satisfies RouteConfig;

const rejectedRowsRoute = {
  method: "get",
  path: "/runs/{id}/rejected.csv",
  tags: ["Runs"],
  summary: "A run's rejected rows as CSV",
  description:
    "One line per row error: line, field, code, message, then the row's cells under the record's field names; formula-like cells are neutralised.",
  request: { params: IdParam },
  responses: {
    200: { description: "CSV", content: { "text/csv": { schema: z.string() } } },
    404: notFoundResponse,
  },
} satisfies RouteConfig;

const approveRoute = {
  method: "post",
  path: "/runs/{id}/approve",
  tags: ["Runs"],
  summary: "Approve a held run",
  description:
    "Applies the held run's kept file exactly once and answers when the approval run has finished. A body `{confirmRemovals: N}` (optional, for compatibility) makes the approval conditional: unless N is the held run's number of removals nothing is applied (422).",
  request: {
    params: IdParam,
    body: {
      required: false,
      content: {
        "application/json": {
          schema: z.object({
            confirmRemovals: z.number().int().min(0).optional().openapi({
              description: "The held run's number of removals, as the caller saw it",
            }),
          }),
        },
      },
    },
  },
  responses: {
    200: jsonBody(
      z.object({ approvalRunId: z.number().int(), run: RunDetail }),
      "The approval run",
    ),
    404: notFoundResponse,
    422: jsonBody(ErrorBody, "confirmRemovals is not the held run's number of removals"),
    409: jsonBody(ErrorBody, "The run is not held (any more), or the record is running"),
  },
} satisfies RouteConfig;

const discardRoute = {
  method: "post",
  path: "/runs/{id}/discard",
  tags: ["Runs"],
  summary: "Discard a held run",
  description: "Deletes the kept file; nothing is applied.",
  request: { params: IdParam },
  responses: {
    200: jsonBody(RunDetail, "The discarded run"),
    404: notFoundResponse,
    409: jsonBody(ErrorBody, "The run is not held"),
  },
} satisfies RouteConfig;

/** The runs API: reading runs (viewers), and deciding held runs (editors). */
export function runsApi(deps: AppDeps): OpenAPIHono<AppEnv> {
  const app = newApi();
  registerRunReads(app, deps);
  registerHeldRunDecisions(app, deps);
  return app;
}

/** Run `id`, or a 404. */
async function existing(db: Db, id: number) {
  const run = await getRun(db, id);
  if (!run) throw notFound(`run ${id}`);
  return run;
}

/** List, read, a run's errors and changes (paged), and its rejected rows as CSV. */
function registerRunReads(app: OpenAPIHono<AppEnv>, deps: AppDeps) {
  const { db } = deps.database;
  const cfg = deps.config;
  app.openapi(guardedRoute(cfg, "viewer", listRunsRoute), async (c) => {
    const { limit, offset } = c.req.valid("query");
    const { filter, problems } = runFilterOf(filterQueryOf(c), {
      timeZone: cfg.timeZone,
      ...FILTER_VALUES,
    });
    if (problems.length > 0) {
      throw new HttpError(
        400,
        "invalid",
        problems.map((p) => `${p.field}: ${p.message}`).join("; "),
        {
          problems,
        },
      );
    }
    const list = await listRunsFiltered(db, filter, {
      scope: scopeOf(c),
      dataDir: cfg.dataDir,
      limit,
      offset,
    });
    return c.json({
      total: list.total,
      limit,
      offset,
      runs: list.items.map((i) => ({
        ...runJson(i.run),
        recordName: i.recordName,
        progress: i.progress,
      })),
    }, 200);
  });

  app.openapi(guardedRoute(cfg, "viewer", summaryRoute), async (c) =>
    c.json(
      await daySummary(db, new Date(), { scope: scopeOf(c), timeZone: cfg.timeZone }),
      200,
    ));

  app.openapi(guardedRoute(cfg, "viewer", progressRoute), async (c) => {
    const run = await visibleRun(deps, c.req.valid("param").id, scopeOf(c));
    return c.json(progressJson(run, await runProgressOf(run, cfg.dataDir)), 200);
  });

  app.openapi(
    guardedRoute(cfg, "viewer", readRunRoute),
    async (c) => c.json(await runDetail(deps, c.req.valid("param").id), 200),
  );

  app.openapi(guardedRoute(cfg, "viewer", runErrorsRoute), async (c) => {
    const { id } = c.req.valid("param");
    const { limit, offset } = c.req.valid("query");
    await existing(db, id);
    const page = await runErrorsPage(db, id, { limit, offset });
    return c.json({ total: page.total, limit, offset, errors: page.errors }, 200);
  });

  app.openapi(guardedRoute(cfg, "viewer", runChangesRoute), async (c) => {
    const { id } = c.req.valid("param");
    const { limit, offset } = c.req.valid("query");
    await existing(db, id);
    const changes = await runChangeLog(db, id, { limit, offset });
    return c.json({
      total: await countChanges(db, id),
      limit,
      offset,
      changes: changes.map(changeJson),
    }, 200);
  });

  app.openapi(guardedRoute(cfg, "viewer", rejectedRowsRoute), async (c) => {
    const { id } = c.req.valid("param");
    await existing(db, id);
    return c.body(await rejectedRowsCsv(db, id), 200, csvHeaders(`run-${id}-rejected-rows.csv`));
  });
}

/** Approve (apply the kept file once) or discard a held run. */
function registerHeldRunDecisions(app: OpenAPIHono<AppEnv>, deps: AppDeps) {
  const { db } = deps.database;
  const cfg = deps.config;
  app.openapi(guardedRoute(cfg, "editor", approveRoute), async (c) => {
    const { id } = c.req.valid("param");
    const held = await existing(db, id);
    const confirm = (c.req.valid("json") as { confirmRemovals?: number } | undefined)
      ?.confirmRemovals;
    if (confirm !== undefined && held.status === "held" && confirm !== held.removed) {
      throw new HttpError(
        422,
        "invalid",
        `confirmRemovals is ${confirm}, but run ${id} would remove ${held.removed}; nothing was applied`,
        { problems: [{ field: "confirmRemovals", message: `must be ${held.removed}` }] },
      );
    }
    const approval = await approveHeldRun(deps, id);
    deps.logger.info("run_approved", {
      runId: id,
      approvalRunId: approval,
      user: c.get("identity")?.user,
    });
    return c.json({ approvalRunId: approval, run: await runDetail(deps, approval) }, 200);
  });

  app.openapi(guardedRoute(cfg, "editor", discardRoute), async (c) => {
    const { id } = c.req.valid("param");
    await existing(db, id);
    await discardRun({ db, config: cfg }, id, { by: c.get("identity")?.user });
    return c.json(await runDetail(deps, id), 200);
  });
}
