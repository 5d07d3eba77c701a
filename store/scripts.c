/* scripts.c -- the store's Lua script registry: registration, SCRIPT LOAD answers,
 * and the one-time EVAL retry of an EVALSHA answered NOSCRIPT. */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

/* SCRIPT LOAD answers the sha1. An "ERR ..." answer (the script does not
 * compile) is the script's own fault: it is logged, and calls to it are sent
 * as EVAL, so that callers get Redis' error as their reply while every other
 * script works. Any other error (NOAUTH, LOADING, BUSY, NOPERM ...) concerns
 * the connection: retry it later. */
void sc__on_script_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct st_script *s = privdata;
    struct sc_store *st = s->st;
    redisReply *r = reply;
    char q[256];
    if (ac != st->ac || !r)
        return;
    if (r->type == REDIS_REPLY_STRING && r->len == 40) {
        memcpy(s->sha, r->str, 40);
        s->sha[40] = '\0';
    } else if (sc__is_error(r) && r->len >= 3 && memcmp(r->str, "ERR", 3) == 0) {
        s->sha[0] = '\0';
        ST_LOG(SC_LOG_ERROR, st, "redis_script_failed", " script=%s error=%s", s->name,
               sc_log_quote(q, sizeof q, r->str, r->len));
    } else if (sc__is_error(r)) {
        sc__handshake_failed(st, "redis_handshake_failed", r);
        return;
    } else {
        s->sha[0] = '\0';
        ST_LOG(SC_LOG_ERROR, st, "redis_script_failed", " script=%s error=%s", s->name,
               "\"unexpected reply to SCRIPT LOAD\"");
    }
    sc__hs_step(st);
}


int sc_store_script(struct sc_store *st, const char *name, const char *lua)
{
    if (!name || !lua || !*lua)
        return SC_EINVAL;
    if (st->state != ST_IDLE)
        return SC_ESTATE;
    if (st->nscripts == st->scripts_cap) {
        int cap = st->scripts_cap ? st->scripts_cap * 2 : 8;
        struct st_script *s = realloc(st->scripts, (size_t)cap * sizeof *s);
        if (!s)
            return SC_ENOMEM;
        st->scripts = s;
        st->scripts_cap = cap;
    }
    struct st_script *s = &st->scripts[st->nscripts];
    memset(s, 0, sizeof *s);
    s->st = st;
    s->name = strdup(name);
    s->lualen = strlen(lua);
    s->lua = malloc(s->lualen + 1);
    if (!s->name || !s->lua) {
        free(s->name);
        free(s->lua);
        return SC_ENOMEM;
    }
    memcpy(s->lua, lua, s->lualen + 1);
    return st->nscripts++;
}
