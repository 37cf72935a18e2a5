import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { bareHostname, isPublicAddress, webhookUrlProblem } from '../../domain/webhook-target';

export interface WebhookRequest {
  url: string;
  /** The `whsec_…` secret. Never logged, never part of an error. */
  secret: string;
  /** The Standard Webhooks message id (`webhook-id`); the same for every retry of the same message. */
  messageId: string;
  body: string;
  timeoutMs: number;
  allowPrivate: boolean;
}

export interface WebhookAnswer {
  /** True for a 2xx answer. */
  ok: boolean;
  statusCode: number | null;
  /** Why no answer came (refused target, DNS, connection, timeout), or a non-2xx status; never a secret. */
  error: string | null;
  durationMs: number;
}

/** Bytes of an answer read (and dropped): enough to let the connection be reused, not to fill memory. */
const MAX_ANSWER_BYTES = 64 * 1024;

class RefusedTargetError extends Error {
  code = 'EREFUSEDTARGET';
}

/**
 * A DNS lookup that refuses the name when any address it resolves to is private, loopback,
 * link-local or reserved. The connection is made to the address this lookup checked (Node
 * connects to what `lookup` answers), so a name cannot be re-resolved to another address between
 * the check and the connection (DNS rebinding). The name is judged only by what it resolves to,
 * so no spelling of it (a trailing dot, another case) gets around the check. `resolve` is
 * replaceable for tests.
 */
export function checkedLookup(allowPrivate: boolean, resolve: typeof dnsLookup = dnsLookup) {
  return (
    hostname: string,
    options: LookupAllOptions | object,
    callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ) => {
    resolve(hostname, { ...(options as object), all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      if (!allowPrivate) {
        const refused = addresses.find((entry) => !isPublicAddress(entry.address));
        if (refused)
          return callback(
            new RefusedTargetError(
              `${hostname} resolves to ${refused.address}, a private, loopback, link-local or reserved address; Herald refuses those (HERALD_WEBHOOKS_ALLOW_PRIVATE)`,
            ),
            [],
          );
      }
      if ((options as { all?: boolean }).all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}

/**
 * Posts one Standard Webhooks message: signed with the endpoint's secret through the
 * `standardwebhooks` library (`webhook-id`, `webhook-timestamp`, `webhook-signature`), no
 * redirects followed, within `timeoutMs`. Never throws: the answer says what happened.
 */
export async function postWebhook(request: WebhookRequest): Promise<WebhookAnswer> {
  const started = performance.now();
  const done = (statusCode: number | null, error: string | null): WebhookAnswer => ({
    ok: statusCode !== null && statusCode >= 200 && statusCode < 300,
    statusCode,
    error,
    durationMs: Math.round(performance.now() - started),
  });
  const problem = webhookUrlProblem(request.url, request.allowPrivate);
  if (problem) return done(null, `the URL ${problem}`);
  const url = new URL(request.url);
  const host = bareHostname(url);
  // A literal address is never looked up: check it here.
  if (isIP(host) && !request.allowPrivate && !isPublicAddress(host))
    return done(null, `${host} is a private, loopback, link-local or reserved address; Herald refuses those (HERALD_WEBHOOKS_ALLOW_PRIVATE)`);

  const timestamp = new Date();
  const signature = new Webhook(request.secret).sign(request.messageId, timestamp, request.body);
  const body = Buffer.from(request.body, 'utf8');
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<WebhookAnswer>((resolve) => {
    let settled = false;
    const finish = (answer: WebhookAnswer) => {
      if (!settled) {
        settled = true;
        resolve(answer);
      }
    };
    const outgoing = transport.request(
      url,
      {
        method: 'POST',
        lookup: checkedLookup(request.allowPrivate) as never,
        signal: AbortSignal.timeout(request.timeoutMs),
        headers: {
          'content-type': 'application/json',
          'content-length': String(body.length),
          'user-agent': 'Herald-Webhooks/1',
          'webhook-id': request.messageId,
          'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
          'webhook-signature': signature,
        },
      },
      (answer) => {
        let read = 0;
        answer.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_ANSWER_BYTES) answer.destroy();
        });
        const status = answer.statusCode ?? null;
        const settle = () => finish(done(status, status !== null && status >= 200 && status < 300 ? null : `the endpoint answered ${status}`));
        answer.on('end', settle);
        answer.on('close', settle);
        answer.on('error', settle);
      },
    );
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      const reason = error.name === 'AbortError' || error.name === 'TimeoutError' ? `no answer within ${request.timeoutMs} ms` : error.message;
      finish(done(null, reason.slice(0, 500)));
    });
    outgoing.end(body);
  });
}
