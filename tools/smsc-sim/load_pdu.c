/* load_pdu.c -- load mode's MO PDUs: each deliver_sm / data_sm is copied
 * from a template encoded once per (text, encoding, command) with libsmpp34;
 * load.c then patches the sequence number and the source address digits in
 * place (--pack-each encodes every MO here instead, for comparison). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sc.h"
#include "env.h"
#include "load_int.h"
#include "opts.h"
#include "smsc/pdu.h"

const char *const sim__load_text[T_N] = {"0000", "1", "XYZZY"};

void sim__load_put_digits(uint8_t *p, unsigned width, uint64_t v)
{
    for (unsigned i = width; i > 0; i--) {
        p[i - 1] = (uint8_t)('0' + v % 10);
        v /= 10;
    }
}

int sim__load_encode(struct sim_load *l, const char *text, size_t n, int ucs2, int datasm,
                     uint64_t msisdn, const uint8_t *udh, uint8_t *out, size_t outsz, long *len)
{
    struct sc_sm *sm = calloc(1, sizeof *sm);
    if (!sm)
        return SC_ENOMEM;
    sm->cmd_id = datasm ? SC_CMD_DATA_SM : SC_CMD_DELIVER_SM;
    sm->seq = 1; /* patched when sent */
    sm->src.ton = 1;
    sm->src.npi = 1;
    sim__load_put_digits((uint8_t *)sm->src.addr, l->width, msisdn);
    sc_strlcpy(sm->dst.addr, l->env->o->to, sizeof sm->dst.addr);
    size_t h = udh ? 6 : 0;
    if (h) {
        memcpy(sm->msg, udh, h);
        sm->esm_class = SC_ESM_UDHI;
    }
    if (ucs2) {
        for (size_t i = 0; i < n; i++) {
            sm->msg[h + 2 * i] = 0;
            sm->msg[h + 2 * i + 1] = (uint8_t)text[i];
        }
        sm->msg_len = (uint16_t)(h + 2 * n);
        sm->data_coding = 8;
    } else {
        /* Digits and capitals are the same in GSM 03.38 and ASCII. */
        memcpy(sm->msg + h, text, n);
        sm->msg_len = (uint16_t)(h + n);
    }
    sm->use_payload = (uint8_t)datasm;
    *len = sc_pdu_encode_sm(sm, out, outsz);
    free(sm);
    return *len < 0 ? (int)*len : 0;
}

int sim__load_templates(struct sim_load *l, char *err, size_t errsz)
{
    /* service_type "" (1 byte), source_addr_ton, source_addr_npi: the source
     * address starts at the same offset in deliver_sm and data_sm. */
    l->addr_off = SC_PDU_HEADER_LEN + 3;
    for (int t = 0; t < T_N; t++)
        for (int u = 0; u < 2; u++)
            for (int d = 0; d < 2; d++) {
                struct tmpl *tp = &l->t[t][u][d];
                long len;
                const char *text = sim__load_text[t];
                int rc = sim__load_encode(l, text, strlen(text), u, d, l->from, NULL, tp->pdu,
                                          sizeof tp->pdu, &len);
                if (rc < 0 || len > UINT16_MAX) {
                    snprintf(err, errsz, "cannot encode the MO \"%s\": %s", sim__load_text[t],
                             sc_strerror(rc));
                    return SC_EINVAL;
                }
                tp->len = (uint16_t)len;
                char want[SC_ADDR_MAX];
                sim__load_put_digits((uint8_t *)want, l->width, l->from);
                if ((size_t)len < l->addr_off + l->width ||
                    memcmp(tp->pdu + l->addr_off, want, l->width) != 0) {
                    snprintf(err, errsz, "template: source_addr not where expected");
                    return SC_EPROTO;
                }
            }
    return 0;
}
