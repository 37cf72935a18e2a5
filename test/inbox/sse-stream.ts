/**
 * An inbox stream (GET /v1/inbox/stream) read with fetch, as a page does (EventSource sends no
 * Authorization header): its Server-Sent Events parsed as they come, and a wait for the one a test
 * expects.
 */

export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

/** An open Server-Sent Events stream read with fetch (as a page does: EventSource sends no Authorization header). */
export async function openStream(baseUrl: string, token: string, lastEventId?: string) {
  const controller = new AbortController();
  const res = await fetch(`${baseUrl}/v1/inbox/stream`, {
    headers: { authorization: `Bearer ${token}`, ...(lastEventId && { 'last-event-id': lastEventId }) },
    signal: controller.signal,
  });
  const events: SseEvent[] = [];
  let waiters: (() => void)[] = [];
  if (res.ok && res.body) {
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let end = buffer.indexOf('\n\n');
          while (end >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event: SseEvent = { event: 'message', data: '' };
            let hasData = false;
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) continue;
              const [field, ...rest] = line.split(':');
              const value = rest.join(':').replace(/^ /, '');
              if (field === 'event') event.event = value;
              if (field === 'id') event.id = value;
              if (field === 'data') {
                event.data += (hasData ? '\n' : '') + value;
                hasData = true;
              }
            }
            if (hasData) events.push(event);
            end = buffer.indexOf('\n\n');
          }
          for (const wake of waiters.splice(0)) wake();
        }
      } catch {
        // aborted
      }
    })();
  }
  /** Waits until an event matches, at most `timeoutMs`. */
  async function next(match: (event: SseEvent) => boolean, timeoutMs = 5000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = events.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(events)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
  return {
    status: res.status,
    events,
    next,
    close: () => {
      waiters = [];
      controller.abort();
    },
  };
}
