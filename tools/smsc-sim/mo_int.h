/* mo_int.h -- what mo.c (queue, sending, redelivery) and mo_build.c (text
 * into parts) share; nothing outside the MO part uses it. */
#ifndef SIM_MO_INT_H
#define SIM_MO_INT_H

#include "mo.h"

#define MO_MAX_PARTS 255

/* A new MO from -> to, held once (refs 1), no part yet. NULL: out of memory. */
struct sim_mo *sim__mo_new(struct sim_mos *m, enum sim_mo_kind kind, const char *from,
                           const char *to);

#endif
