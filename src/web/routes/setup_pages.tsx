/**
 * The AutoComm Setup pages: the list, New / Edit, Delete, Run Now, Preview and a
 * record's run history. Every route states the role it needs; form posts are
 * checked for CSRF.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import {
  deleteRecord,
  getRecord,
  listRecords,
  RecordInvalid,
  updateRecord,
} from "../../records/store.ts";
import type { FieldProblem } from "../../records/validate.ts";
import { countRuns, listRuns, runChangeLog, RunInProgress } from "../../pipeline/service.ts";
import { getRun } from "../../pipeline/launch.ts";
import type { AppDeps, AppEnv, Identity } from "../context.ts";
import { csrfProtection, requireRole } from "../auth/middleware.ts";
import { hasRole } from "../auth/roles.ts";
import { HttpError, notFound } from "../errors.ts";
import {
  countChanges,
  downloadConnections,
  getSchool,
  lastRuns,
  listSchools,
  runErrorsPage,
  type SchoolRow,
} from "../queries.ts";
import {
  emptyFormValues,
  formValuesFromBody,
  formValuesOf,
  inputOf,
  type RecordFormValues,
} from "../record_input.ts";
import { createRecords } from "../records_write.ts";
import { startRecordRun } from "../start_run.ts";
import { pageOf } from "../pages/components.tsx";
import type { PreviewResult } from "../pages/preview_panel.tsx";
import { RecordForm } from "../pages/record_form.tsx";
import { RecordRuns } from "../pages/record_runs.tsx";
import { SetupList } from "../pages/setup_list.tsx";
import { requestScope } from "../auth/school_scope.ts";
import { AlreadyRunning, DeleteConfirm } from "../pages/simple_pages.tsx";

/** Runs shown per page of a record's history. */
export const RUNS_PAGE_SIZE = 25;

/** A positive whole number from a path or form value, or a 404 naming `what`. */
export function idOf(value: string | undefined, what: string): number {
  const n = Number(value);
  if (!/^\d{1,15}$/.test(value ?? "") || !Number.isSafeInteger(n) || n <= 0) throw notFound(what);
  return n;
}

function identityOf(c: Context<AppEnv>): Identity {
  const identity = c.get("identity");
  if (!identity) throw new HttpError(401, "unauthenticated", "Sign in to continue");
  return identity;
}

const NOTICES: Record<string, (n: string | undefined) => string> = {
  created: (n) =>
    n && n !== "1" ? `Created ${n} records, one in each school.` : "The record was created.",
  saved: () => "The record was saved.",
  deleted: () => "The record was deleted.",
};

export function setupPages(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { db } = deps.database;
  const csrf = csrfProtection(deps.config, "form");
  const zone = deps.config.timeZone;

  async function schoolOf(value: string | undefined, fallback: number): Promise<SchoolRow> {
    const n = value === undefined || value === "" ? fallback : Number(value);
    const school = Number.isSafeInteger(n) ? await getSchool(db, n) : undefined;
    if (!school) throw notFound(`school ${value ?? fallback}`);
    return school;
  }

  async function renderForm(
    c: Context<AppEnv>,
    options: {
      mode: "new" | "edit";
      recordId?: number;
      school: SchoolRow;
      values: RecordFormValues;
      problems?: FieldProblem[];
      preview?: PreviewResult;
    },
    status: 200 | 400 = 200,
  ) {
    return c.html(
      RecordForm({
        mode: options.mode,
        ...(options.recordId !== undefined ? { recordId: options.recordId } : {}),
        timeZone: zone,
        identity: identityOf(c),
        school: options.school,
        values: options.values,
        problems: options.problems ?? [],
        connections: await downloadConnections(db),
        defaultMinFileAge: deps.config.minFileAgeSeconds,
        preview: options.preview,
      }),
      status,
    );
  }

  app.get("/", requireRole("viewer", "page"), async (c) => {
    const identity = identityOf(c);
    const school = await schoolOf(c.req.query("school"), identity.schoolId);
    const records = await listRecords(db, school.schoolNumber);
    const done = c.req.query("done");
    return c.html(SetupList({
      timeZone: zone,
      identity,
      school,
      schools: await listSchools(db, { scope: requestScope(c) }),
      records,
      lastRuns: await lastRuns(db, records.map((r) => r.id)),
      notice: done && NOTICES[done] ? NOTICES[done](c.req.query("n")) : undefined,
    }));
  });

  app.get("/records/new", requireRole("editor", "page"), async (c) => {
    const identity = identityOf(c);
    const school = await schoolOf(c.req.query("school"), identity.schoolId);
    return await renderForm(c, { mode: "new", school, values: emptyFormValues() });
  });

  app.post("/records", requireRole("editor", "page"), csrf, async (c) => {
    const body = await c.req.parseBody();
    const school = await schoolOf(String(body["schoolId"] ?? ""), -1);
    const values = formValuesFromBody(body);
    try {
      const created = await createRecords(
        db,
        inputOf(values, school.schoolNumber),
        values.duplicateToAllSchools && school.schoolNumber !== 0,
        { schoolScope: requestScope(c) },
      );
      return c.redirect(`/?school=${school.schoolNumber}&done=created&n=${created.length}`, 303);
    } catch (error) {
      if (!(error instanceof RecordInvalid)) throw error;
      return await renderForm(c, { mode: "new", school, values, problems: error.problems }, 400);
    }
  });

  app.get("/records/:id/edit", requireRole("editor", "page"), async (c) => {
    const id = idOf(c.req.param("id"), "such record");
    const record = await getRecord(db, id);
    if (!record) throw notFound(`record ${id}`);
    const school = await schoolOf(String(record.schoolId), 0);
    let preview: PreviewResult | undefined;
    const previewId = c.req.query("preview");
    if (previewId !== undefined && /^\d+$/.test(previewId)) {
      const run = await getRun(db, Number(previewId));
      if (run && run.recordId === id && run.preview) {
        const errors = await runErrorsPage(db, run.id, { limit: 20 });
        preview = {
          run,
          changes: await runChangeLog(db, run.id, { limit: 50 }),
          changeTotal: await countChanges(db, run.id),
          errors: errors.errors,
          errorTotal: errors.total,
        };
      }
    }
    return await renderForm(c, {
      mode: "edit",
      recordId: id,
      school,
      values: formValuesOf(record),
      ...(preview ? { preview } : {}),
    });
  });

  app.post("/records/:id", requireRole("editor", "page"), csrf, async (c) => {
    const id = idOf(c.req.param("id"), "such record");
    const record = await getRecord(db, id);
    if (!record) throw notFound(`record ${id}`);
    const school = await schoolOf(String(record.schoolId), 0);
    const values = formValuesFromBody(await c.req.parseBody());
    try {
      await updateRecord(db, id, inputOf(values, record.schoolId));
      return c.redirect(`/?school=${record.schoolId}&done=saved`, 303);
    } catch (error) {
      if (!(error instanceof RecordInvalid)) throw error;
      return await renderForm(
        c,
        { mode: "edit", recordId: id, school, values, problems: error.problems },
        400,
      );
    }
  });

  app.get("/records/:id/delete", requireRole("editor", "page"), async (c) => {
    const id = idOf(c.req.param("id"), "such record");
    const record = await getRecord(db, id);
    if (!record) throw notFound(`record ${id}`);
    const school = await getSchool(db, record.schoolId);
    return c.html(DeleteConfirm({
      timeZone: zone,
      identity: identityOf(c),
      record,
      schoolName: school?.name ?? `school ${record.schoolId}`,
    }));
  });

  app.post("/records/:id/delete", requireRole("editor", "page"), csrf, async (c) => {
    const id = idOf(c.req.param("id"), "such record");
    const record = await getRecord(db, id);
    if (!record) throw notFound(`record ${id}`);
    await deleteRecord(db, id);
    deps.logger.info("record_deleted", { recordId: id, user: identityOf(c).user });
    return c.redirect(`/?school=${record.schoolId}&done=deleted`, 303);
  });

  app.post("/records/:id/run", requireRole("runner", "page"), csrf, async (c) => {
    const id = idOf(c.req.param("id"), "such record");
    const record = await getRecord(db, id);
    if (!record) throw notFound(`record ${id}`);
    try {
      const runId = await startRecordRun(deps, id, { trigger: "run_now" });
      return c.redirect(`/runs/${runId}`, 303);
    } catch (error) {
      if (!(error instanceof RunInProgress)) throw error;
      return c.html(
        AlreadyRunning({ timeZone: zone, identity: identityOf(c), record, runId: error.runId }),
        409,
      );
    }
  });

  app.post("/records/:id/preview", requireRole("runner", "page"), csrf, async (c) => {
    const id = idOf(c.req.param("id"), "such record");
    const record = await getRecord(db, id);
    if (!record) throw notFound(`record ${id}`);
    const runId = await startRecordRun(deps, id, { trigger: "run_now", preview: true });
    await deps.queue.idle();
    return c.redirect(
      hasRole(identityOf(c).role, "editor")
        ? `/records/${id}/edit?preview=${runId}#preview-result`
        : `/runs/${runId}`,
      303,
    );
  });

  app.get("/records/:id/runs", requireRole("viewer", "page"), async (c) => {
    const id = idOf(c.req.param("id"), "such record");
    const record = await getRecord(db, id);
    if (!record) throw notFound(`record ${id}`);
    const total = await countRuns(db, id);
    const pages = Math.max(1, Math.ceil(total / RUNS_PAGE_SIZE));
    const page = Math.min(pageOf(c.req.query("page")), pages);
    return c.html(RecordRuns({
      timeZone: zone,
      identity: identityOf(c),
      record,
      runs: await listRuns(db, {
        recordId: id,
        limit: RUNS_PAGE_SIZE,
        offset: (page - 1) * RUNS_PAGE_SIZE,
      }),
      total,
      page,
      pageSize: RUNS_PAGE_SIZE,
    }));
  });

  return app;
}
