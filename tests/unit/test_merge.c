/* test_merge.c - the deep merge: tables for every option, key order,
 * non-mutation, no aliasing, bundles, bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/json.h"
#include "core/merge.h"

static cJSON *P(const char *s)
{
	cJSON *v = NULL;

	assert_int_equal(ss_json_parse(s, strlen(s), &v), SS_OK);
	return v;
}

static char *text(const cJSON *v)
{
	char *s = NULL;

	assert_int_equal(ss_json_print(v, &s), SS_OK);
	return s;
}

#define APPEND	 SS_MERGE_LISTS_APPEND
#define REPLACE	 SS_MERGE_LISTS_REPLACE
#define UNION	 SS_MERGE_LISTS_UNION
#define OVERRIDE SS_MERGE_NULLS_OVERRIDE
#define KEEP	 SS_MERGE_NULLS_KEEP

struct merge_case {
	enum ss_merge_lists lists;
	enum ss_merge_nulls nulls;
	const char *base; /* NULL: absent */
	const char *next;
	const char *want; /* compact, key order included */
};

static const struct merge_case cases[] = {
    /* Maps merge recursively; base's keys first, new keys appended. */
    {APPEND, OVERRIDE, "{\"a\":1}", "{\"b\":2}", "{\"a\":1,\"b\":2}"},
    {APPEND, OVERRIDE, "{\"a\":1,\"b\":2}", "{\"b\":3,\"a\":4}", "{\"a\":4,\"b\":3}"},
    {APPEND, OVERRIDE, "{\"z\":1,\"a\":1}", "{\"m\":2,\"b\":3,\"z\":0}",
     "{\"z\":0,\"a\":1,\"m\":2,\"b\":3}"},
    {APPEND, OVERRIDE, "{\"a\":{\"x\":1,\"y\":2}}", "{\"a\":{\"y\":3,\"z\":4}}",
     "{\"a\":{\"x\":1,\"y\":3,\"z\":4}}"},
    {APPEND, OVERRIDE, "{\"a\":{\"b\":{\"c\":{\"d\":1}}}}",
     "{\"a\":{\"b\":{\"c\":{\"e\":2}},\"f\":3}}",
     "{\"a\":{\"b\":{\"c\":{\"d\":1,\"e\":2}},\"f\":3}}"},
    {APPEND, OVERRIDE, "{}", "{}", "{}"},
    {APPEND, OVERRIDE, "{}", "{\"a\":{}}", "{\"a\":{}}"},
    {APPEND, OVERRIDE, "{\"a\":{}}", "{}", "{\"a\":{}}"},
    /* Lists append, duplicates kept. */
    {APPEND, OVERRIDE, "{\"l\":[1,2]}", "{\"l\":[2,3]}", "{\"l\":[1,2,2,3]}"},
    {APPEND, OVERRIDE, "[1]", "[1]", "[1,1]"},
    {APPEND, OVERRIDE, "[]", "[]", "[]"},
    {APPEND, OVERRIDE, "{\"a\":[]}", "{\"a\":[{\"x\":1}]}", "{\"a\":[{\"x\":1}]}"},
    {APPEND, OVERRIDE, "[{\"a\":1}]", "[{\"a\":2}]", "[{\"a\":1},{\"a\":2}]"},
    {APPEND, OVERRIDE, "{\"a\":{\"l\":[\"x\"]}}", "{\"a\":{\"l\":[\"y\"],\"m\":[]}}",
     "{\"a\":{\"l\":[\"x\",\"y\"],\"m\":[]}}"},
    /* Scalars and type conflicts: the later value. */
    {APPEND, OVERRIDE, "{\"a\":1}", "{\"a\":2}", "{\"a\":2}"},
    {APPEND, OVERRIDE, "{\"a\":\"s\"}", "{\"a\":\"t\"}", "{\"a\":\"t\"}"},
    {APPEND, OVERRIDE, "{\"a\":{\"x\":1}}", "{\"a\":[1]}", "{\"a\":[1]}"},
    {APPEND, OVERRIDE, "{\"a\":[1]}", "{\"a\":{\"x\":1}}", "{\"a\":{\"x\":1}}"},
    {APPEND, OVERRIDE, "{\"a\":\"s\"}", "{\"a\":{\"x\":1}}", "{\"a\":{\"x\":1}}"},
    {APPEND, OVERRIDE, "{\"a\":{\"x\":1}}", "{\"a\":\"s\"}", "{\"a\":\"s\"}"},
    {APPEND, OVERRIDE, "{\"a\":[1]}", "{\"a\":7}", "{\"a\":7}"},
    {APPEND, OVERRIDE, "{\"a\":1}", "{\"a\":true}", "{\"a\":true}"},
    {APPEND, OVERRIDE, "{\"a\":true}", "{\"a\":1}", "{\"a\":1}"},
    {APPEND, OVERRIDE, "{\"a\":1.5}", "{\"a\":\"1.5\"}", "{\"a\":\"1.5\"}"},
    {APPEND, OVERRIDE, "1", "\"x\"", "\"x\""},
    {APPEND, OVERRIDE, "[1]", "{\"a\":1}", "{\"a\":1}"},
    {APPEND, OVERRIDE, "{\"a\":1}", "[1]", "[1]"},
    {APPEND, OVERRIDE, "\"x\"", "\"y\"", "\"y\""},
    /* A later null overrides. */
    {APPEND, OVERRIDE, "{\"a\":{\"x\":1}}", "{\"a\":null}", "{\"a\":null}"},
    {APPEND, OVERRIDE, "{\"a\":null}", "{\"a\":{\"x\":1}}", "{\"a\":{\"x\":1}}"},
    {APPEND, OVERRIDE, "{\"a\":[1]}", "{\"a\":null}", "{\"a\":null}"},
    {APPEND, OVERRIDE, "{\"a\":1}", "null", "null"},
    {APPEND, OVERRIDE, "null", "{\"a\":1}", "{\"a\":1}"},
    {APPEND, OVERRIDE, "[null]", "[null]", "[null,null]"},
    /* Absent base: a copy of next. */
    {APPEND, OVERRIDE, NULL, "{\"a\":[1,{\"b\":null}]}", "{\"a\":[1,{\"b\":null}]}"},
    {APPEND, OVERRIDE, NULL, "null", "null"},
    {APPEND, OVERRIDE, NULL, "\"s\"", "\"s\""},
    /* Exact numbers survive. */
    {APPEND, OVERRIDE, "{\"n\":9007199254740993}", "{\"m\":1e400,\"f\":0.1}",
     "{\"n\":9007199254740993,\"m\":1e400,\"f\":0.1}"},
    {APPEND, OVERRIDE, "{\"n\":[12345678901234567890]}", "{\"n\":[1]}",
     "{\"n\":[12345678901234567890,1]}"},

    /* lists: replace */
    {REPLACE, OVERRIDE, "{\"l\":[1,2]}", "{\"l\":[3]}", "{\"l\":[3]}"},
    {REPLACE, OVERRIDE, "[1,2]", "[]", "[]"},
    {REPLACE, OVERRIDE, "{\"a\":{\"x\":[1],\"y\":1}}", "{\"a\":{\"x\":[2]}}",
     "{\"a\":{\"x\":[2],\"y\":1}}"},
    {REPLACE, OVERRIDE, "{\"a\":[{\"x\":1}]}", "{\"a\":[{\"y\":1}]}", "{\"a\":[{\"y\":1}]}"},
    {REPLACE, OVERRIDE, "{\"a\":{\"x\":1}}", "{\"a\":[1]}", "{\"a\":[1]}"},

    /* lists: union */
    {UNION, OVERRIDE, "[1,2,2]", "[2,3,3,1.0,{\"a\":1}]", "[1,2,2,3,{\"a\":1}]"},
    {UNION, OVERRIDE, "[true]", "[1,true,\"true\"]", "[true,1,\"true\"]"},
    {UNION, OVERRIDE, "[{\"a\":1,\"b\":2}]", "[{\"b\":2,\"a\":1},{\"a\":1}]",
     "[{\"a\":1,\"b\":2},{\"a\":1}]"},
    {UNION, OVERRIDE, "[]", "[1,1,null,null]", "[1,null]"},
    {UNION, OVERRIDE, "[[1,2]]", "[[2,1],[1,2]]", "[[1,2],[2,1]]"},
    {UNION, OVERRIDE, "{\"l\":[\"a\"],\"m\":{\"l\":[\"b\"]}}",
     "{\"l\":[\"a\",\"c\"],\"m\":{\"l\":[\"b\",\"a\"]}}",
     "{\"l\":[\"a\",\"c\"],\"m\":{\"l\":[\"b\",\"a\"]}}"},
    {UNION, OVERRIDE, "{\"l\":[1]}", "{\"l\":\"x\"}", "{\"l\":\"x\"}"},

    /* nulls: keep */
    {APPEND, KEEP, "{\"a\":1}", "{\"a\":null}", "{\"a\":1}"},
    {APPEND, KEEP, "{\"a\":{\"x\":1}}", "{\"a\":null,\"b\":null}", "{\"a\":{\"x\":1},\"b\":null}"},
    {APPEND, KEEP, "{\"a\":[1]}", "{\"a\":null}", "{\"a\":[1]}"},
    {APPEND, KEEP, "{\"a\":null}", "{\"a\":null}", "{\"a\":null}"},
    {APPEND, KEEP, "{\"a\":null}", "{\"a\":2}", "{\"a\":2}"},
    {APPEND, KEEP, "{\"a\":{\"b\":{\"c\":\"v\"}}}", "{\"a\":{\"b\":{\"c\":null,\"d\":null}}}",
     "{\"a\":{\"b\":{\"c\":\"v\",\"d\":null}}}"},
    {APPEND, KEEP, "{\"a\":1}", "null", "{\"a\":1}"},
    {APPEND, KEEP, NULL, "null", "null"},
    {APPEND, KEEP, "[null,1]", "[null]", "[null,1,null]"},
    {UNION, KEEP, "{\"l\":[null],\"x\":1}", "{\"l\":[null,2],\"x\":null}",
     "{\"l\":[null,2],\"x\":1}"},
    {REPLACE, KEEP, "{\"l\":[1],\"x\":1}", "{\"l\":[2],\"x\":null}", "{\"l\":[2],\"x\":1}"},
};

/* Collect every node and string pointer of a tree. */
struct ptrs {
	const void *p[4096];
	size_t n;
};

static void collect(const cJSON *v, struct ptrs *s)
{
	for (; v != NULL; v = v->next) {
		assert_true(s->n + 3 <= sizeof(s->p) / sizeof(s->p[0]));
		s->p[s->n++] = v;
		if (v->string != NULL)
			s->p[s->n++] = v->string;
		if (v->valuestring != NULL)
			s->p[s->n++] = v->valuestring;
		collect(v->child, s);
	}
}

static void assert_disjoint(const cJSON *result, const cJSON *input)
{
	static struct ptrs a, b;
	size_t i, j;

	a.n = b.n = 0;
	if (input == NULL)
		return;
	collect(result, &a);
	collect(input, &b);
	for (i = 0; i < a.n; i++)
		for (j = 0; j < b.n; j++)
			assert_ptr_not_equal(a.p[i], b.p[j]);
}

/* Overwrite every string and number of a tree in place. */
static void scribble(cJSON *v)
{
	for (; v != NULL; v = v->next) {
		if (v->valuestring != NULL && v->valuestring[0] != '\0')
			memset(v->valuestring, 'Z', strlen(v->valuestring));
		if (v->string != NULL && v->string[0] != '\0')
			memset(v->string, 'Y', strlen(v->string));
		v->valuedouble = 12345;
		v->valueint = 12345;
		scribble(v->child);
	}
}

static void test_merge_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct merge_case *c = &cases[i];
		struct ss_merge_opts o = {c->lists, c->nulls};
		cJSON *base = c->base ? P(c->base) : NULL, *next = P(c->next), *r = NULL;
		char *base_before = base ? text(base) : NULL, *next_before = text(next);
		char *got, *after;

		print_message("case %zu: %s + %s\n", i, c->base ? c->base : "(absent)", c->next);
		assert_int_equal(ss_merge(base, next, &o, &r), SS_OK);
		assert_non_null(r);
		assert_null(r->string);
		got = text(r);
		assert_string_equal(got, c->want);

		/* Inputs are untouched ... */
		after = text(next);
		assert_string_equal(after, next_before);
		free(after);
		if (base != NULL) {
			after = text(base);
			assert_string_equal(after, base_before);
			free(after);
		}
		/* ... and share nothing with the result. */
		assert_disjoint(r, base);
		assert_disjoint(r, next);
		scribble(r);
		after = text(next);
		assert_string_equal(after, next_before);
		free(after);
		if (base != NULL) {
			after = text(base);
			assert_string_equal(after, base_before);
			free(after);
		}

		free(got);
		free(base_before);
		free(next_before);
		ss_json_delete_secret(r);
		ss_json_delete_secret(base);
		ss_json_delete_secret(next);
	}
}

static void test_default_opts(void **state)
{
	cJSON *a = P("{\"l\":[1],\"n\":1}"), *b = P("{\"l\":[1],\"n\":null}"), *r = NULL;
	struct ss_merge_opts zero;
	char *s;

	(void)state;
	memset(&zero, 0, sizeof(zero));
	assert_int_equal(ss_merge(a, b, NULL, &r), SS_OK);
	s = text(r);
	assert_string_equal(s, "{\"l\":[1,1],\"n\":null}");
	free(s);
	ss_json_delete_secret(r);
	assert_int_equal(ss_merge(a, b, &zero, &r), SS_OK);
	s = text(r);
	assert_string_equal(s, "{\"l\":[1,1],\"n\":null}");
	free(s);
	ss_json_delete_secret(r);
	ss_json_delete_secret(a);
	ss_json_delete_secret(b);
}

/* Members of an object as inputs: the result carries no key. */
static void test_member_inputs(void **state)
{
	cJSON *a = P("{\"k1\":{\"x\":1}}"), *b = P("{\"k2\":{\"y\":2}}"), *r = NULL;
	char *s;

	(void)state;
	assert_int_equal(ss_merge(a->child, b->child, NULL, &r), SS_OK);
	assert_null(r->string);
	assert_null(r->next);
	assert_null(r->prev);
	s = text(r);
	assert_string_equal(s, "{\"x\":1,\"y\":2}");
	free(s);
	ss_json_delete_secret(r);
	assert_int_equal(ss_merge(NULL, b->child, NULL, &r), SS_OK);
	assert_null(r->string);
	ss_json_delete_secret(r);
	ss_json_delete_secret(a);
	ss_json_delete_secret(b);
}

/* Objects past the hash-index threshold merge like small ones. */
static void test_wide_objects(void **state)
{
	int sizes[] = {4, 9, 40, 2000};
	size_t t;

	(void)state;
	for (t = 0; t < sizeof(sizes) / sizeof(sizes[0]); t++) {
		int n = sizes[t], i;
		cJSON *a = cJSON_CreateObject(), *b = cJSON_CreateObject(), *r = NULL;
		const cJSON *m;

		/* a: k0..k(n-1) = i; b: k(n-1)..k(n/2) = {"v": i} and new j0..j(n/2-1) */
		for (i = 0; i < n; i++) {
			char key[16];

			snprintf(key, sizeof(key), "k%d", i);
			cJSON_AddNumberToObject(a, key, i);
		}
		for (i = n - 1; i >= n / 2; i--) {
			char key[16];
			cJSON *o = cJSON_CreateObject();

			snprintf(key, sizeof(key), "k%d", i);
			cJSON_AddNumberToObject(o, "v", i);
			cJSON_AddItemToObject(b, key, o);
			snprintf(key, sizeof(key), "j%d", i);
			cJSON_AddStringToObject(b, key, "new");
		}
		assert_int_equal(ss_merge(a, b, NULL, &r), SS_OK);
		assert_int_equal(cJSON_GetArraySize(r), n + (n - n / 2));
		m = r->child;
		for (i = 0; i < n; i++, m = m->next) {
			char key[16];

			snprintf(key, sizeof(key), "k%d", i);
			assert_string_equal(m->string, key);
			if (i < n / 2)
				assert_true(cJSON_IsNumber(m) && m->valuedouble == i);
			else
				assert_true(cJSON_GetObjectItem(m, "v")->valuedouble == i);
		}
		for (i = n - 1; i >= n / 2; i--, m = m->next) {
			char key[16];

			snprintf(key, sizeof(key), "j%d", i);
			assert_string_equal(m->string, key);
		}
		assert_null(m);
		ss_json_delete_secret(r);
		ss_json_delete_secret(a);
		ss_json_delete_secret(b);
	}
}

/* Repeated keys (only in trees built by hand): next's members merge one
 * after the other onto base's first member of that key. */
static void test_duplicate_keys_built(void **state)
{
	int wide;

	(void)state;
	for (wide = 0; wide <= 1; wide++) {
		cJSON *a = P("{\"d\":{\"x\":1}}"), *b = cJSON_CreateObject(), *r = NULL;
		char *s;
		int i;

		if (wide)
			for (i = 0; i < 20; i++) {
				char key[16];

				snprintf(key, sizeof(key), "w%d", i);
				cJSON_AddTrueToObject(a, key);
			}
		cJSON_AddItemToObject(b, "d", P("{\"y\":2}"));
		cJSON_AddItemToObject(b, "d", P("{\"z\":3}"));
		assert_int_equal(ss_merge(a, b, NULL, &r), SS_OK);
		s = text(cJSON_GetObjectItem(r, "d"));
		assert_string_equal(s, "{\"x\":1,\"y\":2,\"z\":3}");
		assert_int_equal(cJSON_GetArraySize(r), wide ? 21 : 1);
		free(s);
		ss_json_delete_secret(r);
		ss_json_delete_secret(a);
		ss_json_delete_secret(b);
	}
}

static cJSON *deep_objects(int depth)
{
	cJSON *top = cJSON_CreateObject(), *cur = top;
	int i;

	for (i = 1; i < depth; i++) {
		cJSON *n = cJSON_CreateObject();

		cJSON_AddItemToObject(cur, "k", n);
		cur = n;
	}
	cJSON_AddNumberToObject(cur, "leaf", depth);
	return top;
}

static void test_errors_and_bounds(void **state)
{
	cJSON *ok = P("{\"a\":1}"), *r = (cJSON *)0x1;
	cJSON *deep = deep_objects(SS_JSON_MAX_DEPTH + 1), *max = deep_objects(SS_JSON_MAX_DEPTH);
	cJSON *huge = deep_objects(100000), *keyless = cJSON_CreateObject();

	(void)state;
	assert_int_equal(ss_merge(ok, NULL, NULL, &r), SS_ERR_INVALID);
	assert_null(r);
	assert_int_equal(ss_merge(ok, deep, NULL, &r), SS_ERR_TOOBIG);
	assert_null(r);
	assert_int_equal(ss_merge(deep, ok, NULL, &r), SS_ERR_TOOBIG);
	assert_int_equal(ss_merge(NULL, huge, NULL, &r), SS_ERR_TOOBIG);
	assert_int_equal(ss_merge(huge, huge, NULL, &r), SS_ERR_TOOBIG);
	assert_null(r);
	/* Exactly at the limit is fine, and merges all the way down. */
	assert_int_equal(ss_merge(max, max, NULL, &r), SS_OK);
	assert_true(ss_json_equal(r, max));
	ss_json_delete_secret(r);
	/* An object member without a key is a malformed tree. */
	cJSON_AddItemToArray(keyless, cJSON_CreateNumber(1));
	assert_int_equal(ss_merge(ok, keyless, NULL, &r), SS_ERR_INVALID);
	assert_null(r);
	assert_int_equal(ss_merge(keyless, ok, NULL, &r), SS_ERR_INVALID);
	ss_json_delete_secret(ok);
	ss_json_delete_secret(deep);
	ss_json_delete_secret(max);
	ss_json_delete_secret(huge);
	ss_json_delete_secret(keyless);
}

static void test_bundle(void **state)
{
	cJSON *root = P("{\"staging\":{}}"), *bundle = cJSON_GetObjectItem(root, "staging");
	cJSON *s1 = P("{\"app/db\":{\"user\":\"u\",\"pw\":\"1\",\"l\":[1]},\"x\":\"plain\"}");
	cJSON *s2 = P("{\"app/"
		      "db\":{\"pw\":\"2\",\"host\":\"h\",\"l\":[2]},\"other\":[true],\"x\":{"
		      "\"now\":\"obj\"}}");
	cJSON *deep = P("{}"), *arr = P("[]");
	struct ss_merge_opts keep = {SS_MERGE_LISTS_REPLACE, SS_MERGE_NULLS_KEEP};
	char *s, *s2_before = text(s2);

	(void)state;
	assert_int_equal(ss_merge_into_bundle(bundle, s1, NULL), SS_OK);
	assert_int_equal(ss_merge_into_bundle(bundle, s2, NULL), SS_OK);
	s = text(root);
	assert_string_equal(s, "{\"staging\":{\"app/db\":{\"user\":\"u\",\"pw\":\"2\",\"l\":[1,2],"
			       "\"host\":\"h\"},\"x\":{\"now\":\"obj\"},\"other\":[true]}}");
	free(s);
	assert_disjoint(bundle, s1);
	assert_disjoint(bundle, s2);
	s = text(s2);
	assert_string_equal(s, s2_before);
	free(s);

	/* Options apply at every level, the top included. */
	ss_json_delete_secret(s1);
	s1 = P("{\"app/db\":{\"l\":[3],\"user\":null},\"x\":null}");
	assert_int_equal(ss_merge_into_bundle(bundle, s1, &keep), SS_OK);
	s = text(bundle);
	assert_string_equal(s, "{\"app/db\":{\"user\":\"u\",\"pw\":\"2\",\"l\":[3],\"host\":\"h\"},"
			       "\"x\":{\"now\":\"obj\"},\"other\":[true]}");
	free(s);

	/* Failures leave the bundle as it was. */
	s = text(root);
	assert_int_equal(ss_merge_into_bundle(bundle, arr, NULL), SS_ERR_INVALID);
	assert_int_equal(ss_merge_into_bundle(arr, s1, NULL), SS_ERR_INVALID);
	assert_int_equal(ss_merge_into_bundle(NULL, s1, NULL), SS_ERR_INVALID);
	assert_int_equal(ss_merge_into_bundle(bundle, NULL, NULL), SS_ERR_INVALID);
	cJSON_AddItemToObject(deep, "new", deep_objects(SS_JSON_MAX_DEPTH));
	assert_int_equal(ss_merge_into_bundle(bundle, deep, NULL), SS_ERR_TOOBIG);
	{
		char *again = text(root);

		assert_string_equal(again, s);
		free(again);
	}
	free(s);
	free(s2_before);
	ss_json_delete_secret(root);
	ss_json_delete_secret(s1);
	ss_json_delete_secret(s2);
	ss_json_delete_secret(deep);
	ss_json_delete_secret(arr);
}

struct word_case {
	const char *word;
	int lists; /* -1: not a lists word */
	int nulls; /* -1: not a nulls word */
};

static const struct word_case words[] = {
    {"append", SS_MERGE_LISTS_APPEND, -1},
    {"replace", SS_MERGE_LISTS_REPLACE, -1},
    {"union", SS_MERGE_LISTS_UNION, -1},
    {"override", -1, SS_MERGE_NULLS_OVERRIDE},
    {"keep", -1, SS_MERGE_NULLS_KEEP},
    {"Append", -1, -1},
    {"", -1, -1},
    {"merge", -1, -1},
};

static void test_option_words(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		enum ss_merge_lists l = (enum ss_merge_lists)99;
		enum ss_merge_nulls n = (enum ss_merge_nulls)99;

		if (words[i].lists >= 0) {
			assert_int_equal(ss_merge_lists_parse(words[i].word, &l), SS_OK);
			assert_int_equal(l, words[i].lists);
			assert_string_equal(ss_merge_lists_name(l), words[i].word);
		} else {
			assert_int_equal(ss_merge_lists_parse(words[i].word, &l), SS_ERR_INVALID);
			assert_int_equal(l, 99);
		}
		if (words[i].nulls >= 0) {
			assert_int_equal(ss_merge_nulls_parse(words[i].word, &n), SS_OK);
			assert_int_equal(n, words[i].nulls);
			assert_string_equal(ss_merge_nulls_name(n), words[i].word);
		} else {
			assert_int_equal(ss_merge_nulls_parse(words[i].word, &n), SS_ERR_INVALID);
			assert_int_equal(n, 99);
		}
	}
	{
		enum ss_merge_lists l;
		enum ss_merge_nulls n;

		assert_int_equal(ss_merge_lists_parse(NULL, &l), SS_ERR_INVALID);
		assert_int_equal(ss_merge_nulls_parse(NULL, &n), SS_ERR_INVALID);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_merge_table),
	    cmocka_unit_test(test_default_opts),
	    cmocka_unit_test(test_member_inputs),
	    cmocka_unit_test(test_wide_objects),
	    cmocka_unit_test(test_duplicate_keys_built),
	    cmocka_unit_test(test_errors_and_bounds),
	    cmocka_unit_test(test_bundle),
	    cmocka_unit_test(test_option_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
