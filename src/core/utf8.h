/* utf8.h - decoding one UTF-8 character, strictly. */
#ifndef SS_UTF8_H
#define SS_UTF8_H

#include <stddef.h>

/* The length (1-4) of the well-formed UTF-8 character at p (at most n
 * bytes), with its code point in *cp when cp is not NULL; 0 for a byte
 * that does not start one: no overlong forms, no surrogates, nothing past
 * U+10FFFF, no truncated sequence. n == 0 gives 0. */
size_t ss_utf8_char(const unsigned char *p, size_t n, unsigned long *cp);

#endif
