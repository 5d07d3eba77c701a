/* statsfile.h -- the --stats JSON file (statsfile.c), built from everything
 * struct sim holds; it owns nothing. */
#ifndef SIM_STATSFILE_H
#define SIM_STATSFILE_H

struct sim;

/* Write the JSON stats to o.stats_file (tmp + rename); nothing without
 * --stats. 0, SC_ENOMEM or SC_EIO. */
int sim_stats_write(struct sim *sim);

#endif
