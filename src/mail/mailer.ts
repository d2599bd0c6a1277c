/**
 * Sending mail: one small interface, with a nodemailer implementation for
 * `SMTP_URL` and a log implementation when no SMTP server is configured (the
 * message is written to the log instead, as one JSON line).
 */
import nodemailer from "nodemailer";
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";

/** One message to send. */
export interface MailMessage {
  /** Comma-separated addresses. */
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** Sends messages. */
export interface Mailer {
  /** `smtp` sends through `SMTP_URL`; `log` writes messages to the log. */
  readonly kind: "smtp" | "log";
  /** Sends a message; throws when the server does not accept it. */
  send(message: MailMessage): Promise<void>;
  /** Closes idle connections. */
  close(): void;
}

/** Options of {@linkcode createMailer}. */
export interface MailerOptions {
  logger: Logger;
  /**
   * Longest wait to connect and for the server's greeting, in milliseconds
   * (default 15000); a silent server fails the send after 4× this.
   */
  timeoutMs?: number;
}

/** A mailer for the configuration: SMTP when `SMTP_URL` is set, the log otherwise. */
export function createMailer(
  config: Pick<Config, "smtpUrl" | "smtpFrom">,
  options: MailerOptions,
): Mailer {
  if (config.smtpUrl === undefined) return createLogMailer(options.logger);
  const timeout = options.timeoutMs ?? 15_000;
  const transport = nodemailer.createTransport({
    url: config.smtpUrl,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout * 4,
  }, { from: config.smtpFrom });
  return {
    kind: "smtp",
    async send(message) {
      await transport.sendMail({
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
      });
    },
    close: () => transport.close(),
  };
}

/** A mailer that writes each message to the log (event `mail_not_sent`). */
export function createLogMailer(logger: Logger): Mailer {
  return {
    kind: "log",
    send(message) {
      logger.info("mail_not_sent", {
        reason: "SMTP_URL is not set; the message is written to the log instead",
        to: message.to,
        subject: message.subject,
        text: message.text,
      });
      return Promise.resolve();
    },
    close() {},
  };
}
