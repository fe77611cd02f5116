#!/bin/bash
# nchan.sh: the peer of `make bench`: nginx with Debian's nchan module
# (libnginx-mod-nchan) on loopback, with its own config in a temp directory.
#
#   nchan.sh start DIR PORT   write DIR/nginx.conf, start nginx, wait until
#                             it answers; prints the master PID
#   nchan.sh stop DIR         stop it (by the PID in DIR/nginx.pid) and wait
#   nchan.sh pids DIR         the worker PIDs (for RSS)
#
# The channel is the equivalent of one ssereplay topic:
#   GET  /events?topic=T   EventSource subscriber, live only (newest); resumes
#                          from a Last-Event-ID header like a browser
#   GET  /replay?topic=T   the same, starting at the oldest buffered message
#                          (ssereplay's lastEventId=0)
#   POST /publish?topic=T  the body is the message (201/202)
# Messages never expire and the buffer keeps NCHAN_BUFFER of them (default
# 1,100,000: the replay scenario's 1,000,000 fit), in NCHAN_SHM of shared
# memory (default 2048m). NCHAN_WORKERS sets worker_processes (default 1,
# like lighttpd's single process; "auto" = one per core).
set -eu

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || {
	echo "usage: $0 start DIR PORT | stop DIR | pids DIR" >&2; exit 2; }

NGINX=${NGINX:-/usr/sbin/nginx}
MODULE=${NCHAN_MODULE:-/usr/lib/nginx/modules/ngx_nchan_module.so}

wait_port() {	# port seconds
	local i
	for i in $(seq 1 $(( $2 * 20 ))); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}

case $cmd in
start)
	port=${3:?port}
	[ -x "$NGINX" ] && [ -f "$MODULE" ] || {
		echo "nchan.sh: needs nginx and libnginx-mod-nchan" \
		    "(apt-get install nginx-light libnginx-mod-nchan)" >&2
		exit 1; }
	mkdir -p "$dir/tmp"
	chmod 777 "$dir/tmp"
	buf=${NCHAN_BUFFER:-1100000}
	nofile=${NCHAN_NOFILE:-$(ulimit -Hn)}
	conns=$(( nofile < 65536 ? nofile : 65536 ))
	cat > "$dir/nginx.conf" <<EOF
load_module $MODULE;
worker_processes ${NCHAN_WORKERS:-1};
worker_rlimit_nofile $nofile;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events {
    worker_connections $conns;
    multi_accept on;
}
http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    keepalive_requests 65535;
    keepalive_timeout 60s;
    nchan_shared_memory_size ${NCHAN_SHM:-2048m};
    server {
        listen 127.0.0.1:$port backlog=4096;
        location = /events {
            nchan_subscriber eventsource;
            nchan_channel_id \$arg_topic;
            nchan_subscriber_first_message newest;
            nchan_message_buffer_length $buf;
            nchan_message_timeout 0;
        }
        location = /replay {
            nchan_subscriber eventsource;
            nchan_channel_id \$arg_topic;
            nchan_subscriber_first_message oldest;
            nchan_message_buffer_length $buf;
            nchan_message_timeout 0;
        }
        location = /publish {
            nchan_publisher;
            nchan_channel_id \$arg_topic;
            nchan_message_buffer_length $buf;
            nchan_message_timeout 0;
        }
    }
}
EOF
	"$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
	if ! wait_port "$port" 10; then
		echo "nchan.sh: nginx did not come up on $port:" >&2
		tail -5 "$dir/error.log" >&2
		exit 1
	fi
	cat "$dir/nginx.pid"
	;;
stop)
	[ -f "$dir/nginx.pid" ] || exit 0
	pid=$(cat "$dir/nginx.pid")
	kill -TERM "$pid" 2>/dev/null || exit 0
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || exit 0
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null || true
	;;
pids)
	[ -f "$dir/nginx.pid" ] || exit 1
	ps -o pid= --ppid "$(cat "$dir/nginx.pid")" | tr -d ' '
	;;
*)
	echo "usage: $0 start DIR PORT | stop DIR | pids DIR" >&2
	exit 2
	;;
esac
