/**
 * A session's school context cannot be widened. A session at school N ≠ 0 (its school
 * comes from the sign-in provider's claim) sees and acts only on school N's records
 * and their runs; the District Office context (0: the API token, the local
 * administrator link, a provider user at school 0) sees every school.
 *
 * One middleware, {@linkcode schoolScope}, keyed on the request's path and query, so
 * the route handlers stay as they are:
 * - `/records/:id…`, `/runs/:id…`, `/api/v1/records/:id…`, `/api/v1/runs/:id…` and a
 *   `recordId` query: the record's or run's school is read once; another school's
 *   answers 404 exactly as a record or run that does not exist.
 * - a `school` query naming another school (or empty) answers 404 as a school that
 *   does not exist; without one, the API's lists (`/api/v1/records`, `/api/v1/sis/…`) are
 *   given the session's school (the request's URL gets `school=N` before its handler
 *   reads the query; pages already default to the session's school).
 * - ids and schools are read as leniently as a handler might coerce them (`5.0`,
 *   percent-encoding), and every value of a repeated parameter counts.
 *
 * The admin role's district-wide work (school setup, managed connections) is not
 * about one school's records and is not confined.
 *
 * The 404 is raised by {@linkcode requireRole} after its role check (the middleware
 * only notes it), so a role too low for the route answers 403 for another school's
 * record exactly as for a missing one: the answers never tell whether it exists.
 * Lists the middleware cannot narrow take the scope themselves: creating a record
 * (`createRecords`' `schoolScope`), the runs list (`listRuns`' `schoolId`) and the
 * school switch (`listSchools`' scope).
 */
import type { Context, MiddlewareHandler } from "hono";
import { eq } from "drizzle-orm";
import { records, runs } from "../../db/schema/autocomm.ts";
import type { AppDeps, AppEnv, Identity } from "../context.ts";

/** The school a session is confined to, or undefined for District Office context (all schools). */
export function schoolScopeOf(identity: Identity | undefined): number | undefined {
  return identity && identity.schoolId !== 0 ? identity.schoolId : undefined;
}

/** The school context of a request already through `requireRole` (see {@linkcode schoolScopeOf}). */
export function requestScope(c: Context<AppEnv>): number | undefined {
  return schoolScopeOf(c.get("identity"));
}

/** The id segment after `/records/` or `/runs/` (pages and API), still percent-encoded. */
const ID_PATH = /^(?:\/api\/v1)?\/(records|runs)\/([^/]+)(?:\/|$)/;

/**
 * The record or run id a path segment or query value names, read as leniently as any
 * handler might (percent-decoding, then `Number`, as `z.coerce.number` does), so that
 * no spelling of an id slips past the check; undefined when it names no id at all.
 */
function idIn(value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  let text = value;
  try {
    text = decodeURIComponent(value);
  } catch {
    // not percent-encoded
  }
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** API lists whose `school` query, when absent, becomes the session's school. */
const SCHOOL_LISTS = /^\/api\/v1\/(?:records|sis\/[^/]+)\/?$/;

/** Sets `outOfScope` (what to call missing) for requests that reach outside the session's school. */
export function schoolScope(deps: AppDeps): MiddlewareHandler<AppEnv> {
  const { db } = deps.database;
  const recordSchool = async (id: number) =>
    (await db.select({ s: records.schoolId }).from(records).where(eq(records.id, id)))[0]?.s;
  const runSchool = async (id: number) =>
    (await db.select({ s: runs.schoolId }).from(runs).where(eq(runs.id, id)))[0]?.s;

  return async (c, next) => {
    const scope = schoolScopeOf(c.get("identity"));
    if (scope === undefined) return await next();
    const path = c.req.path;
    let outside: string | undefined;
    const [, kind, segment] = ID_PATH.exec(path) ?? [];
    const pathId = idIn(segment);
    // Every value of a repeated parameter counts; an empty `school` is not this school either.
    const recordIds = (c.req.queries("recordId") ?? []).map(idIn);
    const schools = c.req.queries("school");
    const foreignSchool = schools?.find((v) => idIn(v) !== scope);
    if (pathId !== undefined && kind === "records" && await recordSchool(pathId) !== scope) {
      outside = `record ${pathId}`;
    } else if (pathId !== undefined && kind === "runs" && await runSchool(pathId) !== scope) {
      outside = `run ${pathId}`;
    } else if (foreignSchool !== undefined) {
      outside = `school ${foreignSchool}`;
    }
    for (const id of recordIds) {
      if (outside === undefined && id !== undefined && await recordSchool(id) !== scope) {
        outside = `record ${id}`;
      }
    }
    if (outside !== undefined) c.set("outOfScope", outside);
    if (
      outside === undefined && schools === undefined && c.req.method === "GET" &&
      SCHOOL_LISTS.test(path)
    ) {
      const url = new URL(c.req.url);
      url.searchParams.set("school", String(scope));
      c.req.raw = new Request(url, c.req.raw);
    }
    await next();
  };
}
