/* sc.c -- error texts and small string helpers shared by every subsystem. */
#include "sc.h"

#include <string.h>

const char *sc_strerror(int err)
{
    switch (err) {
    case SC_OK:
        return "success";
#define SC__ERR_CASE(name, val, text) case SC_E##name: return text;
        SC_ERR_MAP(SC__ERR_CASE)
#undef SC__ERR_CASE
    default:
        return "unknown error";
    }
}

size_t sc_strlcpy(char *dst, const char *src, size_t dstsz)
{
    size_t n = strlen(src);
    if (dstsz > 0) {
        size_t c = n < dstsz - 1 ? n : dstsz - 1;
        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return n;
}
