/* reasm.h -- long-MO reassembly: collects the parts of a concatenated message.
 *
 * Pure data structure: no I/O, time is passed in. A message is keyed on
 * source + destination + reference + total, so two subscribers (or two long
 * messages of one subscriber) never mix. Parts may arrive in any order and
 * more than once; a duplicate is ignored. Everything a peer controls is
 * bounded: pending messages in total and per source, memory held in total
 * (records and bytes, as counted by sc_reasm_cost_*), parts per message.
 * Memory grows with the parts received, not with a message's total. */
#ifndef SC_REASM_H
#define SC_REASM_H

#include <stddef.h>
#include <stdint.h>

#include "smsc/pdu.h"

struct sc_reasm_limits {
    unsigned max_pending;      /* messages being reassembled, in total */
    unsigned max_per_source;   /* ... per source address */
    size_t max_bytes;          /* memory held for all pending messages (sc_reasm_bytes) */
    uint32_t timeout_ms;       /* a message incomplete this long is dropped */
};

struct sc_reasm_key {
    char src[SC_ADDR_MAX];
    char dst[SC_ADDR_MAX];
    uint16_t ref;
    uint8_t total;             /* 2..255 */
};

enum { SC_REASM_PARTIAL = 0, SC_REASM_COMPLETE = 1 };

struct sc_reasm;

/* Returns NULL on allocation failure. */
struct sc_reasm *sc_reasm_new(const struct sc_reasm_limits *lim);
/* Frees every pending part. NULL is a no-op. */
void sc_reasm_free(struct sc_reasm *r);

/* Add part seq (1..total) of the message k. data is the part's text bytes
 * (UDH removed), copied. Returns SC_REASM_PARTIAL (stored or duplicate),
 * SC_REASM_COMPLETE with *out (malloc'd, caller frees) and *out_len set to
 * the parts concatenated in order and *dc to their data_coding, or a
 * negative SC_E*: SC_EINVAL (seq 0 or > total, total < 2, data_coding differs
 * from the parts before), SC_EBUSY (a limit would be exceeded; nothing
 * stored): max_pending or max_per_source for a new message, max_bytes when
 * sc_reasm_bytes() plus what the part adds (its sc_reasm_cost_part, and for
 * a new message sc_reasm_cost_msg, and sc_reasm_cost_source for a source
 * with nothing pending) would pass it. The part that completes a message is
 * never refused for max_bytes (completing frees what the parts held). */
int sc_reasm_add(struct sc_reasm *r, const struct sc_reasm_key *k, uint8_t seq,
                 uint8_t data_coding, const uint8_t *data, size_t len, uint64_t now_ms,
                 uint8_t **out, size_t *out_len, uint8_t *dc);

/* Called for each message dropped by sc_reasm_expire(). */
typedef void (*sc_reasm_expired_cb)(void *arg, const struct sc_reasm_key *k, unsigned have);

/* Drop messages whose first part came timeout_ms or more before now_ms.
 * Returns how many were dropped. cb may be NULL. When that frees 1 MiB or
 * more, the memory is handed back to the system (glibc: malloc_trim). */
unsigned sc_reasm_expire(struct sc_reasm *r, uint64_t now_ms, sc_reasm_expired_cb cb, void *arg);

/* Messages currently held, and the memory they cost as counted: for each
 * message sc_reasm_cost_msg() plus sc_reasm_cost_part(len) per part held,
 * plus sc_reasm_cost_source() per source with messages pending. */
size_t sc_reasm_pending(const struct sc_reasm *r);
size_t sc_reasm_bytes(const struct sc_reasm *r);

/* What the limits count, in bytes, each allocation as glibc's malloc holds
 * it (8-byte header, rounded up to 16, at least 32): a message's record with
 * its share of the hash table's buckets; a part with len bytes of text; a
 * source's record. */
size_t sc_reasm_cost_msg(void);
size_t sc_reasm_cost_part(size_t len);
size_t sc_reasm_cost_source(void);

#endif
