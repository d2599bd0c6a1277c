/**
 * The runs overview page (`/runs`), the progress of a run under way as JSON
 * (`/runs/:id/progress`, polled by the pages' script), and that script and the
 * overview's style sheet.
 */
import { requestScope } from "../auth/school_scope.ts";
import { Hono } from "hono";
import type { Context } from "hono";
import { getRun } from "../../pipeline/launch.ts";
import { listRecords } from "../../records/store.ts";
import { RUN_STATUSES, statusWords } from "../../pipeline/run_state.ts";
import { IMPORT_TABLES } from "../../sis/catalog.ts";
import type { AppDeps, AppEnv } from "../context.ts";
import { requireRole } from "../auth/middleware.ts";
import { notFound } from "../errors.ts";
import { isActiveStatus, TRIGGER_LABELS } from "../format.ts";
import {
  daySummary,
  listRunsFiltered,
  listSchools,
  runFilterOf,
  type RunFilterQuery,
  type RunProgress,
  runProgressOf,
  type RunRow,
} from "../queries.ts";
import { pageOf } from "../pages/components.tsx";
import { bytesRead, progressShort, RunsOverview, STAGE_LABELS } from "../pages/runs_overview.tsx";
import { OVERVIEW_CSS, PROGRESS_JS } from "../assets.ts";
import { idOf } from "./setup_pages.tsx";

/** Runs per page of the overview. */
export const OVERVIEW_PAGE_SIZE = 50;

/** The filters of a request's query, as text (a status may repeat). */
export function filterQueryOf(c: Context<AppEnv>): RunFilterQuery {
  const one = (name: string) => c.req.query(name);
  return {
    status: c.req.queries("status") ?? [],
    table: one("table"),
    school: one("school"),
    record: one("record") ?? one("recordId"),
    trigger: one("trigger"),
    from: one("from"),
    to: one("to"),
  };
}

/** The rules of the filters: the statuses, tables and triggers that exist. */
export const FILTER_VALUES = {
  statuses: RUN_STATUSES,
  tables: IMPORT_TABLES,
  triggers: Object.keys(TRIGGER_LABELS),
} as const;

/** The progress of a run as `/runs/:id/progress` and the API answer it. */
export function progressJson(run: RunRow, progress: RunProgress | null) {
  return {
    runId: run.id,
    status: run.status,
    statusLabel: statusWords(run.status, "label"),
    /** True while the run may still change by itself (queued, running, waiting). */
    active: isActiveStatus(run.status) || run.status === "waiting",
    progress,
    stageLabel: progress ? STAGE_LABELS[progress.stage] : null,
    short: progressShort(progress),
    bytesText: bytesRead(progress),
  };
}

/** The session's school: 0 (District Office) sees every school's runs. */
export function scopeOf(c: Context<AppEnv>): number {
  return requestScope(c) ?? 0;
}

/** The run `id`, if the session may see it (its school's, or any for District Office). */
export async function visibleRun(deps: AppDeps, id: number, scope: number): Promise<RunRow> {
  const run = await getRun(deps.database.db, id);
  if (!run || (scope !== 0 && run.schoolId !== scope)) throw notFound(`run ${id}`);
  return run;
}

export function overviewPages(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { db } = deps.database;
  const zone = deps.config.timeZone;

  app.get("/assets/progress.js", (c) =>
    c.body(PROGRESS_JS, 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "public, max-age=3600",
    }));
  app.get("/assets/overview.css", (c) =>
    c.body(OVERVIEW_CSS, 200, {
      "content-type": "text/css; charset=utf-8",
      "cache-control": "public, max-age=3600",
    }));

  app.get("/runs", requireRole("viewer", "page"), async (c) => {
    const scope = scopeOf(c);
    const query = filterQueryOf(c);
    const { filter, problems } = runFilterOf(query, { timeZone: zone, ...FILTER_VALUES });
    const now = new Date();
    const page = pageOf(c.req.query("page"));
    const list = await listRunsFiltered(db, filter, {
      scope,
      dataDir: deps.config.dataDir,
      limit: OVERVIEW_PAGE_SIZE,
      offset: (page - 1) * OVERVIEW_PAGE_SIZE,
    });
    const schools = (await listSchools(db)).filter((s) => scope === 0 || s.schoolNumber === scope);
    return c.html(
      RunsOverview({
        timeZone: zone,
        identity: c.get("identity")!,
        summary: await daySummary(db, now, { scope, timeZone: zone }),
        items: list.items,
        total: list.total,
        page,
        pageSize: OVERVIEW_PAGE_SIZE,
        query,
        problems,
        schools,
        records: await listRecords(db, scope === 0 ? undefined : scope),
        now,
      }),
      problems.length > 0 ? 400 : 200,
    );
  });

  app.get("/runs/:id/progress", requireRole("viewer", "page"), async (c) => {
    const run = await visibleRun(deps, idOf(c.req.param("id"), "such run"), scopeOf(c));
    const progress = await runProgressOf(run, deps.config.dataDir);
    c.header("cache-control", "no-store");
    return c.json(progressJson(run, progress));
  });

  return app;
}
