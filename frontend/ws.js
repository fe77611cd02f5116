// The WebSocket pane's connection. WebSocket has no reconnection of its own:
// on every close (1000, 1001 going away, 1012 dropped by the admin endpoint,
// 1013 slow reader, 1006 no close frame at all) this code waits a capped,
// jittered back-off and reconnects with ?lastEventId=<last id seen>; the
// server replays what was missed. Publishing is a frame on the same
// connection; acks come back in the order the frames were sent.
import { Backoff } from './backoff.js';
import { wsFrameBytes } from './stats.js';

export const CLOSE_REASONS = {
  1000: 'normal close',
  1001: 'server going away',
  1006: 'connection lost, no close frame',
  1011: 'server error',
  1012: 'dropped by the admin endpoint',
  1013: 'dropped as a slow reader',
};

// ws: under http, wss: under https, on the page's own host and path prefix.
export function wsUrl(query) {
  const u = new URL(`ws?${query}`, location.href);
  u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.href;
}

const MAX_PENDING = 10000;

export class WsClient {
  // h: as SseClient's, plus ack(id, ms) and nack(error)
  constructor({ topics, h, resumeId = '' }) {
    this.topics = topics;
    this.h = h;
    this.lastId = resumeId;
    this.ws = null;
    this.timer = 0;
    this.backoff = new Backoff();
    this.pending = []; // { resolve, reject, sentAt }, in sending order
    this.opens = 0;
    this.failures = 0;
  }

  url() {
    const q = new URLSearchParams();
    for (const t of this.topics) q.append('topic', t);
    if (this.lastId) q.set('lastEventId', this.lastId);
    return wsUrl(q);
  }

  get isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  start(state = 'connecting') {
    clearTimeout(this.timer);
    this.h.state(state, this.lastId ? `resuming after ${this.lastId}` : 'live from now');
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.backoff.reset();
      this.opens++;
      this.failures = 0;
      this.h.up();
      this.h.state('open', 'connected');
    };
    ws.onmessage = (e) => {
      if (ws !== this.ws) return;
      this.frame(e.data);
    };
    ws.onclose = (e) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.failures++;
      this.failPending('the connection closed before the ack (the event may or may not be stored)');
      this.h.down();
      const why = CLOSE_REASONS[e.code] || 'closed';
      const ms = this.backoff.next();
      this.h.state('reconnecting',
        `closed ${e.code} (${why}); reconnecting by hand in ${(ms / 1000).toFixed(1)} s with lastEventId`);
      this.timer = setTimeout(() => this.start('reconnecting'), ms);
    };
  }

  frame(text) {
    let m;
    try {
      m = JSON.parse(text);
    } catch {
      this.h.bad(text);
      return;
    }
    if (m === null || typeof m !== 'object') {
      this.h.bad(text);
    } else if (typeof m.ack === 'string') {
      const p = this.pending.shift();
      if (p) {
        this.h.ack(m.ack, performance.now() - p.sentAt);
        p.resolve(m.ack);
      }
    } else if (typeof m.error === 'string') {
      const p = this.pending.shift();
      this.h.nack(m.error);
      if (p) p.reject(new Error(m.error));
    } else if (m.gap) {
      if (m.id) this.lastId = m.id;
      this.h.gap(m.id, m.gap);
    } else if (typeof m.id === 'string') {
      this.lastId = m.id;
      this.h.event({
        id: m.id, type: m.event || 'message', data: String(m.data ?? ''),
        bytes: wsFrameBytes(text),
      });
    } else {
      this.h.bad(text);
    }
  }

  // Sends one event; resolves with its id once the server acked it.
  publish(msg) {
    return new Promise((resolve, reject) => {
      if (!this.isOpen) {
        reject(new Error('not connected'));
        return;
      }
      if (this.pending.length >= MAX_PENDING) {
        reject(new Error('too many frames waiting for an ack'));
        return;
      }
      this.pending.push({ resolve, reject, sentAt: performance.now() });
      this.ws.send(JSON.stringify(msg));
    });
  }

  get inFlight() {
    return this.pending.length;
  }

  failPending(why) {
    const p = this.pending;
    this.pending = [];
    for (const x of p) x.reject(new Error(why));
  }

  goOffline(seconds) {
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000, 'offline on purpose');
    this.failPending('went offline before the ack');
    this.h.offline();
    this.h.state('closed', `offline on purpose for ${seconds} s`);
    this.timer = setTimeout(() => {
      this.h.down();
      this.start('reconnecting');
    }, seconds * 1000);
  }
}
