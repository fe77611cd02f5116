// The demo page: an EventSource pane and a WebSocket pane on the same topic,
// publishing from each, going offline, dropping every connection on the
// server, and a table of what was measured. State lives in PaneStats
// (stats.js); this file wires the connections, the buttons and the screen.
// The private-topic card below the panes is private.js.
import { PaneStats, quantile } from './stats.js';
import { SseClient } from './sse.js';
import { WsClient } from './ws.js';
import { httpPublish, burst, HttpError } from './httppublish.js';
import { renderTimeline, renderChart, renderRecent, fmtMs, fmtInt } from './view.js';
import { startPrivateCard, model as privateModel } from './private.js';

const TOPIC = 'demo';
// The demo config's admin token for POST /disconnect (public, demo only).
const ADMIN_TOKEN = 'demo-admin';
// Publishes in flight during a burst. HTTP/1.1 gives a page 6 connections
// per origin and the stream holds one; frames share one socket, and the
// server acks them in order.
const BURST_WINDOW = { sse: 4, ws: 64 };

const $ = (id) => document.getElementById(id);
// Ids of what this page published, for the browser test (bounded).
const published = [];
const PUBLISHED_KEPT = 100000;
function recordPublished(ids) {
  for (const id of ids) if (published.length < PUBLISHED_KEPT) published.push(id);
}

function payload(fields) {
  return JSON.stringify({ t: Date.now(), ...fields });
}

class Pane {
  constructor(kind, Client, resumeId) {
    this.kind = kind;
    this.stats = new PaneStats();
    this.everOpened = false;
    this.openedAt = -Infinity; // replay is judged only after a reconnect
    this.lostAt = 0;
    this.notOpenSince = Date.now();
    this.publishRtt = [];
    this.lastBurst = null;
    this.bursting = false;
    this.dirty = false;
    this.renderTimer = 0;
    const h = {
      state: (s, detail) => this.onState(s, detail),
      down: () => { if (!this.lostAt) this.lostAt = performance.now(); },
      up: () => this.onUp(),
      offline: () => { this.lostAt = 0; },
      event: (e) => {
        this.stats.onEvent({ ...e, openedAt: this.openedAt });
        this.changed();
      },
      gap: (id, info) => { this.stats.onGap(id, info); this.changed(); },
      ack: (id, ms) => this.onAck(id, ms),
      nack: (error) => this.status(`the server refused a frame: ${error}`),
      bad: (text) => this.status(`an unexpected frame: ${text.slice(0, 80)}`),
    };
    this.client = new Client({ topics: [TOPIC], h, resumeId });
  }

  el(name) {
    return $(`${this.kind}-${name}`);
  }

  onState(s, detail) {
    this.stats.setState(s);
    if (s === 'open') this.notOpenSince = 0;
    else if (!this.notOpenSince) this.notOpenSince = Date.now();
    for (const st of [this.el('state'), this.el('glance-state')]) {
      st.textContent = s;
      st.dataset.state = s;
    }
    this.el('detail').textContent = detail;
    this.updateButtons();
    this.changed();
    health.soon();
  }

  onUp() {
    if (this.everOpened) {
      this.stats.onReconnected(this.lostAt ? performance.now() - this.lostAt : NaN);
      this.openedAt = Date.now();
    }
    this.everOpened = true;
    this.lostAt = 0;
  }

  // Every ack, single sends and bursts alike; the ids are recorded by
  // whoever sent the frame.
  onAck(id, ms) {
    this.rtt(ms);
  }

  rtt(ms) {
    this.publishRtt.push(ms);
    if (this.publishRtt.length > 500) this.publishRtt.shift();
  }

  status(text) {
    this.el('publish-status').textContent = text;
  }

  updateButtons() {
    if (this.kind !== 'ws') return;
    const off = !this.client.isOpen;
    this.el('publish').disabled = off;
    this.el('burst').disabled = off || this.bursting;
  }

  changed() {
    this.dirty = true;
    if (!this.renderTimer) this.renderTimer = setTimeout(() => this.render(), 100);
  }

  render() {
    this.renderTimer = 0;
    if (!this.dirty) return;
    this.dirty = false;
    const s = this.stats;
    const set = (name, v) => { const e = this.el(name); if (e.textContent !== v) e.textContent = v; };
    set('events', fmtInt(s.events));
    set('glance-events', fmtInt(s.events));
    set('reconnects', fmtInt(s.reconnects));
    set('replayed', fmtInt(s.replayed));
    set('gaps', fmtInt(s.gaps));
    set('duplicates', fmtInt(s.duplicates));
    set('out-of-order', fmtInt(s.outOfOrder));
    this.el('duplicates').classList.toggle('bad', s.duplicates > 0);
    this.el('out-of-order').classList.toggle('bad', s.outOfOrder > 0);
    set('last-id', s.lastId || '(none yet)');
    const q = s.latencyQuantiles();
    set('p50', fmtMs(q.p50));
    set('p99', fmtMs(q.p99));
    renderChart(this.el('chart'), this.el('chart-max'), this.el('chart-caption'), s.latency, q.p50);
    renderRecent(this.el('recent'), s.recent);
    renderTimeline(this.el('timeline'), s.timeline, Date.now());
    renderCompare();
  }
}

function renderCompare() {
  for (const p of Object.values(panes)) {
    const s = p.stats, k = p.kind;
    const bpe = s.bytesPerEvent();
    $(`cmp-bytes-${k}`).textContent = Number.isFinite(bpe)
      ? `${bpe.toFixed(1)} B (${fmtInt(s.events)} events)` : '–';
    const r = s.reconnectSummary();
    $(`cmp-reconnect-${k}`).textContent = r.n ? `${fmtMs(r.last)} / ${fmtMs(r.median)} (${r.n})` : '–';
    const q = s.latencyQuantiles();
    $(`cmp-latency-${k}`).textContent = q.n ? `${fmtMs(q.p50)} / ${fmtMs(q.p99)}` : '–';
    const rtt = Float64Array.from(p.publishRtt).sort();
    $(`cmp-publish-${k}`).textContent = rtt.length
      ? `${fmtMs(quantile(rtt, 0.5))} (${k === 'sse' ? 'POST, 201' : 'frame, ack'})` : '–';
    const b = p.lastBurst;
    $(`cmp-burst-${k}`).textContent = b
      ? `${fmtInt(b.n)} in ${fmtMs(b.ms)} (${fmtInt(Math.round(b.n / (b.ms / 1000)))}/s, ` +
        `${BURST_WINDOW[k]} ${k === 'sse' ? 'requests' : 'frames'} in flight)` : '–';
  }
}

// ---- the backend's health: a clear message when it is down ---------------

const health = {
  timer: 0,
  down: false,
  soon() {
    if (!this.timer) this.timer = setTimeout(() => this.check(), 1500);
  },
  async check() {
    this.timer = 0;
    const notOpen = Object.values(panes).filter((p) => p.notOpenSince);
    if (!this.down && notOpen.length === 0) return;
    let msg = '';
    try {
      const r = await fetch('healthz', { cache: 'no-store' });
      if (!r.ok) {
        msg = `The backend is down: the web server answered ${r.status} for /healthz. ` +
          'Both panes keep retrying and catch up from the log when it is back.';
      }
    } catch {
      msg = 'The web server is not answering. Start the demo with "make demo"; ' +
        'the panes keep retrying.';
    }
    const ws = panes.ws.client;
    if (!msg && ws.opens === 0 && ws.failures >= 3 && !panes.sse.notOpenSince) {
      msg = `The WebSocket endpoint /ws failed ${ws.failures} times while /events works: ` +
        'the backend may run without --ws, or the web server does not pass /ws to it.';
    }
    this.down = msg !== '';
    const b = $('backend-banner');
    b.textContent = msg;
    b.hidden = !this.down;
    if (this.down || notOpen.length) this.timer = setTimeout(() => this.check(), 2500);
  },
};

// ---- publishing --------------------------------------------------------

function describe(e) {
  if (e instanceof HttpError) return e.message;
  if (e instanceof TypeError) return 'the server is not reachable';
  return e.message;
}

async function publishSse(ev) {
  ev.preventDefault();
  const p = panes.sse;
  const type = $('sse-publish-type').value;
  const text = $('sse-publish-text').value;
  p.status('publishing…');
  try {
    const r = await httpPublish(TOPIC, type, payload({ text }));
    p.rtt(r.ms);
    recordPublished([r.id]);
    p.status(`201 Created, id ${r.id}, in ${fmtMs(r.ms)}`);
  } catch (e) {
    p.status(`not published: ${describe(e)}`);
    health.soon();
  }
  p.changed();
}

async function publishWs(ev) {
  ev.preventDefault();
  const p = panes.ws;
  const t0 = performance.now();
  p.status('sent, waiting for the ack…');
  try {
    const id = await p.client.publish({ topic: TOPIC, event: 'message', data: payload({ text: $('ws-publish-text').value }) });
    recordPublished([id]);
    p.status(`ack ${id} in ${fmtMs(performance.now() - t0)}`);
  } catch (e) {
    p.status(`not acknowledged: ${describe(e)}`);
  }
  p.changed();
}

async function runBurst(kind) {
  const p = panes[kind];
  const n = Math.max(1, Math.min(10000, Number(p.el('burst-count').value) || 1000));
  const tag = Math.random().toString(36).slice(2, 8);
  const send = kind === 'sse'
    ? async (i) => {
      const r = await httpPublish(TOPIC, 'message', payload({ text: `burst ${tag} #${i + 1}` }));
      p.rtt(r.ms);
      return r.id;
    }
    : (i) => p.client.publish({ topic: TOPIC, event: 'message', data: payload({ text: `burst ${tag} #${i + 1}` }) });
  p.bursting = true;
  p.el('burst').disabled = true;
  p.status(`burst: 0 of ${fmtInt(n)}`);
  let shown = 0;
  const r = await burst(n, BURST_WINDOW[kind], send, (done) => {
    if (done - shown >= 50 || done === n) {
      shown = done;
      p.status(`burst: ${fmtInt(done)} of ${fmtInt(n)}`);
    }
  });
  recordPublished(r.ids);
  p.bursting = false;
  p.el('burst').disabled = false;
  p.updateButtons();
  if (r.ids.length) p.lastBurst = { n: r.ids.length, ms: r.ms };
  p.status(r.error
    ? `burst stopped after ${fmtInt(r.ids.length)} of ${fmtInt(n)}: ${describe(r.error)}`
    : `burst: ${fmtInt(n)} acknowledged in ${fmtMs(r.ms)} (${fmtInt(Math.round(n / (r.ms / 1000)))}/s)`);
  if (r.error) health.soon();
  p.changed();
}

async function dropAll() {
  const out = $('drop-status');
  out.textContent = 'asking the server to drop every connection…';
  try {
    const r = await fetch('disconnect', { method: 'POST', headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    const when = new Date().toLocaleTimeString('en-GB');
    if (r.status === 204) out.textContent = `${when}: the server dropped every stream and WebSocket`;
    else if (r.status === 404) out.textContent = 'this server has no /disconnect (it is enabled only in the demo config)';
    else out.textContent = `${r.status}: ${(await r.text()).trim()}`;
  } catch (e) {
    out.textContent = `not sent: ${describe(e)}`;
    health.soon();
  }
}

function goOffline(kind) {
  const p = panes[kind];
  const s = Math.max(1, Math.min(120, Number(p.el('offline-seconds').value) || 5));
  p.client.goOffline(s);
}

// ---- start ---------------------------------------------------------------

// Where to start: the newest event in the log now, as a bare sequence
// number (README: accepted as a resume point in the current epoch). A pane
// that drops before its first event then still resumes from a known point
// instead of starting live again and silently missing what came between.
async function startPosition() {
  const ctl = new AbortController();
  const t = setTimeout(() => ctl.abort(), 3000);
  try {
    const r = await fetch('metrics', { cache: 'no-store', signal: ctl.signal });
    if (!r.ok) return '';
    const m = /^ssereplay_log_last_seq (\d+)\s*$/m.exec(await r.text());
    return m ? m[1] : '';
  } catch {
    return '';
  } finally {
    clearTimeout(t);
  }
}

const panes = {};

async function main() {
  startPrivateCard();
  const resume = await startPosition();
  panes.sse = new Pane('sse', SseClient, resume);
  panes.ws = new Pane('ws', WsClient, resume);
  $('sse-publish-form').addEventListener('submit', publishSse);
  $('ws-publish-form').addEventListener('submit', publishWs);
  for (const k of ['sse', 'ws']) {
    $(`${k}-burst-form`).addEventListener('submit', (ev) => { ev.preventDefault(); runBurst(k); });
    $(`${k}-offline-form`).addEventListener('submit', (ev) => { ev.preventDefault(); goOffline(k); });
  }
  $('drop-all').addEventListener('click', dropAll);
  panes.ws.updateButtons();
  panes.sse.client.start();
  panes.ws.client.start();
  if (!resume) health.soon();
  // The timelines move with the clock.
  setInterval(() => {
    for (const p of Object.values(panes)) p.changed();
  }, 1000);
}

// For the browser test (tests/browser/run.mjs).
window.ssereplayDemo = { panes, published, private: privateModel, ready: main() };
