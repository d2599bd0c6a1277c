/** Small pieces shared by the pages. */
import type { Child } from "hono/jsx";
import { CSRF_FIELD } from "../auth/csrf.ts";
import { localTime, STATUS_LABELS } from "../format.ts";

/** The hidden anti-CSRF field every form posted with a session carries. */
export function Csrf(props: { token: string | undefined }) {
  return <input type="hidden" name={CSRF_FIELD} value={props.token ?? ""} />;
}

/** An instant in the service's time zone, with the zone beside it. */
export function Time(props: { iso: string | null | undefined; zone: string }) {
  if (!props.iso) return <span class="muted">—</span>;
  return (
    <time datetime={props.iso}>
      {localTime(props.iso, props.zone)} <span class="zone">{props.zone}</span>
    </time>
  );
}

/** A run status as a coloured label (text, not colour alone, carries the meaning). */
export function Status(props: { status: string }) {
  return (
    <span class={`status status-${props.status}`}>
      {STATUS_LABELS[props.status] ?? props.status}
    </span>
  );
}

/** Previous/next links of a paged list. `href(page)` builds a page's address. */
export function Pager(props: {
  page: number;
  pageSize: number;
  total: number;
  href: (page: number) => string;
  label: string;
}) {
  const pages = Math.max(1, Math.ceil(props.total / props.pageSize));
  if (pages <= 1) return <span></span>;
  return (
    <nav class="pager" aria-label={props.label}>
      {props.page > 1
        ? <a href={props.href(props.page - 1)} rel="prev">← Previous</a>
        : <span class="muted">← Previous</span>}
      <span>
        Page {props.page} of {pages}
      </span>
      {props.page < pages
        ? <a href={props.href(props.page + 1)} rel="next">Next →</a>
        : <span class="muted">Next →</span>}
    </nav>
  );
}

/**
 * Text for screen readers only. It gives a row's links names of their own
 * ("Edit" + " Nightly students") while the table shows the short word.
 */
export function VisuallyHidden(props: { children?: Child }) {
  return <span class="visually-hidden">{props.children}</span>;
}

/**
 * A wide table's own scrolling box: on a narrow screen the table scrolls sideways
 * inside it (the page itself never does). It can take focus, so keyboard users can
 * scroll it too, and is a named region for screen readers.
 */
export function TableScroll(props: { label: string; children?: Child }) {
  return (
    <div class="table-scroll" tabindex={0} role="region" aria-label={props.label}>
      {props.children}
    </div>
  );
}

/** A notice at the top of a page (after a save, a delete …). */
export function Notice(props: { children?: Child; kind?: "ok" | "warn" | "bad" }) {
  return (
    <div class={`notice notice-${props.kind ?? "ok"}`} role="status">
      {props.children}
    </div>
  );
}

/** A page number from a query value (1 when missing or odd). */
export function pageOf(value: string | undefined): number {
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 && n <= 1_000_000 ? n : 1;
}
