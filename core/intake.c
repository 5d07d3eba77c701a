/* intake.c -- the checks an MO passes first: a plausible source, one of our
 * service numbers (contracts in intake.h and app.h). */
#include "core/intake.h"

#include <string.h>

#include "base/log.h"
#include "core/app.h"
#include "smsc/pdu.h"

#define SOURCE_MAX 20 /* characters of a source_addr (SMPP: 21 with the NUL) */

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_alnum(char c)
{
    return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int msisdn_ok(const char *a, size_t n)
{
    size_t i = a[0] == '+';
    if (n <= i)
        return 0;
    for (; i < n; i++)
        if (!is_digit(a[i]))
            return 0;
    return 1;
}

int sc_intake_source_ok(int policy, const char *addr)
{
    size_t n = strnlen(addr, SOURCE_MAX + 1);
    if (n == 0 || n > SOURCE_MAX)
        return 0;
    if (msisdn_ok(addr, n))
        return 1;
    if (policy != SC_SRC_ALPHANUMERIC || addr[0] == ' ' || addr[n - 1] == ' ')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_alnum(addr[i]) && addr[i] != ' ')
            return 0;
    return 1;
}

static const char *find_service(const struct sc_config *cfg, const char *s)
{
    for (size_t i = 0; i < cfg->nservice_numbers; i++)
        if (strcmp(cfg->service_numbers[i], s) == 0)
            return cfg->service_numbers[i];
    return NULL;
}

const char *sc_intake_service(const struct sc_config *cfg, const char *addr)
{
    const char *s = find_service(cfg, addr);
    if (s)
        return s;
    for (size_t i = 0; i < cfg->nmsisdn_prefixes; i++) {
        size_t n = strlen(cfg->msisdn_prefixes[i]);
        if (strncmp(addr, cfg->msisdn_prefixes[i], n) == 0)
            return find_service(cfg, addr + n);
    }
    return NULL;
}

int sc__app_intake(struct sc_app *a, const struct sc_mo *mo, struct sc_mo_token tok)
{
    const struct sc_config *cfg = a->gen->cfg;
    if (!sc_intake_source_ok(cfg->smpp.source_addr, mo->src.addr)) {
        a->stats.mo_bad_source++;
        sc_warn("event=mo_refused src=%s dst=%s reason=bad_source status=%s link=%s",
                SC_LOGV(mo->src.addr), SC_LOGV(mo->dst.addr),
                sc_pdu_status_name(SC_ESME_RINVSRCADR), mo->link);
        sc_esme_mo_done(a->esme, tok, SC_ESME_RINVSRCADR);
        return 1;
    }
    if (!sc_intake_service(cfg, mo->dst.addr)) {
        a->stats.mo_not_served++;
        sc_info("event=mo_not_served src=%s dst=%s status=%s link=%s", SC_LOGV(mo->src.addr),
                SC_LOGV(mo->dst.addr), sc_pdu_status_name(cfg->limits.foreign_mo_status),
                mo->link);
        sc_esme_mo_done(a->esme, tok, cfg->limits.foreign_mo_status);
        return 1;
    }
    return 0;
}
