/* help.c -- the "help" handler: the command list, from the config. Also the
 * natural default route, so any text the daemon does not know gets it. */
#include "handlers/handler.h"

static const struct sc_tpl_decl help_templates[] = {
    {"help", NULL, 0},
    {NULL, NULL, 0},
};

/* No script: the request layer's prelude (rate limit) ran alone. */
static void help_result(struct sc_req *req, const void *opts, struct redisReply *const *e,
                        size_t n)
{
    (void)opts, (void)e, (void)n;
    sc_req_reply_tpl(req, "help", NULL);
}

const struct sc_handler sc_handler_help = {
    .name = "help",
    .summary = "reply with the help text (template help)",
    .templates = help_templates,
    .result = help_result,
};
