/* test_diff.c - the value-free diff: actions, key paths, text, counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/diff.h"

#define C SS_DIFF_CREATE
#define U SS_DIFF_UPDATE
#define D SS_DIFF_DELETE
#define N SS_DIFF_UNCHANGED

struct diff_case {
	const char *desired; /* NULL: not in the bundle */
	const char *current; /* NULL: not in AWS */
	enum ss_diff_action action;
	int whole;
	const char *changed; /* paths joined with "|" */
	const char *added;
	const char *removed;
	const char *text;
};

static const struct diff_case cases[] = {
    {NULL, "{\"a\":1}", D, 0, "", "", "", ""},
    {"{\"a\":1}", NULL, C, 0, "", "", "", ""},
    {"plain", NULL, C, 0, "", "", "", ""},
    {"{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}", N, 0, "", "", "", ""},
    {"{\"a\":1}", " { \"a\" : 1.0 }\n", N, 0, "", "", "", ""},
    {"{\"a\":[1,{\"b\":1e2}]}", "{\"a\":[1,{\"b\":100}]}", N, 0, "", "", "", ""},
    {"{\"a\":2}", "{\"a\":1,\"a\":2}", N, 0, "", "", "", ""},
    {"{\"password\":\"x\",\"user\":\"u\",\"host\":\"h\"}",
     "{\"password\":\"y\",\"user\":\"u\",\"old\":1}", U, 0, "password", "host", "old",
     "password changed, +host, -old"},
    {"{\"db\":{\"password\":\"a\",\"port\":1},\"x\":1}",
     "{\"db\":{\"password\":\"b\",\"port\":1,\"gone\":true},\"x\":1}", U, 0, "db.password", "",
     "db.gone", "db.password changed, -db.gone"},
    {"{\"db\":{\"a\":{\"b\":{\"c\":1,\"n\":{}}}}}", "{\"db\":{\"a\":{\"b\":{\"c\":2}}}}", U, 0,
     "db.a.b.c", "db.a.b.n", "", "db.a.b.c changed, +db.a.b.n"},
    {"{\"db\":{\"a\":1}}", "{}", U, 0, "", "db", "", "+db"},
    {"{}", "{\"db\":{\"a\":1},\"z\":null}", U, 0, "", "", "db|z", "-db, -z"},
    {"{\"db\":{\"a\":1}}", "{\"db\":\"s\"}", U, 0, "db", "", "", "db changed"},
    {"{\"db\":[1]}", "{\"db\":{\"a\":1}}", U, 0, "db", "", "", "db changed"},
    {"{\"l\":[1,2]}", "{\"l\":[2,1]}", U, 0, "l", "", "", "l changed"},
    {"{\"l\":[{\"a\":1}]}", "{\"l\":[{\"a\":2}]}", U, 0, "l", "", "", "l changed"},
    {"{\"t\":true}", "{\"t\":1}", U, 0, "t", "", "", "t changed"},
    {"{\"n\":null}", "{\"n\":false}", U, 0, "n", "", "", "n changed"},
    {"{\"s\":\"1\"}", "{\"s\":1}", U, 0, "s", "", "", "s changed"},
    /* Sorted bytewise, whatever either side's order. */
    {"{\"b\":1,\"a\":1,\"c\":1,\"B\":0}", "{\"c\":2,\"b\":2,\"a\":2,\"B\":0}", U, 0, "a|b|c", "",
     "", "a changed, b changed, c changed"},
    {"{\"z\":1,\"y\":1,\"m\":{\"q\":1,\"p\":1}}", "{\"m\":{}}", U, 0, "", "m.p|m.q|y|z", "",
     "+m.p, +m.q, +y, +z"},
    /* Dots in keys are not escaped. */
    {"{\"a.b\":1}", "{\"a\":{\"b\":1}}", U, 0, "", "a.b", "a", "+a.b, -a"},
    {"{\"\":{\"\":1}}", "{\"\":{\"\":2}}", U, 0, ".", "", "", ". changed"},
    /* Exact big numbers. */
    {"{\"n\":9007199254740993}", "{\"n\":9007199254740992}", U, 0, "n", "", "", "n changed"},
    {"{\"n\":9007199254740993}", "{\"n\":9007199254740993}", N, 0, "", "", "", ""},
    /* Not objects on both sides: the whole value. */
    {"abc", "abd", U, 1, "", "", "", "value changed"},
    {"abc", "abc", N, 0, "", "", "", ""},
    {"", "", N, 0, "", "", "", ""},
    {"", "x", U, 1, "", "", "", "value changed"},
    {"[1]", "[1.0]", N, 0, "", "", "", ""},
    {"[1]", "[2]", U, 1, "", "", "", "value changed"},
    {"42", "42.0", N, 0, "", "", "", ""},
    {"42", "\"42\"", U, 1, "", "", "", "value changed"},
    {"{\"a\":1}", "not json", U, 1, "", "", "", "value changed"},
    {"not json", "{\"a\":1}", U, 1, "", "", "", "value changed"},
    {"{\"a\":1}", "[1]", U, 1, "", "", "", "value changed"},
    {"{\"a\":1}", "{\"a\":1", U, 1, "", "", "", "value changed"},
    {"{\"a\":01}", "{\"a\":01}", N, 0, "", "", "", ""},
    {"{\"a\":01}", "{\"a\":1}", U, 1, "", "", "", "value changed"},
    {"null", "{}", U, 1, "", "", "", "value changed"},
};

static char *join(const struct ss_diff_paths *p)
{
	size_t i, len = 1;
	char *s;

	for (i = 0; i < p->n; i++)
		len += strlen(p->v[i]) + 1;
	s = calloc(1, len);
	assert_non_null(s);
	for (i = 0; i < p->n; i++) {
		if (i > 0)
			memcpy(s + strlen(s), "|", 2);
		memcpy(s + strlen(s), p->v[i], strlen(p->v[i]) + 1);
	}
	return s;
}

static void check_paths(const struct ss_diff_paths *p, const char *want)
{
	char *got = join(p);

	assert_string_equal(got, want);
	free(got);
}

static void test_diff_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct diff_case *c = &cases[i];
		struct ss_diff *d = ss_diff_new();
		const struct ss_diff_entry *e;
		char *t = NULL;
		size_t k, total = 0;

		print_message("case %zu: %s vs %s\n", i, c->desired ? c->desired : "(absent)",
			      c->current ? c->current : "(absent)");
		assert_non_null(d);
		assert_int_equal(ss_diff_add(d, "team/app", "app/team/app", c->desired,
					     c->desired ? strlen(c->desired) : 0, c->current,
					     c->current ? strlen(c->current) : 0),
				 SS_OK);
		assert_int_equal(d->n, 1);
		e = &d->entries[0];
		assert_string_equal(e->secret, "team/app");
		assert_string_equal(e->aws_name, "app/team/app");
		assert_int_equal(e->action, c->action);
		assert_int_equal(e->whole, c->whole);
		check_paths(&e->changed, c->changed);
		check_paths(&e->added, c->added);
		check_paths(&e->removed, c->removed);
		assert_int_equal(ss_diff_keys_to_text(e, &t), SS_OK);
		assert_string_equal(t, c->text);
		free(t);
		for (k = 0; k < SS_DIFF_NACTIONS; k++) {
			assert_int_equal(d->counts[k], k == (size_t)c->action ? 1 : 0);
			total += d->counts[k];
		}
		assert_int_equal(total, 1);
		assert_int_equal(ss_diff_changes(d), c->action == N ? 0 : 1);
		ss_diff_free(d);
	}
}

/* Bytes after an embedded NUL count, and the length is honoured. */
static void test_binary_values(void **state)
{
	static const char a[] = "x\0y", b[] = "x\0z";
	struct ss_diff *d = ss_diff_new();

	(void)state;
	assert_int_equal(ss_diff_add(d, "s1", NULL, a, 3, b, 3), SS_OK);
	assert_int_equal(ss_diff_add(d, "s2", NULL, a, 3, a, 3), SS_OK);
	assert_int_equal(ss_diff_add(d, "s3", NULL, "{\"a\":1}trailing", 7, "{\"a\":1}", 7), SS_OK);
	assert_int_equal(ss_diff_add(d, "s4", NULL, a, 1, b, 3), SS_OK);
	assert_int_equal(d->entries[0].action, SS_DIFF_UPDATE);
	assert_int_equal(d->entries[1].action, SS_DIFF_UNCHANGED);
	assert_int_equal(d->entries[2].action, SS_DIFF_UNCHANGED);
	assert_int_equal(d->entries[3].action, SS_DIFF_UPDATE);
	assert_string_equal(d->entries[0].aws_name, "s1");
	ss_diff_free(d);
}

/* Nothing in the diff holds a value: only names and key paths. */
static void test_no_values(void **state)
{
	const char *want =
	    "{\"user\":\"SECRETVAL-A\",\"nested\":{\"k\":\"SECRETVAL-B\",\"n\":[\"SECRETVAL-C\"]},"
	    "\"new\":\"SECRETVAL-D\"}";
	const char *have =
	    "{\"user\":\"SECRETVAL-E\",\"nested\":{\"k\":\"SECRETVAL-F\",\"n\":[\"SECRETVAL-G\"]},"
	    "\"gone\":\"SECRETVAL-H\"}";
	struct ss_diff *d = ss_diff_new();
	const struct ss_diff_entry *e;
	const struct ss_diff_paths *lists[3];
	char *t = NULL;
	size_t i, j;

	(void)state;
	assert_int_equal(ss_diff_add(d, "app", NULL, want, strlen(want), have, strlen(have)),
			 SS_OK);
	assert_int_equal(ss_diff_add(d, "plain", NULL, "SECRETVAL-X", 11, "SECRETVAL-Y", 11),
			 SS_OK);
	for (i = 0; i < d->n; i++) {
		e = &d->entries[i];
		assert_null(strstr(e->secret, "SECRETVAL"));
		assert_null(strstr(e->aws_name, "SECRETVAL"));
		lists[0] = &e->changed;
		lists[1] = &e->added;
		lists[2] = &e->removed;
		for (j = 0; j < 3; j++) {
			size_t k;

			for (k = 0; k < lists[j]->n; k++)
				assert_null(strstr(lists[j]->v[k], "SECRETVAL"));
		}
		assert_int_equal(ss_diff_keys_to_text(e, &t), SS_OK);
		assert_null(strstr(t, "SECRETVAL"));
		free(t);
	}
	e = &d->entries[0];
	assert_int_equal(ss_diff_keys_to_text(e, &t), SS_OK);
	assert_string_equal(t, "nested.k changed, nested.n changed, user changed, +new, -gone");
	free(t);
	ss_diff_free(d);
}

static void test_plan_counts_and_sort(void **state)
{
	struct ss_diff *d = ss_diff_new();
	const char *names[] = {"c/x", "a/y", "b/z", "a/x", "d"};
	char *t = NULL;
	size_t i;

	(void)state;
	assert_int_equal(ss_diff_add(d, "c/x", "p/c/x", "{\"a\":1}", 7, NULL, 0), SS_OK);
	assert_int_equal(ss_diff_add(d, "a/y", "p/a/y", "{\"a\":1}", 7, "{\"a\":2}", 7), SS_OK);
	assert_int_equal(ss_diff_add(d, "b/z", "p/b/z", "1", 1, "1", 1), SS_OK);
	assert_int_equal(ss_diff_add(d, "a/x", "p/a/x", "2", 1, "1", 1), SS_OK);
	assert_int_equal(ss_diff_add_action(d, "d", "p/d", SS_DIFF_DELETE), SS_OK);
	assert_int_equal(d->n, 5);
	for (i = 0; i < d->n; i++)
		assert_string_equal(d->entries[i].secret, names[i]);
	assert_int_equal(d->counts[SS_DIFF_CREATE], 1);
	assert_int_equal(d->counts[SS_DIFF_UPDATE], 2);
	assert_int_equal(d->counts[SS_DIFF_UNCHANGED], 1);
	assert_int_equal(d->counts[SS_DIFF_DELETE], 1);
	assert_int_equal(ss_diff_changes(d), 4);
	ss_diff_sort(d);
	assert_string_equal(d->entries[0].secret, "a/x");
	assert_string_equal(d->entries[1].secret, "a/y");
	assert_string_equal(d->entries[2].secret, "b/z");
	assert_string_equal(d->entries[3].secret, "c/x");
	assert_string_equal(d->entries[4].secret, "d");
	assert_string_equal(d->entries[4].aws_name, "p/d");
	assert_int_equal(d->entries[1].action, SS_DIFF_UPDATE);
	assert_string_equal(d->entries[1].changed.v[0], "a");
	assert_int_equal(ss_diff_keys_to_text(&d->entries[4], &t), SS_OK);
	assert_string_equal(t, "");
	free(t);
	/* An update added by hand is a whole-value one. */
	assert_int_equal(ss_diff_add_action(d, "e", NULL, SS_DIFF_UPDATE), SS_OK);
	assert_int_equal(ss_diff_keys_to_text(&d->entries[5], &t), SS_OK);
	assert_string_equal(t, "value changed");
	free(t);
	assert_string_equal(d->entries[5].aws_name, "e");
	assert_int_equal(ss_diff_changes(d), 5);

	/* Many secrets: the entries array grows. */
	for (i = 0; i < 1000; i++) {
		char name[32];

		snprintf(name, sizeof(name), "s%04zu", 999 - i);
		assert_int_equal(ss_diff_add(d, name, NULL, "v", 1, "v", 1), SS_OK);
	}
	assert_int_equal(d->n, 1006);
	assert_int_equal(d->counts[SS_DIFF_UNCHANGED], 1001);
	ss_diff_sort(d);
	assert_string_equal(d->entries[5].secret, "e");
	assert_string_equal(d->entries[6].secret, "s0000");
	assert_string_equal(d->entries[1005].secret, "s0999");
	ss_diff_free(d);
}

static void test_errors(void **state)
{
	struct ss_diff *d = ss_diff_new();

	(void)state;
	assert_int_equal(ss_diff_add(d, "x", NULL, NULL, 0, NULL, 0), SS_ERR_INVALID);
	assert_int_equal(ss_diff_add(d, NULL, NULL, "a", 1, "b", 1), SS_ERR_INVALID);
	assert_int_equal(ss_diff_add(NULL, "x", NULL, "a", 1, "b", 1), SS_ERR_INVALID);
	assert_int_equal(ss_diff_add_action(d, NULL, NULL, SS_DIFF_CREATE), SS_ERR_INVALID);
	assert_int_equal(ss_diff_add_action(d, "x", NULL, (enum ss_diff_action)7), SS_ERR_INVALID);
	assert_int_equal(d->n, 0);
	assert_int_equal(ss_diff_changes(d), 0);
	assert_int_equal(ss_diff_changes(NULL), 0);
	ss_diff_sort(NULL);
	ss_diff_free(d);
	ss_diff_free(NULL);
}

static void test_action_names(void **state)
{
	(void)state;
	assert_string_equal(ss_diff_action_name(SS_DIFF_CREATE), "create");
	assert_string_equal(ss_diff_action_name(SS_DIFF_UPDATE), "update");
	assert_string_equal(ss_diff_action_name(SS_DIFF_DELETE), "delete");
	assert_string_equal(ss_diff_action_name(SS_DIFF_UNCHANGED), "unchanged");
	assert_string_equal(ss_diff_action_name((enum ss_diff_action)9), "unknown");
}

/* Deep JSON beyond the parser's limit is compared as bytes. */
static void test_too_deep_is_bytes(void **state)
{
	size_t depth = 1000, i;
	char *a = malloc(2 * depth + 1), *b;
	struct ss_diff *d = ss_diff_new();

	(void)state;
	assert_non_null(a);
	for (i = 0; i < depth; i++) {
		a[i] = '[';
		a[depth + i] = ']';
	}
	a[2 * depth] = '\0';
	b = strdup(a);
	assert_int_equal(ss_diff_add(d, "x", NULL, a, strlen(a), b, strlen(b)), SS_OK);
	b[depth - 1] = ' ';
	b[depth] = ' ';
	assert_int_equal(ss_diff_add(d, "y", NULL, a, strlen(a), b, strlen(b)), SS_OK);
	assert_int_equal(d->entries[0].action, SS_DIFF_UNCHANGED);
	assert_int_equal(d->entries[1].action, SS_DIFF_UPDATE);
	assert_int_equal(d->entries[1].whole, 1);
	free(a);
	free(b);
	ss_diff_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_diff_table),
	    cmocka_unit_test(test_binary_values),
	    cmocka_unit_test(test_no_values),
	    cmocka_unit_test(test_plan_counts_and_sort),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_action_names),
	    cmocka_unit_test(test_too_deep_is_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
