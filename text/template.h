/* template.h -- reply templates: "{name}" placeholders filled from named values.
 *
 * A template is compiled once (at start-up and on SIGHUP) against the list of
 * placeholder names its handler provides; an unknown name is an error, so a
 * typo in the config stops the daemon instead of reaching a subscriber.
 * Rendering is one pass: a value (text from a subscriber or from Redis) is
 * copied as data and never scanned for placeholders. "{{" and "}}" stand
 * for literal braces. */
#ifndef SC_TEMPLATE_H
#define SC_TEMPLATE_H

#include <stddef.h>

struct sc_tpl;

/* Compile text. vars lists the allowed placeholder names (nvars of them);
 * the index of a name in vars is the index of its value at render time.
 * Returns NULL with a message in err ("unknown placeholder {x}; this
 * template knows {a}, {b}", "unterminated {") on error. */
struct sc_tpl *sc_tpl_compile(const char *text, const char *const *vars, size_t nvars, char *err,
                              size_t errsz);
/* NULL is a no-op. */
void sc_tpl_free(struct sc_tpl *t);

/* Render into out (always NUL-terminated when outsz > 0; truncated on a
 * UTF-8 character boundary). values[i] is the value of vars[i] (NULL = "").
 * Returns the full length the result needs (without NUL), like snprintf. */
size_t sc_tpl_render(const struct sc_tpl *t, const char *const *values, char *out, size_t outsz);

#endif
