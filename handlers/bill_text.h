/* bill_text.h -- the text of a monthly bill (bill:{M}:YYYYMM): one renderer
 * for the CXZD reply (handlers/bill.c) and the bill run's pushes
 * (tools/shortcodectl/billrun.c), so that the two never say it differently.
 *
 * Ownership: every string is borrowed for the call. */
#ifndef SC_BILL_TEXT_H
#define SC_BILL_TEXT_H

#include <stddef.h>

#include "handlers/handler.h"

#define SC_BILL_ITEMS 8

/* The fields of bill:{M}:YYYYMM, in the order of the text: plan_fen
 * voice_fen data_fen sms_fen vas_fen other_fen discount_fen total_fen. */
extern const char *const sc_bill_fields[SC_BILL_ITEMS];

/* The templates of a bill (bill_header ... bill_none, bill_details), with
 * their placeholders; ends with {NULL, NULL, 0}. The bill handler declares
 * them. */
extern const struct sc_tpl_decl sc_bill_templates[];

/* One bill, as Redis holds it. */
struct sc_bill {
    const char *month;                  /* YYYYMM (shown as "2026年11月") */
    const char *plan;                   /* acct's plan name; "" or NULL: none */
    const char *items[SC_BILL_ITEMS];   /* as billing wrote them; "" or NULL: absent */
    const char *services;               /* VAS names joined, for bill_vas_named; "" or NULL */
};

/* Renders template tpl with values (its placeholders in declaration order)
 * into out, like sc_tpl_render: returns the length the result needs. */
typedef size_t (*sc_bill_render_fn)(void *arg, const char *tpl, const char *const *values,
                                    char *out, size_t outsz);

/* The bill's text into out (NUL-terminated, cut to outsz - 1): one line per
 * template, bill_header, bill_plan_name, one line per item that is an
 * integer (the discount as a reduction), bill_partial when one is not, and,
 * with details, bill_details ({cycle}: the month as YYYYMM) last. Returns
 * the length written. */
size_t sc_bill_text(const struct sc_bill *b, int details, sc_bill_render_fn render, void *arg,
                    char *out, size_t outsz);

/* "202611" -> "2026年11月"; anything else is copied as it is. Returns out. */
const char *sc_bill_month_text(const char *yyyymm, char *out, size_t outsz);

/* The shipped text (config/shortcoded.yaml) of the bill template name, for
 * a caller without a config (shortcodectl bill-run without -c); NULL when
 * name is not a bill template. */
const char *sc_bill_default_template(const char *name);

#endif
