/* stream.h -- what the daemon's stream consumers (core/orders.c on
 * vas:orders, core/push.c on mt:push, core/usage.c on usage:in) share:
 * reading hiredis replies, naming the consumer, their own connections.
 * Internal to core/. */
#ifndef SC_CORE_STREAM_H
#define SC_CORE_STREAM_H

#include <stddef.h>
#include <stdint.h>

struct redisReply;

/* Element i of an array reply when it is a string, else NULL (borrowed). */
const char *sc__reply_str(const struct redisReply *r, size_t i);

/* The consumer name in group shortcoded, unique among the daemons sharing
 * it: HOSTNAME-PID (a dead daemon's entries are claimed by the others). */
void sc__stream_consumer(char *out, size_t outsz);

/* A Redis connection of a consumer's own to a->boot_cfg's server (named
 * name in its log lines: borrowed, must outlive it), its command timeout
 * redis.command_timeout_ms + extra_ms (a blocking read's BLOCK), at most
 * max_pending commands in flight. Not started. NULL with err. */
struct sc_app;
struct sc_store *sc__stream_store(struct sc_app *a, const char *name, uint32_t extra_ms,
                                  unsigned max_pending, char *err, size_t errsz);

#endif
