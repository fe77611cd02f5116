/*
 * cgi.h: one request as plain CGI (RFC 3875), one process per request, for
 * web servers that run ssereplay with mod_cgi. Short requests are answered
 * from the environment and stdin. A stream replays and then follows the log
 * by itself (polling it every POLL_INTERVAL_MS, as for another process's
 * appends), until its stdout closes.
 */
#ifndef SSEREPLAY_CGI_H
#define SSEREPLAY_CGI_H

#include "config.h"

/* Serve the request described by the environment. Returns the exit status. */
int cgi_run(const struct config *cfg);

#endif
