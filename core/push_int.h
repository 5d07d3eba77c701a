/* push_int.h -- internals shared by core/push.c and core/push_lua.c: the
 * intake's scripts (their KEYS, ARGV and replies are described above each
 * in push_lua.c). */
#ifndef SC_PUSH_INT_H
#define SC_PUSH_INT_H

extern const char sc__push_take_lua[];   /* mt:{ID} marked queued by this entry */
extern const char sc__push_finish_lua[]; /* mt:{ID}, mt:status and the XACK */
extern const char sc__push_hold_lua[];   /* a quiet push moved to mt:held:P */

#endif
