/* stream.c -- helpers of the daemon's stream consumers (core/stream.h). */
#include "core/stream.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <unistd.h>

#include "core/app.h"

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

struct sc_store *sc__stream_store(struct sc_app *a, const char *name, uint32_t extra_ms,
                                  unsigned max_pending, char *err, size_t errsz)
{
    const struct sc_config *cfg = a->boot_cfg;
    struct sc_store_opts so = {
        .url = cfg->redis.url,
        .connect_timeout_ms = (uint32_t)cfg->redis.connect_timeout_ms,
        .command_timeout_ms = (uint32_t)cfg->redis.command_timeout_ms + extra_ms,
        .reconnect_min_ms = 100,
        .reconnect_max_ms = 5000,
        .max_pending = max_pending,
        .durability = cfg->redis.durability == SC_CFG_DURABILITY_WARN ? SC_DURABILITY_WARN
                                                                      : SC_DURABILITY_REFUSE,
        .name = name,
    };
    return sc_store_new(a->loop, &so, err, errsz);
}
