/** The page frame shared by every page: header, navigation, breadcrumbs, time zone, content. */
import type { Child } from "hono/jsx";
import { raw } from "hono/html";
import type { Identity } from "../context.ts";
import { CSRF_FIELD } from "../auth/csrf.ts";
import { ROLE_LABELS } from "../auth/roles.ts";

/** One step of the breadcrumb trail; the last one is the current page. */
export interface Crumb {
  label: string;
  href?: string;
}

/** Options of {@linkcode Layout}. */
export interface LayoutProps {
  title: string;
  /** The service's time zone, shown in the header; omitted on sign-in and error pages. */
  timeZone?: string;
  identity?: Identity | undefined;
  breadcrumbs?: Crumb[];
  /**
   * The page's school context (School_Number): the header's links lead back to that
   * school's list. Default: the school a breadcrumb's `/?school=` link names; without
   * one they lead to `/`, which shows the user's last school.
   */
  school?: number;
  /** Load `/assets/app.js` (the Field List pop-up and small enhancements). */
  script?: boolean;
  /** Reload the page after this many seconds (runs under way). */
  refreshSeconds?: number;
  /**
   * The page shows runs under way (`data-progress-run`): `/assets/progress.js` keeps
   * their progress current, so the refresh of `refreshSeconds` applies only without
   * JavaScript.
   */
  liveProgress?: boolean;
  children?: Child;
}

/** The school a `/?school=N` breadcrumb names, if one does. */
function crumbSchool(crumbs: Crumb[]): number | undefined {
  for (const c of crumbs) {
    const m = /^\/\?school=(\d+)(?:&|$)/.exec(c.href ?? "");
    if (m) return Number(m[1]);
  }
  return undefined;
}

/**
 * A whole page. It starts with the doctype, which keeps browsers in standards mode
 * (without it they lay the page out in quirks mode).
 */
export function Layout(props: LayoutProps) {
  return (
    <>
      {raw("<!DOCTYPE html>")}
      <HtmlDocument {...props} />
    </>
  );
}

/** The `<html>` element of a page. */
function HtmlDocument(props: LayoutProps) {
  const crumbs = props.breadcrumbs ?? [];
  const school = props.school ?? crumbSchool(crumbs);
  const home = school === undefined ? "/" : `/?school=${school}`;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        {props.refreshSeconds && props.liveProgress
          ? (
            <noscript>
              <meta http-equiv="refresh" content={String(props.refreshSeconds)} />
            </noscript>
          )
          : props.refreshSeconds
          ? <meta http-equiv="refresh" content={String(props.refreshSeconds)} />
          : ""}
        <title>{props.title} — AutoComm</title>
        <link rel="stylesheet" href="/assets/app.css" />
        <link rel="stylesheet" href="/assets/overview.css" />
        <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml" />
        {props.script ? <script src="/assets/app.js" defer></script> : ""}
        {props.liveProgress ? <script src="/assets/progress.js" defer></script> : ""}
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <a class="brand" href={home}>AutoComm</a>
          <nav aria-label="Main">
            <a href={home}>AutoComm Setup</a>
            <a href="/runs">AutoComm Runs</a>
          </nav>
          {props.timeZone
            ? (
              <span class="tz" title="Times on these pages are in this time zone">
                Time zone: {props.timeZone}
              </span>
            )
            : ""}
          {props.identity
            ? (
              <span class="who">
                {props.identity.user} ({ROLE_LABELS[props.identity.role]})
                {props.identity.via === "session"
                  ? (
                    <form method="post" action="/signout" class="inline">
                      <input
                        type="hidden"
                        name={CSRF_FIELD}
                        value={props.identity.csrfToken ?? ""}
                      />
                      <button type="submit" class="link-button">Sign out</button>
                    </form>
                  )
                  : ""}
              </span>
            )
            : ""}
        </header>
        {crumbs.length > 0
          ? (
            <nav class="crumbs" aria-label="Breadcrumb">
              <ol>
                {crumbs.map((c, i) => (
                  <li>
                    {c.href && i < crumbs.length - 1
                      ? <a href={c.href}>{c.label}</a>
                      : <span aria-current="page">{c.label}</span>}
                  </li>
                ))}
              </ol>
            </nav>
          )
          : ""}
        <main id="main" tabindex={-1}>{props.children}</main>
      </body>
    </html>
  );
}
