// The demo stack for the browser test, started as tests/demo.sh starts it
// (same conf files, same flags) but in a temporary directory and on a free
// loopback port: `ssereplay serve` on a Unix socket, the demo's access token
// minted into the var directory, and `lighttpd -D` in front of it serving
// frontend/ and that token. Every process is ours and is stopped by PID; the
// backend can be killed with SIGKILL and started again on the same database.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LIGHTTPD = ['/usr/sbin/lighttpd', '/usr/bin/lighttpd'].find((p) => fs.existsSync(p)) || 'lighttpd';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function canConnect(sockPath) {
  return new Promise((resolve) => {
    const c = net.connect(sockPath);
    c.on('connect', () => { c.destroy(); resolve(true); });
    c.on('error', () => resolve(false));
  });
}

// Gone, or never started (a failed spawn has no pid).
function exited(child) {
  return child.pid === undefined || child.exitCode !== null || child.signalCode !== null;
}

function waitExit(child, ms) {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => { clearTimeout(t); resolve(true); });
  });
}

function tail(file, n = 20) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-n).join('\n');
  } catch (e) {
    return `(${e.message})`;
  }
}

export class Stack {
  constructor(bin) {
    this.bin = bin;
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ssereplay-browser-'));
    this.sock = path.join(this.tmp, 'ssereplay.sock');
    this.wsSock = path.join(this.tmp, 'ssereplay-ws.sock');
    this.db = path.join(this.tmp, 'ssereplay.db');
    this.backendLog = path.join(this.tmp, 'backend.log');
    this.lighttpdLog = path.join(this.tmp, 'lighttpd.out');
    // Served at /demo/access-token (conf/lighttpd.conf: var.vardir + ...).
    this.tokenFile = path.join(this.tmp, 'demo-access-token.txt');
    this.backend = null;
    this.lighttpd = null;
    this.port = 0;
    this.demoToken = '';
  }

  get base() {
    return `http://127.0.0.1:${this.port}/`;
  }

  // tests/demo.sh: "$BIN" serve --config conf/ssereplay.conf
  //   --listen unix:$VAR/ssereplay.sock --db $VAR/ssereplay.db
  //   --ws unix:$VAR/ssereplay-ws.sock
  backendArgv() {
    return ['serve', '--config', path.join(ROOT, 'conf/ssereplay.conf'),
      '--listen', `unix:${this.sock}`, '--db', this.db, '--ws', `unix:${this.wsSock}`];
  }

  async startBackend() {
    const log = fs.openSync(this.backendLog, 'a');
    fs.writeSync(log, `---- start ${new Date().toISOString()} ----\n`);
    this.backend = spawn(this.bin, this.backendArgv(), {
      cwd: this.tmp, stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    this.backend.on('error', (e) => fs.appendFileSync(this.backendLog, `spawn: ${e.message}\n`));
    const waitFor = [this.sock, this.wsSock];
    const deadline = Date.now() + 10000;
    for (;;) {
      if (exited(this.backend)) {
        throw new Error(`the backend exited at start:\n${tail(this.backendLog)}`);
      }
      const ok = await Promise.all(waitFor.map(canConnect));
      if (ok.every(Boolean)) return;
      if (Date.now() > deadline) throw new Error(`no backend socket after 10 s:\n${tail(this.backendLog)}`);
      await sleep(25);
    }
  }

  async killBackend() {
    const b = this.backend;
    if (!b || exited(b)) return;
    process.kill(b.pid, 'SIGKILL');
    await waitExit(b, 5000);
  }

  // `ssereplay token` with the demo config's token_key: resolves with the
  // token (without its newline).
  mintToken({ user = 'demo', topics = 'user/{user}/*', ttl = '1d' } = {}) {
    const argv = ['token', '--config', path.join(ROOT, 'conf/ssereplay.conf'),
      '--user', user, '--topics', topics, '--ttl', ttl];
    return new Promise((resolve, reject) => {
      execFile(this.bin, argv, { cwd: this.tmp, timeout: 10000 }, (e, stdout, stderr) => {
        if (e) reject(new Error(`ssereplay token: ${e.message.trim()} ${String(stderr).trim()}`));
        else resolve(stdout.trim());
      });
    });
  }

  // tests/demo.sh: "$BIN" token --config conf/ssereplay.conf --user demo
  //   --topics 'user/{user}/*' --ttl 1d > $VAR/demo-access-token.txt
  async mintDemoToken() {
    this.demoToken = await this.mintToken();
    fs.writeFileSync(this.tokenFile, `${this.demoToken}\n`);
  }

  async startLighttpd() {
    this.port = await freePort();
    const env = {
      ...process.env,
      SSEREPLAY_PORT: String(this.port),
      SSEREPLAY_DOCROOT: path.join(ROOT, 'frontend'),
      SSEREPLAY_SOCKET: this.sock,
      SSEREPLAY_VAR: this.tmp,
      SSEREPLAY_WS_SOCKET: this.wsSock,
    };
    const out = fs.openSync(this.lighttpdLog, 'a');
    this.lighttpd = spawn(LIGHTTPD, ['-D', '-f', path.join(ROOT, 'conf/lighttpd.conf')], {
      cwd: this.tmp, env, stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
    this.lighttpd.on('error', (e) => fs.appendFileSync(this.lighttpdLog, `spawn: ${e.message}\n`));
    const deadline = Date.now() + 10000;
    for (;;) {
      if (exited(this.lighttpd)) {
        throw new Error(`lighttpd exited at start:\n${tail(this.lighttpdLog)}\n` +
          tail(path.join(this.tmp, 'lighttpd-error.log')));
      }
      try {
        const r = await fetch(`${this.base}healthz`);
        if (r.ok) return;
      } catch { /* not yet */ }
      if (Date.now() > deadline) throw new Error('lighttpd: no answer on /healthz after 10 s');
      await sleep(50);
    }
  }

  async start() {
    await this.startBackend();
    await this.mintDemoToken();
    await this.startLighttpd();
  }

  // SIGTERM, then SIGKILL after 3 s, each process by its PID.
  async stop() {
    for (const c of [this.lighttpd, this.backend]) {
      if (!c || exited(c)) continue;
      try { process.kill(c.pid, 'SIGTERM'); } catch { /* gone */ }
      if (!(await waitExit(c, 3000))) {
        try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ }
        await waitExit(c, 2000);
      }
    }
  }

  // Synchronous last resort (process 'exit' handler).
  killAllSync() {
    for (const c of [this.lighttpd, this.backend]) {
      if (c && !exited(c)) {
        try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ }
      }
    }
  }

  removeTmp() {
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }

  logs() {
    return `backend log:\n${tail(this.backendLog)}\nlighttpd error log:\n` +
      tail(path.join(this.tmp, 'lighttpd-error.log'));
  }

  // POST /publish over HTTP, as curl would; resolves with the event's id.
  async publish(data, { token = 'demo-token', topic = 'demo' } = {}) {
    const r = await fetch(`${this.base}publish`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ topic, data }),
    });
    const text = await r.text();
    if (r.status !== 201) throw new Error(`publish: ${r.status} ${text.trim()}`);
    return JSON.parse(text).id;
  }

  // n events, `window` in flight, each with {"t": ms} in its data.
  async publishMany(n, tag, window = 8) {
    const ids = [];
    let next = 0;
    const worker = async () => {
      while (next < n) {
        const i = next++;
        ids.push(await this.publish(JSON.stringify({ t: Date.now(), text: `${tag} #${i + 1}` })));
      }
    };
    await Promise.all(Array.from({ length: Math.min(window, n) }, worker));
    return ids;
  }
}
