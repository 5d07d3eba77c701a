/* reasm.c -- long-MO reassembly: pending messages in a hash table, expired in arrival order.
 *
 * Each pending message lives in two structures: a chained hash table keyed
 * on (src, dst, ref, total) for lookup, and a doubly linked list in the order
 * the first part arrived. The timeout is the same for every message, so the
 * list is also ordered by deadline and expiry only ever looks at its head. A
 * second small table counts pending messages per source address so that the
 * per-source limit costs O(1) per part. Every limit is checked before
 * anything is allocated or stored. */
#include "smsc/reasm.h"

#include <stdlib.h>
#include <string.h>

#include "core/sc.h"

/* ---- A small chained hash table of intrusive nodes ---------------------- */

struct hnode {
    struct hnode *next;
    uint32_t hash;
};

struct htab {
    struct hnode **b;
    size_t mask;        /* buckets - 1 (a power of two minus one) */
    size_t n;
};

static int ht_init(struct htab *t, size_t buckets)
{
    t->b = calloc(buckets, sizeof *t->b);
    t->mask = buckets - 1;
    t->n = 0;
    return t->b ? 0 : SC_ENOMEM;
}

/* Double the bucket array when the table is fuller than one node per
 * bucket. A failed allocation only makes chains longer. */
static void ht_grow(struct htab *t)
{
    size_t nb = (t->mask + 1) * 2;
    struct hnode **b = calloc(nb, sizeof *b);
    if (!b)
        return;
    for (size_t i = 0; i <= t->mask; i++) {
        struct hnode *e = t->b[i], *next;
        for (; e; e = next) {
            next = e->next;
            e->next = b[e->hash & (nb - 1)];
            b[e->hash & (nb - 1)] = e;
        }
    }
    free(t->b);
    t->b = b;
    t->mask = nb - 1;
}

static void ht_insert(struct htab *t, struct hnode *e)
{
    if (t->n >= t->mask + 1)
        ht_grow(t);
    struct hnode **head = &t->b[e->hash & t->mask];
    e->next = *head;
    *head = e;
    t->n++;
}

static void ht_remove(struct htab *t, struct hnode *e)
{
    for (struct hnode **pp = &t->b[e->hash & t->mask]; *pp; pp = &(*pp)->next) {
        if (*pp == e) {
            *pp = e->next;
            t->n--;
            return;
        }
    }
}

/* FNV-1a, then a final mix so that the low bits used for buckets depend on
 * every input byte. */
static uint32_t hash_bytes(uint32_t h, const void *p, size_t n)
{
    const uint8_t *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 16777619u;
    }
    return h;
}

static uint32_t hash_mix(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x7feb352du;
    h ^= h >> 15;
    h *= 0x846ca68bu;
    h ^= h >> 16;
    return h;
}

#define HASH_SEED 2166136261u

/* ---- Pending messages ----------------------------------------------------- */

struct part {
    uint8_t *data;      /* NULL when len is 0 */
    size_t len;
    uint8_t present;
};

struct source {
    struct hnode h;     /* first: the table holds &h */
    unsigned count;
    char addr[SC_ADDR_MAX];
};

struct msg {
    struct hnode h;     /* first */
    struct msg *prev, *next;    /* arrival order */
    struct source *src;
    struct sc_reasm_key key;    /* strings copied NUL-padded */
    uint64_t first_ms;
    size_t bytes;
    uint8_t dc;
    uint8_t have;
    struct part parts[];        /* key.total entries, index seq - 1 */
};

struct sc_reasm {
    struct sc_reasm_limits lim;
    struct htab msgs, sources;
    struct msg *head, *tail;
    size_t bytes;
};

struct sc_reasm *sc_reasm_new(const struct sc_reasm_limits *lim)
{
    if (!lim)
        return NULL;
    struct sc_reasm *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->lim = *lim;
    if (ht_init(&r->msgs, 64) || ht_init(&r->sources, 64)) {
        free(r->msgs.b);
        free(r->sources.b);
        free(r);
        return NULL;
    }
    return r;
}

static void msg_free(struct msg *m)
{
    for (unsigned i = 0; i < m->key.total; i++)
        free(m->parts[i].data);
    free(m);
}

void sc_reasm_free(struct sc_reasm *r)
{
    if (!r)
        return;
    for (struct msg *m = r->head, *next; m; m = next) {
        next = m->next;
        msg_free(m);
    }
    for (size_t i = 0; i <= r->sources.mask; i++) {
        for (struct hnode *e = r->sources.b[i], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    }
    free(r->msgs.b);
    free(r->sources.b);
    free(r);
}

/* Normalised copy of a key: strings NUL-padded, so that keys compare and
 * hash as plain bytes whatever followed the NUL in the caller's struct.
 * Returns SC_EINVAL when a string is not terminated within its array. */
static int key_norm(const struct sc_reasm_key *k, struct sc_reasm_key *out)
{
    const char *se = memchr(k->src, 0, sizeof k->src), *de = memchr(k->dst, 0, sizeof k->dst);
    if (!se || !de)
        return SC_EINVAL;
    memset(out, 0, sizeof *out);
    memcpy(out->src, k->src, (size_t)(se - k->src));
    memcpy(out->dst, k->dst, (size_t)(de - k->dst));
    out->ref = k->ref;
    out->total = k->total;
    return 0;
}

static uint32_t key_hash(const struct sc_reasm_key *k)
{
    uint32_t h = hash_bytes(HASH_SEED, k->src, sizeof k->src);
    h = hash_bytes(h, k->dst, sizeof k->dst);
    uint8_t t[3] = {(uint8_t)(k->ref >> 8), (uint8_t)k->ref, k->total};
    return hash_mix(hash_bytes(h, t, sizeof t));
}

static int key_eq(const struct sc_reasm_key *a, const struct sc_reasm_key *b)
{
    return a->ref == b->ref && a->total == b->total && memcmp(a->src, b->src, sizeof a->src) == 0 &&
           memcmp(a->dst, b->dst, sizeof a->dst) == 0;
}

static struct msg *msg_find(struct sc_reasm *r, const struct sc_reasm_key *k, uint32_t h)
{
    for (struct hnode *e = r->msgs.b[h & r->msgs.mask]; e; e = e->next) {
        struct msg *m = (struct msg *)e;
        if (e->hash == h && key_eq(&m->key, k))
            return m;
    }
    return NULL;
}

/* src is NUL-padded to SC_ADDR_MAX (from a normalised key). */
static struct source *source_find(struct sc_reasm *r, const char *src, uint32_t h)
{
    for (struct hnode *e = r->sources.b[h & r->sources.mask]; e; e = e->next) {
        struct source *s = (struct source *)e;
        if (e->hash == h && memcmp(s->addr, src, SC_ADDR_MAX) == 0)
            return s;
    }
    return NULL;
}

/* Unlink m from the table, the arrival list and its source's count, and
 * free it. */
static void msg_drop(struct sc_reasm *r, struct msg *m)
{
    ht_remove(&r->msgs, &m->h);
    if (m->prev)
        m->prev->next = m->next;
    else
        r->head = m->next;
    if (m->next)
        m->next->prev = m->prev;
    else
        r->tail = m->prev;
    if (--m->src->count == 0) {
        ht_remove(&r->sources, &m->src->h);
        free(m->src);
    }
    r->bytes -= m->bytes;
    msg_free(m);
}

/* Copy data into part p of m. */
static int part_store(struct sc_reasm *r, struct msg *m, uint8_t seq, const uint8_t *data, size_t len)
{
    struct part *p = &m->parts[seq - 1];
    p->data = NULL;
    if (len) {
        p->data = malloc(len);
        if (!p->data)
            return SC_ENOMEM;
        memcpy(p->data, data, len);
    }
    p->len = len;
    p->present = 1;
    m->have++;
    m->bytes += len;
    r->bytes += len;
    return 0;
}

int sc_reasm_add(struct sc_reasm *r, const struct sc_reasm_key *k, uint8_t seq,
                 uint8_t data_coding, const uint8_t *data, size_t len, uint64_t now_ms,
                 uint8_t **out, size_t *out_len, uint8_t *dc)
{
    struct sc_reasm_key key;
    if (!r || !k || (len && !data) || !out || !out_len || !dc)
        return SC_EINVAL;
    if (k->total < 2 || seq == 0 || seq > k->total || key_norm(k, &key))
        return SC_EINVAL;
    uint32_t h = key_hash(&key);
    struct msg *m = msg_find(r, &key, h);

    if (m) {
        if (data_coding != m->dc)
            return SC_EINVAL;
        if (m->parts[seq - 1].present)
            return SC_REASM_PARTIAL;    /* duplicate */
        if (m->have + 1 == m->key.total) {
            /* Last part: build the message without storing it (so no byte
             * limit applies: completing frees what the parts held). */
            size_t total = m->bytes + len, off = 0;
            uint8_t *buf = malloc(total ? total : 1);
            if (!buf)
                return SC_ENOMEM;
            for (unsigned i = 0; i < m->key.total; i++) {
                const uint8_t *src = i == (unsigned)(seq - 1) ? data : m->parts[i].data;
                size_t n = i == (unsigned)(seq - 1) ? len : m->parts[i].len;
                if (n)
                    memcpy(buf + off, src, n);
                off += n;
            }
            *out = buf;
            *out_len = total;
            *dc = m->dc;
            msg_drop(r, m);
            return SC_REASM_COMPLETE;
        }
        if (r->bytes > r->lim.max_bytes || len > r->lim.max_bytes - r->bytes)
            return SC_EBUSY;
        int rc = part_store(r, m, seq, data, len);
        return rc ? rc : SC_REASM_PARTIAL;
    }

    /* A new message: every limit first. */
    uint32_t sh = hash_mix(hash_bytes(HASH_SEED, key.src, sizeof key.src));
    struct source *s = source_find(r, key.src, sh);
    if (r->msgs.n >= r->lim.max_pending || (s ? s->count : 0) >= r->lim.max_per_source ||
        r->bytes > r->lim.max_bytes || len > r->lim.max_bytes - r->bytes)
        return SC_EBUSY;
    m = calloc(1, sizeof *m + (size_t)key.total * sizeof m->parts[0]);
    if (!m)
        return SC_ENOMEM;
    int new_source = !s;
    if (new_source) {
        s = calloc(1, sizeof *s);
        if (!s) {
            free(m);
            return SC_ENOMEM;
        }
        s->h.hash = sh;
        memcpy(s->addr, key.src, SC_ADDR_MAX);
    }
    m->key = key;
    m->h.hash = h;
    m->first_ms = now_ms;
    m->dc = data_coding;
    if (part_store(r, m, seq, data, len)) {
        free(m);
        if (new_source)
            free(s);
        return SC_ENOMEM;
    }
    if (new_source)
        ht_insert(&r->sources, &s->h);
    s->count++;
    m->src = s;
    ht_insert(&r->msgs, &m->h);
    m->prev = r->tail;
    if (r->tail)
        r->tail->next = m;
    else
        r->head = m;
    r->tail = m;
    return SC_REASM_PARTIAL;
}

unsigned sc_reasm_expire(struct sc_reasm *r, uint64_t now_ms, sc_reasm_expired_cb cb, void *arg)
{
    unsigned n = 0;
    if (!r)
        return 0;
    /* Arrival order is deadline order: stop at the first message still
     * within its time. */
    while (r->head && now_ms >= r->head->first_ms && now_ms - r->head->first_ms >= r->lim.timeout_ms) {
        struct msg *m = r->head;
        if (cb)
            cb(arg, &m->key, m->have);
        msg_drop(r, m);
        n++;
    }
    return n;
}

size_t sc_reasm_pending(const struct sc_reasm *r)
{
    return r ? r->msgs.n : 0;
}

size_t sc_reasm_bytes(const struct sc_reasm *r)
{
    return r ? r->bytes : 0;
}
