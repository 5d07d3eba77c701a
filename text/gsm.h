/* gsm.h -- GSM 03.38 (3GPP TS 23.038) default alphabet and its extension
 * table; internal to text/.
 *
 * Septets are handled unpacked, one per octet, as SMPP carries data_coding 0.
 * An extension character is the escape septet 0x1B followed by its code in
 * the extension table, so it costs two septets. */
#ifndef SC_TEXT_GSM_H
#define SC_TEXT_GSM_H

#include <stdint.h>

#define SC_GSM_ESC 0x1B
/* sc__gsm_encode() marks an extension character with this bit above the code. */
#define SC_GSM_EXT 0x100

/* Code point of a default-alphabet septet (septet < 0x80). The escape 0x1B
 * has no character of its own and gives U+0020: TS 23.038 says a receiver
 * that does not understand the escape shows a space. */
uint32_t sc__gsm_base_char(uint8_t septet);

/* Code point of code in the extension table (the septet after 0x1B), or 0
 * when the table defines nothing there. */
uint32_t sc__gsm_ext_char(uint8_t code);

/* How code point cp is written in GSM 7-bit: the septet (0..0x7F), or
 * SC_GSM_EXT | code for an extension character, or -1 when neither table
 * has it. */
int sc__gsm_encode(uint32_t cp);

#endif
