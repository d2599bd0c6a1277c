/**
 * No file outside the import root is ever read, even while someone swaps symbolic
 * links under a record's path: the path is resolved and opened once, the opened file
 * is checked to be the file inside the root, and its size, hash and bytes come from
 * that one handle.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { eq } from "drizzle-orm";
import { runs as runsTable } from "../../src/db/schema/autocomm.ts";
import { startTestService, studentsRecord, type TestService, tsv } from "../support/web.ts";

/** Teachers in the import root, and the one whose file lies outside it. */
const INSIDE = tsv([["T1", "Ada", "Lovelace"]]);
const OUTSIDE = tsv([["T987654", "Out", "Side"]]);
const OUTSIDE_NUMBER = "T987654";
/** Run Nows per race: before the file was opened once, about a quarter read the outside file. */
const RUNS = 300;

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** A district with a file inside the import root (`t/in.txt`) and one outside it. */
async function district() {
  const s = await startTestService();
  const root = s.config.importRoot;
  const outsideDir = `${s.dir}/outside`;
  await Deno.mkdir(outsideDir);
  await Deno.mkdir(`${root}/t`);
  await Deno.writeTextFile(`${root}/t/in.txt`, INSIDE);
  await Deno.writeTextFile(`${outsideDir}/race.txt`, OUTSIDE);
  return { s, root, outsideDir };
}

/** A Teachers record of school 100 reading `path`, with no minimum file age. */
async function teachersRecord(
  s: TestService,
  path: string,
  over: Record<string, unknown> = {},
): Promise<number> {
  const res = await s.api("/api/v1/records", {
    method: "POST",
    json: studentsRecord({
      name: `Teachers ${path}`,
      table: "teachers",
      path,
      fields: ["TeacherNumber", "First_Name", "Last_Name"],
      minFileAgeSeconds: 0,
      ...over,
    }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()).records[0].id;
}

interface RunView {
  id: number;
  status: string;
  message: string | null;
  file: { name: string | null; size: number | null; sha256: string | null };
  notes: { code: string; message: string }[];
}

/** Run Now through the API; waits for the run queue to execute it. */
async function runNow(s: TestService, recordId: number): Promise<RunView> {
  const res = await s.api(`/api/v1/records/${recordId}/run`, { method: "POST" });
  assert.equal(res.status, 202, await res.clone().text());
  const { runId } = await res.json();
  await s.queue.idle();
  const run = await s.api(`/api/v1/runs/${runId}`);
  assert.equal(run.status, 200);
  assert.match(run.headers.get("content-type") ?? "", /application\/json/);
  return await run.json();
}

/** Teacher numbers in the SIS. */
async function teacherNumbers(s: TestService): Promise<string[]> {
  const res = await s.api("/api/v1/sis/teachers?limit=1000");
  assert.equal(res.status, 200);
  const body = await res.json();
  return body.rows.map((r: Record<string, unknown>) => String(r["TeacherNumber"]));
}

/**
 * A process that swaps symbolic links in a tight loop until `stop` exists: each swap
 * creates a link to the next target under a temporary name and renames it onto
 * `link`, or (`directory`) moves a directory away and puts a link in its place, then
 * back, as fast as it can; it prints how many swaps it made, and in how long.
 */
function startSwapper(
  mode: "file" | "directory",
  paths: { link: string; inside: string; outside: string; stop: string },
) {
  const code = `
    const [mode, link, inside, outside, stop] = Deno.args;
    const tmp = link + ".swap";
    const away = link + ".away";
    let swaps = 0;
    const start = performance.now();
    for (;;) {
      if (mode === "file") {
        Deno.symlinkSync(swaps % 2 === 0 ? inside : outside, tmp);
        Deno.renameSync(tmp, link);
      } else if (swaps % 2 === 0) {
        Deno.renameSync(link, away);
        Deno.symlinkSync(outside, link);
      } else {
        Deno.removeSync(link);
        Deno.renameSync(away, link);
      }
      swaps++;
      // After an even number of swaps the directory is back in its place.
      if (swaps % 64 === 0) {
        try {
          Deno.statSync(stop);
          break;
        } catch (e) {
          if (!(e instanceof Deno.errors.NotFound)) throw e;
        }
      }
    }
    console.log(JSON.stringify({ swaps, ms: performance.now() - start }));
  `;
  return new Deno.Command(Deno.execPath(), {
    args: ["eval", code, mode, paths.link, paths.inside, paths.outside, paths.stop],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function stopSwapper(child: Deno.ChildProcess, stop: string) {
  await Deno.writeTextFile(stop, "");
  const out = await child.output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout)) as { swaps: number; ms: number };
}

/**
 * Runs the record `count` times while a swapper changes `paths.link` (see
 * {@linkcode startSwapper}); checks the links really changed faster than every 0.5 ms.
 */
async function runsWhileSwapping(
  s: TestService,
  recordId: number,
  swap: { mode: "file" | "directory"; count: number } & Parameters<typeof startSwapper>[1],
): Promise<RunView[]> {
  const swapper = startSwapper(swap.mode, swap);
  const runs: RunView[] = [];
  let swapped: { swaps: number; ms: number };
  try {
    while ((await Deno.lstat(swap.link).catch(() => null)) === null) {
      await new Promise((r) => setTimeout(r, 5));
    }
    for (let i = 0; i < swap.count; i++) runs.push(await runNow(s, recordId));
  } finally {
    swapped = await stopSwapper(swapper, swap.stop);
  }
  assert.ok(swapped.swaps >= 2 * swapped.ms, JSON.stringify(swapped));
  return runs;
}

/** Every run read the inside file or was refused; the outside teacher never arrived. */
async function assertNothingOutsideRead(
  s: TestService,
  runs: RunView[],
  refusals: RegExp,
): Promise<void> {
  const wrong = runs.filter((run) =>
    run.status === "succeeded"
      ? run.file.sha256 !== sha256(INSIDE) || run.file.size !== INSIDE.length
      : !refusals.test(run.message ?? "") || run.file.sha256 !== null ||
        (run.message ?? "").includes("outside/")
  );
  const outside = runs.filter((run) => run.file.sha256 === sha256(OUTSIDE)).length;
  assert.deepEqual(
    wrong.slice(0, 3).map((run) => `run ${run.id}: ${run.status} ${run.message}`),
    [],
    `${wrong.length} of ${runs.length} runs went wrong, ${outside} imported the outside file`,
  );
  const teachers = await teacherNumbers(s);
  assert.ok(!teachers.includes(OUTSIDE_NUMBER), "the outside file's teacher was imported");
  assert.deepEqual(teachers, ["T1"]);
}

Deno.test("a record path swapped between a link inside the import root and one outside never imports the outside file", async () => {
  const { s, root, outsideDir } = await district();
  const stop = `${s.dir}/stop-swapping`;
  try {
    const id = await teachersRecord(s, "t\\race.txt");
    const link = `${root}/t/race.txt`;
    const runs = await runsWhileSwapping(s, id, {
      mode: "file",
      count: RUNS,
      link,
      inside: `${root}/t/in.txt`,
      outside: `${outsideDir}/race.txt`,
      stop,
    });
    await assertNothingOutsideRead(
      s,
      runs,
      /^Cannot read the file t\\race\.txt: it leads outside the import folder/,
    );
    const statuses = new Set(runs.map((r) => r.status));
    assert.deepEqual([...statuses].sort(), ["rejected", "succeeded"], "both links were seen");
  } finally {
    await s.close();
  }
});

Deno.test("a directory of a record path swapped for a link outside the import root never imports the outside file", async () => {
  const { s, root, outsideDir } = await district();
  const stop = `${s.dir}/stop-swapping`;
  try {
    await Deno.mkdir(`${root}/d`);
    await Deno.writeTextFile(`${root}/d/race.txt`, INSIDE);
    const id = await teachersRecord(s, "d/race.txt");
    const runs = await runsWhileSwapping(s, id, {
      mode: "directory",
      count: RUNS,
      link: `${root}/d`,
      inside: "",
      outside: outsideDir,
      stop,
    });
    // While the directory is moved away there is no file; while the link is there it
    // leads outside; a swap between resolving and opening is refused.
    await assertNothingOutsideRead(
      s,
      runs,
      /^(There is no file at d\/race\.txt|Cannot read the file d\/race\.txt: (it leads outside the import folder|it changed while it was opened))/,
    );
    assert.ok(runs.some((r) => r.status === "succeeded"), "the inside file was read");
  } finally {
    await s.close();
  }
});

Deno.test("a held run of a path swapped between links keeps a copy of the file it read, never of the outside file", async () => {
  const { s, root, outsideDir } = await district();
  const stop = `${s.dir}/stop-swapping`;
  try {
    // 20 teachers, of whom the inside file lists only T1: synchronizing it would
    // remove 19, past the removal limit, so each run that reads it is held.
    const twenty = Array.from({ length: 20 }, (_, i) => [`T${i + 1}`, "A", "B"]);
    await s.writeImport("seed.txt", tsv(twenty));
    assert.equal((await runNow(s, await teachersRecord(s, "seed.txt"))).status, "succeeded");
    const id = await teachersRecord(s, "t/race.txt", { synchronize: true });
    const link = `${root}/t/race.txt`;
    const runs = await runsWhileSwapping(s, id, {
      mode: "file",
      count: RUNS / 3,
      link,
      inside: `${root}/t/in.txt`,
      outside: `${outsideDir}/race.txt`,
      stop,
    });
    const held = runs.filter((r) => r.status === "held");
    assert.ok(held.length > 0, "no run was held");
    const kept: string[] = [];
    for (const run of held) {
      const [row] = await s.database.db.select({ path: runsTable.heldPath }).from(runsTable)
        .where(eq(runsTable.id, run.id));
      kept.push(await Deno.readTextFile(row!.path!));
    }
    assert.deepEqual(
      kept.filter((text) => text !== INSIDE).length,
      0,
      `${
        kept.filter((text) => text !== INSIDE).length
      } of ${held.length} held copies are not the file read`,
    );
    assert.deepEqual(runs.filter((r) => r.status !== "held" && r.status !== "rejected"), []);
    assert.deepEqual(held.filter((r) => r.file.sha256 !== sha256(INSIDE)), []);
  } finally {
    await s.close();
  }
});

Deno.test("a record path that is a link to a file outside the import root is refused", async () => {
  const { s, root, outsideDir } = await district();
  try {
    await Deno.symlink(`${outsideDir}/race.txt`, `${root}/t/out.txt`);
    const id = await teachersRecord(s, "t/out.txt");
    const run = await runNow(s, id);
    assert.equal(run.status, "rejected");
    assert.equal(
      run.message,
      "Cannot read the file t/out.txt: it leads outside the import folder; nothing was read",
    );
    assert.equal(run.file.sha256, null);
    assert.deepEqual(await teacherNumbers(s), []);
  } finally {
    await s.close();
  }
});

Deno.test("a record path through a directory link that leads outside the import root is refused", async () => {
  const { s, root, outsideDir } = await district();
  try {
    await Deno.symlink(outsideDir, `${root}/elsewhere`);
    const id = await teachersRecord(s, "elsewhere\\race.txt");
    const run = await runNow(s, id);
    assert.equal(run.status, "rejected");
    assert.equal(
      run.message,
      "Cannot read the file elsewhere\\race.txt: it leads outside the import folder; nothing was read",
    );
    assert.deepEqual(await teacherNumbers(s), []);
  } finally {
    await s.close();
  }
});

Deno.test("a link inside the import root to another file inside it is read, under the record's file name", async () => {
  const { s, root } = await district();
  try {
    await Deno.symlink("in.txt", `${root}/t/current.txt`);
    const id = await teachersRecord(s, "t/current.txt");
    const run = await runNow(s, id);
    assert.equal(run.status, "succeeded", run.message ?? "");
    assert.equal(run.file.name, "current.txt");
    assert.equal(run.file.sha256, sha256(INSIDE));
    assert.deepEqual(run.notes, []);
    assert.deepEqual(await teacherNumbers(s), ["T1"]);
  } finally {
    await s.close();
  }
});

Deno.test("a file with more than one hard link is read with a note that its other names cannot be checked", async () => {
  const { s, root } = await district();
  try {
    await Deno.link(`${root}/t/in.txt`, `${root}/t/also.txt`);
    const id = await teachersRecord(s, "t/in.txt");
    const run = await runNow(s, id);
    assert.equal(run.status, "succeeded", run.message ?? "");
    assert.deepEqual(run.notes, [{
      code: "hard_linked",
      message:
        "t/in.txt has 2 hard links: AutoComm cannot tell whether another name of the same file lies outside the import folder",
      line: null,
    }]);
    assert.deepEqual(await teacherNumbers(s), ["T1"]);
  } finally {
    await s.close();
  }
});

Deno.test("a named pipe at a record path ends the run no_file without waiting for a writer", async () => {
  const { s, root } = await district();
  try {
    const made = await new Deno.Command("mkfifo", { args: [`${root}/t/pipe.txt`] }).output();
    assert.equal(made.code, 0, new TextDecoder().decode(made.stderr));
    const id = await teachersRecord(s, "t/pipe.txt");
    const run = await runNow(s, id);
    assert.equal(run.status, "no_file");
    assert.equal(run.message, "t/pipe.txt is not a file");
  } finally {
    await s.close();
  }
});
