// Publishing over HTTP (POST /publish, the SSE side) and bursts over either
// (Not named publish.js: lighttpd sends every URL starting with /publish to the backend.)
// path. Every published data is JSON with "t", the publish time in ms, which
// is what the panes measure latency from.

// The demo config's public token for topic "demo" (conf/ssereplay.conf).
export const PUBLISH_TOKEN = 'demo-token';

export class HttpError extends Error {
  constructor(status, text) {
    super(`${status}: ${text.trim() || 'no reason given'}`);
    this.status = status;
  }
}

// Resolves with { id, ms } once the event is committed (201).
export async function httpPublish(topic, event, data) {
  const body = { topic, data };
  if (event && event !== 'message') body.event = event;
  const t0 = performance.now();
  const r = await fetch('publish', {
    method: 'POST',
    headers: { Authorization: `Bearer ${PUBLISH_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  if (r.status !== 201) throw new HttpError(r.status, text);
  return { id: JSON.parse(text).id, ms: performance.now() - t0 };
}

// Runs send(i) for i in 0..n-1 with at most `window` in flight; each send
// returns a promise of the event's id. Stops at the first failure.
// onProgress(done) is called as acks come in. Resolves with
// { ids, ms, error } (error null when all n went through).
export async function burst(n, window, send, onProgress) {
  const ids = new Array(n);
  let next = 0, done = 0, error = null;
  const t0 = performance.now();
  async function worker() {
    while (next < n && !error) {
      const i = next++;
      try {
        ids[i] = await send(i);
        done++;
        onProgress(done);
      } catch (e) {
        error = error || e;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(window, n) }, worker));
  return { ids: ids.filter(Boolean), ms: performance.now() - t0, error };
}
