/** Creating records from the form and the API: duplicates are checked school by school first. */
import type { Db } from "../db/client.ts";
import { checkInput, createRecord, RecordInvalid, type StoredRecord } from "../records/store.ts";
import { listSchools } from "./queries.ts";

/** Options of {@linkcode createRecords}. */
export interface CreateRecordsOptions {
  /** The session's school (undefined or 0: District Office context, any school). */
  schoolScope?: number | undefined;
}

/**
 * Creates a record, and with `duplicateToAllSchools` one per school. Every copy is
 * checked in its own school's context before anything is written, and a problem of
 * a copy names its school. A session confined to a school (`schoolScope` ≠ 0)
 * creates only for that school and never duplicates: a field error otherwise.
 */
export async function createRecords(
  db: Db,
  input: Record<string, unknown>,
  duplicateToAllSchools: boolean,
  options: CreateRecordsOptions = {},
): Promise<StoredRecord[]> {
  const scope = options.schoolScope;
  if (scope !== undefined && scope !== 0) {
    if (Number(input["schoolId"]) !== scope) {
      throw new RecordInvalid([{
        field: "schoolId",
        message: `You can create records only for school ${scope}, the school you are signed in to`,
      }]);
    }
    if (duplicateToAllSchools) {
      throw new RecordInvalid([{
        field: "duplicateToAllSchools",
        message: "Only District Office context can copy a record to every school",
      }]);
    }
  }
  const settings = await checkInput(db, input);
  if (duplicateToAllSchools) {
    const problems = [];
    for (const school of await listSchools(db)) {
      if (school.schoolNumber === 0 || school.schoolNumber === settings.schoolId) continue;
      try {
        await checkInput(db, { ...input, schoolId: school.schoolNumber });
      } catch (error) {
        if (!(error instanceof RecordInvalid)) throw error;
        for (const p of error.problems) {
          problems.push({
            field: p.field,
            message:
              `In ${school.name} (${school.schoolNumber}), where the copy would go: ${p.message}`,
          });
        }
      }
    }
    if (problems.length > 0) throw new RecordInvalid(problems);
  }
  return await createRecord(db, input, { duplicateToAllSchools });
}
