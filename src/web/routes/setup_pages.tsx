/**
 * The AutoComm Setup pages: the list, New / Edit, Delete, Run Now, Preview and a
 * record's run history. Every route states the role it needs; form posts are
 * checked for CSRF.
 */
import { Hono } from "hono";
import type { Context, MiddlewareHandler } from "hono";
import {
  checkInput,
  deleteRecord,
  getRecord,
  listRecords,
  RecordInvalid,
  type StoredRecord,
  updateRecord,
} from "../../records/store.ts";
import type { FieldProblem } from "../../records/validate.ts";
import {
  countRuns,
  listRuns,
  runChangeLog,
  RunInProgress,
  startSettingsPreview,
} from "../../pipeline/service.ts";
import { getRun } from "../../pipeline/launch.ts";
import type { Db } from "../../db/client.ts";
import { and, desc, eq, notInArray } from "drizzle-orm";
import { runs } from "../../db/schema/autocomm.ts";
import { ACTIVE_STATUSES } from "../../pipeline/run_state.ts";
import { TREND_RUNS } from "../pages/trend_chart.tsx";
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
  progressOf,
  runErrorsPage,
  runNotesOf,
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
import { landingSchool, rememberSchool } from "../school_context.ts";
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

/** What the setup page routes share. */
interface SetupRoutes {
  app: Hono<AppEnv>;
  deps: AppDeps;
  db: Db;
  /** The CSRF check of form posts. */
  csrf: MiddlewareHandler<AppEnv>;
  zone: string;
}

/** The AutoComm Setup pages, in groups: the list, the form, the actions, the run history. */
export function setupPages(deps: AppDeps): Hono<AppEnv> {
  const routes: SetupRoutes = {
    app: new Hono<AppEnv>(),
    deps,
    db: deps.database.db,
    csrf: csrfProtection(deps.config, "form"),
    zone: deps.config.timeZone,
  };
  registerListPage(routes);
  // Before the form routes: `/records/preview` is not `/records/:id`.
  registerFormPreview(routes);
  registerFormRoutes(routes);
  registerActionRoutes(routes);
  registerRunsPage(routes);
  return routes.app;
}

/** A school by number (`fallback` when `value` is empty), or a 404. */
async function schoolOf(
  db: Db,
  { value, fallback }: { value: string | undefined; fallback: number },
): Promise<SchoolRow> {
  const n = value === undefined || value === "" ? fallback : Number(value);
  const school = Number.isSafeInteger(n) ? await getSchool(db, n) : undefined;
  if (!school) throw notFound(`school ${value ?? fallback}`);
  return school;
}

/** The record a path id names, or a 404. */
async function recordOf(db: Db, value: string | undefined): Promise<StoredRecord> {
  const id = idOf(value, "such record");
  const record = await getRecord(db, id);
  if (!record) throw notFound(`record ${id}`);
  return record;
}

/** What {@linkcode renderForm} shows: the form's mode, school, values and problems. */
interface FormView {
  mode: "new" | "edit";
  recordId?: number;
  school: SchoolRow;
  values: RecordFormValues;
  problems?: FieldProblem[];
  preview?: PreviewResult;
  /** 400 when the form comes back with problems. */
  status?: 200 | 400;
}

/** The record form page, with the connections a record may read from. */
async function renderForm(c: Context<AppEnv>, routes: SetupRoutes, view: FormView) {
  const { db, deps } = routes;
  return c.html(
    RecordForm({
      mode: view.mode,
      ...(view.recordId !== undefined ? { recordId: view.recordId } : {}),
      timeZone: routes.zone,
      identity: identityOf(c),
      school: view.school,
      values: view.values,
      problems: view.problems ?? [],
      connections: await downloadConnections(db),
      defaultMinFileAge: deps.config.minFileAgeSeconds,
      preview: view.preview,
    }),
    view.status ?? 200,
  );
}

/** The result of preview run `previewId` of record `recordId`, when it is one (else none). */
async function previewOf(
  db: Db,
  { recordId, previewId }: { recordId: number | null; previewId: string | undefined },
): Promise<PreviewResult | undefined> {
  if (previewId === undefined || !/^\d+$/.test(previewId)) return undefined;
  const run = await getRun(db, Number(previewId));
  if (!run || run.recordId !== recordId || !run.preview) return undefined;
  const errors = await runErrorsPage(db, run.id, { limit: 20 });
  return {
    run,
    changes: await runChangeLog(db, run.id, { limit: 50 }),
    changeTotal: await countChanges(db, run.id),
    errors: errors.errors,
    errorTotal: errors.total,
    notes: await runNotesOf(db, run.id),
  };
}

/**
 * `/`: the records of a school context — the one `?school=` names (remembered as the
 * user's choice), else the landing school (src/web/school_context.ts).
 */
function registerListPage({ app, db, zone, deps }: SetupRoutes) {
  app.get("/", requireRole("viewer", "page"), async (c) => {
    const identity = identityOf(c);
    const chosen = c.req.query("school");
    const school = await schoolOf(db, {
      value: chosen,
      fallback: await landingSchool(db, identity),
    });
    if (chosen) {
      await rememberSchool(db, identity, school.schoolNumber).catch((error: unknown) =>
        deps.logger.warn("school_not_remembered", { error: String(error) })
      );
    }
    const records = await listRecords(db, school.schoolNumber);
    const last = await lastRuns(db, records.map((r) => r.id));
    const done = c.req.query("done");
    return c.html(SetupList({
      timeZone: zone,
      identity,
      school,
      schools: await listSchools(db, { scope: requestScope(c) }),
      records,
      lastRuns: last,
      progress: await progressOf([...last.values()], deps.config.dataDir),
      notice: done && NOTICES[done] ? NOTICES[done](c.req.query("n")) : undefined,
    }));
  });
}

/**
 * Preview of the form as it is filled in, New or Edit (`?record=` the edited
 * record), without saving it: the settings are checked by the record rules like a
 * save (problems come back on the form, 400), then previewed — the same run as a
 * saved record's preview — and the form comes back with what was typed and the
 * result. An Edit's preview is a run of its record; a New one's is of no record.
 */
function registerFormPreview(routes: SetupRoutes) {
  const { app, db, deps, csrf } = routes;
  app.post("/records/preview", requireRole("editor", "page"), csrf, async (c) => {
    const edited = c.req.query("record");
    const record = edited === undefined ? undefined : await recordOf(db, edited);
    const body = await c.req.parseBody();
    const school = await schoolOf(db, {
      value: record ? String(record.schoolId) : String(body["schoolId"] ?? ""),
      fallback: -1,
    });
    // A session confined to a school previews only its school's files, as if no other
    // school or record existed.
    const scope = requestScope(c);
    if (scope !== undefined && school.schoolNumber !== scope) {
      throw notFound(record ? `record ${record.id}` : `school ${school.schoolNumber}`);
    }
    const values = formValuesFromBody(body);
    const view = {
      mode: record ? "edit" as const : "new" as const,
      ...(record ? { recordId: record.id } : {}),
      school,
      values,
    };
    let settings;
    try {
      settings = await checkInput(db, inputOf(values, school.schoolNumber), record?.id);
    } catch (error) {
      if (!(error instanceof RecordInvalid)) throw error;
      return await renderForm(c, routes, { ...view, problems: error.problems, status: 400 });
    }
    const runId = await startSettingsPreview(
      { db, config: deps.config, queue: deps.queue },
      settings,
      { recordId: record?.id ?? null },
    );
    await deps.queue.idle();
    const preview = await previewOf(db, { recordId: record?.id ?? null, previewId: String(runId) });
    return await renderForm(c, routes, { ...view, ...(preview ? { preview } : {}) });
  });
}

/**
 * New / Edit: the form, and its posts. A post that breaks a record rule comes back
 * as the form (400) with the problems and what was typed.
 */
function registerFormRoutes(routes: SetupRoutes) {
  const { app, db, csrf } = routes;
  const editor = requireRole("editor", "page");
  app.get("/records/new", editor, async (c) => {
    const identity = identityOf(c);
    const school = await schoolOf(db, {
      value: c.req.query("school"),
      fallback: identity.schoolId,
    });
    return await renderForm(c, routes, { mode: "new", school, values: emptyFormValues() });
  });

  app.post("/records", editor, csrf, async (c) => {
    const body = await c.req.parseBody();
    const school = await schoolOf(db, { value: String(body["schoolId"] ?? ""), fallback: -1 });
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
      const problems = error.problems;
      return await renderForm(c, routes, { mode: "new", school, values, problems, status: 400 });
    }
  });

  app.get("/records/:id/edit", editor, async (c) => {
    const record = await recordOf(db, c.req.param("id"));
    const school = await schoolOf(db, { value: String(record.schoolId), fallback: 0 });
    const preview = await previewOf(db, { recordId: record.id, previewId: c.req.query("preview") });
    return await renderForm(c, routes, {
      mode: "edit",
      recordId: record.id,
      school,
      values: formValuesOf(record),
      ...(preview ? { preview } : {}),
    });
  });

  app.post("/records/:id", editor, csrf, async (c) => {
    const record = await recordOf(db, c.req.param("id"));
    const school = await schoolOf(db, { value: String(record.schoolId), fallback: 0 });
    const values = formValuesFromBody(await c.req.parseBody());
    try {
      await updateRecord(db, record.id, inputOf(values, record.schoolId));
      return c.redirect(`/?school=${record.schoolId}&done=saved`, 303);
    } catch (error) {
      if (!(error instanceof RecordInvalid)) throw error;
      return await renderForm(c, routes, {
        mode: "edit",
        recordId: record.id,
        school,
        values,
        problems: error.problems,
        status: 400,
      });
    }
  });
}

/**
 * Delete (after a confirmation page), Run Now (409 with a link when the record is
 * already running) and Preview (editors see the result on the form, runners on the
 * run page).
 */
function registerActionRoutes({ app, deps, db, csrf, zone }: SetupRoutes) {
  const editor = requireRole("editor", "page");
  const runner = requireRole("runner", "page");
  app.get("/records/:id/delete", editor, async (c) => {
    const record = await recordOf(db, c.req.param("id"));
    const school = await getSchool(db, record.schoolId);
    return c.html(DeleteConfirm({
      timeZone: zone,
      identity: identityOf(c),
      record,
      schoolName: school?.name ?? `school ${record.schoolId}`,
    }));
  });

  app.post("/records/:id/delete", editor, csrf, async (c) => {
    const record = await recordOf(db, c.req.param("id"));
    await deleteRecord(db, record.id);
    deps.logger.info("record_deleted", { recordId: record.id, user: identityOf(c).user });
    return c.redirect(`/?school=${record.schoolId}&done=deleted`, 303);
  });

  app.post("/records/:id/run", runner, csrf, async (c) => {
    const record = await recordOf(db, c.req.param("id"));
    try {
      const runId = await startRecordRun(deps, record.id, { trigger: "run_now" });
      return c.redirect(`/runs/${runId}`, 303);
    } catch (error) {
      if (!(error instanceof RunInProgress)) throw error;
      return c.html(
        AlreadyRunning({ timeZone: zone, identity: identityOf(c), record, runId: error.runId }),
        409,
      );
    }
  });

  app.post("/records/:id/preview", runner, csrf, async (c) => {
    const { id } = await recordOf(db, c.req.param("id"));
    const runId = await startRecordRun(deps, id, { trigger: "run_now", preview: true });
    await deps.queue.idle();
    return c.redirect(
      hasRole(identityOf(c).role, "editor")
        ? `/records/${id}/edit?preview=${runId}#preview-result`
        : `/runs/${runId}`,
      303,
    );
  });
}

/**
 * The runs of a record's trend: its last {@linkcode TREND_RUNS} runs that have ended,
 * previews aside (they change nothing), newest first.
 */
async function trendRuns(db: Db, recordId: number) {
  return await db.select().from(runs).where(
    and(
      eq(runs.recordId, recordId),
      eq(runs.preview, false),
      notInArray(runs.status, [...ACTIVE_STATUSES]),
    ),
  ).orderBy(desc(runs.id)).limit(TREND_RUNS);
}

/** A record's runs, newest first, {@linkcode RUNS_PAGE_SIZE} a page, after their trend. */
function registerRunsPage({ app, db, zone }: SetupRoutes) {
  app.get("/records/:id/runs", requireRole("viewer", "page"), async (c) => {
    const record = await recordOf(db, c.req.param("id"));
    const total = await countRuns(db, record.id);
    const pages = Math.max(1, Math.ceil(total / RUNS_PAGE_SIZE));
    const page = Math.min(pageOf(c.req.query("page")), pages);
    return c.html(RecordRuns({
      timeZone: zone,
      identity: identityOf(c),
      record,
      trend: await trendRuns(db, record.id),
      runs: await listRuns(db, {
        recordId: record.id,
        limit: RUNS_PAGE_SIZE,
        offset: (page - 1) * RUNS_PAGE_SIZE,
      }),
      total,
      page,
      pageSize: RUNS_PAGE_SIZE,
    }));
  });
}
