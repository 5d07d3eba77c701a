/* interactive.h -- interactive mode: stdin lines become MOs, MTs are printed.
 * interactive.c owns struct sim_tty and the MOs it still watches. */
#ifndef SIM_INTERACTIVE_H
#define SIM_INTERACTIVE_H

#include <stddef.h>

struct sim_env;
struct sim_mo;
struct sim_mt;
struct sim_tty;

/* Start reading stdin. NULL when out of memory; a tty that could not start
 * reading is returned with a message in err (free it after the loop). */
struct sim_tty *sim_tty_start(struct sim_env *env, char *err, size_t errsz);
/* A read of stdin is still running on the thread pool. */
int sim_tty_busy(const struct sim_tty *t);
void sim_tty_on_mt(struct sim_tty *t, const struct sim_mt *mt);
void sim_tty_on_mo_done(struct sim_tty *t, struct sim_mo *mo);
void sim_tty_stop(struct sim_tty *t);
void sim_tty_free(struct sim_tty *t);

#endif
