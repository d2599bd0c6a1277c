/**
 * The plugin manifest a host SIS reads to embed AutoComm: `GET /plugin/manifest.json`
 * serves `plugin/manifest.json` with every location turned into an absolute URL on
 * `AUTOCOMM_PUBLIC_URL` and the version of `src/version.ts`; `GET
 * /plugin/manifest.schema.json` serves its JSON Schema. Both are public (a host reads
 * them before anyone signs in); a browser script may read them only from the
 * configured `AUTOCOMM_HOST_ORIGINS` (CORS). They answer `Cache-Control: no-cache`
 * with an ETag, so a host revalidates cheaply and sees a new version at once.
 */
import { createHash } from "node:crypto";
import { Hono } from "hono";
import { cors } from "hono/cors";
import type { Config } from "../config.ts";
import { VERSION } from "../version.ts";
import manifestFile from "../../plugin/manifest.json" with { type: "json" };
import manifestSchema from "../../plugin/manifest.schema.json" with { type: "json" };

/** One page a host may list in its navigation and open in a frame. */
export interface ManifestPage {
  id: string;
  title: string;
  /** A path in the file, an absolute URL when served. */
  path: string;
  /** The page's slot in the host's navigation, top menu first, the page's own entry last. */
  navigation: string[];
  /** The lowest role that may open the page. */
  role: string;
}

/** How a webhook or the completion callback is signed. */
export interface ManifestSignature {
  header: string;
  scheme: string;
  timestampHeader: string;
  deliveryHeader: string;
  toleranceSeconds: number;
}

/** The plugin manifest (`plugin/manifest.schema.json` says what each field means). */
export interface PluginManifest {
  $schema: string;
  id: string;
  name: string;
  version: string;
  description: string;
  publisher: { name: string; url?: string };
  contact: { name: string; email: string; url?: string };
  roles: string[];
  pages: ManifestPage[];
  signIn: {
    protocol: string;
    login: string;
    callback: string;
    initiate: string;
    claims: { role: string; school: string };
    scopes: string[];
  };
  webhooks: { id: string; method: string; path: string; signature: ManifestSignature }[];
  changeFeed: {
    method: string;
    path: string;
    role: string;
    parameters: string[];
    cursor: string;
  };
  completionCallback: {
    method: string;
    urlVariable: string;
    secretVariable: string;
    signature: ManifestSignature;
    payload: string[];
  };
  api: { base: string; openapi: string };
}

/** `plugin/manifest.json` as committed: every location a path on the service. */
export const MANIFEST_FILE: Readonly<PluginManifest> = manifestFile;

/** `plugin/manifest.schema.json`, the manifest's JSON Schema (draft 2020-12). */
export const MANIFEST_SCHEMA: Readonly<Record<string, unknown>> = manifestSchema;

/** Where the served manifest and its schema are. */
export const MANIFEST_PATH = "/plugin/manifest.json";
export const MANIFEST_SCHEMA_PATH = "/plugin/manifest.schema.json";

/** Options of {@linkcode servedManifest}. */
export interface ServedManifestOptions {
  /** The manifest to serve; default {@linkcode MANIFEST_FILE}. */
  manifest?: Readonly<PluginManifest>;
  /**
   * The sign-in settings the service actually uses, when they differ from the file's
   * defaults (the role and school claims, the scopes).
   */
  signIn?: { roleClaim?: string; schoolClaim?: string; scopes?: readonly string[] };
}

/**
 * The manifest as served: each location (`$schema`, page paths, sign-in endpoints,
 * webhook, change feed, API) an absolute URL on `publicUrl` — joined as text, so
 * `{recordId}` stays as written and a public URL with a path (`https://sis.example/autocomm`)
 * keeps it — and the version of the running service. The file is never changed.
 */
export function servedManifest(
  config: Pick<Config, "publicUrl">,
  options: ServedManifestOptions = {},
): PluginManifest {
  const file = structuredClone(options.manifest ?? MANIFEST_FILE) as PluginManifest;
  const base = config.publicUrl.replace(/\/+$/, "");
  const at = (path: string) => `${base}${path}`;
  const signIn = options.signIn ?? {};
  return {
    ...file,
    $schema: at(MANIFEST_SCHEMA_PATH),
    version: VERSION,
    pages: file.pages.map((page) => ({ ...page, path: at(page.path) })),
    signIn: {
      ...file.signIn,
      login: at(file.signIn.login),
      callback: at(file.signIn.callback),
      initiate: at(file.signIn.initiate),
      claims: {
        role: signIn.roleClaim ?? file.signIn.claims.role,
        school: signIn.schoolClaim ?? file.signIn.claims.school,
      },
      scopes: signIn.scopes ? [...signIn.scopes] : file.signIn.scopes,
    },
    webhooks: file.webhooks.map((hook) => ({ ...hook, path: at(hook.path) })),
    changeFeed: { ...file.changeFeed, path: at(file.changeFeed.path) },
    api: { base: at(file.api.base), openapi: at(file.api.openapi) },
  };
}

/** A strong ETag of a body: its SHA-256, quoted. */
function etagOf(body: string): string {
  return `"${createHash("sha256").update(body).digest("base64url")}"`;
}

/** True when an `If-None-Match` header names `etag` (or is `*`); weak tags compare too. */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(",").some((tag) => {
    const t = tag.trim();
    return t === "*" || t === etag || t === `W/${etag}`;
  });
}

/**
 * The public routes `/plugin/manifest.json` and `/plugin/manifest.schema.json`
 * (mount under `/plugin`). Each body is made once, when the app is built: the
 * configuration does not change while the service runs.
 */
export function pluginRoutes(
  config: Pick<Config, "publicUrl" | "hostOrigins" | "oidc">,
  options: ServedManifestOptions = {},
): Hono {
  // The claims and scopes the configured provider is read with (the file's defaults
  // without one; a school claim turned off leaves the file's name).
  const oidc = config.oidc;
  const signIn = options.signIn ?? (oidc === undefined ? undefined : {
    roleClaim: oidc.roleClaim,
    ...(oidc.schoolClaim !== undefined ? { schoolClaim: oidc.schoolClaim } : {}),
    scopes: oidc.scopes.split(/\s+/).filter((s) => s !== ""),
  });
  const served = servedManifest(config, { ...options, ...(signIn ? { signIn } : {}) });
  const documents = new Map<string, string>([
    ["/manifest.json", JSON.stringify(served, null, 2)],
    ["/manifest.schema.json", JSON.stringify(MANIFEST_SCHEMA, null, 2)],
  ]);
  const app = new Hono();
  const origins = new Set(config.hostOrigins);
  app.use(
    "*",
    cors({
      origin: (origin) => (origins.has(origin) ? origin : null),
      allowMethods: ["GET", "HEAD"],
      maxAge: 600,
    }),
  );
  for (const [path, body] of documents) {
    const etag = etagOf(body);
    app.get(path, (c) => {
      c.header("Cache-Control", "no-cache");
      c.header("ETag", etag);
      if (matches(c.req.header("if-none-match"), etag)) return c.body(null, 304);
      c.header("Content-Type", "application/json; charset=utf-8");
      return c.body(body);
    });
  }
  return app;
}
