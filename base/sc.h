/* sc.h -- definitions every subsystem shares: error codes, small helpers. */
#ifndef SC_SC_H
#define SC_SC_H

#include <stddef.h>
#include <stdint.h>

/* One list gives the codes and their texts (sc_strerror). Functions return
 * 0 on success or one of these negative values. */
#define SC_ERR_MAP(X)                                     \
    X(NOMEM,   -1, "out of memory")                       \
    X(INVAL,   -2, "invalid argument")                    \
    X(PROTO,   -3, "protocol error")                      \
    X(TOOBIG,  -4, "too large")                           \
    X(AGAIN,   -5, "temporarily unavailable")             \
    X(TIMEOUT, -6, "timed out")                           \
    X(IO,      -7, "input/output error")                  \
    X(NOTFOUND,-8, "not found")                           \
    X(CLOSED,  -9, "connection closed")                   \
    X(CONFIG, -10, "configuration error")                 \
    X(BUSY,   -11, "busy")                                \
    X(RANGE,  -12, "out of range")                        \
    X(STATE,  -13, "wrong state")                         \
    X(ENCODING,-14, "invalid encoding")                   \
    X(REPLICA, -15, "too few replicas acknowledged")

enum sc_err {
    SC_OK = 0,
#define SC__ERR_ENUM(name, val, text) SC_E##name = (val),
    SC_ERR_MAP(SC__ERR_ENUM)
#undef SC__ERR_ENUM
};

/* Text for an SC_E* code (or "success"); never NULL. */
const char *sc_strerror(int err);

#define SC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SC_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SC_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Copy at most dstsz-1 bytes of src and NUL-terminate; returns strlen(src)
 * so the caller can detect truncation (like strlcpy). */
size_t sc_strlcpy(char *dst, const char *src, size_t dstsz);

/* xorshift64*: a fast, seedable generator for jitter and simulations (not
 * for anything secret). *state must not be 0; it is advanced. */
uint64_t sc_xorshift64s(uint64_t *state);
/* A valid (non-zero) state for sc_xorshift64s from some entropy, e.g. the
 * time and an address. */
uint64_t sc_xorshift64s_seed(uint64_t entropy);

/* The national number of an address: addr without the first of prefixes
 * (e.g. "+86", "86"; pass them longest first) it starts with, when what
 * follows is 7 or more digits ("8612345" stays as it is). Redis keys and logs use it; the daemon and shortcodectl
 * share this one rule. out is always NUL-terminated. */
void sc_msisdn_national(const char *const *prefixes, size_t nprefixes, const char *addr,
                        char *out, size_t outsz);

/* A past moment t (unix s) for texts, in the local time zone, relative to
 * now: "10:31" on the same day, "12月2日10:31" on another day of the same
 * year, "2025年12月31日23:50" in another year. out is always
 * NUL-terminated; returns out. */
char *sc_fmt_past_time(long long t, long long now, char *out, size_t outsz);
/* The same for a time given as decimal unix seconds (a script's result),
 * relative to the current time; "?" when unix_s is NULL, empty or not a
 * number. */
char *sc_fmt_past_time_text(const char *unix_s, char *out, size_t outsz);

/* The default prefixes (msisdn_prefixes in the config): "+86", "86". */
extern const char *const sc_default_msisdn_prefixes[2];

#endif
