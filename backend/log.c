/* log.c: see log.h. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "log.h"

static enum log_level log_threshold = LOG_INFO;

void
log_set_level(enum log_level level)
{
	log_threshold = level;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char		 line[1024], stamp[32];
	struct timespec	 ts;
	struct tm	 tm;
	va_list		 ap;

	if (level > log_threshold)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One call, so lines from several threads do not interleave. */
	fprintf(stderr, "%s.%03ldZ ssereplay %s: %s\n", stamp,
	    ts.tv_nsec / 1000000, names[level], line);
}
