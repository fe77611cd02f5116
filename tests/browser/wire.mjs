// What the wire carries, counted outside the browser, to check the page's
// bytes-per-event figures: the same events replayed over a raw HTTP stream
// and over a WebSocket from Node.
import WebSocket from 'ws';

const SEP = Buffer.from('\n\n');

// Bytes of the SSE events after `after` up to and including `until`, as the
// server encoded them (each block "id: ..\n...\n\n"; the opening retry: and
// any ": keepalive" comment are not events and are not counted).
export async function wireBytesSse(base, after, until) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), 10000);
  const r = await fetch(`${base}events?topic=demo&lastEventId=${encodeURIComponent(after)}`, { signal: ctl.signal });
  let buf = Buffer.alloc(0);
  let events = 0, bytes = 0;
  try {
    for await (const chunk of r.body) {
      buf = Buffer.concat([buf, chunk]);
      let i;
      while ((i = buf.indexOf(SEP)) >= 0) {
        const block = buf.subarray(0, i + 2);
        buf = buf.subarray(i + 2);
        const text = block.toString('utf8');
        if (!text.startsWith('id: ')) continue;
        events++;
        bytes += block.length;
        if (text.startsWith(`id: ${until}\n`)) return { events, bytes };
      }
    }
    throw new Error(`the SSE stream ended before ${until}`);
  } finally {
    clearTimeout(timer);
    ctl.abort();
  }
}

// Bytes of the WebSocket frames carrying the same events: payload plus the
// server frame header (RFC 6455 §5.2: 2 bytes, +2 from 126 bytes, +8 from
// 64 KiB; server frames are not masked).
export function wireBytesWs(base, after, until) {
  const url = `${base.replace(/^http/, 'ws')}ws?topic=demo&lastEventId=${encodeURIComponent(after)}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let events = 0, bytes = 0;
    const timer = setTimeout(() => { ws.terminate(); reject(new Error(`no ${until} over WebSocket in 10 s`)); }, 10000);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const len = data.length;
      const m = JSON.parse(data.toString('utf8'));
      if (typeof m.id !== 'string' || m.gap) return;
      events++;
      bytes += len + (len < 126 ? 2 : len < 65536 ? 4 : 10);
      if (m.id === until) {
        clearTimeout(timer);
        ws.close();
        resolve({ events, bytes });
      }
    });
    ws.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}
