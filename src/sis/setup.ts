/**
 * School setup: schools, terms, periods, days, attendance codes, attendance
 * recording method, and extension tables. Loaded from a JSON file (CLI, API,
 * demo seed), never by AutoComm imports. A file is checked whole before anything
 * is written, and a listed school's terms, periods, days and codes become exactly
 * what the file lists, so loading the same file twice gives the same state.
 */
import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client.ts";
import {
  attendanceCodes,
  days,
  extensionFields,
  extensionTables,
  periods,
  schools,
  terms,
} from "./schema.ts";
import { issueMessage } from "../util/echo.ts";
import { DISTRICT_OFFICE, IMPORT_TABLES, type ImportTable } from "./catalog.ts";

export { DISTRICT_OFFICE };

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "expected a date as YYYY-MM-DD").refine(
  (s) =>
    !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`)
      .toISOString().startsWith(s),
  "not a real date",
);

const abbreviation = (max: number) =>
  z.string().trim().min(1, "must not be empty").max(max, `at most ${max} characters`).regex(
    /^[A-Za-z0-9]+$/,
    "letters and digits only",
  );

function unique<T>(key: (t: T) => string | number, what: string) {
  return (items: readonly T[], ctx: z.RefinementCtx) => {
    const seen = new Set<string | number>();
    items.forEach((item, i) => {
      const k = key(item);
      if (seen.has(k)) {
        ctx.addIssue({ code: "custom", message: `duplicate ${what} ${k}`, path: [i] });
      }
      seen.add(k);
    });
  };
}

const School = z.object({
  schoolNumber: z.number().int().min(0).max(2_147_483_647),
  name: z.string().trim().min(1, "must not be empty").max(100),
  attendanceMethod: z.enum(["daily", "meeting", "both"]).default("daily"),
  terms: z.array(
    z.object({
      id: z.number().int().min(0).max(2_147_483_647),
      abbreviation: z.string().trim().min(1).max(20),
      firstDay: isoDate,
      lastDay: isoDate,
    }).refine((t) => t.firstDay <= t.lastDay, {
      message: "lastDay is before firstDay",
      path: ["lastDay"],
    }),
  ).default([]).superRefine(unique((t) => t.id, "term id")),
  periods: z.array(z.object({ abbreviation: abbreviation(3), sortOrder: z.number().int() }))
    .default([]).superRefine(unique((p) => p.abbreviation.toLowerCase(), "period")),
  days: z.array(z.object({ abbreviation: abbreviation(10), sortOrder: z.number().int() }))
    .default([]).superRefine(unique((d) => d.abbreviation.toLowerCase(), "day")),
  attendanceCodes: z.array(z.object({
    id: z.number().int().min(0).max(2_147_483_647),
    code: z.string().trim().min(1).max(10),
    description: z.string().max(100).default(""),
    presence: z.enum(["present", "absent", "tardy", "excused"]).default("present"),
  })).default([]).superRefine((items, ctx) => {
    unique((c: { id: number }) => c.id, "attendance code id")(items, ctx);
    unique((c: { code: string }) => c.code.toUpperCase(), "attendance code")(items, ctx);
  }),
});

const identifier = z.string().regex(
  /^[A-Za-z_][A-Za-z0-9_]{0,62}$/,
  "letters, digits and _ only, starting with a letter",
);

const Extension = z.object({
  table: z.enum(IMPORT_TABLES),
  name: identifier,
  fields: z.array(z.object({
    name: identifier,
    type: z.enum(["text", "integer", "decimal", "date", "boolean"]),
    maxLength: z.number().int().min(1).max(4000).optional(),
    description: z.string().max(200).optional(),
  })).min(1).superRefine(unique((f) => f.name.toLowerCase(), "field")),
});

/** The JSON format of `deno task autocomm setup load FILE`. */
export const SetupFile = z.object({
  schools: z.array(School).default([]).superRefine(unique((s) => s.schoolNumber, "schoolNumber")),
  extensions: z.array(Extension).default([]).superRefine(
    unique((e) => e.name.toLowerCase(), "extension table"),
  ),
}).strict();

/** A parsed setup file. */
export type SetupFile = z.infer<typeof SetupFile>;
/** One school of a setup file. */
export type SchoolSetup = z.infer<typeof School>;

/** Raised for a setup file that cannot be loaded; `path` is the JSON path of the problem. */
export class SetupError extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = "SetupError";
    this.path = path;
  }
}

function jsonPath(path: readonly PropertyKey[]): string {
  return "$" + path.map((p) => typeof p === "number" ? `[${p}]` : `.${String(p)}`).join("");
}

/** Checks a setup document; throws {@linkcode SetupError} at the first problem. */
export function parseSetup(input: unknown): SetupFile {
  const result = SetupFile.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new SetupError(jsonPath(issue.path), issueMessage(issue));
  }
  return result.data;
}

/** Loads a checked setup document in one transaction. */
export async function loadSetup(db: Db, input: unknown): Promise<SetupFile> {
  const setup = parseSetup(input);
  const existing = await db.select({ name: extensionTables.name, base: extensionTables.baseTable })
    .from(extensionTables);
  for (const [i, ext] of setup.extensions.entries()) {
    const other = existing.find((e) =>
      e.name.toLowerCase() === ext.name.toLowerCase() && e.base !== ext.table
    );
    if (other) {
      throw new SetupError(
        `$.extensions[${i}].table`,
        `${ext.name} is already defined on ${other.base}; an extension table belongs to one table`,
      );
    }
  }
  await db.transaction(async (tx) => {
    await ensureDistrictOffice(tx);
    for (const s of setup.schools) {
      await tx.insert(schools).values({
        schoolNumber: s.schoolNumber,
        name: s.name,
        attendanceMethod: s.attendanceMethod,
      }).onConflictDoUpdate({
        target: schools.schoolNumber,
        set: { name: s.name, attendanceMethod: s.attendanceMethod },
      });
      await tx.delete(terms).where(eq(terms.schoolNumber, s.schoolNumber));
      await tx.delete(periods).where(eq(periods.schoolNumber, s.schoolNumber));
      await tx.delete(days).where(eq(days.schoolNumber, s.schoolNumber));
      await tx.delete(attendanceCodes).where(eq(attendanceCodes.schoolNumber, s.schoolNumber));
      if (s.terms.length > 0) {
        await tx.insert(terms).values(s.terms.map((t) => ({
          schoolNumber: s.schoolNumber,
          termId: t.id,
          abbreviation: t.abbreviation,
          firstDay: t.firstDay,
          lastDay: t.lastDay,
        })));
      }
      if (s.periods.length > 0) {
        await tx.insert(periods).values(
          s.periods.map((p) => ({ schoolNumber: s.schoolNumber, ...p })),
        );
      }
      if (s.days.length > 0) {
        await tx.insert(days).values(s.days.map((d) => ({ schoolNumber: s.schoolNumber, ...d })));
      }
      if (s.attendanceCodes.length > 0) {
        await tx.insert(attendanceCodes).values(
          s.attendanceCodes.map((c) => ({ schoolNumber: s.schoolNumber, ...c })),
        );
      }
    }
    for (const ext of setup.extensions) {
      const name = existing.find((e) => e.name.toLowerCase() === ext.name.toLowerCase())?.name ??
        ext.name;
      await tx.insert(extensionTables).values({ name, baseTable: ext.table })
        .onConflictDoNothing();
      await tx.delete(extensionFields).where(eq(extensionFields.extensionTable, name));
      await tx.insert(extensionFields).values(ext.fields.map((f) => ({
        extensionTable: name,
        name: f.name,
        type: f.type,
        maxLength: f.maxLength ?? null,
        description: f.description ?? null,
      })));
    }
  });
  return setup;
}

type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

/** Creates the District Office (School_Number 0) if it is missing. */
export async function ensureDistrictOffice(db: Db | Tx): Promise<void> {
  await db.insert(schools).values({
    schoolNumber: DISTRICT_OFFICE,
    name: "District Office",
    attendanceMethod: "daily",
  }).onConflictDoNothing();
}

/** The whole school setup, in the format of the setup file. */
export async function readSetup(db: Db): Promise<SetupFile> {
  const [s, t, p, d, c, extensions] = await Promise.all([
    db.select().from(schools).orderBy(schools.schoolNumber),
    db.select().from(terms).orderBy(terms.schoolNumber, terms.termId),
    db.select().from(periods).orderBy(periods.schoolNumber, periods.sortOrder),
    db.select().from(days).orderBy(days.schoolNumber, days.sortOrder),
    db.select().from(attendanceCodes).orderBy(attendanceCodes.schoolNumber, attendanceCodes.id),
    readExtensions(db),
  ]);
  return {
    schools: s.map((school) => ({
      schoolNumber: school.schoolNumber,
      name: school.name,
      attendanceMethod: school.attendanceMethod as SchoolSetup["attendanceMethod"],
      terms: t.filter((x) => x.schoolNumber === school.schoolNumber).map((x) => ({
        id: x.termId,
        abbreviation: x.abbreviation,
        firstDay: x.firstDay,
        lastDay: x.lastDay,
      })),
      periods: p.filter((x) => x.schoolNumber === school.schoolNumber).map((x) => ({
        abbreviation: x.abbreviation,
        sortOrder: x.sortOrder,
      })),
      days: d.filter((x) => x.schoolNumber === school.schoolNumber).map((x) => ({
        abbreviation: x.abbreviation,
        sortOrder: x.sortOrder,
      })),
      attendanceCodes: c.filter((x) => x.schoolNumber === school.schoolNumber).map((x) => ({
        id: x.id,
        code: x.code,
        description: x.description,
        presence: x.presence as SchoolSetup["attendanceCodes"][number]["presence"],
      })),
    })),
    extensions,
  };
}

/** The extension tables of the setup (in setup-file and catalog form). */
export async function readExtensions(db: Db): Promise<SetupFile["extensions"]> {
  const [et, ef] = await Promise.all([
    db.select().from(extensionTables).orderBy(sql`lower(${extensionTables.name})`),
    db.select().from(extensionFields).orderBy(extensionFields.name),
  ]);
  return et.map((e) => ({
    table: e.baseTable as ImportTable,
    name: e.name,
    fields: ef.filter((f) => f.extensionTable === e.name).map((f) => ({
      name: f.name,
      type: f.type as "text",
      ...(f.maxLength !== null ? { maxLength: f.maxLength } : {}),
      ...(f.description !== null ? { description: f.description } : {}),
    })),
  }));
}
