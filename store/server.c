/* server.c -- what the server says of itself (INFO, CONFIG GET) and the durability
 * judgement made from it at the end of each handshake. */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The value of "name:" in an INFO text, copied into out ("" if absent). */
static void info_field(const redisReply *r, const char *name, char *out, size_t outsz)
{
    size_t nl = strlen(name);
    out[0] = '\0';
    for (const char *p = r->str, *end = r->str + r->len; p < end;) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        size_t len = (size_t)(eol - p);
        if (len && p[len - 1] == '\r')
            len--;
        if (len > nl && memcmp(p, name, nl) == 0 && p[nl] == ':') {
            size_t n = SC_MIN(len - nl - 1, outsz - 1);
            memcpy(out, p + nl + 1, n);
            out[n] = '\0';
            return;
        }
        p = eol + 1;
    }
}

/* INFO: run_id, aof_enabled and "dbN:keys=K,..." (absent: the db is empty).
 * A refusal (INFO renamed away) only leaves them unknown. */
void sc__on_info_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct sc_store *st = privdata;
    redisReply *r = reply;
    char v[64], db[16];
    if (ac != st->ac || !r)
        return;
    if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) {
        info_field(r, "run_id", st->hs.run_id, sizeof st->hs.run_id);
        info_field(r, "aof_enabled", v, sizeof v);
        st->hs.info_aof = v[0] ? v[0] == '1' : -1;
        info_field(r, "cluster_enabled", v, sizeof v);
        st->hs.cluster = v[0] == '1';
        snprintf(db, sizeof db, "db%u", st->u.db);
        info_field(r, db, v, sizeof v);
        /* The default INFO has a keyspace section, where an empty db has no
         * line; a text without run_id is not a real INFO: keys unknown. */
        if (v[0] && strncmp(v, "keys=", 5) == 0)
            st->hs.keys = strtoll(v + 5, NULL, 10);
        else if (st->hs.run_id[0])
            st->hs.keys = 0;
    } else if (sc__is_error(r)) {
        ST_LOG(SC_LOG_WARN, st, "redis_info_refused", " error=%s",
               sc_log_quote(v, sizeof v, r->str, r->len));
    }
    sc__hs_step(st);
}

/* CONFIG GET append* or save: name/value pairs. A managed Redis may refuse
 * CONFIG: noted, and the judgement rests on INFO. */
void sc__on_config_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct sc_store *st = privdata;
    redisReply *r = reply;
    if (ac != st->ac || !r)
        return;
    if (sc__is_error(r)) {
        st->hs.config_refused = 1;
    } else if (r->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
            const redisReply *k = r->element[i], *v = r->element[i + 1];
            if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
                continue;
            if (strcmp(k->str, "appendonly") == 0)
                st->hs.cfg_aof = strcmp(v->str, "yes") == 0;
            else if (strcmp(k->str, "appendfsync") == 0)
                sc_strlcpy(st->hs.fsync, v->str, sizeof st->hs.fsync);
            else if (strcmp(k->str, "save") == 0) {
                sc_strlcpy(st->hs.save, v->str, sizeof st->hs.save);
                st->hs.have_save = 1;
            }
        }
    }
    sc__hs_step(st);
}

/* Decide from this handshake's answers whether the server keeps what it
 * acknowledges; fill st->srv. */
static void judge_durability(struct sc_store *st)
{
    struct sc_store_server *s = &st->srv;
    int aof = st->hs.info_aof >= 0 ? st->hs.info_aof : st->hs.cfg_aof;
    const char *fsync = st->hs.fsync;
    sc_strlcpy(s->run_id, st->hs.run_id, sizeof s->run_id);
    s->keys = st->hs.keys;
    s->config_refused = st->hs.config_refused;
    if (aof < 0)
        s->durable = -1;
    else if (!aof)
        s->durable = 0;
    else
        s->durable = fsync[0] ? strcmp(fsync, "always") == 0 || strcmp(fsync, "everysec") == 0
                              : 1; /* AOF on, policy unknown (CONFIG refused) */
    snprintf(s->found, sizeof s->found, "appendonly=%s appendfsync=%s save=\"%s\"%s",
             aof < 0 ? "unknown" : aof ? "yes" : "no", fsync[0] ? fsync : "unknown",
             st->hs.have_save ? st->hs.save : "unknown",
             s->config_refused ? " config=refused" : "");
}

/* 0 to go on with this server, -1 when it is refused (logged, dropped). */
int sc__check_durability(struct sc_store *st)
{
    const struct sc_store_server *s = &st->srv;
    static const char fix[] =
        "set appendonly yes and appendfsync everysec or always (redis.conf, or CONFIG SET "
        "appendonly yes; CONFIG REWRITE), or set redis.durability: warn to accept the loss";
    char found[256];
    judge_durability(st);
    sc_log_quote(found, sizeof found, s->found, strlen(s->found));
    if (s->config_refused && st->o.durability != SC_DURABILITY_UNCHECKED)
        ST_LOG(SC_LOG_WARN, st, "redis_config_refused",
               " msg=\"CONFIG GET refused (a managed Redis?): durability judged from INFO "
               "alone\" found=%s", found);
    if (s->durable == 1)
        return 0;
    const char *why = s->durable < 0 ? "cannot tell whether Redis persists writes (INFO and "
                                        "CONFIG refused)"
                                      : "Redis would lose acknowledged cancellations on a "
                                        "restart (no AOF, or appendfsync no)";
    if (st->o.durability == SC_DURABILITY_REFUSE) {
        unsigned failures = st->failures + 1;
        sc__drop(st); /* inside the PING callback: freed when it returns */
        uint32_t d = sc__retry_later(st);
        ST_LOG(SC_LOG_ERROR, st, "redis_not_durable",
               " found=%s msg=\"%s\" fix=\"%s\" action=\"not used (redis.durability: "
               "refuse): no bind, MOs get the temporary error\" attempt=%u retry_ms=%u",
               found, why, fix, failures, d);
        return -1;
    }
    if (st->o.durability == SC_DURABILITY_WARN)
        ST_LOG(SC_LOG_WARN, st, "redis_not_durable",
               " found=%s msg=\"%s\" fix=\"%s\" action=\"used anyway "
               "(redis.durability: warn)\"", found, why, fix);
    else
        ST_DEBUG(st, "redis_not_durable", " found=%s", found);
    return 0;
}
