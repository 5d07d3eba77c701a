/* longmo.h -- long MOs reassembled in Redis, not in the daemon's memory.
 *
 * Each part is stored by one script (one round trip) before it is
 * acknowledged, so a restarted daemon, or another one sharing the SMSC
 * account, finds the parts. The part that completes the message gets the
 * whole text, which then runs as an ordinary MO (core/request.c) under that
 * part's token. When the message reached a final ESME_ROK outcome the
 * request layer marks it done (a tombstone); on a temporary error nothing
 * is marked, so the SMSC's redelivery of the completing part completes it
 * again. See docs/reliability.md "Long MOs".
 *
 * Keys (hash tag {M}: the national MSISDN, as sub:{M}:vas):
 *   reasm:{M}:DST:REF:TOTAL  HASH dc -> data_coding of the first part,
 *                            "1".."TOTAL" -> part bytes; PEXPIRE
 *                            smpp.reasm_timeout_ms from the first part.
 *                            Once done (the tombstone): done -> "1" and
 *                            "hN" -> SHA-1 of part N, same lifetime; a part
 *                            with another SHA-1 starts a new message.
 *   reasm:{M}                ZSET of that subscriber's message keys being
 *                            reassembled, scored by deadline (ms): the
 *                            smpp.reasm_max_per_source limit.
 *
 * Internal to core/. */
#ifndef SC_LONGMO_H
#define SC_LONGMO_H

#include <stddef.h>
#include <stdint.h>

#include "smsc/esme.h"

struct sc_app;
struct redisReply;

/* "reasm:{" + MSISDN + "}:" + DST + ":" + 65535 + ":" + 255 + NUL */
#define SC_LONGMO_KEY_MAX (7 + SC_ADDR_MAX + 2 + SC_ADDR_MAX + 1 + 5 + 1 + 3 + 1)

/* The scripts (registered by core/app.c). */
extern const char sc__longmo_part_lua[];
extern const char sc__longmo_done_lua[];

/* The message key of a part and the subscriber's index key. Returns 0, or
 * SC_ETOOBIG when a buffer is too small (nothing usable written). */
int sc__longmo_keys(const char *msisdn, const char *dst, uint16_t ref, uint8_t total, char *key,
                    size_t keysz, char *idx, size_t idxsz);

/* The "complete" result of the part script, after its status word: el[0]
 * the data_coding, el[1..total] the parts in order. Concatenates them into
 * *out (malloc'd, caller frees; never NULL on success) with *len and *dc.
 * Returns 0, SC_EPROTO (not that shape), SC_ENOMEM. */
int sc__longmo_join(struct redisReply *const *el, size_t nel, unsigned total, uint8_t *dc,
                    uint8_t **out, size_t *len);

/* A part from the esme (mo->concat.total >= 2): store it, answer it; when it
 * completes the message, start the request. The caller checked
 * limits.max_inflight; the part holds an in-flight slot until answered. */
void sc__longmo_on_part(struct sc_app *a, const struct sc_mo *mo, struct sc_mo_token tok);

/* The message of key (of subscriber msisdn) ran to a final ESME_ROK
 * outcome: replace its parts by the tombstone. Sent without waiting for
 * its reply: a lost write only means a redelivered part runs the command
 * again, and commands are idempotent. */
void sc__longmo_done(struct sc_app *a, const char *msisdn, const char *key);

#endif
