import { createHash, randomBytes } from 'node:crypto';
import { Tinypool } from 'tinypool';
import type { HeraldConfig } from '../config/env';
import { singleLine } from '../domain/header-safety';
import type { EmailTracking, RenderedEmail, RenderEmailInput } from '../domain/rendered-email';
import { TemplateError } from '../domain/template-renderer';
import type { RenderTask, RenderTaskResult } from './render-thread.mjs';
import { TEXT_LINK_INDEX_DIGITS } from './tracking-rewrite.mjs';

export type { RenderedEmail, RenderEmailInput } from '../domain/rendered-email';

/**
 * Renders campaign templates, which are hostile input, in a pool of child processes (tinypool,
 * runtime 'child_process'): each has its own V8 heap and stack limit and an empty environment, so
 * a template that makes V8 abort (a fatal error inside a builtin, which no heap cap on a worker
 * thread catches) or that never returns costs that one render, never the API or worker process.
 * `renderEmail` rejects with a TemplateError (a short reason, no stack) when the template is at
 * fault: refused by the static check, an error while rendering, a limit hit, or the render's
 * process dying under it (out of memory, a fatal error, killed at the hard deadline): that is the
 * template's doing and not retried. Any other rejection is an infrastructure problem and worth a retry.
 */
export interface TemplateRenderer {
  /** With `tracking`, the HTML gets the open pixel and tracked links (`tracked` says which links). */
  renderEmail(input: RenderEmailInput, tracking?: EmailTracking): Promise<RenderedEmail>;
  close(): Promise<void>;
}

/**
 * How long past the time limit the pool waits before it kills the render's process. The process
 * stops a render itself at the limit whenever it gets the chance (loops, calls, output); the kill
 * is for a single native call that never returns, such as a catastrophic regular expression.
 */
export const HARD_STOP_GRACE_MS = 1000;

/**
 * After a render hits the time limit or kills its process, the same content with the same
 * variables fails at once for this long (a retry of that very render costs nothing). Keyed on the
 * input, not the content alone: whether a template runs away can depend on the data, and one
 * caller's data must never fail another recipient's render.
 */
export const QUARANTINE_MS = 60_000;

const MIB = 1024 * 1024;

/** Heap per render process: room for the output (UTF-16 copies while it is built) over a small base. */
export function renderThreadHeapMb(maxBytes: number): number {
  return Math.max(64, Math.ceil((8 * maxBytes) / MIB) + 48);
}

/** Stack of a render process, in KiB (V8's default is 984): deep template recursion fails sooner and costs less. */
const RENDER_STACK_KB = 512;

const threadFile = new URL('./render-thread.mjs', import.meta.url);

/** Plain JSON data: no function, getter, class instance or prototype trick reaches a template. */
function jsonData(value: unknown, what: string): Record<string, unknown> {
  let copy: unknown;
  try {
    copy = value === undefined ? {} : JSON.parse(JSON.stringify(value));
  } catch (error) {
    throw new TemplateError(`${what} is not JSON data (${error instanceof Error ? error.message : String(error)})`);
  }
  return copy !== null && typeof copy === 'object' && !Array.isArray(copy) ? (copy as Record<string, unknown>) : {};
}

/** The quarantine's key: the content and the variables it is rendered with. */
function inputKey({ content: { subject, html, text }, variables }: RenderTask): string {
  return createHash('sha256')
    .update(JSON.stringify([subject, html, text ?? null, variables.profile, variables.context, variables.digest ?? null, variables.preferencesUrl ?? null]))
    .digest('base64url');
}

/** tinypool's rejection when a render's process exits under it (OOM, V8 abort, a kill from outside). */
function processDied(error: unknown): boolean {
  return error instanceof Error && error.message === 'Worker exited unexpectedly';
}

/** At most `size` renders are handed to the pool at once, so a handed-over render starts at once and its timer is fair. */
class Slots {
  private active = 0;
  private readonly waiting: { resolve: () => void; reject: (error: Error) => void }[] = [];

  constructor(private readonly size: number) {}

  async acquire(): Promise<void> {
    if (this.active < this.size) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next.resolve();
    else this.active--;
  }

  rejectAll(error: Error): void {
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** One linear pass: each `<nonce>o` / `<nonce><i>` the render process wrote becomes its signed address. */
function signedPlaceholders(html: string, nonce: string, tracking: EmailTracking): string {
  return html.replace(new RegExp(`${nonce}(o|\\d{1,3})`, 'g'), (_, what: string) =>
    escapeAttribute(what === 'o' ? tracking.openUrl() : tracking.clickUrl(Number(what))),
  );
}

/** The same for text (an SMS body): each `<nonce><iii>` becomes its signed address, unescaped. */
function signedTextPlaceholders(text: string, nonce: string, tracking: EmailTracking): string {
  return text.replace(new RegExp(`${nonce}(\\d{${TEXT_LINK_INDEX_DIGITS}})`, 'g'), (_, index: string) => tracking.clickUrl(Number(index)));
}

export function createTemplateRenderer(limits: HeraldConfig['render']): TemplateRenderer {
  const { timeoutMs, maxBytes, processes } = limits;
  const heapMb = renderThreadHeapMb(maxBytes);
  const pool = new Tinypool({
    runtime: 'child_process',
    filename: threadFile.href,
    name: 'default',
    // Kept warm: starting a process costs tens of milliseconds, a render well under one.
    minThreads: 1,
    maxThreads: processes,
    idleTimeout: 60_000,
    concurrentTasksPerWorker: 1,
    // A render process gets no secrets: an empty environment (no PATH either) and only the V8
    // limits on its command line (so no tsx or vite loader; the entry file is plain JavaScript).
    env: {},
    argv: [],
    execArgv: [`--max-old-space-size=${heapMb}`, `--stack-size=${RENDER_STACK_KB}`],
  });
  // Errors outside a task (a process that dies while idle) are replaced by tinypool; without a
  // listener they would crash the worker.
  pool.on('error', (error: unknown) => console.warn(`[herald] render process failed: ${error instanceof Error ? error.message : String(error)}`));

  const slots = new Slots(processes);
  const quarantine = new Map<string, { message: string; until: number }>();
  let closed = false;

  function quarantined(key: string): string | undefined {
    const entry = quarantine.get(key);
    if (!entry) return undefined;
    if (entry.until > Date.now()) return entry.message;
    quarantine.delete(key);
    return undefined;
  }

  function remember(task: RenderTask, message: string): TemplateError {
    if (quarantine.size >= 1000) quarantine.delete(quarantine.keys().next().value as string);
    quarantine.set(inputKey(task), { message, until: Date.now() + QUARANTINE_MS });
    return new TemplateError(message);
  }

  /** Runs one render in the pool, or answers from the quarantine (checked once a slot is free, so the same render queued behind its runaway twin skips it). */
  async function runTask(task: RenderTask): Promise<RenderTaskResult> {
    await slots.acquire();
    const abort = new AbortController();
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    try {
      const earlier = quarantine.size > 0 ? quarantined(inputKey(task)) : undefined;
      if (earlier) throw new TemplateError(`${earlier} (on an earlier render of the same content and data; not rendered again for ${QUARANTINE_MS / 1000} s)`);
      timer = setTimeout(() => {
        timedOut = true;
        abort.abort();
      }, timeoutMs + HARD_STOP_GRACE_MS);
      const result = (await pool.run(task, { signal: abort.signal })) as RenderTaskResult;
      if (!result.ok && result.limit === 'time') throw remember(task, result.message);
      return result;
    } catch (error) {
      if (error instanceof TemplateError) throw error;
      if (closed) throw new Error('the template renderer closed during the render');
      // Killed at the hard deadline: the process was stuck in one native call.
      if (timedOut) throw remember(task, `render timed out after ${timeoutMs} ms`);
      // Nothing but the render runs in that process: its death is the template's doing (or a
      // kill from outside, which retrying the same render would not make any better).
      if (processDied(error)) throw remember(task, `the render process died (out of memory or a fatal error; heap limit ${heapMb} MB)`);
      throw error;
    } finally {
      clearTimeout(timer);
      slots.release();
    }
  }

  return {
    async renderEmail(input, tracking) {
      if (closed) throw new Error('the template renderer is closed');
      // The render process writes placeholders with a fresh random nonce (no template can guess it),
      // and they are swapped for the signed addresses here: the signing key never enters that process.
      const textPart = tracking?.part === 'text';
      const nonce =
        tracking && (textPart ? tracking.clicks : tracking.opens || tracking.clicks) ? `herald-tracking-${randomBytes(12).toString('hex')}-` : undefined;
      const task: RenderTask = {
        content: { subject: input.content.subject, html: input.content.html, ...(input.content.text !== undefined && { text: input.content.text }) },
        variables: {
          profile: jsonData(input.profile, 'the profile'),
          context: jsonData(input.context, 'the context'),
          ...(input.digest && { digest: jsonData(input.digest, 'the digest') }),
          ...(typeof input.preferencesUrl === 'string' && { preferencesUrl: input.preferencesUrl }),
        },
        timeoutMs,
        maxBytes,
        ...(nonce !== undefined &&
          tracking !== undefined && {
            tracking: {
              opens: tracking.opens && !textPart,
              clicks: tracking.clicks,
              pixelUrl: `${nonce}o`,
              linkUrlPrefix: nonce,
              ...(textPart && { part: 'text' as const }),
              ...(tracking.allowedHosts && { allowedHosts: tracking.allowedHosts }),
            },
          }),
      };
      const result = await runTask(task);
      if (!result.ok) throw new TemplateError(result.message);
      const tracked =
        nonce !== undefined && tracking !== undefined && result.links
          ? { opens: tracking.opens && !textPart, clicks: tracking.clicks, links: result.links }
          : undefined;
      const signHtml = tracked !== undefined && !textPart;
      const signText = tracked !== undefined && textPart && result.text !== undefined;
      return {
        // The subject is text (no HTML entities) flattened to one header-safe line.
        subject: singleLine(result.subject),
        html: signHtml && nonce !== undefined && tracking !== undefined ? signedPlaceholders(result.html, nonce, tracking) : result.html,
        ...(result.text !== undefined && {
          text: signText && nonce !== undefined && tracking !== undefined ? signedTextPlaceholders(result.text, nonce, tracking) : result.text,
        }),
        ...(tracked && { tracked }),
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      slots.rejectAll(new Error('the template renderer is closed'));
      await pool.destroy();
    },
  };
}
