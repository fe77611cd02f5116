// The EventSource pane's connection. The browser reconnects by itself and
// sends Last-Event-ID (WHATWG HTML "server-sent events", §9.2.3); this code
// only steps in where EventSource gives up for good: an answer that is not
// 200 text/event-stream (a 503 while the backend is down) "fails the
// connection" and readyState stays CLOSED. Then a new EventSource is made by
// hand, after a back-off, with the last id it saw as ?lastEventId= (a new
// EventSource cannot be given the header).
import { Backoff } from './backoff.js';
import { sseEventBytes } from './stats.js';

// EventSource delivers a named type only to a listener for that name: these
// are the names the page can publish. Events of other types still move the
// browser's Last-Event-ID, but this page never sees them.
export const SSE_TYPES = ['message', 'update', 'alert'];

export class SseClient {
  // h: { state(s, detail), down(), up(), offline(), event(e), gap(id, info) }
  constructor({ topics, h, resumeId = '' }) {
    this.topics = topics;
    this.h = h;
    this.lastId = resumeId;
    this.es = null;
    this.timer = 0;
    this.backoff = new Backoff();
    this.manualRestarts = 0; // times EventSource gave up and this code took over
  }

  url() {
    const q = new URLSearchParams();
    for (const t of this.topics) q.append('topic', t);
    if (this.lastId) q.set('lastEventId', this.lastId);
    return `events?${q}`;
  }

  start(state = 'connecting') {
    clearTimeout(this.timer);
    this.h.state(state, this.lastId ? `resuming after ${this.lastId}` : 'live from now');
    const es = new EventSource(this.url());
    this.es = es;
    es.onopen = () => {
      if (es !== this.es) return;
      this.backoff.reset();
      this.h.up();
      this.h.state('open', 'streaming');
    };
    es.onerror = () => {
      if (es !== this.es) return;
      this.h.down();
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        this.es = null;
        this.manualRestarts++;
        const ms = this.backoff.next();
        this.h.state('reconnecting',
          `the server answered with an error; EventSource gave up, retrying by hand in ${(ms / 1000).toFixed(1)} s`);
        this.timer = setTimeout(() => this.start('reconnecting'), ms);
      } else {
        this.h.state('reconnecting', 'the browser retries by itself (server retry hint), sending Last-Event-ID');
      }
    };
    const onEvent = (e) => {
      if (es !== this.es) return;
      if (e.lastEventId) this.lastId = e.lastEventId;
      this.h.event({
        id: e.lastEventId, type: e.type, data: e.data,
        bytes: sseEventBytes(e.lastEventId, e.type, e.data),
      });
    };
    for (const t of SSE_TYPES) es.addEventListener(t, onEvent);
    es.addEventListener('gap', (e) => {
      if (es !== this.es) return;
      if (e.lastEventId) this.lastId = e.lastEventId;
      let info = null;
      try { info = JSON.parse(e.data); } catch { info = { raw: e.data }; }
      this.h.gap(e.lastEventId, info);
    });
  }

  // Close, stay away for `seconds`, then resume from the last id seen.
  goOffline(seconds) {
    clearTimeout(this.timer);
    if (this.es) this.es.close();
    this.es = null;
    this.h.offline();
    this.h.state('closed', `offline on purpose for ${seconds} s`);
    this.timer = setTimeout(() => {
      this.h.down();
      this.start('reconnecting');
    }, seconds * 1000);
  }
}
