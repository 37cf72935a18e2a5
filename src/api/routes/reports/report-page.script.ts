/**
 * The report page's browser script (served as /reports/assets/report.js). It keeps the API key in
 * sessionStorage (this tab only), reads the report from the API with it and draws it with
 * Chart.js. Every text from the report goes in through textContent or Chart.js labels, never as HTML.
 */
export const REPORT_PAGE_SCRIPT = String.raw`(() => {
  'use strict';
  const KEY_ITEM = 'herald-report-api-key';
  const campaignId = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() || '');
  const $ = (id) => document.getElementById(id);
  const status = $('status');
  const keyInput = $('api-key');
  const range = $('range');
  $('campaign').textContent = campaignId;
  keyInput.value = sessionStorage.getItem(KEY_ITEM) || '';
  const charts = {};
  const palette = ['#3366cc', '#2ca02c', '#ff7f0e', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

  function showStatus(text, isError) {
    status.textContent = text;
    status.className = isError ? 'error' : '';
  }

  function draw(id, config) {
    if (charts[id]) charts[id].destroy();
    charts[id] = new Chart($(id), config);
  }

  function label(start, granularity) {
    const d = new Date(start);
    if (granularity === 'day') return d.toISOString().slice(0, 10);
    return d.toISOString().slice(granularity === 'hour' ? 5 : 11, 16).replace('T', ' ');
  }

  const percent = (rate) => (rate === null ? '–' : (rate * 100).toFixed(1) + ' %');

  function render(report) {
    const t = report.totals;
    const cards = [
      ['targeted', t.targeted], ['sent', t.sent], ['delivered', t.delivered], ['excluded', t.excluded],
      ['failed', t.failed], ['bounces (hard / soft)', t.bounces.total + ' (' + t.bounces.hard + ' / ' + t.bounces.soft + ')'],
      ['complaints', t.complaints], ['unsubscribes', t.unsubscribes], ['retries', t.retries],
      ['opens (unique)', t.opens.total + ' (' + t.opens.unique + ')'], ['clicks (unique)', t.clicks.total + ' (' + t.clicks.unique + ')'],
      ['click-through (of ' + report.rates.clickThroughBase + ')', percent(report.rates.clickThrough)], ['click-to-open', percent(report.rates.clickToOpen)],
    ];
    const totals = $('totals');
    totals.replaceChildren(...cards.map(([name, value]) => {
      const card = document.createElement('div');
      card.className = 'card';
      const b = document.createElement('b');
      b.textContent = String(value);
      const span = document.createElement('span');
      span.textContent = name;
      card.append(b, span);
      return card;
    }));
    const labels = report.series.map((p) => label(p.start, report.granularity));
    // Points show when there are few buckets (one bucket draws no line).
    const pointRadius = report.series.length <= 48 ? 3 : 0;
    const line = (name, key, color) => ({ label: name, data: report.series.map((p) => p[key]), borderColor: color, backgroundColor: color, tension: 0.2, pointRadius });
    // A new object for every chart: Chart.js writes its resolved scales into the options it is given.
    const options = (extra) => ({ animation: false, responsive: true, maintainAspectRatio: true, ...extra });
    draw('chart-series', { type: 'line', data: { labels, datasets: [line('sent', 'sent', palette[0]), line('delivered', 'delivered', palette[1]), line('excluded', 'excluded', palette[7]), line('failed', 'failed', palette[3]), line('bounced', 'bounced', palette[2]), line('complained', 'complained', palette[4])] }, options: options({}) });
    draw('chart-engagement', { type: 'line', data: { labels, datasets: [line('opens', 'opens', palette[0]), line('unique opens', 'uniqueOpens', palette[9]), line('clicks', 'clicks', palette[2]), line('unique clicks', 'uniqueClicks', palette[3]), line('unsubscribes', 'unsubscribed', palette[7])] }, options: options({}) });
    const reasons = [
      ...Object.entries(report.excludedByReason).map(([reason, n]) => ['excluded: ' + reason, n]),
      ...Object.entries(report.failedByReason).map(([reason, n]) => ['failed: ' + reason, n]),
    ];
    draw('chart-outcomes', { type: 'bar', data: { labels: ['sent', 'delivered', 'bounced', 'complained', ...reasons.map((r) => r[0])], datasets: [{ label: 'deliveries', data: [t.sent, t.delivered, t.bounces.total, t.complaints, ...reasons.map((r) => r[1])], backgroundColor: palette[0] }] }, options: options({ indexAxis: 'y' }) });
    draw('chart-links', { type: 'bar', data: { labels: report.links.map((l) => l.url), datasets: [{ label: 'clicks', data: report.links.map((l) => l.clicks), backgroundColor: palette[2] }, { label: 'unique clicks', data: report.links.map((l) => l.uniqueClicks), backgroundColor: palette[3] }] }, options: options({ indexAxis: 'y' }) });
    const providers = Object.entries(report.sentByProvider);
    draw('chart-providers', { type: 'bar', data: { labels: providers.map((p) => p[0]), datasets: [{ label: 'sent', data: providers.map((p) => p[1]), backgroundColor: palette[0] }, { label: 'sent by a fallback', data: providers.map((p) => report.failovers.byProvider[p[0]] || 0), backgroundColor: palette[7] }] }, options: options({ indexAxis: 'y' }) });
    $('failovers').textContent = report.failovers.total === 0 ? 'No failover: every message went through its campaign\'s own configuration.' : report.failovers.total + ' message(s) sent by a fallback configuration.';
    draw('chart-domains', { type: 'doughnut', data: { labels: report.topDomains.map((d) => d.domain), datasets: [{ data: report.topDomains.map((d) => d.count), backgroundColor: palette }] }, options: options({}) });
    $('report').hidden = false;
    showStatus('From ' + report.from + ' to ' + report.to + ' (' + report.granularity + ' buckets), generated ' + report.generatedAt + '.', false);
  }

  async function load() {
    const key = keyInput.value.trim();
    if (!key) return showStatus('Enter a full-access API key.', true);
    sessionStorage.setItem(KEY_ITEM, key);
    showStatus('Loading…', false);
    const path = '/v1/campaigns/' + encodeURIComponent(campaignId) + '/report' + (range.value === 'live' ? '/live' : '');
    try {
      const res = await fetch(path, { headers: { authorization: 'Bearer ' + key, accept: 'application/json' }, cache: 'no-store' });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) return showStatus(res.status + ' ' + (body.title || 'error') + (body.detail ? ': ' + body.detail : ''), true);
      render(body);
    } catch (error) {
      showStatus('Could not reach Herald: ' + error, true);
    }
  }

  $('key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    load();
  });
  if (keyInput.value) load();
})();
`;
