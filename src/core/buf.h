/* buf.h - a bounded, growable byte buffer.
 *
 * Invariants: b->data is never NULL (an empty buffer points at a static
 * empty string until it first grows) and is always NUL-terminated, so
 * b->data can be used as a C string when the content has no NUL bytes.
 * b->len excludes the terminator. A buffer never grows past b->max bytes
 * of content: an append that would is refused with SS_ERR_TOOBIG and
 * leaves the buffer unchanged (curl dynbuf "toobig").
 *
 * Every release path zeroes the bytes before freeing them, so a buffer
 * may hold secrets.
 */
#ifndef SS_BUF_H
#define SS_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "rc.h"

/* A default cap for buffers that hold protocol data (64 MiB). */
#define SS_BUF_DEFAULT_MAX ((size_t)64 * 1024 * 1024)

struct ss_buf {
	char *data;  /* never NULL, always NUL-terminated */
	size_t len;  /* bytes of content */
	size_t cap;  /* allocated bytes (0 while data is the static empty) */
	size_t max;  /* largest allowed len */
};

/* Initialise b empty with the given content cap (0 means the default). */
void ss_buf_init(struct ss_buf *b, size_t max);

/* Zero and free b's storage; b is left empty and reusable. NULL is fine. */
void ss_buf_free(struct ss_buf *b);

/* Zero the content and set len to 0, keeping the storage. */
void ss_buf_reset(struct ss_buf *b);

/* Ensure room for extra more bytes of content. */
enum ss_rc ss_buf_grow(struct ss_buf *b, size_t extra) SS_MUST_CHECK;

/* Append len bytes at p. */
enum ss_rc ss_buf_add(struct ss_buf *b, const void *p, size_t len) SS_MUST_CHECK;

/* Append a NUL-terminated string. */
enum ss_rc ss_buf_adds(struct ss_buf *b, const char *s) SS_MUST_CHECK;

/* Append one byte. */
enum ss_rc ss_buf_addc(struct ss_buf *b, char c) SS_MUST_CHECK;

/* Append printf-formatted text. */
enum ss_rc ss_buf_addf(struct ss_buf *b, const char *fmt, ...) SS_MUST_CHECK
	__attribute__((format(printf, 2, 3)));
enum ss_rc ss_buf_vaddf(struct ss_buf *b, const char *fmt, va_list ap) SS_MUST_CHECK
	__attribute__((format(printf, 2, 0)));

/* Shorten the content to len bytes (no-op when len >= b->len); the cut
 * bytes are zeroed. */
void ss_buf_truncate(struct ss_buf *b, size_t len);

/* Hand the content to the caller as a malloc'd NUL-terminated string
 * (never NULL on SS_OK; an empty buffer gives ""), and leave b empty.
 * On failure *out is NULL. The caller frees it (ss_free_secret for
 * secrets). */
enum ss_rc ss_buf_take(struct ss_buf *b, char **out) SS_MUST_CHECK;

/* Zero n bytes at p in a way the compiler cannot elide. */
void ss_memzero(void *p, size_t n);

/* Zero a NUL-terminated string and free it. NULL is fine. */
void ss_free_secret(char *s);

/* strdup that returns NULL only on allocation failure (s may be NULL:
 * then it returns NULL too). */
char *ss_strdup(const char *s);

/* malloc'd copy of len bytes at p plus a NUL terminator. */
char *ss_strndup(const char *p, size_t len);

#endif
