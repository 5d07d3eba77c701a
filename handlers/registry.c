/* registry.c -- every command handler, listed once. Add yours here. */
#include <string.h>

#include "handlers/handler.h"

extern const struct sc_handler sc_handler_help;
extern const struct sc_handler sc_handler_vas_list, sc_handler_vas_cancel_items,
    sc_handler_vas_cancel_all, sc_handler_vas_confirm, sc_handler_vas_cancel_code;
extern const struct sc_handler sc_handler_lookup, sc_handler_bill, sc_handler_data_reminder;
extern const struct sc_handler sc_handler_order_request;
extern const struct sc_handler sc_handler_http;

const struct sc_handler *const sc_handlers[] = {
    &sc_handler_help,
    &sc_handler_vas_list,
    &sc_handler_vas_cancel_items,
    &sc_handler_vas_cancel_all,
    &sc_handler_vas_confirm,
    &sc_handler_vas_cancel_code,
    &sc_handler_order_request,
    &sc_handler_lookup,
    &sc_handler_bill,
    &sc_handler_data_reminder,
    &sc_handler_http,
    NULL,
};

const struct sc_handler *sc_handler_find(const char *name, size_t *index)
{
    for (size_t i = 0; sc_handlers[i]; i++)
        if (strcmp(sc_handlers[i]->name, name) == 0) {
            if (index)
                *index = i;
            return sc_handlers[i];
        }
    return NULL;
}
