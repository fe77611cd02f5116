// The "Private topic" card. The demo config makes `user/{user}/*` private
// (README.md, "Private topics"): user/demo/inbox is readable by user demo
// only. `make demo` mints a day's access token for demo and lighttpd serves
// it at /demo/access-token. The card subscribes, with EventSource and with
// WebSocket side by side, three ways:
//   - without a token: refused, 401 with the server's reason;
//   - with the demo token: open, events published to the topic arrive;
//   - with the demo token on user/alice/inbox: refused, 403.
// Neither EventSource nor WebSocket lets a page see the status or the body
// of a refused request (the event is a bare "error", the close code 1006),
// so the same query is asked again with fetch() to show why.
import { Backoff } from './backoff.js';
import { httpPublish, HttpError } from './httppublish.js';
import { wsUrl } from './ws.js';

export const OWN_TOPIC = 'user/demo/inbox';
export const OTHER_TOPIC = 'user/alice/inbox';
const TOKEN_URL = 'demo/access-token';
const RECENT = 8;         // events listed per connection
const IDS_KEPT = 10000;   // ids kept for the browser test

const $ = (id) => document.getElementById(id);

// ---- the token -------------------------------------------------------------

// What an access token says about itself: v1.<base64url(user \n expiry \n
// pattern \n ...)>.<base64url(mac)>. Read for display only: the page cannot
// check the MAC (only the server has the key). Returns null if malformed.
export function tokenClaims(token) {
  const parts = String(token).split('.');
  if (parts.length !== 3 || parts[0] !== 'v1' || !/^[A-Za-z0-9_-]+$/.test(parts[1])) return null;
  let text;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    text = new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  } catch {
    return null;
  }
  const [user, expiry, ...patterns] = text.split('\n');
  if (!user || !/^\d{1,12}$/.test(expiry || '') || patterns.length === 0) return null;
  return { user, expires: Number(expiry) * 1000, patterns };
}

// GET /demo/access-token: resolves with { token, claims }, or throws with
// what went wrong in words.
async function fetchToken() {
  let r;
  try {
    r = await fetch(TOKEN_URL, { cache: 'no-store' });
  } catch {
    throw new Error('the server is not reachable');
  }
  const text = (await r.text()).trim();
  if (r.status !== 200) {
    throw new Error(`GET /${TOKEN_URL} answered ${r.status} (make demo mints the token at start)`);
  }
  const claims = tokenClaims(text);
  if (!claims) throw new Error(`GET /${TOKEN_URL} did not answer an access token`);
  return { token: text, claims };
}

function fmtWhen(ms) {
  return new Date(ms).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
}

function fmtIn(ms) {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 120) return `${min} min`;
  return `${Math.floor(min / 60)} h ${min % 60} min`;
}

// ---- why a subscription was refused ----------------------------------------

// The same query on /events, with fetch(): { status, reason }, status 0 if
// the server is not reachable. /events, also for a WebSocket: /ws answers a
// GET without the upgrade headers with 400 before it looks at the query,
// and both apply the same rules to topics and tokens. A stream that opens
// (the refusal was passing: a restart) is aborted at once.
async function whyRefused(query) {
  const ctl = new AbortController();
  const t = setTimeout(() => ctl.abort(), 5000);
  try {
    const r = await fetch(`events?${query}`, { cache: 'no-store', signal: ctl.signal });
    if (r.ok) return { status: r.status, reason: '' };
    return { status: r.status, reason: (await r.text()).trim() };
  } catch {
    return { status: 0, reason: '' };
  } finally {
    clearTimeout(t);
    ctl.abort();
  }
}

// A refusal that another try would get again: bad query, no or wrong
// credentials, unknown path. Anything else (503 while the backend restarts,
// 429, no answer) is retried with back-off.
const final = (status) => status >= 400 && status < 500 && status !== 408 && status !== 429;

// ---- one connection --------------------------------------------------------

// EventSource or WebSocket on one private topic. h: { state(s, detail,
// how), event(e), gap(id) }. States: idle, connecting, open, reconnecting,
// refused, expired (the server ended it with reauth).
class PrivateConn {
  constructor(kind, h) {
    this.kind = kind;
    this.h = h;
    this.backoff = new Backoff();
    this.gen = 0; // a new subscription or stop() makes older callbacks stale
    this.conn = null;
    this.timer = 0;
    this.topic = '';
    this.token = '';
    this.lastId = '';
  }

  query() {
    const q = new URLSearchParams();
    q.append('topic', this.topic);
    if (this.lastId) q.set('lastEventId', this.lastId);
    if (this.token) q.set('access_token', this.token);
    return q;
  }

  // The request as a person would write it, token shortened.
  shown() {
    const path = this.kind === 'sse' ? '/events' : '/ws';
    const tok = this.token ? `&access_token=${this.token.slice(0, 12)}…` : '';
    return `${path}?topic=${this.topic}${this.lastId ? `&lastEventId=${this.lastId}` : ''}${tok}`;
  }

  start(topic, token) {
    this.stop();
    this.topic = topic;
    this.token = token;
    this.lastId = '';
    this.backoff.reset();
    this.connect('connecting');
  }

  stop(state = 'idle', detail = 'not subscribed', how = '') {
    this.gen++;
    clearTimeout(this.timer);
    const c = this.conn;
    this.conn = null;
    if (c) c.close();
    this.h.state(state, detail, how);
  }

  // It failed before it opened: ask why, then give up or retry.
  async refused() {
    const gen = this.gen;
    this.h.state('connecting', `${this.shown()} failed; asking /events why…`);
    const { status, reason } = await whyRefused(this.query());
    if (gen !== this.gen) return;
    const said = status ? `${status} ${reason || '(no reason given)'}` : 'the server is not reachable';
    const claims = this.token ? tokenClaims(this.token) : null;
    if (status === 401 && claims && claims.expires <= Date.now()) {
      // Expired while the connection was down, so no reauth came.
      this.stop('expired', 'token expired — get a new one', `The server answered ${said}.`);
      return;
    }
    if (final(status)) {
      this.h.state('refused', said, this.kind === 'ws'
        ? 'A page is not told why a handshake failed: this is the same query asked on /events with fetch().'
        : 'EventSource is not told why: this is the same request made again with fetch().');
      return;
    }
    this.retry(said);
  }

  retry(why) {
    const ms = this.backoff.next();
    this.h.state('reconnecting', `${why}; retrying in ${(ms / 1000).toFixed(1)} s`);
    const gen = this.gen;
    this.timer = setTimeout(() => { if (gen === this.gen) this.connect('reconnecting'); }, ms);
  }

  reauth() {
    this.stop('expired', 'token expired — get a new one', this.kind === 'sse'
      ? 'The server ended the stream with event: reauth.'
      : 'The server sent {"reauth":…} and closed with 1008.');
  }

  onEvent(id, data) {
    if (id) this.lastId = id;
    this.h.event({ id, data });
  }

  onGap(id) {
    if (id) this.lastId = id;
    this.h.gap(id);
  }
}

class PrivateSse extends PrivateConn {
  connect(state) {
    this.h.state(state, `GET ${this.shown()}`);
    const es = new EventSource(`events?${this.query()}`);
    this.conn = es;
    es.onopen = () => {
      if (es !== this.conn) return;
      this.backoff.reset();
      this.h.state('open', `streaming ${this.topic}`);
    };
    es.onerror = () => {
      if (es !== this.conn) return;
      if (es.readyState !== EventSource.CLOSED) {
        this.h.state('reconnecting', 'the browser retries by itself, with Last-Event-ID and the same token');
        return;
      }
      es.close();
      this.conn = null;
      this.refused();
    };
    // Events of the default type only: EventSource hands a named type only
    // to a listener for that name, and the card publishes plain messages.
    es.addEventListener('message', (e) => { if (es === this.conn) this.onEvent(e.lastEventId, e.data); });
    es.addEventListener('gap', (e) => { if (es === this.conn) this.onGap(e.lastEventId); });
    // The stream ends after it; close before the browser reconnects with the
    // expired token and gets 401.
    es.addEventListener('reauth', () => { if (es === this.conn) this.reauth(); });
  }
}

class PrivateWs extends PrivateConn {
  connect(state) {
    this.h.state(state, `GET ${this.shown()}`);
    const ws = new WebSocket(wsUrl(this.query()));
    let opened = false;
    this.conn = ws;
    ws.onopen = () => {
      if (ws !== this.conn) return;
      opened = true;
      this.backoff.reset();
      this.h.state('open', `connected to ${this.topic}`);
    };
    ws.onmessage = (e) => {
      if (ws !== this.conn) return;
      let m = null;
      try { m = JSON.parse(e.data); } catch { /* not ours: ignored */ }
      if (m === null || typeof m !== 'object') return;
      if (m.reauth) this.reauth(); // a close 1008 follows
      else if (m.gap) this.onGap(m.id);
      else if (typeof m.id === 'string') this.onEvent(m.id, String(m.data ?? ''));
    };
    ws.onclose = (e) => {
      if (ws !== this.conn) return;
      this.conn = null;
      if (!opened) {
        this.refused(); // the handshake failed; the page gets 1006 only
      } else if (e.code === 1008) {
        this.h.state('refused', `closed 1008 (policy): ${e.reason || 'no reason given'}`);
      } else {
        this.retry(`closed ${e.code}`);
      }
    };
  }
}

// ---- the card -----------------------------------------------------------------

const SCENARIOS = {
  none: { topic: OWN_TOPIC, withToken: false },
  token: { topic: OWN_TOPIC, withToken: true },
  other: { topic: OTHER_TOPIC, withToken: true },
};

// The card's model, read by the browser test through window.ssereplayDemo.
export const model = {
  scenario: '',
  token: null, // { token, claims }
  sse: { state: 'idle', detail: '', ids: [], events: 0, recent: [] },
  ws: { state: 'idle', detail: '', ids: [], events: 0, recent: [] },
};

function renderEvents(kind) {
  const m = model[kind];
  $(`private-${kind}-events`).textContent = String(m.events);
  if (m.recent.length === 0) {
    const li = document.createElement('li');
    li.className = 'empty';
    li.textContent = 'nothing received';
    $(`private-${kind}-recent`).replaceChildren(li);
    return;
  }
  const items = m.recent.slice().reverse().map((e) => {
    const li = document.createElement('li');
    const id = document.createElement('span');
    id.className = 'id';
    id.textContent = e.id || '(no id)';
    const data = document.createElement('span');
    data.className = e.gap ? 'kind gap' : 'data';
    data.textContent = e.gap ? 'gap' : e.data;
    li.append(id, data);
    return li;
  });
  $(`private-${kind}-recent`).replaceChildren(...items);
}

function handlers(kind) {
  const m = model[kind];
  const remember = (e) => {
    m.recent.push(e);
    if (m.recent.length > RECENT) m.recent.shift();
    renderEvents(kind);
  };
  return {
    // how: where the detail comes from, when that is not obvious.
    state(s, detail, how = '') {
      m.state = s;
      m.detail = detail;
      const st = $(`private-${kind}-state`);
      st.textContent = s;
      st.dataset.state = s;
      $(`private-${kind}-detail`).textContent = detail;
      $(`private-${kind}-how`).textContent = how;
      if (s === 'expired' && model.token) showToken(describeToken(model.token));
      updateRenew();
    },
    event(e) {
      m.events++;
      if (m.ids.length < IDS_KEPT) m.ids.push(e.id);
      remember(e);
    },
    gap(id) {
      remember({ id, gap: true });
    },
  };
}

const conns = {};

function showToken(text) {
  $('private-token-info').textContent = text;
}

function describeToken(t) {
  const left = t.claims.expires - Date.now();
  return `Token for user ${t.claims.user}, grants ${t.claims.patterns.join(', ')}, ` +
    (left > 0 ? `expires ${fmtWhen(t.claims.expires)} (in ${fmtIn(left)})`
      : `expired ${fmtWhen(t.claims.expires)}`);
}

// "Get a new token" is offered while a connection says its token expired.
function updateRenew() {
  $('private-renew').hidden = !(model.sse.state === 'expired' || model.ws.state === 'expired');
}

async function subscribe(name) {
  const sc = SCENARIOS[name];
  model.scenario = name;
  for (const b of document.querySelectorAll('[data-scenario]')) {
    b.setAttribute('aria-pressed', String(b.dataset.scenario === name));
  }
  for (const k of ['sse', 'ws']) {
    conns[k].stop('connecting', sc.withToken ? 'fetching the demo token…' : 'starting');
    model[k].events = 0;
    model[k].ids = [];
    model[k].recent = [];
    renderEvents(k);
  }
  let token = '';
  if (sc.withToken) {
    const gen = conns.sse.gen;
    let t = null, error = null;
    try {
      t = await fetchToken();
    } catch (e) {
      error = e;
    }
    if (gen !== conns.sse.gen) return; // another button was pressed meanwhile
    model.token = t;
    if (error) {
      showToken(`No token: ${error.message}`);
      for (const k of ['sse', 'ws']) conns[k].stop('idle', 'not subscribed: no token');
      return;
    }
    token = t.token;
    showToken(describeToken(model.token));
  } else {
    showToken('No token: the requests carry no access_token.');
  }
  for (const k of ['sse', 'ws']) conns[k].start(sc.topic, token);
}

function unsubscribe() {
  model.scenario = '';
  for (const b of document.querySelectorAll('[data-scenario]')) b.setAttribute('aria-pressed', 'false');
  for (const k of ['sse', 'ws']) conns[k].stop();
}

async function publishPrivate(ev) {
  ev.preventDefault();
  const out = $('private-publish-status');
  out.textContent = 'publishing…';
  try {
    const r = await httpPublish(OWN_TOPIC, 'message', $('private-publish-text').value);
    out.textContent = `201 Created, id ${r.id}`;
  } catch (e) {
    out.textContent = `not published: ${e instanceof HttpError ? e.message : 'the server is not reachable'}`;
  }
}

export function startPrivateCard() {
  conns.sse = new PrivateSse('sse', handlers('sse'));
  conns.ws = new PrivateWs('ws', handlers('ws'));
  for (const b of document.querySelectorAll('[data-scenario]')) {
    b.addEventListener('click', () => subscribe(b.dataset.scenario));
  }
  $('private-stop').addEventListener('click', unsubscribe);
  $('private-renew').addEventListener('click', () => subscribe(model.scenario || 'token'));
  $('private-publish-form').addEventListener('submit', publishPrivate);
  for (const k of ['sse', 'ws']) conns[k].stop();
}
