/* load.c -- one configuration file loaded against a schema: parse, check the top level, apply. */
#include "config/config_int.h"

#include "base/sc.h"

int sc_schema_load_file(const char *path, const struct sc_schema *s, void *obj, char *err,
                        size_t errsz)
{
    struct sc_cfg_node *root = sc_cfg_parse_file(path, err, errsz);
    if (!root)
        return SC_ECONFIG;
    struct sc_schema_ctx ctx = {path, err, errsz, root->line, root->col};
    int rc;
    if (sc__node_is_null(root))
        rc = sc__err_pos(&ctx, 0, 0, "empty document (no settings)");
    else if (root->kind != SC_CFG_MAP)
        rc = sc_schema_error(&ctx, root, "the top level must be a mapping of settings "
                                         "(\"key: value\" lines), not %s", sc__kind_name(root));
    else
        rc = sc_schema_apply(&ctx, s, obj, root, "");
    sc_cfg_node_free(root);
    return rc;
}
