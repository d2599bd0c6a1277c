/**
 * A second (or third) service process for tests: it opens the database the
 * environment names, exactly as `src/main.ts` does, and calls the real minute
 * tick for the instants given on the command line, then waits for the runs it
 * claimed to finish and prints what each tick did as one JSON line.
 *
 *   deno run --allow-all tests/support/tick_process.ts [--start-at <epoch ms>] <ISO instant>…
 *
 * `--start-at` makes several processes begin ticking at the same moment.
 */
import { loadConfig } from "../../src/config.ts";
import { openDatabase } from "../../src/db/client.ts";
import { migrateDatabase } from "../../src/db/migrate.ts";
import { createLogger } from "../../src/log.ts";
import { sendCompletionReport } from "../../src/mail/completion.ts";
import { createMailer } from "../../src/mail/mailer.ts";
import { createRunQueue } from "../../src/pipeline/queue.ts";
import { createScheduleState, tick } from "../../src/schedule/tick.ts";

const args = [...Deno.args];
let startAt: number | undefined;
const flag = args.indexOf("--start-at");
if (flag >= 0) {
  startAt = Number(args[flag + 1]);
  args.splice(flag, 2);
}
const instants = args.map((a) => new Date(a));
if (instants.some((d) => Number.isNaN(d.getTime()))) {
  console.error("Usage: tick_process.ts [--start-at <epoch ms>] <ISO instant>…");
  Deno.exit(64);
}

const config = loadConfig();
const logger = createLogger(config.logLevel);
const database = await openDatabase(config);
await migrateDatabase(database);
const mailer = createMailer(config, { logger });
const db = database.db;
const queue = createRunQueue({ db, config }, {
  logger,
  onFinished: async (runId) => {
    await sendCompletionReport({ db, config, logger, mailer }, runId);
  },
});
// The instants jump hours ahead of the real clock, while a queued run's lease is
// liveness in real time; so this process leases no queued runs (a queue without
// `pending` opts out), and a peer's jump cannot expire a run still in our queue.
const unleasedQueue = {
  enqueue: (id: number) => queue.enqueue(id),
  idle: () => queue.idle(),
  size: 0,
};
const deps = { db, config, logger, mailer, queue: unleasedQueue };
const state = createScheduleState();

if (startAt !== undefined) {
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now())));
}
const ticks = [];
for (const instant of instants) {
  const result = await tick(deps, instant, { state });
  await result.reports;
  ticks.push({
    instant: instant.toISOString(),
    wall: result.wall,
    hourly: result.hourly !== null,
    claimed: result.claimed,
    taken: result.taken,
    busy: result.busy,
  });
}
await queue.close();
console.log(JSON.stringify({ pid: Deno.pid, ticks }));
mailer.close();
database.close();
