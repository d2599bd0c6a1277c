/**
 * The demo host SIS's own site: a page whose navigation is built from AutoComm's
 * served manifest, an iframe the pages open in (through OpenID Connect's
 * third-party-initiated login, so the host never handles AutoComm's session), and a
 * panel that follows AutoComm's change feed and the signed completion callbacks.
 *
 * This is what a host writes on its side; it uses only AutoComm's public surfaces:
 * `GET /plugin/manifest.json`, `GET /oidc/initiate`, `GET /api/v1/changes` (with an API
 * token) and the callback it receives.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** Where the host finds AutoComm and its provider. */
export interface HostSiteOptions {
  /** AutoComm's public URL, e.g. `http://127.0.0.1:8000`. */
  autocommUrl: string;
  /** The OpenID Connect issuer both sides trust. */
  issuer: string;
  /** AutoComm's API token, for the change feed. */
  apiToken: string;
  /** The secret AutoComm signs completion callbacks with. */
  callbackSecret: string;
  /** How often the feed is read, in milliseconds; default 2000. */
  pollMs?: number;
}

/** A running host site. */
export interface HostSite {
  url: string;
  /** Points the site at AutoComm once AutoComm is up (it needs the site's origin first). */
  connect(options: HostSiteOptions): void;
  /** What the site has seen so far. */
  events(): HostEvents;
  stop(): Promise<void>;
}

/** One manifest page as the host uses it. */
interface ManifestPage {
  id: string;
  title: string;
  url: string;
  navigation: string[];
  role?: string;
}

/** What the host page shows beside the frame. */
export interface HostEvents {
  feed: { cursor: string; text: string }[];
  callbacks: { runId: number; status: string; text: string; verified: boolean }[];
  feedError?: string;
}

const KEEP = 200;

/** Starts the host site on 127.0.0.1; call connect() once AutoComm's URL is known. */
export function startHostSite(port = 0): Promise<HostSite> {
  let options: HostSiteOptions | undefined;
  const events: HostEvents = { feed: [], callbacks: [] };
  let cursor: string | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let reading = false;

  const readFeed = async () => {
    if (!options || reading) return;
    reading = true;
    try {
      for (let more = true; more;) {
        const url = new URL("/api/v1/changes", options.autocommUrl);
        if (cursor !== undefined) url.searchParams.set("since", cursor);
        url.searchParams.set("limit", "500");
        const res = await fetch(url, { headers: { authorization: `Bearer ${options.apiToken}` } });
        if (!res.ok) {
          events.feedError = `The change feed answered ${res.status}`;
          await res.body?.cancel();
          return;
        }
        const page = await res.json() as FeedPage;
        for (const entry of page.entries) events.feed.unshift(describeEntry(entry));
        events.feed.splice(KEEP);
        cursor = page.next;
        more = page.more && page.entries.length > 0;
        delete events.feedError;
      }
    } catch (error) {
      events.feedError = `The change feed is unreachable: ${(error as Error).message}`;
    } finally {
      reading = false;
    }
  };

  const handler = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    if (request.method === "GET" && url.pathname === "/") {
      return html(await hostPage(options));
    }
    if (request.method === "GET" && url.pathname === "/host.js") {
      return new Response(HOST_SCRIPT, { headers: { "content-type": "text/javascript" } });
    }
    if (request.method === "GET" && url.pathname === "/events.json") {
      return Response.json(events);
    }
    if (request.method === "GET" && url.pathname.startsWith("/open/") && options) {
      const page = (await manifestPages(options.autocommUrl)).find((p) =>
        p.id === decodeURIComponent(url.pathname.slice(6))
      );
      if (!page) return new Response("No such page", { status: 404 });
      return Response.redirect(launchUrl(options, page.url), 302);
    }
    if (request.method === "POST" && url.pathname === "/callback" && options) {
      const body = await request.text();
      const verified = verifySignature(request.headers, url.pathname, body, options.callbackSecret);
      if (!verified) return new Response("bad signature", { status: 401 });
      const run = JSON.parse(body) as CallbackBody;
      events.callbacks.unshift({
        runId: run.runId,
        status: run.status,
        verified,
        text: `run ${run.runId} of "${run.recordName}" (school ${run.schoolId}, ${run.table}): ` +
          `${run.status} — ${countsText(run.counts)}`,
      });
      events.callbacks.splice(KEEP);
      void readFeed();
      return new Response(null, { status: 204 });
    }
    return new Response("Not found", { status: 404 });
  };

  return new Promise((resolve) => {
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port,
      onListen: () => {},
    }, handler);
    const url = `http://127.0.0.1:${server.addr.port}`;
    resolve({
      url,
      connect(given) {
        options = given;
        timer = setInterval(() => void readFeed(), given.pollMs ?? 2000);
        void readFeed();
      },
      events: () => events,
      async stop() {
        if (timer !== undefined) clearInterval(timer);
        await server.shutdown();
      },
    });
  });
}

/** A page of the change feed (the fields the host uses). */
interface FeedPage {
  entries: FeedEntry[];
  next: string;
  more: boolean;
}

interface FeedEntry {
  gap?: boolean;
  message?: string;
  cursor: string;
  runId?: number;
  table?: string;
  schoolId?: number;
  action?: string;
  key?: Record<string, unknown>;
  changes?: Record<string, { old: unknown; new: unknown }>;
}

interface CallbackBody {
  runId: number;
  recordName: string;
  schoolId: number;
  table: string;
  status: string;
  counts: Record<string, number>;
}

function describeEntry(entry: FeedEntry): { cursor: string; text: string } {
  if (entry.gap) return { cursor: entry.cursor, text: `gap: ${entry.message ?? "entries lost"}` };
  const key = Object.entries(entry.key ?? {}).map(([k, v]) => `${k} ${v}`).join(", ");
  const fields = entry.changes ? ` (${Object.keys(entry.changes).join(", ")})` : "";
  return {
    cursor: entry.cursor,
    text: `run ${entry.runId} · ${entry.table} · school ${entry.schoolId} · ${entry.action} ` +
      `${key}${fields}`,
  };
}

function countsText(counts: Record<string, number>): string {
  return ["inserted", "updated", "removed", "rejected"].map((k) => `${counts[k] ?? 0} ${k}`)
    .join(", ");
}

/** AutoComm's pages from its served manifest (absolute URLs). */
async function manifestPages(autocommUrl: string): Promise<ManifestPage[]> {
  const res = await fetch(new URL("/plugin/manifest.json", autocommUrl));
  if (!res.ok) throw new Error(`AutoComm's manifest answered ${res.status}`);
  const manifest = await res.json() as { pages: (ManifestPage & { path?: string })[] };
  return manifest.pages.map((p) => ({ ...p, url: p.url ?? p.path ?? "/" }));
}

/** The third-party-initiated login that opens `target` inside the frame. */
function launchUrl(options: HostSiteOptions, target: string): string {
  const url = new URL("/oidc/initiate", options.autocommUrl);
  url.searchParams.set("iss", options.issuer);
  url.searchParams.set("target_link_uri", new URL(target, options.autocommUrl).href);
  return url.href;
}

/** Checks AutoComm's signature: HMAC-SHA256 of "<timestamp>.<delivery>.<path>.<body>". */
function verifySignature(headers: Headers, path: string, body: string, secret: string): boolean {
  const timestamp = headers.get("x-autocomm-timestamp") ?? "";
  const delivery = headers.get("x-autocomm-delivery") ?? "";
  const signature = headers.get("x-autocomm-signature") ?? "";
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = "sha256=" +
    createHmac("sha256", secret).update(`${timestamp}.${delivery}.${path}.${body}`).digest("hex");
  const a = new TextEncoder().encode(signature);
  const b = new TextEncoder().encode(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function html(body: string): Response {
  return new Response(body, { headers: { "content-type": "text/html; charset=utf-8" } });
}

/** The host page: navigation from the manifest, the frame, the feed panel. */
async function hostPage(options: HostSiteOptions | undefined): Promise<string> {
  let nav = "<p>Waiting for AutoComm…</p>";
  if (options) {
    try {
      const groups = new Map<string, ManifestPage[]>();
      for (const page of await manifestPages(options.autocommUrl)) {
        const group = page.navigation.slice(0, -1).join(" › ");
        groups.set(group, [...groups.get(group) ?? [], page]);
      }
      nav = [...groups].map(([group, pages]) =>
        `<h2>${escape(group)}</h2><ul>${
          pages.map((p) =>
            `<li><a href="/open/${encodeURIComponent(p.id)}" target="plugin">${
              escape(p.navigation.at(-1) ?? p.title)
            }</a>${p.role && p.role !== "viewer" ? ` <small>(${escape(p.role)})</small>` : ""}</li>`
          ).join("")
        }</ul>`
      ).join("");
    } catch (error) {
      nav = `<p role="alert">${escape((error as Error).message)}</p>`;
    }
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Riverside SIS (demo host)</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{margin:0;font:15px/1.4 system-ui,sans-serif;display:grid;grid-template:auto 1fr/14rem 1fr 22rem;height:100vh}
header{grid-column:1/4;background:#1d3557;color:#fff;padding:.6rem 1rem}
header h1{font-size:1.1rem;margin:0}
nav{background:#f1f3f6;padding:.5rem 1rem;overflow:auto}
nav h2{font-size:.8rem;text-transform:uppercase;color:#445;margin:1rem 0 .3rem}
nav ul{margin:0;padding-left:1rem}
main{display:flex}
iframe{flex:1;border:0;border-left:1px solid #ccd;border-right:1px solid #ccd}
aside{padding:.5rem 1rem;overflow:auto;font-size:.85rem}
aside h2{font-size:1rem}
aside li{margin:.2rem 0}
</style></head>
<body>
<header><h1>Riverside SIS <small>(demo host)</small></h1></header>
<nav aria-label="Host navigation">${nav}</nav>
<main><iframe name="plugin" title="AutoComm" src="about:blank"></iframe></main>
<aside aria-label="What AutoComm changed">
<h2>Change feed</h2><p id="feed-error" role="status"></p><ol id="feed"></ol>
<h2>Run callbacks</h2><ol id="callbacks"></ol>
</aside>
<script src="/host.js"></script>
</body></html>`;
}

/** Refreshes the panel from /events.json (text only: nothing from the feed becomes HTML). */
const HOST_SCRIPT = `
async function refresh() {
  try {
    const events = await (await fetch("/events.json")).json();
    fill("feed", events.feed.map((e) => e.text));
    fill("callbacks", events.callbacks.map((c) => c.text));
    document.getElementById("feed-error").textContent = events.feedError || "";
  } catch {}
}
function fill(id, lines) {
  const list = document.getElementById(id);
  list.replaceChildren(...lines.map((line) => {
    const li = document.createElement("li");
    li.textContent = line;
    return li;
  }));
}
refresh();
setInterval(refresh, 1500);
`;
