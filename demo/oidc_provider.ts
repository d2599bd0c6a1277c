/**
 * A real OpenID Connect provider (`oidc-provider` from npm) for the tests and the demo
 * host: {@linkcode startOidcProvider} serves it with `node:http` on 127.0.0.1, port 0,
 * its issuer `http://127.0.0.1:<port>`. (`oidc-provider` prints an "Unsupported
 * runtime" warning under Deno, and one about its development interactions: both are
 * expected.)
 *
 * Users ({@linkcode DEMO_USERS} by default) carry their role in the claim
 * `autocomm_role` and their school in the claim `school` (scope `profile`); both go
 * into the ID token, as a district's provider puts a role or group claim there.
 *
 * Signing in, by a browser: the provider shows a plain HTML form — type the user's
 * `sub` (e.g. `editor`) as the login and any password — then a consent form
 * ("Continue"). By a test's HTTP client: follow the redirects keeping the cookies of
 * each host; at the login page POST `prompt=login&login=<sub>&password=x` (form
 * encoded) to the form's `action`; at the consent page POST `prompt=consent` to its
 * `action`; keep following the redirects until they lead back to the client's
 * `redirect_uri` (`tests/support/oidc.ts` does this). A second sign-in with the same
 * cookies skips both forms (the provider's session and the grant are kept).
 */
import { createServer, type Server } from "node:http";
import Provider from "oidc-provider";

/** A person who can sign in at the provider. */
export interface DemoUser {
  /** The login typed at the provider, and the ID token's `sub`. */
  sub: string;
  name: string;
  email: string;
  /** Value of the claim `autocomm_role` (mapped to an AutoComm role by the service). */
  role: string;
  /** Value of the claim `school` (School_Number; 0 is the District Office). */
  school: number;
  /**
   * Claims to add or replace in the ID token (scope `profile`), e.g. an array role
   * `{ autocomm_role: ["staff", "lead"] }`, a `groups` claim, or `{ school: undefined }`
   * to leave the school out.
   */
  claims?: Record<string, unknown>;
}

/** A relying party registered at the provider (a confidential client). */
export interface ProviderClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
  /**
   * The client's third-party-initiated login endpoint (`/oidc/initiate`). The provider
   * only records it (an http one, as in the loopback demo, is not even recorded): the
   * host starts a launch by opening it.
   */
  initiate_login_uri?: string;
}

/** A private signing key (a JWK with its `d`), e.g. from `jose`'s `exportJWK`. */
export type PrivateJwk = Record<string, unknown>;

/** Options of {@linkcode startOidcProvider}. */
export interface OidcProviderOptions {
  clients: ProviderClient[];
  /** Who can sign in; default {@linkcode DEMO_USERS}. */
  users?: DemoUser[];
  /**
   * The provider's signing keys (private JWKs with `kid` and `alg`), so that a test can
   * sign tokens with a key the provider publishes; default one fresh RS256 key.
   */
  jwks?: { keys: PrivateJwk[] };
  /** Lifetimes in seconds, as `oidc-provider`'s `ttl` (e.g. `{ IdToken: 60 }`). */
  ttl?: Record<string, number>;
  /**
   * The issuer when the provider is reached through a proxy in front of it (a test's
   * proxy that rewrites token responses; it must send `X-Forwarded-Host` and
   * `X-Forwarded-Proto`); default `http://127.0.0.1:<port>`.
   */
  issuer?: string;
}

/** A running provider. */
export interface RunningOidcProvider {
  issuer: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * One user per AutoComm role at Lincoln Elementary (100), an editor at the District
 * Office (0), and a user whose role claim (`guest`) maps to no AutoComm role.
 */
export const DEMO_USERS: readonly DemoUser[] = Object.freeze([
  {
    sub: "viewer",
    name: "Vera Viewer",
    email: "vera@district.example",
    role: "viewer",
    school: 100,
  },
  { sub: "runner", name: "Rex Runner", email: "rex@district.example", role: "runner", school: 100 },
  {
    sub: "editor",
    name: "Edith Editor",
    email: "edith@district.example",
    role: "editor",
    school: 100,
  },
  { sub: "admin", name: "Ada Admin", email: "ada@district.example", role: "admin", school: 100 },
  {
    sub: "district-editor",
    name: "Dana District",
    email: "dana@district.example",
    role: "editor",
    school: 0,
  },
  { sub: "guest", name: "Gus Guest", email: "gus@district.example", role: "guest", school: 100 },
]);

/** A fresh RS256 signing key as a private JWK. */
async function freshKey(): Promise<PrivateJwk> {
  const pair = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  ) as CryptoKeyPair;
  const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  return { ...jwk, kid: "demo-key", alg: "RS256", use: "sig", key_ops: undefined, ext: undefined };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : 0);
    });
  });
}

function randomKey(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(24)), (b) => b.toString(16)).join("");
}

/**
 * Starts the provider: the server listens first (port 0), then the provider is built
 * with the issuer of that port, so that the issuer equals the URL it answers on.
 * PKCE is required of every client; clients authenticate with `client_secret_basic`
 * and get RS256 ID tokens.
 */
export async function startOidcProvider(
  options: OidcProviderOptions,
): Promise<RunningOidcProvider> {
  const users = options.users ?? DEMO_USERS;
  const server = createServer();
  const port = await listen(server);
  const issuer = options.issuer ?? `http://127.0.0.1:${port}`;
  const keys = options.jwks?.keys ?? [await freshKey()];
  const extraClaims = [...new Set(users.flatMap((u) => Object.keys(u.claims ?? {})))];
  const provider = new Provider(issuer, {
    // oidc-provider only records initiate_login_uri, and refuses one that is not https:
    // an http one (the loopback demo) is left out of its metadata.
    clients: options.clients.map(({ initiate_login_uri, ...c }) => ({
      ...c,
      ...(initiate_login_uri?.startsWith("https:") ? { initiate_login_uri } : {}),
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
      id_token_signed_response_alg: "RS256",
    })),
    findAccount(_ctx: unknown, id: string) {
      const user = users.find((u) => u.sub === id);
      if (!user) return undefined;
      return {
        accountId: user.sub,
        claims: () => ({
          sub: user.sub,
          name: user.name,
          email: user.email,
          email_verified: true,
          autocomm_role: user.role,
          school: user.school,
          ...user.claims,
        }),
      };
    },
    claims: {
      openid: ["sub"],
      profile: [...new Set(["name", "autocomm_role", "school", ...extraClaims])],
      email: ["email", "email_verified"],
    },
    // Put the scopes' claims in the ID token (not only at the userinfo endpoint).
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    jwks: { keys },
    cookies: { keys: [randomKey()] },
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      Grant: 3600,
      IdToken: 600,
      Interaction: 600,
      Session: 3600,
      ...options.ttl,
    },
  });
  // Behind a proxy, trust its X-Forwarded-Host and -Proto, so endpoint URLs are the proxy's.
  if (options.issuer) provider.proxy = true;
  const callback = provider.callback();
  server.on("request", callback);
  return {
    issuer,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
