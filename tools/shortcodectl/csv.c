/* csv.c -- RFC 4180 CSV parser (see csv.h): a byte-at-a-time state machine
 * over one growing record buffer. */
#include "csv.h"

#include <stdlib.h>
#include <string.h>

enum csv_state {
    ST_LINE_START,     /* before a record; line ends here are empty lines */
    ST_FIELD_START,    /* a field has begun, no byte of it seen yet */
    ST_UNQUOTED,
    ST_QUOTED,
    ST_QUOTED_QUOTE,   /* a '"' inside a quoted field: closing, or first of "" */
    ST_SKIP,           /* after an error, up to the end of the physical line */
};

struct csv_span {
    size_t off, len;
};

struct sc_csv {
    enum csv_state st;
    char *buf;                     /* field bytes, each field NUL-terminated */
    size_t len, cap, max_cap;
    size_t data_bytes, max_bytes;  /* field bytes of the record, and the limit */
    struct csv_span *spans;
    struct sc_csv_field *fields;   /* built from spans when a record is delivered */
    size_t nfields, max_fields;
    unsigned long line;            /* line being read */
    unsigned long rec_line;        /* line where the current record started */
    int prev_cr;                   /* the previous byte was CR (CRLF counts once) */
    unsigned bom;                  /* BOM bytes matched at the start; BOM_DONE after */
    const char *error;
};

static const unsigned char BOM[3] = {0xEF, 0xBB, 0xBF};
#define BOM_DONE 4u

struct sc_csv *sc_csv_new(size_t max_bytes, size_t max_fields)
{
    if (max_fields == 0)
        return NULL;
    struct sc_csv *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->spans = calloc(max_fields, sizeof *p->spans);
    p->fields = calloc(max_fields, sizeof *p->fields);
    if (!p->spans || !p->fields) {
        sc_csv_free(p);
        return NULL;
    }
    p->max_bytes = max_bytes;
    p->max_cap = max_bytes + max_fields;   /* data plus one NUL per field */
    p->max_fields = max_fields;
    p->line = 1;
    return p;
}

void sc_csv_free(struct sc_csv *p)
{
    if (!p)
        return;
    free(p->buf);
    free(p->spans);
    free(p->fields);
    free(p);
}

unsigned long sc_csv_line(const struct sc_csv *p)
{
    return p->line;
}

/* Make room for one more byte; 0, or -1 when the record is too big or out
 * of memory (p->error says which). */
static int reserve(struct sc_csv *p)
{
    if (p->len < p->cap)
        return 0;
    size_t ncap = p->cap ? p->cap * 2 : 256;
    if (ncap > p->max_cap)
        ncap = p->max_cap;
    char *nb = ncap > p->cap ? realloc(p->buf, ncap) : NULL;
    if (!nb) {
        p->error = ncap > p->cap ? "out of memory" : "record too long";
        return -1;
    }
    p->buf = nb;
    p->cap = ncap;
    return 0;
}

static int append(struct sc_csv *p, unsigned char c)
{
    if (p->data_bytes >= p->max_bytes) {
        p->error = "record too long";
        return -1;
    }
    if (reserve(p) < 0)
        return -1;
    p->buf[p->len++] = (char)c;
    p->data_bytes++;
    return 0;
}

static int begin_field(struct sc_csv *p)
{
    if (p->nfields == p->max_fields) {
        p->error = "too many fields";
        return -1;
    }
    p->spans[p->nfields].off = p->len;
    p->st = ST_FIELD_START;
    return 0;
}

/* Close the current field with a NUL, which max_cap always leaves room for;
 * only a failed realloc can drop it, and that sets p->error. */
static void end_field(struct sc_csv *p)
{
    struct csv_span *sp = &p->spans[p->nfields++];
    sp->len = p->len - sp->off;
    if (reserve(p) == 0)
        p->buf[p->len++] = '\0';
}

/* Deliver the current record (or its error) and reset for the next one. */
static int emit(struct sc_csv *p, sc_csv_record_cb cb, void *ctx)
{
    struct sc_csv_record rec = {.fields = p->fields, .line = p->rec_line, .error = p->error};
    if (!p->error) {
        for (size_t i = 0; i < p->nfields; i++) {
            p->fields[i].s = p->buf + p->spans[i].off;
            p->fields[i].len = p->spans[i].len;
        }
        rec.nfields = p->nfields;
    }
    p->st = ST_LINE_START;
    p->len = p->data_bytes = p->nfields = 0;
    p->error = NULL;
    return cb(ctx, &rec);
}

static int is_eol(unsigned char c)
{
    return c == '\n' || c == '\r';
}

/* A syntax error at byte c (p->error already set): skip to the line end. */
static int bad_byte(struct sc_csv *p, unsigned char c, sc_csv_record_cb cb, void *ctx)
{
    if (is_eol(c))
        return emit(p, cb, ctx);
    p->st = ST_SKIP;
    return 0;
}

/* The byte after a field's content: a separator or a line end. */
static int field_end(struct sc_csv *p, unsigned char c, sc_csv_record_cb cb, void *ctx)
{
    end_field(p);
    if (c == ',')
        return begin_field(p) < 0 ? bad_byte(p, c, cb, ctx) : 0;
    return emit(p, cb, ctx);
}

static int step(struct sc_csv *p, unsigned char c, sc_csv_record_cb cb, void *ctx)
{
    switch (p->st) {
    case ST_LINE_START:
        if (is_eol(c))
            return 0;
        p->rec_line = p->line;
        if (begin_field(p) < 0)
            return bad_byte(p, c, cb, ctx);
        /* fall through */
    case ST_FIELD_START:
        if (c == '"') {
            p->st = ST_QUOTED;
            return 0;
        }
        p->st = ST_UNQUOTED;
        /* fall through */
    case ST_UNQUOTED:
        if (c == ',' || is_eol(c))
            return field_end(p, c, cb, ctx);
        if (c == '"') {
            p->error = "'\"' inside an unquoted field (quote the whole field)";
            return bad_byte(p, c, cb, ctx);
        }
        return append(p, c) < 0 ? bad_byte(p, c, cb, ctx) : 0;
    case ST_QUOTED:
        if (c == '"') {
            p->st = ST_QUOTED_QUOTE;
            return 0;
        }
        return append(p, c) < 0 ? bad_byte(p, c, cb, ctx) : 0;
    case ST_QUOTED_QUOTE:
        if (c == '"') {
            p->st = ST_QUOTED;
            return append(p, c) < 0 ? bad_byte(p, c, cb, ctx) : 0;
        }
        if (c == ',' || is_eol(c))
            return field_end(p, c, cb, ctx);
        p->error = "text after the closing quote of a field";
        return bad_byte(p, c, cb, ctx);
    case ST_SKIP:
        return is_eol(c) ? emit(p, cb, ctx) : 0;
    }
    return 0;
}

/* Count lines (CR, LF and CRLF each end one) and run the state machine. */
static int feed_byte(struct sc_csv *p, unsigned char c, sc_csv_record_cb cb, void *ctx)
{
    int rc = step(p, c, cb, ctx);
    if (c == '\r' || (c == '\n' && !p->prev_cr))
        p->line++;
    p->prev_cr = c == '\r';
    return rc;
}

/* The BOM bytes held back so far turned out to be data: parse them. */
static int replay_bom(struct sc_csv *p, unsigned n, sc_csv_record_cb cb, void *ctx)
{
    p->bom = BOM_DONE;
    for (unsigned i = 0; i < n; i++) {
        int rc = feed_byte(p, BOM[i], cb, ctx);
        if (rc)
            return rc;
    }
    return 0;
}

int sc_csv_feed(struct sc_csv *p, const char *buf, size_t len, sc_csv_record_cb cb, void *ctx)
{
    const unsigned char *s = (const unsigned char *)buf;
    size_t i = 0;
    while (p->bom < 3 && i < len) {
        if (s[i] == BOM[p->bom]) {
            p->bom++;
            i++;
        } else {
            int rc = replay_bom(p, p->bom, cb, ctx);
            if (rc)
                return rc;
        }
    }
    if (p->bom == 3)
        p->bom = BOM_DONE;
    for (; i < len; i++) {
        int rc = feed_byte(p, s[i], cb, ctx);
        if (rc)
            return rc;
    }
    return 0;
}

int sc_csv_finish(struct sc_csv *p, sc_csv_record_cb cb, void *ctx)
{
    if (p->bom < 3) {
        int rc = replay_bom(p, p->bom, cb, ctx);
        if (rc)
            return rc;
    }
    switch (p->st) {
    case ST_LINE_START:
        return 0;
    case ST_QUOTED:
        p->error = "quoted field not closed before the end of the file";
        return emit(p, cb, ctx);
    case ST_SKIP:
        return emit(p, cb, ctx);
    default:
        end_field(p);
        return emit(p, cb, ctx);
    }
}
