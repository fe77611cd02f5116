"""A small HTTP/1.1 + Server-Sent Events client on raw sockets.

Standard library only. It speaks just enough HTTP/1.1 to talk to lighttpd:
one request per connection, status line and headers, then a body that is
chunked, Content-Length delimited or delimited by the connection closing.
Chunked bodies are de-chunked incrementally and fed to an incremental
event-stream parser that follows WHATWG HTML "Interpreting an event stream":

  * lines end at CR LF, a lone LF or a lone CR (also across reads);
  * a line starting with ':' is a comment;
  * "field: value" (exactly one leading space of the value is dropped),
    a line without ':' is a field with an empty value;
  * data values are appended with a LF; on a blank line the trailing LF is
    removed and the event dispatched unless the data buffer is empty;
  * id (ignored if it contains NUL) sets the last event id, which every
    dispatched event carries; event sets the type (default "message");
    retry takes ASCII digits only.

The client can also behave as a slow reader (small SO_RCVBUF, then simply
stop calling read) and can close abruptly (RST via SO_LINGER 0).
"""

import re
import socket
import struct
import time

_EOL = re.compile(b"[\\r\\n]")


class Timeout(Exception):
    """Nothing (enough) arrived before the deadline."""


class StreamEnded(Exception):
    """The response ended (terminator or connection closed)."""


class Event(object):
    __slots__ = ("id", "type", "data", "fields")

    def __init__(self, id, type, data, fields):
        self.id = id          # last event id string at dispatch
        self.type = type      # "message" if no event field
        self.data = data
        self.fields = fields  # list of (name, value) of this block

    def __repr__(self):
        return "Event(id=%r, type=%r, data=%r)" % (self.id, self.type,
                                                   _short(self.data))

    def seq(self):
        """The sequence number part of an "<epoch>-<seq>" id."""
        return int(self.id.rsplit("-", 1)[-1])


def _short(s, n=80):
    return s if len(s) <= n else s[:n] + "...(%d chars)" % len(s)


class SSEParser(object):
    """Incremental WHATWG event-stream parser over bytes."""

    def __init__(self):
        self.buf = bytearray()
        self.after_cr = False     # last byte consumed was a CR line end
        self.first = True         # strip a leading BOM once
        self.data = []
        self.data_seen = False
        self.evtype = ""
        self.last_id = ""
        self.fields = []
        self.retry = None
        self.items = []           # ("event", Event) / ("comment", s) / ("retry", n)

    def feed(self, b):
        """Feed bytes; returns the list of new items."""
        new = []
        if not b:
            return new
        self.buf += b
        buf = self.buf
        pos = 0
        if self.after_cr and buf[:1] == b"\n":
            pos = 1          # LF completing a CR LF split across reads
        self.after_cr = False
        while True:
            m = _EOL.search(buf, pos)
            if m is None:
                break
            i = m.start()
            self._line(bytes(buf[pos:i]), new)
            if buf[i] == 0x0D:
                if i + 1 < len(buf):
                    pos = i + 2 if buf[i + 1] == 0x0A else i + 1
                else:
                    pos = i + 1
                    self.after_cr = True
            else:
                pos = i + 1
        del buf[:pos]
        return new

    def _line(self, raw, new):
        if self.first:
            self.first = False
            if raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
        line = raw.decode("utf-8", "replace")
        if line == "":
            self._dispatch(new)
            return
        if line.startswith(":"):
            item = ("comment", line[1:])
            self.items.append(item)
            new.append(item)
            return
        if ":" in line:
            name, value = line.split(":", 1)
            if value.startswith(" "):
                value = value[1:]
        else:
            name, value = line, ""
        self.fields.append((name, value))
        if name == "event":
            self.evtype = value
        elif name == "data":
            self.data.append(value)
            self.data_seen = True
        elif name == "id":
            if "\0" not in value:
                self.last_id = value
        elif name == "retry":
            if value != "" and all("0" <= ch <= "9" for ch in value):
                self.retry = int(value)
                item = ("retry", self.retry)
                self.items.append(item)
                new.append(item)

    def _dispatch(self, new):
        fields = self.fields
        self.fields = []
        if not self.data_seen:
            self.evtype = ""
            return
        ev = Event(self.last_id, self.evtype or "message",
                   "\n".join(self.data), fields)
        self.data = []
        self.data_seen = False
        self.evtype = ""
        item = ("event", ev)
        self.items.append(item)
        new.append(item)


class HTTPResponseError(Exception):
    pass


class Dechunker(object):
    """Incremental Transfer-Encoding: chunked decoder."""

    def __init__(self):
        self.buf = bytearray()
        self.remaining = None   # bytes left in the current chunk
        self.state = "size"     # size | data | data_crlf | trailer | done
        self.done = False

    def feed(self, b):
        self.buf += b
        out = bytearray()
        while True:
            if self.state == "size":
                j = self.buf.find(b"\r\n")
                if j < 0:
                    if len(self.buf) > 1024:
                        raise HTTPResponseError("bad chunk size line")
                    break
                line = bytes(self.buf[:j]).split(b";", 1)[0].strip()
                del self.buf[:j + 2]
                try:
                    size = int(line, 16)
                except ValueError:
                    raise HTTPResponseError("bad chunk size %r" % line)
                if size == 0:
                    self.state = "trailer"
                else:
                    self.remaining = size
                    self.state = "data"
            elif self.state == "data":
                if not self.buf:
                    break
                take = min(self.remaining, len(self.buf))
                out += self.buf[:take]
                del self.buf[:take]
                self.remaining -= take
                if self.remaining == 0:
                    self.state = "data_crlf"
            elif self.state == "data_crlf":
                if len(self.buf) < 2:
                    break
                if bytes(self.buf[:2]) != b"\r\n":
                    raise HTTPResponseError("missing CRLF after chunk")
                del self.buf[:2]
                self.state = "size"
            elif self.state == "trailer":
                j = self.buf.find(b"\r\n")
                if j < 0:
                    break
                line = bytes(self.buf[:j])
                del self.buf[:j + 2]
                if line == b"":
                    self.state = "done"
                    self.done = True
            else:
                break
        return bytes(out)


class HTTPConn(object):
    """One HTTP/1.1 request on a raw socket, body read incrementally."""

    def __init__(self, host, port, method, path, headers=None, body=None,
                 rcvbuf=None, timeout=10.0):
        self.host = host
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.status = None
        self.reason = None
        self.headers = []        # list of (lower-name, value)
        self.inbuf = bytearray()
        self.body_mode = None    # chunked | length | close | none
        self.length_left = None
        self.dechunker = None
        self.ended = False       # the body ended properly
        self.eof = False         # the connection closed
        self.clean_end = None    # True: terminator / full length seen
        self.raw_body = bytearray()
        self.closed = False
        self._send_request(method, path, headers or {}, body)

    def _send_request(self, method, path, headers, body):
        lines = ["%s %s HTTP/1.1" % (method, path),
                 "Host: %s:%d" % (self.host, self.port)]
        names = set(k.lower() for k in headers)
        if "connection" not in names:
            lines.append("Connection: close")
        if body is not None and "content-length" not in names:
            lines.append("Content-Length: %d" % len(body))
        for k, v in headers.items():
            lines.append("%s: %s" % (k, v))
        req = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if body is not None:
            req += body if isinstance(body, bytes) else body.encode("utf-8")
        self.sock.sendall(req)

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return default

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k == name]

    def _recv(self, deadline):
        """Receive some bytes into inbuf; False on EOF. Raises Timeout."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise Timeout("timed out")
        self.sock.settimeout(left)
        try:
            b = self.sock.recv(65536)
        except socket.timeout:
            raise Timeout("timed out")
        except (ConnectionResetError, BrokenPipeError):
            b = b""
        if not b:
            self.eof = True
            return False
        self.inbuf += b
        return True

    def read_head(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            j = self.inbuf.find(b"\r\n\r\n")
            if j >= 0:
                break
            if not self._recv(deadline):
                raise HTTPResponseError(
                    "connection closed before the response head (got %r)"
                    % bytes(self.inbuf[:200]))
        head = bytes(self.inbuf[:j]).decode("latin-1")
        del self.inbuf[:j + 4]
        lines = head.split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise HTTPResponseError("bad status line %r" % lines[0])
        self.status = int(parts[1])
        self.reason = parts[2] if len(parts) > 2 else ""
        for l in lines[1:]:
            if ":" not in l:
                continue
            k, v = l.split(":", 1)
            self.headers.append((k.strip().lower(), v.strip()))
        te = (self.header("transfer-encoding") or "").lower()
        cl = self.header("content-length")
        if "chunked" in te:
            self.body_mode = "chunked"
            self.dechunker = Dechunker()
        elif cl is not None:
            self.body_mode = "length"
            self.length_left = int(cl)
        elif self.status in (204, 304) or 100 <= self.status < 200:
            self.body_mode = "none"
        else:
            self.body_mode = "close"
        if self.body_mode == "none" or (self.body_mode == "length" and
                                        self.length_left == 0):
            self.ended = True
            self.clean_end = True
        return self.status

    def _take_inbuf(self):
        """Decode what is buffered; returns body bytes."""
        data = bytes(self.inbuf)
        self.inbuf.clear()
        if self.body_mode == "chunked":
            out = self.dechunker.feed(data)
            if self.dechunker.done:
                self.ended = True
                self.clean_end = True
        elif self.body_mode == "length":
            out = data[:self.length_left]
            self.length_left -= len(out)
            if self.length_left == 0:
                self.ended = True
                self.clean_end = True
        else:
            out = data
        self.raw_body += out
        return out

    def read_some(self, deadline):
        """Body bytes available by deadline (b"" when the body ended).
        Raises Timeout."""
        if self.inbuf:
            out = self._take_inbuf()
            if out or self.ended:
                return out
        if self.ended:
            return b""
        while True:
            if not self._recv(deadline):
                # connection closed
                self.ended = True
                if self.clean_end is None:
                    self.clean_end = (self.body_mode == "close")
                return b""
            out = self._take_inbuf()
            if out or self.ended:
                return out

    def read_body(self, timeout=10.0):
        """Read the rest of the body until it ends; returns all body bytes."""
        deadline = time.monotonic() + timeout
        while not self.ended:
            self.read_some(deadline)
        return bytes(self.raw_body)

    def close(self):
        if not self.closed:
            self.closed = True
            try:
                self.sock.close()
            except OSError:
                pass

    def close_abruptly(self):
        """Close with RST (SO_LINGER 0): the peer sees a reset."""
        if not self.closed:
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                     struct.pack("ii", 1, 0))
            except OSError:
                pass
            self.close()


class SSEClient(HTTPConn):
    """GET an event stream and parse it."""

    def __init__(self, host, port, path, last_event_id=None, headers=None,
                 rcvbuf=None, method="GET", timeout=10.0, read_head=True):
        hdrs = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if last_event_id is not None:
            hdrs["Last-Event-ID"] = last_event_id
        if headers:
            hdrs.update(headers)
        HTTPConn.__init__(self, host, port, method, path, hdrs, None,
                          rcvbuf=rcvbuf, timeout=timeout)
        self.parser = SSEParser()
        self.pending = []        # parsed items not yet handed out
        self.events = []         # every event handed out or pending
        if read_head:
            self.read_head(timeout)

    @property
    def items(self):
        return self.parser.items

    @property
    def retry(self):
        return self.parser.retry

    def _pump(self, deadline):
        """Read once; parse. Returns False when the stream ended."""
        b = self.read_some(deadline)
        if b:
            for it in self.parser.feed(b):
                self.pending.append(it)
                if it[0] == "event":
                    self.events.append(it[1])
        return not (self.ended and not b and not self.inbuf)

    def next_item(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while not self.pending:
            if not self._pump(deadline):
                raise StreamEnded("stream ended")
        return self.pending.pop(0)

    def next_event(self, timeout=5.0):
        """The next event (comments and retry skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            while self.pending:
                it = self.pending.pop(0)
                if it[0] == "event":
                    return it[1]
            if not self._pump(deadline):
                raise StreamEnded("stream ended")

    def collect(self, n, timeout=10.0):
        """Exactly n events (raises Timeout/StreamEnded with what it got)."""
        deadline = time.monotonic() + timeout
        got = []
        try:
            while len(got) < n:
                got.append(self.next_event(max(0.0, deadline -
                                               time.monotonic()) or 1e-3))
        except (Timeout, StreamEnded) as e:
            raise e.__class__("%s after %d of %d events; last %r" %
                              (e, len(got), n, got[-1] if got else None))
        return got

    def collect_until(self, pred, timeout=10.0):
        """Events up to and including the first one with pred(ev)."""
        deadline = time.monotonic() + timeout
        got = []
        try:
            while True:
                ev = self.next_event(max(0.0, deadline - time.monotonic())
                                     or 1e-3)
                got.append(ev)
                if pred(ev):
                    return got
        except (Timeout, StreamEnded) as e:
            raise e.__class__("%s after %d events; last %r" %
                              (e, len(got), got[-1] if got else None))

    def drain(self, timeout=5.0, quiet=0.3):
        """Events arriving until the stream ends, or nothing new for quiet
        seconds, or timeout."""
        deadline = time.monotonic() + timeout
        got = []
        while time.monotonic() < deadline:
            try:
                ev = self.next_event(min(quiet, deadline - time.monotonic()))
                got.append(ev)
            except (Timeout, StreamEnded):
                break
        return got

    def read_to_end(self, timeout=10.0):
        """Everything until the response ends; returns the events."""
        deadline = time.monotonic() + timeout
        got = []
        while True:
            try:
                ev = self.next_event(max(1e-3, deadline - time.monotonic()))
            except StreamEnded:
                return got
            got.append(ev)
