/**
 * The shapes of the JSON API, for validation and for the OpenAPI document. The
 * record input is deliberately loose here: its rules are the record rules
 * (`checkRecord`), shared with the form and the CLI, which answer with
 * per-field problems.
 */
import { z } from "@hono/zod-openapi";
import { IMPORT_TABLES } from "../../sis/catalog.ts";
import { ROLES } from "../auth/roles.ts";

const loose = (meta: Record<string, unknown>) => z.unknown().optional().openapi(meta);

/** `{error: {code, message, problems?}}`. */
export const ErrorBody = z.object({
  error: z.object({
    code: z.string().openapi({ example: "invalid" }),
    message: z.string(),
    problems: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    runId: z.number().int().optional().openapi({ description: "The running run (code running)" }),
    path: z.string().optional().openapi({ description: "JSON path of a setup problem" }),
  }),
}).openapi("Error");

/** The input of a record: every field of a record in its API spelling. */
export const RecordInput = z.object({
  schoolId: loose({
    type: "integer",
    description: "School_Number; 0 is the District Office (create only)",
  }),
  name: loose({
    type: "string",
    description: "Unique within the school",
    example: "Students nightly",
  }),
  table: loose({ type: "string", enum: [...IMPORT_TABLES] }),
  attendanceMode: loose({
    type: "string",
    enum: ["daily", "meeting"],
    description: "Attendance only; modes the school's recording method allows",
  }),
  hour: loose({
    type: "integer",
    minimum: 0,
    maximum: 23,
    description: "When to Execute, local time",
  }),
  minute: loose({ type: "integer", minimum: 0, maximum: 59 }),
  days: loose({
    type: "string",
    description: "Letters from MTWHFSU, no repeats",
    example: "MTWHF",
  }),
  executionOff: loose({ type: "boolean" }),
  source: loose({ type: "string", enum: ["local", "managed"] }),
  connectionId: loose({
    type: "integer",
    description: "A managed connection with download enabled",
  }),
  path: loose({
    type: "string",
    description: "Relative path; \\\\ or / separators; {school}",
    example: "sis\\\\students.txt",
  }),
  fieldDelimiter: loose({ type: "string", enum: ["tab", "comma"] }),
  recordDelimiter: loose({ type: "string", enum: ["CRLF", "CR", "LF"] }),
  charset: loose({ type: "string", enum: ["windows-1252", "macintosh", "iso-8859-1", "utf-8"] }),
  sortOrder: loose({ type: ["integer", "null"] }),
  synchronize: loose({ type: "boolean" }),
  updateExisting: loose({ type: "boolean" }),
  inactivateExited: loose({ type: "boolean" }),
  expectRecordCount: loose({ type: "boolean" }),
  emailTo: loose({ type: "string", description: "Comma-separated e-mail addresses" }),
  fields: loose({
    type: "array",
    items: { type: "string" },
    description: "Catalog field names, one per column",
    example: ["Student_Number", "First_Name", "Last_Name", "Grade_Level", "EntryDate"],
  }),
  ignoreBlankCells: loose({ type: "boolean" }),
  removalLimitPercent: loose({ type: "integer", minimum: 0, maximum: 100 }),
  minFileAgeSeconds: loose({ type: ["integer", "null"], minimum: 0, maximum: 86400 }),
}).openapi("RecordInput");

export const CreateRecordInput = RecordInput.extend({
  duplicateToAllSchools: z.boolean().optional().openapi({
    description: "Also create the record in every other school's context",
  }),
}).openapi("CreateRecordInput");

/** A stored record. */
export const RecordSchema = z.object({
  id: z.number().int(),
  schoolId: z.number().int(),
  name: z.string(),
  table: z.string(),
  attendanceMode: z.string().nullable(),
  hour: z.number().int(),
  minute: z.number().int(),
  days: z.string(),
  executionOff: z.boolean(),
  source: z.string(),
  connectionId: z.number().int().nullable(),
  path: z.string(),
  fieldDelimiter: z.string(),
  recordDelimiter: z.string(),
  charset: z.string(),
  sortOrder: z.number().int().nullable(),
  synchronize: z.boolean(),
  updateExisting: z.boolean(),
  inactivateExited: z.boolean(),
  expectRecordCount: z.boolean(),
  emailTo: z.string(),
  fields: z.array(z.string()),
  ignoreBlankCells: z.boolean(),
  removalLimitPercent: z.number().int(),
  minFileAgeSeconds: z.number().int().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
}).openapi("Record");

export const Counts = z.object({
  read: z.number().int(),
  inserted: z.number().int(),
  updated: z.number().int(),
  unchanged: z.number().int(),
  skipped: z.number().int(),
  rejected: z.number().int(),
  removed: z.number().int(),
  inactivated: z.number().int(),
  blankLines: z.number().int(),
  shortRows: z.number().int(),
}).openapi("Counts");

/** A run as listed. */
export const RunSchema = z.object({
  id: z.number().int(),
  recordId: z.number().int().nullable(),
  schoolId: z.number().int(),
  table: z.string(),
  trigger: z.string(),
  status: z.string(),
  preview: z.boolean(),
  approvesRunId: z.number().int().nullable(),
  queuedAt: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  heldUntil: z.string().nullable(),
  message: z.string().nullable(),
  file: z.object({
    name: z.string().nullable(),
    size: z.number().int().nullable(),
    sha256: z.string().nullable(),
  }),
  counts: Counts,
  email: z.object({ status: z.string().nullable(), error: z.string().nullable() }),
}).openapi("Run");

/** A run with its notes and how many errors and changes it has. */
export const RunDetail = RunSchema.extend({
  notes: z.array(
    z.object({ code: z.string(), message: z.string(), line: z.number().int().nullable() }),
  ),
  errorCount: z.number().int(),
  changeCount: z.number().int(),
  callback: z.object({
    status: z.enum(["sending", "pending", "delivered", "failed"]),
    attempts: z.number().int(),
    firstAttemptAt: z.string(),
    nextAttemptAt: z.string().nullable(),
    lastError: z.string().nullable(),
    deliveredAt: z.string().nullable(),
  }).nullable().openapi({
    description: "The host completion callback (AUTOCOMM_HOST_CALLBACK_URL); null: none attempted",
  }),
}).openapi("RunDetail");

export const RunError = z.object({
  line: z.number().int(),
  field: z.string(),
  code: z.string(),
  message: z.string(),
}).openapi("RunError");

export const Change = z.object({
  table: z.string(),
  action: z.string().openapi({
    description: "insert, update, remove, inactivate, reactivate, drop",
  }),
  key: z.record(z.string(), z.unknown()),
  changes: z.record(z.string(), z.unknown()).nullable().openapi({
    description: "For updates: field → [old, new]",
  }),
}).openapi("Change");

export const CatalogFieldSchema = z.object({
  name: z.string(),
  type: z.string(),
  maxLength: z.number().int().nullable(),
  codes: z.array(z.string()).nullable(),
  requiredToCreate: z.boolean(),
  key: z.boolean(),
  personal: z.boolean(),
  extension: z.boolean(),
  description: z.string(),
}).openapi("CatalogField");

export const CatalogSchema = z.object({
  table: z.string(),
  label: z.string(),
  mode: z.string().nullable(),
  rowDescription: z.string(),
  key: z.array(z.string()),
  fields: z.array(CatalogFieldSchema),
}).openapi("Catalog");

/** Paging of list endpoints. */
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(50).openapi({
    param: { name: "limit", in: "query" },
    type: "integer",
  }),
  offset: z.coerce.number().int().min(0).default(0).openapi({
    param: { name: "offset", in: "query" },
    type: "integer",
  }),
});

/** An OpenAPI response whose body is JSON of `schema`. */
export const jsonBody = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

/** The body of one page of a list endpoint: the total, the paging and the items under `name`. */
export function pageOf<N extends string, T extends z.ZodType>(name: N, item: T) {
  return z.object({
    total: z.number().int(),
    limit: z.number().int(),
    offset: z.number().int(),
  }).extend({ [name]: z.array(item) } as { [K in N]: z.ZodArray<T> });
}

/** `{id}` in a path. */
export const IdParam = z.object({
  id: z.string().regex(/^\d{1,15}$/, "expected a positive whole number").transform(Number).openapi({
    param: { name: "id", in: "path", required: true },
    type: "integer",
    example: 1,
  }),
});

export const TableParam = z.object({
  table: z.enum(IMPORT_TABLES).openapi({ param: { name: "table", in: "path", required: true } }),
});

export const SchoolQuery = z.coerce.number().int().min(0).optional().openapi({
  param: { name: "school", in: "query" },
  type: "integer",
  description: "School_Number",
});

export const RoleEnum = z.enum(ROLES);

/** How far a running run has got (null when it is not running or has not reported yet). */
export const RunProgressSchema = z.object({
  stage: z.enum(["fetching", "reading", "checking", "applying", "reporting"]),
  rowsRead: z.number().int(),
  bytesRead: z.number().int(),
  fileSize: z.number().int().nullable(),
  percent: z.number().int().nullable().openapi({
    description: "Share of the file read, whole percent; null while the size is not known",
  }),
  at: z.string().openapi({ description: "When the import process measured it" }),
}).openapi("RunProgress");

/** A run as the runs list gives it: with its record's name and, while running, its progress. */
export const RunListed = RunSchema.extend({
  recordName: z.string().nullable().openapi({ description: "null: a one-off or deleted record" }),
  progress: RunProgressSchema.nullable(),
}).openapi("RunListed");

const queryText = (name: string, description: string) =>
  z.string().optional().openapi({ param: { name, in: "query" }, description });

/** The filters of `GET /runs`, as text; their rules are the runs overview page's. */
export const RunFilterParams = z.object({
  status: z.union([z.string(), z.array(z.string())]).optional().openapi({
    param: { name: "status", in: "query", style: "form", explode: true },
    description:
      "Statuses, repeated (status=failed&status=held) or comma-separated: queued, running, waiting, succeeded, succeeded_with_errors, rejected, failed, held, approved, discarded, no_file, empty, interrupted, preview",
  }),
  table: queryText("table", "students, teachers, courses, sections, schedules or attendance"),
  school: queryText("school", "School_Number (0: District Office)"),
  record: queryText("record", "A record's id"),
  recordId: queryText("recordId", "A record's id (the same as record)"),
  trigger: queryText("trigger", "schedule, run_now, webhook, api, cli or approval"),
  from: queryText(
    "from",
    "Runs queued at or after: a local date (YYYY-MM-DD, the service's time zone), a local time (YYYY-MM-DDTHH:MM) or an ISO instant",
  ),
  to: queryText(
    "to",
    "Runs queued before: a local date (that whole day included), a local time or an ISO instant",
  ),
});

const Mention = z.object({
  recordId: z.number().int(),
  name: z.string(),
  schoolId: z.number().int(),
  runs: z.number().int(),
  lastRunId: z.number().int(),
});

/** The last 24 hours at a glance. */
export const RunsSummary = z.object({
  from: z.string(),
  to: z.string(),
  byStatus: z.record(z.string(), z.number().int()).openapi({
    description: "Runs by status (previews left out)",
  }),
  failed: z.array(Mention).openapi({
    description:
      "Records with a run that failed, was rejected, interrupted, found no file or an empty one",
  }),
  held: z.array(Mention).openapi({ description: "Records with a run held for approval" }),
  missed: z.array(z.object({
    recordId: z.number().int(),
    name: z.string(),
    schoolId: z.number().int(),
    slotKey: z.string().openapi({ example: "12@2026-12-06T02:30" }),
    at: z.string(),
  })).openapi({
    description:
      "Scheduled slots (execution on) of the window, at least 5 minutes old, that no run was claimed for",
  }),
  rows: z.object({
    inserted: z.number().int(),
    updated: z.number().int(),
    removed: z.number().int(),
    rejected: z.number().int(),
  }).openapi({ description: "Of the committed runs (succeeded, succeeded with errors)" }),
}).openapi("RunsSummary");

/** A run's progress as the progress endpoints answer it. */
export const RunProgressAnswer = z.object({
  runId: z.number().int(),
  status: z.string(),
  statusLabel: z.string(),
  active: z.boolean().openapi({ description: "The run may still change by itself" }),
  progress: RunProgressSchema.nullable(),
  stageLabel: z.string().nullable(),
  short: z.string().openapi({ example: "41 %" }),
  bytesText: z.string(),
}).openapi("RunProgressAnswer");
