/* reasm.c -- long-MO reassembly: pending messages in a hash table, expired in arrival order.
 *
 * Each pending message lives in two structures: a chained hash table keyed
 * on (src, dst, ref, total) for lookup, and a doubly linked list in the order
 * the first part arrived. The timeout is the same for every message, so the
 * list is also ordered by deadline and expiry only ever looks at its head. A
 * second small table counts pending messages per source address so that the
 * per-source limit costs O(1) per part. Every limit is checked before
 * anything is allocated or stored.
 *
 * Memory follows what is held: a message is a small record plus one node
 * per part received (header and bytes in one allocation, in a list sorted by
 * sequence number), never an array for all its parts. What max_bytes bounds
 * is that real cost, each allocation counted as glibc's malloc holds it
 * (sc_reasm_cost_*). The bucket arrays shrink again when a table empties,
 * and a large expiry hands freed memory back to the system (malloc_trim). */
#include "smsc/reasm.h"

#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

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

/* Move every node to a bucket array of nb buckets (a power of two). A
 * failed allocation only makes chains longer (or keeps a sparse array). */
static void ht_resize(struct htab *t, size_t nb)
{
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

#define HT_MIN_BUCKETS 64

static void ht_insert(struct htab *t, struct hnode *e)
{
    if (t->n >= t->mask + 1)
        ht_resize(t, (t->mask + 1) * 2); /* fuller than one node per bucket */
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

/* Halve the bucket array while it has more than 8 buckets per node: after
 * a flood expires, the table does not keep its peak size. */
static void ht_shrink(struct htab *t)
{
    size_t nb = t->mask + 1;
    while (nb > HT_MIN_BUCKETS && t->n * 8 < nb)
        nb /= 2;
    if (nb != t->mask + 1)
        ht_resize(t, nb);
}

/* sc_fnv1a, then this final mix so that the low bits used for buckets
 * depend on every input byte. */
static uint32_t hash_mix(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x7feb352du;
    h ^= h >> 15;
    h *= 0x846ca68bu;
    h ^= h >> 16;
    return h;
}

/* ---- Pending messages ----------------------------------------------------- */

struct part {
    struct part *next;  /* the next higher sequence number */
    size_t len;
    uint8_t seq;
    uint8_t data[];
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
    struct part *parts;         /* received, by ascending seq */
    size_t bytes;               /* its cost as counted, source record excluded */
    uint8_t dc;
    uint8_t have;
};

struct sc_reasm {
    struct sc_reasm_limits lim;
    struct htab msgs, sources;
    struct msg *head, *tail;
    size_t bytes;
};

/* What glibc's malloc holds for a request of n bytes: 8 bytes of header,
 * rounded up to 16, at least 32. An estimate elsewhere, but a fixed rule, so
 * that limits are exact and testable. */
static size_t chunk(size_t n)
{
    size_t c = (n + 8 + 15) & ~(size_t)15;
    return c < 32 ? 32 : c;
}

/* Two bucket pointers per message stand for its share of the bucket arrays
 * (a table holds up to two buckets per node before it grows). */
size_t sc_reasm_cost_msg(void) { return chunk(sizeof(struct msg)) + 2 * sizeof(void *); }
size_t sc_reasm_cost_part(size_t len) { return chunk(sizeof(struct part) + len); }
size_t sc_reasm_cost_source(void) { return chunk(sizeof(struct source)); }

struct sc_reasm *sc_reasm_new(const struct sc_reasm_limits *lim)
{
    if (!lim)
        return NULL;
    struct sc_reasm *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->lim = *lim;
    if (ht_init(&r->msgs, HT_MIN_BUCKETS) || ht_init(&r->sources, HT_MIN_BUCKETS)) {
        free(r->msgs.b);
        free(r->sources.b);
        free(r);
        return NULL;
    }
    return r;
}

static void msg_free(struct msg *m)
{
    for (struct part *p = m->parts, *next; p; p = next) {
        next = p->next;
        free(p);
    }
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
    uint32_t h = sc_fnv1a(SC_FNV1A_INIT, k->src, sizeof k->src);
    h = sc_fnv1a(h, k->dst, sizeof k->dst);
    uint8_t t[3] = {(uint8_t)(k->ref >> 8), (uint8_t)k->ref, k->total};
    return hash_mix(sc_fnv1a(h, t, sizeof t));
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
        r->bytes -= sc_reasm_cost_source();
    }
    r->bytes -= m->bytes;
    msg_free(m);
}

/* Where part seq goes in m's sorted list: the link to follow. *dup is set
 * when seq is already there. */
static struct part **part_slot(struct msg *m, uint8_t seq, int *dup)
{
    struct part **pp = &m->parts;
    while (*pp && (*pp)->seq < seq)
        pp = &(*pp)->next;
    *dup = *pp && (*pp)->seq == seq;
    return pp;
}

/* Copy data into a new part linked at *pp. */
static int part_store(struct sc_reasm *r, struct msg *m, struct part **pp, uint8_t seq,
                      const uint8_t *data, size_t len)
{
    struct part *p = malloc(sizeof *p + len);
    if (!p)
        return SC_ENOMEM;
    p->seq = seq;
    p->len = len;
    if (len)
        memcpy(p->data, data, len);
    p->next = *pp;
    *pp = p;
    m->have++;
    m->bytes += sc_reasm_cost_part(len);
    r->bytes += sc_reasm_cost_part(len);
    return 0;
}

/* 1 when adding cost bytes would pass max_bytes. */
static int over_bytes(const struct sc_reasm *r, size_t cost)
{
    return r->bytes > r->lim.max_bytes || cost > r->lim.max_bytes - r->bytes;
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
        int dup;
        struct part **pp = part_slot(m, seq, &dup);
        if (dup)
            return SC_REASM_PARTIAL;
        if (m->have + 1 == m->key.total) {
            /* Last part: build the message without storing it (so no byte
             * limit applies: completing frees what the parts held). The
             * parts are sorted, seq goes where its slot is. */
            size_t total = len, off = 0;
            for (const struct part *p = m->parts; p; p = p->next)
                total += p->len;
            uint8_t *buf = malloc(total ? total : 1);
            if (!buf)
                return SC_ENOMEM;
            for (const struct part *p = m->parts;; p = p->next) {
                if (p == *pp) { /* the new part's place (NULL: the end) */
                    if (len)
                        memcpy(buf + off, data, len);
                    off += len;
                }
                if (!p)
                    break;
                if (p->len)
                    memcpy(buf + off, p->data, p->len);
                off += p->len;
            }
            *out = buf;
            *out_len = total;
            *dc = m->dc;
            msg_drop(r, m);
            return SC_REASM_COMPLETE;
        }
        if (over_bytes(r, sc_reasm_cost_part(len)))
            return SC_EBUSY;
        int rc = part_store(r, m, pp, seq, data, len);
        return rc ? rc : SC_REASM_PARTIAL;
    }

    /* A new message: every limit first. */
    uint32_t sh = hash_mix(sc_fnv1a(SC_FNV1A_INIT, key.src, sizeof key.src));
    struct source *s = source_find(r, key.src, sh);
    size_t cost = sc_reasm_cost_msg() + sc_reasm_cost_part(len) + (s ? 0 : sc_reasm_cost_source());
    if (r->msgs.n >= r->lim.max_pending || (s ? s->count : 0) >= r->lim.max_per_source ||
        over_bytes(r, cost))
        return SC_EBUSY;
    m = calloc(1, sizeof *m);
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
    m->bytes = sc_reasm_cost_msg();
    if (part_store(r, m, &m->parts, seq, data, len)) { /* changed nothing */
        free(m);
        if (new_source)
            free(s);
        return SC_ENOMEM;
    }
    r->bytes += sc_reasm_cost_msg();
    if (new_source) {
        ht_insert(&r->sources, &s->h);
        r->bytes += sc_reasm_cost_source();
    }
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

/* Expiring this many bytes at once is worth a malloc_trim: glibc keeps
 * small freed chunks in its bins (measured: 10,000 expired messages left
 * the RSS where it was until malloc_trim(0); docs/smpp.md). */
#define TRIM_AFTER_BYTES (1u << 20)

unsigned sc_reasm_expire(struct sc_reasm *r, uint64_t now_ms, sc_reasm_expired_cb cb, void *arg)
{
    unsigned n = 0;
    if (!r)
        return 0;
    /* Arrival order is deadline order: stop at the first message still
     * within its time. */
    size_t before = r->bytes;
    while (r->head && now_ms >= r->head->first_ms && now_ms - r->head->first_ms >= r->lim.timeout_ms) {
        struct msg *m = r->head;
        if (cb)
            cb(arg, &m->key, m->have);
        msg_drop(r, m);
        n++;
    }
    if (n) {
        ht_shrink(&r->msgs);
        ht_shrink(&r->sources);
    }
#ifdef __GLIBC__
    if (before - r->bytes >= TRIM_AFTER_BYTES)
        malloc_trim(0);
#endif
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
