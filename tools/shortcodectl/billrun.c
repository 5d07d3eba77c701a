/* billrun.c -- `shortcodectl bill-run`: each subscriber of billing's list
 * gets the bill of one cycle as a push (id bill:M:YYYYMM, kind bill, bulk
 * priority, quiet), its text rendered as the CXZD reply renders it
 * (handlers/bill_text.h) with bill_details at the end. Pacing, checkpoint
 * and the list itself: pushrun.c.
 *
 * Per subscriber, in the round trip of the batch before: HMGET
 * bill:{M}:YYYYMM of the eight items and HGET acct:{M} plan. A subscriber
 * whose bill has none of them (or no bill) is skipped and counted. The VAS
 * line is not itemised by service name: the CXZD reply names the services
 * subscribed now, which is no part of a past month's bill. */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sc.h"
#include "check.h"
#include "core/config.h"
#include "ctl.h"
#include "handlers/bill_text.h"
#include "pushrun.h"
#include "store/keys.h"
#include "text/template.h"

#define TEXT_MAX 2048              /* a bill: 8 UCS-2 parts are at most 1,608 bytes */
#define NTPL 16
#define MAX_LISTED 20

struct billrun {
    const struct ctl_list_opts *o;
    struct {
        const char *name;
        struct sc_tpl *t;
    } tpl[NTPL];
    char (*texts)[CTL_RUN_BATCH][TEXT_MAX];     /* [2]: per slot */
    unsigned long listed;
};

static size_t render(void *arg, const char *name, const char *const *values, char *out,
                     size_t outsz)
{
    struct billrun *b = arg;
    for (size_t i = 0; i < NTPL && b->tpl[i].name; i++)
        if (strcmp(b->tpl[i].name, name) == 0)
            return sc_tpl_render(b->tpl[i].t, values, out, outsz);
    if (outsz)
        out[0] = '\0';
    return 0;
}

/* Compile the bill's templates: the config's text where -c names one, the
 * shipped text otherwise. 0, or -1 (printed). */
static int compile(struct billrun *b, const struct sc_config *cfg)
{
    size_t n = 0;
    for (const struct sc_tpl_decl *d = sc_bill_templates; d->name && n < NTPL; d++, n++) {
        const struct sc_cfg_kv *kv = cfg ? sc_config_template(cfg, d->name) : NULL;
        const char *text = kv ? kv->value : sc_bill_default_template(d->name);
        char err[256];
        b->tpl[n].name = d->name;
        if (!text || !(b->tpl[n].t = sc_tpl_compile(text, d->vars, d->nvars, err, sizeof err))) {
            fprintf(stderr, "%s: templates.%s: %s\n", kv ? cfg->path : "shortcodectl", d->name,
                    text ? err : "no text");
            return -1;
        }
    }
    return 0;
}

static void queue(void *arg, struct ctl_redis *r, int slot, const struct ctl_run_item *items,
                  size_t n)
{
    struct billrun *b = arg;
    (void)slot;
    for (size_t i = 0; i < n; i++) {
        char bill[SC_KEY_MAX + 8], acct[SC_KEY_MAX];
        size_t k = sc_key(bill, SC_KEY_MAX, SC_KEY_BILL_PREFIX, items[i].msisdn);
        snprintf(bill + k, sizeof bill - k, "%s", b->o->cycle);
        sc_key(acct, sizeof acct, SC_KEY_ACCT, items[i].msisdn);
        const char *hmget[2 + SC_BILL_ITEMS] = {"HMGET", bill};
        memcpy(hmget + 2, sc_bill_fields, sizeof sc_bill_fields);
        ctl_redis_append(r, 1, 2 + SC_BILL_ITEMS, hmget, NULL);
        ctl_redis_append(r, 1, 3, (const char *const[]){"HGET", acct, "plan"}, NULL);
    }
}

/* A bill not pushed: "LIST:LINE: MSISDN: what why" (the first MAX_LISTED). */
static void fail(struct billrun *b, const struct ctl_run_item *it, const char *what,
                 const char *why)
{
    char q[160];
    if (++b->listed <= MAX_LISTED)
        fprintf(stderr, "%s:%lu: %s: %s %s\n", b->o->path, it->line, it->msisdn, what,
                ctl_printable(q, sizeof q, why, strlen(why), 0));
}

/* One subscriber's two replies into a text (or a skip, or a failure). */
static enum ctl_run_fate one(struct billrun *b, const struct ctl_run_item *it,
                             const redisReply *bill, const redisReply *plan, char *out,
                             size_t *len)
{
    struct sc_bill v = {.month = b->o->cycle};
    char why[128];
    unsigned parts;
    int any = 0;
    if (bill->type != REDIS_REPLY_ARRAY || bill->elements != SC_BILL_ITEMS) {
        fail(b, it, "bill: redis:", bill->type == REDIS_REPLY_ERROR ? bill->str : "?");
        return CTL_RUN_FAIL;
    }
    for (size_t i = 0; i < SC_BILL_ITEMS; i++) {
        const redisReply *e = bill->element[i];
        v.items[i] = e->type == REDIS_REPLY_STRING ? e->str : NULL;
        any |= v.items[i] != NULL;
    }
    if (!any)
        return CTL_RUN_SKIP;
    v.plan = plan->type == REDIS_REPLY_STRING ? plan->str : NULL;
    *len = sc_bill_text(&v, 1, render, b, out, TEXT_MAX);
    if (ctl_push_text_ok(out, *len, &b->o->lim, &parts, why, sizeof why) < 0) {
        fail(b, it, "the bill's text", why);
        return CTL_RUN_FAIL;
    }
    return CTL_RUN_PUSH;
}

static int collect(void *arg, struct ctl_redis *r, int slot, const struct ctl_run_item *items,
                   size_t n, enum ctl_run_fate *fate, const char **text, size_t *len)
{
    struct billrun *b = arg;
    for (size_t i = 0; i < n; i++) {
        redisReply *bill = ctl_redis_read(r), *plan = bill ? ctl_redis_read(r) : NULL;
        if (!plan) {
            if (bill)
                freeReplyObject(bill);
            return -1;
        }
        text[i] = b->texts[slot][i];
        fate[i] = one(b, &items[i], bill, plan, b->texts[slot][i], &len[i]);
        freeReplyObject(bill);
        freeReplyObject(plan);
    }
    return 0;
}

/* YYYYMM with a month 01..12. */
static int cycle_ok(const char *s)
{
    return strlen(s) == 6 && strspn(s, "0123456789") == 6 && s[0] != '0' &&
           (s[4] - '0') * 10 + (s[5] - '0') >= 1 && (s[4] - '0') * 10 + (s[5] - '0') <= 12;
}

int ctl_bill_run(struct ctl_redis *r, const struct ctl_list_opts *o)
{
    struct billrun b = {.o = o};
    char key[64], suffix[16];
    int rc = CTL_EXIT_USAGE;
    if (!cycle_ok(o->cycle)) {
        fprintf(stderr, "shortcodectl: --cycle \"%.16s\" must be YYYYMM (month 01..12)\n",
                o->cycle);
        return rc;
    }
    if (compile(&b, o->cfg) == 0 && !(b.texts = calloc(2, sizeof *b.texts))) {
        fprintf(stderr, "shortcodectl: out of memory\n");
        rc = CTL_EXIT_DATA;
    } else if (b.texts) {
        snprintf(key, sizeof key, SC_KEY_BILLRUN_PREFIX "%s", o->cycle);
        snprintf(suffix, sizeof suffix, ":%s", o->cycle);
        const struct ctl_run_producer p = {"bills", "without a bill", queue, collect, &b};
        const struct ctl_run_opts ro = {
            .path = o->path, .ckpt_key = key, .id_prefix = "bill:", .id_suffix = suffix,
            .kind = "bill", .priority = o->priority ? o->priority : "9", .quiet = 1,
            .rate = o->rate, .max_backlog = o->max_backlog, .progress = o->progress, .p = &p,
        };
        rc = ctl_run(r, &ro);
        if (b.listed > MAX_LISTED)
            fprintf(stderr, "%s: ... and %lu more failed bills\n", o->path,
                    b.listed - MAX_LISTED);
    }
    for (size_t i = 0; i < NTPL; i++)
        sc_tpl_free(b.tpl[i].t);
    free(b.texts);
    return rc;
}
