/* fuzz_diff.c - the value-free difference between two secret texts.
 *
 * Input: one flags byte, then the desired text and the current text
 * separated by the first NUL byte (the JSON parser refuses NUL, so no
 * JSON is lost by the split). flags & 1 makes desired absent, flags & 2
 * current absent.
 *
 * Checks, beyond "no crash, no leak, no UB":
 * - the action follows diff.h: create / delete for an absent side,
 *   unchanged exactly when the texts are equal as JSON (ss_json_equal)
 *   or, when either is not JSON, byte for byte; both absent is
 *   SS_ERR_INVALID and leaves the diff unchanged; the counts agree;
 * - the key paths equal those of a simple model walk (added / removed /
 *   changed, "." between levels, each list sorted bytewise) and an
 *   update without paths is a "whole" update;
 * - swapping the sides swaps added and removed and keeps the rest;
 *   a text compared with itself is unchanged;
 * - no value leaks: a string value holding a byte that no key holds
 *   (and that the fixed words do not) never appears in the key summary;
 * - sorting orders entries by secret name.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/diff.h"
#include "core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

/* ---- the model of key paths ---- */

struct list {
	char **v;
	size_t n, cap;
};

static void list_add(struct list *l, const char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 8;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		check(l->v != NULL);
	}
	l->v[l->n] = strdup(s);
	check(l->v[l->n] != NULL);
	l->n++;
}

static void list_free(struct list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join(const char *prefix, const char *key)
{
	size_t a = prefix ? strlen(prefix) : 0, b = strlen(key);
	char *s = malloc(a + b + 2);

	check(s != NULL);
	if (prefix != NULL) {
		memcpy(s, prefix, a);
		s[a++] = '.';
	}
	memcpy(s + a, key, b + 1);
	return s;
}

static const cJSON *member(const cJSON *o, const char *key)
{
	const cJSON *c;

	for (c = o->child; c != NULL; c = c->next)
		if (strcmp(c->string, key) == 0)
			return c;
	return NULL;
}

static void model(const cJSON *want, const cJSON *have, const char *prefix, struct list *added,
		  struct list *removed, struct list *changed)
{
	const cJSON *m, *o;
	char *p;

	for (m = want->child; m != NULL; m = m->next) {
		p = join(prefix, m->string);
		o = member(have, m->string);
		if (o == NULL)
			list_add(added, p);
		else if (cJSON_IsObject(m) && cJSON_IsObject(o))
			model(m, o, p, added, removed, changed);
		else if (!ss_json_equal(m, o))
			list_add(changed, p);
		free(p);
	}
	for (o = have->child; o != NULL; o = o->next) {
		if (member(want, o->string) != NULL)
			continue;
		p = join(prefix, o->string);
		list_add(removed, p);
		free(p);
	}
}

static void same_paths(const struct ss_diff_paths *p, struct list *l)
{
	size_t i;

	qsort(l->v, l->n, sizeof(*l->v), cmp);
	check(p->n == l->n);
	for (i = 0; i < p->n; i++) {
		check(strcmp(p->v[i], l->v[i]) == 0);
		if (i > 0)
			check(strcmp(p->v[i - 1], p->v[i]) <= 0);
	}
}

static void same_list(const struct ss_diff_paths *a, const struct ss_diff_paths *b)
{
	size_t i;

	check(a->n == b->n);
	for (i = 0; i < a->n; i++)
		check(strcmp(a->v[i], b->v[i]) == 0);
}

/* ---- the leak check ---- */

static void key_bytes(const cJSON *v, unsigned char *seen)
{
	const cJSON *c;
	const unsigned char *k;

	for (c = v ? v->child : NULL; c != NULL; c = c->next) {
		if (c->string != NULL)
			for (k = (const unsigned char *)c->string; *k; k++)
				seen[*k] = 1;
		key_bytes(c, seen);
	}
}

static int foreign(const char *s, const unsigned char *seen)
{
	for (; *s; s++)
		if (!seen[(unsigned char)*s])
			return 1;
	return 0;
}

static void no_value_in(const cJSON *v, const unsigned char *seen, const char *text)
{
	const cJSON *c;

	if (v == NULL)
		return;
	if (cJSON_IsString(v) && v->valuestring[0] != '\0' && foreign(v->valuestring, seen))
		check(strstr(text, v->valuestring) == NULL);
	for (c = v->child; c != NULL; c = c->next)
		no_value_in(c, seen, text);
}

/* ---- the checks ---- */

static int texts_equal(const char *a, size_t al, const char *b, size_t bl, int *json)
{
	cJSON *x = NULL, *y = NULL;
	int eq;

	*json = ss_json_parse(a, al, &x) == SS_OK && ss_json_parse(b, bl, &y) == SS_OK;
	if (*json)
		eq = ss_json_equal(x, y);
	else
		eq = al == bl && (al == 0 || memcmp(a, b, al) == 0);
	ss_json_delete_secret(x);
	ss_json_delete_secret(y);
	return eq;
}

static void check_pair(const char *d, size_t dl, const char *c, size_t cl)
{
	struct ss_diff *x = ss_diff_new(), *y = ss_diff_new();
	const struct ss_diff_entry *e, *f;
	cJSON *want = NULL, *have = NULL;
	unsigned char seen[256] = {0};
	char *text = NULL;
	int json, eq;
	enum ss_rc rc;

	check(x != NULL && y != NULL);
	rc = ss_diff_add(x, "s", NULL, d, dl, c, cl);
	if (rc == SS_ERR_TOOBIG) {
		check(x->n == 0);
		goto out;
	}
	check(rc == SS_OK);
	check(ss_diff_add(y, "s", "aws/s", c, cl, d, dl) == SS_OK);
	e = &x->entries[0];
	check(x->n == 1 && x->counts[e->action] == 1 && strcmp(e->aws_name, "s") == 0);
	eq = texts_equal(d, dl, c, cl, &json);
	check(e->action == (eq ? SS_DIFF_UNCHANGED : SS_DIFF_UPDATE));
	check(ss_diff_changes(x) == (eq ? 0u : 1u));
	if (e->action == SS_DIFF_UNCHANGED)
		check(e->changed.n + e->added.n + e->removed.n == 0 && !e->whole);

	if (json) {
		check(ss_json_parse(d, dl, &want) == SS_OK && ss_json_parse(c, cl, &have) == SS_OK);
		if (!eq && cJSON_IsObject(want) && cJSON_IsObject(have)) {
			struct list added = {0}, removed = {0}, changed = {0};

			model(want, have, NULL, &added, &removed, &changed);
			same_paths(&e->added, &added);
			same_paths(&e->removed, &removed);
			same_paths(&e->changed, &changed);
			check(!e->whole && added.n + removed.n + changed.n > 0);
			list_free(&added);
			list_free(&removed);
			list_free(&changed);
		} else if (!eq) {
			check(e->whole);
		}
	} else if (!eq) {
		check(e->whole && e->changed.n + e->added.n + e->removed.n == 0);
	}

	/* Swapped sides (y was filled above). */
	check(y->n == 1);
	f = &y->entries[0];
	check(f->action == e->action && f->whole == e->whole);
	same_list(&f->changed, &e->changed);
	same_list(&f->added, &e->removed);
	same_list(&f->removed, &e->added);

	/* The summary names keys only. */
	check(ss_diff_keys_to_text(e, &text) == SS_OK && text != NULL);
	if (e->action != SS_DIFF_UPDATE)
		check(text[0] == '\0');
	else if (e->whole)
		check(strcmp(text, "value changed") == 0);
	key_bytes(want, seen);
	key_bytes(have, seen);
	{
		const unsigned char *w = (const unsigned char *)" ,+-.changedvalu";

		for (; *w; w++)
			seen[*w] = 1;
	}
	no_value_in(want, seen, text);
	no_value_in(have, seen, text);
	free(text);
out:
	ss_json_delete_secret(want);
	ss_json_delete_secret(have);
	ss_diff_free(x);
	ss_diff_free(y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d, *c, *nul;
	size_t dl, cl;
	struct ss_diff *z;
	uint8_t flags;
	enum ss_rc rc;

	if (size < 1)
		return 0;
	flags = data[0];
	d = (const char *)data + 1;
	nul = memchr(d, '\0', size - 1);
	dl = nul ? (size_t)(nul - d) : size - 1;
	c = nul ? nul + 1 : "";
	cl = nul ? size - 1 - dl - 1 : 0;

	z = ss_diff_new();
	check(z != NULL);
	if ((flags & 3) == 3) {
		check(ss_diff_add(z, "s", NULL, NULL, 0, NULL, 0) == SS_ERR_INVALID && z->n == 0);
	} else if (flags & 1) {
		check(ss_diff_add(z, "s", NULL, NULL, 0, c, cl) == SS_OK);
		check(z->entries[0].action == SS_DIFF_DELETE && z->counts[SS_DIFF_DELETE] == 1);
	} else if (flags & 2) {
		check(ss_diff_add(z, "s", NULL, d, dl, NULL, 0) == SS_OK);
		check(z->entries[0].action == SS_DIFF_CREATE && z->counts[SS_DIFF_CREATE] == 1);
	} else {
		check_pair(d, dl, c, cl);
		/* Itself: always unchanged. */
		rc = ss_diff_add(z, "b", NULL, d, dl, d, dl);
		check(rc == SS_OK || rc == SS_ERR_TOOBIG);
		if (rc == SS_OK)
			check(z->entries[0].action == SS_DIFF_UNCHANGED);
	}
	/* An action out of range is refused and changes nothing. */
	rc = ss_diff_add_action(z, "a", NULL, (enum ss_diff_action)(4 + (flags >> 4)));
	check(rc == SS_ERR_INVALID);
	check(ss_diff_add_action(z, "a", NULL, SS_DIFF_DELETE) == SS_OK);
	ss_diff_sort(z);
	if (z->n > 1)
		check(strcmp(z->entries[0].secret, z->entries[1].secret) <= 0);
	ss_diff_free(z);
	return 0;
}
