/** Run pages: a run's report, its rejected rows as CSV, and Approve / Discard of a held run. */
import { Hono } from "hono";
import { getRecord } from "../../records/store.ts";
import { getRun } from "../../pipeline/launch.ts";
import { rejectedRowsCsv } from "../../pipeline/report.ts";
import { discardRun, runChangeLog } from "../../pipeline/service.ts";
import { approveHeldRun } from "../start_run.ts";
import type { AppDeps, AppEnv } from "../context.ts";
import { csrfProtection, requireRole } from "../auth/middleware.ts";
import { notFound } from "../errors.ts";
import { approvalsOf, countChanges, runErrorsPage, runNotesOf, runProgressOf } from "../queries.ts";
import { pageOf } from "../pages/components.tsx";
import { RunPage } from "../pages/run_page.tsx";
import { idOf } from "./setup_pages.tsx";
import { hostCallbackOf } from "../../host/callback.ts";

/** Row errors shown per page of a run. */
export const ERRORS_PAGE_SIZE = 50;

/** Change-log entries shown on a run page. */
export const CHANGES_SHOWN = 200;

const NOTICES: Record<string, string> = {
  discarded: "The held run was discarded; its file is deleted.",
};

/** The headers of a CSV download. */
export function csvHeaders(filename: string): Record<string, string> {
  return {
    "content-type": "text/csv; charset=utf-8",
    "content-disposition": `attachment; filename="${filename}"`,
    "cache-control": "no-store",
  };
}

export function runPages(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { db } = deps.database;
  const runDeps = { db, config: deps.config };
  const csrf = csrfProtection(deps.config, "form");

  app.get("/runs/:id", requireRole("viewer", "page"), async (c) => {
    const id = idOf(c.req.param("id"), "such run");
    const run = await getRun(db, id);
    if (!run) throw notFound(`run ${id}`);
    const { total } = await runErrorsPage(db, id, { limit: 0 });
    const pages = Math.max(1, Math.ceil(total / ERRORS_PAGE_SIZE));
    const page = Math.min(pageOf(c.req.query("errors_page")), pages);
    const errors = await runErrorsPage(db, id, {
      limit: ERRORS_PAGE_SIZE,
      offset: (page - 1) * ERRORS_PAGE_SIZE,
    });
    const done = c.req.query("done");
    return c.html(RunPage({
      timeZone: deps.config.timeZone,
      identity: c.get("identity")!,
      run,
      record: run.recordId === null ? undefined : await getRecord(db, run.recordId),
      notes: await runNotesOf(db, id),
      errors: errors.errors,
      errorTotal: errors.total,
      errorPage: page,
      errorPageSize: ERRORS_PAGE_SIZE,
      changes: await runChangeLog(db, id, { limit: CHANGES_SHOWN }),
      changeTotal: await countChanges(db, id),
      approvals: await approvalsOf(db, id),
      notice: done ? NOTICES[done] : undefined,
      callback: await hostCallbackOf(db, id),
      progress: await runProgressOf(run, deps.config.dataDir),
    }));
  });

  app.get("/runs/:id/rejected.csv", requireRole("viewer", "page"), async (c) => {
    const id = idOf(c.req.param("id"), "such run");
    const run = await getRun(db, id);
    if (!run) throw notFound(`run ${id}`);
    return c.body(await rejectedRowsCsv(db, id), 200, csvHeaders(`run-${id}-rejected-rows.csv`));
  });

  app.post("/runs/:id/approve", requireRole("editor", "page"), csrf, async (c) => {
    const id = idOf(c.req.param("id"), "such run");
    const run = await getRun(db, id);
    if (!run) throw notFound(`run ${id}`);
    // The record's one-active-run claim keeps a second click from applying the file twice.
    const approval = await approveHeldRun(deps, id);
    deps.logger.info("run_approved", {
      runId: id,
      approvalRunId: approval,
      user: c.get("identity")?.user,
    });
    return c.redirect(`/runs/${approval}`, 303);
  });

  app.post("/runs/:id/discard", requireRole("editor", "page"), csrf, async (c) => {
    const id = idOf(c.req.param("id"), "such run");
    const run = await getRun(db, id);
    if (!run) throw notFound(`run ${id}`);
    await discardRun(runDeps, id, { by: c.get("identity")?.user });
    return c.redirect(`/runs/${id}?done=discarded`, 303);
  });

  return app;
}
