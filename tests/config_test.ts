import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../src/config.ts";

Deno.test("the defaults give the embedded database under ./data and UTC", () => {
  const config = loadConfig({ env: {} });
  assert.equal(config.port, 8000);
  assert.equal(config.host, "127.0.0.1");
  assert.equal(config.databaseUrl, "file:./data/autocomm.db");
  assert.equal(config.importRoot, "./data/import");
  assert.equal(config.timeZone, "UTC");
  assert.equal(config.minFileAgeSeconds, 60);
  assert.equal(config.runTimeoutSeconds, 1800);
  assert.equal(config.importProcessMaxMb, 160);
  assert.equal(config.runRetentionDays, 365);
  assert.equal(config.smtpUrl, undefined);
  assert.equal(config.publicUrl, "http://localhost:8000");
  assert.ok(Object.isFrozen(config));
});

Deno.test("every variable is read when set", () => {
  const config = loadConfig({
    env: {
      PORT: "9000",
      HOST: "0.0.0.0",
      DATABASE_URL: "http://127.0.0.1:8080",
      DATABASE_AUTH_TOKEN: "secret",
      AUTOCOMM_DATA_DIR: "/var/lib/autocomm/",
      AUTOCOMM_IMPORT_ROOT: "/srv/import",
      AUTOCOMM_TIMEZONE: "America/Chicago",
      AUTOCOMM_MIN_FILE_AGE_SECONDS: "0",
      AUTOCOMM_RUN_TIMEOUT_SECONDS: "60",
      AUTOCOMM_IMPORT_PROCESS_MAX_MB: "512",
      AUTOCOMM_STAGING_THREAD_MIN_BYTES: "0",
      AUTOCOMM_RUN_RETENTION_DAYS: "30",
      AUTOCOMM_BUSY_TIMEOUT_MS: "2000",
      SMTP_URL: "smtp://mail.example.org:587",
      SMTP_FROM: "autocomm@example.org",
      AUTOCOMM_PUBLIC_URL: "https://autocomm.example.org/",
      AUTOCOMM_API_TOKEN: "token",
      AUTOCOMM_WEBHOOK_SECRET: "hook",
      AUTOCOMM_HOST_ORIGINS: "https://sis.example.org, https://sis2.example.org",
      AUTOCOMM_LOG_LEVEL: "debug",
    },
  });
  assert.equal(config.port, 9000);
  assert.equal(config.host, "0.0.0.0");
  assert.equal(config.databaseUrl, "http://127.0.0.1:8080");
  assert.equal(config.databaseAuthToken, "secret");
  assert.equal(config.dataDir, "/var/lib/autocomm");
  assert.equal(config.importRoot, "/srv/import");
  assert.equal(config.timeZone, "America/Chicago");
  assert.equal(config.minFileAgeSeconds, 0);
  assert.equal(config.runTimeoutSeconds, 60);
  assert.equal(config.importProcessMaxMb, 512);
  assert.equal(config.stagingThreadMinBytes, 0);
  assert.equal(config.runRetentionDays, 30);
  assert.equal(config.busyTimeoutMs, 2000);
  assert.equal(config.smtpUrl, "smtp://mail.example.org:587");
  assert.equal(config.smtpFrom, "autocomm@example.org");
  assert.equal(config.publicUrl, "https://autocomm.example.org");
  assert.equal(config.apiToken, "token");
  assert.equal(config.webhookSecret, "hook");
  assert.deepEqual(config.hostOrigins, ["https://sis.example.org", "https://sis2.example.org"]);
  assert.equal(config.logLevel, "debug");
});

const BAD: [string, string][] = [
  ["PORT", "eighty"],
  ["PORT", "70000"],
  ["DATABASE_URL", "postgres://db/autocomm"],
  ["AUTOCOMM_TIMEZONE", "Mars/Olympus_Mons"],
  ["AUTOCOMM_MIN_FILE_AGE_SECONDS", "-5"],
  ["AUTOCOMM_RUN_TIMEOUT_SECONDS", "1.5"],
  ["AUTOCOMM_RUN_RETENTION_DAYS", "0"],
  ["SMTP_URL", "mail.example.org"],
  ["AUTOCOMM_PUBLIC_URL", "ftp://example.org"],
  ["AUTOCOMM_HOST_ORIGINS", "https://sis.example.org/path"],
  ["AUTOCOMM_LOG_LEVEL", "loud"],
];

for (const [name, value] of BAD) {
  Deno.test(`a bad ${name} fails with a message naming the variable (${value})`, () => {
    assert.throws(() => loadConfig({ env: { [name]: value } }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.variable, name);
      assert.match(error.message, new RegExp(`^${name}: `));
      return true;
    });
  });
}

Deno.test("the service refuses to start on a bad variable and says which", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--frozen", "src/main.ts"],
    env: { AUTOCOMM_TIMEZONE: "Nowhere/Land", PORT: "0" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 78);
  assert.match(
    new TextDecoder().decode(out.stderr),
    /AUTOCOMM_TIMEZONE: unknown time zone "Nowhere\/Land"/,
  );
});

// The completion callback to the host SIS.

Deno.test("the host callback is off by default and read with its secret when set", () => {
  const off = loadConfig({ env: {} });
  assert.equal(off.hostCallbackUrl, undefined);
  assert.equal(off.hostCallbackSecret, undefined);
  const on = loadConfig({
    env: {
      AUTOCOMM_HOST_CALLBACK_URL: "https://sis.example.org/autocomm/callback?tenant=4",
      AUTOCOMM_HOST_CALLBACK_SECRET: " s3cret ",
    },
  });
  assert.equal(on.hostCallbackUrl, "https://sis.example.org/autocomm/callback?tenant=4");
  assert.equal(on.hostCallbackSecret, "s3cret");
});

for (
  const [env, variable, message] of [
    [
      { AUTOCOMM_HOST_CALLBACK_URL: "https://sis.example.org/cb" },
      "AUTOCOMM_HOST_CALLBACK_SECRET",
      /must be set when AUTOCOMM_HOST_CALLBACK_URL is/,
    ],
    [
      {
        AUTOCOMM_HOST_CALLBACK_URL: "ftp://sis.example.org/cb",
        AUTOCOMM_HOST_CALLBACK_SECRET: "s",
      },
      "AUTOCOMM_HOST_CALLBACK_URL",
      /expected an http\(s\) URL/,
    ],
    [
      { AUTOCOMM_HOST_CALLBACK_URL: "not a url", AUTOCOMM_HOST_CALLBACK_SECRET: "s" },
      "AUTOCOMM_HOST_CALLBACK_URL",
      /expected an http\(s\) URL/,
    ],
    [
      {
        AUTOCOMM_HOST_CALLBACK_URL: "https://user:pw@sis.example.org/cb",
        AUTOCOMM_HOST_CALLBACK_SECRET: "s",
      },
      "AUTOCOMM_HOST_CALLBACK_URL",
      /without a user name or password, .*got "https:\/\/…@sis/,
    ],
  ] as [Record<string, string>, string, RegExp][]
) {
  Deno.test(`a host callback set up wrong fails naming ${variable} (${JSON.stringify(env)})`, () => {
    assert.throws(() => loadConfig({ env }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.variable, variable);
      assert.match(error.message, message);
      assert.doesNotMatch(error.message, /pw/);
      return true;
    });
  });
}

const OIDC = {
  AUTOCOMM_OIDC_ISSUER: "https://login.district.example/oidc",
  AUTOCOMM_OIDC_CLIENT_ID: "autocomm",
  AUTOCOMM_OIDC_CLIENT_SECRET: "s3cret",
};

Deno.test("OpenID Connect sign-in is off by default and the admin link on", () => {
  const config = loadConfig({ env: {} });
  assert.equal(config.oidc, undefined);
  assert.equal(config.adminLink, true);
});

Deno.test("OpenID Connect settings are read with their defaults: role and school claims, identity role map, scopes", () => {
  const config = loadConfig({ env: OIDC });
  assert.deepEqual({ ...config.oidc }, {
    issuer: "https://login.district.example/oidc",
    clientId: "autocomm",
    clientSecret: "s3cret",
    roleClaim: "autocomm_role",
    roles: { viewer: "viewer", runner: "runner", editor: "editor", admin: "admin" },
    schoolClaim: "school",
    scopes: "openid profile email",
  });
  const custom = loadConfig({
    env: {
      ...OIDC,
      AUTOCOMM_OIDC_ROLE_CLAIM: "groups",
      AUTOCOMM_OIDC_ROLES: '{"AutoComm-Editors": "editor", "Staff": "viewer"}',
      AUTOCOMM_OIDC_SCHOOL_CLAIM: "off",
      AUTOCOMM_OIDC_SCOPES: "openid  profile",
      AUTOCOMM_ADMIN_LINK: "OFF",
    },
  });
  assert.equal(custom.oidc?.roleClaim, "groups");
  assert.deepEqual({ ...custom.oidc?.roles }, { "AutoComm-Editors": "editor", Staff: "viewer" });
  assert.equal(custom.oidc?.schoolClaim, undefined);
  assert.equal(custom.oidc?.scopes, "openid profile");
  assert.equal(custom.adminLink, false);
  for (const host of ["http://127.0.0.1:9000", "http://localhost:9000", "http://[::1]:9000"]) {
    assert.equal(loadConfig({ env: { ...OIDC, AUTOCOMM_OIDC_ISSUER: host } }).oidc?.issuer, host);
  }
});

Deno.test("bad OpenID Connect settings stop start-up naming the variable", () => {
  const refused: [Record<string, string>, string, RegExp][] = [
    [{ AUTOCOMM_OIDC_ISSUER: OIDC.AUTOCOMM_OIDC_ISSUER }, "AUTOCOMM_OIDC_CLIENT_ID", /together/],
    [
      { ...OIDC, AUTOCOMM_OIDC_CLIENT_SECRET: "" },
      "AUTOCOMM_OIDC_CLIENT_SECRET",
      /AUTOCOMM_OIDC_CLIENT_SECRET is not set/,
    ],
    [
      { ...OIDC, AUTOCOMM_OIDC_ISSUER: "http://login.district.example" },
      "AUTOCOMM_OIDC_ISSUER",
      /http:\/\/ only on 127\.0\.0\.1/,
    ],
    [
      { ...OIDC, AUTOCOMM_OIDC_ISSUER: "http://127.0.0.1.evil.example" },
      "AUTOCOMM_OIDC_ISSUER",
      /https/,
    ],
    [{ ...OIDC, AUTOCOMM_OIDC_ISSUER: "login.example" }, "AUTOCOMM_OIDC_ISSUER", /https/],
    [{ ...OIDC, AUTOCOMM_OIDC_ROLES: "[1]" }, "AUTOCOMM_OIDC_ROLES", /JSON object/],
    [{ ...OIDC, AUTOCOMM_OIDC_ROLES: "{" }, "AUTOCOMM_OIDC_ROLES", /JSON object/],
    [
      { ...OIDC, AUTOCOMM_OIDC_ROLES: '{"Staff": "superuser"}' },
      "AUTOCOMM_OIDC_ROLES",
      /"Staff" maps to "superuser"/,
    ],
    [{ ...OIDC, AUTOCOMM_OIDC_SCOPES: "profile email" }, "AUTOCOMM_OIDC_SCOPES", /openid/],
    [{ AUTOCOMM_ADMIN_LINK: "no" }, "AUTOCOMM_ADMIN_LINK", /on or off/],
  ];
  for (const [env, variable, message] of refused) {
    assert.throws(() => loadConfig({ env }), (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.equal(error.variable, variable);
      assert.match(error.message, message);
      return true;
    });
  }
});
