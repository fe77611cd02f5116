/*
 * check_main.c: ssereplay-check's command line; see check.h and the
 * README ("Checking a deployment: ssereplay-check").
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static void
usage(FILE *f)
{
	fprintf(f,
"usage: ssereplay-check --url URL [--clients N] [--duration S | --events M]\n"
"           [--chaos P] [--publish-url URL [--token T] [--rate R]]\n"
"           [--seq-field KEY|N] [--json] [more options below]\n"
"       ssereplay-check --probe URL [--publish-url URL --token T] [--idle S]\n"
"\n"
"  --url URL            the event stream (http://host[:port]/path?query)\n"
"  --clients N          stream connections (default 1)\n"
"  --duration S         publish (or listen) for S seconds\n"
"  --events M           publish (or expect) M events\n"
"  --chaos P            drop a connection with probability P per event\n"
"  --pause MIN:MAX      ms before a dropped connection returns (10:250)\n"
"  --publish-url URL    publish the events ourselves with POST\n"
"  --token T            Authorization: Bearer T for publishing\n"
"  --publish-format F   form (topic=&data=, default), json, raw (body)\n"
"  --topic T            topic for form/json (default: the URL's topic=)\n"
"  --rate R             events per second in total (default: unlimited)\n"
"  --publishers K       publisher connections, one source each (1)\n"
"  --seq-field F        the sequence in the data: JSON key or field\n"
"                       number (default \"seq\")\n"
"  --gap-event TYPE     event type of a signalled gap (default \"gap\")\n"
"  --settle S           give up after S s without progress (10)\n"
"  --connect-wait S     wait at most S s for every stream before\n"
"                       publishing (10)\n"
"  --stall N:AT:FOR     clients 0..N-1 stop reading AT s after publishing\n"
"                       starts, for FOR s (with a small SO_RCVBUF)\n"
"  --offline N:AT:FOR   clients 0..N-1 disconnect AT s after publishing\n"
"                       starts and come back FOR s later\n"
"  --burst-at S         close every stream at once S s after publishing\n"
"                       starts; they reconnect together\n"
"  --seed X             random seed (default: time and pid)\n"
"  --max-event BYTES    largest event data accepted (65536)\n"
"  --pad BYTES          make each published event BYTES longer\n"
"  --show N             rows of the human table (20)\n"
"  --json               one JSON object on stdout\n"
"  --progress / --no-progress   progress line on stderr (default: TTY)\n"
"  --probe URL          check a deployment path (see README)\n"
"  --idle S             probe: seconds of silence to watch (20)\n"
"  --probe-events N     probe: events to publish (6)\n"
"  --probe-interval S   probe: seconds between them (0.5)\n"
"\n"
"Exit status: 0 every client saw every event exactly once and in order\n"
"(or the server signalled the gap) / the probe found no problem; 1 not so;\n"
"2 usage or setup error.\n");
}

static int
num(const char *s, double lo, double hi, double *out)
{
	char	*end;
	double	 v = strtod(s, &end);

	if (*s == '\0' || *end != '\0' || !(v >= lo && v <= hi)) {
		fprintf(stderr, "ssereplay-check: bad number %s\n", s);
		return -1;
	}
	*out = v;
	return 0;
}

int
main(int argc, char *argv[])
{
	enum { O_URL = 256, O_CLIENTS, O_DURATION, O_EVENTS, O_CHAOS,
	    O_PAUSE, O_PUBURL, O_TOKEN, O_PUBFMT, O_TOPIC, O_RATE, O_PUBS,
	    O_SEQ, O_GAP, O_SETTLE, O_CWAIT, O_STALL, O_BURST, O_SEED,
	    O_MAXEV, O_SHOW, O_JSON, O_PROG, O_NOPROG, O_PROBE, O_IDLE,
	    O_PEVENTS, O_PINT, O_PAD, O_OFFLINE, O_HELP };
	static const struct option opts[] = {
		{ "url", 1, NULL, O_URL }, { "clients", 1, NULL, O_CLIENTS },
		{ "duration", 1, NULL, O_DURATION },
		{ "events", 1, NULL, O_EVENTS }, { "chaos", 1, NULL, O_CHAOS },
		{ "pause", 1, NULL, O_PAUSE },
		{ "publish-url", 1, NULL, O_PUBURL },
		{ "token", 1, NULL, O_TOKEN },
		{ "publish-format", 1, NULL, O_PUBFMT },
		{ "topic", 1, NULL, O_TOPIC }, { "rate", 1, NULL, O_RATE },
		{ "publishers", 1, NULL, O_PUBS },
		{ "seq-field", 1, NULL, O_SEQ },
		{ "gap-event", 1, NULL, O_GAP },
		{ "settle", 1, NULL, O_SETTLE },
		{ "connect-wait", 1, NULL, O_CWAIT },
		{ "stall", 1, NULL, O_STALL },
		{ "burst-at", 1, NULL, O_BURST }, { "seed", 1, NULL, O_SEED },
		{ "max-event", 1, NULL, O_MAXEV }, { "show", 1, NULL, O_SHOW },
		{ "json", 0, NULL, O_JSON }, { "progress", 0, NULL, O_PROG },
		{ "no-progress", 0, NULL, O_NOPROG },
		{ "probe", 1, NULL, O_PROBE }, { "idle", 1, NULL, O_IDLE },
		{ "probe-events", 1, NULL, O_PEVENTS },
		{ "probe-interval", 1, NULL, O_PINT },
		{ "pad", 1, NULL, O_PAD },
		{ "offline", 1, NULL, O_OFFLINE },
		{ "help", 0, NULL, O_HELP },
		{ NULL, 0, NULL, 0 }
	};
	struct check_opts o;
	double		 v, a, b, c;
	int		 ch, probe = 0;
	char		*end;

	check_defaults(&o);
	o.seed = (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid();
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case O_URL: o.url = optarg; break;
		case O_PROBE: o.url = optarg; probe = 1; break;
		case O_CLIENTS:
			if (num(optarg, 1, CHECK_CLIENTS_MAX, &v) < 0)
				return 2;
			o.clients = (unsigned)v;
			break;
		case O_DURATION:
			if (num(optarg, 0.1, 86400, &o.duration) < 0)
				return 2;
			break;
		case O_EVENTS:
			if (num(optarg, 1, 1e9, &v) < 0)
				return 2;
			o.events = (uint64_t)v;
			break;
		case O_CHAOS:
			if (num(optarg, 0, 1, &o.chaos) < 0)
				return 2;
			break;
		case O_PAUSE:
			if (sscanf(optarg, "%lf:%lf", &a, &b) != 2 || a < 0 ||
			    b < a || b > 600000) {
				fprintf(stderr, "ssereplay-check: --pause "
				    "MIN:MAX in ms\n");
				return 2;
			}
			o.pause_min = a;
			o.pause_max = b;
			break;
		case O_PUBURL: o.publish_url = optarg; break;
		case O_TOKEN:
			if (strlen(optarg) > CHECK_TOKEN_MAX) {
				fprintf(stderr, "ssereplay-check: token too "
				    "long\n");
				return 2;
			}
			o.token = optarg;
			break;
		case O_PUBFMT:
			if (strcmp(optarg, "form") && strcmp(optarg, "json") &&
			    strcmp(optarg, "raw")) {
				fprintf(stderr, "ssereplay-check: "
				    "--publish-format form, json or raw\n");
				return 2;
			}
			o.publish_format = optarg;
			break;
		case O_TOPIC:
			if (strlen(optarg) > 128) {
				fprintf(stderr, "ssereplay-check: topic too "
				    "long\n");
				return 2;
			}
			o.topic = optarg;
			break;
		case O_RATE:
			if (num(optarg, 0, 1e7, &o.rate) < 0)
				return 2;
			break;
		case O_PUBS:
			if (num(optarg, 1, CHECK_PUBLISHERS_MAX, &v) < 0)
				return 2;
			o.publishers = (unsigned)v;
			break;
		case O_SEQ:
			if (*optarg == '\0' || strlen(optarg) > 64 ||
			    strpbrk(optarg, "\"\\")) {
				fprintf(stderr, "ssereplay-check: bad "
				    "--seq-field\n");
				return 2;
			}
			o.seq_field = optarg;
			break;
		case O_GAP: o.gap_event = optarg; break;
		case O_SETTLE:
			if (num(optarg, 0.1, 3600, &o.settle) < 0)
				return 2;
			break;
		case O_CWAIT:
			if (num(optarg, 0, 3600, &o.connect_wait) < 0)
				return 2;
			break;
		case O_OFFLINE:
			o.stall_offline = 1;
			/* FALLTHROUGH */
		case O_STALL:
			if (sscanf(optarg, "%lf:%lf:%lf", &a, &b, &c) != 3 ||
			    a < 1 || a > CHECK_CLIENTS_MAX || b < 0 || c <= 0) {
				fprintf(stderr, "ssereplay-check: --stall "
				    "N:AT:FOR\n");
				return 2;
			}
			o.stall_n = (unsigned)a;
			o.stall_at = b;
			o.stall_for = c;
			break;
		case O_BURST:
			if (num(optarg, 0, 86400, &o.burst_at) < 0)
				return 2;
			break;
		case O_SEED:
			o.seed = strtoull(optarg, &end, 0);
			if (*optarg == '\0' || *end != '\0') {
				fprintf(stderr, "ssereplay-check: bad seed\n");
				return 2;
			}
			break;
		case O_MAXEV:
			if (num(optarg, 64, 16 * 1024 * 1024, &v) < 0)
				return 2;
			o.max_event = (size_t)v;
			break;
		case O_SHOW:
			if (num(optarg, 0, CHECK_CLIENTS_MAX, &v) < 0)
				return 2;
			o.show_clients = (unsigned)v;
			break;
		case O_PAD:
			if (num(optarg, 0, CHECK_PAD_MAX, &v) < 0)
				return 2;
			o.pad = (size_t)v;
			break;
		case O_JSON: o.json = 1; break;
		case O_PROG: o.progress = 1; break;
		case O_NOPROG: o.progress = 0; break;
		case O_IDLE:
			if (num(optarg, 0.5, 3600, &o.idle) < 0)
				return 2;
			break;
		case O_PEVENTS:
			if (num(optarg, 2, 64, &v) < 0)
				return 2;
			o.probe_events = (unsigned)v;
			break;
		case O_PINT:
			if (num(optarg, 0.05, 60, &o.probe_interval) < 0)
				return 2;
			break;
		case O_HELP:
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || o.url == NULL) {
		usage(stderr);
		return 2;
	}
	if (probe)
		return check_probe(&o);
	if (o.publish_url == NULL && o.duration == 0 && o.events == 0) {
		fprintf(stderr, "ssereplay-check: without --publish-url, give "
		    "--duration or --events\n");
		return 2;
	}
	if (o.publish_url != NULL && o.duration == 0 && o.events == 0)
		o.events = 1000;
	return check_run(&o);
}
