/* test_buf.c - the bounded buffer: growth, the cap, take, zeroing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/buf.h"

static void test_empty_is_string(void **state)
{
	struct ss_buf b;

	(void)state;
	ss_buf_init(&b, 0);
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	assert_int_equal(b.len, 0);
	ss_buf_free(&b);
	assert_non_null(b.data);
	ss_buf_free(NULL);
}

static void test_add_and_format(void **state)
{
	struct ss_buf b;

	(void)state;
	ss_buf_init(&b, 0);
	assert_int_equal(ss_buf_adds(&b, "abc"), SS_OK);
	assert_int_equal(ss_buf_addc(&b, '-'), SS_OK);
	assert_int_equal(ss_buf_addf(&b, "%d:%s", 42, "x"), SS_OK);
	assert_string_equal(b.data, "abc-42:x");
	assert_int_equal(b.len, 8);
	assert_int_equal(ss_buf_add(&b, "\0z", 2), SS_OK);
	assert_int_equal(b.len, 10);
	assert_int_equal(b.data[8], '\0');
	assert_int_equal(b.data[10], '\0');
	ss_buf_free(&b);
}

static void test_growth_many(void **state)
{
	struct ss_buf b;
	size_t i;

	(void)state;
	ss_buf_init(&b, 0);
	for (i = 0; i < 100000; i++)
		assert_int_equal(ss_buf_addc(&b, (char)('a' + i % 26)), SS_OK);
	assert_int_equal(b.len, 100000);
	assert_int_equal(b.data[25], 'z');
	assert_int_equal(strlen(b.data), 100000);
	ss_buf_free(&b);
}

struct cap_case {
	size_t max;
	const char *first;
	const char *second;
	enum ss_rc rc;
	const char *result;
};

static const struct cap_case cap_cases[] = {
	{4, "ab", "cd", SS_OK, "abcd"},
	{4, "ab", "cde", SS_ERR_TOOBIG, "ab"},
	{4, "abcd", "e", SS_ERR_TOOBIG, "abcd"},
	{1, "a", "", SS_OK, "a"},
	{3, "", "abcd", SS_ERR_TOOBIG, ""},
};

static void test_cap_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cap_cases) / sizeof(cap_cases[0]); i++) {
		const struct cap_case *c = &cap_cases[i];
		struct ss_buf b;

		ss_buf_init(&b, c->max);
		assert_int_equal(ss_buf_adds(&b, c->first), SS_OK);
		assert_int_equal(ss_buf_adds(&b, c->second), c->rc);
		assert_string_equal(b.data, c->result);
		assert_true(b.len <= c->max);
		ss_buf_free(&b);
	}
}

static void test_addf_over_cap(void **state)
{
	struct ss_buf b;

	(void)state;
	ss_buf_init(&b, 10);
	assert_int_equal(ss_buf_addf(&b, "%s", "0123456789A"), SS_ERR_TOOBIG);
	assert_int_equal(b.len, 0);
	assert_int_equal(ss_buf_addf(&b, "%s", "0123456789"), SS_OK);
	ss_buf_free(&b);
}

static void test_take(void **state)
{
	struct ss_buf b;
	char *s = NULL;

	(void)state;
	ss_buf_init(&b, 0);
	assert_int_equal(ss_buf_take(&b, &s), SS_OK);
	assert_string_equal(s, "");
	ss_free_secret(s);
	assert_int_equal(ss_buf_adds(&b, "secret-value"), SS_OK);
	assert_int_equal(ss_buf_take(&b, &s), SS_OK);
	assert_string_equal(s, "secret-value");
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	ss_free_secret(s);
	ss_buf_free(&b);
}

static void test_truncate_reset(void **state)
{
	struct ss_buf b;

	(void)state;
	ss_buf_init(&b, 0);
	assert_int_equal(ss_buf_adds(&b, "hello world"), SS_OK);
	ss_buf_truncate(&b, 5);
	assert_string_equal(b.data, "hello");
	/* the cut bytes were zeroed */
	assert_int_equal(b.data[6], '\0');
	assert_int_equal(b.data[10], '\0');
	ss_buf_truncate(&b, 50);
	assert_string_equal(b.data, "hello");
	ss_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.data[1], '\0');
	assert_int_equal(ss_buf_adds(&b, "again"), SS_OK);
	assert_string_equal(b.data, "again");
	ss_buf_free(&b);
}

static void test_memzero_and_dup(void **state)
{
	char x[8] = "secret!";
	char *d;

	(void)state;
	ss_memzero(x, sizeof(x));
	for (size_t i = 0; i < sizeof(x); i++)
		assert_int_equal(x[i], 0);
	ss_memzero(NULL, 5);
	d = ss_strndup("abcdef", 3);
	assert_string_equal(d, "abc");
	ss_free_secret(d);
	assert_null(ss_strdup(NULL));
	ss_free_secret(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_is_string),
		cmocka_unit_test(test_add_and_format),
		cmocka_unit_test(test_growth_many),
		cmocka_unit_test(test_cap_table),
		cmocka_unit_test(test_addf_over_cap),
		cmocka_unit_test(test_take),
		cmocka_unit_test(test_truncate_reset),
		cmocka_unit_test(test_memzero_and_dup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
