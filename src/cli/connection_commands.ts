/**
 * `connections list|add|test|remove` and `secrets rotate`. Secrets come from a file or
 * standard input, never from the command line (where `ps` and shell history would keep
 * them): `--password-stdin`, `--key-file FILE` (and `--passphrase-stdin`).
 */
import {
  type ConnectionDeps,
  ConnectionInUse,
  ConnectionInvalid,
  createConnection,
  deleteConnection,
  listConnections,
  rotateSecrets,
  testConnection,
  updateConnection,
} from "../connections/store.ts";
import { intFlag, parse, UsageError } from "./args.ts";
import type { Command, CommandContext } from "./commands.ts";
import { cell, printError } from "./output.ts";

function storeDeps({ config, database }: CommandContext): ConnectionDeps {
  return {
    db: database.db,
    keys: { current: config.secretKey, previous: config.secretKeyPrevious },
  };
}

async function readStdin(): Promise<string> {
  const text = await new Response(Deno.stdin.readable).text();
  return text.replace(/\r?\n$/, "");
}

function id(text: string | undefined): number {
  const n = Number(text);
  if (!text || !Number.isInteger(n) || n <= 0) throw new UsageError("Give the connection's id");
  return n;
}

function reportInvalid(error: unknown): number {
  if (error instanceof ConnectionInvalid) {
    for (const p of error.problems) printError(`${p.field}: ${p.message}`);
    return 1;
  }
  if (error instanceof ConnectionInUse) {
    printError(error.message);
    return 1;
  }
  throw error;
}

const SPEC = {
  name: { type: "string" },
  description: { type: "string" },
  host: { type: "string" },
  port: { type: "string" },
  username: { type: "string" },
  "password-stdin": { type: "boolean" },
  "key-file": { type: "string" },
  "passphrase-stdin": { type: "boolean" },
  "no-download": { type: "boolean" },
  "allow-upload": { type: "boolean" },
  "allow-legacy-ciphers": { type: "boolean" },
  fingerprint: { type: "string" },
  json: { type: "boolean" },
} as const;

const list = async (args: string[], ctx: CommandContext) => {
  const { values } = parse(args, { json: { type: "boolean" } });
  const all = await listConnections(ctx.database.db);
  if (values.json) {
    ctx.data(JSON.stringify({ connections: all }, null, 2));
    return 0;
  }
  if (all.length === 0) ctx.out("No managed connections.");
  for (const c of all) {
    ctx.out(
      `${c.id}\t${cell(c.name)}\tsftp://${cell(c.username)}@${
        cell(c.host)
      }:${c.port}\t${c.authType}\t${c.allowDownload ? "download" : "no download"}\t${
        c.hostKeyFingerprint ?? "host key not accepted yet"
      }`,
    );
  }
  return 0;
};

const add = async (args: string[], ctx: CommandContext) => {
  const { values } = parse(args, SPEC);
  if (values["password-stdin"] && values["passphrase-stdin"]) {
    throw new UsageError("Only one of --password-stdin and --passphrase-stdin can read stdin");
  }
  const key = values["key-file"] ? await Deno.readTextFile(values["key-file"]) : undefined;
  const input = {
    name: values.name,
    description: values.description,
    host: values.host,
    port: intFlag(values.port, "port"),
    username: values.username,
    authType: key !== undefined ? "key" : "password",
    ...(values["password-stdin"] ? { password: await readStdin() } : {}),
    ...(key !== undefined ? { privateKey: key } : {}),
    ...(values["passphrase-stdin"] ? { passphrase: await readStdin() } : {}),
    allowDownload: !values["no-download"],
    allowUpload: values["allow-upload"] === true,
    allowLegacyCiphers: values["allow-legacy-ciphers"] === true,
    ...(values.fingerprint ? { hostKeyFingerprint: values.fingerprint } : {}),
  };
  try {
    const made = await createConnection(storeDeps(ctx), input);
    if (values.json) ctx.data(JSON.stringify(made, null, 2));
    else ctx.out(`Created connection ${made.id} (${made.name}).`);
    return 0;
  } catch (error) {
    return reportInvalid(error);
  }
};

const test = async (args: string[], ctx: CommandContext) => {
  const { values, positionals } = parse(args, {
    json: { type: "boolean" },
    accept: { type: "boolean" },
  });
  const connectionId = id(positionals[0]);
  const deps = storeDeps(ctx);
  const result = await testConnection(deps, connectionId);
  if (!result) {
    printError(`There is no connection ${connectionId}`);
    return 1;
  }
  if (values.json) ctx.data(JSON.stringify(result, null, 2));
  else {
    ctx.out(result.ok ? "Connected and logged in." : `Failed: ${result.error}`);
    if (result.fingerprint) {
      ctx.out(
        `Host key: ${result.fingerprint} (${result.pinned ? "accepted" : "not accepted yet"})`,
      );
    }
    for (const e of result.entries) ctx.out(`  ${cell(e.name)}\t${e.size}\t${e.modified}`);
  }
  if (values.accept && result.ok && !result.pinned) {
    await updateConnection(deps, connectionId, { hostKeyFingerprint: result.fingerprint });
    if (!values.json) ctx.out(`Accepted ${result.fingerprint}.`);
  }
  return result.ok ? 0 : 1;
};

const remove = async (args: string[], ctx: CommandContext) => {
  const connectionId = id(parse(args, {}).positionals[0]);
  try {
    if (!(await deleteConnection(ctx.database.db, connectionId))) {
      printError(`There is no connection ${connectionId}`);
      return 1;
    }
    ctx.out(`Removed connection ${connectionId}.`);
    return 0;
  } catch (error) {
    return reportInvalid(error);
  }
};

const SUBCOMMANDS: Record<string, Command> = { list, add, test, remove };

/** `connections list|add|test|remove`. */
export const connectionsCommand: Command = async (args, ctx) => {
  const [sub, ...rest] = args;
  const command = sub === undefined ? undefined : SUBCOMMANDS[sub];
  if (!command) throw new UsageError("Use: connections list|add|test|remove");
  return await command(rest, ctx);
};

/** `secrets rotate`: seal every stored secret again under AUTOCOMM_SECRET_KEY. */
export const secretsCommand: Command = async (args, ctx) => {
  if (args[0] !== "rotate") throw new UsageError("Use: secrets rotate");
  try {
    const n = await rotateSecrets(storeDeps(ctx));
    ctx.out(
      n === 0
        ? "Every stored secret is already sealed with AUTOCOMM_SECRET_KEY."
        : `Sealed ${n} connection secret${
          n === 1 ? "" : "s"
        } again with AUTOCOMM_SECRET_KEY; AUTOCOMM_SECRET_KEY_PREVIOUS can be removed.`,
    );
    return 0;
  } catch (error) {
    if (error instanceof Error && error.name === "SecretError") {
      printError(error.message);
      return 1;
    }
    return reportInvalid(error);
  }
};
