/* sc.c -- error texts and small string helpers shared by every subsystem. */
#include "base/sc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *sc_strerror(int err)
{
    switch (err) {
    case SC_OK:
        return "success";
#define SC__ERR_CASE(name, val, text) case SC_E##name: return text;
        SC_ERR_MAP(SC__ERR_CASE)
#undef SC__ERR_CASE
    default:
        return "unknown error";
    }
}

size_t sc_strlcpy(char *dst, const char *src, size_t dstsz)
{
    size_t n = strlen(src);
    if (dstsz > 0) {
        size_t c = n < dstsz - 1 ? n : dstsz - 1;
        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return n;
}

const char *const sc_default_msisdn_prefixes[2] = {"+86", "86"};

/* At least 7 digits and nothing else: what a national number looks like
 * ("8612345" is a short code, not 86 + "12345"). */
static int national_digits(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (s[n] < '0' || s[n] > '9')
            return 0;
    return n >= 7;
}

void sc_msisdn_national(const char *const *prefixes, size_t nprefixes, const char *addr,
                        char *out, size_t outsz)
{
    for (size_t i = 0; i < nprefixes; i++) {
        size_t n = strlen(prefixes[i]);
        if (n && strncmp(addr, prefixes[i], n) == 0 && national_digits(addr + n)) {
            addr += n;
            break;
        }
    }
    sc_strlcpy(out, addr, outsz);
}

uint64_t sc_xorshift64s(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

uint64_t sc_xorshift64s_seed(uint64_t entropy)
{
    uint64_t s = entropy ^ 0x9E3779B97F4A7C15ULL;
    return s ? s : 1;
}

char *sc_fmt_past_time(long long t, long long now, char *out, size_t outsz)
{
    time_t tt = (time_t)t, tn = (time_t)now;
    struct tm a, b;
    if (!outsz)
        return out;
    if (!localtime_r(&tt, &a) || !localtime_r(&tn, &b)) {
        sc_strlcpy(out, "?", outsz);
        return out;
    }
    if (a.tm_year == b.tm_year && a.tm_yday == b.tm_yday)
        snprintf(out, outsz, "%02d:%02d", a.tm_hour, a.tm_min);
    else if (a.tm_year == b.tm_year)
        snprintf(out, outsz, "%d月%d日%02d:%02d", a.tm_mon + 1, a.tm_mday, a.tm_hour, a.tm_min);
    else
        snprintf(out, outsz, "%d年%d月%d日%02d:%02d", a.tm_year + 1900, a.tm_mon + 1, a.tm_mday,
                 a.tm_hour, a.tm_min);
    return out;
}

char *sc_fmt_past_time_text(const char *unix_s, char *out, size_t outsz)
{
    char *end = NULL;
    long long t = unix_s ? strtoll(unix_s, &end, 10) : 0;
    if (!unix_s || !*unix_s || *end) {
        sc_strlcpy(out, "?", outsz);
        return out;
    }
    return sc_fmt_past_time(t, (long long)time(NULL), out, outsz);
}
