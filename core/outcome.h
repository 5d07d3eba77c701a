/* outcome.h -- what core/request.c decides for one MO, as pure functions
 * (no I/O, no state): what a script's reply means, and what an outcome
 * sends to the SMSC under each ack policy. request.c carries them out;
 * tests/unit/test_request.c checks them. */
#ifndef SC_OUTCOME_H
#define SC_OUTCOME_H

#include <stddef.h>
#include <stdint.h>

struct redisReply;

/* What a script's reply (or its absence) means. */
enum sc_verdict_kind {
    SC_VERDICT_RESULT,      /* elems/nelems go to the handler's result() */
    SC_VERDICT_RATE_FIRST,  /* the first command over the rate limit: one polite reply */
    SC_VERDICT_RATE_AGAIN,  /* further commands in the same window: silence */
    SC_VERDICT_BAD_DATA,    /* a key of the wrong type: service_error, nothing written */
    SC_VERDICT_FAIL,        /* the temporary error: the SMSC delivers the MO again */
};

struct sc_verdict {
    enum sc_verdict_kind kind;
    const char *why;        /* FAIL: the reason= of the log line */
    /* BAD_DATA found by the prelude: the key, its type, the type declared
     * ("?" when the reply did not say); NULL when Redis itself answered
     * WRONGTYPE (a key the handler did not declare: error holds it). */
    const char *bad[3];
    /* The Redis error text (FAIL on a script error, WRONGTYPE), or NULL. */
    const char *error;
    size_t error_len;
    struct redisReply *const *elems;  /* RESULT: after the status word */
    size_t nelems;
};

/* Classify a script's reply: err is the store's (SC_ETIMEOUT, SC_ECLOSED,
 * ...; rep unused then), rep the reply (borrowed; v points into it). */
void sc__req_verdict(int err, const struct redisReply *rep, struct sc_verdict *v);

/* The one outcome of a request (the outcome= of event=mo). */
enum sc_outcome {
    SC_OUTCOME_REPLY,           /* a reply (handler, bad_data's service_error) */
    SC_OUTCOME_RATE_REPLY,      /* the rate_limited reply */
    SC_OUTCOME_SILENT,          /* ESME_ROK and no reply */
    SC_OUTCOME_RATE_SILENT,     /* over the limit again: ESME_ROK, no reply */
    SC_OUTCOME_NO_ROUTE,        /* no route matched: ESME_ROK, no reply */
    SC_OUTCOME_FAIL,            /* the temporary error, no reply */
};
#define SC_OUTCOME_COUNT (SC_OUTCOME_FAIL + 1)

/* "reply", "rate_limited", "silent", "no_route", "temporary_error". */
const char *sc__req_outcome_name(enum sc_outcome o);

/* What an outcome sends, in this order. */
struct sc_ack_plan {
    int resp_now;         /* answer the MO now with status_now ... */
    uint32_t status_now;
    int send_mt;          /* ... then send the reply: with resp_now, the resp
                           * leaves before the MT is queued (after_store) */
    int resp_on_mt;       /* answer the MO once the MT ended (sc__req_mt_ended) */
    int done_now;         /* a long MO's parts are no longer needed */
};

/* after_reply: limits.ack_policy is after_reply (else after_store); error:
 * the temporary error status (limits.mo_error_status). */
struct sc_ack_plan sc__req_plan(enum sc_outcome o, int after_reply, uint32_t error);

/* after_reply: the MT ended with err (0: the SMSC accepted every part).
 * Returns the MO's status; *done is set when a long MO's parts are no
 * longer needed. */
uint32_t sc__req_mt_ended(int err, uint32_t error, int *done);

#endif
