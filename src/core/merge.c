#include "merge.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "banned.h"

#define TYPE(v) ((v)->type & 0xFF)

/* Objects merged with more members than this (both sides together) get
 * a hash index of the result's keys, so merging two bundles of many
 * secrets stays linear instead of quadratic. */
#define INDEX_MIN 16

static const struct ss_merge_opts default_opts = {SS_MERGE_LISTS_APPEND, SS_MERGE_NULLS_OVERRIDE};

enum ss_rc ss_merge_lists_parse(const char *s, enum ss_merge_lists *out)
{
	if (s == NULL)
		return SS_ERR_INVALID;
	if (strcmp(s, "append") == 0)
		*out = SS_MERGE_LISTS_APPEND;
	else if (strcmp(s, "replace") == 0)
		*out = SS_MERGE_LISTS_REPLACE;
	else if (strcmp(s, "union") == 0)
		*out = SS_MERGE_LISTS_UNION;
	else
		return SS_ERR_INVALID;
	return SS_OK;
}

enum ss_rc ss_merge_nulls_parse(const char *s, enum ss_merge_nulls *out)
{
	if (s == NULL)
		return SS_ERR_INVALID;
	if (strcmp(s, "override") == 0)
		*out = SS_MERGE_NULLS_OVERRIDE;
	else if (strcmp(s, "keep") == 0)
		*out = SS_MERGE_NULLS_KEEP;
	else
		return SS_ERR_INVALID;
	return SS_OK;
}

const char *ss_merge_lists_name(enum ss_merge_lists l)
{
	switch (l) {
	case SS_MERGE_LISTS_APPEND: return "append";
	case SS_MERGE_LISTS_REPLACE: return "replace";
	case SS_MERGE_LISTS_UNION: return "union";
	}
	return "unknown";
}

const char *ss_merge_nulls_name(enum ss_merge_nulls n)
{
	switch (n) {
	case SS_MERGE_NULLS_OVERRIDE: return "override";
	case SS_MERGE_NULLS_KEEP: return "keep";
	}
	return "unknown";
}

/* A deep copy of v, key included; cJSON_Duplicate drops the reference
 * flag, so the copy owns every string. */
static enum ss_rc copy(const cJSON *v, cJSON **out)
{
	*out = cJSON_Duplicate(v, 1);
	return *out ? SS_OK : SS_ERR_NOMEM;
}

static void drop_key(cJSON *v)
{
	if (v->string != NULL && !(v->type & cJSON_StringIsConst)) {
		ss_memzero(v->string, strlen(v->string));
		cJSON_free(v->string);
	}
	v->string = NULL;
	v->type &= ~cJSON_StringIsConst;
}

/* Give dst the value of fresh (a node the caller owns), keeping dst's
 * key and place among its siblings; dst's old value and fresh are
 * freed. */
static void become(cJSON *dst, cJSON *fresh)
{
	ss_json_delete_secret(dst->child);
	if (dst->valuestring != NULL) {
		ss_memzero(dst->valuestring, strlen(dst->valuestring));
		cJSON_free(dst->valuestring);
	}
	dst->type = (fresh->type & ~(cJSON_StringIsConst | cJSON_IsReference)) |
		    (dst->type & cJSON_StringIsConst);
	dst->child = fresh->child;
	dst->valuestring = fresh->valuestring;
	dst->valueint = fresh->valueint;
	dst->valuedouble = fresh->valuedouble;
	fresh->child = NULL;
	fresh->valuestring = NULL;
	ss_json_delete_secret(fresh);
}

/* An open-addressing index from key to the first member with that key. */
struct kindex {
	cJSON **slot;
	size_t mask;
};

static uint64_t key_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static cJSON **kindex_find(struct kindex *ix, const char *key)
{
	size_t i = (size_t)key_hash(key) & ix->mask;

	while (ix->slot[i] != NULL && strcmp(ix->slot[i]->string, key) != 0)
		i = (i + 1) & ix->mask;
	return &ix->slot[i];
}

/* Room for n keys at a load factor of at most 1/2. */
static enum ss_rc kindex_init(struct kindex *ix, const cJSON *obj, size_t n)
{
	size_t size = 16;
	cJSON *c;

	while (size < 2 * n)
		size *= 2;
	ix->slot = calloc(size, sizeof(*ix->slot));
	if (ix->slot == NULL)
		return SS_ERR_NOMEM;
	ix->mask = size - 1;
	for (c = obj->child; c != NULL; c = c->next) {
		cJSON **s = kindex_find(ix, c->string);

		if (*s == NULL)
			*s = c;
	}
	return SS_OK;
}

static size_t count_children(const cJSON *v)
{
	const cJSON *c;
	size_t n = 0;

	for (c = v->child; c != NULL; c = c->next)
		n++;
	return n;
}

/* Append a copy of item (with its key) to the container dst. */
static enum ss_rc append_copy(cJSON *dst, const cJSON *item, cJSON **added)
{
	cJSON *c = NULL;
	enum ss_rc rc = copy(item, &c);

	if (rc != SS_OK)
		return rc;
	if (!cJSON_AddItemToArray(dst, c)) {
		ss_json_delete_secret(c);
		return SS_ERR_INTERNAL;
	}
	if (added != NULL)
		*added = c;
	return SS_OK;
}

static enum ss_rc merge_in_place(cJSON *dst, const cJSON *next, const struct ss_merge_opts *o);

static int has_keys(const cJSON *obj)
{
	const cJSON *c;

	for (c = obj->child; c != NULL; c = c->next)
		if (c->string == NULL)
			return 0;
	return 1;
}

static enum ss_rc merge_objects(cJSON *dst, const cJSON *next, const struct ss_merge_opts *o)
{
	struct kindex ix = {NULL, 0};
	size_t nd, nn;
	const cJSON *m;
	enum ss_rc rc = SS_OK;

	if (!has_keys(dst) || !has_keys(next))
		return SS_ERR_INVALID;
	nd = count_children(dst);
	nn = count_children(next);
	if (nd + nn > INDEX_MIN) {
		rc = kindex_init(&ix, dst, nd + nn);
		if (rc != SS_OK)
			return rc;
	}
	for (m = next->child; rc == SS_OK && m != NULL; m = m->next) {
		cJSON **slot = NULL, *e, *added = NULL;

		if (ix.slot != NULL) {
			slot = kindex_find(&ix, m->string);
			e = *slot;
		} else {
			e = cJSON_GetObjectItemCaseSensitive(dst, m->string);
		}
		if (e != NULL) {
			rc = merge_in_place(e, m, o);
		} else {
			rc = append_copy(dst, m, &added);
			if (rc == SS_OK && slot != NULL)
				*slot = added;
		}
	}
	free(ix.slot);
	return rc;
}

static int array_contains(const cJSON *arr, const cJSON *item)
{
	const cJSON *c;

	for (c = arr->child; c != NULL; c = c->next)
		if (ss_json_equal(c, item))
			return 1;
	return 0;
}

static enum ss_rc merge_arrays(cJSON *dst, const cJSON *next, const struct ss_merge_opts *o)
{
	const cJSON *c;
	cJSON *fresh = NULL;
	enum ss_rc rc = SS_OK;

	switch (o->lists) {
	case SS_MERGE_LISTS_REPLACE:
		rc = copy(next, &fresh);
		if (rc == SS_OK)
			become(dst, fresh);
		return rc;
	case SS_MERGE_LISTS_UNION:
		for (c = next->child; rc == SS_OK && c != NULL; c = c->next)
			if (!array_contains(dst, c))
				rc = append_copy(dst, c, NULL);
		return rc;
	case SS_MERGE_LISTS_APPEND:
		for (c = next->child; rc == SS_OK && c != NULL; c = c->next)
			rc = append_copy(dst, c, NULL);
		return rc;
	}
	return SS_ERR_INVALID;
}

/* Merge next into dst, a node of the result (owned), in place. The
 * recursion follows next's nesting, which the caller checked. */
static enum ss_rc merge_in_place(cJSON *dst, const cJSON *next, const struct ss_merge_opts *o)
{
	cJSON *fresh = NULL;
	enum ss_rc rc;

	if (TYPE(next) == cJSON_NULL && o->nulls == SS_MERGE_NULLS_KEEP)
		return SS_OK;
	if (TYPE(dst) == cJSON_Object && TYPE(next) == cJSON_Object)
		return merge_objects(dst, next, o);
	if (TYPE(dst) == cJSON_Array && TYPE(next) == cJSON_Array)
		return merge_arrays(dst, next, o);
	rc = copy(next, &fresh);
	if (rc == SS_OK)
		become(dst, fresh);
	return rc;
}

enum ss_rc ss_merge(const cJSON *base, const cJSON *next, const struct ss_merge_opts *o,
		    cJSON **out)
{
	cJSON *r = NULL;
	enum ss_rc rc;

	*out = NULL;
	if (o == NULL)
		o = &default_opts;
	if (next == NULL)
		return SS_ERR_INVALID;
	if (!ss_json_depth_within(next, SS_JSON_MAX_DEPTH) ||
	    !ss_json_depth_within(base, SS_JSON_MAX_DEPTH))
		return SS_ERR_TOOBIG;
	rc = copy(base != NULL ? base : next, &r);
	if (rc != SS_OK)
		goto out;
	drop_key(r);
	if (base != NULL)
		rc = merge_in_place(r, next, o);
out:
	if (rc != SS_OK)
		ss_json_delete_secret(r);
	else
		*out = r;
	return rc;
}

enum ss_rc ss_merge_into_bundle(cJSON *bundle, const cJSON *source, const struct ss_merge_opts *o)
{
	cJSON *r = NULL, *old;
	enum ss_rc rc;

	if (!cJSON_IsObject(bundle) || !cJSON_IsObject(source))
		return SS_ERR_INVALID;
	rc = ss_merge(bundle, source, o, &r);
	if (rc != SS_OK)
		return rc;
	/* Swap the members in: the bundle keeps its own node and key. */
	old = bundle->child;
	bundle->child = r->child;
	r->child = old;
	ss_json_delete_secret(r);
	return SS_OK;
}
