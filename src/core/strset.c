#include "strset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "banned.h"

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

void ss_strset_init(struct ss_strset *s)
{
	s->slots = NULL;
	s->cap = 0;
	s->count = 0;
}

void ss_strset_free(struct ss_strset *s)
{
	size_t i;

	for (i = 0; i < s->cap; i++)
		free(s->slots[i]);
	free(s->slots);
	ss_strset_init(s);
}

static size_t find(char **slots, size_t cap, const char *key)
{
	size_t i = (size_t)hash(key) & (cap - 1);

	while (slots[i] != NULL && strcmp(slots[i], key) != 0)
		i = (i + 1) & (cap - 1);
	return i;
}

static enum ss_rc grow(struct ss_strset *s)
{
	size_t ncap = s->cap ? s->cap * 2 : 64, i;
	char **n = calloc(ncap, sizeof(*n));

	if (n == NULL)
		return SS_ERR_NOMEM;
	for (i = 0; i < s->cap; i++)
		if (s->slots[i] != NULL)
			n[find(n, ncap, s->slots[i])] = s->slots[i];
	free(s->slots);
	s->slots = n;
	s->cap = ncap;
	return SS_OK;
}

enum ss_rc ss_strset_add(struct ss_strset *s, const char *key, int *added)
{
	size_t i;

	if (added != NULL)
		*added = 0;
	if ((s->count + 1) * 2 > s->cap && grow(s) != SS_OK)
		return SS_ERR_NOMEM;
	i = find(s->slots, s->cap, key);
	if (s->slots[i] != NULL)
		return SS_OK;
	s->slots[i] = ss_strdup(key);
	if (s->slots[i] == NULL)
		return SS_ERR_NOMEM;
	s->count++;
	if (added != NULL)
		*added = 1;
	return SS_OK;
}

int ss_strset_has(const struct ss_strset *s, const char *key)
{
	if (s->cap == 0)
		return 0;
	return s->slots[find(s->slots, s->cap, key)] != NULL;
}
