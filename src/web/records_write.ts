/** Creating records from the form and the API: duplicates are checked school by school first. */
import type { Db } from "../db/client.ts";
import { checkInput, createRecord, RecordInvalid, type StoredRecord } from "../records/store.ts";
import { listSchools } from "./queries.ts";

/**
 * Creates a record, and with `duplicateToAllSchools` one per school. Every copy is
 * checked in its own school's context before anything is written, and a problem of
 * a copy names its school.
 */
export async function createRecords(
  db: Db,
  input: Record<string, unknown>,
  duplicateToAllSchools: boolean,
): Promise<StoredRecord[]> {
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
