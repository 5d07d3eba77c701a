/* smpp.c -- names of SMPP command_status values and of the dc0 and
 * seg_mode words, both ways (contracts in smpp.h). */
#include "base/smpp.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/sc.h"

static const struct {
    uint32_t status;
    const char *name;
} status_names[] = {
#define SC__ESME_NAME(name, val) {(val), "ESME_" #name},
    SC_ESME_MAP(SC__ESME_NAME)
#undef SC__ESME_NAME
};

const char *sc_pdu_status_name(uint32_t status)
{
    for (size_t i = 0; i < SC_ARRAY_LEN(status_names); i++)
        if (status_names[i].status == status)
            return status_names[i].name;
    return "unknown";
}

int sc_pdu_status_parse(const char *s, uint32_t *status)
{
    if (!s || !status || !*s)
        return SC_EINVAL;
    if (isdigit((unsigned char)s[0])) {
        int hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s + 2 * hex, &end, hex ? 16 : 10);
        if (hex && !isxdigit((unsigned char)s[2]))
            return SC_EINVAL;
        if (errno || *end || v > UINT32_MAX)
            return SC_EINVAL;
        *status = (uint32_t)v;
        return 0;
    }
    const char *bare = strncasecmp(s, "ESME_", 5) == 0 ? s + 5 : s;
    for (size_t i = 0; i < SC_ARRAY_LEN(status_names); i++) {
        if (strcasecmp(bare, status_names[i].name + 5) == 0) {
            *status = status_names[i].status;
            return 0;
        }
    }
    return SC_EINVAL;
}

/* Index of s in names[0..n), or -1 (also when s is NULL). */
static int name_index(const char *s, const char *const *names, size_t n)
{
    if (s == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return (int)i;
    return -1;
}

int sc_dc0_parse(const char *s)
{
    static const char *const names[] = {
        [SC_DC0_GSM] = "gsm", [SC_DC0_LATIN1] = "latin1", [SC_DC0_ASCII] = "ascii"};
    return name_index(s, names, SC_ARRAY_LEN(names));
}

int sc_seg_mode_parse(const char *s)
{
    static const char *const names[] = {
        [SC_SEG_UDH] = "udh", [SC_SEG_SAR] = "sar", [SC_SEG_PAYLOAD] = "payload"};
    return name_index(s, names, SC_ARRAY_LEN(names));
}
