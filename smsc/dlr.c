/* dlr.c -- delivery receipt texts ("id:X sub:001 dlvrd:001 submit date:...
 * done date:... stat:DELIVRD err:000 text:..."): parsed for the daemon's
 * log, written by smsc-sim. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/sc.h"
#include "smsc/pdu.h"

/* Copy the value at text[*i] up to the next space into dst; a value too
 * long for dst leaves it "" (a cut id would name another message, a cut
 * stat another outcome). */
static void dlr_value(const uint8_t *text, size_t len, size_t *i, char *dst, size_t dstsz)
{
    size_t n = 0, all = 0;
    while (*i < len && text[*i] != ' ' && text[*i] != '\0') {
        if (n + 1 < dstsz)
            dst[n++] = (char)text[*i];
        all++;
        (*i)++;
    }
    dst[all < dstsz ? n : 0] = '\0';
}

static int dlr_key(const uint8_t *text, size_t len, size_t i, const char *key)
{
    size_t kl = strlen(key);
    return len - i >= kl && strncasecmp((const char *)text + i, key, kl) == 0;
}

int sc_msgid_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] <= ' ' || (unsigned char)s[n] > '~' || n + 1 >= SC_MSGID_MAX)
            return 0;
    return n > 0;
}

int sc_dlr_parse(const uint8_t *text, size_t len, struct sc_dlr *out)
{
    if (!out)
        return SC_EINVAL;
    out->id[0] = out->stat[0] = '\0';
    out->err = -1;
    if (!text)
        return SC_EPROTO;
    int have_id = 0, have_stat = 0;
    size_t i = 0;
    while (i < len) {
        if (text[i] == ' ') {
            i++;
            continue;
        }
        /* At the start of a word. "text:" ends the fields: what follows is
         * the message, which may contain anything. */
        if (dlr_key(text, len, i, "text:"))
            break;
        if (dlr_key(text, len, i, "id:")) {
            i += 3;
            dlr_value(text, len, &i, out->id, sizeof out->id);
            have_id = out->id[0] != '\0';
        } else if (dlr_key(text, len, i, "stat:")) {
            i += 5;
            dlr_value(text, len, &i, out->stat, sizeof out->stat);
            have_stat = out->stat[0] != '\0';
        } else if (dlr_key(text, len, i, "err:")) {
            char v[16];
            i += 4;
            dlr_value(text, len, &i, v, sizeof v);
            if (isdigit((unsigned char)v[0]) && strlen(v) <= 9)
                out->err = atoi(v);
        } else {
            /* sub:, dlvrd:, submit date:, done date:, or noise: skip the word. */
            while (i < len && text[i] != ' ')
                i++;
        }
    }
    return have_id && have_stat ? 0 : SC_EPROTO;
}

static void dlr_date(char *buf, size_t sz, long t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        memset(&tm, 0, sizeof tm);
    snprintf(buf, sz, "%02d%02d%02d%02d%02d", tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min);
}

size_t sc_dlr_format(char *out, size_t outsz, const char *id, const char *stat, int err,
                     long submit_time, long done_time)
{
    if (!out || outsz == 0)
        return 0;
    char sd[64], dd[64];
    dlr_date(sd, sizeof sd, submit_time);
    dlr_date(dd, sizeof dd, done_time);
    if (!stat)
        stat = "UNKNOWN";
    if (err < 0)
        err = 0;
    int n = snprintf(out, outsz, "id:%s sub:001 dlvrd:%s submit date:%s done date:%s stat:%.7s err:%03d text:",
                     id ? id : "", strcmp(stat, "DELIVRD") == 0 ? "001" : "000", sd, dd, stat,
                     err % 1000);
    if (n < 0) {
        out[0] = '\0';
        return 0;
    }
    return (size_t)n < outsz ? (size_t)n : outsz - 1;
}
