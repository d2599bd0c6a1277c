/** Starting a run from a page or the API: the same claim, lease and queue as the scheduler and the webhook. */
import type { Trigger } from "../pipeline/launch.ts";
import { queueRecordRun } from "../pipeline/service.ts";
import { enqueueRun, expireLeases } from "../schedule/claim.ts";
import type { AppDeps } from "./context.ts";

/** Options of {@linkcode startRecordRun}. */
export interface StartRunOptions {
  trigger: Trigger;
  /** Validate only, change nothing. Default false. */
  preview?: boolean;
}

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
  const { db } = deps.database;
  const now = new Date();
  await expireLeases(db, now, { own: deps.queue.pending });
  const runId = await queueRecordRun({ db, config: deps.config }, recordId, {
    trigger: options.trigger,
    preview: options.preview ?? false,
  });
  await enqueueRun({ db, queue: deps.queue, config: deps.config }, runId, now);
  return runId;
}
