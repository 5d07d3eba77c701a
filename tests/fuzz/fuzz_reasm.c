/* fuzz_reasm.c -- libFuzzer target: long-MO reassembly (smsc/reasm.h).
 *
 * The input is a program against small limits. Bytes 0..3 set the limits;
 * then each operation is
 *   op & 3 == 3: expire: now += next byte * 16 ms, sc_reasm_expire(now)
 *   otherwise:   add: [key byte][seq byte][dc byte][len byte][len data bytes]
 * with key byte = src (2 bits), dst (1 bit), ref (2 bits), total (3 bits:
 * 0..7, so 0 and 1 are invalid) and time advancing by op >> 2 ms.
 * A shadow model predicts every result: which parts are held, what a
 * completed message must contain, SC_EBUSY exactly when a limit would be
 * exceeded (memory counted with sc_reasm_cost_*: records, parts, sources),
 * what expiry drops. Pending counts and bytes are compared after every
 * operation; everything is freed at the end (LeakSanitizer). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/sc.h"
#include "smsc/reasm.h"
#include "tests/fuzz/fuzz.h"

#define MAX_MSGS 16
#define MAX_TOTAL 7

struct shadow_msg {
    int used;
    struct sc_reasm_key k;
    uint8_t dc;
    uint64_t first_ms;
    uint8_t have[MAX_TOTAL + 1];
    uint8_t len[MAX_TOTAL + 1];
    uint8_t data[MAX_TOTAL + 1][64];
};

static struct shadow_msg shadow[MAX_MSGS];
static struct sc_reasm_limits lim;
static uint64_t now;
static unsigned expired_cb_calls;

/* What one message costs as sc_reasm_bytes counts it (its source's record
 * apart). */
static size_t msg_bytes(const struct shadow_msg *m)
{
    size_t b = sc_reasm_cost_msg();
    for (int i = 1; i <= MAX_TOTAL; i++)
        if (m->have[i])
            b += sc_reasm_cost_part(m->len[i]);
    return b;
}

static unsigned msg_parts(const struct shadow_msg *m)
{
    unsigned n = 0;
    for (int i = 1; i <= MAX_TOTAL; i++)
        n += m->have[i];
    return n;
}

static int same_key(const struct sc_reasm_key *a, const struct sc_reasm_key *b)
{
    return strcmp(a->src, b->src) == 0 && strcmp(a->dst, b->dst) == 0 && a->ref == b->ref &&
           a->total == b->total;
}

static struct shadow_msg *find(const struct sc_reasm_key *k)
{
    for (int i = 0; i < MAX_MSGS; i++)
        if (shadow[i].used && same_key(&shadow[i].k, k))
            return &shadow[i];
    return NULL;
}

/* Pending messages, and their cost with one source record per source that
 * has any. */
static void totals(size_t *msgs, size_t *bytes)
{
    *msgs = 0;
    *bytes = 0;
    for (int i = 0; i < MAX_MSGS; i++) {
        if (!shadow[i].used)
            continue;
        (*msgs)++;
        *bytes += msg_bytes(&shadow[i]);
        int first = 1; /* the first pending message of its source? */
        for (int j = 0; j < i && first; j++)
            first = !(shadow[j].used && strcmp(shadow[j].k.src, shadow[i].k.src) == 0);
        if (first)
            *bytes += sc_reasm_cost_source();
    }
}

static void check_state(const struct sc_reasm *r)
{
    size_t msgs, bytes;
    totals(&msgs, &bytes);
    FUZZ_CHECK(sc_reasm_pending(r) == msgs);
    FUZZ_CHECK(sc_reasm_bytes(r) == bytes);
    FUZZ_CHECK(msgs <= lim.max_pending);
    FUZZ_CHECK(bytes <= lim.max_bytes);
}

static void on_expired(void *arg, const struct sc_reasm_key *k, unsigned have)
{
    (void)arg;
    struct shadow_msg *m = find(k);
    FUZZ_CHECK(m != NULL);
    FUZZ_CHECK(now - m->first_ms >= lim.timeout_ms);
    FUZZ_CHECK(have == msg_parts(m));
    m->used = 0;
    expired_cb_calls++;
}

static void make_key(struct sc_reasm_key *k, uint8_t b)
{
    static const char *const srcs[] = {"13800138000", "13900139000", "8613700137000", ""};
    static const char *const dsts[] = {"10086", "1008611"};
    memset(k, 0xA5, sizeof *k);   /* garbage after the NULs must not matter */
    strcpy(k->src, srcs[b & 3]);
    strcpy(k->dst, dsts[(b >> 2) & 1]);
    k->ref = (uint16_t)(((b >> 3) & 3) * 0x1111);
    k->total = (uint8_t)(b >> 5);
}

static void do_add(struct sc_reasm *r, const struct sc_reasm_key *k, uint8_t seq, uint8_t dc,
                   const uint8_t *data, size_t len)
{
    uint8_t *out = NULL, odc = 0xEE;
    size_t olen = 0;
    int rc = sc_reasm_add(r, k, seq, dc, data, len, now, &out, &olen, &odc);
    struct shadow_msg *m = find(k);

    if (seq == 0 || seq > k->total || k->total < 2 || (m && m->dc != dc)) {
        FUZZ_CHECK(rc == SC_EINVAL);
        FUZZ_CHECK(out == NULL);
        return;
    }
    if (m && m->have[seq]) {   /* duplicate: ignored */
        FUZZ_CHECK(rc == SC_REASM_PARTIAL && out == NULL);
        return;
    }
    if (m && msg_parts(m) + 1 == k->total) {   /* the last part */
        FUZZ_CHECK(rc == SC_REASM_COMPLETE);
        FUZZ_CHECK(out != NULL && odc == dc);
        size_t off = 0;
        for (int i = 1; i <= k->total; i++) {
            const uint8_t *p = i == seq ? data : m->data[i];
            size_t n = i == seq ? len : m->len[i];
            FUZZ_CHECK(off + n <= olen);
            FUZZ_CHECK(n == 0 || memcmp(out + off, p, n) == 0);
            off += n;
        }
        FUZZ_CHECK(off == olen);
        free(out);
        m->used = 0;
        return;
    }
    /* A part to store: would it exceed a limit? */
    size_t msgs, bytes;
    totals(&msgs, &bytes);
    unsigned per_src = 0;
    for (int i = 0; i < MAX_MSGS; i++)
        if (shadow[i].used && strcmp(shadow[i].k.src, k->src) == 0)
            per_src++;
    size_t add = sc_reasm_cost_part(len);
    if (!m)
        add += sc_reasm_cost_msg() + (per_src ? 0 : sc_reasm_cost_source());
    int busy = bytes + add > lim.max_bytes ||
               (!m && (msgs + 1 > lim.max_pending || per_src + 1 > lim.max_per_source));
    if (busy) {
        FUZZ_CHECK(rc == SC_EBUSY && out == NULL);
        return;
    }
    FUZZ_CHECK(rc == SC_REASM_PARTIAL && out == NULL);
    if (!m) {
        for (int i = 0; i < MAX_MSGS && !m; i++)
            if (!shadow[i].used)
                m = &shadow[i];
        FUZZ_CHECK(m != NULL);   /* max_pending <= MAX_MSGS */
        memset(m, 0, sizeof *m);
        m->used = 1;
        m->k = *k;
        m->dc = dc;
        m->first_ms = now;
    }
    m->have[seq] = 1;
    m->len[seq] = (uint8_t)len;
    if (len)
        memcpy(m->data[seq], data, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    memset(shadow, 0, sizeof shadow);
    lim.max_pending = data[0] % MAX_MSGS + 1;
    lim.max_per_source = data[1] % 5 + 1;
    lim.max_bytes = (size_t)data[2] * 16; /* up to ~4 KB: a dozen small messages */
    lim.timeout_ms = (uint32_t)data[3] * 8;
    now = 1000000;
    expired_cb_calls = 0;
    struct sc_reasm *r = sc_reasm_new(&lim);
    FUZZ_CHECK(r != NULL);

    size_t i = 4;
    while (i < size) {
        uint8_t op = data[i++];
        if ((op & 3) == 3) {
            now += (uint64_t)(i < size ? data[i++] : 0) * 16;
            unsigned before = expired_cb_calls;
            unsigned n = sc_reasm_expire(r, now, (op & 4) ? NULL : on_expired, NULL);
            if (op & 4) {
                /* No callback: drop from the shadow what must have expired. */
                unsigned want = 0;
                for (int j = 0; j < MAX_MSGS; j++)
                    if (shadow[j].used && now - shadow[j].first_ms >= lim.timeout_ms) {
                        shadow[j].used = 0;
                        want++;
                    }
                FUZZ_CHECK(n == want);
            } else {
                FUZZ_CHECK(n == expired_cb_calls - before);
            }
            for (int j = 0; j < MAX_MSGS; j++)
                FUZZ_CHECK(!shadow[j].used || now - shadow[j].first_ms < lim.timeout_ms);
        } else {
            if (size - i < 4)
                break;
            struct sc_reasm_key k;
            make_key(&k, data[i]);
            uint8_t seq = data[i + 1] % (MAX_TOTAL + 2);   /* 0..8 */
            uint8_t dc = (data[i + 2] & 1) ? 8 : 0;
            size_t len = data[i + 3] % 64;
            i += 4;
            if (len > size - i)
                len = size - i;
            /* Exactly sized copy: ASan sees reads past the part. */
            uint8_t *part = malloc(len ? len : 1);
            FUZZ_CHECK(part != NULL);
            memcpy(part, data + i, len);
            i += len;
            now += op >> 2;
            do_add(r, &k, seq, dc, part, len);
            free(part);
        }
        check_state(r);
    }
    sc_reasm_free(r);
    return 0;
}
