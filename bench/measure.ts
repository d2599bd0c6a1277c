/**
 * Runs a command as a subprocess and measures it as a whole: wall time from spawn to
 * exit, and memory of its whole process tree, sampled from /proc every 20 ms — the
 * peak of any single process (VmHWM, the kernel's own high-water mark, so short
 * spikes between samples are not missed) and the peak of the tree's summed VmRSS.
 */

/** What one measured subprocess did. */
export interface Measured {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  seconds: number;
  /** Largest peak RSS (VmHWM) of any single process of the tree, in MB. */
  peakProcessMb: number;
  /** Largest sum of VmRSS over the tree at one sample, in MB. */
  peakTreeMb: number;
  /** Peak RSS of each process seen, by pid, with its command line. */
  processes: { pid: number; command: string; peakMb: number }[];
}

/** Options of {@linkcode measure}. */
export interface MeasureOptions {
  env?: Record<string, string>;
  cwd?: string;
  stdin?: string;
  /** Milliseconds between samples; default 20. */
  intervalMs?: number;
}

function readText(path: string): string | null {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return null;
  }
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: Iterable<Deno.DirEntry>;
  try {
    tasks = Deno.readDirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    const text = readText(`/proc/${pid}/task/${t.name}/children`);
    if (!text) continue;
    for (const c of text.trim().split(/\s+/)) if (c !== "") out.push(Number(c));
  }
  return out;
}

/** The pid and all its descendants. */
export function processTree(pid: number): number[] {
  const all: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift()!;
    all.push(p);
    queue.push(...childrenOf(p));
  }
  return all;
}

function statusKb(text: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
  return m ? Number(m[1]) : 0;
}

/** Runs a command to its end and measures it. */
export async function measure(
  command: string,
  args: readonly string[],
  options: MeasureOptions = {},
): Promise<Measured> {
  const peaks = new Map<number, { command: string; hwmKb: number }>();
  let treeKb = 0;
  const started = performance.now();
  const child = new Deno.Command(command, {
    args: [...args],
    ...(options.env ? { env: options.env, clearEnv: true } : {}),
    ...(options.cwd ? { cwd: options.cwd } : {}),
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const sample = () => {
    let sum = 0;
    for (const pid of processTree(child.pid)) {
      const status = readText(`/proc/${pid}/status`);
      if (!status) continue;
      sum += statusKb(status, "VmRSS");
      const hwm = statusKb(status, "VmHWM");
      let seen = peaks.get(pid);
      if (!seen) {
        seen = { command: "", hwmKb: 0 };
        peaks.set(pid, seen);
      }
      seen.hwmKb = Math.max(seen.hwmKb, hwm);
      if (seen.command === "") {
        // Read until it is set: right after fork the command line can still be empty.
        seen.command = (readText(`/proc/${pid}/cmdline`) ?? "").split("\0").filter((s) => s !== "")
          .join(" ");
      }
    }
    treeKb = Math.max(treeKb, sum);
  };
  const timer = setInterval(sample, options.intervalMs ?? 20);
  sample();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const output = await child.output();
  const seconds = (performance.now() - started) / 1000;
  clearInterval(timer);
  const decoder = new TextDecoder();
  const processes = [...peaks.entries()].map(([pid, p]) => ({
    pid,
    command: p.command,
    peakMb: p.hwmKb / 1024,
  }));
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
    seconds,
    peakProcessMb: Math.max(0, ...processes.map((p) => p.peakMb)),
    peakTreeMb: treeKb / 1024,
    processes,
  };
}

/**
 * The peak RSS of a long-lived process over a stretch of time: its high-water mark
 * (`VmHWM`) is reset when sampling starts (`/proc/PID/clear_refs`), then read every
 * `intervalMs` and once more at {@linkcode PeakSampler.stop}. `pidOf` names the
 * process at each sample (a warm import process may be replaced meanwhile).
 */
export class PeakSampler {
  readonly #pidOf: () => number | undefined;
  readonly #timer: ReturnType<typeof setInterval>;
  #peakKb = 0;

  constructor(pidOf: () => number | undefined, intervalMs = 20) {
    this.#pidOf = pidOf;
    const pid = pidOf();
    if (pid !== undefined) {
      try {
        Deno.writeTextFileSync(`/proc/${pid}/clear_refs`, "5");
      } catch {
        // not allowed here: the peak is then the process's peak so far
      }
    }
    this.#timer = setInterval(() => this.#sample(), intervalMs);
    this.#sample();
  }

  #sample(): void {
    const pid = this.#pidOf();
    if (pid === undefined) return;
    const status = readText(`/proc/${pid}/status`);
    if (status) this.#peakKb = Math.max(this.#peakKb, statusKb(status, "VmHWM"));
  }

  /** Stops sampling; the peak in MB. */
  stop(): number {
    this.#sample();
    clearInterval(this.#timer);
    return this.#peakKb / 1024;
  }
}
