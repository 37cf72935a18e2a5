import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback HTTP proxy in front of the fake Resend (test/support/fake-resend.ts) that adds the
 * faults the fake cannot script itself: time. Herald points RESEND_BASE_URL at the proxy; the fake
 * behind it stays the single source of truth for what was delivered (per idempotency key).
 *
 * - `slowFirstAttempt(to, 'slow-accept')`: the provider is slow to process the first request for
 *   `to`. It is held, unanswered and not yet accepted, until Herald gives up and retries; a retry
 *   that arrives while the original is in progress gets Resend's 409
 *   `concurrent_idempotent_requests`; then the original is accepted and answered (if anyone still
 *   listens), and later retries get the remembered id.
 * - `slowFirstAttempt(to, 'slow-answer')`: the provider accepts the first request at once but its
 *   answer is held until Herald retries: the send happened, the client timed out before learning it.
 * - `holdAnswers(true)`: every request is forwarded (so it is accepted) and its answer held until
 *   `releaseHeld()`: activities in flight on a worker that is about to die.
 *
 * Holding waits for the retry instead of a fixed delay, so it works whatever the client-side or
 * Temporal timeout is; `maxHoldMs` bounds it so that a missing retry fails the test instead of
 * hanging it.
 */

export type SlowMode = 'slow-accept' | 'slow-answer';

export interface ProxyAttempt {
  idempotencyKey?: string;
  to: string[];
  receivedAt: number;
  /** What happened: forwarded (answered with the provider's status), 409 from the proxy, or still held. */
  outcome: 'pending' | 'held' | 'forwarded' | 'concurrent-409' | 'upstream-error';
  /** Status the client was answered (0 if it was gone by then or never answered). */
  status: number;
  /** When the provider (the fake) saw the request; undefined if it never did. */
  forwardedAt?: number;
  /** When the proxy answered; undefined if never. */
  answeredAt?: number;
  /** The client closed the connection before the answer (it timed out or died). */
  clientGone: boolean;
  /** This was the deliberately slow first attempt. */
  slow?: SlowMode;
}

export interface ProviderProxy {
  url: string;
  readonly attempts: ProxyAttempt[];
  attemptsFor(idempotencyKey: string): ProxyAttempt[];
  slowFirstAttempt(to: string, mode: SlowMode, maxHoldMs?: number): void;
  holdAnswers(on: boolean): void;
  /** Requests accepted by the provider whose answers are being held. */
  heldCount(): number;
  /** Answers every held request now (to whoever is still connected) and stops holding. */
  releaseHeld(): void;
  close(): Promise<void>;
}

interface SlowRule {
  mode: SlowMode;
  maxHoldMs: number;
  used: boolean;
  key?: string;
  inProgress: boolean;
  retrySeen: () => void;
  retried: Promise<void>;
}

interface UpstreamAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const HOP_BY_HOP = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'content-length']);

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The recipients of a send, or of every email of a batch (`POST /emails/batch` sends an array). */
function recipientsOf(body: Buffer): string[] {
  const of = (email: any): string[] => {
    const to = email?.to;
    if (typeof to === 'string') return [to];
    if (Array.isArray(to)) return to.filter((value): value is string => typeof value === 'string');
    return [];
  };
  try {
    const parsed = JSON.parse(body.toString('utf8'));
    return Array.isArray(parsed) ? parsed.flatMap(of) : of(parsed);
  } catch {
    // Not JSON: no recipients to match.
  }
  return [];
}

export async function startProviderProxy(upstreamUrl: string): Promise<ProviderProxy> {
  const upstream = new URL(upstreamUrl);
  const attempts: ProxyAttempt[] = [];
  const slowRules = new Map<string, SlowRule>();
  let holding = false;
  let held: (() => void)[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const delay = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const forward = (req: IncomingMessage, body: Buffer): Promise<UpstreamAnswer> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(req.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
      headers['content-length'] = String(body.length);
      const out = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks) }));
        answer.on('error', reject);
      });
      out.on('error', reject);
      out.end(body);
    });

  const answer = (attempt: ProxyAttempt, res: ServerResponse, status: number, headers: IncomingHttpHeaders, body: Buffer | string) => {
    attempt.answeredAt = Date.now();
    if (attempt.clientGone || res.destroyed || res.socket?.destroyed) {
      attempt.clientGone = true;
      return;
    }
    const out: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
    attempt.status = status;
    res.writeHead(status, out);
    res.end(body);
  };

  const forwardAndAnswer = async (attempt: ProxyAttempt, req: IncomingMessage, res: ServerResponse, body: Buffer, hold?: () => Promise<void>) => {
    let upstreamAnswer: UpstreamAnswer;
    try {
      attempt.forwardedAt = Date.now();
      upstreamAnswer = await forward(req, body);
    } catch (error) {
      attempt.outcome = 'upstream-error';
      answer(attempt, res, 502, { 'content-type': 'text/plain' }, `proxy: ${(error as Error).message}`);
      return;
    }
    if (hold) await hold();
    attempt.outcome = 'forwarded';
    answer(attempt, res, upstreamAnswer.status, upstreamAnswer.headers, upstreamAnswer.body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const keyHeader = req.headers['idempotency-key'];
    const idempotencyKey = Array.isArray(keyHeader) ? keyHeader[0] : keyHeader;
    const to = recipientsOf(body);
    const attempt: ProxyAttempt = {
      ...(idempotencyKey !== undefined && { idempotencyKey }),
      to,
      receivedAt: Date.now(),
      outcome: 'pending',
      status: 0,
      clientGone: false,
    };
    attempts.push(attempt);
    res.on('close', () => {
      if (!res.writableFinished) attempt.clientGone = true;
    });

    const firstSlow = to.map((address) => slowRules.get(address)).find((rule) => rule && !rule.used);
    if (firstSlow) {
      firstSlow.used = true;
      firstSlow.key = idempotencyKey;
      attempt.slow = firstSlow.mode;
      const waitForRetry = () => Promise.race([firstSlow.retried, delay(firstSlow.maxHoldMs)]);
      if (firstSlow.mode === 'slow-accept') {
        firstSlow.inProgress = true;
        attempt.outcome = 'held';
        await waitForRetry();
        await forwardAndAnswer(attempt, req, res, body);
        firstSlow.inProgress = false;
      } else {
        attempt.outcome = 'held';
        await forwardAndAnswer(attempt, req, res, body, waitForRetry);
      }
      return;
    }

    const retryOfSlow = [...slowRules.values()].find((rule) => rule.key !== undefined && rule.key === idempotencyKey);
    if (retryOfSlow) {
      retryOfSlow.retrySeen();
      if (retryOfSlow.inProgress) {
        attempt.outcome = 'concurrent-409';
        const message = 'Same idempotency key used while original request is still in progress.';
        answer(attempt, res, 409, { 'content-type': 'application/json' }, JSON.stringify({ statusCode: 409, name: 'concurrent_idempotent_requests', message }));
        return;
      }
    }

    if (holding) {
      attempt.outcome = 'held';
      await forwardAndAnswer(attempt, req, res, body, () => new Promise<void>((resolve) => held.push(resolve)));
      return;
    }
    await forwardAndAnswer(attempt, req, res, body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`proxy failure: ${String(error)}`);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const releaseHeld = () => {
    holding = false;
    const release = held;
    held = [];
    for (const resolve of release) resolve();
  };

  return {
    url: `http://127.0.0.1:${port}`,
    attempts,
    attemptsFor: (key) => attempts.filter((attempt) => attempt.idempotencyKey === key),
    slowFirstAttempt(to, mode, maxHoldMs = 60_000) {
      let retrySeen!: () => void;
      const retried = new Promise<void>((resolve) => (retrySeen = resolve));
      slowRules.set(to, { mode, maxHoldMs, used: false, inProgress: false, retrySeen, retried });
    },
    holdAnswers(on) {
      if (on) holding = true;
      else releaseHeld();
    },
    heldCount: () => held.length,
    releaseHeld,
    async close() {
      releaseHeld();
      for (const rule of slowRules.values()) rule.retrySeen();
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
