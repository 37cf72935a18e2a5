import { randomUUID } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

/**
 * A real SMTP server (the `smtp-server` package) on 127.0.0.1 and a free port, for tests that
 * point an `smtp` channel configuration at it (`host` 127.0.0.1, `port` fake.port, `secure` false).
 *
 * What it does as a mail server would:
 * - greeting, EHLO, MAIL FROM, RCPT TO, DATA; no STARTTLS (plain text on loopback). With a
 *   username and password, AUTH PLAIN/LOGIN is required before MAIL FROM (535 when wrong).
 * - an accepted message is answered `250 OK: queued as <id>` and recorded with its envelope, its
 *   raw text and its headers.
 * - no idempotency: every accepted DATA is a new message, as with any SMTP server.
 *
 * Its modes, the SMTP side of a provider fake's 2xx / 429 / 5xx / timeout / permanent error: a
 * scripted reply (421 or 450/452 "too many", 451 local error, 550/553/554 refused) to RCPT TO or
 * to the end of DATA, a DATA held unanswered past the client's timeout, and a connection closed
 * at DATA before or after the message was taken (the lost answer). `holdAnswers` takes every
 * message at once and keeps its `250` until `releaseHeld()`: sends in flight on a worker about to die.
 */

export interface FakeSmtpFault {
  /** The reply code: 4xx transient (421, 450, 451, 452), 5xx permanent (550, 553, 554). */
  reply?: number;
  message?: string;
  /** The command it answers: RCPT (the recipient) or DATA (the message; the default). */
  at?: 'RCPT' | 'DATA';
  /** Never answer the DATA: the client's socket timeout ends the attempt, and nothing is delivered. */
  hold?: boolean;
  /** Close the connection at the end of DATA without taking the message. */
  dropConnection?: boolean;
  /** Take and record the message, then close the connection instead of answering: the client never learns it was sent. */
  acceptThenDrop?: boolean;
}

export interface FakeSmtpMessage {
  id: string;
  receivedAt: number;
  /** The envelope: MAIL FROM and RCPT TO. */
  mailFrom: string;
  rcptTo: string[];
  /** The user who authenticated, if any. */
  user?: string;
  raw: string;
  /** Header names lower-cased, folded lines joined; the last of a repeated header. */
  headers: Record<string, string>;
}

/** One DATA (or refused RCPT TO) the fake saw, with what it answered; 0 when it dropped or held it. */
export interface FakeSmtpAttempt {
  receivedAt: number;
  rcptTo: string[];
  reply: number;
}

export interface FakeSmtp {
  host: string;
  port: number;
  username?: string;
  password?: string;
  /** Messages taken, one per accepted DATA (a lost answer's message included). */
  readonly messages: FakeSmtpMessage[];
  readonly attempts: FakeSmtpAttempt[];
  messagesTo(address: string): FakeSmtpMessage[];
  attemptsTo(address: string): FakeSmtpAttempt[];
  /** Answers the next matching commands with these faults, in order, before behaving normally. */
  failNext(faults: FakeSmtpFault[], match?: { to?: string }): void;
  /** Always refuses this recipient at RCPT TO (550 by default). */
  rejectAddress(address: string, reply?: number, message?: string): void;
  /** While on, every message is taken and recorded at once, and its `250` held until `releaseHeld()`. */
  holdAnswers(on: boolean): void;
  /** Messages taken whose answers are being held. */
  heldCount(): number;
  /** Answers every held message now (to whoever is still connected) and stops holding. */
  releaseHeld(): void;
  reset(): void;
  close(): Promise<void>;
}

/** An error smtp-server answers with its code. */
function replyError(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}

const DEFAULT_MESSAGES: Record<number, string> = {
  421: 'Too many connections, try again later',
  450: 'Mailbox busy, try again later',
  451: 'Local error in processing',
  452: 'Too many recipients this hour',
  550: 'No such user here',
  553: 'Mailbox name not allowed',
  554: 'Transaction failed',
};

/** The header block of a raw message, unfolded. */
function parseHeaders(raw: string): Record<string, string> {
  const block = raw.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const headers: Record<string, string> = {};
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

export async function startFakeSmtp(options: { username?: string; password?: string } = {}): Promise<FakeSmtp> {
  const messages: FakeSmtpMessage[] = [];
  const attempts: FakeSmtpAttempt[] = [];
  let faults: { fault: FakeSmtpFault; to?: string }[] = [];
  let rejected = new Map<string, { reply: number; message?: string }>();
  let holding = false;
  const held: (() => void)[] = [];
  /** Client sockets by their port, so a fault can close the connection of a session. */
  const sockets = new Map<number, Socket>();
  const requiresAuth = options.username !== undefined;

  const takeFault = (at: 'RCPT' | 'DATA', to: string[]) => {
    const index = faults.findIndex(({ fault, to: match }) => (fault.at ?? 'DATA') === at && (match === undefined || to.includes(match)));
    return index >= 0 ? faults.splice(index, 1)[0]!.fault : undefined;
  };
  const rcptTo = (session: SMTPServerSession) => session.envelope.rcptTo.map((address) => address.address);

  const server = new SMTPServer({
    secure: false,
    disabledCommands: requiresAuth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !requiresAuth,
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    closeTimeout: 100,
    onAuth(auth, _session, callback) {
      if (auth.username === options.username && auth.password === options.password) return callback(null, { user: auth.username });
      return callback(replyError(535, 'Authentication credentials invalid'));
    },
    onRcptTo(address, _session, callback) {
      const to = [address.address];
      const refusal = rejected.get(address.address);
      const fault = takeFault('RCPT', to);
      const reply = refusal?.reply ?? fault?.reply;
      if (reply === undefined) return callback();
      attempts.push({ receivedAt: Date.now(), rcptTo: to, reply });
      return callback(replyError(reply, refusal?.message ?? fault?.message ?? DEFAULT_MESSAGES[reply] ?? `Error ${reply}`));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const to = rcptTo(session);
        const attempt: FakeSmtpAttempt = { receivedAt: Date.now(), rcptTo: to, reply: 0 };
        attempts.push(attempt);
        const fault = takeFault('DATA', to);
        if (fault?.hold) return; // never answered: the client gives up
        const socket = sockets.get(session.remotePort);
        if (fault?.dropConnection) return socket?.destroy();
        if (fault?.reply !== undefined) {
          attempt.reply = fault.reply;
          return callback(replyError(fault.reply, fault.message ?? DEFAULT_MESSAGES[fault.reply] ?? `Error ${fault.reply}`));
        }
        const id = randomUUID();
        messages.push({
          id,
          receivedAt: attempt.receivedAt,
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          rcptTo: to,
          ...(typeof session.user === 'string' && { user: session.user }),
          raw,
          headers: parseHeaders(raw),
        });
        if (fault?.acceptThenDrop) return socket?.destroy();
        const answer = () => {
          // A client that died meanwhile never hears it: the attempt stays unanswered (0).
          if (socket === undefined || !socket.destroyed) attempt.reply = 250;
          callback(null, `OK: queued as ${id}`);
        };
        if (!holding) return answer();
        held.push(answer);
      });
    },
  });
  server.server.on('connection', (socket: Socket) => {
    const port = socket.remotePort;
    if (port === undefined) return;
    sockets.set(port, socket);
    socket.on('close', () => sockets.delete(port));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  // A client that goes away mid-conversation (a worker killed by a fault test) resets its
  // connection: smtp-server reports it as an 'error', which a real server logs and survives.
  server.on('error', () => {});
  const { port } = server.server.address() as AddressInfo;

  const releaseHeld = () => {
    holding = false;
    for (const answer of held.splice(0)) answer();
  };

  return {
    host: '127.0.0.1',
    port,
    ...(options.username !== undefined && { username: options.username }),
    ...(options.password !== undefined && { password: options.password }),
    messages,
    attempts,
    messagesTo: (address) => messages.filter((m) => m.rcptTo.includes(address)),
    attemptsTo: (address) => attempts.filter((a) => a.rcptTo.includes(address)),
    failNext(newFaults, match = {}) {
      faults.push(...newFaults.map((fault) => ({ fault, ...(match.to !== undefined && { to: match.to }) })));
    },
    rejectAddress(address, reply = 550, message) {
      rejected.set(address, { reply, ...(message !== undefined && { message }) });
    },
    holdAnswers(on) {
      if (on) holding = true;
      else releaseHeld();
    },
    heldCount: () => held.length,
    releaseHeld,
    reset() {
      releaseHeld();
      faults = [];
      rejected = new Map();
      messages.length = 0;
      attempts.length = 0;
    },
    close() {
      releaseHeld();
      for (const socket of sockets.values()) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
