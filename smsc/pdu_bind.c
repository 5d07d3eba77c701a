/* pdu_bind.c -- bind_transmitter / bind_receiver / bind_transceiver over
 * libsmpp34: encoded by the daemon, decoded (after the guard,
 * pdu_guard.c) by smsc-sim. */
#include <limits.h>
#include <stdint.h>   /* before libsmpp34's headers, which use it */

#include <smpp34.h>
#include <smpp34_structs.h>
#include <smpp34_params.h>

#include "smsc/pdu_int.h"

long sc_pdu_encode_bind(const struct sc_bind *b, uint8_t *out, size_t outsz)
{
    if (!b || !out || !sc__pdu_is_bind(b->cmd_id) || b->seq == 0)
        return SC_EINVAL;
    long il = sc__pdu_field_len(b->system_id, sizeof b->system_id);
    long pl = sc__pdu_field_len(b->password, sizeof b->password);
    long tl = sc__pdu_field_len(b->system_type, sizeof b->system_type);
    long al = sc__pdu_field_len(b->address_range, sizeof b->address_range);
    if (il < 0 || pl < 0 || tl < 0 || al < 0 || !sc__pdu_ton_ok(b->addr_ton) ||
        !sc__pdu_npi_ok(b->addr_npi) ||
        (b->interface_version != SC_SMPP_VERSION_34 && b->cmd_id != SC_CMD_BIND_RECEIVER))
        return SC_EINVAL;
    size_t len = SC_PDU_HEADER_LEN + (size_t)(il + pl + tl + al) + 4 + 3;
    if (outsz < len + 1)
        return SC_ETOOBIG;
    int room = outsz > INT_MAX ? INT_MAX : (int)outsz;
    union {
        bind_transmitter_t tx;
        bind_receiver_t rx;
        bind_transceiver_t trx;
    } u;
    int plen = 0, r;
#define FILL_BIND(t, cmd)                                                    \
    do {                                                                     \
        memset((t), 0, sizeof *(t));                                         \
        (t)->command_id = (cmd);                                             \
        (t)->sequence_number = b->seq;                                       \
        memcpy((t)->system_id, b->system_id, (size_t)il + 1);                \
        memcpy((t)->password, b->password, (size_t)pl + 1);                  \
        memcpy((t)->system_type, b->system_type, (size_t)tl + 1);            \
        (t)->interface_version = b->interface_version;                       \
        (t)->addr_ton = b->addr_ton;                                         \
        (t)->addr_npi = b->addr_npi;                                         \
        memcpy((t)->address_range, b->address_range, (size_t)al + 1);        \
    } while (0)
    switch (b->cmd_id) {
    case SC_CMD_BIND_TRANSMITTER:
        FILL_BIND(&u.tx, BIND_TRANSMITTER);
        r = smpp34_pack(BIND_TRANSMITTER, out, room, &plen, &u.tx);
        break;
    case SC_CMD_BIND_RECEIVER:
        FILL_BIND(&u.rx, BIND_RECEIVER);
        r = smpp34_pack(BIND_RECEIVER, out, room, &plen, &u.rx);
        break;
    default:
        FILL_BIND(&u.trx, BIND_TRANSCEIVER);
        r = smpp34_pack(BIND_TRANSCEIVER, out, room, &plen, &u.trx);
        break;
    }
#undef FILL_BIND
    if (r != 0 || (size_t)plen != len)
        return SC_EPROTO;
    return plen;
}

int sc_pdu_decode_bind(const uint8_t *pdu, size_t len, struct sc_bind *out, uint32_t *status,
                       char *err, size_t errsz)
{
    uint32_t dummy;
    struct sc__pdu_walk w;
    struct sc_pdu_hdr h;
    int rc = sc__pdu_walk_begin(&w, pdu, len, out, status ? status : &dummy, err, errsz);
    if (rc || (rc = sc__pdu_guard_bind(&w, &h)))
        return rc;
    union {
        bind_transmitter_t tx;
        bind_receiver_t rx;
        bind_transceiver_t trx;
    } u;
    int r;
#define COPY_BIND(t)                                              \
    do {                                                          \
        SC__COPY_FIELD(out->system_id, (t)->system_id);               \
        SC__COPY_FIELD(out->password, (t)->password);                 \
        SC__COPY_FIELD(out->system_type, (t)->system_type);           \
        out->interface_version = (t)->interface_version;          \
        out->addr_ton = (t)->addr_ton;                            \
        out->addr_npi = (t)->addr_npi;                            \
        SC__COPY_FIELD(out->address_range, (t)->address_range);       \
    } while (0)
    switch (h.id) {
    case SC_CMD_BIND_TRANSMITTER:
        memset(&u.tx, 0, sizeof u.tx);
        if ((r = smpp34_unpack(BIND_TRANSMITTER, &u.tx, pdu, (int)len)) == 0)
            COPY_BIND(&u.tx);
        break;
    case SC_CMD_BIND_RECEIVER:
        memset(&u.rx, 0, sizeof u.rx);
        if ((r = smpp34_unpack(BIND_RECEIVER, &u.rx, pdu, (int)len)) == 0)
            COPY_BIND(&u.rx);
        break;
    default:
        memset(&u.trx, 0, sizeof u.trx);
        if ((r = smpp34_unpack(BIND_TRANSCEIVER, &u.trx, pdu, (int)len)) == 0)
            COPY_BIND(&u.trx);
        break;
    }
#undef COPY_BIND
    if (r != 0)
        return sc__pdu_fail(&w, SC_ESME_RSYSERR, "libsmpp34 refused the %s", sc_pdu_cmd_name(h.id));
    out->cmd_id = h.id;
    out->seq = h.seq;
    return 0;
}
