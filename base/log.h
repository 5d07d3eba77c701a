/* log.h -- structured logging: one line per event, key=value fields. */
#ifndef SC_LOG_H
#define SC_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

enum sc_log_level { SC_LOG_DEBUG, SC_LOG_INFO, SC_LOG_WARN, SC_LOG_ERROR };

/* Lines look like
 *   2026-11-22T03:10:00.123Z level=info event=bound bind=smsc1 peer=127.0.0.1:2775
 * The caller's format supplies everything after "level=...": by convention
 * "event=NAME" first, then key=value pairs; values with spaces are quoted with
 * sc_log_quote(). Never pass a password. Output goes to stderr, unbuffered
 * per line, so logs interleave correctly with a supervisor's. */
void sc_log(enum sc_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sc_log_set_level(enum sc_log_level level);
int sc_log_enabled(enum sc_log_level level);
/* Parse "debug"/"info"/"warn"/"error"; returns the level or -1. */
int sc_log_level_parse(const char *s);

/* Quote a value for a log line: wraps in "..." and escapes quotes, backslashes
 * and control bytes. Writes into buf (always NUL-terminated, truncated with
 * "..." if needed) and returns buf. */
const char *sc_log_quote(char *buf, size_t bufsz, const char *s, size_t len);

/* A value from a peer (an SMSC's address, message id, system_id; Redis
 * data) for a log line: bare when it is not empty and every byte is
 * printable ASCII other than space, '"', '\\' and '=' (so that
 * "msisdn=13800138000" stays as it is), else quoted as sc_log_quote() does.
 * Never lets a newline or an escape sequence into a line. Writes into buf
 * (always NUL-terminated, truncated with "..." when needed), returns buf. */
const char *sc_log_value(char *buf, size_t bufsz, const char *s, size_t len);

/* sc_log_value of a NUL-terminated string, in a buffer that lives until the
 * end of the enclosing block: sc_info("event=x src=%s", SC_LOGV(addr)). */
#define SC_LOG_VALUE_MAX 128
#define SC_LOGV(s) sc_log_value((char[SC_LOG_VALUE_MAX]){0}, SC_LOG_VALUE_MAX, (s), strlen(s))

#define sc_debug(...) do { if (sc_log_enabled(SC_LOG_DEBUG)) sc_log(SC_LOG_DEBUG, __VA_ARGS__); } while (0)
#define sc_info(...)  sc_log(SC_LOG_INFO, __VA_ARGS__)
#define sc_warn(...)  sc_log(SC_LOG_WARN, __VA_ARGS__)
#define sc_error(...) sc_log(SC_LOG_ERROR, __VA_ARGS__)

#endif
