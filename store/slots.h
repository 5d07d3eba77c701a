/* slots.h -- the pure parts of Redis Cluster routing: CRC16, hash tags, which
 * argument of a command is its key, CLUSTER SLOTS parsing and redirect
 * (-MOVED / -ASK / -TRYAGAIN / -CLUSTERDOWN) parsing and decisions. No I/O:
 * store/cluster.c does the connections; tests/unit/test_slots.c the checks.
 *
 * Rules (the Redis cluster specification): slot = CRC16-XMODEM(k) mod 16384
 * where k is the text between the first '{' and the first '}' after it when
 * that text is non-empty, else the whole key. */
#ifndef SC_SLOTS_H
#define SC_SLOTS_H

#include <stddef.h>
#include <stdint.h>

struct redisReply;

#define SC_SLOTS 16384u
/* Redirects (MOVED / ASK) one command may follow before it fails. */
#define SC_MAX_REDIRECTS 5

/* CRC16-CCITT (XMODEM): poly 0x1021, init 0, no reflection. */
uint16_t sc_crc16(const char *buf, size_t len);
/* The part of key that is hashed: *off and *n (the whole key without a
 * non-empty {tag}). */
void sc_hash_tag(const char *key, size_t len, size_t *off, size_t *n);
/* The slot of a key, 0..16383. */
unsigned sc_key_slot(const char *key, size_t len);

/* Index in argv of the key that decides a command's slot: argv[1] for most
 * commands; the first key after STREAMS for XREAD / XREADGROUP; argv[2] for
 * XGROUP / XINFO / OBJECT / MEMORY; argv[3] for EVAL / EVALSHA with keys.
 * -1: the command has no key (PING, DBSIZE, INFO, CLUSTER, SCRIPT, WAIT, ...)
 * and may go to any node. lens NULL: NUL-terminated strings. */
int sc_cmd_key_index(int argc, const char *const *argv, const size_t *lens);

/* One range of CLUSTER SLOTS: slots start..end served by the master host:port. */
struct sc_slot_range {
    unsigned start, end;
    char host[64];
    int port;
};

/* Parse a CLUSTER SLOTS reply into at most max ranges. A master without an
 * address ("" or "?", the node we asked) gets defhost. Returns the number of
 * ranges (>= 0) or SC_EPROTO when the reply is not a slot table. */
int sc_slots_parse(const struct redisReply *r, const char *defhost, struct sc_slot_range *out,
                   int max);

enum sc_redirect_kind {
    SC_REDIR_NONE = 0,     /* not a cluster error: the caller's reply */
    SC_REDIR_MOVED,        /* the slot lives elsewhere for good */
    SC_REDIR_ASK,          /* the slot is migrating: ASKING + the command, once */
    SC_REDIR_TRYAGAIN,     /* keys split by a migration: temporary */
    SC_REDIR_CLUSTERDOWN,  /* the cluster cannot serve: temporary */
};

struct sc_redirect {
    enum sc_redirect_kind kind;
    unsigned slot;         /* MOVED / ASK */
    char host[64];         /* MOVED / ASK; "" = the node that answered */
    int port;
};

/* Classify an error reply's text (s, len: no NUL needed). A malformed MOVED
 * or ASK is SC_REDIR_NONE (handed to the caller as the error it is). */
enum sc_redirect_kind sc_redirect_parse(const char *s, size_t len, struct sc_redirect *out);

/* What the router does with a reply. */
enum sc_route_action {
    SC_ROUTE_DELIVER = 0,  /* give the reply to the caller */
    SC_ROUTE_MOVED,        /* refresh the map, resend to the new owner */
    SC_ROUTE_ASK,          /* send ASKING + the command to that node */
    SC_ROUTE_TEMP,         /* the caller gets SC_EAGAIN; refresh the map */
};

/* The redirect state machine: kind of this reply, redirects already
 * followed by this command. Past SC_MAX_REDIRECTS a redirect is TEMP. */
enum sc_route_action sc_route_decide(enum sc_redirect_kind kind, int redirects);

#endif
