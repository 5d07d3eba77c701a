/* mtbuild.c -- an MT's text -> the submit_sm parts it will be sent as:
 * encoded (GSM 7-bit or UCS-2, text/text.c), segmented by the live
 * seg_mode (UDH / SAR / message_payload), cut with "…" to fit max_parts. */
#include <stdlib.h>
#include <string.h>

#include "base/sc.h"
#include "smsc/esme_int.h"
#include "text/text.h"

/* Encode text as the SMS it will be: UTF-8 cut at a character boundary to
 * the longest prefix that, with "…" appended, fits in max_parts. A reply too
 * long is a template or handler problem; the subscriber still gets the
 * beginning of it. Returns 0 with mt filled, or SC_E*. */
static int encode_fitting(const struct sc_esme_live *live, uint16_t ref, const char *utf8,
                          size_t len, int cut, struct sc_mt *mt)
{
    enum sc_seg_mode mode = live->seg_mode;
    unsigned maxp = live->max_parts;
    int rc = sc_text_encode(utf8, len, mode, ref, maxp, mt);
    if (rc != SC_ETOOBIG || !cut)
        return rc;
    static const char ellipsis[] = "\xE2\x80\xA6";
    char *buf = malloc(len + sizeof ellipsis);
    if (!buf)
        return SC_ENOMEM;
    size_t lo = 0, hi = len; /* the best prefix length is in [lo, hi) */
    while (hi - lo > 1) {
        /* Never cut a UTF-8 sequence (lo is on a boundary). */
        size_t mid = lo + sc_utf8_floor(utf8 + lo, len - lo, (hi - lo) / 2);
        if (mid == lo)
            break;
        memcpy(buf, utf8, mid);
        memcpy(buf + mid, ellipsis, sizeof ellipsis - 1);
        if (sc_text_encode(buf, mid + sizeof ellipsis - 1, mode, ref, maxp, mt) == 0)
            lo = mid;
        else
            hi = mid;
    }
    memcpy(buf, utf8, lo);
    memcpy(buf + lo, ellipsis, sizeof ellipsis - 1);
    rc = sc_text_encode(buf, lo + sizeof ellipsis - 1, mode, ref, maxp, mt);
    free(buf);
    sc_warn("event=reply_truncated bytes=%zu kept=%zu max_parts=%u", len, lo, maxp);
    return rc;
}

/* The submit_sm every part shares: all but the 1 KiB text buffer zeroed
 * (each part overwrites it). */
static void sm_template(struct sc_sm *sm, const struct sc_esme_live *live,
                        const struct sc_mt *mt, const struct sc_addr *src,
                        const struct sc_addr *dst)
{
    memset(sm, 0, offsetof(struct sc_sm, msg));
    memset((char *)sm + offsetof(struct sc_sm, msg) + sizeof sm->msg, 0,
           sizeof *sm - offsetof(struct sc_sm, msg) - sizeof sm->msg);
    sm->cmd_id = SC_CMD_SUBMIT_SM;
    sm->seq = 1; /* patched at each send */
    sm->src = *src;
    sm->dst = *dst;
    sm->esm_class = mt->esm_class;
    sm->data_coding = mt->data_coding;
    sm->use_payload = live->seg_mode == SC_SEG_PAYLOAD;
}

int sc__mt_build(const struct sc_esme_live *live, uint16_t ref, const struct sc_addr *src,
                 const struct sc_addr *dst, const char *utf8, size_t len, int cut,
                 uint8_t regdel, struct sc__mt_list *parts)
{
    STAILQ_INIT(parts);
    struct sc_mt mt;
    int rc = encode_fitting(live, ref, utf8, len, cut, &mt);
    if (rc < 0)
        return rc;
    struct sc__mt_msg *m = calloc(1, sizeof *m);
    if (!m)
        return SC_ENOMEM;
    m->parts_left = m->nparts = mt.nparts;
    if (regdel && !(m->msgids = calloc(mt.nparts, sizeof *m->msgids))) {
        free(m);
        return SC_ENOMEM;
    }

    struct sc_sm sm;
    sm_template(&sm, live, &mt, src, dst);
    sm.registered_delivery = regdel;
    uint8_t buf[SC_PDU_HEADER_LEN + 256 + SC_SM_MSG_MAX];
    for (unsigned i = 0; i < mt.nparts; i++) {
        sm.msg_len = mt.len[i];
        memcpy(sm.msg, mt.bytes + mt.off[i], mt.len[i]);
        if (live->seg_mode == SC_SEG_SAR && mt.nparts > 1) {
            sm.has_sar = 1;
            sm.sar_ref = mt.ref;
            sm.sar_total = mt.nparts;
            sm.sar_seq = (uint8_t)(i + 1);
        }
        long n = sc_pdu_encode_sm(&sm, buf, sizeof buf);
        struct sc__mt_part *p = n > 0 ? malloc(sizeof *p + (size_t)n) : NULL;
        if (!p) {
            while ((p = STAILQ_FIRST(parts))) {
                STAILQ_REMOVE_HEAD(parts, link);
                free(p);
            }
            free(m->msgids);
            free(m);
            return n < 0 ? (int)n : SC_ENOMEM;
        }
        p->msg = m;
        p->tries = 0;
        p->idx = (uint8_t)i;
        p->len = (uint16_t)n;
        memcpy(p->pdu, buf, (size_t)n);
        STAILQ_INSERT_TAIL(parts, p, link);
    }
    return mt.nparts;
}
