/* script_int.h -- what script_parse.c (the file into steps) and
 * script_run.c (the steps on the loop) share: the steps and the script's
 * state. Nothing outside the script uses it.
 *
 * The script owns its steps (and their texts and regexes), the MTs queued
 * per destination, and one hold on the last MO it sent. */
#ifndef SIM_SCRIPT_INT_H
#define SIM_SCRIPT_INT_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "mo.h"
#include "stats.h"

enum step_kind {
    K_WAIT_BOUND, K_SEND, K_EXPECT, K_EXPECT_STATUS, K_EXPECT_NONE, K_SLEEP, K_BURST,
    K_EXPECT_COUNT,
};

struct step {
    enum step_kind kind;
    int line;
    char *raw;                   /* the line, trimmed, for the report */
    char from[SC_ADDR_MAX];
    char to[SC_ADDR_MAX];
    struct sim_send_opts so;
    char *text;
    size_t text_len;
    char *re_src;
    regex_t re;
    int has_re;
    int64_t status;
    uint64_t ms;                 /* timeout / sleep / window; 0 = --timeout-ms */
    uint64_t count;
    uint64_t spread;             /* burst: senders FROM .. FROM+spread-1 */
};

/* MTs queued for one destination address. */
struct dest {
    struct dest *next;
    char addr[SC_ADDR_MAX];
    struct sim_mt *head, *tail;
    size_t n;
};

#define NBUCKETS 256
#define BURST_QUEUE 256          /* MO parts a burst keeps queued ahead */

struct sim_script {
    struct sim_env *env;
    char *path;
    struct step *steps;
    size_t nsteps, cap;
    size_t cur;
    unsigned passed, failed;
    int waiting;
    int running, again;
    int done;
    uv_timer_t timer;
    struct sim_mo *last_mo;
    struct dest *buckets[NBUCKETS];
    size_t nmt;
    /* the running burst */
    uint64_t b_left, b_done;
    unsigned b_first_id;
    uint64_t b_start;
    struct sim_statmap b_status;
};

#endif
