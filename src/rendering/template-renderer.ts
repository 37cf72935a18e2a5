import { createHash, randomBytes } from 'node:crypto';
import { Piscina } from 'piscina';
import type { HeraldConfig } from '../config/env';
import { singleLine } from '../domain/header-safety';
import type { EmailTracking, RenderedEmail, RenderEmailInput } from '../domain/rendered-email';
import { TemplateError } from '../domain/template-renderer';
import type { RenderTask, RenderTaskResult } from './render-thread.mjs';
import { TEXT_LINK_INDEX_DIGITS } from './tracking-rewrite.mjs';

export type { RenderedEmail, RenderEmailInput } from '../domain/rendered-email';

/**
 * Renders campaign templates, which are hostile input, away from the worker's event loop.
 * `renderEmail` rejects with a TemplateError (a short reason, no stack) when the template is at
 * fault: refused by the static check, an error while rendering, or a limit hit. Any other
 * rejection is an infrastructure problem and worth a retry.
 */
export interface TemplateRenderer {
  /** With `tracking`, the HTML gets the open pixel and tracked links (`tracked` says which links). */
  renderEmail(input: RenderEmailInput, tracking?: EmailTracking): Promise<RenderedEmail>;
  close(): Promise<void>;
}

/**
 * How long past the time limit the pool waits before it terminates a thread. The thread stops a
 * render itself at the limit whenever it gets the chance (loops, calls, output); termination is
 * for a single native call that never returns, such as a catastrophic regular expression.
 */
export const HARD_STOP_GRACE_MS = 1000;

/** After a render hits the time or memory limit, the same content fails at once for this long. */
export const QUARANTINE_MS = 60_000;

const MIB = 1024 * 1024;

/** Heap per render thread: room for the output (UTF-16 copies while it is built) over a small base. */
export function renderThreadHeapMb(maxBytes: number): number {
  return Math.max(64, Math.ceil((8 * maxBytes) / MIB) + 48);
}

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

function contentKey({ subject, html, text }: RenderEmailInput['content']): string {
  return createHash('sha256').update(JSON.stringify([subject, html, text ?? null])).digest('base64url');
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

/** One linear pass: each `<nonce>o` / `<nonce><i>` the thread wrote becomes its signed address. */
function signedPlaceholders(html: string, nonce: string, tracking: EmailTracking): string {
  return html.replace(new RegExp(`${nonce}(o|\\d{1,3})`, 'g'), (_, what: string) => escapeAttribute(what === 'o' ? tracking.openUrl() : tracking.clickUrl(Number(what))));
}

/** The same for text (an SMS body): each `<nonce><iii>` becomes its signed address, unescaped. */
function signedTextPlaceholders(text: string, nonce: string, tracking: EmailTracking): string {
  return text.replace(new RegExp(`${nonce}(\\d{${TEXT_LINK_INDEX_DIGITS}})`, 'g'), (_, index: string) => tracking.clickUrl(Number(index)));
}

export function createTemplateRenderer(limits: HeraldConfig['render']): TemplateRenderer {
  const { timeoutMs, maxBytes, threads } = limits;
  const heapMb = renderThreadHeapMb(maxBytes);
  const pool = new Piscina<RenderTask, RenderTaskResult>({
    filename: threadFile.href,
    name: 'default',
    minThreads: 1,
    maxThreads: threads,
    idleTimeout: 60_000,
    concurrentTasksPerWorker: 1,
    // A render thread gets no secrets: an empty environment and no command-line flags (so no
    // tsx or vite loader either; the thread file is plain JavaScript).
    env: {},
    argv: [],
    execArgv: [],
    resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 16 },
  });
  // Errors outside a task (a thread that dies while idle) are replaced by piscina; without a
  // listener they would crash the worker.
  pool.on('error', (error: unknown) => console.warn(`[herald] render thread failed: ${error instanceof Error ? error.message : String(error)}`));

  const slots = new Slots(threads);
  const quarantine = new Map<string, { message: string; until: number }>();
  let closed = false;

  function quarantined(key: string): string | undefined {
    const entry = quarantine.get(key);
    if (!entry) return undefined;
    if (entry.until > Date.now()) return entry.message;
    quarantine.delete(key);
    return undefined;
  }

  function remember(content: RenderTask['content'], message: string): TemplateError {
    if (quarantine.size >= 1000) quarantine.delete(quarantine.keys().next().value as string);
    quarantine.set(contentKey(content), { message, until: Date.now() + QUARANTINE_MS });
    return new TemplateError(message);
  }

  /** Runs one render in the pool, or answers from the quarantine (checked once a slot is free, so renders queued behind a runaway skip it too). */
  async function runTask(task: RenderTask): Promise<RenderTaskResult> {
    await slots.acquire();
    const abort = new AbortController();
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    try {
      const earlier = quarantine.size > 0 ? quarantined(contentKey(task.content)) : undefined;
      if (earlier) throw new TemplateError(`${earlier} (on an earlier recipient; this content is not rendered again for ${QUARANTINE_MS / 1000} s)`);
      timer = setTimeout(() => {
        timedOut = true;
        abort.abort();
      }, timeoutMs + HARD_STOP_GRACE_MS);
      const result = await pool.run(task, { signal: abort.signal });
      if (!result.ok && result.limit === 'time') throw remember(task.content, result.message);
      return result;
    } catch (error) {
      if (timedOut) throw remember(task.content, `render timed out after ${timeoutMs} ms`);
      if ((error as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY') throw remember(task.content, `render ran out of memory (limit ${heapMb} MB)`);
      if (closed && !(error instanceof TemplateError)) throw new Error('the template renderer closed during the render');
      throw error;
    } finally {
      clearTimeout(timer);
      slots.release();
    }
  }

  return {
    async renderEmail(input, tracking) {
      if (closed) throw new Error('the template renderer is closed');
      // The thread writes placeholders with a fresh random nonce (no template can guess it), and
      // they are swapped for the signed addresses here: the signing key never enters the thread.
      const textPart = tracking?.part === 'text';
      const nonce = tracking && (textPart ? tracking.clicks : tracking.opens || tracking.clicks) ? `herald-tracking-${randomBytes(12).toString('hex')}-` : undefined;
      const task: RenderTask = {
        content: { subject: input.content.subject, html: input.content.html, ...(input.content.text !== undefined && { text: input.content.text }) },
        variables: { profile: jsonData(input.profile, 'the profile'), context: jsonData(input.context, 'the context') },
        timeoutMs,
        maxBytes,
        ...(nonce !== undefined && tracking !== undefined && { tracking: { opens: tracking.opens && !textPart, clicks: tracking.clicks, pixelUrl: `${nonce}o`, linkUrlPrefix: nonce, ...(textPart && { part: 'text' as const }) } }),
      };
      const result = await runTask(task);
      if (!result.ok) throw new TemplateError(result.message);
      const tracked = nonce !== undefined && tracking !== undefined && result.links ? { opens: tracking.opens && !textPart, clicks: tracking.clicks, links: result.links } : undefined;
      const signHtml = tracked !== undefined && !textPart;
      const signText = tracked !== undefined && textPart && result.text !== undefined;
      return {
        // The subject is text (no HTML entities) flattened to one header-safe line.
        subject: singleLine(result.subject),
        html: signHtml && nonce !== undefined && tracking !== undefined ? signedPlaceholders(result.html, nonce, tracking) : result.html,
        ...(result.text !== undefined && { text: signText && nonce !== undefined && tracking !== undefined ? signedTextPlaceholders(result.text, nonce, tracking) : result.text }),
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
