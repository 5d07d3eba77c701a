/* smpp.h -- SMPP words every layer names: command_status values and their
 * names, what data_coding 0 means, how a long MT is cut, the part limit.
 *
 * In base/ because the configuration (config/) parses them, the codec and
 * the binds (smsc/) and the text encoder (text/) use them, and config/ may
 * include neither smsc/ nor text/ (docs/architecture.md). Pure functions. */
#ifndef SC_SMPP_H
#define SC_SMPP_H

#include <stdint.h>

/* command_status values (the ones this project uses or logs by name). */
#define SC_ESME_MAP(X)                 \
    X(ROK,              0x00)          \
    X(RINVMSGLEN,       0x01)          \
    X(RINVCMDLEN,       0x02)          \
    X(RINVCMDID,        0x03)          \
    X(RINVBNDSTS,       0x04)          \
    X(RALYBND,          0x05)          \
    X(RSYSERR,          0x08)          \
    X(RINVSRCADR,       0x0A)          \
    X(RINVDSTADR,       0x0B)          \
    X(RBINDFAIL,        0x0D)          \
    X(RINVPASWD,        0x0E)          \
    X(RINVSYSID,        0x0F)          \
    X(RMSGQFUL,         0x14)          \
    X(RSUBMITFAIL,      0x45)          \
    X(RTHROTTLED,       0x58)          \
    X(RX_T_APPN,        0x64)          \
    X(RX_P_APPN,        0x65)          \
    X(RX_R_APPN,        0x66)          \
    X(RINVOPTPARSTREAM, 0xC0)          \
    X(ROPTPARNOTALLWD,  0xC1)          \
    X(RINVPARLEN,       0xC2)          \
    X(RMISSINGOPTPARAM, 0xC3)          \
    X(RINVOPTPARAMVAL,  0xC4)          \
    X(RDELIVERYFAILURE, 0xFE)          \
    X(RUNKNOWNERR,      0xFF)

enum sc_esme_status {
#define SC__ESME_ENUM(name, val) SC_ESME_##name = (val),
    SC_ESME_MAP(SC__ESME_ENUM)
#undef SC__ESME_ENUM
};

/* Names for logs: "ESME_RTHROTTLED". Unknown values give "unknown"; never
 * NULL. */
const char *sc_pdu_status_name(uint32_t status);
/* Parse a status name ("ESME_RX_T_APPN", "RX_T_APPN") or a number ("0x64",
 * "100"); returns 0 and sets *status, or SC_EINVAL. */
int sc_pdu_status_parse(const char *s, uint32_t *status);

/* What data_coding 0 ("SMSC default alphabet") means for a given SMSC. */
enum sc_dc0 { SC_DC0_GSM = 0, SC_DC0_LATIN1, SC_DC0_ASCII };

/* Parse "gsm" / "latin1" / "ascii"; returns the value or -1. */
int sc_dc0_parse(const char *s);

/* How a text longer than one SMS is sent. */
enum sc_seg_mode {
    SC_SEG_UDH = 0,   /* parts with UDH 05 00 03 ref total seq, esm_class 0x40 */
    SC_SEG_SAR,       /* parts without UDH; the caller adds SAR TLVs */
    SC_SEG_PAYLOAD,   /* one message_payload holding the whole text */
};
/* Parse "udh" / "sar" / "payload"; returns the value or -1. */
int sc_seg_mode_parse(const char *s);

#define SC_MT_MAX_PARTS 16

#endif
