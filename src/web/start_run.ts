/**
 * Starting and approving runs from a page or the API: the service's one start-a-run
 * function (`startRecordRun` of `pipeline/service.ts`, shared with the webhook) and
 * its approval, with the app's database and run queue.
 */
import {
  approveRun,
  startRecordRun as startRun,
  type StartRunOptions,
} from "../pipeline/service.ts";
import type { AppDeps } from "./context.ts";

export type { StartRunOptions };

/**
 * Queues a run of a stored record and hands it to the run queue; returns its id.
 * A run whose process died (lease expired) is marked interrupted first, so it no
 * longer blocks the record. A record with an active run throws `RunInProgress`.
 */
export async function startRecordRun(
  deps: AppDeps,
  recordId: number,
  options: StartRunOptions,
): Promise<number> {
  return await startRun(
    { db: deps.database.db, config: deps.config, queue: deps.queue },
    recordId,
    options,
  );
}

/**
 * Approves a held run: its approval run goes through the service's queue, one run at
 * a time, and the record's one-active-run claim keeps a second approval from
 * applying the file twice. Resolves when the approval run has ended; returns its id.
 */
export async function approveHeldRun(deps: AppDeps, runId: number): Promise<number> {
  return await approveRun({ db: deps.database.db, config: deps.config }, runId, {
    execute: (approvalRunId) => deps.queue.enqueue(approvalRunId),
  });
}
