/* url.h -- Redis URLs: redis://[[user]:password@]host[:port][,host[:port]...][/db].
 *
 * Several comma-separated seeds: the nodes of a Redis Cluster to ask for
 * the slot map (tried in turn); a cluster has only db 0, so /db with
 * several seeds is refused (with one seed the server's answer decides:
 * store/cluster.c).
 *
 * "redis://secret@host" (no colon) is a password, as redis-cli reads it;
 * credentials may be %-escaped; IPv6 hosts go in brackets. TLS (rediss://)
 * and unix sockets are refused. Messages never quote the URL: it may hold
 * the password. One parser for the configuration check (store/store_conf.c,
 * so that --check refuses what the store would), the daemon's store
 * (store.c) and shortcodectl. */
#ifndef SC_URL_H
#define SC_URL_H

#include <stddef.h>

#define SC_URL_MAX_SEEDS 8

struct sc_redis_seed {
    char host[256];
    int port;                    /* default 6379 */
};

struct sc_redis_url {
    char host[256];              /* the first seed */
    int port;                    /* default 6379 */
    int nseeds;                  /* >= 1 after a successful parse */
    struct sc_redis_seed seeds[SC_URL_MAX_SEEDS];
    unsigned db;                 /* default 0 */
    char *user, *pass;           /* %-decoded, NUL-terminated; NULL if absent */
    size_t userlen, passlen;
};

/* Parse url into u (which the caller zeroed). Returns 0, or SC_ECONFIG with
 * "redis url: reason" in err. Release with sc_redis_url_free, also after a
 * failure. */
int sc_redis_url_parse(const char *url, struct sc_redis_url *u, char *err, size_t errsz);
/* Wipe the password and free the credentials. */
void sc_redis_url_free(struct sc_redis_url *u);

#endif
