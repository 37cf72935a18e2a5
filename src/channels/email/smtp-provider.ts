import { createHash } from 'node:crypto';
import nodemailer, { type NodemailerError, type Transporter } from 'nodemailer';
import { ProviderRejectedError, ProviderUnavailableError } from '../provider-errors';
import type { EmailMessage, EmailProvider } from './email-provider';
import { withIdempotencyHeader } from './idempotency-header';
import { refuseBatch } from './one-by-one-batch';

/** Where and as whom Herald speaks SMTP: a channel configuration's settings with its password read. */
export interface SmtpServer {
  host: string;
  port: number;
  /** TLS from the first byte (465); otherwise STARTTLS whenever the server offers it. */
  secure: boolean;
  auth?: { user: string; pass: string };
}

/**
 * Email over SMTP (nodemailer), one connection per message: no pool outlives a send, so a
 * stopping worker leaves no socket open and a server that drops idle connections costs nothing.
 *
 * SMTP has no idempotency key: a message the server accepted but whose answer was lost (the
 * connection dropped after the final `.`) is sent again by the retry, a second copy. Both copies
 * carry the same `Message-ID` and `X-Herald-Idempotency-Key`, derived from the idempotency key, so
 * a receiver can tell them apart from two messages (docs/channels.md, SMTP).
 */
export class SmtpEmailProvider implements EmailProvider {
  readonly name = 'smtp';
  private readonly transport: Transporter;

  constructor(
    server: SmtpServer,
    /** Each wait (connecting, the greeting, every reply) gives up after this long: retried, not stuck until the activity times out. */
    timeoutMs: number,
  ) {
    this.transport = nodemailer.createTransport({
      host: server.host,
      port: server.port,
      secure: server.secure,
      ...(server.auth && { auth: server.auth }),
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
      dnsTimeout: timeoutMs,
      // Content is rendered from templates: it never names a file or URL for nodemailer to fetch.
      disableFileAccess: true,
      disableUrlAccess: true,
    });
  }

  async send(message: EmailMessage): Promise<{ messageId: string }> {
    const messageId = stableMessageId(message.idempotencyKey, message.from);
    await this.transport
      .sendMail({
        from: message.from,
        to: message.to,
        subject: message.subject,
        html: message.html,
        ...(message.text !== undefined && { text: message.text }),
        ...(message.replyTo !== undefined && { replyTo: message.replyTo }),
        headers: withIdempotencyHeader(message.headers, message.idempotencyKey),
        messageId,
      })
      .catch((error: unknown) => {
        throw smtpError(error as NodemailerError);
      });
    return { messageId };
  }

  /** No batch in SMTP, and no key to make a partly sent one safe to repeat: see refuseBatch. */
  sendBatch(messages: EmailMessage[], _batchIdempotencyKey: string): Promise<{ messageIds: string[] }> {
    return refuseBatch('SMTP', messages);
  }
}

/** An id-left of RFC 5322: Herald's keys (`herald-<hex>`) as they are, any other key hashed. */
const READABLE_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * The `Message-ID` of every attempt at one message: from its idempotency key, at the sender's
 * domain, so a repeated send after a lost answer is recognisably the same message.
 */
export function stableMessageId(idempotencyKey: string, from: string): string {
  const left = READABLE_ID.test(idempotencyKey) ? idempotencyKey : `herald-${createHash('sha256').update(idempotencyKey).digest('hex')}`;
  const domain = /@([^@<>\s]+)>?\s*$/.exec(from)?.[1]?.toLowerCase() ?? 'herald.invalid';
  return `<${left}@${domain}>`;
}

/**
 * An SMTP failure as the error Herald acts on. A reply decides by its class (RFC 5321): 4xx
 * (421 closing, 450/451/452 mailbox busy, local error, storage) may succeed later, 5xx is refused
 * for good. Without a reply, a message nodemailer itself refused (EENVELOPE, EMESSAGE: no sender
 * or recipient, too large) is refused for good, and everything else (refused, reset or timed out
 * connection, TLS, DNS) is an outage.
 */
export function smtpError(error: NodemailerError): ProviderUnavailableError | ProviderRejectedError {
  const reply = error.responseCode;
  const detail = `SMTP ${reply ?? error.code ?? 'error'}${error.command ? ` at ${error.command}` : ''}: ${error.message}`;
  if (reply !== undefined) return reply >= 500 && reply < 600 ? new ProviderRejectedError(detail) : new ProviderUnavailableError(detail);
  if (error.code === 'EENVELOPE' || error.code === 'EMESSAGE') return new ProviderRejectedError(detail);
  return new ProviderUnavailableError(detail);
}
