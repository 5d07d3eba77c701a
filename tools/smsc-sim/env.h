/* env.h -- what a mode (script.c, interactive.c, load.c) works with.
 *
 * main.c owns the parts and fills one struct sim_env before a mode starts;
 * a mode keeps a pointer to it and owns none of what it points to. The
 * modes run on top of the MO queue (mo.h) and the server (server.h) and ask
 * the program to stop or to check whether shutdown can finish through the
 * two hooks. */
#ifndef SIM_ENV_H
#define SIM_ENV_H

#include <uv.h>

struct sim_faults;
struct sim_mos;
struct sim_opts;
struct sim_server;
struct sim_stats;

struct sim_env {
    uv_loop_t *loop;
    const struct sim_opts *o;
    struct sim_stats *stats;
    struct sim_faults *faults;
    struct sim_mos *mos;
    struct sim_server *srv;
    /* Begin shutdown with this exit code (the first call wins). */
    void (*stop)(struct sim_env *env, int exit_code);
    /* Something shutdown waits for has finished. */
    void (*idle)(struct sim_env *env);
};

#endif
