/*
 * cli.h: the command-line tools beside the server.
 *
 *   ssereplay publish LOG --topic T [--event TYPE] [DATA | - | --lines]
 *       Append one event (data from the argument, or stdin with "-") and
 *       print its id; or, with --lines, one event per line of stdin,
 *       committed in batches (a bulk import), and print the id range.
 *       A running server delivers them within POLL_INTERVAL_MS.
 *   ssereplay tail LOG [--topic T] [--after ID] [--follow]
 *       Print the log as SSE text, optionally waiting for new events.
 *   ssereplay token --user U --topics P[,P...] [--ttl 1h] [--config FILE]
 *       Mint an access token (auth.h) with the config's token_key (or
 *       SSEREPLAY_TOKEN_KEY), for tests and sites without their own code.
 *
 *   ssereplay migrate --from sqlite:FILE --to jetstream:URL[,URL...]
 *           [--config FILE] [--nats-stream S] [--nats-subject P] ...
 *       Copy an SQLite log into a (new or empty) JetStream stream with the
 *       same ids: the stream's epoch is pinned to the log's and its
 *       sequence numbers continue from the log's first retained event.
 *
 * publish and tail name their log with --db FILE (SQLite), --log
 * sqlite:FILE | jetstream:URL[,URL...], or --config FILE (its log, db and
 * nats_* keys); --nats-KEY VALUE sets any nats_* key.
 *
 * Each takes argv after the command name and returns the exit status; they
 * print their own errors.
 */
#ifndef SSEREPLAY_CLI_H
#define SSEREPLAY_CLI_H

int cli_publish(int argc, char **argv);
int cli_tail(int argc, char **argv);
int cli_token(int argc, char **argv);
int cli_migrate(int argc, char **argv);

#endif
