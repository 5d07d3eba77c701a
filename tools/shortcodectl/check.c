/* check.c -- shortcodectl's field checks (see check.h). */
#include "base/sc.h"
#include "check.h"

#include <stdio.h>
#include <string.h>
#include <unistr.h>

static int all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

int ctl_check_push_id(const char *s, size_t len, char *err, size_t errsz)
{
    int ok = len >= 1 && len <= CTL_PUSH_ID_MAX;
    for (size_t i = 0; ok && i < len; i++)
        ok = s[i] > ' ' && s[i] < 0x7f;
    if (!ok)
        snprintf(err, errsz, "must be 1..%d printable ASCII characters without spaces",
                 CTL_PUSH_ID_MAX);
    return ok ? 0 : -1;
}

int ctl_check_code(const char *s, size_t len, char *err, size_t errsz)
{
    if (len == 0 || len > CTL_CODE_MAX) {
        snprintf(err, errsz, "must be 1..%d characters", CTL_CODE_MAX);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-')) {
            snprintf(err, errsz, "may hold only A-Z a-z 0-9 _ -");
            return -1;
        }
    }
    return 0;
}

int ctl_check_text(const char *s, size_t len, int nonempty, char *err, size_t errsz)
{
    if (nonempty && len == 0) {
        snprintf(err, errsz, "is empty");
        return -1;
    }
    const uint8_t *bad = u8_check((const uint8_t *)s, len);
    if (bad) {
        snprintf(err, errsz, "is not valid UTF-8 (byte 0x%02x at offset %zu)", *bad,
                 (size_t)(bad - (const uint8_t *)s));
        return -1;
    }
    if (memchr(s, '\0', len)) {
        snprintf(err, errsz, "holds a NUL byte");
        return -1;
    }
    return 0;
}

int ctl_find_control(const char *s, size_t len, uint32_t *cp, size_t *at)
{
    const uint8_t *u = (const uint8_t *)s;
    size_t chars = 0;
    for (size_t i = 0; i < len;) {
        ucs4_t uc;
        int n = u8_mbtoucr(&uc, u + i, len - i);
        if (n <= 0)
            return 0; /* not valid UTF-8: ctl_check_text refuses it */
        chars++;
        if (uc < 0x20 || (uc >= 0x7f && uc <= 0x9f)) {
            *cp = (uint32_t)uc;
            *at = chars;
            return 1;
        }
        i += (size_t)n;
    }
    return 0;
}

const char *ctl_control_name(uint32_t cp)
{
    static const char *const c0[32] = {
        "NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "TAB", "LF",
        "VT",  "FF",  "CR",  "SO",  "SI",  "DLE", "DC1", "DC2", "DC3", "DC4", "NAK",
        "SYN", "ETB", "CAN", "EM",  "SUB", "ESC", "FS",  "GS",  "RS",  "US"};
    if (cp < 32)
        return c0[cp];
    if (cp == 0x7f)
        return "DEL";
    return cp >= 0x80 && cp <= 0x9f ? "C1" : "?";
}

int ctl_parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out, char *err,
                   size_t errsz)
{
    uint64_t v = 0;
    if (len == 0 || !all_digits(s, len)) {
        snprintf(err, errsz, "is not a non-negative integer");
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > max) {
            snprintf(err, errsz, "is larger than %llu", (unsigned long long)max);
            return -1;
        }
    }
    *out = v;
    return 0;
}

int ctl_msisdn_normalise(const char *s, size_t len, char out[CTL_MSISDN_MAX + 1], char *err,
                         size_t errsz)
{
    /* The daemon's rule (sc_msisdn_national) with the default prefixes, so
     * that imported rows land under the keys the daemon reads. */
    char in[64], nat[64];
    if (len >= sizeof in) {
        snprintf(err, errsz, "is too long");
        return -1;
    }
    memcpy(in, s, len);
    in[len] = '\0';
    sc_msisdn_national(sc_default_msisdn_prefixes, 2, in, nat, sizeof nat);
    len = strlen(nat);
    if (!all_digits(nat, len) || len < CTL_MSISDN_MIN || len > CTL_MSISDN_MAX) {
        snprintf(err, errsz, "must be %d..%d digits (after an optional +86 or 86 prefix)",
                 CTL_MSISDN_MIN, CTL_MSISDN_MAX);
        return -1;
    }
    memcpy(out, nat, len + 1);
    return 0;
}

/* Append c as \xNN; 0, or -1 when out of room. */
static int put_hex(char *buf, size_t room, size_t *o, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    if (*o + 4 > room)
        return -1;
    buf[(*o)++] = '\\';
    buf[(*o)++] = 'x';
    buf[(*o)++] = hex[c >> 4];
    buf[(*o)++] = hex[c & 15];
    return 0;
}

const char *ctl_printable(char *buf, size_t bufsz, const char *s, size_t len, int quote)
{
    const uint8_t *u = (const uint8_t *)s;
    size_t o = 0, room = bufsz > 8 ? bufsz - 6 : 0;   /* keep space for ..." and NUL */
    int cut = 0;
    if (room == 0) {
        if (bufsz)
            buf[0] = '\0';
        return buf;
    }
    if (quote)
        buf[o++] = '"';
    for (size_t i = 0; i < len && !cut;) {
        ucs4_t uc;
        int n = u[i] < 0x80 ? 1 : u8_mbtoucr(&uc, u + i, len - i);
        if (n < 0 || u[i] < 0x20 || u[i] == 0x7f) {
            cut = put_hex(buf, room, &o, u[i]) < 0;
            i++;
        } else if (u[i] == '\\' || (quote && u[i] == '"')) {
            cut = o + 2 > room;
            if (!cut) {
                buf[o++] = '\\';
                buf[o++] = (char)u[i++];
            }
        } else if (o + (size_t)n <= room) {
            memcpy(buf + o, u + i, (size_t)n);
            o += (size_t)n;
            i += (size_t)n;
        } else {
            cut = 1;
        }
    }
    if (cut) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    if (quote)
        buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}
