/* outcome.c -- core/request.c's decisions for one MO as pure functions:
 * what a script's reply means, what each outcome sends (outcome.h). */
#include "core/outcome.h"

#include <hiredis/hiredis.h>
#include <string.h>

#include "base/sc.h"
#include "base/smpp.h"

/* The prelude's {"bad_data", key, type, expected}: "?" for what is missing. */
static void bad_data_fields(const redisReply *rep, struct sc_verdict *v)
{
    for (size_t i = 0; i < 3; i++) {
        const redisReply *e = i + 1 < rep->elements ? rep->element[i + 1] : NULL;
        v->bad[i] = e && e->type == REDIS_REPLY_STRING ? e->str : "?";
    }
}

void sc__req_verdict(int err, const redisReply *rep, struct sc_verdict *v)
{
    memset(v, 0, sizeof *v);
    v->kind = SC_VERDICT_FAIL;
    if (err) {
        v->why = err == SC_ETIMEOUT   ? "redis timeout"
                 : err == SC_EREPLICA ? "redis replicas behind"
                                      : "redis connection lost";
        return;
    }
    v->why = "script error";
    if (rep->type == REDIS_REPLY_ERROR) {
        v->error = rep->str;
        v->error_len = rep->len;
        /* A key the handler did not declare had the wrong type (the prelude
         * checks the declared ones): a bug in the handler, but the data is
         * bad all the same, so it is answered. */
        if (strstr(rep->str, "WRONGTYPE"))
            v->kind = SC_VERDICT_BAD_DATA;
        return;
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
        rep->element[0]->type != REDIS_REPLY_STRING)
        return;
    const char *status = rep->element[0]->str;
    if (strcmp(status, "ok") == 0) {
        v->kind = SC_VERDICT_RESULT;
        v->elems = (struct redisReply *const *)rep->element + 1;
        v->nelems = rep->elements - 1;
    } else if (strcmp(status, "bad_data") == 0) {
        /* Found before anything was written: redelivering the MO cannot
         * help, so it is answered. */
        v->kind = SC_VERDICT_BAD_DATA;
        bad_data_fields(rep, v);
    } else if (strcmp(status, "rate") == 0) {
        /* {"rate", how far over}: one polite reply, then silence until the
         * window passes (this also ends auto-reply loops with machines). */
        long long over = rep->elements > 1 && rep->element[1]->type == REDIS_REPLY_INTEGER
                             ? rep->element[1]->integer
                             : 1;
        v->kind = over == 1 ? SC_VERDICT_RATE_FIRST : SC_VERDICT_RATE_AGAIN;
    }
}

const char *sc__req_outcome_name(enum sc_outcome o)
{
    static const char *const names[] = {
        [SC_OUTCOME_REPLY] = "reply",          [SC_OUTCOME_RATE_REPLY] = "rate_limited",
        [SC_OUTCOME_SILENT] = "silent",        [SC_OUTCOME_RATE_SILENT] = "rate_limited",
        [SC_OUTCOME_NO_ROUTE] = "no_route",    [SC_OUTCOME_FAIL] = "temporary_error",
    };
    return (unsigned)o < SC_ARRAY_LEN(names) ? names[o] : "?";
}

struct sc_ack_plan sc__req_plan(enum sc_outcome o, int after_reply, uint32_t error)
{
    if (o == SC_OUTCOME_FAIL)
        return (struct sc_ack_plan){.resp_now = 1, .status_now = error};
    if (o != SC_OUTCOME_REPLY && o != SC_OUTCOME_RATE_REPLY)
        return (struct sc_ack_plan){.resp_now = 1, .status_now = SC_ESME_ROK, .done_now = 1};
    if (after_reply) /* the state change is stored; the resp waits for the SMSC */
        return (struct sc_ack_plan){.send_mt = 1, .resp_on_mt = 1};
    /* after_store: the state change is already in Redis; acknowledge, then
     * queue the reply. */
    return (struct sc_ack_plan){
        .resp_now = 1, .status_now = SC_ESME_ROK, .send_mt = 1, .done_now = 1};
}

uint32_t sc__req_mt_ended(int err, uint32_t error, int *done)
{
    *done = !err;
    return err ? error : SC_ESME_ROK;
}
