/* jsonout.h -- smsc-sim's JSON output (jansson) and atomic file writes. */
#ifndef SIM_JSONOUT_H
#define SIM_JSONOUT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct sim_statmap;

/* A JSON string for text from a peer or the command line: valid UTF-8 is
 * kept as it is; otherwise every byte >= 0x80 is shown as the Latin-1 code
 * point of that byte (so the output is always valid JSON). NULL -> null.
 * New reference; NULL only when out of memory. */
json_t *sim_json_text(const char *s);

/* {"ESME_ROK": n, ...}: the status map's counts by status name. New ref. */
json_t *sim_json_statmap(const struct sim_statmap *m);

/* A counter as a JSON integer (clamped to the json_int_t range). New ref. */
json_t *sim_json_u64(uint64_t v);

/* Write data to path atomically: path.tmp, then rename. 0, SC_ENOMEM or SC_EIO
 * (the tmp file is removed on failure). */
int sim_file_write_atomic(const char *path, const char *data, size_t len);

/* Dump doc (indented, keys in insertion order, reals to 15 digits) to path
 * atomically. Steals the reference to doc (NULL: SC_ENOMEM). 0 or SC_E*. */
int sim_json_write(const char *path, json_t *doc);

#endif
