/* strset.h - a set of strings (open addressing, FNV-1a), for visited
 * sets and name lookups. Strings are copied in and owned by the set. */
#ifndef SS_STRSET_H
#define SS_STRSET_H

#include <stddef.h>

#include "rc.h"

struct ss_strset {
	char **slots;
	size_t cap; /* a power of two, or 0 */
	size_t count;
};

/* An empty set (no allocation until the first add). */
void ss_strset_init(struct ss_strset *s);

/* Free every string and the table. */
void ss_strset_free(struct ss_strset *s);

/* Add a copy of key. *added (may be NULL) is 1 when it was new, 0 when
 * it was there already. */
enum ss_rc ss_strset_add(struct ss_strset *s, const char *key, int *added) SS_MUST_CHECK;

/* Nonzero when key is in the set. */
int ss_strset_has(const struct ss_strset *s, const char *key);

#endif
