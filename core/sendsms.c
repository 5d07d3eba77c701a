/* sendsms.c -- Kannel's GET /cgi-bin/sendsms (username, password, to,
 * text, charset, coding, from) mapped to an mt:push entry as POST /v1/mt
 * makes it, answered with Kannel's texts so that its clients keep working.
 * Credentials: http.sendsms_users. docs/operations.md "sendsms". */
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/sc.h"
#include "core/api.h"
#include "core/app.h"
#include "core/http.h"
#include "core/mt_check.h"
#include "store/keys.h"

#define T_AUTH "Authorization failed for sendsms"
#define T_NO_TO "Missing receiver number, rejected"
#define T_EMPTY_TO "Empty receiver number not allowed, rejected"
#define T_BAD_TO "Receiver number misformed, rejected"
#define T_CODING "Coding field misformed, rejected"
#define T_BODY "Charset or body misformed, rejected"
#define T_FROM "Sender field misformed, rejected"

/* A user of http.sendsms_users with this password? Every user's password
 * is compared, in constant time. */
static int user_ok(const struct sc_cfg_http *h, const char *user, const char *pw, size_t pwlen)
{
    int ok = 0;
    for (size_t i = 0; user && pw && i < h->nsendsms_users; i++) {
        const struct sc_cfg_sendsms_user *u = &h->sendsms_users[i];
        int same = sc__api_ct_equal(pw, pwlen, u->password, strlen(u->password));
        ok |= same & (strcmp(u->username, user) == 0);
    }
    return ok;
}

/* text in charset as UTF-8 in a new buffer (*outlen bytes), NULL when the
 * charset is unknown or the text is not in it. */
static char *to_utf8(const char *charset, const char *text, size_t len, size_t *outlen)
{
    iconv_t cd = iconv_open("UTF-8", charset);
    if (cd == (iconv_t)-1)
        return NULL;
    size_t cap = 4 * len + 16; /* UTF-8 takes at most 4 bytes for any input byte */
    char *out = malloc(cap), *in = (char *)text, *o = out;
    size_t inleft = len, oleft = cap;
    if (!out || iconv(cd, &in, &inleft, &o, &oleft) == (size_t)-1 ||
        iconv(cd, NULL, NULL, &o, &oleft) == (size_t)-1) {
        free(out);
        out = NULL;
    } else {
        *outlen = cap - oleft;
    }
    iconv_close(cd);
    return out;
}

static int bad(struct sc_http_req *req, const char *text)
{
    sc_http_respond_str(req, 400, NULL, text);
    return -1;
}

/* The text of the request as UTF-8 (a new buffer), or NULL with 400 answered. */
static char *request_text(struct sc_http_req *req, size_t *len)
{
    size_t clen = 0, tlen = 0;
    const char *coding = sc_http_query(req, "coding", &clen);
    const char *text = sc_http_query(req, "text", &tlen);
    const char *cs = sc_http_query(req, "charset", NULL);
    /* 0: 7 bits, 2: UCS-2 (the daemon chooses the encoding by the text
     * either way); 1 (8-bit binary data) is no text. */
    if (coding && !(clen == 1 && (coding[0] == '0' || coding[0] == '2'))) {
        bad(req, T_CODING);
        return NULL;
    }
    if (!cs || !cs[0])
        cs = coding && coding[0] == '2' ? "UTF-16BE" : "UTF-8";
    if (!text) {
        text = "";
        tlen = 0;
    }
    char *out = to_utf8(cs, text, tlen, len);
    if (!out)
        bad(req, T_BODY);
    return out;
}

static void on_sendsms(struct sc_http_req *req, void *arg)
{
    struct sc_app *a = arg;
    size_t pwlen = 0, tolen = 0, fromlen = 0;
    const char *user = sc_http_query(req, "username", NULL);
    const char *pw = sc_http_query(req, "password", &pwlen);
    if (!user_ok(&a->gen->cfg->http, user, pw, pwlen)) {
        sc_http_respond_str(req, 403, NULL, T_AUTH);
        return;
    }
    const char *to = sc_http_query(req, "to", &tolen);
    if (!to) {
        bad(req, T_NO_TO);
        return;
    }
    if (tolen == 0) {
        bad(req, T_EMPTY_TO);
        return;
    }
    size_t textlen;
    char *text = request_text(req, &textlen);
    if (!text)
        return;
    const char *from = sc_http_query(req, "from", &fromlen);
    char id[SC_PUSH_ID_MAX + 1];
    sc__api_make_id(id, sizeof id);
    const char *f[] = {"id", "to", "text", "from"};
    const char *v[] = {id, to, text, from};
    const size_t flen[] = {2, 2, 4, 4};
    size_t vlen[] = {strlen(id), tolen, textlen, fromlen};
    size_t n = from && fromlen ? 4 : 3;
    struct sc_push p;
    const char *why = sc_push_check(f, flen, v, vlen, n,
                                    (unsigned)a->gen->cfg->mt.default_priority, &p);
    if (!why)
        sc__api_xadd(a, req, 1, SC_KEY_MT_PUSH, id, f, v, vlen, n);
    else
        bad(req, strcmp(why, "bad_to") == 0 ? T_BAD_TO : strcmp(why, "bad_from") == 0 ? T_FROM
                                                                                     : T_BODY);
    free(text);
}

int sc__api_sendsms_routes(struct sc_app *a)
{
    return sc_http_route(a->http, "GET", "/cgi-bin/sendsms", on_sendsms, a);
}
