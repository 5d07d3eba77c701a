/* order_push.c -- a vas:orders confirmation becomes a push (core/orders_int.h):
 * its mt:push id and the script that writes it with the entry's XACK. */
#include "core/orders_int.h"

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "base/sc.h"
#include "core/orders.h"
#include "store/keys.h"

/* The SMS is at every moment in one stream: vas:orders until this script
 * ran, mt:push from then on (the push path sends, records and, after a
 * crash, re-sends it). {"ok", push entry id}. */
const char sc__order_push_lua[] =
    "local f = {}\n"
    "for i = 3, #ARGV do f[#f + 1] = ARGV[i] end\n"
    "local nid = redis.call('XADD', KEYS[1], '*', unpack(f))\n"
    "redis.call('XACK', KEYS[2], ARGV[2], ARGV[1])\n"
    "return {'ok', nid}\n";

void sc_order_push_id(const char *provider, const char *order_id, char *out, size_t outsz)
{
    /* FNV-1a, 64 bits, over provider NUL order id: an order id is unique
     * per provider only. 64 bits: two orders share an id within the dedup
     * horizon with a chance of about 2^-64 a pair. */
    uint64_t h = 14695981039346656037ull;
    for (const char *s = provider;; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
        if (!*s)
            break;
    }
    for (const char *s = order_id; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    snprintf(out, outsz, "order:%016llx", (unsigned long long)h);
}

int sc__order_push(struct sc_store *st, int script, const struct sc_config *cfg,
                   const char *entry, const char *group, const char *push_id, const char *to,
                   const char *text, sc_store_cb cb, void *ctx)
{
    char prio[4], not_after[24];
    snprintf(prio, sizeof prio, "%d", cfg->mt.order_priority);
    snprintf(not_after, sizeof not_after, "%lld",
             ((long long)time(NULL) + cfg->limits.confirm_ttl_s) * 1000);
    const char *keys[] = {SC_KEY_MT_PUSH, SC_KEY_ORDERS};
    const char *args[] = {entry, group, "id", push_id, "to", to, "text", text,
                          "from", cfg->service_numbers[0], "kind", "order", "priority", prio,
                          "not_after", not_after, "quiet", cfg->mt.order_quiet ? "1" : "0"};
    return sc_store_eval(st, script, 2, keys, NULL, (int)SC_ARRAY_LEN(args), args, NULL, cb,
                         ctx);
}
