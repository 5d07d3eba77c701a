/* keys.h -- every Redis key shortcoded and shortcodectl use, in one place.
 *
 * Per-subscriber keys carry the national MSISDN as a hash tag {M}, so all of
 * one subscriber's keys live in one cluster slot and one script may touch
 * them together. The formats take that MSISDN as their one %s; a buffer of
 * SC_KEY_MAX bytes holds any of them (an SMPP address is at most 20 characters). What each
 * key holds: docs/handlers.md and the comments of the code named. */
#ifndef SC_STORE_KEYS_H
#define SC_STORE_KEYS_H

#include <stddef.h>
#include <string.h>

#define SC_KEY_MAX 96

/* A per-subscriber key: fmt (one of the SC_KEY_* formats below, one "%s")
 * with msisdn in place of the %s, into out (cut to outsz - 1 bytes, always
 * NUL-terminated, outsz > 0). Returns the length written. Built without
 * printf: it runs for every MO. */
static inline size_t sc_key(char *out, size_t outsz, const char *fmt, const char *msisdn)
{
    const char *at = strchr(fmt, '%');
    size_t parts[3] = {(size_t)(at - fmt), strlen(msisdn), strlen(at + 2)};
    const char *src[3] = {fmt, msisdn, at + 2};
    size_t o = 0;
    for (int i = 0; i < 3; i++) {
        size_t n = parts[i] < outsz - 1 - o ? parts[i] : outsz - 1 - o;
        memcpy(out + o, src[i], n);
        o += n;
    }
    out[o] = '\0';
    return o;
}

/* What the subscriber pays for: HASH code -> since (handlers/vas.c). */
#define SC_KEY_SUB "sub:{%s}:vas"
/* Secondary confirmations: HASH code -> reference of the subscriber's
 * confirmation (the ordering dialogue; shortcodectl import). A cancellation
 * of a code without one files a refund (handlers/vas_lua.c). */
#define SC_KEY_CONF "sub:{%s}:conf"
/* Item numbers of the last "0000" list: HASH (handlers/vas.c). */
#define SC_KEY_ITEMS "items:{%s}"
/* Codes cancelled here, for the redelivery horizon: HASH (handlers/vas.c). */
#define SC_KEY_GONE "gone:{%s}"
/* A completed cancel-all: HASH at, count (handlers/vas.c). */
#define SC_KEY_ALLGONE "allgone:{%s}"
/* The subscriber's own audit stream (handlers/vas.c, shortcodectl show). */
#define SC_KEY_AUDIT "audit:{%s}"
/* Account data from billing: HASH balance_fen, plan, cycle, data_quota_kb,
 * data_used_kb, charges_fen, credit_fen, roaming (handlers/bill.c; the
 * lookup routes of the shipped config name it too; shortcodectl show);
 * and "at:FIELD" = the usage:in at (unix ms) that last set FIELD: an older
 * entry is not applied to it (core/usage_lua.c). */
#define SC_KEY_ACCT "acct:{%s}"
/* A cycle's bill from billing: the prefix of HASH bill:{M}:YYYYMM, to which
 * handlers/bill.c's script appends the month (it depends on acct's cycle). */
#define SC_KEY_BILL_PREFIX "bill:{%s}:"
/* The subscriber's reminder settings: HASH data_pct (handlers/lltx.c; read
 * by the reminders). */
#define SC_KEY_REM "rem:{%s}"
/* Reminders had this cycle: HASH "RULE:THRESHOLD" -> the cycle (YYYYMM)
 * it was had in; TTL reminders.state_ttl_s (core/usage_lua.c). */
#define SC_KEY_REMSENT "remsent:{%s}"
/* A dialogue waiting for a reply, e.g. "00000" then "Y" (core/request.c). */
#define SC_KEY_PENDING "pending:{%s}"
/* The subscriber's latest order and provider counters: HASH
 * (handlers/order.h). */
#define SC_KEY_ORDER "order:{%s}"
/* Confirmation references of subscriptions: HASH code -> ref
 * (handlers/order.h). */
#define SC_KEY_CONF "sub:{%s}:conf"
/* Rate limit counter (core/request.c). */
#define SC_KEY_RL "rl:{%s}"
/* Long-MO reassembly (core/longmo.c, built without printf): the index
 * SC_KEY_REASM_OPEN M SC_KEY_REASM_CLOSE, and per message that index then
 * ":DST:REF:TOTAL". */
#define SC_KEY_REASM_OPEN "reasm:{"
#define SC_KEY_REASM_CLOSE "}"

/* On a Redis Cluster only: writes of global keys (vas:events, vas:orders:due,
 * ...) made by a script of this tag's slot, waiting for the daemon to relay
 * them: STREAM (handlers/emit_lua.h, core/relay.c, docs/scaling.md). The
 * tag is the script's own: an MSISDN (a request's keys). */
#define SC_KEY_OUTBOX "out:{%s}"
/* On a Redis Cluster only: an outbox entry was relayed, "1" for
 * limits.relay_dedup_s: SC_KEY_RELAYED_PREFIX "{GLOBALKEY}:OUTBOX:ENTRYID",
 * on the global key's slot (core/relay.c sc__relay_marker). */
#define SC_KEY_RELAYED_PREFIX "relayed:"

/* Global keys. */
/* A service of the catalogue: HASH name, price_fen, provider, kind. */
#define SC_KEY_SVC_PREFIX "vas:svc:"
/* The set of catalogue codes (the daemon never SCANs). */
#define SC_KEY_CATALOGUE "vas:catalogue"
/* Every subscription change and order outcome, for billing and providers:
 * STREAM. */
#define SC_KEY_EVENTS "vas:events"
/* Orders of providers and other channels, read by the daemon: STREAM
 * (core/orders.c). */
#define SC_KEY_ORDERS "vas:orders"
/* Pending orders by deadline, for the expiry sweep: ZSET of "M:ID"
 * (handlers/order.h). */
#define SC_KEY_ORDERS_DUE "vas:orders:due"
/* Texts to push, written by other systems (shortcodectl push), read by the
 * daemon through group shortcoded: STREAM (core/push.c, docs/contracts.md). */
#define SC_KEY_MT_PUSH "mt:push"
/* Billing's account updates, read by the daemon through group shortcoded:
 * STREAM (core/usage.c, docs/contracts.md "usage:in"). */
#define SC_KEY_USAGE_IN "usage:in"
/* What became of each push: STREAM written by the daemon (core/push.c). */
#define SC_KEY_MT_STATUS "mt:status"
/* Quiet pushes of one priority (0..9) held until the quiet hours end:
 * STREAM of mt:push entries (rewritten from their checked fields), read
 * through group shortcoded (core/push.c, docs/reliability.md "Quiet
 * hours"). */
#define SC_KEY_MT_HELD "mt:held:%s"
/* One push's latest state and dedup record: HASH, the push id as hash tag,
 * TTL mt.dedup_horizon_s (core/push.c). Its id is 1..64 printable ASCII. */
#define SC_KEY_MT "mt:{%s}"
/* The push a part belongs to, by the SMSC's message_id of that part:
 * STRING "ID INDEX PARTS", TTL mt.receipt_ttl_s; written with the push's
 * sent record, read by the receipt script (core/receipts.c). */
#define SC_KEY_MT_MSG "mt:msg:{%s}"
/* Receipts whose message_id matched no push: a counter (core/receipts.c). */
#define SC_KEY_MT_RECEIPTS_UNKNOWN "mt:receipts:unknown"
/* Checkpoints of shortcodectl's runs over a list (tools/shortcodectl/
 * pushrun.c): HASH sha, line, pushed, skipped, failed, done; the prefix of
 * billrun:YYYYMM (bill-run) and pushrun:PREFIX (push --file --text). */
#define SC_KEY_BILLRUN_PREFIX "billrun:"
#define SC_KEY_PUSHRUN_PREFIX "pushrun:"
/* One session slot of an SMSC account (system_id@host:port), slot 0..N-1
 * of a bind's account_sessions: STRING owner instance id with a PX ttl
 * (core/lease.c). Every slot of one account shares its hash tag. */
#define SC_KEY_LEASE "lease:{%s@%s:%d}:%u"

#endif
