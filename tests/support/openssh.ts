/**
 * Debian's OpenSSH `sshd`, started by a test on a loopback port with a throwaway host
 * key, client key, configuration and — when the test runs as root, as in CI — a
 * throwaway system user (otherwise the current user): key login only, SFTP only
 * (`internal-sftp`), the login folder a temporary folder. Where `sshd` is absent the
 * tests are skipped with a printed line (in CI, where `.ci/run` installs
 * openssh-server, a missing `sshd` fails).
 */
import { freePort } from "./sqld.ts";

const SSHD = "/usr/sbin/sshd";

/** Why sshd cannot run here, or undefined. */
export async function opensshProblem(): Promise<string | undefined> {
  try {
    await Deno.stat(SSHD);
    await Deno.stat("/usr/bin/ssh-keygen");
    return undefined;
  } catch {
    return "OpenSSH's sshd is not installed (apt-get install -y openssh-server)";
  }
}

/** A running sshd. */
export interface OpenSsh extends AsyncDisposable {
  port: number;
  username: string;
  /** The client's private key (OpenSSH format). */
  privateKey: string;
  /** The host key's fingerprint as `ssh-keygen -l` prints it. */
  fingerprint: string;
  /** The login folder. */
  root: string;
  stop(): Promise<void>;
}

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** Starts sshd; stop it (or dispose it) at the end. */
export async function startOpenSsh(): Promise<OpenSsh> {
  const dir = await Deno.makeTempDir({ prefix: "autocomm_sshd_" });
  const root = `${dir}/home`;
  await Deno.mkdir(root);
  await Deno.mkdir("/run/sshd", { recursive: true }).catch(() => {});
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", `${dir}/host_key`]);
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", `${dir}/client_key`]);
  await Deno.copyFile(`${dir}/client_key.pub`, `${dir}/authorized_keys`);
  const fingerprint = (await run("ssh-keygen", ["-l", "-f", `${dir}/host_key.pub`])).split(" ")[1]!;
  // Every step of the way must be readable by the user sshd logs in as.
  await Deno.chmod(dir, 0o755);
  await Deno.chmod(root, 0o755);
  await Deno.chmod(`${dir}/authorized_keys`, 0o644);
  let username = (await run("id", ["-un"])).trim();
  let throwaway: string | undefined;
  if (Deno.uid() === 0) {
    throwaway = `acsftp${crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36)}`;
    // A hash no password matches: password login is impossible, yet the account is not
    // locked ("!" or "*" would be, and sshd refuses locked accounts even for keys).
    await run("useradd", [
      "--system",
      "--no-create-home",
      "--home-dir",
      root,
      "--shell",
      "/usr/sbin/nologin",
      "--password",
      "$6$autocomm$no.password.has.this.hash",
      throwaway,
    ]);
    username = throwaway;
  }
  const port = freePort();
  await Deno.writeTextFile(
    `${dir}/sshd_config`,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${dir}/host_key`,
      `PidFile ${dir}/sshd.pid`,
      `AuthorizedKeysFile ${dir}/authorized_keys`,
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PubkeyAuthentication yes",
      "PermitRootLogin prohibit-password",
      "UsePAM no",
      "StrictModes no",
      `AllowUsers ${username}`,
      `Subsystem sftp internal-sftp -d ${root}`,
      `ForceCommand internal-sftp -d ${root}`,
      "LogLevel ERROR",
    ].join("\n") + "\n",
  );
  const child = new Deno.Command(SSHD, {
    args: ["-D", "-e", "-f", `${dir}/sshd_config`],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  // Wait until it listens.
  for (const until = Date.now() + 10_000;;) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      break;
    } catch {
      if (Date.now() > until) {
        child.kill("SIGKILL");
        throw new Error(`sshd did not start: ${await stderr}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      child.kill("SIGTERM");
    } catch {
      // gone
    }
    await child.status;
    await stderr;
    if (throwaway) await run("userdel", [throwaway]).catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  return {
    port,
    username,
    privateKey: await Deno.readTextFile(`${dir}/client_key`),
    fingerprint,
    root,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
