/* global document, window, EventSource, fetch, confirm, prompt, alert, uPlot, history, location */
/**
 * The fleet page: tiles from /api/stream (Server-Sent Events), a detail panel from /api/kiosks/:id,
 * commands through POST /api/kiosks/:id/cmd/:name. No framework, no build step. Everything a kiosk
 * sent is inserted as text (textContent), never as HTML.
 */
'use strict';

const STATUS_LABEL = {
  online: 'Online',
  degraded: 'Degraded',
  stuck: 'Stuck',
  stale: 'Stale',
  maintenance: 'Maintenance',
  out_of_service: 'Out of service',
  offline: 'Offline',
  lost: 'Lost',
  unknown: 'Unknown',
};
const STATUS_HELP = {
  online: 'says online and its health is fresh',
  degraded: 'online, with a device problem',
  stuck: 'serving one customer far longer than any flow takes',
  stale: 'says online, but no health for three heartbeats',
  maintenance: 'in maintenance mode',
  out_of_service: 'locked out of service',
  offline: 'shut down cleanly',
  lost: 'vanished: its Will fired',
  unknown: 'no state seen yet',
};
/** Order of "needs attention first". */
const SEVERITY = [
  'lost',
  'stuck',
  'stale',
  'degraded',
  'out_of_service',
  'maintenance',
  'unknown',
  'offline',
  'online',
];
const ATTENTION = new Set(['lost', 'stuck', 'stale', 'degraded']);
const CRITICAL_ALERTS = new Set(['paper_out', 'printer_offline', 'reader_offline', 'cashbox_full', 'stuck']);

const ui = {
  kiosks: new Map(),
  tiles: new Map(),
  /** Server clock minus ours, so "12 s ago" is right even if this device's clock is off. */
  skew: 0,
  filter: 'all',
  search: '',
  sort: 'attention',
  selected: null,
  detail: null,
  /** The selected kiosk's back-office figures from the store (cash box, uptime, collections). */
  office: null,
  commands: new Map(),
  localCmdErrors: new Map(),
  broker: true,
  sse: 'connecting',
  order: '',
};

const $ = (id) => document.getElementById(id);

/** Builds an element: h('div', { class: 'x', 'data-a': 1 }, 'text', child, [more]). Text is text. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof window.Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const now = () => Date.now() + ui.skew;

/** German money: 123456 -> "1.234,56 €". Integer arithmetic, no floats. */
function money(cents) {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const euros = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, '.');
  return `${sign}${euros},${String(abs % 100).padStart(2, '0')} €`;
}

function ago(ms) {
  if (ms === undefined || ms === null) return 'never';
  const s = Math.max(0, Math.round((now() - ms) / 1000));
  if (s < 2) return 'just now';
  if (s < 90) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 90) return `${m} min ago`;
  const hrs = Math.round(m / 60);
  if (hrs < 36) return `${hrs} h ago`;
  return `${Math.round(hrs / 24)} d ago`;
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString('de-DE', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

function date(ms) {
  return new Date(ms).toLocaleString('de-DE', {
    day: '2-digit',
    month: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  });
}

function duration(s) {
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

function bytes(n) {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${Math.round(n / 1e6)} MB`;
  return `${Math.round(n / 1e3)} kB`;
}

// ---------------------------------------------------------------------------------------------------
// tiles

function beatOld(k) {
  return k.lastHeartbeatAt == null || now() - k.lastHeartbeatAt > 3 * (k.heartbeatMs || 30000);
}

function paperClass(p) {
  return p === 'out' ? 'dev bad' : p === 'low' ? 'dev warn' : 'dev';
}

function tileBody(k) {
  const paper = k.paper || '?';
  const acceptor = k.acceptor || '?';
  return [
    h(
      'div',
      { class: 'tile-head' },
      h('span', { class: 'tile-id' }, k.id, k.name ? h('span', { class: 'tile-name' }, k.name) : null),
      h('span', { class: 'pill', title: STATUS_HELP[k.status] }, STATUS_LABEL[k.status] || k.status),
    ),
    h(
      'div',
      { class: 'tile-meta' },
      h(
        'span',
        {
          class: beatOld(k) ? 'beat old' : 'beat',
          'data-beat': k.lastHeartbeatAt ?? '',
          title: 'last heartbeat',
        },
        `♥ ${ago(k.lastHeartbeatAt)}`,
      ),
      h('span', { title: 'firmware' }, k.firmware ? `fw ${k.firmware}` : 'fw ?'),
    ),
    h(
      'div',
      { class: 'devices' },
      h('span', { class: paperClass(k.paper), 'data-paper': paper }, `paper ${paper}`),
      // An idle kiosk inhibits its acceptor on purpose: only the device's health makes it red.
      h(
        'span',
        {
          class: !k.acceptorHealth || k.acceptorHealth === 'ok' ? 'dev' : 'dev bad',
          'data-acceptor': acceptor,
        },
        `coins ${acceptor}`,
      ),
      k.busy ? h('span', { class: 'dev' }, 'serving') : null,
    ),
    h(
      'div',
      { class: 'money' },
      h(
        'div',
        { class: 'sales' },
        h('span', {}, 'Sales today'),
        h('b', { 'data-sales': k.today.salesCents }, money(k.today.salesCents)),
        ' ',
        h('small', {}, `(${k.today.salesCount})`),
      ),
      h(
        'div',
        { class: 'topups' },
        h('span', {}, 'Top-ups today'),
        h('b', {}, money(k.today.topupCents)),
        ' ',
        h('small', {}, `(${k.today.topupCount})`),
      ),
    ),
    k.alerts.length
      ? h(
          'div',
          { class: 'badges' },
          k.alerts.map((a) =>
            h(
              'span',
              { class: CRITICAL_ALERTS.has(a) ? 'badge critical' : 'badge', 'data-alert': a },
              a.replace(/_/g, ' '),
            ),
          ),
        )
      : null,
  ];
}

function renderTile(k, changed) {
  let el = ui.tiles.get(k.id);
  if (!el) {
    el = h('button', { class: 'tile', type: 'button', 'data-kiosk': k.id, onclick: () => openDetail(k.id) });
    ui.tiles.set(k.id, el);
  }
  const before = el.dataset.status;
  el.dataset.status = k.status;
  el.setAttribute('aria-label', `${k.id}: ${STATUS_LABEL[k.status] || k.status}`);
  el.classList.toggle('selected', ui.selected === k.id);
  el.replaceChildren(...tileBody(k).filter(Boolean));
  if (changed && before && before !== k.status) {
    el.classList.remove('flash');
    void el.offsetWidth; // restart the animation
    el.classList.add('flash');
  }
  return el;
}

function matches(k) {
  if (ui.search && !k.id.toLowerCase().includes(ui.search)) return false;
  if (ui.filter === 'all') return true;
  if (ui.filter === 'attention') return ATTENTION.has(k.status) || k.alerts.length > 0;
  return k.status === ui.filter;
}

function compare(a, b) {
  switch (ui.sort) {
    case 'id':
      return a.id.localeCompare(b.id);
    case 'heartbeat':
      return (a.lastHeartbeatAt ?? 0) - (b.lastHeartbeatAt ?? 0) || a.id.localeCompare(b.id);
    case 'sales':
      return b.today.salesCents - a.today.salesCents || a.id.localeCompare(b.id);
    default:
      return (
        SEVERITY.indexOf(a.status) - SEVERITY.indexOf(b.status) ||
        b.alerts.length - a.alerts.length ||
        a.id.localeCompare(b.id)
      );
  }
}

function renderGrid() {
  const list = [...ui.kiosks.values()].filter(matches).sort(compare);
  const grid = $('grid');
  const order = list.map((k) => k.id).join(' ');
  if (order !== ui.order) {
    ui.order = order;
    grid.replaceChildren(...list.map((k) => ui.tiles.get(k.id) || renderTile(k, false)));
  }
  grid.setAttribute('aria-busy', 'false');
  $('empty').hidden = list.length > 0 || ui.kiosks.size === 0;
  renderChips();
  renderTotals();
}

function renderChips() {
  const counts = {};
  let attention = 0;
  for (const k of ui.kiosks.values()) {
    counts[k.status] = (counts[k.status] || 0) + 1;
    if (ATTENTION.has(k.status) || k.alerts.length > 0) attention++;
  }
  const chip = (key, label, n, status) =>
    h(
      'button',
      {
        class: 'chip',
        role: 'tab',
        type: 'button',
        'data-filter': key,
        'aria-selected': ui.filter === key ? 'true' : 'false',
        onclick: () => {
          ui.filter = ui.filter === key && key !== 'all' ? 'all' : key;
          ui.order = '';
          renderGrid();
        },
      },
      status ? h('span', { class: 'sw', 'data-status': status }) : null,
      label,
      h('span', { class: 'n' }, n),
    );
  const chips = [chip('all', 'All', ui.kiosks.size), chip('attention', 'Needs attention', attention)];
  for (const s of SEVERITY) if (counts[s]) chips.push(chip(s, STATUS_LABEL[s], counts[s], s));
  $('chips').replaceChildren(...chips);
}

function renderTotals() {
  let online = 0;
  let sales = 0;
  let salesN = 0;
  let topups = 0;
  for (const k of ui.kiosks.values()) {
    if (k.status === 'online' || k.status === 'degraded') online++;
    sales += k.today.salesCents;
    salesN += k.today.salesCount;
    topups += k.today.topupCents;
  }
  $('totals').replaceChildren(
    h('div', {}, h('b', {}, `${online} / ${ui.kiosks.size}`), 'working'),
    h('div', {}, h('b', { id: 'total-sales' }, money(sales)), `sales today (${salesN})`),
    h('div', {}, h('b', {}, money(topups)), 'top-ups today'),
  );
}

function renderLive() {
  const live = $('live');
  let state = ui.sse;
  let text =
    ui.sse === 'live' ? 'live' : ui.sse === 'down' ? 'dashboard unreachable, retrying…' : 'connecting…';
  if (ui.sse === 'live' && !ui.broker) {
    state = 'broker-down';
    text = 'broker unreachable: showing last known state';
  }
  live.dataset.state = state;
  $('live-text').textContent = text;
}

/** Relative times move on without any message. */
function tick() {
  for (const el of document.querySelectorAll('[data-beat]')) {
    const at = el.dataset.beat === '' ? null : Number(el.dataset.beat);
    el.textContent = `♥ ${ago(at)}`;
  }
  if (ui.detail) renderDetailSub();
}

// ---------------------------------------------------------------------------------------------------
// the server: session, CSRF, history

/** fetch with the session's CSRF token on state-changing requests; a lost session goes to the login. */
async function api(path, opts = {}) {
  const method = opts.method || 'GET';
  const headers = { ...(opts.headers || {}) };
  if (method !== 'GET' && ui.me && ui.me.csrf) headers['X-CSRF-Token'] = ui.me.csrf;
  const res = await fetch(path, { ...opts, headers });
  if (res.status === 401) {
    window.location.href = `/login?next=${encodeURIComponent(location.pathname)}`;
    // The page is going away: settle never, so no caller reports an error meanwhile.
    return new Promise(() => {});
  }
  return res;
}

const euros = (cents) => cents / 100;

/** Sales and top-ups per day (or week) as a uPlot chart; `data-drawn` says how many points it shows, `data-unit` of what. */
function drawChart(el, days, unit) {
  el.replaceChildren();
  if (typeof uPlot === 'undefined') return;
  const xs = days.map((d) => Date.parse(`${d.day}T12:00:00Z`) / 1000);
  const width = Math.max(280, el.clientWidth || 600);
  new uPlot(
    {
      width,
      height: 180,
      series: [
        {},
        {
          label: 'Sales €',
          stroke: '#2f7d32',
          fill: 'rgba(47,125,50,0.15)',
          value: (u, v) => money(Math.round((v ?? 0) * 100)),
        },
        {
          label: 'Top-ups €',
          stroke: '#1565c0',
          fill: 'rgba(21,101,192,0.12)',
          value: (u, v) => money(Math.round((v ?? 0) * 100)),
        },
        {
          // The cards' bonus given on those sales (Sales is the goods before it, as the kiosks report).
          label: 'Bonus €',
          stroke: '#ef6c00',
          value: (u, v) => money(Math.round((v ?? 0) * 100)),
        },
      ],
      axes: [{}, { values: (u, vals) => vals.map((v) => `${v} €`) }],
    },
    [
      xs,
      days.map((d) => euros(d.salesCents)),
      days.map((d) => euros(d.topupCents)),
      days.map((d) => euros(d.salesDiscountCents ?? 0)),
    ],
    el,
  );
  el.dataset.drawn = String(days.length);
  el.dataset.unit = unit;
  el.dataset.salesCents = String(days.reduce((n, d) => n + d.salesCents, 0));
  el.dataset.discountCents = String(days.reduce((n, d) => n + (d.salesDiscountCents ?? 0), 0));
}

/** Which span each chart shows: 30 days or 12 weeks (the buttons above it). */
const chartSpan = { 'fleet-chart': 'day', 'kiosk-chart': 'day' };

async function loadHistory(el, kiosk) {
  const q = kiosk ? `&kiosk=${encodeURIComponent(kiosk)}` : '';
  const unit = chartSpan[el.id] || 'day';
  const span = unit === 'week' ? 'weeks=12' : 'days=30';
  const res = await api(`/api/history?${span}${q}`).catch(() => null);
  if (!res || !res.ok) return;
  const body = await res.json();
  if (body.days.length === 0) {
    // No store, no history: nothing to draw.
    $('history').hidden = true;
    el.closest('section').hidden = true;
    return;
  }
  drawChart(el, body.days, body.unit || 'day');
  if (body.unit === 'week') return;
  const today = body.days[body.days.length - 1].day;
  const link = kiosk ? $('kiosk-csv') : $('fleet-csv');
  link.href = `/api/export/${today}.csv${kiosk ? `?kiosk=${encodeURIComponent(kiosk)}` : ''}`;
}

function renderAlertHistory(list) {
  $('alert-history').replaceChildren(
    ...(list.length
      ? list.map((a) =>
          h(
            'li',
            { class: `sev-${a.severity}`, 'data-alert': a.name },
            `${a.name}: ${clock(a.openedAt)} → ${a.closedAt ? clock(a.closedAt) : 'open'}`,
          ),
        )
      : [h('li', { class: 'none' }, 'no alerts recorded')]),
  );
}

// ---------------------------------------------------------------------------------------------------
// detail

async function openDetail(id) {
  ui.selected = id;
  for (const [tid, el] of ui.tiles) el.classList.toggle('selected', tid === id);
  $('detail').hidden = false;
  $('scrim').hidden = window.innerWidth > 900;
  $('detail').dataset.kiosk = id;
  const k = ui.kiosks.get(id);
  if (k) $('detail').dataset.status = k.status;
  $('detail-title').replaceChildren(id);
  // Each kiosk has its own address: /kiosk/<id> can be bookmarked and sent to a colleague.
  const path = `/kiosk/${encodeURIComponent(id)}`;
  if (location.pathname !== path) history.pushState({ kiosk: id }, '', path);
  void loadHistory($('kiosk-chart'), id);
  await refreshDetail();
}

function closeDetail() {
  if (location.pathname !== '/') history.pushState({}, '', '/');
  ui.selected = null;
  ui.detail = null;
  $('detail').hidden = true;
  $('scrim').hidden = true;
  for (const el of ui.tiles.values()) el.classList.remove('selected');
}

let detailTimer = null;
function refreshDetailSoon() {
  if (detailTimer) return;
  detailTimer = setTimeout(() => {
    detailTimer = null;
    void refreshDetail(true);
  }, 300);
}

/** `background`: the page's own refresh on a live update, which must not keep an idle session alive. */
async function refreshDetail(background = false) {
  const id = ui.selected;
  if (!id) return;
  const headers = background ? { 'X-Dashboard-Background': '1' } : {};
  const res = await api(`/api/kiosks/${encodeURIComponent(id)}`, { headers }).catch(() => null);
  if (!res || !res.ok || ui.selected !== id) return;
  const body = await res.json();
  ui.skew = body.now - Date.now();
  ui.detail = body.kiosk;
  ui.commands.set(id, body.kiosk.recentCommands);
  ui.office = body.office || null;
  renderDetail();
  renderAlertHistory(body.alertHistory || []);
}

function renderDetailSub() {
  const d = ui.detail;
  const k = ui.kiosks.get(d.id) || d;
  const parts = [`last heartbeat ${ago(k.lastHeartbeatAt)}`, `session ${d.sid}`];
  if (k.stateReason) parts.push(k.stateReason);
  $('detail-sub').textContent = parts.join(' · ');
}

/** The status in the panel's head follows the tile at once; the rest comes with the next fetch. */
function renderDetailHead() {
  const d = ui.detail;
  const k = ui.kiosks.get(d.id) || d;
  $('detail').dataset.status = k.status;
  $('detail-title').replaceChildren(
    d.id,
    d.name ? h('span', { class: 'detail-name', id: 'detail-name' }, d.name) : '',
    h(
      'span',
      { class: 'pill', 'data-status': k.status, id: 'detail-status' },
      STATUS_LABEL[k.status] || k.status,
    ),
  );
  renderDetailSub();
}

function renderDetail() {
  const d = ui.detail;
  if (!d) return;
  renderDetailHead();
  renderCommands();

  $('detail-alerts').replaceChildren(
    ...(d.openAlerts.length
      ? d.openAlerts.map((a) =>
          h(
            'li',
            { class: a.severity === 'critical' ? 'critical' : '', 'data-alert': a.name },
            h('b', {}, a.name.replace(/_/g, ' ')),
            a.message ? ` — ${a.message}` : '',
            h('span', { class: 'sub' }, ` since ${clock(a.since)}`),
          ),
        )
      : [h('li', { class: 'none' }, 'none')]),
  );

  const hl = d.health;
  const b = d.birth;
  const facts = [];
  const fact = (label, value, cls) => {
    if (value === undefined || value === null || value === '') return;
    facts.push(h('dt', {}, label), h('dd', { class: cls || '' }, value));
  };
  fact('Name', d.name);
  fact('Firmware', d.firmware);
  fact('Hardware', b && b.hardware ? b.hardware.model : undefined);
  fact('Site', b ? [b.site, b.location].filter(Boolean).join(', ') : undefined);
  fact('Heartbeat', d.heartbeatMs ? `every ${d.heartbeatMs / 1000} s` : undefined);
  if (hl) {
    fact('Uptime', duration(hl.uptimeS));
    fact('CPU', hl.cpuTempC != null ? `${hl.cpuTempC.toFixed(1)} °C` : undefined);
    fact('Memory', `${bytes(hl.memory.rssBytes)} RSS`);
    fact(
      'Event loop',
      `p99 ${hl.eventLoopLagMs.p99.toFixed(1)} ms, max ${hl.eventLoopLagMs.max.toFixed(1)} ms`,
    );
    fact('Disk', hl.disk ? `${bytes(hl.disk.freeBytes)} free of ${bytes(hl.disk.totalBytes)}` : undefined);
    fact(
      'Outbox',
      `${hl.outbox.size} waiting (${hl.outbox.money} money), ${hl.outbox.dropped} dropped`,
      hl.outbox.size > 0 ? 'mismatch' : '',
    );
    fact('Clock', hl.clockSynced ? 'synchronised' : 'NOT synchronised', hl.clockSynced ? '' : 'mismatch');
    fact(
      'Devices',
      Object.entries(hl.devices)
        .map(([n, v]) => `${n} ${v.status}`)
        .join(', '),
    );
    const life = hl.counters.sinceInstall;
    fact(
      'Lifetime',
      `${life.sales.count} sales ${money(life.sales.cents)}, ${life.topups.count} top-ups ${money(life.topups.cents)}`,
    );
  }
  const office = ui.office;
  if (office && office.cashBox) {
    const c = office.cashBox;
    const pct = Math.round((c.cents / c.capacityCents) * 100);
    const when =
      c.fullAt === null
        ? c.centsPerDay === null
          ? 'too little history for an estimate'
          : 'not filling'
        : c.fullAt <= Date.now() + ui.skew
          ? 'full now'
          : `full in about ${duration(Math.round((c.fullAt - Date.now() - ui.skew) / 1000))} (${date(c.fullAt)})`;
    fact(
      'Cash box',
      `${money(c.cents)} of ${money(c.capacityCents)} (${pct} %)` +
        (c.centsPerDay !== null ? `, ${money(c.centsPerDay)}/day` : '') +
        `, ${when}` +
        (c.lastCollectionTs ? `, collected ${date(c.lastCollectionTs)}` : ''),
      pct >= 90 ? 'mismatch' : '',
    );
  }
  if (office && office.collections && office.collections.length > 0)
    // What the technician counted against what the kiosk's books expected: a difference is money to ask about.
    fact(
      'Collections',
      h(
        'ul',
        { id: 'collections' },
        office.collections.slice(0, 5).map((c) => {
          const diff = c.countedCents - c.expectedCents;
          return h(
            'li',
            { 'data-diff': String(diff), class: diff !== 0 ? 'mismatch' : '' },
            `${date(c.at)}: counted ${money(c.countedCents)}, expected ${money(c.expectedCents)}` +
              (diff !== 0 ? ` (${diff > 0 ? '+' : ''}${money(diff)})` : ''),
          );
        }),
      ),
    );
  if (office && office.uptime)
    fact(
      'In service',
      `${(office.uptime.ratio * 100).toFixed(1)} % since ${date(office.uptime.from)} (7 days at most)`,
    );
  const vouchers = hl && hl.counters ? hl.counters.openVouchers : undefined;
  if (vouchers !== undefined && vouchers !== null)
    fact(
      'Open vouchers',
      typeof vouchers === 'number'
        ? String(vouchers)
        : `${vouchers.count ?? '?'}${vouchers.cents !== undefined ? ` (${money(vouchers.cents)})` : ''}`,
    );
  if (d.counterCrossCheck) {
    // Like with like: counts, and cash taken in (the odometers value a cash sale at its cash part).
    // Sales cents part by part, where the kiosk counts them (salesValue): the parts that differ by name.
    const c = d.counterCrossCheck;
    const f = (x) => `${x.salesCount} sales, ${x.topupCount} top-ups, cash in ${money(x.cashInCents)}`;
    const s = c.sales;
    const part = (p) => `${p} ${money(s.counters.parts[p])} ≠ ${money(s.events.parts[p])}`;
    const salesText = !s
      ? ''
      : s.differing.length === 0
        ? `, sales value ${money(s.counters.cents)}`
        : `; sales value differs in ${s.differing.map(part).join(', ')} (counters ≠ events)`;
    fact(
      'Counters check',
      c.agrees
        ? `${f(c.counters)}${salesText} since ${clock(c.since)} ✓`
        : `counters ${f(c.counters)} ≠ events ${f(c.events)}${salesText} since ${clock(c.since)}`,
      c.agrees ? '' : 'mismatch',
    );
  }
  fact(
    'Today',
    `${d.today.salesCount} sales ${money(d.today.salesCents)}, ${d.today.topupCount} top-ups ${money(d.today.topupCents)}, ${d.today.failedCount} failed`,
  );
  fact('Events', `last seq ${d.seq.last ?? '–'}, ${d.seq.gaps} missing, ${d.seq.duplicates} duplicates`);
  if (d.config) {
    fact(
      'Config',
      `v${d.config.version ?? '?'} ${d.config.status}${d.config.errors && d.config.errors.length ? `: ${d.config.errors.join('; ')}` : ''}`,
      d.config.status === 'rejected' ? 'mismatch' : '',
    );
  }
  $('facts').replaceChildren(...facts);
  renderVend(hl);

  $('events').replaceChildren(
    ...(d.recentEvents.length
      ? d.recentEvents.map((e) =>
          h(
            'tr',
            { class: e.type === 'fault' ? 'fault' : e.outcome === 'failed' ? 'failed' : '' },
            h('td', { class: 'seq' }, e.seq),
            h('td', {}, clock(e.ts)),
            h(
              'td',
              {},
              e.title,
              e.card || e.reason
                ? h('span', { class: 'sub' }, [e.card, e.reason].filter(Boolean).join(' · '))
                : null,
            ),
            h('td', { class: 'num' }, e.amountCents != null ? money(e.amountCents) : ''),
          ),
        )
      : [h('tr', {}, h('td', { colspan: 4, class: 'seq' }, 'no events yet'))]),
  );
}

/** Stock per slot and the hopper, from health (`devices.slots`, `devices.hopper`); hidden without them. */
function renderVend(hl) {
  const slots = hl && hl.devices ? hl.devices.slots : undefined;
  const hopper = hl && hl.devices ? hl.devices.hopper : undefined;
  $('vend').hidden = !slots && !hopper;
  const stock = (slots && slots.stock) || {};
  const blocked = (slots && slots.blocked) || {};
  // Releases whose outcome is unknown (older kiosks send only their count): settle before unblocking.
  const inDoubt = (slots && Array.isArray(slots.inDoubt) && slots.inDoubt) || [];
  const doubtSlots = new Set(inDoubt.map((r) => r.slot));
  $('vend-slots').replaceChildren(
    ...Object.keys(stock).map((id) =>
      h(
        'tr',
        { 'data-slot': id, class: blocked[id] ? 'failed' : stock[id] === 0 ? 'fault' : '' },
        h('td', {}, id),
        h('td', { class: 'num', 'data-stock': stock[id] }, String(stock[id])),
        h('td', {}, blocked[id] ? `blocked (${blocked[id]})` : stock[id] === 0 ? 'sold out' : 'ok'),
        h(
          'td',
          {},
          blocked[id] && !doubtSlots.has(id)
            ? cmdButton(
                'unblock-slot',
                { slot: id },
                'Unblock',
                `Slot ${id} releases again (check it is clear)?`,
              )
            : null,
        ),
      ),
    ),
  );
  $('vend-doubt').replaceChildren(
    ...inDoubt.map((r) =>
      h(
        'li',
        { 'data-job': r.jobId },
        // No slot: a paid sale whose goods the kiosk's journal cannot tell (goods_unsettled); its
        // amount too where no record names it (amountUnknown: a refund asks for the amount).
        r.slot
          ? `${r.slot}: release of ${money(r.cents)} unknown `
          : r.amountUnknown
            ? 'sale paid (amount unknown), goods unknown '
            : `sale paid ${money(r.cents)}, goods unknown `,
        cmdButton(
          'settle-release',
          { jobId: r.jobId, how: 'delivered' },
          'Delivered',
          `The customer got the goods ${r.slot ? `from ${r.slot}` : 'of this sale'}: book it delivered?`,
        ),
        r.amountUnknown
          ? askCents(
              cmdButton(
                'settle-release',
                { jobId: r.jobId, how: 'refunded' },
                'Refund (voucher)',
                'The goods were not given: issue a voucher for the amount you give?',
              ),
            )
          : cmdButton(
              'settle-release',
              { jobId: r.jobId, how: 'refunded' },
              'Refund (voucher)',
              `The goods did not come out${r.slot ? ` of ${r.slot}` : ''}: issue a voucher for ${money(r.cents)}?`,
            ),
      ),
    ),
  );
  const listed = inDoubt.length;
  const unlisted = slots && slots.releasesInDoubt ? slots.releasesInDoubt - listed : 0;
  const doubt = unlisted > 0 ? ` · ${unlisted} release(s) in doubt: settle on site` : '';
  // The kiosk's books (bookedCoins, null until a technician booked a fill; absent from older kiosks).
  const booked = hopper ? hopper.bookedCoins : undefined;
  const level =
    typeof booked !== 'number'
      ? ''
      : booked === 0
        ? 'empty'
        : hopper.lowAt !== undefined && booked <= hopper.lowAt
          ? 'low'
          : 'ok';
  const books =
    booked === undefined
      ? ''
      : booked === null
        ? ', books: not booked yet'
        : `, books: ${booked} × ${money(hopper.coinCents)} = ${money(booked * hopper.coinCents)}` +
          (level === 'ok' ? '' : ` (${level})`);
  $('vend-hopper').textContent =
    (hopper
      ? `Hopper ${hopper.status}` +
        (hopper.coins !== undefined
          ? `, ${hopper.coins} × ${money(hopper.coinCents)} = ${money(hopper.coins * hopper.coinCents)}`
          : booked === undefined || booked === null
            ? `, coin ${money(hopper.coinCents)}, level unknown`
            : '') +
        books
      : '') + doubt;
  $('vend-hopper').dataset.coins = hopper && hopper.coins !== undefined ? String(hopper.coins) : '';
  $('vend-hopper').dataset.booked = typeof booked === 'number' ? String(booked) : '';
  $('vend-hopper').dataset.level = level;
  $('vend-hopper').classList.toggle('fault', level === 'low' || level === 'empty');
}

/** A command button of the detail panel for operators (viewers do not see it; the server refuses them). */
function cmdButton(name, args, label, confirmText) {
  const button = h(
    'button',
    {
      type: 'button',
      class: 'operator',
      'data-cmd': name,
      'data-args': JSON.stringify(args),
      'data-confirm': confirmText,
    },
    label,
  );
  button.addEventListener('click', () => void sendCommand(button));
  return button;
}

function resultText(c) {
  if (c.reason) return c.reason;
  const r = c.result;
  if (r === undefined || r === null) return '';
  if (Array.isArray(r))
    return r.map((x) => (x && x.device ? `${x.device}: ${x.status}` : JSON.stringify(x))).join('\n');
  if (typeof r === 'object') {
    return Object.entries(r)
      .map(
        ([k, v]) =>
          `${k}: ${k === 'pong' && typeof v === 'number' ? clock(v) : typeof v === 'object' ? JSON.stringify(v) : v}`,
      )
      .join(', ');
  }
  return String(r);
}

function renderCommands() {
  const id = ui.selected;
  if (!id) return;
  const list = [...(ui.localCmdErrors.get(id) || []), ...(ui.commands.get(id) || [])]
    .sort((a, b) => b.issuedAt - a.issuedAt)
    .slice(0, 8);
  $('cmd-log').replaceChildren(
    ...list.map((c) =>
      h(
        'li',
        { 'data-cmd-id': c.cmdId, 'data-cmd-name': c.name, 'data-cmd-status': c.status },
        h(
          'div',
          { class: 'cmd-row' },
          h('b', {}, `${c.name}${c.args && c.args.on !== undefined ? (c.args.on ? ' on' : ' off') : ''}`),
          h(
            'span',
            {},
            h('span', { class: 'when' }, `${clock(c.issuedAt)} `),
            h('span', { class: 'cst', 'data-cst': c.status }, c.status),
          ),
        ),
        resultText(c) ? h('pre', { class: 'cmd-result' }, resultText(c)) : null,
      ),
    ),
  );
}

/** The command takes the amount the operator types (a refund whose amount the kiosk does not know). */
function askCents(button) {
  button.dataset.askCents = '1';
  return button;
}

/** "12,34" or "12.34" (EUR) as whole cents; null unless 0.01 to 1000.00. */
function centsOf(text) {
  const m = /^\s*(\d{1,4})(?:[.,](\d{1,2}))?\s*$/.exec(text || '');
  if (!m) return null;
  const cents = Number(m[1]) * 100 + Number((m[2] || '0').padEnd(2, '0'));
  return cents >= 1 && cents <= 100000 ? cents : null;
}

async function sendCommand(button) {
  const id = ui.selected;
  if (!id) return;
  const name = button.dataset.cmd;
  let cents;
  if (button.dataset.askCents) {
    // Never a default: the kiosk refuses the refund without the amount the customer paid.
    cents = centsOf(
      prompt(`${id}: the amount the customer paid, in EUR (terminal receipt, API transaction):`),
    );
    if (cents === null) {
      alert('Not sent: give the amount in EUR, e.g. 6,78 (at most 1000,00).');
      return;
    }
  }
  if (
    button.dataset.confirm &&
    !confirm(`${id}: ${button.dataset.confirm}${cents ? ` (${money(cents)})` : ''}`)
  )
    return;
  const args = {
    ...(button.dataset.args ? JSON.parse(button.dataset.args) : {}),
    ...(cents ? { cents } : {}),
  };
  button.disabled = true;
  setTimeout(() => (button.disabled = false), 800);
  try {
    const res = await api(`/api/kiosks/${encodeURIComponent(id)}/cmd/${encodeURIComponent(name)}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ args }),
    });
    const body = await res.json();
    if (!res.ok) throw new Error(body.error || `HTTP ${res.status}`);
    const list = ui.commands.get(id) || [];
    if (!list.some((c) => c.cmdId === body.cmdId)) {
      list.unshift({ ...body, status: 'sent', updatedAt: body.issuedAt });
      ui.commands.set(id, list);
    }
  } catch (err) {
    const errs = ui.localCmdErrors.get(id) || [];
    errs.unshift({
      cmdId: `local-${now()}`,
      name,
      args,
      issuedAt: now(),
      status: 'error',
      reason: err.message,
    });
    ui.localCmdErrors.set(id, errs.slice(0, 3));
  }
  renderCommands();
}

// ---------------------------------------------------------------------------------------------------
// live feed

function applyKiosks(list, serverNow, replace) {
  ui.skew = serverNow - Date.now();
  if (replace) {
    const keep = new Set(list.map((k) => k.id));
    for (const id of ui.kiosks.keys()) {
      if (!keep.has(id)) {
        ui.kiosks.delete(id);
        ui.tiles.delete(id);
      }
    }
  }
  for (const k of list) {
    const before = ui.kiosks.get(k.id);
    ui.kiosks.set(k.id, k);
    renderTile(k, Boolean(before));
  }
  renderGrid();
  if (ui.selected && list.some((k) => k.id === ui.selected)) {
    if (ui.detail) renderDetailHead();
    refreshDetailSoon();
  }
}

function connect() {
  const es = new EventSource('/api/stream');
  es.addEventListener('open', () => {
    ui.sse = 'live';
    renderLive();
  });
  es.addEventListener('error', () => {
    ui.sse = 'down';
    renderLive();
  });
  es.addEventListener('snapshot', (e) => {
    const d = JSON.parse(e.data);
    ui.broker = d.broker.connected;
    ui.sse = 'live';
    applyKiosks(d.kiosks, d.now, true);
    renderLive();
  });
  es.addEventListener('kiosks', (e) => {
    const d = JSON.parse(e.data);
    applyKiosks(d.kiosks, d.now, false);
  });
  es.addEventListener('store', (e) => {
    const st = JSON.parse(e.data);
    $('store-down').hidden = !st.enabled || st.ok;
    $('store-down').textContent = st.ok
      ? ''
      : `Store unreachable: ${st.error || ''} (${st.pending} writes waiting)`;
  });
  es.addEventListener('broker', (e) => {
    ui.broker = JSON.parse(e.data).connected;
    renderLive();
  });
  es.addEventListener('cmd', (e) => {
    const d = JSON.parse(e.data);
    ui.commands.set(d.kioskId, d.commands);
    if (ui.selected === d.kioskId) renderCommands();
  });
}

async function whoAmI() {
  const res = await api('/api/me');
  ui.me = await res.json();
  $('user-name').textContent = ui.me.username
    ? `${ui.me.username} (${ui.me.role}${ui.me.tenant ? `, ${ui.me.tenant} only` : ''})`
    : '';
  $('user').hidden = !ui.me.username;
  document.body.dataset.role = ui.me.role;
}

/**
 * The user's own new password (POST /api/password): the current one is asked again. The server ends
 * every session of the user and gives this page a new one, whose CSRF token replaces the old.
 */
async function changePassword() {
  const msg = $('password-msg');
  const current = $('password-current').value;
  const password = $('password-new').value;
  if (password !== $('password-repeat').value) {
    msg.textContent = 'The two new passwords differ.';
    msg.dataset.state = 'error';
    return;
  }
  $('password-submit').disabled = true;
  try {
    const res = await api('/api/password', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ current, password }),
    }).catch(() => null);
    const body = res ? await res.json().catch(() => ({})) : {};
    if (res && res.ok) {
      ui.me.csrf = body.csrf;
      $('password-form').reset();
      msg.textContent = 'Password changed. Your other sessions have ended.';
      msg.dataset.state = 'ok';
    } else {
      msg.textContent = body.error || 'The password could not be changed (no answer).';
      msg.dataset.state = 'error';
    }
  } finally {
    $('password-submit').disabled = false;
  }
}

async function logout() {
  await api('/api/logout', { method: 'POST' }).catch(() => null);
  window.location.href = '/login';
}

// ---------------------------------------------------------------------------------------------------
// vouchers paid out at the office (docs/dashboard.md): found by short id, never a code

/** What the operator must know before handing out cash: only `settled` means pay. */
function voucherState(v) {
  if (v.settle && v.settle.state === 'pending')
    return `settlement pending (by ${v.settle.by}): do not pay yet`;
  if (v.settle && v.settle.state === 'settled') return `settled by ${v.settle.by}: pay the customer`;
  if (v.settle && v.settle.state === 'refused') return `refused: ${v.settle.note}`;
  return v.status === 'open' ? 'open' : `${v.status.replace('_', ' ')}${v.paidBy ? ` by ${v.paidBy}` : ''}`;
}

/** `ref`: the vouchers of that short id; null: every open one (what the fleet owes), with the sum. */
async function findVouchers(ref) {
  const list = $('voucher-list');
  const query = ref === null ? 'open=1' : `ref=${encodeURIComponent(ref)}`;
  const res = await api(`/api/vouchers?${query}`).catch(() => null);
  if (!res || !res.ok) return void list.replaceChildren(h('li', {}, 'Vouchers need the store.'));
  const body = await res.json();
  const vouchers = body.vouchers;
  if (vouchers.length === 0)
    return void list.replaceChildren(h('li', {}, ref === null ? 'No open voucher.' : `No voucher ${ref}.`));
  const head =
    ref === null
      ? h(
          'li',
          { id: 'voucher-open-sum', 'data-count': body.count, 'data-cents': body.cents },
          `${body.count} open, ${money(body.cents)} owed` +
            (body.count > vouchers.length ? ` (the newest ${vouchers.length} listed)` : ''),
        )
      : null;
  list.replaceChildren(
    head,
    ...vouchers.map((v) => {
      const open = v.status === 'open' && (!v.settle || v.settle.state === 'refused');
      const pending = v.settle && v.settle.state === 'pending';
      const settle = async (resend) => {
        const ask = resend
          ? `Send the settlement of ${v.ref} to ${v.kioskId} again?`
          : `Pay out ${money(v.cents)} for voucher ${v.ref} of ${v.kioskId} at the office?`;
        if (!confirm(ask)) return;
        const r = await api(
          `/api/vouchers/${encodeURIComponent(v.kioskId)}/${encodeURIComponent(v.ref)}/settle`,
          {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ confirm: true, ...(resend ? { resend: true } : {}) }),
          },
        );
        if (!r.ok) window.alert((await r.json().catch(() => ({}))).error || `refused (${r.status})`);
        await findVouchers(ref);
      };
      return h(
        'li',
        { 'data-ref': v.ref, 'data-state': v.settle ? v.settle.state : v.status },
        `${v.kioskId} ${v.ref} ${money(v.cents)}: `,
        h('b', {}, voucherState(v)),
        open
          ? h(
              'button',
              { type: 'button', class: 'operator', onclick: () => void settle(false) },
              'Paid out at the office',
            )
          : null,
        pending
          ? h('button', { type: 'button', class: 'operator', onclick: () => void settle(true) }, 'Send again')
          : null,
      );
    }),
  );
}

async function init() {
  await whoAmI();
  $('logout').addEventListener('click', () => void logout());
  $('password-open').addEventListener('click', () => {
    $('password-msg').textContent = '';
    $('password-dialog').showModal();
  });
  $('password-cancel').addEventListener('click', () => $('password-dialog').close());
  $('password-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void changePassword();
  });
  void loadHistory($('fleet-chart'));
  $('voucher-open').addEventListener('click', () => void findVouchers(null));
  $('voucher-find').addEventListener('submit', (e) => {
    e.preventDefault();
    void findVouchers($('voucher-ref').value.trim());
  });
  for (const b of document.querySelectorAll('button[data-span]'))
    b.addEventListener('click', () => {
      chartSpan[b.dataset.chart] = b.dataset.span;
      for (const o of document.querySelectorAll(`button[data-chart="${b.dataset.chart}"]`))
        o.setAttribute('aria-pressed', String(o === b));
      void loadHistory($(b.dataset.chart), b.dataset.chart === 'kiosk-chart' ? ui.selected : undefined);
    });
  window.addEventListener('popstate', () => {
    const m = /^\/kiosk\/([^/]+)$/.exec(location.pathname);
    if (m) void openDetail(decodeURIComponent(m[1]));
    else if (ui.selected) closeDetail();
  });
  const direct = /^\/kiosk\/([^/]+)$/.exec(location.pathname);
  if (direct) void openDetail(decodeURIComponent(direct[1]));
  $('detail-close').addEventListener('click', closeDetail);
  $('scrim').addEventListener('click', closeDetail);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') closeDetail();
  });
  $('cmds').addEventListener('click', (e) => {
    const button = e.target.closest('button[data-cmd]');
    if (button) void sendCommand(button);
  });
  $('search').addEventListener('input', (e) => {
    ui.search = e.target.value.trim().toLowerCase();
    ui.order = '';
    renderGrid();
  });
  $('sort').addEventListener('change', (e) => {
    ui.sort = e.target.value;
    ui.order = '';
    renderGrid();
  });
  renderLive();
  connect();
  setInterval(tick, 1000);
}

void init();
