/**
 * <herald-inbox api-url="https://herald.example.com" token="…subscriber token…" categories="billing,news">
 *
 * Herald's drop-in in-app inbox: a bell with the unread count, the person's messages (mark read,
 * mark all read, archive), live updates from the stream, and a preference centre. A plain ES
 * module with no dependency, served by Herald at /inbox/herald-inbox.js (docs/inbox.md).
 *
 * Every text from the API is set with textContent, never as HTML, and an action URL becomes a
 * link only when it is http(s). The stream is read with fetch, not EventSource, because
 * EventSource cannot send the Authorization header; it reconnects with Last-Event-ID so that no
 * message is lost. `categories` (optional) names the category keys the preference centre lists
 * besides those the person has set already: a subscriber token cannot read the category list.
 */

const CHANNELS = ['email', 'sms', 'push', 'inApp'];
const CHANNEL_NAMES = { email: 'Email', sms: 'SMS', push: 'Push', inApp: 'In-app' };
const SVG_NS = 'http://www.w3.org/2000/svg';
/** Waits before reconnecting the stream: grows on each failure, up to the last. */
const RECONNECT_DELAYS_MS = [1000, 2000, 5000, 10000, 30000];

const STYLE = `
  :host { position: relative; display: inline-block; font: 14px/1.4 system-ui, sans-serif; color: #1d2433; }
  button { font: inherit; cursor: pointer; }
  .bell { position: relative; border: 0; background: transparent; padding: 6px; line-height: 0; color: #344054; }
  .badge { position: absolute; top: 0; right: 0; min-width: 16px; padding: 0 4px; border-radius: 8px; background: #d93025; color: #fff; font-size: 11px; line-height: 16px; text-align: center; }
  .badge[hidden] { display: none; }
  .panel { position: absolute; right: 0; z-index: 1000; width: 360px; max-height: 480px; overflow: auto; margin-top: 4px; border: 1px solid #d0d5dd; border-radius: 8px; background: #fff; box-shadow: 0 6px 24px rgba(0,0,0,.12); }
  .panel[hidden] { display: none; }
  .tabs { display: flex; align-items: center; gap: 4px; padding: 8px; border-bottom: 1px solid #eaecf0; }
  .tabs button { border: 0; background: transparent; padding: 4px 8px; border-radius: 4px; }
  .tabs button[aria-selected="true"] { background: #eef2ff; font-weight: 600; }
  .tabs .read-all { margin-left: auto; color: #3b5bdb; }
  ul { list-style: none; margin: 0; padding: 0; }
  li { display: flex; gap: 8px; padding: 10px 12px; border-bottom: 1px solid #f2f4f7; }
  li.unread { background: #f8faff; }
  li.unread .title::before { content: "● "; color: #3b5bdb; }
  .content { flex: 1; min-width: 0; }
  .title { font-weight: 600; }
  .body { color: #475467; overflow-wrap: anywhere; }
  .meta { display: flex; gap: 8px; margin-top: 4px; color: #667085; font-size: 12px; }
  .meta a { color: #3b5bdb; }
  .actions { display: flex; flex-direction: column; gap: 4px; }
  .actions button { border: 1px solid #d0d5dd; background: #fff; border-radius: 4px; padding: 2px 6px; font-size: 12px; }
  .empty, .error { padding: 16px 12px; color: #667085; }
  .error { color: #b42318; }
  fieldset { border: 0; margin: 0; padding: 8px 12px; }
  legend { font-weight: 600; padding: 0; margin-bottom: 4px; }
  label { display: flex; align-items: center; gap: 6px; padding: 2px 0; }
`;

/** "3 min ago" in the page's language. */
function relativeTime(iso, now = Date.now()) {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  const units = [
    ['year', 31536000],
    ['month', 2592000],
    ['day', 86400],
    ['hour', 3600],
    ['minute', 60],
  ];
  for (const [unit, size] of units) if (Math.abs(seconds) >= size) return format.format(Math.round(seconds / size), unit);
  return format.format(seconds, 'second');
}

/**
 * The URL if it is http(s), else undefined: a javascript: or data: URL never becomes a link. A path
 * such as /orders/42 is the embedding page's own (resolved against it).
 */
function safeHttpUrl(value) {
  if (typeof value !== 'string') return undefined;
  try {
    const url = new URL(value, document.baseURI);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** An element with its text set as text (never parsed as HTML). */
function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A bell drawn as SVG: pages and headless browsers may have no emoji font. */
function bellIcon() {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '22');
  svg.setAttribute('height', '22');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(SVG_NS, 'path');
  path.setAttribute(
    'd',
    'M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1z',
  );
  path.setAttribute('fill', 'currentColor');
  svg.append(path);
  return svg;
}

/** Server-Sent Events from a fetch body: calls `onEvent({event, id, data})` per complete event. */
async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, '\n');
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = { event: 'message', id: undefined, data: undefined };
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event.event = value;
        else if (field === 'id') event.id = value;
        else if (field === 'data') event.data = event.data === undefined ? value : `${event.data}\n${value}`;
      }
      if (event.data !== undefined) onEvent(event);
    }
  }
}

export class HeraldInbox extends HTMLElement {
  static observedAttributes = ['api-url', 'token', 'categories'];

  #messages = [];
  #unreadCount = 0;
  #tab = 'messages';
  #preferences = undefined;
  #error = '';
  #lastEventId = undefined;
  #stream = undefined;
  #reconnectTimer = undefined;
  #failures = 0;
  #connected = false;
  #clock = undefined;
  /** Counts (re)starts: a feed answer for an older token or URL is dropped. */
  #generation = 0;

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    root.append(element('style', undefined, STYLE));
    this.bell = element('button', 'bell');
    this.bell.append(bellIcon());
    this.bell.setAttribute('part', 'bell');
    this.bell.setAttribute('aria-haspopup', 'true');
    this.bell.setAttribute('aria-expanded', 'false');
    this.badge = element('span', 'badge');
    this.badge.hidden = true;
    this.bell.append(this.badge);
    this.bell.addEventListener('click', () => this.toggle());
    this.panel = element('div', 'panel');
    this.panel.setAttribute('part', 'panel');
    this.panel.hidden = true;
    root.append(this.bell, this.panel);
  }

  connectedCallback() {
    this.#connected = true;
    this.#start();
    // Relative times move on while the panel stays open.
    this.#clock = setInterval(() => {
      if (!this.panel.hidden && this.#tab === 'messages') this.#render();
    }, 30000);
  }

  disconnectedCallback() {
    this.#connected = false;
    clearInterval(this.#clock);
    this.#stop();
  }

  attributeChangedCallback(name, previous, value) {
    if (previous === value || !this.#connected) return;
    if (name === 'categories') this.#render();
    else this.#start();
  }

  /** The unread count the bell shows. */
  get unreadCount() {
    return this.#unreadCount;
  }

  toggle(open = this.panel.hidden) {
    this.panel.hidden = !open;
    this.bell.setAttribute('aria-expanded', String(open));
    if (open) this.#render();
  }

  get #apiUrl() {
    return (this.getAttribute('api-url') ?? '').replace(/\/+$/, '');
  }

  async #call(method, path, body) {
    const res = await fetch(`${this.#apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.getAttribute('token') ?? ''}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = res.status === 204 ? undefined : await res.json().catch(() => undefined);
    if (!res.ok) throw new Error(answer?.detail ?? answer?.title ?? `HTTP ${res.status}`);
    return answer;
  }

  #stop() {
    clearTimeout(this.#reconnectTimer);
    this.#stream?.abort();
    this.#stream = undefined;
  }

  async #start() {
    this.#stop();
    this.#messages = [];
    this.#preferences = undefined;
    this.#lastEventId = undefined;
    const generation = ++this.#generation;
    if (!this.getAttribute('api-url') || !this.getAttribute('token')) return;
    try {
      const page = await this.#call('GET', '/v1/inbox/messages?status=all&limit=50');
      if (generation !== this.#generation) return;
      this.#messages = page.items;
      this.#lastEventId = page.items[0]?.id;
      this.#setUnread(page.unreadCount);
      this.#error = '';
    } catch (error) {
      this.#error = `Could not load the inbox: ${error.message}`;
    }
    if (generation !== this.#generation) return;
    this.#render();
    this.#listen();
  }

  /** Opens the stream; on its end or failure, reconnects after a growing pause with Last-Event-ID. */
  async #listen() {
    const controller = new AbortController();
    this.#stream = controller;
    try {
      const res = await fetch(`${this.#apiUrl}/v1/inbox/stream`, {
        headers: {
          authorization: `Bearer ${this.getAttribute('token') ?? ''}`,
          accept: 'text/event-stream',
          ...(this.#lastEventId && { 'last-event-id': this.#lastEventId }),
        },
        signal: controller.signal,
      });
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      this.#failures = 0;
      await readEvents(res.body, (event) => this.#onEvent(event));
    } catch {
      this.#failures += 1;
    }
    if (controller.signal.aborted || this.#stream !== controller) return;
    const delay = RECONNECT_DELAYS_MS[Math.min(this.#failures, RECONNECT_DELAYS_MS.length - 1)];
    this.#reconnectTimer = setTimeout(() => this.#listen(), delay);
  }

  #onEvent(event) {
    if (event.event === 'message') {
      const message = JSON.parse(event.data);
      if (event.id) this.#lastEventId = event.id;
      if (!this.#messages.some((known) => known.id === message.id)) {
        this.#messages.unshift(message);
        this.dispatchEvent(new CustomEvent('herald-message', { detail: message }));
      }
      this.#render();
    } else if (event.event === 'unread-count') {
      this.#setUnread(JSON.parse(event.data).unreadCount);
    }
  }

  #setUnread(count) {
    this.#unreadCount = count;
    this.badge.textContent = count > 99 ? '99+' : String(count);
    this.badge.hidden = count === 0;
    this.bell.setAttribute('aria-label', `Notifications, ${count} unread`);
    this.setAttribute('unread-count', String(count));
  }

  async #change(message, change) {
    try {
      const updated = await this.#call('PATCH', `/v1/inbox/messages/${encodeURIComponent(message.id)}`, change);
      if (change.archived) this.#messages = this.#messages.filter((known) => known.id !== message.id);
      else Object.assign(message, updated);
      this.#error = '';
      await this.#refreshCount();
    } catch (error) {
      this.#error = error.message;
    }
    this.#render();
  }

  async #readAll() {
    try {
      const { unreadCount } = await this.#call('POST', '/v1/inbox/messages/read-all');
      const now = new Date().toISOString();
      for (const message of this.#messages) message.readAt ??= now;
      this.#setUnread(unreadCount);
      this.#error = '';
    } catch (error) {
      this.#error = error.message;
    }
    this.#render();
  }

  /** The stream sends the new count too; asking keeps the bell right if it is reconnecting. */
  async #refreshCount() {
    const page = await this.#call('GET', '/v1/inbox/messages?status=unread&limit=1');
    this.#setUnread(page.unreadCount);
  }

  async #showPreferences() {
    this.#tab = 'preferences';
    this.#render();
    if (this.#preferences) return;
    try {
      this.#preferences = await this.#call('GET', '/v1/inbox/preferences');
      this.#error = '';
    } catch (error) {
      this.#error = `Could not load the preferences: ${error.message}`;
    }
    this.#render();
  }

  async #setPreference(category, channel, on) {
    const next = structuredClone(this.#preferences);
    if (category) next.categories[category] = { ...next.categories[category], [channel]: on };
    else next.channels[channel] = on;
    try {
      this.#preferences = await this.#call('PUT', '/v1/inbox/preferences', next);
      this.#error = '';
      this.dispatchEvent(new CustomEvent('herald-preferences', { detail: this.#preferences }));
    } catch (error) {
      this.#error = error.message;
    }
    this.#render();
  }

  #render() {
    const tabs = element('div', 'tabs');
    for (const [tab, name] of [
      ['messages', 'Notifications'],
      ['preferences', 'Preferences'],
    ]) {
      const button = element('button', `tab-${tab}`, name);
      button.setAttribute('role', 'tab');
      button.setAttribute('aria-selected', String(this.#tab === tab));
      button.addEventListener('click', () => {
        if (tab === 'preferences') return this.#showPreferences();
        this.#tab = 'messages';
        this.#render();
      });
      tabs.append(button);
    }
    if (this.#tab === 'messages') {
      const readAll = element('button', 'read-all', 'Mark all read');
      readAll.disabled = this.#unreadCount === 0;
      readAll.addEventListener('click', () => this.#readAll());
      tabs.append(readAll);
    }
    const content = this.#tab === 'messages' ? this.#renderMessages() : this.#renderPreferences();
    const parts = [tabs];
    if (this.#error) parts.push(element('div', 'error', this.#error));
    parts.push(content);
    this.panel.replaceChildren(...parts);
  }

  #renderMessages() {
    if (this.#messages.length === 0) return element('div', 'empty', 'No notifications yet.');
    const list = element('ul', 'messages');
    for (const message of this.#messages) {
      const item = element('li', message.readAt ? 'message read' : 'message unread');
      item.dataset.id = message.id;
      const content = element('div', 'content');
      content.append(element('div', 'title', message.title), element('div', 'body', message.body));
      const meta = element('div', 'meta');
      const time = element('time', 'time', relativeTime(message.createdAt));
      time.dateTime = message.createdAt;
      time.title = new Date(message.createdAt).toLocaleString();
      meta.append(time);
      const href = safeHttpUrl(message.actionUrl);
      if (href) {
        const link = element('a', 'action', 'Open');
        link.href = href;
        link.target = '_blank';
        link.rel = 'noopener noreferrer';
        link.addEventListener('click', () => {
          if (!message.readAt) this.#change(message, { read: true });
        });
        meta.append(link);
      }
      content.append(meta);
      const actions = element('div', 'actions');
      if (!message.readAt) {
        const read = element('button', 'mark-read', 'Mark read');
        read.addEventListener('click', () => this.#change(message, { read: true }));
        actions.append(read);
      }
      const archive = element('button', 'archive', 'Archive');
      archive.addEventListener('click', () => this.#change(message, { archived: true }));
      actions.append(archive);
      item.append(content, actions);
      list.append(item);
    }
    return list;
  }

  #renderPreferences() {
    const preferences = this.#preferences;
    if (!preferences) return element('div', 'empty', 'Loading…');
    const container = element('div', 'preferences');
    container.append(this.#switches('Channels', undefined, preferences.channels));
    const declared = (this.getAttribute('categories') ?? '')
      .split(',')
      .map((key) => key.trim())
      .filter(Boolean);
    for (const category of new Set([...declared, ...Object.keys(preferences.categories)])) {
      container.append(this.#switches(category, category, preferences.categories[category] ?? {}));
    }
    return container;
  }

  /** A fieldset of one checkbox per channel; unset shows as on, as Herald treats it. */
  #switches(legend, category, settings) {
    const fieldset = element('fieldset');
    if (category) fieldset.dataset.category = category;
    fieldset.append(element('legend', undefined, legend));
    for (const channel of CHANNELS) {
      const label = element('label');
      const box = element('input');
      box.type = 'checkbox';
      box.name = channel;
      box.checked = settings[channel] !== false;
      box.addEventListener('change', () => this.#setPreference(category, channel, box.checked));
      label.append(box, document.createTextNode(CHANNEL_NAMES[channel]));
      fieldset.append(label);
    }
    return fieldset;
  }
}

if (!customElements.get('herald-inbox')) customElements.define('herald-inbox', HeraldInbox);
