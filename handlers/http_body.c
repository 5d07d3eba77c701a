/* http_body.c -- the `http` handler's bodies: the MO as a form or JSON, the
 * backend's answer read as a reply (handlers/http_body.h). */
#include "handlers/http_body.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistr.h>

#include "base/sc.h"
#include "base/smpp.h"
#include "text/text.h"

/* ---- the MO --------------------------------------------------------------- */

/* Append name=value (encoded) to out at *o; 0, or -1 when it does not fit. */
static int form_pair(char *out, size_t outsz, size_t *o, const char *name, const char *v)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = *o, nl = strlen(name);
    if (n + (n > 0) + nl + 2 > outsz)   /* "&", name, "=" and the NUL */
        return -1;
    if (n)
        out[n++] = '&';
    memcpy(out + n, name, nl);
    n += nl;
    out[n++] = '=';
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        int plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~';
        if (n + (plain ? 1 : 3) + 1 > outsz)   /* the byte (or "%XX") and the NUL */
            return -1;
        if (plain) {
            out[n++] = (char)*p;
        } else {
            out[n++] = '%';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 15];
        }
    }
    out[n] = '\0';
    *o = n;
    return 0;
}

size_t sc_http_form(const struct sc_http_mo *mo, char *out, size_t outsz)
{
    size_t o = 0;
    if (!outsz || form_pair(out, outsz, &o, "msisdn", mo->msisdn) < 0 ||
        form_pair(out, outsz, &o, "service", mo->service) < 0 ||
        form_pair(out, outsz, &o, "text", mo->text) < 0)
        return 0;
    for (size_t i = 0; i < mo->ncaps; i++) {
        char name[24];
        snprintf(name, sizeof name, "cap%zu", i + 1);
        if (form_pair(out, outsz, &o, name, mo->caps[i]) < 0)
            return 0;
    }
    return o;
}

size_t sc_http_json(const struct sc_http_mo *mo, char *out, size_t outsz)
{
    json_t *caps = json_array();
    for (size_t i = 0; caps && i < mo->ncaps; i++)
        json_array_append_new(caps, json_string(mo->caps[i]));
    json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "msisdn", mo->msisdn, "service", mo->service,
                          "text", mo->text, "caps", caps ? caps : json_null());
    size_t n = o ? json_dumpb(o, out, outsz, JSON_COMPACT) : 0;
    json_decref(o);
    if (n == 0 || n >= outsz)
        return 0;
    out[n] = '\0';
    return n;
}

/* ---- the answer ----------------------------------------------------------- */

/* Does content type ct (parameters allowed) name type t? */
static int is_type(const char *ct, const char *t)
{
    size_t n = strlen(t);
    return ct && strncasecmp(ct, t, n) == 0 && (!ct[n] || ct[n] == ';' || ct[n] == ' ');
}

/* The charset parameter of ct is absent, utf-8 or us-ascii. */
static int charset_ok(const char *ct)
{
    const char *p = ct;
    while (p && *p && strncasecmp(p, "charset=", 8) != 0)
        p++;
    if (!p || !*p)
        return 1;
    p += 8;
    if (*p == '"')
        p++;
    return strncasecmp(p, "utf-8", 5) == 0 || strncasecmp(p, "utf8", 4) == 0 ||
           strncasecmp(p, "us-ascii", 8) == 0;
}

/* Valid UTF-8 without control characters (LF allowed). */
static const char *check_text(const char *s, size_t len)
{
    if (u8_check((const uint8_t *)s, len))
        return "bad_utf8";
    const uint8_t *p = (const uint8_t *)s, *end = p + len;
    while (p < end) {
        ucs4_t c;
        int n = u8_mbtouc(&c, p, (size_t)(end - p));
        if ((c < 0x20 && c != '\n') || (c >= 0x7f && c < 0xa0))
            return "control_chars";
        p += n;
    }
    return NULL;
}

int sc_http_reply_parse(const char *content_type, const char *body, size_t len,
                        unsigned max_parts, int seg_mode, char *out, size_t outsz,
                        const char **why)
{
    const char *text = body;
    size_t tl = len;
    json_t *root = NULL;
    *why = NULL;
    if (is_type(content_type, "application/json")) {
        json_error_t e;
        root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
        json_t *r = json_is_object(root) ? json_object_get(root, "reply") : NULL;
        if (!root)
            *why = "bad_json";
        else if (!json_is_string(r))
            *why = "no_reply_field";
        else {
            text = json_string_value(r);
            tl = json_string_length(r);
        }
    } else if (!charset_ok(content_type)) {
        *why = "bad_charset";
    }
    while (!*why && tl && (text[tl - 1] == '\n' || text[tl - 1] == '\r' || text[tl - 1] == ' ' ||
                           text[tl - 1] == '\t'))
        tl--;
    if (!*why && tl >= outsz)
        *why = "too_long";
    if (!*why)
        *why = check_text(text, tl);
    if (!*why && tl) {
        struct sc_mt mt;
        if (sc_text_encode(text, tl, (enum sc_seg_mode)seg_mode, 0, max_parts, &mt) < 0)
            *why = "too_long";
    }
    if (!*why) {
        memcpy(out, text, tl);
        out[tl] = '\0';
    }
    json_decref(root);
    return *why ? -1 : 0;
}
