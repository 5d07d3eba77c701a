/* stream.c -- helpers of the daemon's stream consumers (core/stream.h). */
#include "core/stream.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <unistd.h>

const char *sc__reply_str(const struct redisReply *r, size_t i)
{
    return r && r->type == REDIS_REPLY_ARRAY && i < r->elements &&
                   r->element[i]->type == REDIS_REPLY_STRING
               ? r->element[i]->str
               : NULL;
}

void sc__stream_consumer(char *out, size_t outsz)
{
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    snprintf(out, outsz, "%s-%ld", host[0] ? host : "shortcoded", (long)getpid());
}
