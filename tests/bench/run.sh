#!/bin/bash
# run.sh: `make bench`: ssereplay (through lighttpd, as `make demo` runs it),
# nginx + nchan and a bare epoll baseline through the same six scenarios,
# and ssereplay's WebSocket endpoint (/ws, through lighttpd's mod_proxy)
# through the fan-out ones. Prints a table per scenario and writes
# tests/bench/RESULTS.md.
#
#   QUICK=1              one pass instead of the median of three
#   BENCH_TARGETS=...    default "ssereplay ssereplay-ws jetstream jetstream2
#                        nchan baseline"
#   BENCH_JS_SCENARIOS=...  the scenarios the JetStream targets run,
#                        default "1 2 4 5" (fan-out, replay, publishing)
#   BENCH_SCENARIOS=...  default "1 2 3 4 5 6"
#   BENCH_WS_SCENARIOS=...  the scenarios ssereplay-ws runs, default "1 2"
#                        (every scenario works over WebSocket too)
#   BENCH_RUNS=N         passes (default 3, QUICK=1: 1)
#   BENCH_RESULTS=FILE   default tests/bench/RESULTS.md
#   BENCH_MAX_SECONDS=N  stop starting new steps after N s (default 900)
#   BENCH_KEEP=1         keep the temp dir (logs, raw outputs)
#   BENCH_FILL=cli|http  how ssereplay's 1,000,000-event log is made (see s4)
#   SSEREPLAY_BIN=PATH   default backend/.obj/ssereplay, else backend/ssereplay
#
# Everything runs as this user's processes on 127.0.0.1 high ports in a temp
# dir and is stopped by PID; every client and publisher has a deadline.
#
# The tools (built into .obj/ by the Makefile): loadclient (SSE subscribers,
# or WebSocket ones with -W; latency, gaps, duplicates, resume, bytes read
# per event), publisher (POST /publish at a rate or
# as fast as answered, pipelined, re-sends what a closing keep-alive
# connection dropped), baseline (the ceiling); nchan.sh runs the peer.
#
# Scenarios (the data of every event is "<src> <seq> <publish usec>"):
#   1  S1_SUBS live subscribers; S1_RATE/s over 48 publisher connections
#      (lighttpd answers one request of a connection at a time, so the
#      window must cover the publish round trip under load)
#   2  S2_SUBS subscribers; S2_EVENTS published as fast as answered
#      (16 connections x 8 in flight); delivered/s over the client's span
#   3  S3_SUBS idle subscribers; RSS growth / subscriber, backend and
#      lighttpd measured apart
#   4  S4_EVENTS in the log, one client from the start (ssereplay:
#      lastEventId=0; nchan: first_message oldest; baseline: no resume point)
#   5  S5_PUBS publisher connections, one request in flight each, for
#      S5_SECONDS, with S5_SUBS subscribers attached
#   6  S6_SUBS subscribers each dropping its connection after an event with
#      probability S6_DROP and resuming at once with Last-Event-ID;
#      S6_EVENTS published as fast as answered; time from the first publish
#      to the last delivery, exactly once per subscriber
# The baseline serves the same events itself: pre-encoded (2, 3, 4, 6), made
# and stamped at S1_RATE (1), or answering publishes from memory (5).
# ssereplay-ws is the same backend and lighttpd as ssereplay (the backend
# always listens with --ws), the same publisher over HTTP; only the
# subscribers differ: GET /ws?topic=T, one text frame of JSON per event.
#
# JetStream targets (log = jetstream): a three-node nats-server cluster on
# loopback (JetStream, file storage, replicas 3: the set-up the tests use
# and a replicated site would run), started once for the whole run, a
# fresh stream per pass. "jetstream" is one backend behind lighttpd;
# "jetstream2" is two backends behind two lighttpd instances, the
# publisher on the first and the subscribers on the second, so every event
# crosses the cluster from one backend to the other. Scenario 4 is run for
# "jetstream" only (its replay path is the same for either). Their figures
# go in a table of their own beside SQLite's.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TOOLS=$HERE/.obj
QUICK=${QUICK:-}
[ "$QUICK" = 0 ] && QUICK=
RUNS=${BENCH_RUNS:-3}
[ -n "$QUICK" ] && RUNS=${BENCH_RUNS:-1}
TARGETS=${BENCH_TARGETS:-"ssereplay ssereplay-ws jetstream jetstream2 nchan baseline"}
JS_SCENARIOS=${BENCH_JS_SCENARIOS:-"1 2 4 5"}
SCENARIOS=${BENCH_SCENARIOS:-"1 2 3 4 5 6"}
WS_SCENARIOS=${BENCH_WS_SCENARIOS:-"1 2"}
RESULTS=${BENCH_RESULTS:-$HERE/RESULTS.md}
MAX_SECONDS=${BENCH_MAX_SECONDS:-900}
TOKEN=demo-token

# ---- scenario sizes (the issue's numbers) -----------------------------------
S1_SUBS=1000 S1_RATE=1000 S1_EVENTS=10000 S1_DEADLINE=18
S1_PUB=${BENCH_S1_PUB:-"-c 48 -D 4"}	# connections x requests in flight
S2_SUBS=1000 S2_EVENTS=5000 S2_DEADLINE=12
S3_SUBS=10000
S4_EVENTS=1000000 S4_DEADLINE=20 S4_DEADLINE_NCHAN=10
S5_SUBS=1000 S5_PUBS=16 S5_SECONDS=5
S6_SUBS=200 S6_EVENTS=20000 S6_DROP=0.001 S6_DEADLINE=20

SSR=${SSEREPLAY_BIN:-}
if [ -z "$SSR" ]; then
	if [ -x "$ROOT/backend/.obj/ssereplay" ]; then
		SSR=$ROOT/backend/.obj/ssereplay
	else
		SSR=$ROOT/backend/ssereplay
	fi
fi

T0=$(date +%s)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
NOTES=()
num() {	# 1234567 -> 1,234,567
	awk -v v="$1" 'BEGIN {
		v = sprintf("%.0f", v); neg = v ~ /^-/; sub(/^-/, "", v)
		while (v ~ /[0-9][0-9][0-9][0-9]/)
			sub(/[0-9][0-9][0-9]($|,)/, ",&", v)
		print (neg ? "-" : "") v
	}'
}
note() { NOTES+=("$*"); }

# ---- limits -----------------------------------------------------------------
# 10,000 streams through lighttpd take a client socket and a FastCGI socket
# each: over 20,000 descriptors. Raise the hard limit (root) before all else.
ulimit -Hn 1048576 2>/dev/null || ulimit -Hn 200000 2>/dev/null || true
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
LT_MAXFDS=$(( NOFILE < 65535 ? NOFILE : 65535 ))	# 65536 reads as "unset" in lighttpd 1.4.69
LT_MAXCONNS=$(( LT_MAXFDS / 2 ))
# lighttpd stops accepting at 90 % of server.max-fds ("sockets disabled,
# out-of-fds"), so 10,000 streams need a limit of about 22,500.
if [ $(( (2 * S3_SUBS + 200) * 10 / 9 )) -gt "$LT_MAXFDS" ] &&
    [[ " $SCENARIOS " == *" 3 "* ]]; then
	want=$S3_SUBS
	S3_SUBS=$(( (LT_MAXFDS * 9 / 10 - 200) / 2 / 100 * 100 ))
	why="\`ulimit -Hn\` fails"
	capeff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status 2>/dev/null)
	if [ -n "$capeff" ] && [ $(( (0x$capeff >> 24) & 1 )) = 0 ]; then
		why="$why: the process lacks CAP_SYS_RESOURCE"
	fi
	note "Scenario 3 ran with $(num $S3_SUBS) subscribers, not" \
	    "$(num $want): lighttpd takes two descriptors per stream and stops" \
	    "accepting at 90 % of server.max-fds, and the descriptor hard limit" \
	    "here is $NOFILE and cannot be raised ($why). The figures are per" \
	    "subscriber."
fi

# ---- helpers ----------------------------------------------------------------
TMP=$(mktemp -d /tmp/ssereplay-bench.XXXXXX)
ALL_PIDS=()
NCHAN_DIRS=()

stop_pid() {	# pid: TERM, wait up to 5 s, then KILL
	local p=$1 i
	[ -n "$p" ] || return 0
	kill -TERM "$p" 2>/dev/null || { wait "$p" 2>/dev/null; return 0; }
	for i in $(seq 1 100); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	return 0
}

cleanup() {
	local p d
	for p in "${ALL_PIDS[@]}"; do
		kill -0 "$p" 2>/dev/null && stop_pid "$p"
	done
	for d in "${NCHAN_DIRS[@]}"; do
		bash "$HERE/nchan.sh" stop "$d" 2>/dev/null
	done
	if [ -n "${BENCH_KEEP:-}" ]; then
		echo "bench: kept $TMP" >&2
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'echo; echo "bench: interrupted" >&2; exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
	local p=$1
	while ! port_free "$p"; do p=$((p + 1)); done
	echo "$p"
}
wait_port() {	# port seconds
	local i
	for i in $(seq 1 $(( $2 * 20 ))); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
wait_file() {	# file seconds
	local i
	for i in $(seq 1 $(( $2 * 20 ))); do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
rss_kb() {	# pids...: summed VmRSS in kB
	local s=0 p v
	for p in "$@"; do
		v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null)
		s=$(( s + ${v:-0} ))
	done
	echo "$s"
}
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
cpu_ticks() {	# pids...: summed utime + stime
	local s=0 p v
	for p in "$@"; do
		v=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null)
		s=$(( s + ${v:-0} ))
	done
	echo "$s"
}
per_chunk() {	# client output: events per HTTP chunk
	awk -v e="$(kv "$1" events)" -v c="$(kv "$1" chunks)" \
	    'BEGIN { if (c > 0) printf "%.1f", e / c }'
}
kv() {	# file key: the value of key=value in a one-line output
	[ -f "$1" ] || return 0
	tr ' ' '\n' < "$1" | awk -F= -v k="$2" '$1 == k { print $2; exit }'
}

IS_TTY=
[ -t 2 ] && IS_TTY=1
STEP=0
progress() {
	local el=$(( $(date +%s) - T0 ))
	if [ -n "$IS_TTY" ]; then
		printf '\r\033[K[%3ds] %s' "$el" "$*" >&2
	else
		printf '[%3ds] %s\n' "$el" "$*" >&2
	fi
}
over_time() { [ $(( $(date +%s) - T0 )) -ge "$MAX_SECONDS" ]; }

METRICS=$TMP/metrics.tsv
: > "$METRICS"
put() {	# scenario target run metric value
	[ -n "$5" ] && printf '%s\t%s\t%s\t%s\t%s\n' "$@" >> "$METRICS"
}

# ---- targets ----------------------------------------------------------------
# Each target is started fresh per run (scenario 4: per target) in its own
# directory. srv_start sets PORT and the PIDs to measure.
PORT= SRV_PID= LT_PID= NGX_DIR= BASE_PID= SRV2_PID= LT2_PID= PUB_PORT=
BASE_PORT=$(pick_port 18480)
NCHAN_PORT=$(pick_port $((BASE_PORT + 1)))
LT_PORT=$(pick_port $((NCHAN_PORT + 1)))
LT2_PORT=$(pick_port $((LT_PORT + 1)))

lighttpd_conf() {	# dir: conf/lighttpd.conf with the bench's fd limits
	sed -e "s/^server\.max-fds .*/server.max-fds         = $LT_MAXFDS/" \
	    -e "s/^server\.max-connections .*/server.max-connections = $LT_MAXCONNS/" \
	    "$ROOT/conf/lighttpd.conf" > "$1/lighttpd.conf"
	grep -q "^server.max-fds *= *$LT_MAXFDS\$" "$1/lighttpd.conf" &&
	    grep -q "^server.max-connections *= *$LT_MAXCONNS\$" \
	    "$1/lighttpd.conf" || {
		echo "bench: conf/lighttpd.conf has no server.max-fds /" \
		    "server.max-connections line to raise" >&2
		return 1; }
	echo 'server.listen-backlog = 4096' >> "$1/lighttpd.conf"
}

# Every bench client connects from 127.0.0.1: lift the per-address stream
# limit (max_subscribers_per_address, 1,000 by default) where the backend
# has one, or scenario 3 gets 429s.
SSR_FLAGS=()
grep -qa max_subscribers_per_address "$SSR" 2>/dev/null &&
    SSR_FLAGS+=(--max-subscribers-per-address 0)

ssr_start() {	# dir [extra serve flags...]; lighttpd on ${LTP:-$LT_PORT}
	local d=$1 i ltp=${LTP:-$LT_PORT}
	shift
	mkdir -p "$d"
	# --ws: the WebSocket socket lighttpd proxies /ws to
	# (SSEREPLAY_WS_SOCKET below), for the ssereplay-ws runs.
	(cd "$d" && exec "$SSR" serve --listen "unix:$d/ssereplay.sock" \
	    --ws "unix:$d/ssereplay-ws.sock" \
	    --db "$d/events.db" --config "$ROOT/conf/ssereplay.conf" \
	    ${SSR_FLAGS[@]+"${SSR_FLAGS[@]}"} "$@") \
	    > "$d/backend.log" 2>&1 &
	SRV_PID=$!
	ALL_PIDS+=("$SRV_PID")
	for i in $(seq 1 200); do
		[ -S "$d/ssereplay.sock" ] && [ -S "$d/ssereplay-ws.sock" ] &&
		    break
		kill -0 "$SRV_PID" 2>/dev/null || break
		sleep 0.05
	done
	if [ ! -S "$d/ssereplay.sock" ] || [ ! -S "$d/ssereplay-ws.sock" ]; then
		echo "bench: ssereplay did not start:" >&2
		tail -5 "$d/backend.log" >&2
		return 1
	fi
	lighttpd_conf "$d" || return 1
	SSEREPLAY_PORT=$ltp SSEREPLAY_DOCROOT=$ROOT/frontend \
	    SSEREPLAY_SOCKET=$d/ssereplay.sock SSEREPLAY_VAR=$d \
	    SSEREPLAY_WS_SOCKET=$d/ssereplay-ws.sock \
	    lighttpd -D -f "$d/lighttpd.conf" > "$d/lighttpd.out" 2>&1 &
	LT_PID=$!
	ALL_PIDS+=("$LT_PID")
	if ! wait_port "$ltp" 10; then
		echo "bench: lighttpd did not start:" >&2
		tail -5 "$d/lighttpd.out" "$d/lighttpd-error.log" >&2
		return 1
	fi
	PORT=$ltp
}

# ---- the NATS cluster (JetStream targets) -----------------------------------
NATS_PIDS=() NATS_URLS= JS_N=0
nats_start() {
	local d=$TMP/nats i p routes="" ok n
	local -a np cp mp
	mkdir -p "$d"
	p=$(pick_port 19422)
	for i in 0 1 2; do
		np[$i]=$p; p=$(pick_port $((p + 1)))
		cp[$i]=$p; p=$(pick_port $((p + 1)))
		mp[$i]=$p; p=$(pick_port $((p + 1)))
	done
	for i in 0 1 2; do
		routes="$routes${routes:+, }nats-route://127.0.0.1:${cp[$i]}"
	done
	NATS_URLS=
	for i in 0 1 2; do
		mkdir -p "$d/n$i"
		printf '%s\n' "server_name: n$i" "listen: 127.0.0.1:${np[$i]}" \
		    "http: 127.0.0.1:${mp[$i]}" \
		    "jetstream { store_dir: \"$d/n$i\", max_memory_store: 1GB, max_file_store: 20GB }" \
		    "cluster { name: bench, listen: 127.0.0.1:${cp[$i]}, routes: [$routes] }" \
		    > "$d/n$i.conf"
		nats-server -c "$d/n$i.conf" > "$d/n$i.log" 2>&1 &
		NATS_PIDS+=("$!")
		ALL_PIDS+=("$!")
		NATS_URLS="$NATS_URLS${NATS_URLS:+,}nats://127.0.0.1:${np[$i]}"
	done
	for n in $(seq 1 300); do
		ok=0
		for i in 0 1 2; do
			curl -s "http://127.0.0.1:${mp[$i]}/jsz" 2>/dev/null |
			    grep -q '"leader"' && ok=$((ok + 1))
		done
		[ "$ok" = 3 ] && return 0
		sleep 0.1
	done
	echo "bench: the NATS cluster did not come up:" >&2
	tail -5 "$d/n0.log" >&2
	return 1
}
js_flags() {	# N: serve flags for stream BENCHN (subjects bN.>: streams
		# of one cluster may not share subjects)
	echo "--log jetstream --nats-url $NATS_URLS --nats-stream BENCH$1" \
	    "--nats-subject b$1 --nats-replicas 3"
}

srv_start() {	# target dir [baseline args...]
	local t=$1 d=$2
	shift 2
	mkdir -p "$d"
	SRV_PID= LT_PID= NGX_DIR= BASE_PID= SRV2_PID= LT2_PID= PUB_PORT=
	case $t in
	ssereplay|ssereplay-ws)
		ssr_start "$d" ;;
	jetstream)
		JS_N=$((JS_N + 1))
		ssr_start "$d" $(js_flags "$JS_N") ;;
	jetstream2)
		# The publisher's backend first (it makes the stream), then
		# the subscribers' behind its own lighttpd.
		JS_N=$((JS_N + 1))
		ssr_start "$d/a" $(js_flags "$JS_N") || return 1
		SRV2_PID=$SRV_PID LT2_PID=$LT_PID PUB_PORT=$PORT
		LTP=$LT2_PORT ssr_start "$d/b" $(js_flags "$JS_N") ;;
	nchan)
		NGX_DIR=$d
		NCHAN_DIRS+=("$d")
		bash "$HERE/nchan.sh" start "$d" "$NCHAN_PORT" > "$d/master.pid" \
		    2> "$d/nchan.err" || { cat "$d/nchan.err" >&2; return 1; }
		PORT=$NCHAN_PORT ;;
	baseline)
		"$TOOLS/baseline" -q -p "$BASE_PORT" -d 120 "$@" \
		    > "$d/baseline.out" 2> "$d/baseline.err" &
		BASE_PID=$!
		ALL_PIDS+=("$BASE_PID")
		wait_port "$BASE_PORT" 10 || return 1
		PORT=$BASE_PORT ;;
	esac
}

# CPU seconds the server used since cpu_mark: "backend" and "proxy".
CPU_B0=0 CPU_P0=0 CPU_N0=0
cpu_mark() {
	CPU_B0=$(cpu_backend "$1") CPU_P0=$(cpu_proxy "$1")
	CPU_N0=$(cpu_ticks "${NATS_PIDS[@]}")
}
cpu_put() {	# scenario target run
	put "$1" "$2" "$3" cpu_backend "$(awk -v a="$(cpu_backend "$2")" \
	    -v b="$CPU_B0" -v t="$CLK_TCK" 'BEGIN { print (a - b) / t }')"
	is_ssr "$2" && put "$1" "$2" "$3" cpu_proxy "$(awk \
	    -v a="$(cpu_proxy "$2")" -v b="$CPU_P0" -v t="$CLK_TCK" \
	    'BEGIN { print (a - b) / t }')"
	case $2 in jetstream*)
		put "$1" "$2" "$3" cpu_nats "$(awk \
		    -v a="$(cpu_ticks "${NATS_PIDS[@]}")" -v b="$CPU_N0" \
		    -v t="$CLK_TCK" 'BEGIN { print (a - b) / t }')" ;;
	esac
	return 0
}

srv_stop() {
	[ -n "$LT_PID" ] && stop_pid "$LT_PID"
	[ -n "$SRV_PID" ] && stop_pid "$SRV_PID"
	[ -n "$LT2_PID" ] && stop_pid "$LT2_PID"
	[ -n "$SRV2_PID" ] && stop_pid "$SRV2_PID"
	[ -n "$BASE_PID" ] && stop_pid "$BASE_PID"
	[ -n "$NGX_DIR" ] && bash "$HERE/nchan.sh" stop "$NGX_DIR"
	SRV_PID= LT_PID= NGX_DIR= BASE_PID= SRV2_PID= LT2_PID= PUB_PORT=
	return 0
}

# Process groups whose RSS is reported: "backend" and "proxy" (lighttpd).
is_ssr() { case $1 in ssereplay|ssereplay-ws|jetstream*) ;; *) false ;; esac; }
rss_backend() {
	case $1 in
	ssereplay|ssereplay-ws|jetstream*) rss_kb "$SRV_PID" $SRV2_PID ;;
	nchan) rss_kb $(bash "$HERE/nchan.sh" pids "$NGX_DIR") ;;
	baseline) rss_kb "$BASE_PID" ;;
	esac
}
rss_proxy() { is_ssr "$1" && rss_kb "$LT_PID" $LT2_PID || echo 0; }
cpu_backend() {
	case $1 in
	ssereplay|ssereplay-ws|jetstream*) cpu_ticks "$SRV_PID" $SRV2_PID ;;
	nchan) cpu_ticks $(bash "$HERE/nchan.sh" pids "$NGX_DIR") ;;
	baseline) cpu_ticks "$BASE_PID" ;;
	esac
}
cpu_proxy() { is_ssr "$1" && cpu_ticks "$LT_PID" $LT2_PID || echo 0; }

live_path() {	# target topic
	case $1 in
	baseline) echo "/events" ;;
	ssereplay-ws) echo "/ws?topic=$2" ;;
	*) echo "/events?topic=$2" ;;
	esac
}
replay_path() {
	case $1 in
	ssereplay|jetstream*) echo "/events?topic=$2&lastEventId=0" ;;
	ssereplay-ws) echo "/ws?topic=$2&lastEventId=0" ;;
	nchan) echo "/replay?topic=$2" ;;
	baseline) echo "/events" ;;
	esac
}
pub_args() {	# target topic
	case $1 in
	ssereplay|ssereplay-ws|jetstream*)
		echo "-u /publish -F form -t $2 -a $TOKEN" ;;
	nchan) echo "-u /publish?topic=$2 -F raw" ;;
	baseline) echo "-u /publish -F form -t $2" ;;
	esac
}
id_check() { [ "$1" = nchan ] || echo "-I"; }
ws_flag() { [ "$1" = ssereplay-ws ] && echo "-W"; }

# A pass whose subscribers did not all finish by the deadline is not
# repeated: its figure is bounded by the deadline, not by the server.
HIT_DEADLINE=
check_deadline() {	# client-output conns
	[ "$(kv "$1" done)" = "$2" ] || HIT_DEADLINE=1
}

CLIENT_PID=
client_bg() {	# outfile args...
	local out=$1
	shift
	rm -f "$out" "$out.ready"
	"$TOOLS/loadclient" -q -p "$PORT" -f "$out.ready" "$@" \
	    > "$out" 2> "$out.err" &
	CLIENT_PID=$!
	ALL_PIDS+=("$CLIENT_PID")
}
client_wait() { wait "$CLIENT_PID" 2>/dev/null; CLIENT_PID=; }
publish() {	# outfile args...
	local out=$1
	shift
	# jetstream2: the publisher's backend is not the subscribers'.
	"$TOOLS/publisher" -q -p "${PUB_PORT:-$PORT}" "$@" > "$out" \
	    2> "$out.err"
}

# ---- scenarios --------------------------------------------------------------
# Each run_sN target run dir leaves raw outputs in dir and metrics in
# $METRICS. Rates are taken between the first and the last event a client
# saw; latencies from the publish stamp in the event data.

run_s1() {
	local t=$1 r=$2 d=$3 o
	srv_start "$t" "$d" -m rate -r "$S1_RATE" -n "$S1_EVENTS" \
	    -c "$S1_SUBS" || return 1
	cpu_mark "$t"
	o=$d/client
	client_bg "$o" -c "$S1_SUBS" -n "$S1_EVENTS" -d "$S1_DEADLINE" -R \
	    -u "$(live_path "$t" s1)" $(id_check "$t") $(ws_flag "$t")
	if ! wait_file "$o.ready" 20; then
		echo "bench: s1 $t: subscribers did not attach" >&2
		stop_pid "$CLIENT_PID"
	elif [ "$t" != baseline ]; then
		publish "$d/pub" -r "$S1_RATE" -n "$S1_EVENTS" $S1_PUB \
		    -d 25 $(pub_args "$t" s1)
		put 1 "$t" "$r" pub_rate "$(kv "$d/pub" rate)"
		put 1 "$t" "$r" pub_lag "$(kv "$d/pub" lag_max)"
	fi
	client_wait
	cpu_put 1 "$t" "$r"
	srv_stop
	check_deadline "$o" "$S1_SUBS"
	put 1 "$t" "$r" delivered "$(kv "$o" rate)"
	put 1 "$t" "$r" per_chunk "$(per_chunk "$o")"
	put 1 "$t" "$r" wire "$(kv "$o" bytes_per_event)"
	put 1 "$t" "$r" p50 "$(kv "$o" p50_us)"
	put 1 "$t" "$r" p99 "$(kv "$o" p99_us)"
	put 1 "$t" "$r" missing "$(kv "$o" missing)"
	put 1 "$t" "$r" dups "$(kv "$o" dups)"
	put 1 "$t" "$r" reconnects "$(kv "$o" reconnects)"
}

run_s2() {
	local t=$1 r=$2 d=$3 o
	srv_start "$t" "$d" -m blast -n "$S2_EVENTS" -c "$S2_SUBS" || return 1
	cpu_mark "$t"
	o=$d/client
	client_bg "$o" -c "$S2_SUBS" -n "$S2_EVENTS" -d "$S2_DEADLINE" -R \
	    -u "$(live_path "$t" s2)" $(id_check "$t") $(ws_flag "$t")
	if ! wait_file "$o.ready" 20; then
		echo "bench: s2 $t: subscribers did not attach" >&2
		stop_pid "$CLIENT_PID"
	elif [ "$t" != baseline ]; then
		publish "$d/pub" -r 0 -n "$S2_EVENTS" -c 16 -D 8 \
		    -d "$S2_DEADLINE" $(pub_args "$t" s2)
		put 2 "$t" "$r" published "$(kv "$d/pub" rate)"
	fi
	client_wait
	cpu_put 2 "$t" "$r"
	srv_stop
	check_deadline "$o" "$S2_SUBS"
	put 2 "$t" "$r" delivered "$(kv "$o" rate)"
	put 2 "$t" "$r" per_chunk "$(per_chunk "$o")"
	put 2 "$t" "$r" wire "$(kv "$o" bytes_per_event)"
	if [ "$t" != baseline ]; then	# its events are stamped before
		put 2 "$t" "$r" p50 "$(kv "$o" p50_us)"
		put 2 "$t" "$r" p99 "$(kv "$o" p99_us)"
	fi
	put 2 "$t" "$r" missing "$(kv "$o" missing)"
	put 2 "$t" "$r" dups "$(kv "$o" dups)"
	put 2 "$t" "$r" reconnects "$(kv "$o" reconnects)"
}

run_s3() {
	local t=$1 r=$2 d=$3 o b0 p0 b1 p1
	srv_start "$t" "$d" -m blast -n 0 || return 1
	sleep 0.5
	b0=$(rss_backend "$t") p0=$(rss_proxy "$t")
	o=$d/client
	client_bg "$o" -c "$S3_SUBS" -d 60 -m 512 -u "$(live_path "$t" s3)" \
	    $(ws_flag "$t")
	if wait_file "$o.ready" 40; then
		sleep 2
		b1=$(rss_backend "$t") p1=$(rss_proxy "$t")
		put 3 "$t" "$r" backend $(( (b1 - b0) * 1024 / S3_SUBS ))
		if is_ssr "$t"; then
			put 3 "$t" "$r" proxy $(( (p1 - p0) * 1024 / S3_SUBS ))
			put 3 "$t" "$r" total \
			    $(( (b1 - b0 + p1 - p0) * 1024 / S3_SUBS ))
		else
			put 3 "$t" "$r" total $(( (b1 - b0) * 1024 / S3_SUBS ))
		fi
	else
		echo "bench: s3 $t: only $(cat "$o.ready" 2>/dev/null) of" \
		    "$S3_SUBS subscribers attached in 40 s" >&2
	fi
	stop_pid "$CLIENT_PID"
	CLIENT_PID=
	put 3 "$t" "$r" attached "$(kv "$o" ready)"
	put 3 "$t" "$r" attach_s "$(kv "$o" ready_s)"
	srv_stop
}

# Scenario 4 needs 1,000,000 events in the log before the runs.
# ssereplay: `ssereplay publish --lines` (default) appends them in batches,
# while BENCH_FILL=http publishes them through lighttpd (slower; same log).
# nchan: published through HTTP at 30,000/s (33 s): nchan's message ids are
# <time>:<n>, and with more per second its replay skips messages ("Missed
# message for eventsource subscriber: previous message id tags don't match").
s4_prepare() {	# target dir
	local t=$1 d=$2 us
	case $t in
	ssereplay|ssereplay-ws)
		if [ "${BENCH_FILL:-cli}" = http ]; then
			ssr_start "$d" --retention-max-events 0 || return 1
			progress "s4 $t: publishing $(num $S4_EVENTS) events over HTTP"
			publish "$d/fill" -r 0 -n "$S4_EVENTS" -c 16 -D 8 -d 600 \
			    $(pub_args "$t" replay)
			note "ssereplay's replay log was filled over HTTP:" \
			    "$(kv "$d/fill" rate) publishes/s."
			return 0
		fi
		mkdir -p "$d"
		us=$(date +%s%6N)
		progress "s4 $t: filling the log with $(num $S4_EVENTS) events (ssereplay publish --lines)"
		# One event per line, committed in batches by the backend's own
		# code: the same log a server would have written.
		awk -v n="$S4_EVENTS" -v us="$us" \
		    'BEGIN { for (i = 1; i <= n; i++) print "0 " i " " us }' |
		    "$SSR" publish --db "$d/events.db" --topic replay \
		    --lines > "$d/fill" 2>&1 || {
			echo "bench: s4 fill: $(cat "$d/fill")" >&2; return 1; }
		ssr_start "$d" --retention-max-events 0 || return 1
		;;
	jetstream)
		mkdir -p "$d"
		JS_N=$((JS_N + 1))
		us=$(date +%s%6N)
		progress "s4 $t: filling stream BENCH$JS_N with $(num $S4_EVENTS) events (ssereplay publish --lines)"
		awk -v n="$S4_EVENTS" -v us="$us" \
		    'BEGIN { for (i = 1; i <= n; i++) print "0 " i " " us }' |
		    "$SSR" publish --log "jetstream:$NATS_URLS" \
		    --nats-stream "BENCH$JS_N" --nats-subject "b$JS_N" \
		    --nats-replicas 3 --topic replay \
		    --lines > "$d/fill" 2>&1 || {
			echo "bench: s4 fill: $(cat "$d/fill")" >&2; return 1; }
		note "JetStream's replay stream was filled by \`ssereplay" \
		    "publish --lines\` in" \
		    "$(( ($(date +%s%6N) - us) / 1000000 )) s (groups of 4,096" \
		    "acknowledged by a 3-replica stream)."
		ssr_start "$d" $(js_flags "$JS_N") || return 1
		;;
	nchan)
		srv_start nchan "$d" || return 1
		progress "s4 $t: publishing $(num $S4_EVENTS) events (30,000/s)"
		publish "$d/fill" -r 30000 -n "$S4_EVENTS" -c 4 -D 64 -d 60 \
		    $(pub_args "$t" replay)
		[ "$(kv "$d/fill" ok)" = "$S4_EVENTS" ] || {
			echo "bench: nchan fill: $(cat "$d/fill")" >&2; return 1; }
		;;
	baseline)
		srv_start baseline "$d" -m blast -n "$S4_EVENTS" || return 1
		;;
	esac
}

run_s4() {
	local t=$1 r=$2 d=$3 o dl=$S4_DEADLINE t0 tl ev
	[ "$t" = nchan ] && dl=$S4_DEADLINE_NCHAN
	o=$d/client.$r
	cpu_mark "$t"
	client_bg "$o" -c 1 -n "$S4_EVENTS" -d "$dl" -R \
	    -u "$(replay_path "$t" replay)" $(id_check "$t") $(ws_flag "$t")
	client_wait
	cpu_put 4 "$t" "$r"
	check_deadline "$o" 1
	t0=$(kv "$o" t_start_us) tl=$(kv "$o" t_last_us) ev=$(kv "$o" events)
	if [ -n "$HIT_DEADLINE" ]; then
		# not finished: the rate over the whole deadline
		put 4 "$t" "$r" replay "$(awk -v e="$ev" \
		    -v s="$(kv "$o" elapsed_s)" 'BEGIN { print e / s }')"
	elif [ -n "$tl" ] && [ "${tl:-0}" -gt "${t0:-0}" ]; then
		put 4 "$t" "$r" replay $(( ev * 1000000 / (tl - t0) ))
	fi
	put 4 "$t" "$r" received "$ev"
	put 4 "$t" "$r" missing "$(kv "$o" missing)"
	put 4 "$t" "$r" dups "$(kv "$o" dups)"
}

run_s5() {
	local t=$1 r=$2 d=$3 o
	srv_start "$t" "$d" -m hub || return 1
	cpu_mark "$t"
	o=$d/client
	client_bg "$o" -c "$S5_SUBS" -d $((S5_SECONDS + 30)) -R \
	    -u "$(live_path "$t" s5)" $(id_check "$t") $(ws_flag "$t")
	if wait_file "$o.ready" 20; then
		publish "$d/pub" -r 0 -n 100000000 -c "$S5_PUBS" -D 1 \
		    -d "$S5_SECONDS" $(pub_args "$t" s5)
		sleep 1
	else
		echo "bench: s5 $t: subscribers did not attach" >&2
	fi
	stop_pid "$CLIENT_PID"
	CLIENT_PID=
	cpu_put 5 "$t" "$r"
	srv_stop
	put 5 "$t" "$r" publishes "$(kv "$d/pub" rate)"
	put 5 "$t" "$r" pub_p50 "$(kv "$d/pub" p50_us)"
	put 5 "$t" "$r" pub_p99 "$(kv "$d/pub" p99_us)"
	put 5 "$t" "$r" delivered "$(kv "$o" rate)"
	put 5 "$t" "$r" per_chunk "$(per_chunk "$o")"
	put 5 "$t" "$r" gaps "$(kv "$o" gaps)"
	put 5 "$t" "$r" dups "$(kv "$o" dups)"
}

run_s6() {
	local t=$1 r=$2 d=$3 o start last
	srv_start "$t" "$d" -m blast -n "$S6_EVENTS" -c "$S6_SUBS" || return 1
	cpu_mark "$t"
	o=$d/client
	client_bg "$o" -c "$S6_SUBS" -n "$S6_EVENTS" -P "$S6_DROP" -R \
	    -d "$S6_DEADLINE" -u "$(live_path "$t" s6)" $(id_check "$t") \
	    $(ws_flag "$t")
	if ! wait_file "$o.ready" 20; then
		echo "bench: s6 $t: subscribers did not attach" >&2
		stop_pid "$CLIENT_PID"
	elif [ "$t" != baseline ]; then
		publish "$d/pub" -r 0 -n "$S6_EVENTS" -c 16 -D 8 \
		    -d "$S6_DEADLINE" $(pub_args "$t" s6)
	fi
	client_wait
	cpu_put 6 "$t" "$r"
	srv_stop
	start=$(kv "$d/pub" t_first_us)
	[ -z "$start" ] && start=$(kv "$o" t_first_us)
	last=$(kv "$o" t_last_us)
	check_deadline "$o" "$S6_SUBS"
	if [ -z "$HIT_DEADLINE" ] && [ -n "$start" ]; then
		put 6 "$t" "$r" finish $(( last - start ))
	else
		put 6 "$t" "$r" finish ""
		put 6 "$t" "$r" unfinished 1
	fi
	put 6 "$t" "$r" missing "$(kv "$o" missing)"
	put 6 "$t" "$r" dups "$(kv "$o" dups)"
	put 6 "$t" "$r" id_gaps "$(kv "$o" id_gaps)"
	put 6 "$t" "$r" reconnects "$(kv "$o" reconnects)"
}

# ---- the run ----------------------------------------------------------------
for tool in loadclient publisher baseline; do
	[ -x "$TOOLS/$tool" ] || { echo "bench: build first (make -C" \
	    "tests/bench tools)" >&2; exit 1; }
done
ACTIVE=()
for t in $TARGETS; do
	case $t in
	ssereplay|ssereplay-ws)
		if [ ! -x "$SSR" ]; then
			note "$t: not run: $SSR is not built."
			continue
		fi
		command -v lighttpd > /dev/null || {
			note "$t: not run: lighttpd is not installed."
			continue; } ;;
	nchan)
		if [ ! -x /usr/sbin/nginx ] ||
		    [ ! -f /usr/lib/nginx/modules/ngx_nchan_module.so ]; then
			note "nchan: not run: needs nginx-light and" \
			    "libnginx-mod-nchan."
			continue
		fi ;;
	jetstream|jetstream2)
		if ! command -v nats-server > /dev/null; then
			note "$t: not run: needs nats-server."
			continue
		fi
		if [ -z "$NATS_URLS" ]; then
			progress "bench: starting a 3-node NATS cluster"
			nats_start || { note "$t: not run: the NATS cluster" \
			    "did not start."; continue; }
		fi ;;
	baseline) ;;
	*) echo "bench: unknown target $t" >&2; exit 2 ;;
	esac
	ACTIVE+=("$t")
done

if awk -v l="${LOAD0%% *}" 'BEGIN { exit !(l > 0.5) }'; then
	note "The load average was $LOAD0 when the run started: something" \
	    "else was using the CPUs, and the figures are lower and noisier" \
	    "than on an idle machine."
fi
# ssereplay-ws runs only the scenarios of BENCH_WS_SCENARIOS.
runs_in() {	# scenario target
	case $2 in
	ssereplay-ws) [[ " $WS_SCENARIOS " == *" $1 "* ]] ;;
	jetstream) [[ " $JS_SCENARIOS " == *" $1 "* ]] ;;
	jetstream2) [[ " $JS_SCENARIOS " == *" $1 "* ]] && [ "$1" != 4 ] ;;
	*) true ;;
	esac
}
TOTAL=0
for s in $SCENARIOS; do
	for t in "${ACTIVE[@]}"; do
		runs_in "$s" "$t" && TOTAL=$(( TOTAL + RUNS ))
	done
done
progress "bench: ${ACTIVE[*]}; scenarios $SCENARIOS; $RUNS pass(es); $TMP"
[ -z "$IS_TTY" ] || echo >&2

for s in $SCENARIOS; do
	for t in "${ACTIVE[@]}"; do
		runs_in "$s" "$t" || continue
		if [ "$s" = 4 ]; then
			d=$TMP/s4.$t
			if over_time; then
				STEP=$((STEP + RUNS))
				note "scenario 4 $t: skipped (BENCH_MAX_SECONDS)"
				continue
			fi
			if ! s4_prepare "$t" "$d"; then
				srv_stop
				STEP=$((STEP + RUNS))
				note "scenario 4 $t: could not prepare the log"
				continue
			fi
		fi
		for r in $(seq 1 "$RUNS"); do
			STEP=$((STEP + 1))
			if over_time; then
				note "scenario $s $t run $r: skipped" \
				    "(BENCH_MAX_SECONDS=$MAX_SECONDS)"
				continue
			fi
			progress "[$STEP/$TOTAL] scenario $s: $t, pass $r/$RUNS"
			HIT_DEADLINE=
			if [ "$s" = 4 ]; then
				run_s4 "$t" "$r" "$d"
			else
				mkdir -p "$TMP/s$s.$t.$r"
				if ! "run_s$s" "$t" "$r" "$TMP/s$s.$t.$r"; then
					note "scenario $s $t run $r: failed to start"
					srv_stop
				fi
			fi
			if [ -n "$HIT_DEADLINE" ] && [ "$r" -lt "$RUNS" ]; then
				note "Scenario $s, $t: pass $r did not finish by" \
				    "its deadline, so it was not repeated."
				STEP=$((STEP + RUNS - r))
				break
			fi
		done
		[ "$s" = 4 ] && srv_stop
	done
done
progress "done in $(( $(date +%s) - T0 )) s"
[ -z "$IS_TTY" ] || echo >&2

# ---- tables -----------------------------------------------------------------
# agg scenario target metric med|max -> the median (or worst) over the runs
agg() {
	awk -F'\t' -v s="$1" -v t="$2" -v m="$3" -v how="$4" '
	$1 == s && $2 == t && $4 == m { v[n++] = $5 }
	END {
		if (n == 0) exit
		for (i = 0; i < n; i++) for (j = i + 1; j < n; j++)
			if (v[j] + 0 < v[i] + 0) { x = v[i]; v[i] = v[j]; v[j] = x }
		if (how == "max") print v[n - 1]
		else if (n % 2) print v[int(n / 2)]
		else print (v[n / 2 - 1] + v[n / 2]) / 2
	}' "$METRICS"
}
fmt() {	# value kind: int | ms (from us) | s (from us) | sec | B | dec1
	[ -n "$1" ] || { echo "n/a"; return; }
	case $2 in
	int|B) num "$1" ;;
	dec1) awk -v v="$1" 'BEGIN { printf "%.1f", v }' ;;
	ms) awk -v v="$1" 'BEGIN { printf (v < 1000 ? "%.2f" : "%.1f"), v / 1000 }' ;;
	s) awk -v v="$1" 'BEGIN { printf "%.2f", v / 1000000 }' ;;
	sec) awk -v v="$1" 'BEGIN { printf "%.2f", v }' ;;
	esac
}
ratio() {	# ours base
	[ -n "$1" ] && [ -n "$2" ] || { echo "n/a"; return; }
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (b + 0 == 0) { print (a + 0 == 0) ? "=" : "n/a"; exit }
		r = a / b
		printf (r >= 10 || r < 0.1) ? "%.3g×" : "%.2f×", r
	}'
}
has() { for x in "${ACTIVE[@]}"; do [ "$x" = "$1" ] && return 0; done; return 1; }

OUT=$TMP/tables.md
: > "$OUT"
# The tables of the scenarios ssereplay-ws ran get its column (TABLE_WS).
TABLE_WS=
row() {	# scenario metric how kind label target-text [noratio]
	local s=$1 m=$2 how=$3 kind=$4 label=$5 goal=$6 a w b c ra rw rb
	a=$(has ssereplay && agg "$s" ssereplay "$m" "$how")
	w=$([ -n "$TABLE_WS" ] && agg "$s" ssereplay-ws "$m" "$how")
	b=$(has nchan && agg "$s" nchan "$m" "$how")
	c=$(has baseline && agg "$s" baseline "$m" "$how")
	ra=$(ratio "$a" "$c") rw=$(ratio "$w" "$c") rb=$(ratio "$b" "$c")
	[ -n "${7:-}" ] && ra= rw= rb=
	if [ -n "$TABLE_WS" ]; then
		printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
		    "$label" "$(fmt "$a" "$kind")" "$(fmt "$w" "$kind")" \
		    "$(fmt "$b" "$kind")" "$(fmt "$c" "$kind")" \
		    "$ra" "$rw" "$rb" "$goal" >> "$OUT"
	else
		printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$label" \
		    "$(fmt "$a" "$kind")" "$(fmt "$b" "$kind")" \
		    "$(fmt "$c" "$kind")" "$ra" "$rb" "$goal" >> "$OUT"
	fi
}
table() {	# scenario title
	TABLE_WS=
	has ssereplay-ws && runs_in "$1" ssereplay-ws && TABLE_WS=1
	{
		echo
		echo "### $2"
		echo
		if [ -n "$TABLE_WS" ]; then
			echo "| metric | ssereplay SSE (lighttpd) |" \
			    "ssereplay WebSocket (lighttpd) | nchan | baseline |" \
			    "SSE / baseline | WebSocket / baseline |" \
			    "nchan / baseline | target |"
			echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
		else
			echo "| metric | ssereplay (lighttpd) | nchan | baseline |" \
			    "ssereplay / baseline | nchan / baseline | target |"
			echo "|---|---:|---:|---:|---:|---:|---|"
		fi
	} >> "$OUT"
}
# SSE and WebSocket side by side, for the scenarios both ran: the figures
# of their tables again, their ratio, and latency in scenario 2 too.
wsr() {	# scenario metric: WebSocket / SSE
	ratio "$(agg "$1" ssereplay-ws "$2" med)" "$(agg "$1" ssereplay "$2" med)"
}
ws_table() {
	local s t v lab name
	{
		echo
		echo "### SSE vs WebSocket (ssereplay through lighttpd, same run)"
		echo
		echo "| scenario | transport | delivered events/s |" \
		    "delivered / baseline | latency p50 (ms) | latency p99 (ms) |" \
		    "missing (worst pass) | bytes/event on the wire |"
		echo "|---|---|---:|---:|---:|---:|---:|---:|"
	} >> "$OUT"
	for s in $SCENARIOS; do
		runs_in "$s" ssereplay-ws || continue
		case $s in
		1) lab="1: $(num $S1_SUBS) subscribers, $(num $S1_RATE) events/s" ;;
		2) lab="2: $(num $S2_SUBS) subscribers, as fast as possible" ;;
		*) lab=$s ;;
		esac
		for t in ssereplay ssereplay-ws; do
			name=SSE
			[ "$t" = ssereplay-ws ] && name=WebSocket
			v=$(agg "$s" "$t" delivered med)
			printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' \
			    "$lab" "$name" "$(fmt "$v" int)" \
			    "$(ratio "$v" "$(has baseline &&
				agg "$s" baseline delivered med)")" \
			    "$(fmt "$(agg "$s" "$t" p50 med)" ms)" \
			    "$(fmt "$(agg "$s" "$t" p99 med)" ms)" \
			    "$(fmt "$(agg "$s" "$t" missing max)" int)" \
			    "$(fmt "$(agg "$s" "$t" wire med)" dec1)" >> "$OUT"
		done
		printf '| %s | WebSocket / SSE | %s |  | %s | %s |  | %s |\n' \
		    "$lab" "$(wsr "$s" delivered)" "$(wsr "$s" p50)" \
		    "$(wsr "$s" p99)" "$(wsr "$s" wire)" >> "$OUT"
	done
}
# SQLite and JetStream side by side, for the scenarios the JetStream
# targets ran: the same backend behind lighttpd, only the log differs.
js_table() {
	local s t v name lab
	{
		echo
		echo "### SQLite vs JetStream (ssereplay through lighttpd, same run)"
		echo
		echo "| scenario | log | events/s | latency p50 (ms) |" \
		    "latency p99 (ms) | publish p50 / p99 (ms) | missing, dups" \
		    "(worst) | backend CPU s | lighttpd CPU s |" \
		    "nats-server CPU s |"
		echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	} >> "$OUT"
	for s in $SCENARIOS; do
		runs_in "$s" jetstream || runs_in "$s" jetstream2 || continue
		case $s in
		1) lab="1: $(num $S1_SUBS) subscribers, $(num $S1_RATE) events/s (delivered/s)" ;;
		2) lab="2: $(num $S2_SUBS) subscribers, as fast as possible (delivered/s)" ;;
		4) lab="4: replay of $(num $S4_EVENTS) events (events/s)" ;;
		5) lab="5: $S5_PUBS HTTP publishers, $(num $S5_SUBS) subscribers (publishes/s)" ;;
		*) continue ;;
		esac
		for t in ssereplay jetstream jetstream2; do
			has "$t" && runs_in "$s" "$t" || continue
			case $t in
			ssereplay) name="SQLite" ;;
			jetstream) name="JetStream, 1 backend" ;;
			jetstream2) name="JetStream, 2 backends" ;;
			esac
			case $s in
			4) v=$(agg "$s" "$t" replay med) ;;
			5) v=$(agg "$s" "$t" publishes med) ;;
			*) v=$(agg "$s" "$t" delivered med) ;;
			esac
			printf '| %s | %s | %s | %s | %s | %s / %s | %s, %s | %s | %s | %s |\n' \
			    "$lab" "$name" "$(fmt "$v" int)" \
			    "$(fmt "$(agg "$s" "$t" p50 med)" ms)" \
			    "$(fmt "$(agg "$s" "$t" p99 med)" ms)" \
			    "$(fmt "$(agg "$s" "$t" pub_p50 med)" ms)" \
			    "$(fmt "$(agg "$s" "$t" pub_p99 med)" ms)" \
			    "$(fmt "$(agg "$s" "$t" missing max)" int)" \
			    "$(fmt "$(agg "$s" "$t" dups max)" int)" \
			    "$(fmt "$(agg "$s" "$t" cpu_backend med)" sec)" \
			    "$(fmt "$(agg "$s" "$t" cpu_proxy med)" sec)" \
			    "$(fmt "$(agg "$s" "$t" cpu_nats med)" sec)" >> "$OUT"
		done
	done
}
LAST_WS=
if has ssereplay-ws; then
	for s in $SCENARIOS; do runs_in "$s" ssereplay-ws && LAST_WS=$s; done
fi
for s in $SCENARIOS; do
	case $s in
	1) table 1 "1. $(num $S1_SUBS) subscribers, one topic, $(num $S1_RATE) events/s for $(( S1_EVENTS / S1_RATE )) s"
	   row 1 delivered med int "delivered events/s" "all delivered"
	   row 1 pub_rate med int "publishes/s achieved" "$(num $S1_RATE)"
	   row 1 pub_lag max int "publisher behind schedule, max events (worst)" "" -
	   row 1 per_chunk med sec "events per HTTP chunk" "" -
	   row 1 wire med dec1 "bytes/event on the wire (read by the client)" ""
	   row 1 p50 med ms "latency p50 (ms)" ""
	   row 1 p99 med ms "latency p99 (ms)" "< 250"
	   row 1 missing max int "missing after ${S1_DEADLINE} s (worst pass)" "0"
	   row 1 dups max int "duplicates (worst pass)" "0"
	   row 1 reconnects max int "reconnects (worst pass)" "" -
	   row 1 cpu_backend med sec "server CPU s (backend, nginx worker, baseline)" ""
	   row 1 cpu_proxy med sec "lighttpd CPU s" "" ;;
	2) table 2 "2. $(num $S2_SUBS) subscribers, $(num $S2_EVENTS) events published as fast as possible"
	   row 2 delivered med int "delivered events/s" ">= 1,000,000"
	   row 2 published med int "publishes/s (HTTP)" ""
	   row 2 per_chunk med sec "events per HTTP chunk" "" -
	   row 2 wire med dec1 "bytes/event on the wire (read by the client)" ""
	   row 2 missing max int "missing at the ${S2_DEADLINE} s deadline (worst)" "0"
	   row 2 dups max int "duplicates (worst pass)" "0"
	   row 2 reconnects max int "reconnects (worst pass)" "" -
	   row 2 cpu_backend med sec "server CPU s (backend, nginx worker, baseline)" ""
	   row 2 cpu_proxy med sec "lighttpd CPU s" "" ;;
	3) table 3 "3. $(num $S3_SUBS) idle subscribers: RSS per subscriber"
	   row 3 backend med B "backend bytes/subscriber" "<= 1024"
	   row 3 proxy med B "lighttpd bytes/subscriber" ""
	   row 3 total med B "total bytes/subscriber" "<= 6144"
	   row 3 attach_s med sec "time to attach all (s)" "" - ;;
	4) table 4 "4. $(num $S4_EVENTS) events in the log, one client resumes from the start"
	   row 4 replay med int "replayed events/s" ">= 1,000,000"
	   row 4 received med int "events received (deadline ${S4_DEADLINE} s; nchan ${S4_DEADLINE_NCHAN} s)" "$(num $S4_EVENTS)"
	   row 4 missing max int "missing (worst pass)" "0"
	   row 4 dups max int "duplicates (worst pass)" "0" 
	   row 4 cpu_backend med sec "server CPU s (backend, nginx worker, baseline)" ""
	   row 4 cpu_proxy med sec "lighttpd CPU s" "" ;;
	5) table 5 "5. $S5_PUBS concurrent HTTP publishers (1 request in flight each), $(num $S5_SUBS) subscribers, ${S5_SECONDS} s"
	   row 5 publishes med int "acknowledged publishes/s" ">= 10,000"
	   row 5 pub_p50 med ms "publish round trip p50 (ms)" ""
	   row 5 pub_p99 med ms "publish round trip p99 (ms)" ""
	   row 5 delivered med int "delivered events/s" ""
	   row 5 per_chunk med sec "events per HTTP chunk" "" -
	   row 5 gaps max int "gaps seen by subscribers (worst)" "0"
	   row 5 dups max int "duplicates (worst pass)" "0" 
	   row 5 cpu_backend med sec "server CPU s (backend, nginx worker, baseline)" ""
	   row 5 cpu_proxy med sec "lighttpd CPU s" "" ;;
	6) table 6 "6. $S6_SUBS subscribers dropping at random (P = $S6_DROP per event), $(num $S6_EVENTS) events"
	   row 6 finish med s "time to finish (s)" "<= 12"
	   row 6 missing max int "missing (worst pass)" "0 (exactly once)"
	   row 6 dups max int "duplicates (worst pass)" "0 (exactly once)"
	   row 6 id_gaps max int "id gaps (worst pass)" "0"
	   row 6 reconnects med int "reconnects" "" -
	   row 6 unfinished max int "not finished in ${S6_DEADLINE} s" "" -
	   row 6 cpu_backend med sec "server CPU s (backend, nginx worker, baseline)" ""
	   row 6 cpu_proxy med sec "lighttpd CPU s" "" ;;
	esac
	[ "$s" = "$LAST_WS" ] && ws_table
done
if has jetstream || has jetstream2; then
	js_table
fi

MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
CMD="make bench${QUICK:+ QUICK=$QUICK}"
{
	echo "# ssereplay benchmark results"
	echo
	echo "Written by \`$CMD\` (tests/bench/run.sh) on $(date -u '+%Y-%m-%d %H:%M UTC')."
	echo
	echo "- machine: $(nproc) CPUs, ${MODEL:-unknown CPU}, $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
	echo "- os: $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
	echo "- lighttpd: $(lighttpd -v 2>/dev/null | head -1 | awk '{print $1}'); nginx: $(nginx -v 2>&1 | sed 's/.*nginx\///'); nchan: $(dpkg-query -W -f '${Version}' libnginx-mod-nchan 2>/dev/null)"
	if has jetstream || has jetstream2; then
		echo "- nats-server: $(nats-server --version 2>/dev/null | awk '{print $2}') (3 nodes on loopback, JetStream file storage, streams with 3 replicas); nats.c: $(dpkg-query -W -f '${Version}' libnats-dev 2>/dev/null)"
	fi
	echo "- ssereplay: $("$SSR" --version 2>/dev/null | head -1) ($SSR, $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "no commit"))"
	echo "- passes: $RUNS; figures are medians of the passes, counts of faults are the worst pass; $(( $(date +%s) - T0 )) s in all"
	echo "- descriptor limit: $NOFILE; lighttpd server.max-fds $LT_MAXFDS, server.max-connections $LT_MAXCONNS"
	echo "- load average before / after the run: $LOAD0 / $(cut -d' ' -f1-3 /proc/loadavg) (anything else running skews the figures)"
	echo
	echo "All three run on this one machine together with the load client and"
	echo "the publisher (127.0.0.1). The baseline is a bare epoll program that"
	echo "sends the same encoded events over the same sockets (its latency"
	echo "events are stamped when made, its publishes are answered from memory),"
	echo "so it is the ceiling of this machine and this client; a ratio is the"
	echo "server's figure divided by the baseline's (above 1 is worse for"
	echo "latency and memory). ssereplay runs behind lighttpd as \`make demo\`"
	echo "runs it (conf/lighttpd.conf with larger fd limits, conf/ssereplay.conf)."
	echo "nchan: tests/bench/nchan.sh (one worker, EventSource, buffer 1.1 M"
	echo "messages, no expiry); it resumes from Last-Event-ID, its replay"
	echo "scenario uses nchan_subscriber_first_message oldest."
	if has jetstream || has jetstream2; then
		echo "JetStream: the same ssereplay with log = jetstream on a"
		echo "three-node nats-server cluster on this machine (replicas 3);"
		echo "\"2 backends\" publishes through one backend and its lighttpd"
		echo "and subscribes through another, so every event crosses the"
		echo "cluster. Their figures are in the last table, beside SQLite's."
	fi
	if has ssereplay-ws; then
		echo
		echo "ssereplay WebSocket: the same backend, lighttpd and publisher,"
		echo "with the subscribers on \`/ws?topic=T\` (lighttpd mod_proxy with"
		echo "the upgrade header, conf/lighttpd.conf), one unmasked text frame"
		echo "of JSON per event, in scenarios $(echo $WS_SCENARIOS | tr ' ' ,)."
		echo "Bytes/event on the wire: every byte the load client read from its"
		echo "sockets (response head, chunk or frame headers, keepalives,"
		echo "pings) divided by the events it received."
	fi
	cat "$OUT"
	if [ ${#NOTES[@]} -gt 0 ]; then
		echo
		echo "Notes:"
		echo
		for n in "${NOTES[@]}"; do echo "- $n"; done
	fi
	echo
	echo "<details><summary>Every pass (raw units: microseconds, bytes, events/s, CPU seconds)</summary>"
	echo
	echo "| scenario | target | metric | passes |"
	echo "|---|---|---|---|"
	awk -F'\t' '{ k = $1 " | " $2 " | " $4
		if (!(k in c)) { o[n++] = k; c[k] = 1; v[k] = $5 }
		else v[k] = v[k] ", " $5 }
		END { for (i = 0; i < n; i++) print "| " o[i] " | " v[o[i]] " |" }' \
	    "$METRICS"
	echo
	echo "</details>"
} > "$TMP/results.md"
echo
cat "$TMP/results.md"
cp "$TMP/results.md" "$RESULTS"
echo
echo "bench: wrote $RESULTS"
