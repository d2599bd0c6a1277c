/** Reading and writing AutoComm records through Drizzle, every write checked by the rules. */
import { and, asc, eq, ne, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { connections, records } from "../db/schema/autocomm.ts";
import { schools } from "../sis/schema.ts";
import { readExtensions } from "../sis/setup.ts";
import {
  checkRecord,
  type FieldProblem,
  type RecordContext,
  type RecordSettings,
} from "./validate.ts";

/** A stored record. */
export type StoredRecord = typeof records.$inferSelect;

/** The input broke a rule; `problems` says which, by field. */
export class RecordInvalid extends Error {
  readonly problems: FieldProblem[];
  constructor(problems: FieldProblem[]) {
    super(problems.map((p) => `${p.field}: ${p.message}`).join("; "));
    this.name = "RecordInvalid";
    this.problems = problems;
  }
}

/** Gathers what the rules need for a record of `schoolId`. */
export async function recordContext(
  db: Db,
  schoolId: number | undefined,
  excludeId?: number,
): Promise<RecordContext> {
  const [school] = schoolId === undefined
    ? []
    : await db.select().from(schools).where(eq(schools.schoolNumber, schoolId));
  const conns = await db.select({ id: connections.id }).from(connections).where(
    eq(connections.allowDownload, true),
  );
  const names = schoolId === undefined
    ? []
    : await db.select({ name: records.name }).from(records).where(
      excludeId === undefined
        ? eq(records.schoolId, schoolId)
        : and(eq(records.schoolId, schoolId), ne(records.id, excludeId)),
    );
  return {
    school: school
      ? { schoolNumber: school.schoolNumber, attendanceMethod: school.attendanceMethod }
      : undefined,
    downloadConnections: conns.map((c) => c.id),
    otherNames: names.map((n) => n.name),
    extensions: await readExtensions(db),
  };
}

function intOf(v: unknown): number | undefined {
  const n = typeof v === "string" ? Number(v) : v;
  return typeof n === "number" && Number.isInteger(n) ? n : undefined;
}

/** Checks an input against the rules, or throws {@linkcode RecordInvalid}. */
export async function checkInput(
  db: Db,
  input: Record<string, unknown>,
  excludeId?: number,
): Promise<RecordSettings> {
  const context = await recordContext(db, intOf(input["schoolId"]), excludeId);
  const checked = checkRecord(input, context);
  if (!checked.ok) throw new RecordInvalid(checked.problems);
  return checked.record;
}

/** Options of {@linkcode createRecord}. */
export interface CreateRecordOptions {
  /** Also create the same record in every other school's context. Default false. */
  duplicateToAllSchools?: boolean;
}

/** Creates a record (and its duplicates); returns the created rows. */
export async function createRecord(
  db: Db,
  input: Record<string, unknown>,
  options: CreateRecordOptions = {},
): Promise<StoredRecord[]> {
  const settings = await checkInput(db, input);
  const targets = [settings.schoolId];
  if (options.duplicateToAllSchools) {
    const all = await db.select({ n: schools.schoolNumber }).from(schools).orderBy(
      schools.schoolNumber,
    );
    for (const s of all) if (s.n !== settings.schoolId && s.n !== 0) targets.push(s.n);
  }
  // Each copy is checked in its own school's context (names, attendance method).
  const rows: RecordSettings[] = [];
  for (const schoolId of targets) {
    rows.push(
      schoolId === settings.schoolId ? settings : await checkInput(db, { ...input, schoolId }),
    );
  }
  const now = new Date().toISOString();
  return await db.insert(records).values(
    rows.map((r) => ({ ...r, createdAt: now, updatedAt: now })),
  )
    .returning();
}

/** Changes a record; the school stays the record's. */
export async function updateRecord(
  db: Db,
  id: number,
  input: Record<string, unknown>,
): Promise<StoredRecord | undefined> {
  const current = await getRecord(db, id);
  if (!current) return undefined;
  const settings = await checkInput(db, { ...input, schoolId: current.schoolId }, id);
  const [row] = await db.update(records).set({ ...settings, updatedAt: new Date().toISOString() })
    .where(eq(records.id, id)).returning();
  return row;
}

/** Deletes a record; its runs stay as history. True when it existed. */
export async function deleteRecord(db: Db, id: number): Promise<boolean> {
  const gone = await db.delete(records).where(eq(records.id, id)).returning({ id: records.id });
  return gone.length > 0;
}

export async function getRecord(db: Db, id: number): Promise<StoredRecord | undefined> {
  const [row] = await db.select().from(records).where(eq(records.id, id));
  return row;
}

/** A school's record by name (case-insensitive). */
export async function findRecordByName(
  db: Db,
  schoolId: number,
  name: string,
): Promise<StoredRecord | undefined> {
  const [row] = await db.select().from(records).where(
    and(eq(records.schoolId, schoolId), sql`lower(${records.name}) = ${name.toLowerCase()}`),
  );
  return row;
}

/** A school's records: by sort order, then those without one alphabetically by name. */
export async function listRecords(db: Db, schoolId?: number): Promise<StoredRecord[]> {
  const q = db.select().from(records);
  return await (schoolId === undefined ? q : q.where(eq(records.schoolId, schoolId))).orderBy(
    asc(records.schoolId),
    sql`${records.sortOrder} IS NULL`,
    asc(records.sortOrder),
    sql`lower(${records.name})`,
  );
}
