/* UTF-16 to UTF-8 in place: the glue's string input where the host copies a string's UTF-16 units
 * into the input buffer faster than it encodes UTF-8 (Node's Buffer#write 'utf16le': a copy). */
#ifndef Q_UTF16_H
#define Q_UTF16_H
#include "base.h"

/* Rewrites the n UTF-16LE units at buf as UTF-8 from buf on, as TextEncoder writes them (a lone
 * surrogate becomes U+FFFD, EF BF BD). Returns the UTF-8 length times 2, plus 1 when a lone
 * surrogate was replaced; 0 when the UTF-8 form would overtake the units not yet read (text
 * dense in 3-byte characters: the caller encodes the string another way) or n is 0 or too large
 * for that result (n >= 2^29, longer than any JS string). On success wide[0] is the offset of the
 * UTF-8's first byte >= 0x80 (its length when none) and wide[1] the offset after its last (0 when
 * none): the bytes before wide[0] and from wide[1] on are ASCII, one byte a unit (the glue maps
 * byte offsets there to string offsets without decoding). */
int32_t utf16_to_utf8_in_place(uint8_t *buf, uint32_t n, uint32_t wide[2]);
#endif
