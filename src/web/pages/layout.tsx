/** The page frame shared by every page: header, navigation, time zone, content. */
import type { Child } from "hono/jsx";

/** Options of {@linkcode Layout}. */
export interface LayoutProps {
  title: string;
  timeZone: string;
  children?: Child;
}

export function Layout(props: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title} — AutoComm</title>
        <link rel="stylesheet" href="/assets/app.css" />
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <span class="brand">AutoComm</span>
          <nav aria-label="Main">
            <a href="/">AutoComm Setup</a>
          </nav>
          <span class="tz" title="Times on these pages are in this time zone">
            Time zone: {props.timeZone}
          </span>
        </header>
        <main id="main">{props.children}</main>
      </body>
    </html>
  );
}
