#!/bin/sh
# `make demo`: the backend and lighttpd on 127.0.0.1:PORT, in the
# foreground; Ctrl-C or SIGTERM stops both.
#   sh tests/demo.sh [PORT]
set -u
PORT=${1:-8080}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VAR=$ROOT/var
BIN=$ROOT/backend/ssereplay
mkdir -p "$VAR"

case "$PORT" in
''|*[!0-9]*) echo "demo: PORT must be a number, not '$PORT'" >&2; exit 2 ;;
esac

backend_pid=""
lighttpd_pid=""
stop() {
	trap - INT TERM EXIT
	[ -n "$lighttpd_pid" ] && kill "$lighttpd_pid" 2>/dev/null
	[ -n "$backend_pid" ] && kill "$backend_pid" 2>/dev/null
	[ -n "$lighttpd_pid" ] && wait "$lighttpd_pid" 2>/dev/null
	[ -n "$backend_pid" ] && wait "$backend_pid" 2>/dev/null
	echo "demo: stopped"
	exit 0
}
trap stop INT TERM EXIT

"$BIN" serve --config "$ROOT/conf/ssereplay.conf" \
    --listen "unix:$VAR/ssereplay.sock" --db "$VAR/ssereplay.db" \
    --ws "unix:$VAR/ssereplay-ws.sock" &
backend_pid=$!
i=0
while [ ! -S "$VAR/ssereplay.sock" ]; do
	if ! kill -0 "$backend_pid" 2>/dev/null; then
		backend_pid=""
		echo "demo: the backend did not start (see above)" >&2
		exit 1
	fi
	i=$((i + 1))
	[ $i -gt 100 ] && { echo "demo: no backend socket after 5 s" >&2; exit 1; }
	sleep 0.05
done

# The demo's private topic (user/demo/...): a day's access token for the
# page to try it with, served at /demo/access-token (conf/lighttpd.conf).
"$BIN" token --config "$ROOT/conf/ssereplay.conf" --user demo \
    --topics 'user/{user}/*' --ttl 1d > "$VAR/demo-access-token.txt" || exit 1

SSEREPLAY_PORT=$PORT SSEREPLAY_DOCROOT=$ROOT/frontend \
SSEREPLAY_SOCKET=$VAR/ssereplay.sock SSEREPLAY_VAR=$VAR \
SSEREPLAY_WS_SOCKET=$VAR/ssereplay-ws.sock \
    lighttpd -D -f "$ROOT/conf/lighttpd.conf" &
lighttpd_pid=$!
i=0
until curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do
	if ! kill -0 "$lighttpd_pid" 2>/dev/null; then
		lighttpd_pid=""
		echo "demo: lighttpd did not start; is port $PORT taken?" \
		    "(make demo PORT=...; log: $VAR/lighttpd-error.log)" >&2
		exit 1
	fi
	i=$((i + 1))
	[ $i -gt 100 ] && { echo "demo: no answer on port $PORT after 5 s" >&2; exit 1; }
	sleep 0.05
done

echo "demo: open http://127.0.0.1:$PORT/  (Ctrl-C to stop)"
echo "demo: publish with: curl -H 'Authorization: Bearer demo-token'" \
    "-d topic=demo -d data=hello http://127.0.0.1:$PORT/publish"
# Wait for either to exit; then stop the other.
while kill -0 "$backend_pid" 2>/dev/null && kill -0 "$lighttpd_pid" 2>/dev/null; do
	sleep 0.5 &
	wait $! 2>/dev/null
done
echo "demo: a server exited unexpectedly" >&2
stop
