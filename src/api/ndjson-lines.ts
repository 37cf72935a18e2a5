/**
 * Newline-delimited JSON read as a stream: one line at a time, never the whole body in memory.
 *
 * A hand-written splitter rather than readline or split2: a bad line must be reported with its
 * number and skipped, and a line over the limit must be dropped while it streams (readline
 * buffers it whole; split2 can only fail the stream or skip it silently).
 */

export type NdjsonLine = { line: number; kind: 'value'; value: unknown } | { line: number; kind: 'invalid'; reason: string };

export interface NdjsonLimits {
  /** Bytes one line may hold; a longer line is reported and skipped. */
  maxLineBytes: number;
  /** Bytes the whole body may hold; reading stops there and the rest is reported as not read. */
  maxBodyBytes: number;
}

/** Where a body stopped being read before its end, reported after the last line read. */
export class NdjsonBodyTooLarge extends Error {
  override name = 'NdjsonBodyTooLarge';
  constructor(
    readonly afterLine: number,
    readonly maxBodyBytes: number,
  ) {
    super(`The body exceeds ${maxBodyBytes} bytes; lines after ${afterLine} were not read`);
  }
}

const NEWLINE = 0x0a;

/**
 * Yields each non-blank line, parsed, with its 1-based line number. Lines that are not JSON or
 * are too long come back as `invalid` with the reason; they never end the stream. A body over
 * `maxBodyBytes` throws NdjsonBodyTooLarge after the lines read so far (the caller keeps them).
 */
export async function* ndjsonLines(body: ReadableStream<Uint8Array> | null, limits: NdjsonLimits): AsyncGenerator<NdjsonLine> {
  if (!body) return;
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let overflow = false;
  let lineNumber = 0;
  let total = 0;

  const finish = (): NdjsonLine | undefined => {
    lineNumber += 1;
    if (overflow) {
      overflow = false;
      pending = [];
      pendingBytes = 0;
      return { line: lineNumber, kind: 'invalid', reason: `line is longer than ${limits.maxLineBytes} bytes` };
    }
    const bytes = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    const text = decoder.decode(bytes).replace(/\r$/, '');
    if (text.trim() === '') return undefined;
    try {
      return { line: lineNumber, kind: 'value', value: JSON.parse(text) };
    } catch {
      return { line: lineNumber, kind: 'invalid', reason: 'not a JSON value' };
    }
  };

  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limits.maxBodyBytes) throw new NdjsonBodyTooLarge(lineNumber, limits.maxBodyBytes);
      let start = 0;
      for (let index = value.indexOf(NEWLINE); index !== -1; index = value.indexOf(NEWLINE, start)) {
        keep(value.subarray(start, index));
        const line = finish();
        if (line) yield line;
        start = index + 1;
      }
      keep(value.subarray(start));
    }
    if (pendingBytes > 0 || overflow) {
      const line = finish();
      if (line) yield line;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }

  function keep(chunk: Uint8Array): void {
    if (chunk.byteLength === 0 || overflow) return;
    if (pendingBytes + chunk.byteLength > limits.maxLineBytes) {
      overflow = true;
      pending = [];
      pendingBytes = 0;
      return;
    }
    // Copied: the reader may reuse its buffer.
    pending.push(chunk.slice());
    pendingBytes += chunk.byteLength;
  }
}
