import { html, raw } from 'hono/html';
import { CHANNELS, type Channel } from '../../../domain/campaign';
import { preferenceAllows, type Category, type Preferences } from '../../../domain/preferences';

/**
 * The hosted preference page at /preferences/{token}: self-contained HTML (inline style, no
 * script, nothing fetched from elsewhere), a form of checkboxes that posts back to the same URL,
 * so it works in any browser and mail client without JavaScript. Category names and descriptions
 * are the operator's text and are escaped (hono/html); nothing about the person is shown.
 *
 * The form carries what each toggle showed (`shown`), so a save changes only what the person
 * changed: a category toggle left alone stays unset and keeps following the channel's.
 */

const STYLE = [
  'body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1d2330}',
  'main{max-width:40rem;margin:8vh auto;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.12)}',
  'h1{font-size:1.4rem;margin:0 0 .75rem}',
  'h2{font-size:1.05rem;margin:1.5rem 0 .5rem}',
  'p{margin:0 0 1rem;color:#4a5163}',
  'table{width:100%;border-collapse:collapse;margin:0 0 1rem}',
  'th,td{padding:.5rem .4rem;border-bottom:1px solid #e6e8ee;text-align:center;vertical-align:top}',
  'th:first-child,td:first-child{text-align:left}',
  'td small{display:block;color:#6b7285}',
  '.required{font-size:.8rem;color:#6b7285}',
  '.saved{padding:.6rem .9rem;border-radius:8px;background:#e7f6ec;color:#1c6b3a}',
  'input[type=checkbox]{width:1.15rem;height:1.15rem}',
  'button{font:inherit;font-weight:600;padding:.65rem 1.4rem;border:0;border-radius:8px;background:#1f5fd6;color:#fff;cursor:pointer}',
  'button:hover,button:focus{background:#184bab}',
].join('');

const CHANNEL_LABELS: Partial<Record<Channel, string>> = { email: 'Email', sms: 'Text messages', push: 'Push notifications' };
const labelOf = (channel: Channel) => CHANNEL_LABELS[channel] ?? channel;

/** A toggle's field name: `channel:<channel>` or `category:<key>:<channel>` (keys are slugs, so `:` never occurs in one). */
export const channelField = (channel: Channel) => `channel:${channel}`;
export const categoryField = (key: string, channel: Channel) => `category:${key}:${channel}`;

/** What the page shows and the form posts back: every toggle a person may change, with its state. */
export function toggles(preferences: Preferences, categories: readonly Category[]): Map<string, boolean> {
  const shown = new Map<string, boolean>();
  for (const channel of CHANNELS) shown.set(channelField(channel), preferences.channels[channel] ?? true);
  for (const category of categories) {
    if (category.critical) continue;
    for (const channel of CHANNELS) shown.set(categoryField(category.key, channel), preferenceAllows(preferences, channel, category));
  }
  return shown;
}

/** The `shown` field: `name=1` or `name=0` for each toggle, comma-separated. */
export const encodeShown = (shown: ReadonlyMap<string, boolean>) => [...shown].map(([name, on]) => `${name}=${on ? 1 : 0}`).join(',');

export function decodeShown(value: string): Map<string, boolean> {
  const shown = new Map<string, boolean>();
  for (const entry of value.split(',')) {
    const match = /^([a-z0-9:_-]+)=([01])$/i.exec(entry);
    if (match) shown.set(match[1]!, match[2] === '1');
  }
  return shown;
}

/**
 * The changes a posted form makes: each toggle whose state differs from what the page showed. A
 * checkbox that is not checked is not posted, so absent means off. Names that are no toggle
 * (a changed page, a category deleted since) are ignored.
 */
export function changesOf(shown: ReadonlyMap<string, boolean>, checked: ReadonlySet<string>, categories: readonly Category[]): Preferences {
  const changes: Preferences = { channels: {}, categories: {} };
  const changeable = new Set(categories.filter((category) => !category.critical).map((category) => category.key));
  for (const [name, was] of shown) {
    const now = checked.has(name);
    if (now === was) continue;
    const [kind, first, second] = name.split(':') as [string, string, string | undefined];
    if (kind === 'channel' && isChannel(first) && second === undefined) changes.channels[first] = now;
    else if (kind === 'category' && changeable.has(first) && second !== undefined && isChannel(second)) {
      changes.categories[first] = { ...changes.categories[first], [second]: now };
    }
  }
  return changes;
}

const isChannel = (value: string): value is Channel => (CHANNELS as readonly string[]).includes(value);

/** The page, with the toggles as `preferences` leaves them; `saved` after a POST. */
export async function preferencePage(preferences: Preferences, categories: readonly Category[], saved: boolean): Promise<string> {
  const shown = toggles(preferences, categories);
  const box = (name: string, label: string) =>
    html`<input type="checkbox" name="${name}" value="on" aria-label="${label}"${shown.get(name) ? html` checked` : ''}>`;
  const required = (label: string) => html`<input type="checkbox" checked disabled aria-label="${label} (always sent)">`;
  const head = html`<tr><th scope="col"></th>${CHANNELS.map((channel) => html`<th scope="col">${labelOf(channel)}</th>`)}</tr>`;
  const categoryRows = categories.map(
    (category) =>
      html`<tr><td>${category.name}${category.critical ? html` <span class="required">(always sent)</span>` : ''}${
        category.description ? html`<small>${category.description}</small>` : ''
      }</td>${CHANNELS.map((channel) => {
        const label = `${category.name}: ${labelOf(channel)}`;
        return html`<td>${category.critical ? required(label) : box(categoryField(category.key, channel), label)}</td>`;
      })}</tr>`,
  );
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Your notification preferences</title>
<style>${raw(STYLE)}</style>
</head>
<body>
<main>
<h1>Your notification preferences</h1>
${saved ? html`<p class="saved" role="status">Your preferences are saved. They apply to the next message.</p>` : ''}
<form method="post">
<input type="hidden" name="shown" value="${encodeShown(shown)}">
<h2>Channels</h2>
<p>Turn a channel off to stop every message on it, except those that are always sent.</p>
<table>
${head}
<tr><td>All messages</td>${CHANNELS.map((channel) => html`<td>${box(channelField(channel), labelOf(channel))}</td>`)}</tr>
</table>
${
  categories.length > 0
    ? html`<h2>Topics</h2>
<p>A choice here wins over the channel's for that kind of message.</p>
<table>
${head}
${categoryRows}
</table>`
    : ''
}
<button type="submit">Save</button>
</form>
</main>
</body>
</html>
`;
  return String(await page);
}
