/* http_conf.c -- the schema of the "http:" section (core/http_conf.h). */
#include "core/http_conf.h"

#include <stddef.h>
#include <sys/socket.h>

#include "core/http.h"

#define U(m) offsetof(struct sc_cfg_sendsms_user, m)
static const struct sc_field sendsms_user_fields[] = {
    {"username", SC_FT_STRING, U(username), SC_F_REQUIRED | SC_F_NONEMPTY | SC_F_UNIQUE,
     .max = 64},
    {"password", SC_FT_STRING, U(password), SC_F_REQUIRED | SC_F_NONEMPTY | SC_F_SECRET,
     .max = 128},
    {.name = NULL},
};
#undef U
static const struct sc_schema sendsms_user_schema = {sendsms_user_fields,
                                                     sizeof(struct sc_cfg_sendsms_user), NULL};

#define H(m) offsetof(struct sc_cfg_http, m)
static const struct sc_field http_fields[] = {
    {"listen", SC_FT_STRING, H(listen), 0, .max = 128, .def = ""},
    {"token", SC_FT_STRING, H(token), SC_F_SECRET, .max = 256, .def = ""},
    {"max_body", SC_FT_INT, H(max_body), 0, .min = 1024, .max = 16777216, .def = "65536"},
    {"timeout_s", SC_FT_INT, H(timeout_s), 0, .min = 1, .max = 3600, .def = "10"},
    {"max_connections", SC_FT_INT, H(max_connections), 0, .min = 1, .max = 10000,
     .def = "64"},
    {"sendsms_users", SC_FT_LIST, H(sendsms_users), 0, .max = 100,
     .count_offset = H(nsendsms_users), .sub = &sendsms_user_schema},
    {.name = NULL},
};
#undef H

/* listen parsed now, so that --check finds a bad one. */
static int check_http(struct sc_schema_ctx *ctx, void *obj, const struct sc_cfg_node *map,
                      const char *path)
{
    const struct sc_cfg_http *h = obj;
    struct sockaddr_storage addr;
    int v6;
    if (h->listen[0] && sc_http_parse_listen(h->listen, &addr, &v6) < 0)
        return sc_schema_error(ctx, sc_cfg_node_get(map, "listen"),
                               "%s.listen: must be host:port with a numeric host, e.g. "
                               "127.0.0.1:8080 or [::1]:8080 (got \"%s\")",
                               path && *path ? path : "http", h->listen);
    return 0;
}

const struct sc_schema sc_cfg_http_schema = {http_fields, sizeof(struct sc_cfg_http),
                                             check_http};
