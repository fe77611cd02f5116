// The demo page in a real browser: Debian's chromium driven by
// playwright-core, against the demo stack (backend + lighttpd, as
// tests/demo.sh starts them) in a temporary directory on a free port.
//
//   node tests/browser/run.mjs --bin /abs/path/to/ssereplay --results /abs/results.txt
//
// Cases: the page loads clean and both panes open; 200 events from the page
// and over HTTP arrive in both, in order, once; "drop all connections" with
// 100 published while down; kill -9 of the backend and a restart; each pane
// offline on purpose; the private-topic card (user/demo/inbox refused
// without a token with 401 and the server's reason, open with the demo
// token and receiving what is published there, user/alice/inbox refused
// with 403, a token that expires mid-stream ending in "reauth", reopening
// after the backend restarts on a new log); no console errors but the
// expected connection errors during outages and the refused requests of the
// private cases; screenshots at desktop and phone widths.
//
// Prints "ok - NAME" or "not ok - NAME: REASON" per case, appends one line
// "PASSED FAILED" to the results file, exits 1 if anything failed. The whole
// run is bounded (RUN_TIMEOUT); everything it started is stopped by PID.
// Screenshots go to tests/browser/artifacts/ (not committed).
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { Stack, ROOT, sleep } from './stack.mjs';
import { wireBytesSse, wireBytesWs } from './wire.mjs';

const RUN_TIMEOUT = 240_000;
const ARTIFACTS = path.join(ROOT, 'tests/browser/artifacts');
const KINDS = ['sse', 'ws'];

// ---- arguments -------------------------------------------------------------

function parseArgs(argv) {
  const a = { bin: path.join(ROOT, 'backend/ssereplay'), results: '' };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--bin') a.bin = argv[++i];
    else if (argv[i] === '--results') a.results = argv[++i];
    else {
      console.error(`usage: node tests/browser/run.mjs [--bin PATH] [--results FILE] (unknown: ${argv[i]})`);
      process.exit(2);
    }
  }
  a.bin = path.resolve(a.bin);
  if (a.results) a.results = path.resolve(a.results);
  try {
    fs.accessSync(a.bin, fs.constants.X_OK);
  } catch {
    console.log(`not ok - the backend binary: ${a.bin} is not an executable file`);
    if (a.results) fs.appendFileSync(a.results, '0 1\n');
    process.exit(1);
  }
  return a;
}
const args = parseArgs(process.argv.slice(2));

// ---- reporting -------------------------------------------------------------

let passed = 0, failed = 0, reported = false;
let aborted = false; // after the run's timeout, late reports are not counted

function report(name, error) {
  if (aborted) return;
  if (error) {
    failed++;
    const why = String(error.message || error).split('\n')[0];
    console.log(`not ok - ${name}: ${why}`);
    const rest = String(error.message || '').split('\n').slice(1).join('\n');
    if (rest) console.log(rest.replace(/^/gm, '#   '));
  } else {
    passed++;
    console.log(`ok - ${name}`);
  }
}

function writeResults() {
  if (reported) return;
  reported = true;
  console.log(`# ${passed} passed, ${failed} failed`);
  if (args.results) fs.appendFileSync(args.results, `${passed} ${failed}\n`);
}

async function tcase(name, ms, fn) {
  let timer;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000} s`)), ms); }),
    ]);
    report(name, null);
    return true;
  } catch (e) {
    report(name, e);
    return false;
  } finally {
    clearTimeout(timer);
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function waitFor(what, ms, fn, every = 50) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await sleep(every);
  }
}

// ---- the page ---------------------------------------------------------------

// Everything a case looks at, per pane: the page's own model (through
// window.ssereplayDemo) and what the screen shows.
function snapshot(page) {
  return page.evaluate((kinds) => {
    const d = window.ssereplayDemo;
    const num = (id) => Number(document.getElementById(id).textContent.replace(/,/g, ''));
    const out = { published: d.published.length, banner: !document.getElementById('backend-banner').hidden };
    for (const k of kinds) {
      const p = d.panes[k];
      if (!p) continue;
      const s = p.stats;
      out[k] = {
        state: document.getElementById(`${k}-state`).dataset.state,
        ids: s.ids.length,
        events: s.events, reconnects: s.reconnects, replayed: s.replayed, bytes: s.bytes,
        lastId: s.lastId,
        gaps: s.gaps, duplicates: s.duplicates, outOfOrder: s.outOfOrder,
        manual: p.client.manualRestarts || 0,
        shown: {
          events: num(`${k}-events`), gaps: num(`${k}-gaps`),
          duplicates: num(`${k}-duplicates`), outOfOrder: num(`${k}-out-of-order`),
          reconnects: num(`${k}-reconnects`),
        },
      };
    }
    return out;
  }, KINDS);
}

const idsFrom = (page, kind, from) =>
  page.evaluate(([k, f]) => window.ssereplayDemo.panes[k].stats.ids.slice(f), [kind, from]);
const publishedFrom = (page, from) =>
  page.evaluate((f) => window.ssereplayDemo.published.slice(f), from);

const seqOf = (id) => Number(id.split('-')[1]);

// The pane received exactly `expected` (in any publish order) since `base`:
// each once, in increasing sequence order, and shows 0 gaps, 0 duplicates,
// 0 out of order on screen.
async function checkReceived(page, kind, base, expected) {
  const want = [...expected].sort((a, b) => seqOf(a) - seqOf(b));
  const now = await snapshot(page);
  const got = await idsFrom(page, kind, base[kind].ids);
  const k = kind.toUpperCase();
  assert(new Set(want).size === want.length, `${k}: the publishers returned duplicate ids`);
  for (let i = 1; i < got.length; i++) {
    assert(seqOf(got[i]) > seqOf(got[i - 1]), `${k}: out of order at ${got[i - 1]} then ${got[i]}`);
  }
  const missing = want.filter((id) => !got.includes(id));
  const extra = got.filter((id) => !want.includes(id));
  assert(missing.length === 0 && extra.length === 0,
    `${k}: ${got.length} received, ${want.length} published; missing ${missing.slice(0, 5).join(' ')}` +
    ` extra ${extra.slice(0, 5).join(' ')}`);
  const p = now[kind];
  assert(p.shown.events === base[kind].events + want.length,
    `${k}: the page shows ${p.shown.events} events, expected ${base[kind].events + want.length}`);
  assert(p.shown.gaps === 0 && p.shown.duplicates === 0 && p.shown.outOfOrder === 0,
    `${k}: the page shows gaps ${p.shown.gaps}, duplicates ${p.shown.duplicates}, out of order ${p.shown.outOfOrder}`);
}

async function waitReceived(page, kinds, base, n, ms) {
  await waitFor(`${n} events in ${kinds.join(' and ')}`, ms, async () => {
    const s = await snapshot(page);
    return kinds.every((k) => s[k].state === 'open' && s[k].ids >= base[k].ids + n
      && s[k].shown.events >= base[k].events + n);
  });
  await sleep(300); // anything extra (a duplicate) would arrive now
}

// The private-topic card: its model (window.ssereplayDemo.private) and
// what it shows.
function privateSnapshot(page) {
  return page.evaluate((kinds) => {
    const m = window.ssereplayDemo.private;
    const text = (id) => document.getElementById(id).textContent;
    const out = {
      token: m.token && { user: m.token.claims.user, expires: m.token.claims.expires },
      info: text('private-token-info'),
      renew: !document.getElementById('private-renew').hidden,
    };
    for (const k of kinds) {
      out[k] = {
        state: document.getElementById(`private-${k}-state`).dataset.state,
        detail: text(`private-${k}-detail`),
        events: Number(text(`private-${k}-events`)),
        recent: text(`private-${k}-recent`),
        ids: m[k].ids.slice(),
      };
    }
    return out;
  }, KINDS);
}

async function waitPrivate(page, what, ms, pred) {
  let last;
  try {
    await waitFor(what, ms, async () => pred(last = await privateSnapshot(page)));
  } catch (e) {
    throw new Error(`${e.message} (${KINDS.map((k) => `${k}: ${last[k].state}, "${last[k].detail}"`).join('; ')})`);
  }
  return last;
}

// The token's claims, read as the page reads them: v1.<base64url(user \n
// expiry \n pattern...)>.<mac>.
function claimsOf(token) {
  const [user, expiry, ...patterns] = Buffer.from(token.split('.')[1], 'base64url').toString('utf8').split('\n');
  return { user, expires: Number(expiry) * 1000, patterns };
}

const OWN_TOPIC = 'user/demo/inbox';
const REASON_401 = 'topic user/demo/inbox is private: sign in, or pass an access token';
const REASON_403 = 'not allowed to read topic user/alice/inbox';

// ---- console -----------------------------------------------------------------

// During an outage the browser reports the connections it could not make;
// those are expected then, and only then. Anything else is an error.
const EXPECTED_DURING_OUTAGE = [
  /Failed to load resource/,
  /WebSocket connection to .* failed/,
  /net::ERR_/,
  /EventSource's response has a MIME type/,
];
// The private-topic cases are refused on purpose: the browser reports each
// refused request (the EventSource, the fetch() that asks why, the
// WebSocket handshake), for the private topics only, with 401 or 403.
// Chromium words a 401 handshake (it carries WWW-Authenticate) as an
// authentication failure.
const EXPECTED_REFUSED = [
  (e) => /^Failed to load resource: the server responded with a status of 40[13] /.test(e.text)
    && /\/events\?topic=user%2F(demo|alice)%2Finbox(&|$)/.test(e.url),
  (e) => /^WebSocket connection to 'ws:\/\/[^/]+\/ws\?topic=user%2F(demo|alice)%2Finbox[^']*' failed: (HTTP Authentication failed; no valid credentials available|Error during WebSocket handshake: Unexpected response code: 403)$/.test(e.text),
];
const consoleErrors = [];
const outages = [];
const refusals = [];

const within = (e, windows) => windows.some((o) => e.t >= o.start && e.t <= (o.end ?? Infinity) + 3000);

function unexpectedErrors(from = 0) {
  return consoleErrors.filter((e) => e.t >= from).filter((e) => !(e.kind === 'console'
    && ((within(e, outages) && EXPECTED_DURING_OUTAGE.some((re) => re.test(e.text)))
      || (within(e, refusals) && EXPECTED_REFUSED.some((ok) => ok(e))))));
}

// ---- the run ---------------------------------------------------------------

let stack = null, browser = null;

async function cleanup() {
  if (browser) {
    const b = browser;
    browser = null;
    await Promise.race([b.close().catch(() => {}), sleep(5000)]);
  }
  if (stack) {
    await stack.stop();
    if (failed === 0) stack.removeTmp();
    else console.log(`# kept ${stack.tmp} for its logs`);
    stack = null;
  }
}

process.on('exit', () => { if (stack) stack.killAllSync(); });
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    report('run', new Error(`stopped by ${sig}`));
    aborted = true;
    await cleanup();
    writeResults();
    process.exit(1);
  });
}
const overall = setTimeout(async () => {
  report('run', new Error(`the whole run took more than ${RUN_TIMEOUT / 1000} s`));
  aborted = true;
  await cleanup();
  writeResults();
  process.exit(1);
}, RUN_TIMEOUT);

async function main() {
  stack = new Stack(args.bin);
  try {
    await stack.start();
  } catch (e) {
    report('the demo stack starts', e);
    return;
  }
  console.log(`# stack on ${stack.base} (${stack.tmp})`);
  // Some history the page must not show: it starts from the newest event.
  await stack.publishMany(5, 'before the page');

  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push({ t: Date.now(), kind: 'console', text: m.text(), url: m.location().url || '' });
  });
  page.on('pageerror', (e) => consoleErrors.push({ t: Date.now(), kind: 'exception', text: String(e) }));

  const loaded = await tcase('page loads with no console errors and both panes reach "open"', 20000, async () => {
    const r = await page.goto(stack.base);
    assert(r && r.status() === 200, `GET / answered ${r && r.status()}`);
    await page.evaluate(() => window.ssereplayDemo.ready);
    await waitFor('both panes "open"', 10000, async () => {
      const s = await snapshot(page);
      return s.sse.state === 'open' && s.ws.state === 'open';
    }).catch(async (e) => {
      const s = await snapshot(page);
      const detail = await page.evaluate(() => ['sse', 'ws'].map((k) =>
        `${k}: ${document.getElementById(`${k}-detail`).textContent}`).join('; '));
      throw new Error(`${e.message} (SSE ${s.sse.state}, WS ${s.ws.state}; ${detail})`);
    });
    await sleep(300);
    const bad = unexpectedErrors();
    assert(bad.length === 0, `console errors: ${bad.map((e) => e.text).join(' | ')}`);
    const s = await snapshot(page);
    for (const k of KINDS) {
      assert(s[k].events === 0, `${k}: ${s[k].events} events from before the page opened; it should start from now`);
    }
  });
  if (!loaded) return;

  await tcase('publish 200 events (100 from the page, 100 over HTTP): both panes get all 200 in order, 0 gaps, 0 duplicates', 30000, async () => {
    const base = await snapshot(page);
    // One event each from the keyboard alone: Tab to the button, Enter.
    await page.focus('#sse-publish-type');
    await page.keyboard.press('Tab');
    await page.keyboard.type(' (keyboard)');
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement.id);
    assert(focused === 'sse-publish', `Tab from the text field went to #${focused}, not the Publish button`);
    await page.keyboard.press('Enter');
    await waitFor('the SSE pane\'s "201 Created"', 5000,
      () => page.textContent('#sse-publish-status').then((t) => t.includes('201')));
    await page.focus('#ws-publish-text');
    await page.keyboard.press('Enter');
    await waitFor('the WebSocket pane\'s ack', 5000,
      () => page.textContent('#ws-publish-status').then((t) => /^ack \S+-\d+/.test(t)));
    // The rest as bursts (Enter in the count field), while Node publishes
    // 100 over HTTP.
    const per = [['sse', 49], ['ws', 49]];
    for (const [k, n] of per) {
      await page.fill(`#${k}-burst-count`, String(n));
      await page.press(`#${k}-burst-count`, 'Enter');
    }
    const nodeIds = await stack.publishMany(100, 'from node');
    for (const [k] of per) {
      await waitFor(`the ${k} burst to finish`, 15000,
        () => page.textContent(`#${k}-publish-status`).then((t) => t.includes('acknowledged')));
    }
    const pageIds = await publishedFrom(page, base.published);
    assert(pageIds.length === 100, `the page published ${pageIds.length} events, not 100`);
    const expected = [...pageIds, ...nodeIds];
    await waitReceived(page, KINDS, base, 200, 15000);
    for (const k of KINDS) await checkReceived(page, k, base, expected);
  });

  await tcase('"drop all connections", 100 published while they are down: both recover all 100, 0 duplicates', 30000, async () => {
    const base = await snapshot(page);
    const outage = { start: Date.now(), end: null };
    outages.push(outage);
    await page.click('#drop-all');
    await waitFor('the drop to be confirmed', 5000,
      () => page.textContent('#drop-status').then((t) => t.includes('dropped') || /^\d{3}:|not sent|no \/disconnect/.test(t)));
    const status = await page.textContent('#drop-status');
    assert(status.includes('dropped'), `POST /disconnect: ${status}`);
    const ids = await stack.publishMany(100, 'while dropped', 16);
    await waitReceived(page, KINDS, base, 100, 20000);
    outage.end = Date.now();
    const now = await snapshot(page);
    for (const k of KINDS) {
      await checkReceived(page, k, base, ids);
      assert(now[k].reconnects > base[k].reconnects, `${k}: no reconnect was counted`);
      assert(now[k].replayed > base[k].replayed, `${k}: nothing was counted as recovered by replay`);
    }
    assert(now.sse.manual === base.sse.manual,
      'SSE: the page had to reconnect by hand; EventSource should have done it by itself');
  });

  await tcase('kill -9 the backend, restart it: both panes recover, publish more, all arrive', 45000, async () => {
    const base = await snapshot(page);
    const outage = { start: Date.now(), end: null };
    outages.push(outage);
    await stack.killBackend();
    const kinds = KINDS;
    await waitFor('the panes to notice', 8000, async () => {
      const s = await snapshot(page);
      return kinds.every((k) => s[k].state !== 'open');
    });
    await waitFor('the "backend is down" message', 8000, async () => {
      const t = await page.evaluate(() => {
        const b = document.getElementById('backend-banner');
        return b.hidden ? '' : b.textContent;
      });
      return /backend is down/.test(t);
    });
    await stack.startBackend();
    const ids = await stack.publishMany(50, 'after restart');
    await waitFor('both panes "open" again', 20000, async () => {
      const s = await snapshot(page);
      return kinds.every((k) => s[k].state === 'open');
    });
    ids.push(...await stack.publishMany(50, 'after recovery'));
    await waitReceived(page, kinds, base, 100, 20000);
    outage.end = Date.now();
    await waitFor('the message to go away', 8000, async () => !(await snapshot(page)).banner);
    const now = await snapshot(page);
    for (const k of kinds) {
      await checkReceived(page, k, base, ids);
      assert(now[k].reconnects > base[k].reconnects, `${k}: no reconnect was counted`);
    }
  });

  await tcase('"go offline" for 1 s in each pane, 20 published meanwhile: both resume and get all 20', 20000, async () => {
    const base = await snapshot(page);
    for (const k of KINDS) {
      await page.fill(`#${k}-offline-seconds`, '1');
      await page.click(`#${k}-offline`);
    }
    const s = await snapshot(page);
    for (const k of KINDS) assert(s[k].state === 'closed', `${k}: "${s[k].state}" after "go offline", not "closed"`);
    const ids = await stack.publishMany(20, 'while offline');
    await waitReceived(page, KINDS, base, 20, 10000);
    const now = await snapshot(page);
    for (const k of KINDS) {
      await checkReceived(page, k, base, ids);
      assert(now[k].replayed >= base[k].replayed + 20, `${k}: ${now[k].replayed - base[k].replayed} of 20 counted as recovered by replay`);
    }
  });

  await tcase('bytes per event in the table are the bytes on the wire', 15000, async () => {
    const s = await snapshot(page);
    // The page started after the 5 events published before it: replay the
    // same events, from the 6th to the page's last, and count bytes.
    const [sse, ws] = await Promise.all([
      wireBytesSse(stack.base, '5', s.sse.lastId),
      wireBytesWs(stack.base, '5', s.ws.lastId),
    ]);
    for (const [k, w] of [['sse', sse], ['ws', ws]]) {
      assert(w.events === s[k].events, `${k}: ${w.events} events on the wire, the page counted ${s[k].events}`);
      assert(w.bytes === s[k].bytes, `${k}: ${w.bytes} bytes on the wire, the page counted ${s[k].bytes}`);
    }
    const shown = await page.textContent('#cmp-bytes-sse');
    assert(shown.startsWith((sse.bytes / sse.events).toFixed(1)), `the table shows "${shown}" for SSE`);
    console.log(`# SSE ${(sse.bytes / sse.events).toFixed(1)} B/event, WebSocket ${(ws.bytes / ws.events).toFixed(1)} B/event over ${sse.events} events`);
  });

  await tcase('private topic without a token (from the keyboard): both refused, the page shows 401 and the server\'s reason', 10000, async () => {
    const w = { start: Date.now(), end: null };
    refusals.push(w);
    await page.focus('#private-none');
    await page.keyboard.press('Enter');
    const s = await waitPrivate(page, 'both refused', 8000, (p) => KINDS.every((k) => p[k].state === 'refused'));
    w.end = Date.now();
    for (const k of KINDS) {
      assert(s[k].detail.startsWith(`401 ${REASON_401}`), `${k}: the page shows "${s[k].detail}"`);
      assert(s[k].events === 0 && s[k].ids.length === 0, `${k}: ${s[k].events} events from a refused topic`);
    }
    assert(/^No token/.test(s.info), `the token line says "${s.info}"`);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.locator('#private').screenshot({ path: path.join(ARTIFACTS, 'private-card-401.png') });
  });

  await tcase('someone else\'s private topic with the demo token: both refused, the page shows 403 and the server\'s reason', 10000, async () => {
    const w = { start: Date.now(), end: null };
    refusals.push(w);
    await page.click('#private-other');
    const s = await waitPrivate(page, 'both refused', 8000, (p) => KINDS.every((k) => p[k].state === 'refused'));
    w.end = Date.now();
    for (const k of KINDS) {
      assert(s[k].detail.startsWith(`403 ${REASON_403}`), `${k}: the page shows "${s[k].detail}"`);
      assert(s[k].events === 0, `${k}: ${s[k].events} events from a refused topic`);
    }
  });

  await tcase('a token that expires while subscribed: both show "token expired — get a new one" (reauth), a new token opens them again', 20000, async () => {
    const short = await stack.mintToken({ ttl: '3s' });
    await page.route('**/demo/access-token', (r) => r.fulfill({
      status: 200, contentType: 'text/plain; charset=utf-8', body: `${short}\n`,
    }));
    try {
      await page.click('#private-token');
      await waitPrivate(page, 'both open with the 3 s token', 5000, (p) => KINDS.every((k) => p[k].state === 'open'));
      const s = await waitPrivate(page, 'both to end with reauth', 8000, (p) => KINDS.every((k) => p[k].state === 'expired'));
      for (const k of KINDS) {
        assert(s[k].detail === 'token expired — get a new one', `${k}: the page shows "${s[k].detail}"`);
      }
      assert(s.renew, 'no "Get a new token" button');
      await page.locator('#private').screenshot({ path: path.join(ARTIFACTS, 'private-card-expired.png') });
    } finally {
      await page.unroute('**/demo/access-token');
    }
    await page.click('#private-renew');
    const s = await waitPrivate(page, 'both open again', 5000, (p) => KINDS.every((k) => p[k].state === 'open'));
    assert(s.token.expires === claimsOf(stack.demoToken).expires, 'the page did not take the new token');
    assert(!s.renew, '"Get a new token" is still offered');
  });

  await tcase('private topic with the demo token: both open, the page shows its user and expiry, 3 events published over HTTP arrive in order', 15000, async () => {
    await page.click('#private-token');
    let s = await waitPrivate(page, 'both open', 5000, (p) => KINDS.every((k) => p[k].state === 'open'));
    const want = claimsOf(stack.demoToken);
    assert(s.token && s.token.user === 'demo' && s.token.expires === want.expires,
      `the page read the token as ${JSON.stringify(s.token)}, expected user demo expiring ${want.expires}`);
    assert(/user demo\b/.test(s.info) && /expires .+\(in 2[34] h \d+ min\)/.test(s.info), `the token line says "${s.info}"`);
    const ids = [];
    for (let i = 1; i <= 3; i++) ids.push(await stack.publish(`private #${i}`, { topic: OWN_TOPIC }));
    s = await waitPrivate(page, '3 events in both', 5000, (p) => KINDS.every((k) => p[k].ids.length >= 3));
    await sleep(300); // a duplicate would arrive now
    s = await privateSnapshot(page);
    for (const k of KINDS) {
      assert(JSON.stringify(s[k].ids) === JSON.stringify(ids), `${k}: received ${s[k].ids.join(' ')}, published ${ids.join(' ')}`);
      assert(s[k].events === 3 && s[k].recent.includes('private #3'), `${k}: the page shows ${s[k].events} events`);
    }
    // And one from the card's own form, from the keyboard.
    await page.focus('#private-publish-text');
    await page.keyboard.press('Enter');
    await waitFor('the card\'s "201 Created"', 5000,
      () => page.textContent('#private-publish-status').then((t) => t.startsWith('201')));
    const id = (await page.textContent('#private-publish-status')).split('id ')[1];
    s = await waitPrivate(page, 'the 4th event in both', 5000, (p) => KINDS.every((k) => p[k].ids.length >= 4));
    for (const k of KINDS) assert(s[k].ids[3] === id, `${k}: 4th event ${s[k].ids[3]}, the page published ${id}`);
  });

  await tcase('screenshots at desktop (1280x800) and phone (390x844) widths', 20000, async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await sleep(600); // let the panes redraw
    const desktop = path.join(ARTIFACTS, 'desktop-1280x800.png');
    await page.screenshot({ path: desktop, fullPage: true });
    await page.locator('#private').screenshot({ path: path.join(ARTIFACTS, 'private-card-1280.png') });
    await page.setViewportSize({ width: 390, height: 844 });
    await sleep(600);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    const phone = path.join(ARTIFACTS, 'phone-390x844.png');
    await page.screenshot({ path: phone, fullPage: true });
    await page.locator('#private').screenshot({ path: path.join(ARTIFACTS, 'private-card-390.png') });
    await page.screenshot({ path: path.join(ARTIFACTS, 'phone-390x844-top.png') });
    for (const f of [desktop, phone]) assert(fs.statSync(f).size > 10000, `${f} is too small`);
    assert(overflow <= 0, `at 390 px the page is ${overflow} px wider than the screen`);
    console.log(`# screenshots in ${path.relative(process.cwd(), ARTIFACTS) || ARTIFACTS}`);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await tcase('the log is recreated (new epoch): both panes show one gap, then get the new events', 30000, async () => {
    const base = await snapshot(page);
    const outage = { start: Date.now(), end: null };
    outages.push(outage);
    await stack.killBackend();
    for (const f of ['', '-wal', '-shm']) fs.rmSync(stack.db + f, { force: true });
    await stack.startBackend();
    await waitFor('both panes to see the gap', 20000, async () => {
      const s = await snapshot(page);
      return KINDS.every((k) => s[k].state === 'open' && s[k].shown.gaps === base[k].gaps + 1);
    });
    const ids = await stack.publishMany(10, 'new log');
    await waitReceived(page, KINDS, base, 10, 10000);
    outage.end = Date.now();
    const now = await snapshot(page);
    for (const k of KINDS) {
      const got = await idsFrom(page, k, base[k].ids);
      assert(JSON.stringify(got) === JSON.stringify([...ids].sort((a, b) => seqOf(a) - seqOf(b))),
        `${k}: received ${got.join(' ')}, expected ${ids.join(' ')}`);
      assert(now[k].shown.gaps === base[k].gaps + 1, `${k}: the page shows ${now[k].shown.gaps} gaps`);
      assert(now[k].shown.duplicates === 0 && now[k].shown.outOfOrder === 0,
        `${k}: duplicates ${now[k].shown.duplicates}, out of order ${now[k].shown.outOfOrder}`);
      const recent = await page.textContent(`#${k}-recent`);
      assert(recent.includes('gap'), `${k}: the gap is not in the latest events`);
    }
  });

  await tcase('the private card came through that restart: both reopen with the token, show the gap, get a new event', 15000, async () => {
    let s = await waitPrivate(page, 'both open with a gap listed', 10000,
      (p) => KINDS.every((k) => p[k].state === 'open' && p[k].recent.includes('gap')));
    const id = await stack.publish('after the new log', { topic: OWN_TOPIC });
    s = await waitPrivate(page, 'the new event in both', 5000, (p) => KINDS.every((k) => p[k].ids.includes(id)));
    for (const k of KINDS) assert(s[k].ids.at(-1) === id, `${k}: last event ${s[k].ids.at(-1)}, published ${id}`);
  });

  await tcase('no console errors beyond the expected connection errors during the outages and the refusals', 5000, async () => {
    const bad = unexpectedErrors();
    const during = consoleErrors.length - bad.length;
    assert(bad.length === 0, `${bad.length} unexpected: ${bad.slice(0, 5).map((e) => `${e.kind}: ${e.text}`).join(' | ')}`);
    console.log(`# ${during} expected connection errors during the outages and the refused private subscriptions`);
  });
}

try {
  await main();
} catch (e) {
  report('run', e);
}
if (failed && stack) console.log(stack.logs().replace(/^/gm, '# '));
clearTimeout(overall);
await cleanup();
writeResults();
process.exit(failed ? 1 : 0);
