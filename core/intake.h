/* intake.h -- what an MO must be before anything runs for it: sent from a
 * plausible subscriber address, to one of our service numbers.
 *
 * Pure functions over the configuration; the daemon's use of them (answer,
 * log, count) is sc__app_intake in core/app.h. */
#ifndef SC_INTAKE_H
#define SC_INTAKE_H

#include "core/config.h"

/* 1 when addr (NUL-terminated) is a plausible MO source under policy
 * (enum sc_source_addr, smpp.source_addr), else 0.
 *   msisdn:       an optional "+" and 1 to 20 digits, 20 characters at most;
 *   alphanumeric: that, or 1 to 20 ASCII letters, digits and spaces, neither
 *                 starting nor ending with a space.
 * Nothing else (empty, control bytes, punctuation, UTF-8) is. */
int sc_intake_source_ok(int policy, const char *addr);

/* The service number addr denotes: the entry of cfg->service_numbers equal
 * to addr, or to addr without the first of cfg->msisdn_prefixes (longest
 * first) it starts with ("8610086" with prefix "86" is 10086). NULL when
 * addr is none of ours. Borrowed from cfg. Routes use the same rule. */
const char *sc_intake_service(const struct sc_config *cfg, const char *addr);

#endif
