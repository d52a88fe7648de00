#include "diff.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "json.h"
#include "banned.h"

/* Key paths are names, not values, but a broken input could still make
 * one huge: cap each at this many bytes. */
#define PATH_MAX_LEN ((size_t)64 * 1024)

const char *ss_diff_action_name(enum ss_diff_action a)
{
	switch (a) {
	case SS_DIFF_CREATE: return "create";
	case SS_DIFF_UPDATE: return "update";
	case SS_DIFF_DELETE: return "delete";
	case SS_DIFF_UNCHANGED: return "unchanged";
	}
	return "unknown";
}

struct ss_diff *ss_diff_new(void)
{
	return calloc(1, sizeof(struct ss_diff));
}

static void paths_free(struct ss_diff_paths *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
	p->v = NULL;
	p->n = 0;
	p->cap = 0;
}

static void entry_free(struct ss_diff_entry *e)
{
	free(e->secret);
	free(e->aws_name);
	paths_free(&e->changed);
	paths_free(&e->added);
	paths_free(&e->removed);
	memset(e, 0, sizeof(*e));
}

void ss_diff_free(struct ss_diff *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n; i++)
		entry_free(&d->entries[i]);
	free(d->entries);
	free(d);
}

static enum ss_rc paths_add(struct ss_diff_paths *p, const struct ss_buf *path)
{
	char *s;

	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 8;
		char **nv = realloc(p->v, ncap * sizeof(*nv));

		if (nv == NULL)
			return SS_ERR_NOMEM;
		p->v = nv;
		p->cap = ncap;
	}
	s = ss_strndup(path->data, path->len);
	if (s == NULL)
		return SS_ERR_NOMEM;
	p->v[p->n++] = s;
	return SS_OK;
}

static int path_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void paths_sort(struct ss_diff_paths *p)
{
	if (p->n > 1)
		qsort(p->v, p->n, sizeof(*p->v), path_cmp);
}

/* Set path to prefix "." key (just key at the top level; an empty key
 * below the top still gets its dot). */
static enum ss_rc path_join(struct ss_buf *path, size_t prefix_len, int top, const char *key)
{
	enum ss_rc rc = SS_OK;

	ss_buf_truncate(path, prefix_len);
	if (!top)
		rc = ss_buf_addc(path, '.');
	if (rc == SS_OK)
		rc = ss_buf_adds(path, key);
	return rc;
}

/* Record the key paths in which two objects differ. path holds the
 * prefix of this level; it is restored before returning. The recursion
 * follows the nesting of parsed (depth-limited) trees. */
static enum ss_rc diff_objects(const cJSON *want, const cJSON *have, int top, struct ss_buf *path,
			       struct ss_diff_entry *e)
{
	size_t plen = path->len;
	const cJSON *m, *o;
	enum ss_rc rc = SS_OK;

	for (m = want->child; rc == SS_OK && m != NULL; m = m->next) {
		rc = path_join(path, plen, top, m->string);
		if (rc != SS_OK)
			break;
		o = cJSON_GetObjectItemCaseSensitive(have, m->string);
		if (o == NULL)
			rc = paths_add(&e->added, path);
		else if (cJSON_IsObject(m) && cJSON_IsObject(o))
			rc = diff_objects(m, o, 0, path, e);
		else if (!ss_json_equal(m, o))
			rc = paths_add(&e->changed, path);
	}
	for (o = have->child; rc == SS_OK && o != NULL; o = o->next) {
		if (cJSON_GetObjectItemCaseSensitive(want, o->string) != NULL)
			continue;
		rc = path_join(path, plen, top, o->string);
		if (rc == SS_OK)
			rc = paths_add(&e->removed, path);
	}
	ss_buf_truncate(path, plen);
	return rc;
}

/* Fill e's action and key paths from the two texts. */
static enum ss_rc compare(const char *desired, size_t dlen, const char *current, size_t clen,
			  struct ss_diff_entry *e)
{
	cJSON *want = NULL, *have = NULL;
	struct ss_buf path;
	enum ss_rc rc = SS_OK, rw, rh;

	ss_buf_init(&path, PATH_MAX_LEN);
	if (desired == NULL) {
		e->action = SS_DIFF_DELETE;
		goto out;
	}
	if (current == NULL) {
		e->action = SS_DIFF_CREATE;
		goto out;
	}
	rw = ss_json_parse(desired, dlen, &want);
	rh = ss_json_parse(current, clen, &have);
	if (rw == SS_ERR_NOMEM || rh == SS_ERR_NOMEM) {
		rc = SS_ERR_NOMEM;
		goto out;
	}
	if (rw != SS_OK || rh != SS_OK) {
		/* Not JSON on one side: the bytes decide. */
		if (dlen == clen && (dlen == 0 || memcmp(desired, current, dlen) == 0)) {
			e->action = SS_DIFF_UNCHANGED;
		} else {
			e->action = SS_DIFF_UPDATE;
			e->whole = 1;
		}
		goto out;
	}
	if (ss_json_equal(want, have)) {
		e->action = SS_DIFF_UNCHANGED;
		goto out;
	}
	e->action = SS_DIFF_UPDATE;
	if (!cJSON_IsObject(want) || !cJSON_IsObject(have)) {
		e->whole = 1;
		goto out;
	}
	rc = diff_objects(want, have, 1, &path, e);
	if (rc != SS_OK)
		goto out;
	if (e->changed.n + e->added.n + e->removed.n == 0)
		e->whole = 1; /* cannot happen with parsed trees; stay truthful */
	paths_sort(&e->changed);
	paths_sort(&e->added);
	paths_sort(&e->removed);
out:
	ss_json_delete_secret(want);
	ss_json_delete_secret(have);
	ss_buf_free(&path);
	return rc;
}

/* Append e (moved in) to d. */
static enum ss_rc push(struct ss_diff *d, struct ss_diff_entry *e)
{
	if (e->action > SS_DIFF_UNCHANGED)
		return SS_ERR_INVALID;
	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 16;
		struct ss_diff_entry *ne = realloc(d->entries, ncap * sizeof(*ne));

		if (ne == NULL)
			return SS_ERR_NOMEM;
		d->entries = ne;
		d->cap = ncap;
	}
	d->entries[d->n++] = *e;
	d->counts[e->action]++;
	memset(e, 0, sizeof(*e));
	return SS_OK;
}

static enum ss_rc entry_names(struct ss_diff_entry *e, const char *secret, const char *aws_name)
{
	e->secret = ss_strdup(secret);
	e->aws_name = ss_strdup(aws_name != NULL ? aws_name : secret);
	return e->secret && e->aws_name ? SS_OK : SS_ERR_NOMEM;
}

enum ss_rc ss_diff_add(struct ss_diff *d, const char *secret, const char *aws_name,
		       const char *desired, size_t dlen, const char *current, size_t clen)
{
	struct ss_diff_entry e;
	enum ss_rc rc;

	memset(&e, 0, sizeof(e));
	if (d == NULL || secret == NULL || (desired == NULL && current == NULL))
		return SS_ERR_INVALID;
	rc = entry_names(&e, secret, aws_name);
	if (rc == SS_OK)
		rc = compare(desired, dlen, current, clen, &e);
	if (rc == SS_OK)
		rc = push(d, &e);
	entry_free(&e);
	return rc;
}

enum ss_rc ss_diff_add_action(struct ss_diff *d, const char *secret, const char *aws_name,
			      enum ss_diff_action a)
{
	struct ss_diff_entry e;
	enum ss_rc rc;

	memset(&e, 0, sizeof(e));
	if (d == NULL || secret == NULL)
		return SS_ERR_INVALID;
	e.action = a;
	e.whole = a == SS_DIFF_UPDATE;
	rc = entry_names(&e, secret, aws_name);
	if (rc == SS_OK)
		rc = push(d, &e);
	entry_free(&e);
	return rc;
}

static int entry_cmp(const void *pa, const void *pb)
{
	const struct ss_diff_entry *a = pa, *b = pb;
	int c = strcmp(a->secret, b->secret);

	return c != 0 ? c : strcmp(a->aws_name, b->aws_name);
}

void ss_diff_sort(struct ss_diff *d)
{
	if (d != NULL && d->n > 1)
		qsort(d->entries, d->n, sizeof(*d->entries), entry_cmp);
}

size_t ss_diff_changes(const struct ss_diff *d)
{
	if (d == NULL)
		return 0;
	return d->counts[SS_DIFF_CREATE] + d->counts[SS_DIFF_UPDATE] + d->counts[SS_DIFF_DELETE];
}

static enum ss_rc add_paths(struct ss_buf *b, const struct ss_diff_paths *p, const char *pre,
			    const char *post)
{
	size_t i;
	enum ss_rc rc = SS_OK;

	for (i = 0; rc == SS_OK && i < p->n; i++) {
		if (b->len > 0)
			rc = ss_buf_adds(b, ", ");
		if (rc == SS_OK)
			rc = ss_buf_addf(b, "%s%s%s", pre, p->v[i], post);
	}
	return rc;
}

enum ss_rc ss_diff_keys_to_text(const struct ss_diff_entry *e, char **out)
{
	struct ss_buf b;
	enum ss_rc rc = SS_OK;

	*out = NULL;
	ss_buf_init(&b, 0);
	if (e->action == SS_DIFF_UPDATE) {
		if (e->whole || e->changed.n + e->added.n + e->removed.n == 0) {
			rc = ss_buf_adds(&b, "value changed");
		} else {
			rc = add_paths(&b, &e->changed, "", " changed");
			if (rc == SS_OK)
				rc = add_paths(&b, &e->added, "+", "");
			if (rc == SS_OK)
				rc = add_paths(&b, &e->removed, "-", "");
		}
	}
	if (rc == SS_OK)
		rc = ss_buf_take(&b, out);
	ss_buf_free(&b);
	return rc;
}
