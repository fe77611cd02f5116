// What a pane measures: counters, duplicate and out-of-order detection from
// the ids, publish-to-receive latency, bytes per event, reconnect times and
// the state timeline. No DOM here: view.js draws it, the browser test reads
// it through window.ssereplayDemo.

// Ids are EPOCH-SEQ: 8 hex digits, a dash, a decimal sequence number.
const ID_RE = /^([0-9a-f]{8})-([0-9]{1,15})$/;

export function parseId(id) {
  const m = ID_RE.exec(id || '');
  return m ? { epoch: m[1], seq: Number(m[2]) } : null;
}

const utf8 = new TextEncoder();
export const byteLength = (s) => utf8.encode(s).length;

// Bytes of one event as the SSE encoder writes it (README "Events are
// encoded per the WHATWG rules"): id, event unless "message", one data line
// per line, a blank line. The browser joined the data lines with LF, so
// splitting on LF gives them back. Before HTTP chunking and TLS.
export function sseEventBytes(id, type, data) {
  let n = byteLength(`id: ${id}\n`) + 1;
  if (type && type !== 'message') n += byteLength(`event: ${type}\n`);
  for (const line of data.split('\n')) n += byteLength(`data: ${line}\n`);
  return n;
}

// A server-to-client WebSocket frame (RFC 6455 §5.2): 2 header bytes, plus
// 2 or 8 of extended length, no mask; the payload is the JSON text as sent.
export function wsFrameBytes(text) {
  const len = byteLength(text);
  return len + (len < 126 ? 2 : len < 65536 ? 4 : 10);
}

// The JSON the page and the test put in published data: {"t": ms, ...}.
export function parseData(data) {
  if (typeof data !== 'string' || data[0] !== '{') return null;
  try {
    const v = JSON.parse(data);
    return v && typeof v === 'object' ? v : null;
  } catch {
    return null;
  }
}

export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

const LATENCY_WINDOW = 2000; // samples kept for p50/p99 and the chart
const SEEN_WINDOW = 20000;   // sequence numbers remembered to tell a duplicate
const RECENT = 12;           // events listed on screen
const TIMELINE = 200;        // state changes kept
const IDS_KEPT = 100000;     // ids kept for the test hook

export class PaneStats {
  constructor() {
    this.events = 0;
    this.lastId = '';
    this.epoch = '';
    this.lastSeq = -1;
    this.seen = new Set();
    this.seenOrder = [];
    this.reconnects = 0;
    this.replayed = 0;
    this.gaps = 0;
    this.duplicates = 0;
    this.outOfOrder = 0;
    this.bytes = 0;
    this.latency = [];
    this.latencyTotal = 0;
    this.reconnectTimes = [];
    this.recent = [];
    this.ids = [];
    this.timeline = [];
    this.state = '';
  }

  setState(state, now = Date.now()) {
    if (state === this.state) return;
    this.state = state;
    this.timeline.push({ t: now, state });
    if (this.timeline.length > TIMELINE) this.timeline.shift();
  }

  remember(seq) {
    this.seen.add(seq);
    this.seenOrder.push(seq);
    if (this.seenOrder.length > SEEN_WINDOW) this.seen.delete(this.seenOrder.shift());
  }

  // A new epoch means another log (recreated or restored): sequence numbers
  // start over and cannot be compared with the old ones.
  enterEpoch(epoch) {
    if (epoch === this.epoch) return;
    this.epoch = epoch;
    this.lastSeq = -1;
    this.seen.clear();
    this.seenOrder = [];
  }

  // One event. openedAt: when the current connection opened. Returns what
  // it was: "duplicate", "out-of-order", "replayed" or "live".
  onEvent({ id, type, data, bytes, openedAt, now = Date.now() }) {
    const p = parseId(id);
    let kind = 'live';
    if (p) {
      this.enterEpoch(p.epoch);
      if (this.seen.has(p.seq)) {
        this.duplicates++;
        this.pushRecent({ id, type, data, kind: 'duplicate', latency: NaN });
        return 'duplicate';
      }
      if (p.seq < this.lastSeq) {
        this.outOfOrder++;
        kind = 'out-of-order';
      } else {
        this.lastSeq = p.seq;
      }
      this.remember(p.seq);
    }
    this.events++;
    this.lastId = id || this.lastId;
    this.bytes += bytes;
    if (this.ids.length < IDS_KEPT) this.ids.push(id);
    // An event published before this connection opened came from the log:
    // it was missed while offline and recovered by replay. Only live events
    // go into the latency figures (a replayed one's age is the outage).
    const d = parseData(data);
    let latency = NaN;
    if (d && typeof d.t === 'number') {
      if (d.t < openedAt) {
        if (kind === 'live') kind = 'replayed';
        this.replayed++;
      } else {
        latency = Math.max(0, now - d.t);
        this.latency.push(latency);
        if (this.latency.length > LATENCY_WINDOW) this.latency.shift();
        this.latencyTotal++;
      }
    }
    this.pushRecent({ id, type, data: d && typeof d.text === 'string' ? d.text : data, kind, latency });
    return kind;
  }

  // A gap: the server could not replay everything after our resume point.
  // Its id is the new resume point.
  onGap(id, info) {
    this.gaps++;
    const p = parseId(id);
    if (p) {
      this.enterEpoch(p.epoch);
      this.lastSeq = Math.max(this.lastSeq, p.seq);
    }
    if (id) this.lastId = id;
    this.pushRecent({ id, type: 'gap', data: JSON.stringify(info), kind: 'gap', latency: NaN });
  }

  onReconnected(ms) {
    this.reconnects++;
    if (Number.isFinite(ms)) {
      this.reconnectTimes.push(ms);
      if (this.reconnectTimes.length > 50) this.reconnectTimes.shift();
    }
  }

  pushRecent(e) {
    this.recent.push(e);
    if (this.recent.length > RECENT) this.recent.shift();
  }

  latencyQuantiles() {
    const s = Float64Array.from(this.latency).sort();
    return { p50: quantile(s, 0.5), p99: quantile(s, 0.99), n: s.length };
  }

  reconnectSummary() {
    const s = Float64Array.from(this.reconnectTimes).sort();
    return { last: this.reconnectTimes.at(-1) ?? NaN, median: quantile(s, 0.5), n: s.length };
  }

  bytesPerEvent() {
    return this.events ? this.bytes / this.events : NaN;
  }
}
