/**
 * A real SMTP server for tests (`smtp-server` on 127.0.0.1, no TLS, auth optional);
 * received messages are parsed with `mailparser`.
 *
 * ```ts
 * await using smtp = await startSmtpServer();
 * // SMTP_URL = smtp.url
 * const [mail] = await smtp.waitFor(1);
 * ```
 */
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

/** A running test SMTP server. */
export interface TestSmtpServer extends AsyncDisposable {
  readonly port: number;
  /** `smtp://127.0.0.1:<port>` */
  readonly url: string;
  /** Messages accepted so far, parsed. */
  readonly messages: ParsedMail[];
  /** While true, every message is refused with `550 Mailbox unavailable`. */
  reject: boolean;
  /** Resolves with the messages once at least `count` have arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<ParsedMail[]>;
  close(): Promise<void>;
}

/** Options of {@linkcode startSmtpServer}. */
export interface SmtpServerOptions {
  /** Port to listen on; default 0 (any free port). */
  port?: number;
  /** Refuse messages from the start. */
  reject?: boolean;
}

/** Starts the server. */
export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<TestSmtpServer> {
  const messages: ParsedMail[] = [];
  const state = { reject: options.reject ?? false };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream).then((mail) => {
        if (state.reject) {
          const error = new Error("Mailbox unavailable") as Error & { responseCode: number };
          error.responseCode = 550;
          callback(error);
          return;
        }
        messages.push(mail);
        callback();
      }, (error: Error) => callback(error));
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const address = server.server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    get reject() {
      return state.reject;
    },
    set reject(value: boolean) {
      state.reject = value;
    },
    async waitFor(count: number, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      while (messages.length < count) {
        if (Date.now() > until) {
          throw new Error(`expected ${count} messages, received ${messages.length}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      return messages;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A port nothing listens on (it was free a moment ago). */
export async function freePort(): Promise<number> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await Promise.resolve();
  return port;
}
