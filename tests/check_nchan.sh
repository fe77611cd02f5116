#!/bin/sh
# check_nchan.sh: ssereplay-check against a server we did not write:
# nginx + Debian's nchan module, started by tests/bench/nchan.sh (its
# settings: one worker, messages never expire, buffer of NCHAN_BUFFER
# messages). The tool publishes raw bodies to /publish?topic=T, carrying
# its sequence number in the data ({"src":..,"seq":N,...}), and reads
# /events?topic=T, whose ids are nchan's own (opaque to the tool).
#
#   sh tests/check_nchan.sh [CHECK_ARGS...]   (default: 20 clients, 2000
#                                              events, chaos 0.01)
# Needs nginx-light and libnginx-mod-nchan (sh tests/deps.sh nginx-light
# libnginx-mod-nchan). Prints the tool's report; exits with its status.
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=${CHECK_BIN:-$here/../backend/.obj/ssereplay-check}
dir=$(mktemp -d "${TMPDIR:-/tmp}/ssereplay-nchan.XXXXXX")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
trap 'bash "$here/bench/nchan.sh" stop "$dir"; rm -rf "$dir"' EXIT INT TERM
NCHAN_BUFFER=${NCHAN_BUFFER:-100000} NCHAN_SHM=${NCHAN_SHM:-64m} \
	bash "$here/bench/nchan.sh" start "$dir" "$port" >/dev/null || exit 2
[ $# -gt 0 ] || set -- --clients 20 --events 2000 --chaos 0.01 --rate 1000
"$bin" --url "http://127.0.0.1:$port/events?topic=check" \
	--publish-url "http://127.0.0.1:$port/publish?topic=check" \
	--publish-format raw --seq-field seq --no-progress "$@"
