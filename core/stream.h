/* stream.h -- what the daemon's two stream consumers (core/orders.c on
 * vas:orders, core/push.c on mt:push) share: reading hiredis replies and
 * naming the consumer. Internal to core/. */
#ifndef SC_CORE_STREAM_H
#define SC_CORE_STREAM_H

#include <stddef.h>

struct redisReply;

/* Element i of an array reply when it is a string, else NULL (borrowed). */
const char *sc__reply_str(const struct redisReply *r, size_t i);

/* The consumer name in group shortcoded, unique among the daemons sharing
 * it: HOSTNAME-PID (a dead daemon's entries are claimed by the others). */
void sc__stream_consumer(char *out, size_t outsz);

#endif
