/**
 * The school context that sticks: which school's records a person sees when no
 * `?school=` names one — right after sign-in, or following a link to `/`.
 *
 * Rules:
 * - A session fixed to a school (`schoolId` ≠ 0, e.g. a school's own sign-in) always
 *   lands on that school.
 * - A District Office session (`schoolId` 0) lands on the school its user last chose
 *   on the list page (remembered per user, across sessions), else on the first school
 *   (lowest School_Number) that has records, else on the District Office.
 * - Only a choice made with a session is remembered (API tokens have no person).
 * - Remembering is a convenience: when it cannot be saved (the database is busy), the
 *   list is shown all the same.
 */
import { asc, eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { records, userSchools } from "../db/schema/autocomm.ts";
import { schools } from "../sis/schema.ts";
import type { Identity } from "./context.ts";

/** Who is asking, as far as the landing school goes. */
export type ContextSubject = Pick<Identity, "user" | "schoolId" | "via">;

/**
 * Remembers the school `subject` chose (District Office sessions only; others are
 * fixed). It writes only when the choice changed, so viewing a list again while an
 * import holds the write lock does not wait for it.
 */
export async function rememberSchool(
  db: Db,
  subject: ContextSubject,
  schoolId: number,
): Promise<void> {
  if (subject.via !== "session" || subject.schoolId !== 0) return;
  if (await rememberedSchool(db, subject.user) === schoolId) return;
  const updatedAt = new Date().toISOString();
  await db.insert(userSchools).values({ user: subject.user, schoolId, updatedAt })
    .onConflictDoUpdate({ target: userSchools.user, set: { schoolId, updatedAt } });
}

/** The school `user` last chose, if any. */
export async function rememberedSchool(db: Db, user: string): Promise<number | undefined> {
  const [row] = await db.select({ schoolId: userSchools.schoolId }).from(userSchools)
    .where(eq(userSchools.user, user));
  return row?.schoolId;
}

/** The school a request without `?school=` shows (see the module's rules). */
export async function landingSchool(db: Db, subject: ContextSubject): Promise<number> {
  if (subject.schoolId !== 0) return subject.schoolId;
  const remembered = subject.via === "session"
    ? await rememberedSchool(db, subject.user)
    : undefined;
  if (remembered !== undefined) {
    const [known] = await db.select({ n: schools.schoolNumber }).from(schools)
      .where(eq(schools.schoolNumber, remembered));
    if (known) return remembered;
  }
  const [first] = await db.select({ schoolId: records.schoolId }).from(records)
    .innerJoin(schools, eq(schools.schoolNumber, records.schoolId))
    .orderBy(asc(records.schoolId)).limit(1);
  return first?.schoolId ?? 0;
}
