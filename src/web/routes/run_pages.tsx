/** Run pages: a run's report, its rejected rows as CSV, and Approve / Discard of a held run. */
import { type Context, Hono } from "hono";
import { getRecord } from "../../records/store.ts";
import { getRun } from "../../pipeline/launch.ts";
import { rejectedRowsCsv } from "../../pipeline/report.ts";
import { discardRun, runChangeLog } from "../../pipeline/service.ts";
import { approveHeldRun } from "../start_run.ts";
import { csvCell } from "../../pipeline/report.ts";
import {
  ApprovalPage,
  CONFIRM_NONE,
  CONFIRM_REMOVALS,
  DiscardPage,
} from "../pages/approval_page.tsx";
import type { RunRow } from "../queries.ts";
import { type AttendanceMode, coreCatalog, type ImportTable } from "../../sis/catalog.ts";
import { rulesNamed } from "../../sis/tables/registry.ts";
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

/** Keys listed per page of an approval confirmation. */
export const KEYS_PAGE_SIZE = 100;

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

  registerHeldRunDecisions(app, deps);
  return app;
}

/**
 * Why the confirmation of an approval is refused, or undefined when it is right: with
 * removals, the typed number must be the number of removals (spaces and thousands
 * separators aside); without, the box must be ticked.
 */
export function approvalRefusal(
  run: RunRow,
  body: Record<string, unknown>,
): string | undefined {
  if (run.removed === 0) {
    return body[CONFIRM_NONE] === "on"
      ? undefined
      : "Tick the box to confirm that the held file is to be applied.";
  }
  const raw = body[CONFIRM_REMOVALS];
  const typed = typeof raw === "string" ? raw.replace(/[\s,._']/g, "") : "";
  if (typed === "") {
    return `Type the number of records that will be removed (${run.removed}) to approve.`;
  }
  if (!/^\d+$/.test(typed) || Number(typed) !== run.removed) {
    return `That is not the number of removals: type ${run.removed} to approve, or cancel.`;
  }
  return undefined;
}

/**
 * The keys a held run will remove as CSV: one column per key field (named by the
 * table's catalog), one line per key, cells made safe by `csvCell`; the header alone
 * when there are none.
 */
async function removalsCsv(db: AppDeps["database"]["db"], run: RunRow): Promise<string> {
  const mode = (run.options as { attendanceMode?: AttendanceMode | null }).attendanceMode;
  const names = rulesNamed(run.table)
    ? coreCatalog(run.table as ImportTable, mode ?? "daily").key
    : [];
  const lines: string[] = [names.map(csvCell).join(",")];
  for (let offset = 0;; offset += 1000) {
    const page = await runChangeLog(db, run.id, { limit: 1000, offset });
    for (const change of page) {
      if (change.action !== "remove") continue;
      const key = JSON.parse(change.key) as Record<string, unknown>;
      lines.push(names.map((n) => csvCell(key[n])).join(","));
    }
    if (page.length < 1000) break;
  }
  return lines.map((l) => `${l}\r\n`).join("");
}

/**
 * Approve and Discard of a held run, each behind a confirmation page: the approval
 * applies nothing unless the editor typed the number of removals (or ticked the box
 * when there are none).
 */
function registerHeldRunDecisions(app: Hono<AppEnv>, deps: AppDeps) {
  const { db } = deps.database;
  const runDeps = { db, config: deps.config };
  const csrf = csrfProtection(deps.config, "form");
  const editor = requireRole("editor", "page");
  const heldRun = async (param: string) => {
    const id = idOf(param, "such run");
    const run = await getRun(db, id);
    if (!run) throw notFound(`run ${id}`);
    const record = run.recordId === null ? undefined : await getRecord(db, run.recordId);
    return { id, run, record };
  };
  const approvalPage = async (
    c: Context<AppEnv>,
    held: Awaited<ReturnType<typeof heldRun>>,
    refused?: { typed: string; error: string },
  ) => {
    const pages = Math.max(1, Math.ceil(held.run.removed / KEYS_PAGE_SIZE));
    const page = Math.min(pageOf(c.req.query("page")), pages);
    const keys = await runChangeLog(db, held.id, {
      limit: KEYS_PAGE_SIZE,
      offset: (page - 1) * KEYS_PAGE_SIZE,
    });
    return c.html(
      ApprovalPage({
        timeZone: deps.config.timeZone,
        identity: c.get("identity")!,
        run: held.run,
        record: held.record,
        keys,
        keyPage: page,
        keyPageSize: KEYS_PAGE_SIZE,
        ...(refused ?? {}),
      }),
      refused ? 422 : 200,
    );
  };

  app.get("/runs/:id/approve", editor, async (c) => {
    const held = await heldRun(c.req.param("id"));
    if (held.run.status !== "held") return c.redirect(`/runs/${held.id}`, 303);
    return await approvalPage(c, held);
  });

  app.get("/runs/:id/removals.csv", requireRole("viewer", "page"), async (c) => {
    const { id, run } = await heldRun(c.req.param("id"));
    return c.body(await removalsCsv(db, run), 200, csvHeaders(`run-${id}-removals.csv`));
  });

  app.post("/runs/:id/approve", editor, csrf, async (c) => {
    const held = await heldRun(c.req.param("id"));
    const body = await c.req.parseBody();
    // A run that is no longer held goes on to the approval, which refuses it (409).
    const error = held.run.status === "held" ? approvalRefusal(held.run, body) : undefined;
    if (error) {
      const typed = body[CONFIRM_REMOVALS];
      return await approvalPage(c, held, { typed: typeof typed === "string" ? typed : "", error });
    }
    // The record's one-active-run claim keeps a second click from applying the file twice.
    const approval = await approveHeldRun(deps, held.id);
    deps.logger.info("run_approved", {
      runId: held.id,
      approvalRunId: approval,
      user: c.get("identity")?.user,
    });
    return c.redirect(`/runs/${approval}`, 303);
  });

  app.get("/runs/:id/discard", editor, async (c) => {
    const held = await heldRun(c.req.param("id"));
    if (held.run.status !== "held") return c.redirect(`/runs/${held.id}`, 303);
    return c.html(DiscardPage({
      timeZone: deps.config.timeZone,
      identity: c.get("identity")!,
      run: held.run,
      record: held.record,
    }));
  });

  app.post("/runs/:id/discard", editor, csrf, async (c) => {
    const { id } = await heldRun(c.req.param("id"));
    await discardRun(runDeps, id, { by: c.get("identity")?.user });
    return c.redirect(`/runs/${id}?done=discarded`, 303);
  });
}
