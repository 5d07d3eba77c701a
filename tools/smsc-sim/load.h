/* load.h -- load mode (--load): paced MOs from many subscribers, replies
 * matched per subscriber, latency, throughput, errors, CPU.
 *
 * load.c runs the load; load_report.c prints and writes what it measured.
 * The load owns its subscribers, templates and figures. */
#ifndef SIM_LOAD_H
#define SIM_LOAD_H

#include <stddef.h>

struct sim_env;
struct sim_load;
struct sim_mo;
struct sim_mt;

/* Check o->load and o->from; NULL with a message in err (usage error) or the
 * load state (the run starts once enough sessions are bound). */
struct sim_load *sim_load_new(struct sim_env *env, char *err, size_t errsz);
void sim_load_start(struct sim_load *l);
void sim_load_on_bound(struct sim_load *l);
void sim_load_on_mt(struct sim_load *l, const struct sim_mt *mt);
void sim_load_on_mo_done(struct sim_load *l, struct sim_mo *mo);
/* Interrupted (signal): report what was measured; returns the exit status (1). */
int sim_load_interrupt(struct sim_load *l);
void sim_load_free(struct sim_load *l);

#endif
