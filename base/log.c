/* log.c -- structured one-line-per-event logging to stderr. */
#include "base/log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum sc_log_level g_level = SC_LOG_INFO;
static const char *const g_names[] = {"debug", "info", "warn", "error"};

void sc_log_set_level(enum sc_log_level level) { g_level = level; }
int sc_log_enabled(enum sc_log_level level) { return level >= g_level; }

int sc_log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, g_names[i]) == 0)
            return i;
    return -1;
}

void sc_log(enum sc_log_level level, const char *fmt, ...)
{
    if (level < g_level)
        return;
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, g_names[level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : ((size_t)m < sizeof line - (size_t)n - 2 ? (size_t)m : sizeof line - (size_t)n - 2));
    line[len++] = '\n';
    /* One write per line so concurrent writers never interleave mid-line. */
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

const char *sc_log_quote(char *buf, size_t bufsz, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (bufsz < 8) {
        if (bufsz)
            buf[0] = '\0';
        return buf;
    }
    buf[o++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (o + 8 >= bufsz) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            buf[o++] = '\\';
            buf[o++] = 'x';
            buf[o++] = hex[c >> 4];
            buf[o++] = hex[c & 15];
        } else {
            buf[o++] = (char)c;
        }
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

const char *sc_log_value(char *buf, size_t bufsz, const char *s, size_t len)
{
    int bare = len > 0 && len < bufsz;
    for (size_t i = 0; bare && i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        bare = c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '=';
    }
    if (!bare)
        return sc_log_quote(buf, bufsz, s, len);
    memcpy(buf, s, len);
    buf[len] = '\0';
    return buf;
}
