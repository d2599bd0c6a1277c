/**
 * `deno task demo:host`: AutoComm embedded in a host SIS, on this machine. Starts a
 * real OpenID Connect provider (oidc-provider) with demo users of each role, the demo
 * district in AutoComm (configured to trust that provider, to be framed by the host,
 * and to call the host back after each run), and the host's site, whose navigation
 * comes from AutoComm's served manifest. Everything listens on 127.0.0.1; stop with
 * Ctrl+C.
 */
import { DEMO_USERS, startOidcProvider } from "./oidc_provider.ts";
import { type HostSite, startHostSite } from "./host_site.ts";

const REPO = new URL("../", import.meta.url);

/** Options of {@linkcode startDemoHost}. */
export interface DemoHostOptions {
  /** Port of the host site; default 0 (any free port). */
  hostPort?: number;
  /** Port of AutoComm; default any free port. */
  autocommPort?: number;
  /** AutoComm's data folder; default a new temporary folder. */
  dataDir?: string;
  /** Show AutoComm's output; default false. */
  verbose?: boolean;
}

/** The running demo. */
export interface DemoHost {
  hostUrl: string;
  autocommUrl: string;
  issuer: string;
  apiToken: string;
  site: HostSite;
  stop(): Promise<void>;
}

/** Starts provider, AutoComm (with the demo district) and the host site. */
export async function startDemoHost(options: DemoHostOptions = {}): Promise<DemoHost> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const one of stops.reverse()) await one().catch(() => {});
  };
  try {
    const site = await startHostSite(options.hostPort ?? 0);
    stops.push(() => site.stop());
    const port = options.autocommPort ?? freePort();
    const autocommUrl = `http://127.0.0.1:${port}`;
    const clientSecret = randomHex(24);
    const provider = await startOidcProvider({
      clients: [{
        client_id: "autocomm",
        client_secret: clientSecret,
        redirect_uris: [`${autocommUrl}/oidc/callback`],
        initiate_login_uri: `${autocommUrl}/oidc/initiate`,
      }],
      users: [...DEMO_USERS],
    });
    stops.push(() => provider.stop());
    const dataDir = options.dataDir ?? await Deno.makeTempDir({ prefix: "autocomm_demo_host_" });
    if (options.dataDir === undefined) {
      stops.push(() => Deno.remove(dataDir, { recursive: true }));
    }
    const apiToken = randomHex(24);
    const callbackSecret = randomHex(24);
    const env: Record<string, string> = {
      PORT: String(port),
      AUTOCOMM_DATA_DIR: dataDir,
      AUTOCOMM_PUBLIC_URL: autocommUrl,
      AUTOCOMM_OIDC_ISSUER: provider.issuer,
      AUTOCOMM_OIDC_CLIENT_ID: "autocomm",
      AUTOCOMM_OIDC_CLIENT_SECRET: clientSecret,
      AUTOCOMM_HOST_ORIGINS: site.url,
      AUTOCOMM_API_TOKEN: apiToken,
      AUTOCOMM_HOST_CALLBACK_URL: `${site.url}/callback`,
      AUTOCOMM_HOST_CALLBACK_SECRET: callbackSecret,
      AUTOCOMM_ADMIN_LINK: "off",
      AUTOCOMM_MIN_FILE_AGE_SECONDS: "0",
      AUTOCOMM_LOG_LEVEL: "warn",
    };
    await autocomm(["src/cli.ts", "seed-demo"], env, options.verbose).status;
    const service = autocomm(["src/main.ts"], env, options.verbose);
    stops.push(async () => {
      service.kill("SIGTERM");
      await service.status;
    });
    await waitForHealth(autocommUrl, service);
    site.connect({ autocommUrl, issuer: provider.issuer, apiToken, callbackSecret });
    return { hostUrl: site.url, autocommUrl, issuer: provider.issuer, apiToken, site, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Runs AutoComm (`src/main.ts` or the CLI) from this repository with `env`. */
function autocomm(args: string[], env: Record<string, string>, verbose = false) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--frozen", "--allow-all", ...args],
    cwd: REPO,
    env,
    stdin: "null",
    stdout: verbose ? "inherit" : "null",
    stderr: verbose ? "inherit" : "null",
  }).spawn();
}

async function waitForHealth(url: string, service: Deno.ChildProcess): Promise<void> {
  let exited = false;
  service.status.then(() => exited = true);
  for (const started = Date.now(); Date.now() - started < 60_000;) {
    if (exited) throw new Error("AutoComm stopped while starting; run with --verbose to see why");
    const ok = await fetch(`${url}/healthz`).then(async (r) => {
      await r.body?.cancel();
      return r.ok;
    }, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`AutoComm did not answer at ${url} within 60 seconds`);
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function randomHex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

if (import.meta.main) {
  const verbose = Deno.args.includes("--verbose");
  const hostPort = Number(Deno.env.get("DEMO_HOST_PORT") ?? 8100);
  const demo = await startDemoHost({ hostPort, verbose });
  console.log(`Host SIS:  ${demo.hostUrl}   (open this)`);
  console.log(`AutoComm:  ${demo.autocommUrl}`);
  console.log(`Provider:  ${demo.issuer}`);
  console.log("Sign in as one of (any password):");
  for (const user of DEMO_USERS) {
    console.log(`  ${user.sub.padEnd(16)} ${user.role} at school ${user.school}`);
  }
  console.log("Ctrl+C stops everything.");
  const done = Promise.withResolvers<void>();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => done.resolve());
  }
  await done.promise;
  await demo.stop();
  Deno.exit(0);
}
