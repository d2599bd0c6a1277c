/**
 * A record's trend: its last runs (previews aside) as a server-rendered SVG — one
 * small bar panel per measure (inserted, updated, removed, rejected, duration), each
 * with its own scale, named beside it and with its largest and latest value written
 * out, and a row of outcome symbols (✓ ! × –) — so nothing depends on colour. The
 * numbers are also a table (in a `<details>`) for screen readers and for copying. No
 * script, no library.
 */
import { localTime } from "../../util/time.ts";
import { STATUS_LABELS } from "../format.ts";
import type { RunRow } from "../queries.ts";

/** Runs a trend shows at most. */
export const TREND_RUNS = 60;

/** One measure of a run, with its name and how a value is written. */
interface Measure {
  name: string;
  value: (run: RunRow) => number;
  text: (n: number) => string;
}

const count = (n: number) => n.toLocaleString("en-US");

/** Seconds from a run's start to its end, or 0 when it has not both. */
export function runSeconds(run: RunRow): number {
  if (!run.startedAt || !run.endedAt) return 0;
  return Math.max(0, (Date.parse(run.endedAt) - Date.parse(run.startedAt)) / 1000);
}

/** "0.4 s", "12 s", "3 min 4 s". */
export function durationText(seconds: number): string {
  if (seconds < 10) return `${Math.round(seconds * 10) / 10} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

const MEASURES: readonly Measure[] = [
  { name: "Inserted", value: (r) => r.inserted, text: count },
  { name: "Updated", value: (r) => r.updated, text: count },
  { name: "Removed", value: (r) => r.removed, text: count },
  { name: "Rejected", value: (r) => r.rejected, text: count },
  { name: "Duration", value: runSeconds, text: durationText },
];

/** The outcome symbol of a status: ✓ succeeded, ! with errors or held, × failed, – no data. */
export function outcomeSymbol(status: string): string {
  if (status === "succeeded" || status === "approved") return "✓";
  if (status === "succeeded_with_errors" || status === "held") return "!";
  if (status === "failed" || status === "rejected" || status === "interrupted") return "×";
  return "–";
}

const W = 640;
const LEFT = 96;
const RIGHT = 84;
const PANEL = 34;
const GAP = 12;
const TOP = 8;

/** The trend of `runs` (newest first, as listed), oldest on the left. */
export function TrendChart(props: { runs: RunRow[]; zone: string; recordName: string }) {
  const runs = [...props.runs].reverse();
  if (runs.length < 2) return null;
  const first = localTime(runs[0]!.startedAt ?? runs[0]!.queuedAt, props.zone).slice(0, 10);
  const last = runs[runs.length - 1]!;
  const lastDay = localTime(last.startedAt ?? last.queuedAt, props.zone).slice(0, 10);
  const plot = W - LEFT - RIGHT;
  const step = plot / runs.length;
  const statusY = TOP + MEASURES.length * (PANEL + GAP);
  const height = statusY + 40;
  const summary = MEASURES.map((m) => {
    const values = runs.map(m.value);
    return `${m.name}: latest ${m.text(values[values.length - 1]!)}, most ${
      m.text(Math.max(...values))
    }`;
  }).join("; ");
  return (
    <section class="trend" aria-labelledby="trend-title">
      <h2 id="trend-title">Trend of the last {runs.length} runs</h2>
      <div
        class="chart-scroll"
        tabindex={0}
        role="group"
        aria-label="Trend chart, scrolls sideways"
      >
        <svg
          viewBox={`0 0 ${W} ${height}`}
          role="img"
          aria-labelledby="trend-svg-title trend-svg-desc"
          xmlns="http://www.w3.org/2000/svg"
        >
          <title id="trend-svg-title">
            {props.recordName}: the last {runs.length} runs, {first} to {lastDay}
          </title>
          <desc id="trend-svg-desc">
            One bar per run, oldest on the left, in a panel per measure. {summary}.
          </desc>
          {MEASURES.map((m, i) => (
            <MeasurePanel measure={m} runs={runs} y={TOP + i * (PANEL + GAP)} step={step} />
          ))}
          <OutcomeRow runs={runs} y={statusY} step={step} />
          <text x={LEFT} y={height - 4} class="axis">{first}</text>
          <text x={W - RIGHT} y={height - 4} class="axis" text-anchor="end">{lastDay}</text>
        </svg>
      </div>
      <p class="legend">
        Outcome: ✓ succeeded · ! with errors or held · × failed, rejected or interrupted · – no
        file, empty or discarded. Each panel has its own scale; its largest value is on the left,
        the latest on the right.
      </p>
      <TrendTable runs={runs} zone={props.zone} />
    </section>
  );
}

/** One measure's panel: its name and largest value, a bar per run, its latest value. */
function MeasurePanel(props: { measure: Measure; runs: RunRow[]; y: number; step: number }) {
  const { measure: m, runs, y, step } = props;
  const values = runs.map(m.value);
  const max = Math.max(...values);
  const bar = Math.max(1, step - 2);
  return (
    <g class="panel">
      <text x={0} y={y + 14} class="name">{m.name}</text>
      <text x={0} y={y + 28} class="scale">max {m.text(max)}</text>
      <line x1={LEFT} x2={W - RIGHT} y1={y + PANEL} y2={y + PANEL} class="base" />
      {values.map((v, i) => {
        const h = max > 0 ? Math.max(v > 0 ? 1.5 : 0, (v / max) * PANEL) : 0;
        return (
          <rect x={LEFT + i * step + 1} y={y + PANEL - h} width={bar} height={h} class="bar">
            <title>Run #{runs[i]!.id}: {m.text(v)}</title>
          </rect>
        );
      })}
      <text x={W - RIGHT + 8} y={y + 22} class="latest">
        {m.text(values[values.length - 1]!)}
      </text>
    </g>
  );
}

/** The outcome of each run as a symbol under its bars. */
function OutcomeRow(props: { runs: RunRow[]; y: number; step: number }) {
  const { runs, y, step } = props;
  return (
    <g class="outcomes">
      <text x={0} y={y + 12} class="name">Outcome</text>
      {runs.map((r, i) => (
        <text x={LEFT + i * step + step / 2} y={y + 12} text-anchor="middle" class="symbol">
          {outcomeSymbol(r.status)}
        </text>
      ))}
    </g>
  );
}

/** The chart's numbers as a table, oldest first. */
function TrendTable(props: { runs: RunRow[]; zone: string }) {
  return (
    <details>
      <summary>The chart's numbers as a table</summary>
      <div class="scroll" tabindex={0} role="group" aria-label="Trend numbers, scroll sideways">
        <table class="list compact">
          <caption>Runs in the trend, oldest first</caption>
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">Started ({props.zone})</th>
              <th scope="col">Outcome</th>
              {MEASURES.map((m) => (
                <th scope="col" class="num">
                  {m.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.runs.map((r) => (
              <tr>
                <th scope="row">
                  <a href={`/runs/${r.id}`}>Run #{r.id}</a>
                </th>
                <td>{localTime(r.startedAt ?? r.queuedAt, props.zone)}</td>
                <td>{STATUS_LABELS[r.status] ?? r.status}</td>
                {MEASURES.map((m) => (
                  <td class="num">
                    {m.text(m.value(r))}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}
