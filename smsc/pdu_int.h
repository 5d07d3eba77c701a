/* pdu_int.h -- what the files of the PDU codec share.
 *
 *   pdu.c        command names, framing, hand-built header-only PDUs and
 *                one-string resps, UDH
 *   pdu_guard.c  the walk every body takes before libsmpp34 sees it
 *   pdu_sm.c     deliver_sm / data_sm / submit_sm over libsmpp34, TLVs
 *   pdu_bind.c   the binds over libsmpp34
 *   dlr.c        delivery receipt texts
 *
 * Codec convention (docs/architecture.md "Conventions"): an encoder returns
 * the PDU's length or a negative SC_E*; a decoder returns 0 or a negative
 * SC_E* with the command_status to answer in *status. Not for use outside
 * smsc/ (tests excepted). */
#ifndef SC_PDU_INT_H
#define SC_PDU_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/sc.h"
#include "smsc/pdu.h"

/* Tags the codec reads or writes. */
#define SC__TAG_RECEIPTED_MSG_ID 0x001E
#define SC__TAG_SAR_REF          0x020C
#define SC__TAG_SAR_TOTAL        0x020E
#define SC__TAG_SAR_SEQ          0x020F
#define SC__TAG_MESSAGE_PAYLOAD  0x0424
#define SC__TAG_MESSAGE_STATE    0x0427

static inline uint32_t sc__get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint16_t sc__get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline int sc__pdu_is_sm(uint32_t id)
{
    return id == SC_CMD_DELIVER_SM || id == SC_CMD_DATA_SM || id == SC_CMD_SUBMIT_SM;
}

static inline int sc__pdu_is_bind(uint32_t id)
{
    return id == SC_CMD_BIND_RECEIVER || id == SC_CMD_BIND_TRANSMITTER ||
           id == SC_CMD_BIND_TRANSCEIVER;
}

/* TON and NPI values libsmpp34 accepts (def_list/addr_ton.list, addr_npi.list). */
static inline int sc__pdu_ton_ok(uint8_t ton)
{
    return ton <= 6;
}

static inline int sc__pdu_npi_ok(uint8_t npi)
{
    switch (npi) {
    case 0: case 1: case 3: case 4: case 6: case 8: case 9: case 10: case 14: case 18:
        return 1;
    default:
        return 0;
    }
}

/* Length of a NUL-terminated string within an array of size sz, or -1
 * (an encoder's input that libsmpp34 would silently cut). */
static inline long sc__pdu_field_len(const char *s, size_t sz)
{
    const char *nul = memchr(s, 0, sz);
    return nul ? (long)(nul - s) : -1;
}

/* Copy a C-string field libsmpp34 has NUL-terminated within its array. */
static inline void sc__pdu_copy_field(char *dst, size_t dstsz, const uint8_t *src, size_t srcsz)
{
    size_t n = strnlen((const char *)src, SC_MIN(srcsz, dstsz - 1));
    memcpy(dst, src, n);
    dst[n] = '\0';
}
#define SC__COPY_FIELD(dst, src) sc__pdu_copy_field((dst), sizeof(dst), (src), sizeof(src))

/* ---- The guard (pdu_guard.c) ------------------------------------------- */

/* One walk over a PDU: where it is, and what libsmpp34 will log. */
struct sc__pdu_walk {
    const uint8_t *p;   /* the whole PDU */
    size_t off, len;    /* position, PDU length */
    size_t log;         /* bytes libsmpp34 will log into smpp34_strerror */
    size_t last;        /* ... of which the last field's */
    uint32_t *status;
    char *err;
    size_t errsz;
};

/* What the TLV walk found among the tags the codec reads. */
struct sc__pdu_seen {
    unsigned n;              /* TLVs */
    unsigned mask;           /* SC__SEEN_* bits */
    uint16_t sar_ref;
    uint8_t sar_total, sar_seq;
    uint16_t payload_len;
};
enum {
    SC__SEEN_REF = 1, SC__SEEN_TOTAL = 2, SC__SEEN_SEQ = 4, SC__SEEN_PAYLOAD = 8,
    SC__SEEN_RCPT = 16, SC__SEEN_STATE = 32,
};

/* Set *w->status and err (printf-style); returns SC_EPROTO. */
__attribute__((format(printf, 3, 4)))
int sc__pdu_fail(struct sc__pdu_walk *w, uint32_t status, const char *fmt, ...);

/* The start every decoder shares: reset the outputs (*status ROK, err "")
 * and set up the walk over pdu. Returns 0, or SC_EINVAL with *status set
 * when pdu or out is NULL. Inline: it is on every MO's path. */
static inline int sc__pdu_walk_begin(struct sc__pdu_walk *w, const uint8_t *pdu, size_t len,
                                     const void *out, uint32_t *status, char *err,
                                     size_t errsz)
{
    *status = SC_ESME_ROK;
    if (err && errsz)
        err[0] = '\0';
    *w = (struct sc__pdu_walk){.p = pdu, .len = len, .status = status, .err = err, .errsz = errsz};
    if (!pdu || !out) {
        sc__pdu_fail(w, SC_ESME_RSYSERR, "no PDU");
        return SC_EINVAL;
    }
    return 0;
}

/* Walk a whole deliver_sm, data_sm or submit_sm PDU (sc__pdu_guard_sm) or
 * bind PDU (sc__pdu_guard_bind), header included, after
 * sc__pdu_walk_begin: *h parsed. Returns 0 when smpp34_unpack may see it,
 * else SC_EPROTO with *status and err set. */
int sc__pdu_guard_sm(struct sc__pdu_walk *w, struct sc_pdu_hdr *h, struct sc__pdu_seen *seen);
int sc__pdu_guard_bind(struct sc__pdu_walk *w, struct sc_pdu_hdr *h);

/* Test hook: the length of the log smpp34_unpack() will try to write into
 * smpp34_strerror (which keeps the first 2047 bytes) for this deliver_sm,
 * data_sm, submit_sm or bind PDU, or 0 when the guard refuses it. */
size_t sc__pdu_smpp34_log_len(const uint8_t *pdu, size_t len);

#endif
