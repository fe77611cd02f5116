#!/usr/bin/env node
// A WebSocket client for the integration tests, built on the npm `ws`
// package (tests/node_modules, installed by `make deps`): a client that no
// one here wrote, driven line by line by tests/integration/test_ws.py.
//
//   node tests/ws/client.mjs [options] URL
//
// URL is ws://HOST:PORT/ws?..., wss://... (certificates not checked: the
// tests use self-signed ones) or ws+unix:///path/to/socket:/ws?... (the
// backend's own socket, no web server in between).
//
// Options:
//   -H 'Name: value'   add a request header (repeatable): Origin,
//                      Authorization, Host...
//   --timeout SECONDS  exit (code 3, after printing {"timeout":...}) if still
//                      running after this long; default 30. Every test is
//                      bounded, so a stuck client must be too.
//   --no-auto-pong     do not answer the server's pings (ws answers them by
//                      default, as browsers do)
//   --max-payload N    largest message this client accepts (default 64 MiB)
//
// Output on stdout, one JSON object per line, in the order things happen:
//   {"open":{"url":...,"headers":{...}}}     handshake done (101)
//   {"msg":<parsed JSON>}                    a text message that is JSON
//   {"text":"..."}                           a text message that is not JSON
//   {"binary":"<base64>"}                    a binary message
//   {"ping":"<utf-8 payload>"} / {"pong":...} control frames from the server
//   {"unexpected-response":STATUS,"headers":{...},"body":"..."}
//                                            the handshake was refused
//   {"error":"..."}                          a socket or protocol error
//   {"close":{"code":N,"reason":"..."}}      the connection is closed
//   {"sent":N}                               command N (0-based) was written
//                                            to the socket (its callback ran)
// After "close" or "unexpected-response" the process exits (code 0).
//
// Commands on stdin, one JSON object per line:
//   {"send":"text"}                  a text message
//   {"json":VALUE}                   a text message JSON.stringify(VALUE)
//   {"binary":"<base64>"}            a binary message
//   {"fragments":["a","b",...],      one text message in several frames;
//    "ping_between":"x"}             optionally a ping after each fragment
//                                    but the last (control frames may come
//                                    between fragments, RFC 6455 §5.4)
//   {"ping":"payload"}               a ping
//   {"close":[CODE,"reason"]}        start the closing handshake ([] for none)
//   {"terminate":true}               drop the TCP connection, no close frame
//   {"exit":true}                    exit at once (code 0)
// Commands sent before the handshake is done wait for it. End of stdin
// changes nothing (the client runs until the connection closes).
// A command that cannot be run prints {"error":...} and the client goes on.

import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";
import readline from "node:readline";

// Resolve `ws` from tests/node_modules wherever the script is started from.
const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "package.json"));
const WebSocket = require("ws");

function usage(msg) {
	process.stderr.write(`client.mjs: ${msg}\nusage: node tests/ws/client.mjs ` +
	    "[-H 'Name: value']... [--timeout S] [--no-auto-pong] " +
	    "[--max-payload N] URL\n");
	process.exit(2);
}

const headers = {};
let url = null;
let timeoutS = 30;
let autoPong = true;
let maxPayload = 64 * 1024 * 1024;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
	const a = argv[i];
	const val = () => {
		if (i + 1 >= argv.length)
			usage(`${a} needs a value`);
		return argv[++i];
	};
	if (a === "-H" || a === "--header") {
		const h = val();
		const c = h.indexOf(":");
		if (c <= 0)
			usage(`bad header ${JSON.stringify(h)}`);
		headers[h.slice(0, c).trim()] = h.slice(c + 1).trim();
	} else if (a === "--timeout") {
		timeoutS = Number(val());
		if (!(timeoutS > 0))
			usage("--timeout needs a positive number");
	} else if (a === "--no-auto-pong") {
		autoPong = false;
	} else if (a === "--max-payload") {
		maxPayload = Number(val());
	} else if (a.startsWith("-")) {
		usage(`unknown option ${a}`);
	} else if (url === null) {
		url = a;
	} else {
		usage("one URL only");
	}
}
if (url === null)
	usage("no URL");

// One line per thing that happened. Writes to a pipe are asynchronous in
// Node; exit() waits for them to drain so that no line is lost.
function out(obj) {
	process.stdout.write(JSON.stringify(obj) + "\n");
}

let exiting = false;
function exit(code) {
	if (exiting)
		return;
	exiting = true;
	process.stdout.write("", () => process.exit(code));
}

const timer = setTimeout(() => {
	out({ timeout: timeoutS });
	exit(3);
}, timeoutS * 1000);
timer.unref();

// A Host header given with -H must win over the one ws derives from the
// URL (ws+unix: URLs have none worth sending).
const opts = {
	headers,
	autoPong,
	maxPayload,
	perMessageDeflate: false,	// the backend negotiates no extension
	rejectUnauthorized: false,
	handshakeTimeout: Math.min(10, timeoutS) * 1000,
	followRedirects: false,
};
if (headers.Origin !== undefined || headers.origin !== undefined)
	opts.origin = headers.Origin ?? headers.origin;

let ws;
try {
	ws = new WebSocket(url, opts);
} catch (e) {
	out({ error: String(e && e.message || e) });
	exit(1);
}

ws.on("upgrade", (res) => {
	ws._upgradeHeaders = res.headers;
});
ws.on("open", () => {
	out({ open: { url, headers: ws._upgradeHeaders || {} } });
});
ws.on("unexpected-response", (req, res) => {
	const chunks = [];
	res.on("data", (c) => chunks.push(c));
	const done = () => {
		out({ "unexpected-response": res.statusCode, headers: res.headers,
		    body: Buffer.concat(chunks).toString("utf8") });
		exit(0);
	};
	res.on("end", done);
	res.on("error", done);
	res.on("close", done);
});
ws.on("message", (data, isBinary) => {
	if (isBinary) {
		out({ binary: Buffer.from(data).toString("base64") });
		return;
	}
	const s = data.toString("utf8");
	let v;
	try {
		v = JSON.parse(s);
	} catch (e) {
		out({ text: s });
		return;
	}
	out({ msg: v });
});
ws.on("ping", (d) => out({ ping: d.toString("utf8") }));
ws.on("pong", (d) => out({ pong: d.toString("utf8") }));
ws.on("error", (e) => out({ error: String(e && e.message || e),
    code: e && e.code }));
ws.on("close", (code, reason) => {
	out({ close: { code, reason: reason.toString("utf8") } });
	exit(0);
});

let ncmd = 0;
function run(cmd) {
	const n = ncmd++;
	const sent = (err) => {
		if (err)
			out({ error: String(err.message || err), cmd: n });
		else
			out({ sent: n });
	};
	if (cmd.exit) {
		exit(0);
	} else if (cmd.terminate) {
		ws.terminate();
	} else if ("send" in cmd) {
		ws.send(String(cmd.send), { binary: false }, sent);
	} else if ("json" in cmd) {
		ws.send(JSON.stringify(cmd.json), { binary: false }, sent);
	} else if ("binary" in cmd) {
		ws.send(Buffer.from(cmd.binary, "base64"), { binary: true }, sent);
	} else if ("fragments" in cmd) {
		// ws sends a message with fin: false as the first frame of a
		// fragmented one, later ones as continuations; a ping queued in
		// between goes out between them, in order.
		const f = cmd.fragments;
		for (let i = 0; i < f.length; i++) {
			const last = i === f.length - 1;
			ws.send(String(f[i]), { binary: false, fin: last },
			    last ? sent : undefined);
			if (!last && cmd.ping_between !== undefined)
				ws.ping(String(cmd.ping_between));
		}
	} else if ("ping" in cmd) {
		ws.ping(String(cmd.ping), undefined, sent);
	} else if ("close" in cmd) {
		const [code, reason] = cmd.close || [];
		ws.close(code, reason);
	} else {
		out({ error: "unknown command " + JSON.stringify(cmd), cmd: n });
	}
}

// Commands that come before the handshake is done wait for it.
let pending = [];
ws.on("open", () => {
	const p = pending;
	pending = null;
	for (const cmd of p)
		runSafe(cmd);
});

function runSafe(cmd) {
	try {
		run(cmd);
	} catch (e) {
		out({ error: String(e && e.message || e) });
	}
}

const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (line) => {
	if (!line.trim())
		return;
	let cmd;
	try {
		cmd = JSON.parse(line);
	} catch (e) {
		out({ error: "command is not JSON: " + line });
		return;
	}
	if (pending !== null && !cmd.exit)
		pending.push(cmd);
	else
		runSafe(cmd);
});
// End of stdin changes nothing: the client runs until the connection
// closes, {"exit":true} or --timeout (so `</dev/null` works for a
// handshake check).
