/* sim.h -- the smsc-sim program: its parts put together (main.c).
 *
 * smsc-sim is the SMSC side of SMPP 3.4 on the project's own session layer
 * (smsc/session.h) and codec (smsc/pdu.h). One process, one thread, one
 * libuv loop; nothing blocks. Each file owns its part of the state and
 * declares it in its own header; the headers form layers, bottom first
 * (docs/simulator.md, "Source layout"):
 *
 *   opts.h, stats.h, hist.h, env.h   command line; counters; latency
 *                             histogram; what a mode sees (pointers only)
 *   jsonout.h, conn.h         JSON writers; one ESME session, the list of them
 *   faults.h                  fault decisions and their counts
 *   mo.h                      MOs: parts, queue, round-robin send, redelivery
 *   dlr.h                     delivery receipts: outcome, delay, pending heap
 *   server.h                  listener, sessions, binds, submit_sm, MTs
 *   script.h, interactive.h, load.h   the three modes
 *   sim.h                     struct sim: all of the above, owned by main.c
 *   statsfile.h               the --stats JSON file, from struct sim
 *
 * No header includes one above it, and a file calls only what its headers
 * declare: a lower part reports to a higher one through hooks (mo.h on_done,
 * server.h hooks, env.h stop / idle) that main.c sets. */
#ifndef SIM_SIM_H
#define SIM_SIM_H

#include <stdint.h>
#include <uv.h>

#include "env.h"
#include "faults.h"
#include "mo.h"
#include "opts.h"
#include "server.h"
#include "stats.h"

struct sim_load;
struct sim_script;
struct sim_tty;

struct sim {
    struct sim_env env;          /* what the modes see: points into this struct */
    struct sim_opts o;
    uv_loop_t *loop;
    uint64_t start_ms;
    uv_signal_t sig_term, sig_int, sig_usr1;

    struct sim_stats stats;
    struct sim_faults faults;
    struct sim_mos mos;
    struct sim_server srv;

    /* the mode: at most one is set */
    struct sim_script *script;
    struct sim_tty *tty;
    struct sim_load *load;

    int stopping;
    int finished;
    int exit_code;
    uv_timer_t stop_timer;
};

#endif
