// Drawing: the state timeline and the latency chart (SVG), the latest
// events, number formats. Server text only ever goes in with textContent.
const SVG_NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

export function fmtMs(ms) {
  if (!Number.isFinite(ms)) return '–';
  if (ms >= 10000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 10) return `${Math.round(ms)} ms`;
  return `${ms.toFixed(1)} ms`;
}

export const fmtInt = (n) => n.toLocaleString('en');

const clock = (t) => new Date(t).toLocaleTimeString('en-GB');

// The last `span` ms of state changes as coloured bars, one per state.
export function renderTimeline(el, timeline, now, span = 60000) {
  const W = 300, from = now - span;
  const parts = [];
  for (let i = 0; i < timeline.length; i++) {
    const a = Math.max(timeline[i].t, from);
    const b = i + 1 < timeline.length ? timeline[i + 1].t : now;
    if (b <= from) continue;
    const x = ((a - from) / span) * W, w = Math.max(0.8, ((b - a) / span) * W);
    parts.push(svg('rect', { x: x.toFixed(2), y: 0, width: w.toFixed(2), height: 14, class: timeline[i].state }));
  }
  const changes = timeline.filter((e) => e.t >= from)
    .map((e) => `${e.state} at ${clock(e.t)}`);
  const cur = timeline.at(-1);
  el.setAttribute('aria-label', `Connection timeline, last ${span / 1000} s: ` +
    (changes.length ? changes.join(', ') : `${cur ? cur.state : 'no state'} throughout`));
  el.replaceChildren(...parts);
}

function niceCeil(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

// The latest latency samples as a line, with the p50 dashed across. The
// SVG stretches to the pane; its labels are HTML (maxEl, captionEl) so they
// keep their size at every width.
export function renderChart(el, maxEl, captionEl, samples, p50) {
  const W = 300, top = 4, bottom = 78;
  const shown = samples.slice(-300);
  if (shown.length === 0) {
    el.replaceChildren(svg('line', { x1: 0, y1: bottom, x2: W, y2: bottom, class: 'grid' }));
    el.setAttribute('aria-label', 'Latency chart: no samples yet');
    maxEl.textContent = '';
    captionEl.textContent = 'no live events with a publish time yet';
    return;
  }
  let max = 0;
  for (const v of shown) if (v > max) max = v;
  max = niceCeil(Math.max(5, max));
  const y = (v) => bottom - (Math.min(v, max) / max) * (bottom - top);
  const dx = shown.length > 1 ? W / (shown.length - 1) : 0;
  const pts = shown.map((v, i) => `${(i * dx).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const kids = [
    svg('line', { x1: 0, y1: top, x2: W, y2: top, class: 'grid' }),
    svg('line', { x1: 0, y1: bottom, x2: W, y2: bottom, class: 'grid' }),
  ];
  if (Number.isFinite(p50)) {
    kids.push(svg('line', { x1: 0, y1: y(p50), x2: W, y2: y(p50), class: 'p50' }));
  }
  kids.push(shown.length > 1
    ? svg('polyline', { points: pts, class: 'line' })
    : svg('line', { x1: 145, y1: y(shown[0]), x2: 155, y2: y(shown[0]), class: 'line' }));
  el.replaceChildren(...kids);
  el.setAttribute('aria-label',
    `Latency of the last ${shown.length} live events, scale 0 to ${fmtMs(max)}, median ${fmtMs(p50)}`);
  maxEl.textContent = fmtMs(max);
  captionEl.textContent = `last ${fmtInt(shown.length)} live events, oldest left; dashed line: p50`;
}

export function renderRecent(ol, recent) {
  const items = recent.slice().reverse().map((e) => {
    const li = document.createElement('li');
    const id = document.createElement('span');
    id.className = 'id';
    id.textContent = e.id || '(no id)';
    const kind = document.createElement('span');
    kind.className = `kind ${e.kind}`;
    kind.textContent = e.kind === 'live'
      ? (Number.isFinite(e.latency) ? fmtMs(e.latency) : 'live')
      : e.kind;
    const data = document.createElement('span');
    data.className = 'data';
    data.textContent = (e.type && e.type !== 'message' ? `${e.type}: ` : '') + e.data;
    li.append(id, kind, data);
    return li;
  });
  ol.replaceChildren(...items);
}
