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

/** "40 ms", "2.4 s", "12 s", "3 min 4 s". */
export function durationText(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
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

/**
 * How a chart is laid out: a wide one names each panel on its left and writes the
 * latest value on its right; a narrow one (phones) writes both on a line above.
 */
interface Shape {
  readonly kind: "wide" | "narrow";
  readonly width: number;
  readonly left: number;
  readonly right: number;
  /** Height of a label line above a panel (narrow), else 0. */
  readonly above: number;
  readonly panel: number;
  readonly gap: number;
}

const SHAPES: readonly Shape[] = [
  { kind: "wide", width: 640, left: 96, right: 84, above: 0, panel: 34, gap: 12 },
  { kind: "narrow", width: 340, left: 0, right: 0, above: 16, panel: 28, gap: 10 },
];

/** The first and last day of `runs` in the zone. */
function days(runs: RunRow[], zone: string): [string, string] {
  const day = (r: RunRow) => localTime(r.startedAt ?? r.queuedAt, zone).slice(0, 10);
  return [day(runs[0]!), day(runs[runs.length - 1]!)];
}

/**
 * The trend of `runs` (newest first, as listed), oldest on the left: a wide and a
 * narrow chart, of which the style sheet shows the one that fits, then the legend
 * and the table.
 */
export function TrendChart(props: { runs: RunRow[]; zone: string; recordName: string }) {
  const runs = [...props.runs].reverse();
  if (runs.length < 2) return null;
  return (
    <section class="trend" aria-labelledby="trend-title">
      <h2 id="trend-title">Trend of the last {runs.length} runs</h2>
      {SHAPES.map((shape) => (
        <ChartSvg shape={shape} runs={runs} zone={props.zone} recordName={props.recordName} />
      ))}
      <p class="legend">
        Outcome: ✓ succeeded · ! with errors or held · × failed, rejected or interrupted · – no
        file, empty or discarded. Each panel has its own scale, with its largest (“max”) and its
        latest value written beside it.
      </p>
      <TrendTable runs={runs} zone={props.zone} />
    </section>
  );
}

/** One chart of the trend, in one shape, with its title and description. */
function ChartSvg(props: { shape: Shape; runs: RunRow[]; zone: string; recordName: string }) {
  const { shape, runs } = props;
  const [first, lastDay] = days(runs, props.zone);
  const step = (shape.width - shape.left - shape.right) / runs.length;
  const row = shape.above + shape.panel + shape.gap;
  const statusY = 8 + MEASURES.length * row;
  const height = statusY + shape.above + 34;
  const summary = MEASURES.map((m) => {
    const values = runs.map(m.value);
    return `${m.name}: latest ${m.text(values[values.length - 1]!)}, most ${
      m.text(Math.max(...values))
    }`;
  }).join("; ");
  const id = `trend-${shape.kind}`;
  return (
    <svg
      class={shape.kind}
      viewBox={`0 0 ${shape.width} ${height}`}
      role="img"
      aria-labelledby={`${id}-title ${id}-desc`}
      xmlns="http://www.w3.org/2000/svg"
    >
      <title id={`${id}-title`}>
        {props.recordName}: the last {runs.length} runs, {first} to {lastDay}
      </title>
      <desc id={`${id}-desc`}>
        One bar per run, oldest on the left, in a panel per measure. {summary}.
      </desc>
      {MEASURES.map((m, i) => (
        <MeasurePanel measure={m} runs={runs} y={8 + i * row} step={step} shape={shape} />
      ))}
      <OutcomeRow runs={runs} y={statusY} step={step} shape={shape} />
      <text x={shape.left} y={height - 4} class="axis">{first}</text>
      <text x={shape.width - shape.right} y={height - 4} class="axis" text-anchor="end">
        {lastDay}
      </text>
    </svg>
  );
}

/** What a panel of a chart is given: its top, the width of a run, the shape. */
interface RowProps {
  runs: RunRow[];
  y: number;
  step: number;
  shape: Shape;
}

/** One measure's panel: its name, largest and latest value, and a bar per run. */
function MeasurePanel(props: RowProps & { measure: Measure }) {
  const { measure: m, runs, step, shape } = props;
  const values = runs.map(m.value);
  const max = Math.max(...values);
  const latest = m.text(values[values.length - 1]!);
  const bar = Math.max(1, step - 2);
  const y = props.y + shape.above;
  const base = y + shape.panel;
  return (
    <g class="panel">
      {shape.above > 0
        ? (
          <>
            <text x={0} y={props.y + 11} class="name">{m.name}</text>
            <text x={shape.width} y={props.y + 11} class="scale" text-anchor="end">
              max {m.text(max)} · latest {latest}
            </text>
          </>
        )
        : (
          <>
            <text x={0} y={y + 14} class="name">{m.name}</text>
            <text x={0} y={y + 28} class="scale">max {m.text(max)}</text>
            <text x={shape.width - shape.right + 8} y={y + 22} class="latest">{latest}</text>
          </>
        )}
      <line x1={shape.left} x2={shape.width - shape.right} y1={base} y2={base} class="base" />
      {values.map((v, i) => {
        const h = max > 0 ? Math.max(v > 0 ? 1.5 : 0, (v / max) * shape.panel) : 0;
        return (
          <rect x={shape.left + i * step + 1} y={base - h} width={bar} height={h} class="bar">
            <title>Run #{runs[i]!.id}: {m.text(v)}</title>
          </rect>
        );
      })}
    </g>
  );
}

/** The outcome of each run as a symbol under its bars. */
function OutcomeRow(props: RowProps) {
  const { runs, step, shape } = props;
  const y = props.y + shape.above;
  return (
    <g class="outcomes">
      <text x={0} y={shape.above > 0 ? props.y + 11 : y + 12} class="name">Outcome</text>
      {runs.map((r, i) => (
        <text x={shape.left + i * step + step / 2} y={y + 12} text-anchor="middle" class="symbol">
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
