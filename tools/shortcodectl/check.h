/* check.h -- shortcodectl's field checks: pure functions over (bytes, length)
 * that accept a value or say why not (err: a short reason, no value quoted). */
#ifndef SC_CTL_CHECK_H
#define SC_CTL_CHECK_H

#include <stddef.h>
#include <stdint.h>

#define CTL_CODE_MAX 32      /* service code: 1..32 of [A-Za-z0-9_-] */
#define CTL_MSISDN_MIN 5     /* national number: 5..20 digits */
#define CTL_MSISDN_MAX 20

#define CTL_PUSH_ID_MAX 64   /* a push's id: 1..64 printable ASCII, no spaces */

/* A push's id (mt:push, docs/contracts.md). 0 or -1 with err. */
int ctl_check_push_id(const char *s, size_t len, char *err, size_t errsz);

/* A service code (also used for "kind"). 0 or -1 with err. */
int ctl_check_code(const char *s, size_t len, char *err, size_t errsz);

/* Valid UTF-8 without NUL bytes; empty refused when nonempty. 0 or -1. */
int ctl_check_text(const char *s, size_t len, int nonempty, char *err, size_t errsz);

/* The first control character in valid UTF-8 s[0..len): C0 (U+0000..U+001F:
 * CR, LF, tab, ESC ...), DEL (U+007F) or C1 (U+0080..U+009F). Returns 1 with
 * *cp (the code point) and *at (its position in characters, from 1), or 0. */
int ctl_find_control(const char *s, size_t len, uint32_t *cp, size_t *at);

/* A short name for a control character: "LF", "CR", "TAB", "ESC", "DEL",
 * "C1" ...; never NULL. */
const char *ctl_control_name(uint32_t cp);

/* A decimal integer 0..max, digits only (no sign, no spaces); leading zeros
 * allowed. 0 with *out set, or -1 with err. */
int ctl_parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out, char *err,
                   size_t errsz);

/* Normalise an MSISDN as the daemon does with its default prefixes: a
 * leading "+86" or "86" followed by exactly 11 digits is stripped
 * ("+8613800138000" -> "13800138000"); the rest must be 5..20 digits. Writes
 * the national number into out (NUL-terminated). 0 or -1 with err. */
int ctl_msisdn_normalise(const char *s, size_t len, char out[CTL_MSISDN_MAX + 1], char *err,
                         size_t errsz);

/* Printable form of s[0..len) for messages and listings: valid UTF-8 is
 * kept; '\\' (and '"' when quoted) are backslashed; control bytes and bytes
 * that are not valid UTF-8 become \xNN. With quote, the result is wrapped
 * in "...". Always NUL-terminated in buf; cut with "..." when too long.
 * Returns buf. */
const char *ctl_printable(char *buf, size_t bufsz, const char *s, size_t len, int quote);

#endif
