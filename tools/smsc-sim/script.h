/* script.h -- scripted mode (--script FILE): parse the script, then run its
 * steps against the MO queue and the MTs the server hands over.
 *
 * script_parse.c reads the file into steps; script_run.c runs them. The
 * script owns its steps and the MTs it is given (freed with it). */
#ifndef SIM_SCRIPT_H
#define SIM_SCRIPT_H

struct sim_env;
struct sim_mo;
struct sim_mt;
struct sim_script;

/* Parse the script; on error print FILE:LINE: message to stderr, return NULL. */
struct sim_script *sim_script_load(struct sim_env *env, const char *path);
void sim_script_start(struct sim_script *sc);
/* Takes ownership of mt. */
void sim_script_on_mt(struct sim_script *sc, struct sim_mt *mt);
void sim_script_on_mo_done(struct sim_script *sc, struct sim_mo *mo);
void sim_script_on_bound(struct sim_script *sc);
/* Shutdown: 1 when the script was interrupted before its end (exit 1). */
int sim_script_stop(struct sim_script *sc);
void sim_script_free(struct sim_script *sc);

#endif
