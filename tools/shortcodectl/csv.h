/* csv.h -- RFC 4180 CSV parser: bytes in, records out; no I/O, bounded memory.
 *
 * The input is fed in chunks of any size (sc_csv_feed), then closed with
 * sc_csv_finish. For each record the callback gets its fields and the line
 * on which the record starts. The grammar:
 *
 *   - A UTF-8 byte order mark (EF BB BF) at the very start is dropped.
 *   - Records end at LF, CRLF or a lone CR outside quotes; the last record
 *     may lack a line end. Empty lines are skipped (they are not records).
 *   - Fields are separated by ','. A field that starts with '"' is quoted:
 *     it ends at a '"' not followed by another '"'; "" is one literal quote;
 *     ',', CR and LF inside are data, kept byte for byte. After the closing
 *     quote only ',' or a line end may follow.
 *   - A '"' inside an unquoted field is an error.
 *   - Spaces are data (never trimmed). Bytes are not checked for encoding:
 *     that is the caller's job.
 *
 * A syntax error does not stop the parser: the record is delivered with
 * rec->error set (and no fields), and parsing resumes after the end of the
 * physical line where the error was found. A record longer than max_bytes or
 * with more than max_fields fields is such an error; memory never grows
 * beyond max_bytes + max_fields entries.
 *
 * Line numbers are 1-based and count every line end, including those inside
 * quoted fields, so they match what an editor shows.
 *
 * Ownership: the record and its field bytes are borrowed, valid only inside
 * the callback. Each field is NUL-terminated after len bytes (a field with an
 * embedded NUL byte has strlen(s) < len). */
#ifndef SC_CSV_H
#define SC_CSV_H

#include <stddef.h>

struct sc_csv;

struct sc_csv_field {
    const char *s;
    size_t len;
};

struct sc_csv_record {
    const struct sc_csv_field *fields;
    size_t nfields;          /* >= 1 unless error is set */
    unsigned long line;      /* where the record starts */
    const char *error;       /* NULL, or why the record could not be parsed */
};

/* Return 0 to go on; any other value stops the parser and is returned by
 * sc_csv_feed / sc_csv_finish. */
typedef int (*sc_csv_record_cb)(void *ctx, const struct sc_csv_record *rec);

/* A parser for records of at most max_bytes bytes of field data and at most
 * max_fields fields. NULL if out of memory. */
struct sc_csv *sc_csv_new(size_t max_bytes, size_t max_fields);
/* NULL is a no-op. */
void sc_csv_free(struct sc_csv *p);

/* Parse len more bytes; calls cb for each record completed. Returns 0, or
 * the callback's non-zero value (the parser must then not be fed again). */
int sc_csv_feed(struct sc_csv *p, const char *buf, size_t len, sc_csv_record_cb cb, void *ctx);

/* End of input: delivers the last record if it lacked a line end (or an
 * error for an unterminated quoted field). Returns like sc_csv_feed. */
int sc_csv_finish(struct sc_csv *p, sc_csv_record_cb cb, void *ctx);

/* Lines seen so far (the number of the line being read). */
unsigned long sc_csv_line(const struct sc_csv *p);

#endif
