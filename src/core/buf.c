#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

static char ss_buf_empty[1];

void ss_memzero(void *p, size_t n)
{
	/* A volatile function pointer keeps the store from being elided
	 * as a dead write before free(). */
	static void *(*const volatile memset_v)(void *, int, size_t) = memset;

	if (p != NULL && n > 0)
		memset_v(p, 0, n);
}

void ss_free_secret(char *s)
{
	if (s == NULL)
		return;
	ss_memzero(s, strlen(s));
	free(s);
}

char *ss_strdup(const char *s)
{
	if (s == NULL)
		return NULL;
	return ss_strndup(s, strlen(s));
}

char *ss_strndup(const char *p, size_t len)
{
	char *s = malloc(len + 1);

	if (s == NULL)
		return NULL;
	if (len > 0)
		memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

void ss_buf_init(struct ss_buf *b, size_t max)
{
	b->data = ss_buf_empty;
	b->len = 0;
	b->cap = 0;
	b->max = max ? max : SS_BUF_DEFAULT_MAX;
}

void ss_buf_free(struct ss_buf *b)
{
	if (b == NULL)
		return;
	if (b->cap > 0) {
		ss_memzero(b->data, b->cap);
		free(b->data);
	}
	b->data = ss_buf_empty;
	b->len = 0;
	b->cap = 0;
}

void ss_buf_reset(struct ss_buf *b)
{
	if (b->cap > 0) {
		ss_memzero(b->data, b->len);
		b->data[0] = '\0';
	}
	b->len = 0;
}

enum ss_rc ss_buf_grow(struct ss_buf *b, size_t extra)
{
	size_t need, ncap;
	char *n;

	if (extra > b->max || b->len > b->max - extra)
		return SS_ERR_TOOBIG;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return SS_OK;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap = ncap > ((size_t)-1) / 2 ? need : ncap * 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	/* Never realloc: the old block may hold secrets and must be
	 * zeroed before it is released. */
	n = malloc(ncap);
	if (n == NULL)
		return SS_ERR_NOMEM;
	memcpy(n, b->data, b->len + 1);
	if (b->cap > 0) {
		ss_memzero(b->data, b->cap);
		free(b->data);
	}
	b->data = n;
	b->cap = ncap;
	return SS_OK;
}

enum ss_rc ss_buf_add(struct ss_buf *b, const void *p, size_t len)
{
	enum ss_rc rc;

	if (len == 0)
		return SS_OK;
	rc = ss_buf_grow(b, len);
	if (rc != SS_OK)
		return rc;
	memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return SS_OK;
}

enum ss_rc ss_buf_adds(struct ss_buf *b, const char *s)
{
	return ss_buf_add(b, s, strlen(s));
}

enum ss_rc ss_buf_addc(struct ss_buf *b, char c)
{
	return ss_buf_add(b, &c, 1);
}

enum ss_rc ss_buf_vaddf(struct ss_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;
	enum ss_rc rc;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp); /* NOLINT(clang-analyzer-valist.Uninitialized): va_copy'd */
	va_end(cp);
	if (n < 0)
		return SS_ERR_INVALID;
	rc = ss_buf_grow(b, (size_t)n);
	if (rc != SS_OK)
		return rc;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return SS_OK;
}

enum ss_rc ss_buf_addf(struct ss_buf *b, const char *fmt, ...)
{
	va_list ap;
	enum ss_rc rc;

	va_start(ap, fmt);
	rc = ss_buf_vaddf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void ss_buf_truncate(struct ss_buf *b, size_t len)
{
	if (len >= b->len)
		return;
	ss_memzero(b->data + len, b->len - len);
	b->len = len;
	b->data[len] = '\0';
}

enum ss_rc ss_buf_take(struct ss_buf *b, char **out)
{
	*out = NULL;
	if (b->cap == 0) {
		*out = ss_strdup("");
		return *out ? SS_OK : SS_ERR_NOMEM;
	}
	*out = b->data;
	b->data = ss_buf_empty;
	b->len = 0;
	b->cap = 0;
	return SS_OK;
}
