/* mo_build.c -- an MO's text encoded and split into deliver_sm / data_sm
 * parts, which go to mo.c's queue.
 *
 * Encoding follows text/text.h (sc_text_encode picks GSM 7-bit when every
 * character fits, else UCS-2); forcing UCS-2 for a GSM-able text is done here.
 * The encoded bytes are then cut into parts by this file, not by
 * sc_text_encode, because a test needs what no daemon sends: an exact number
 * of parts, 16-bit UDH references, SAR TLVs on deliver_sm. A cut never
 * separates a GSM escape from its code or the halves of a surrogate pair. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#include "base/log.h"
#include "base/sc.h"
#include "faults.h"
#include "mo.h"
#include "mo_int.h"
#include "opts.h"
#include "stats.h"
#include "text/text.h"

/* UTF-8 -> UTF-16BE (invalid sequences become U+FFFD). Returns bytes or
 * SC_ETOOBIG. */
static long to_ucs2(const char *s, size_t n, uint8_t *out, size_t cap)
{
    size_t i = 0, o = 0;
    while (i < n) {
        ucs4_t u;
        int k = u8_mbtouc(&u, (const uint8_t *)s + i, n - i);
        i += (size_t)(k > 0 ? k : 1);
        if (u >= 0x10000) {
            if (o + 4 > cap)
                return SC_ETOOBIG;
            u -= 0x10000;
            uint32_t hi = 0xD800 | (u >> 10), lo = 0xDC00 | (u & 0x3FF);
            out[o++] = (uint8_t)(hi >> 8);
            out[o++] = (uint8_t)hi;
            out[o++] = (uint8_t)(lo >> 8);
            out[o++] = (uint8_t)lo;
        } else {
            if (o + 2 > cap)
                return SC_ETOOBIG;
            out[o++] = (uint8_t)(u >> 8);
            out[o++] = (uint8_t)u;
        }
    }
    return (long)o;
}

/* Largest cut point <= end that splits no character. */
static size_t safe_end(const uint8_t *b, size_t end, uint8_t dc)
{
    if (dc == 8) {
        end &= ~(size_t)1;
        if (end >= 2) {
            unsigned u = (unsigned)b[end - 2] << 8 | b[end - 1];
            if (u >= 0xD800 && u <= 0xDBFF)
                end -= 2;
        }
    } else if (end >= 1 && b[end - 1] == 0x1B) {
        end -= 1;
    }
    return end;
}

struct cut {
    size_t off, len;
};

/* Cut n encoded bytes into parts: want 0 = as many as needed (one if it fits
 * single_cap, else parts of part_cap), else exactly want parts of even size. */
static int split(const uint8_t *b, size_t n, uint8_t dc, unsigned want, size_t single_cap,
                 size_t part_cap, struct cut *cuts, unsigned *ncuts, char *err, size_t errsz)
{
    unsigned k = 0;
    if ((want == 0 && n <= single_cap) || want == 1) {
        if (n > single_cap) {
            snprintf(err, errsz, "text needs %zu bytes, one part holds %zu", n, single_cap);
            return SC_ETOOBIG;
        }
        cuts[0].off = 0;
        cuts[0].len = n;
        *ncuts = 1;
        return 0;
    }
    if (want == 0) {
        size_t pos = 0;
        while (pos < n) {
            if (k == MO_MAX_PARTS) {
                snprintf(err, errsz, "text needs more than %d parts", MO_MAX_PARTS);
                return SC_ETOOBIG;
            }
            size_t end = pos + part_cap < n ? safe_end(b, pos + part_cap, dc) : n;
            if (end <= pos) {
                snprintf(err, errsz, "cannot split the text");
                return SC_EINVAL;
            }
            cuts[k].off = pos;
            cuts[k].len = end - pos;
            k++;
            pos = end;
        }
        *ncuts = k;
        return 0;
    }
    size_t unit = dc == 8 ? 2 : 1, units = n / unit, pos = 0;
    for (unsigned i = 1; i <= want; i++) {
        size_t end = i == want ? n : safe_end(b, (units * i / want) * unit, dc);
        if (end <= pos || end - pos > part_cap) {
            snprintf(err, errsz, "cannot split %zu bytes into %u parts of at most %zu", n, want,
                     part_cap);
            return SC_EINVAL;
        }
        cuts[i - 1].off = pos;
        cuts[i - 1].len = end - pos;
        pos = end;
    }
    *ncuts = want;
    return 0;
}

/* The whole text encoded once: UCS-2 when asked, else GSM 7-bit if every
 * character fits (required with SIM_ENC_GSM), else UCS-2. *bytes points into
 * mt. 0, or SC_E* with a message in err. */
static int encode_text(const char *text, size_t len, enum sim_enc enc, struct sc_mt *mt,
                       const uint8_t **bytes, size_t *n, uint8_t *dc, char *err, size_t errsz)
{
    if (enc == SIM_ENC_UCS2) {
        long r = to_ucs2(text, len, mt->bytes, sizeof mt->bytes);
        if (r < 0) {
            snprintf(err, errsz, "text too long");
            return SC_ETOOBIG;
        }
        *bytes = mt->bytes;
        *n = (size_t)r;
        *dc = 8;
        return 0;
    }
    if (sc_text_encode(text, len, SC_SEG_PAYLOAD, 0, 1, mt) < 0 || mt->nparts != 1) {
        snprintf(err, errsz, "text too long");
        return SC_ETOOBIG;
    }
    if (enc == SIM_ENC_GSM && mt->data_coding != 0) {
        snprintf(err, errsz, "text has characters outside the GSM 03.38 alphabet");
        return SC_EINVAL;
    }
    *bytes = mt->bytes + mt->off[0];
    *n = mt->len[0];
    *dc = mt->data_coding;
    return 0;
}

/* How the parts of one MO are tied together and coded. */
struct part_shape {
    const struct sim_send_opts *so;
    const char *from, *to;
    uint8_t dc;
    int payload;
    uint16_t ref;
    unsigned nparts;
};

/* sm := part i (0-based) of the MO, carrying len bytes of data. */
static void fill_part(struct sc_sm *sm, const struct part_shape *ps, unsigned i,
                      const uint8_t *data, size_t len)
{
    const struct sim_send_opts *so = ps->so;
    unsigned ncuts = ps->nparts;
    uint16_t ref = ps->ref;
    memset(sm, 0, sizeof *sm);
    sm->cmd_id = so->data_sm ? SC_CMD_DATA_SM : SC_CMD_DELIVER_SM;
    sm->seq = 1; /* patched when sent */
    sm->src.ton = 1;
    sm->src.npi = 1;
    sc_strlcpy(sm->src.addr, ps->from, sizeof sm->src.addr);
    sc_strlcpy(sm->dst.addr, ps->to, sizeof sm->dst.addr);
    sm->data_coding = ps->dc;
    sm->use_payload = (uint8_t)ps->payload;
    size_t h = 0;
    if (ncuts > 1 && so->concat == SIM_CONCAT_UDH8) {
        const uint8_t u[] = {5, 0, 3, (uint8_t)ref, (uint8_t)ncuts, (uint8_t)(i + 1)};
        memcpy(sm->msg, u, sizeof u);
        h = sizeof u;
    } else if (ncuts > 1 && so->concat == SIM_CONCAT_UDH16) {
        const uint8_t u[] = {6, 8, 4, (uint8_t)(ref >> 8), (uint8_t)ref, (uint8_t)ncuts,
                             (uint8_t)(i + 1)};
        memcpy(sm->msg, u, sizeof u);
        h = sizeof u;
    } else if (ncuts > 1) {
        sm->has_sar = 1;
        sm->sar_ref = ref;
        sm->sar_total = (uint8_t)ncuts;
        sm->sar_seq = (uint8_t)(i + 1);
    }
    if (h)
        sm->esm_class = SC_ESM_UDHI;
    memcpy(sm->msg + h, data, len);
    sm->msg_len = (uint16_t)(h + len);
}

/* Encode and queue the parts of mo (bytes cut at cuts), in the order the
 * faults ask for. 0, or SC_E* when not even one part was queued (mo is then
 * not freed); a later failure leaves the parts already queued to finish
 * the MO. sm and pdu are scratch space. */
static int queue_parts(struct sim_mos *m, struct sim_mo *mo, const struct part_shape *ps,
                       const uint8_t *bytes, const struct cut *cuts, struct sc_sm *sm,
                       uint8_t *pdu, char *err, size_t errsz)
{
    const struct sim_send_opts *so = ps->so;
    unsigned ncuts = ps->nparts;
    /* --reorder-parts: parts go out last first; --dup-parts: part 1 is sent
     * twice (once more at the end). */
    int reorder = ncuts > 1 && m->o->f.reorder_parts;
    unsigned nsend = ncuts + (ncuts > 1 && m->o->f.dup_parts ? 1 : 0);
    if (reorder)
        m->faults->c.reordered_mos++;
    if (nsend > ncuts)
        m->faults->c.dup_parts++;
    for (unsigned k = 0; k < nsend; k++) {
        unsigned i = k >= ncuts ? 0 : reorder ? ncuts - 1 - k : k;
        if (so->only && i + 1 != so->only)
            continue; /* --part K: this part alone (the test sends the others) */
        fill_part(sm, ps, i, bytes + cuts[i].off, cuts[i].len);
        long plen = sc_pdu_encode_sm(sm, pdu, SC_SM_MSG_MAX + 512);
        int rc = plen < 0 ? (int)plen : sim_mo_enqueue(m, mo, pdu, (size_t)plen, "");
        if (rc < 0) {
            /* Parts already queued stay queued and finish the MO; the rest
             * count as not sent. */
            snprintf(err, errsz, "part %u: %s", i + 1, sc_strerror(rc));
            sc_error("event=mo_encode_failed from=%s to=%s part=%u/%u reason=\"%s\"", ps->from,
                     ps->to, i + 1, ncuts, sc_strerror(rc));
            mo->nparts = k < ncuts ? k : ncuts;
            return mo->parts_left == 0 ? rc : 0;
        }
        mo->refs++;
        mo->parts_left++;
    }
    return 0;
}

struct sim_mo *sim_mo_send(struct sim_mos *m, enum sim_mo_kind kind, const char *from,
                           const char *to, const char *text, size_t len,
                           const struct sim_send_opts *so, char *err, size_t errsz)
{
    if (!sim_addr_valid(from) || !sim_addr_valid(to)) {
        snprintf(err, errsz, "bad address (1 to 20 printable characters)");
        return NULL;
    }
    if (so->parts > MO_MAX_PARTS) {
        snprintf(err, errsz, "at most %d parts", MO_MAX_PARTS);
        return NULL;
    }
    struct sc_mt *mt = malloc(sizeof *mt);
    struct cut *cuts = malloc(MO_MAX_PARTS * sizeof *cuts);
    struct sc_sm *sm = malloc(sizeof *sm);
    uint8_t *pdu = malloc(SC_SM_MSG_MAX + 512);
    struct sim_mo *mo = NULL;
    const uint8_t *bytes = NULL;
    size_t n = 0;
    struct part_shape ps = {.so = so, .from = from, .to = to};
    if (!mt || !cuts || !sm || !pdu) {
        snprintf(err, errsz, "out of memory");
        goto out;
    }
    if (encode_text(text, len, so->enc, mt, &bytes, &n, &ps.dc, err, errsz) < 0)
        goto out;

    uint8_t dc = ps.dc;
    ps.payload = so->data_sm || so->payload;
    size_t hdr = so->concat == SIM_CONCAT_UDH8 ? 6 : so->concat == SIM_CONCAT_UDH16 ? 7 : 0;
    size_t single_cap = ps.payload ? SC_SM_MSG_MAX : dc == 8 ? 140 : 160;
    /* 140 octets per SMS; a UDH of h octets costs ceil(h*8/7) septets in GSM. */
    size_t part_cap = dc == 8 ? ((140 - hdr) & ~(size_t)1) : 160 - (hdr * 8 + 6) / 7;
    if (split(bytes, n, dc, so->parts, single_cap, part_cap, cuts, &ps.nparts, err, errsz) < 0)
        goto out;
    if (m->mq_len + ps.nparts > m->o->max_queue) {
        snprintf(err, errsz, "MO queue full (%zu parts queued)", m->mq_len);
        goto out;
    }
    if (!(mo = sim__mo_new(m, kind, from, to))) {
        snprintf(err, errsz, "out of memory");
        goto out;
    }
    mo->nparts = so->only ? 1 : ps.nparts;
    ps.ref = ps.nparts <= 1 ? 0 : so->has_ref ? so->ref : ++m->mo_ref;
    if (so->only > ps.nparts) {
        snprintf(err, errsz, "part %u of a text in %u parts", so->only, ps.nparts);
        free(mo);
        mo = NULL;
        goto out;
    }
    if (queue_parts(m, mo, &ps, bytes, cuts, sm, pdu, err, errsz) < 0) {
        free(mo);
        mo = NULL;
        goto out;
    }
    m->stats->mo_sent++;
    if (kind != SIM_MO_BURST || sc_log_enabled(SC_LOG_DEBUG)) {
        char q[160];
        sc_log(kind == SIM_MO_BURST ? SC_LOG_DEBUG : SC_LOG_INFO,
               "event=mo mo=%u from=%s to=%s command=%s parts=%u dc=%u text=%s", mo->id, from, to,
               so->data_sm ? "data_sm" : "deliver_sm", mo->nparts, dc,
               sc_log_quote(q, sizeof q, text, len));
    }
    sim_mo_pump(m);
out:
    free(mt);
    free(cuts);
    free(sm);
    free(pdu);
    return mo;
}
