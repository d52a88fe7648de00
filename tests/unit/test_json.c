/* test_json.c - the strict parser, semantic equality, the exact printer,
 * secret-wiping delete and field access. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/json.h"

/* Parse exactly len bytes from a fresh allocation of that size, so a read
 * past the end is caught by ASan and valgrind. */
static enum ss_rc parse_exact(const char *s, size_t len, cJSON **out)
{
	char *copy = malloc(len ? len : 1);
	enum ss_rc rc;

	assert_non_null(copy);
	memcpy(copy, s, len);
	rc = ss_json_parse(copy, len, out);
	free(copy);
	return rc;
}

static cJSON *P(const char *s)
{
	cJSON *v = NULL;

	assert_int_equal(parse_exact(s, strlen(s), &v), SS_OK);
	assert_non_null(v);
	return v;
}

static char *print_ok(const cJSON *v)
{
	char *s = NULL;

	assert_int_equal(ss_json_print(v, &s), SS_OK);
	assert_non_null(s);
	return s;
}

/* ---- parsing ---------------------------------------------------------- */

struct parse_case {
	const char *in;
	enum ss_rc rc;
	const char *printed; /* compact print of the result when SS_OK */
};

static const struct parse_case parse_cases[] = {
    {"{\"a\":1}", SS_OK, "{\"a\":1}"},
    {" \t\r\n{ \"a\" : [ 1 , 2 ] }\n ", SS_OK, "{\"a\":[1,2]}"},
    {"[1, 2.5, -0, 1e2, 1E-2, 0.1, 1.5e300]", SS_OK, "[1,2.5,-0,100,0.01,0.1,1.5e+300]"},
    {"[1e20, 1e21, 123456.789e3, 0.30000000000000004]", SS_OK,
     "[100000000000000000000,1e+21,123456789,0.30000000000000004]"},
    {"\"x\\u00e9\\n\\\"\\\\\\/\\t\\u0001\"", SS_OK, "\"x\xc3\xa9\\n\\\"\\\\/\\t\\u0001\""},
    {"\"\\ud83d\\ude00\"", SS_OK, "\"\xf0\x9f\x98\x80\""},
    {"{}", SS_OK, "{}"},
    {"[]", SS_OK, "[]"},
    {"null", SS_OK, "null"},
    {"true", SS_OK, "true"},
    {"false", SS_OK, "false"},
    {"\"\"", SS_OK, "\"\""},
    {"-12", SS_OK, "-12"},
    /* Repeated keys: first position, last value (Python json.loads). */
    {"{\"a\":1,\"b\":2,\"a\":3}", SS_OK, "{\"a\":3,\"b\":2}"},
    {"{\"x\":{\"k\":1,\"k\":{\"z\":1}},\"y\":0,\"x\":{\"k\":2,\"k\":[3]}}", SS_OK,
     "{\"x\":{\"k\":[3]},\"y\":0}"},
    {"[{\"a\":1,\"a\":1,\"a\":null}]", SS_OK, "[{\"a\":null}]"},
    /* Numbers a double cannot hold stay exact (Raw). */
    {"9007199254740993", SS_OK, "9007199254740993"},
    {"[-9007199254740993,9007199254740992]", SS_OK, "[-9007199254740993,9007199254740992]"},
    {"{\"id\":123456789012345678901234567890}", SS_OK, "{\"id\":123456789012345678901234567890}"},
    {"123456789012345678", SS_OK, "123456789012345678"},
    {"10000000000000000000", SS_OK, "10000000000000000000"},
    {"[1e400,-1E+400]", SS_OK, "[1e400,-1E+400]"},
    {"1e-400", SS_OK, "0"},
    /* Not RFC 8259 JSON. */
    {"", SS_ERR_PARSE, NULL},
    {"   ", SS_ERR_PARSE, NULL},
    {"01", SS_ERR_PARSE, NULL},
    {"[01]", SS_ERR_PARSE, NULL},
    {"-01", SS_ERR_PARSE, NULL},
    {"1.", SS_ERR_PARSE, NULL},
    {"[1.]", SS_ERR_PARSE, NULL},
    {"1.e5", SS_ERR_PARSE, NULL},
    {"-", SS_ERR_PARSE, NULL},
    {"+1", SS_ERR_PARSE, NULL},
    {".5", SS_ERR_PARSE, NULL},
    {"1e", SS_ERR_PARSE, NULL},
    {"NaN", SS_ERR_PARSE, NULL},
    {"-Infinity", SS_ERR_PARSE, NULL},
    {"0x10", SS_ERR_PARSE, NULL},
    {"{}x", SS_ERR_PARSE, NULL},
    {"{} {}", SS_ERR_PARSE, NULL},
    {"[1,]", SS_ERR_PARSE, NULL},
    {"{\"a\":1,}", SS_ERR_PARSE, NULL},
    {"{\"a\"}", SS_ERR_PARSE, NULL},
    {"{a:1}", SS_ERR_PARSE, NULL},
    {"'a'", SS_ERR_PARSE, NULL},
    {"[", SS_ERR_PARSE, NULL},
    {"]", SS_ERR_PARSE, NULL},
    {"\"abc", SS_ERR_PARSE, NULL},
    {"\"abc\\", SS_ERR_PARSE, NULL},
    {"tru", SS_ERR_PARSE, NULL},
    {"nulll", SS_ERR_PARSE, NULL},
    {"\"a\\u0000b\"", SS_ERR_PARSE, NULL},
    {"{\"k\\u0000\":1}", SS_ERR_PARSE, NULL},
    {"\"\\ud800\"", SS_ERR_PARSE, NULL},
    {"\"\\x41\"", SS_ERR_PARSE, NULL},
};

static void test_parse_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		cJSON *v = (cJSON *)0x1;
		enum ss_rc rc = parse_exact(c->in, strlen(c->in), &v);

		print_message("case %zu: %s\n", i, c->in);
		assert_int_equal(rc, c->rc);
		if (c->rc != SS_OK) {
			assert_null(v);
			continue;
		}
		{
			char *s = print_ok(v);

			assert_string_equal(s, c->printed);
			free(s);
		}
		ss_json_delete_secret(v);
	}
}

static void test_parse_escaped_u0000_text_is_fine(void **state)
{
	cJSON *v;
	char *s;

	(void)state;
	/* An escaped backslash followed by "u0000" is not a NUL escape. */
	v = P("\"\\\\u0000\"");
	assert_string_equal(v->valuestring, "\\u0000");
	s = print_ok(v);
	assert_string_equal(s, "\"\\\\u0000\"");
	free(s);
	ss_json_delete_secret(v);
}

static void test_parse_nul_byte(void **state)
{
	static const char in1[] = "{\"a\":\"x\0y\"}";
	static const char in2[] = "{\"a\":1}\0";
	cJSON *v = NULL;

	(void)state;
	assert_int_equal(parse_exact(in1, sizeof(in1) - 1, &v), SS_ERR_PARSE);
	assert_null(v);
	assert_int_equal(parse_exact(in2, sizeof(in2) - 1, &v), SS_ERR_PARSE);
	assert_null(v);
	/* The length is honoured: the text after len is not read. */
	assert_int_equal(parse_exact("{\"a\":1}garbage", 7, &v), SS_OK);
	cJSON_Delete(v);
	assert_int_equal(ss_json_parse(NULL, 0, &v), SS_ERR_PARSE);
	assert_null(v);
}

static char *nested(size_t depth, const char *open, const char *mid, const char *close)
{
	size_t lo = strlen(open), lc = strlen(close), lm = strlen(mid), i;
	char *s = malloc(depth * (lo + lc) + lm + 1), *p;

	assert_non_null(s);
	p = s;
	for (i = 0; i < depth; i++, p += lo)
		memcpy(p, open, lo);
	memcpy(p, mid, lm);
	p += lm;
	for (i = 0; i < depth; i++, p += lc)
		memcpy(p, close, lc);
	*p = '\0';
	return s;
}

struct depth_case {
	size_t depth;
	const char *open, *mid, *close;
	enum ss_rc rc;
};

static const struct depth_case depth_cases[] = {
    {SS_JSON_MAX_DEPTH, "[", "1", "]", SS_OK},
    {SS_JSON_MAX_DEPTH + 1, "[", "1", "]", SS_ERR_TOOBIG},
    {SS_JSON_MAX_DEPTH, "{\"a\":", "{}", "}", SS_ERR_TOOBIG},
    {SS_JSON_MAX_DEPTH - 1, "{\"a\":", "{}", "}", SS_OK},
    {1000, "[", "", "]", SS_ERR_TOOBIG},
    {100000, "[", "", "]", SS_ERR_TOOBIG},
    {100000, "{\"k\":", "0", "}", SS_ERR_TOOBIG},
    /* Unbalanced and deep: still refused for depth, never recursed. */
    {200000, "[", "", "", SS_ERR_TOOBIG},
};

static void test_parse_depth(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(depth_cases) / sizeof(depth_cases[0]); i++) {
		const struct depth_case *c = &depth_cases[i];
		char *s = nested(c->depth, c->open, c->mid, c->close);
		cJSON *v = NULL;

		print_message("depth case %zu\n", i);
		assert_int_equal(parse_exact(s, strlen(s), &v), c->rc);
		if (c->rc == SS_OK) {
			char *t = print_ok(v);

			assert_string_equal(t, s);
			free(t);
			assert_true(ss_json_depth_within(v, SS_JSON_MAX_DEPTH));
			assert_false(ss_json_depth_within(v, SS_JSON_MAX_DEPTH - 1));
			assert_true(ss_json_equal(v, v));
		} else {
			assert_null(v);
		}
		ss_json_delete_secret(v);
		free(s);
	}
}

static void test_brackets_in_strings_do_not_nest(void **state)
{
	char *inner = nested(500, "[", "", "{");
	size_t n = strlen(inner) + 16;
	char *s = malloc(n);
	cJSON *v;

	(void)state;
	assert_non_null(s);
	snprintf(s, n, "[\"%s\"]", inner);
	v = P(s);
	assert_string_equal(cJSON_GetArrayItem(v, 0)->valuestring, inner);
	ss_json_delete_secret(v);
	free(s);
	free(inner);
}

static void test_parse_large_object_dedupe(void **state)
{
	struct ss_buf b;
	cJSON *v;
	int i;

	(void)state;
	ss_buf_init(&b, 0);
	assert_int_equal(ss_buf_addc(&b, '{'), SS_OK);
	for (i = 0; i < 300; i++)
		assert_int_equal(ss_buf_addf(&b, "%s\"k%d\":%d", i ? "," : "", i % 100, i), SS_OK);
	assert_int_equal(ss_buf_addc(&b, '}'), SS_OK);
	v = P(b.data);
	assert_int_equal(cJSON_GetArraySize(v), 100);
	for (i = 0; i < 100; i++) {
		const cJSON *m = cJSON_GetArrayItem(v, i);
		char key[16];

		snprintf(key, sizeof(key), "k%d", i);
		assert_string_equal(m->string, key);
		assert_int_equal((int)m->valuedouble, 200 + i);
	}
	ss_json_delete_secret(v);
	ss_buf_free(&b);
}

/* ---- equality --------------------------------------------------------- */

struct eq_case {
	const char *a, *b;
	int equal;
};

static const struct eq_case eq_cases[] = {
    {"1", "1.0", 1},
    {"1", "1e0", 1},
    {"100", "1e2", 1},
    {"0.5", "5e-1", 1},
    {"-0", "0", 1},
    {"1", "2", 0},
    {"0.1", "0.10000000000000001", 1},
    {"true", "true", 1},
    {"true", "1", 0},
    {"false", "0", 0},
    {"null", "false", 0},
    {"null", "null", 1},
    {"\"1\"", "1", 0},
    {"\"a\"", "\"a\"", 1},
    {"\"a\"", "\"A\"", 0},
    {"\"\\u00e9\"", "\"\xc3\xa9\"", 1},
    {"{}", "[]", 0},
    {"{}", "{}", 1},
    {"[]", "[null]", 0},
    {"[1,2]", "[1,2]", 1},
    {"[1,2]", "[2,1]", 0},
    {"[1,2]", "[1,2,3]", 0},
    {"{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}", 1},
    {"{\"a\":1}", "{\"a\":1,\"b\":1}", 0},
    {"{\"a\":1,\"b\":1}", "{\"a\":1}", 0},
    {"{\"a\":1}", "{\"b\":1}", 0},
    {"{\"a\":[1,{\"b\":null}]}", "{\"a\":[1.0,{\"b\":null}]}", 1},
    {"{\"a\":[1,{\"b\":null}]}", "{\"a\":[1,{\"b\":false}]}", 0},
    {"{\"a\":{\"b\":{\"c\":1}}}", "{\"a\":{\"b\":{\"c\":\"1\"}}}", 0},
    /* Raw (exact) numbers. */
    {"9007199254740993", "9007199254740993", 1},
    {"9007199254740993", "9007199254740992", 0},
    {"9007199254740993", "9007199254740993.0", 0},
    {"12345678901234567890", "1.2345678901234567890e19", 0},
    {"1e400", "10e399", 1},
    {"1e400", "1E+400", 1},
    {"1e400", "-1e400", 0},
    {"1e400", "1e401", 0},
    {"-123456789012345678901", "-123456789012345678901", 1},
    {"-123456789012345678901", "123456789012345678901", 0},
    /* Duplicates were folded by the parser. */
    {"{\"a\":1,\"a\":2}", "{\"a\":2}", 1},
    {"{\"a\":1,\"a\":2}", "{\"a\":1}", 0},
};

static void test_equal_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(eq_cases) / sizeof(eq_cases[0]); i++) {
		cJSON *a = P(eq_cases[i].a), *b = P(eq_cases[i].b);

		print_message("case %zu: %s vs %s\n", i, eq_cases[i].a, eq_cases[i].b);
		assert_int_equal(ss_json_equal(a, b), eq_cases[i].equal);
		assert_int_equal(ss_json_equal(b, a), eq_cases[i].equal);
		assert_true(ss_json_equal(a, a));
		ss_json_delete_secret(a);
		ss_json_delete_secret(b);
	}
	assert_true(ss_json_equal(NULL, NULL));
	{
		cJSON *n = P("null");

		assert_false(ss_json_equal(n, NULL));
		assert_false(ss_json_equal(NULL, n));
		ss_json_delete_secret(n);
	}
}

struct raw_case {
	const char *a, *b;
	int equal;
};

static const struct raw_case raw_cases[] = {
    {"1e400", "1E+400", 1}, {"100", "1e2", 1},	{"1.50", "1.5", 1},	  {"0.0", "-0", 1},
    {"0", "0e99", 1},	    {"120", "12e1", 1}, {"0.00012", "1.2e-4", 1}, {"12", "13", 0},
    {"12", "120", 0},	    {"-5", "5", 0},	{"abc", "abc", 1},	  {"abc", "abd", 0},
    {"1", "abc", 0},
};

static void test_raw_equal(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(raw_cases) / sizeof(raw_cases[0]); i++) {
		cJSON *a = cJSON_CreateRaw(raw_cases[i].a);
		cJSON *b = cJSON_CreateRaw(raw_cases[i].b);
		cJSON *n = cJSON_CreateNumber(1);

		print_message("raw case %zu\n", i);
		assert_int_equal(ss_json_equal(a, b), raw_cases[i].equal);
		assert_int_equal(ss_json_equal(b, a), raw_cases[i].equal);
		assert_false(ss_json_equal(a, n));
		cJSON_Delete(a);
		cJSON_Delete(b);
		cJSON_Delete(n);
	}
}

/* Objects big enough for the sorting comparison. */
static cJSON *big_object(int n, int reverse, int bump)
{
	cJSON *o = cJSON_CreateObject();
	int i;

	assert_non_null(o);
	for (i = 0; i < n; i++) {
		int k = reverse ? n - 1 - i : i;
		char key[16];

		snprintf(key, sizeof(key), "key%03d", k);
		assert_non_null(cJSON_AddNumberToObject(o, key, k == bump ? -1 : k));
	}
	return o;
}

static void test_equal_large_objects(void **state)
{
	int sizes[] = {5, 32, 33, 200};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int n = sizes[i];
		cJSON *a = big_object(n, 0, -5), *b = big_object(n, 1, -5);
		cJSON *c = big_object(n, 1, n / 2), *d = big_object(n + 1, 1, -5);

		assert_true(ss_json_equal(a, b));
		assert_false(ss_json_equal(a, c));
		assert_false(ss_json_equal(a, d));
		assert_false(ss_json_equal(d, a));
		/* Same size, one key renamed. */
		free(b->child->string);
		b->child->string = strdup("other");
		assert_false(ss_json_equal(a, b));
		assert_false(ss_json_equal(b, a));
		cJSON_Delete(a);
		cJSON_Delete(b);
		cJSON_Delete(c);
		cJSON_Delete(d);
	}
}

/* Built by hand (the parser never makes them): the last value counts. */
static void test_equal_duplicates_built(void **state)
{
	int sizes[] = {3, 40};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		cJSON *a = big_object(sizes[i], 0, -5), *b = big_object(sizes[i], 0, -5);

		cJSON_AddNumberToObject(a, "dup", 1);
		cJSON_AddNumberToObject(a, "dup", 2);
		cJSON_AddNumberToObject(b, "dup", 2);
		assert_true(ss_json_equal(a, b));
		assert_true(ss_json_equal(b, a));
		cJSON_AddNumberToObject(b, "dup2", 2);
		assert_false(ss_json_equal(a, b));
		assert_false(ss_json_equal(b, a));
		cJSON_Delete(a);
		cJSON_Delete(b);
	}
}

static cJSON *deep_arrays(int depth)
{
	cJSON *top = cJSON_CreateArray(), *cur = top;
	int i;

	for (i = 1; i < depth; i++) {
		cJSON *n = cJSON_CreateArray();

		cJSON_AddItemToArray(cur, n);
		cur = n;
	}
	return top;
}

static void test_equal_depth_bounded(void **state)
{
	cJSON *a = deep_arrays(SS_JSON_MAX_DEPTH), *b = deep_arrays(SS_JSON_MAX_DEPTH);
	cJSON *c = deep_arrays(SS_JSON_MAX_DEPTH + 1), *d = deep_arrays(SS_JSON_MAX_DEPTH + 1);
	cJSON *e = deep_arrays(200000), *f = deep_arrays(200000);

	(void)state;
	assert_true(ss_json_equal(a, b));
	assert_false(ss_json_equal(c, d));
	assert_false(ss_json_equal(e, f));
	assert_true(ss_json_depth_within(a, SS_JSON_MAX_DEPTH));
	assert_false(ss_json_depth_within(c, SS_JSON_MAX_DEPTH));
	assert_false(ss_json_depth_within(e, SS_JSON_MAX_DEPTH));
	assert_true(ss_json_depth_within(NULL, 0));
	{
		char *s = NULL;

		assert_int_equal(ss_json_print(c, &s), SS_ERR_TOOBIG);
		assert_null(s);
		assert_int_equal(ss_json_print(e, &s), SS_ERR_TOOBIG);
	}
	ss_json_delete_secret(a);
	ss_json_delete_secret(b);
	ss_json_delete_secret(c);
	ss_json_delete_secret(d);
	/* Iterative: a 200000-deep tree does not overflow the stack. */
	ss_json_delete_secret(e);
	ss_json_delete_secret(f);
}

/* ---- printing --------------------------------------------------------- */

static void test_print_strings(void **state)
{
	cJSON *v = cJSON_CreateString("\"\\\b\f\n\r\t\x01\x1f\x7f \xc3\xa9/");
	cJSON *o = cJSON_CreateObject();
	char *s;

	(void)state;
	s = print_ok(v);
	assert_string_equal(s, "\"\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\x7f \xc3\xa9/\"");
	free(s);
	cJSON_AddStringToObject(o, "k\"\n", "");
	cJSON_AddItemToObject(o, "", cJSON_CreateArray());
	s = print_ok(o);
	assert_string_equal(s, "{\"k\\\"\\n\":\"\",\"\":[]}");
	free(s);
	cJSON_Delete(v);
	cJSON_Delete(o);
}

struct num_case {
	double d;
	const char *text;
};

static void test_print_numbers(void **state)
{
	const struct num_case cases[] = {
	    {0, "0"},
	    {-0.0, "-0"},
	    {1, "1"},
	    {-42, "-42"},
	    {0.1, "0.1"},
	    {0.1 + 0.2, "0.30000000000000004"},
	    {1e21, "1e+21"},
	    {1e20, "100000000000000000000"},
	    {9007199254740992.0, "9007199254740992"},
	    {1.5e-7, "1.5e-07"},
	    {123.456, "123.456"},
	    {NAN, "null"},
	    {INFINITY, "null"},
	    {-INFINITY, "null"},
	};
	const double roundtrip[] = {5e-324,
				    2.2250738585072014e-308,
				    1.7976931348623157e308,
				    0.1 + 0.7,
				    1.0 / 3,
				    2.0 / 3,
				    123456789.123456789,
				    -1e-300,
				    4.35,
				    1e16 + 2};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *v = cJSON_CreateNumber(cases[i].d);
		char *s = print_ok(v);

		print_message("number case %zu\n", i);
		assert_string_equal(s, cases[i].text);
		free(s);
		cJSON_Delete(v);
	}
	for (i = 0; i < sizeof(roundtrip) / sizeof(roundtrip[0]); i++) {
		cJSON *v = cJSON_CreateNumber(roundtrip[i]), *back;
		char *s = print_ok(v);

		back = P(s);
		assert_true(cJSON_IsNumber(back));
		assert_true(back->valuedouble == roundtrip[i]);
		assert_true(strlen(s) <= 24);
		free(s);
		cJSON_Delete(v);
		ss_json_delete_secret(back);
	}
}

static void test_print_invalid(void **state)
{
	cJSON *o = cJSON_CreateObject(), *raw = cJSON_CreateRaw(NULL);
	cJSON *empty = cJSON_CreateRaw(""), *inv = cJSON_CreateNull();
	char *s = (char *)0x1;
	struct ss_buf b;

	(void)state;
	cJSON_AddItemToArray(o, cJSON_CreateNumber(1)); /* a member without key */
	assert_int_equal(ss_json_print(o, &s), SS_ERR_INVALID);
	assert_null(s);
	assert_int_equal(ss_json_print(raw, &s), SS_ERR_INVALID);
	assert_int_equal(ss_json_print(empty, &s), SS_ERR_INVALID);
	inv->type = cJSON_Invalid;
	assert_int_equal(ss_json_print(inv, &s), SS_ERR_INVALID);
	assert_int_equal(ss_json_print(NULL, &s), SS_ERR_INVALID);
	/* The buffer's cap is honoured. */
	ss_buf_init(&b, 4);
	assert_int_equal(ss_json_print_buf(o->child, &b), SS_OK);
	assert_string_equal(b.data, "1");
	ss_buf_free(&b);
	ss_buf_init(&b, 4);
	{
		cJSON *long_s = cJSON_CreateString("abcdef");

		assert_int_equal(ss_json_print_buf(long_s, &b), SS_ERR_TOOBIG);
		cJSON_Delete(long_s);
	}
	ss_buf_free(&b);
	cJSON_Delete(o);
	cJSON_Delete(raw);
	cJSON_Delete(empty);
	inv->type = cJSON_NULL;
	cJSON_Delete(inv);
}

struct secret_case {
	const char *json;
	const char *text;
};

static const struct secret_case secret_cases[] = {
    {"\"plain\\nvalue\"", "plain\nvalue"},
    {"\"{\\\"a\\\":1}\"", "{\"a\":1}"},
    {"\"\"", ""},
    {"{ \"b\" : 1, \"a\" : [true, null] }", "{\"b\":1,\"a\":[true,null]}"},
    {"12.50", "12.5"},
    {"null", "null"},
    {"[\"x\"]", "[\"x\"]"},
};

static void test_secret_string(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(secret_cases) / sizeof(secret_cases[0]); i++) {
		cJSON *v = P(secret_cases[i].json);
		char *s = NULL;

		assert_int_equal(ss_json_secret_string(v, &s), SS_OK);
		assert_string_equal(s, secret_cases[i].text);
		ss_free_secret(s);
		ss_json_delete_secret(v);
	}
}

/* ---- freeing ---------------------------------------------------------- */

static void test_delete_secret(void **state)
{
	char shared[] = "referenced";
	cJSON *arr = cJSON_CreateArray(), *orig = cJSON_CreateObject();
	cJSON *v;

	(void)state;
	ss_json_delete_secret(NULL);
	/* References are not wiped or freed: they belong to someone else. */
	cJSON_AddItemToArray(arr, cJSON_CreateStringReference(shared));
	cJSON_AddStringToObject(orig, "k", "value");
	cJSON_AddItemReferenceToArray(arr, orig);
	cJSON_AddItemToObjectCS(orig, "const-key", cJSON_CreateTrue());
	ss_json_delete_secret(arr);
	assert_string_equal(shared, "referenced");
	assert_string_equal(ss_json_get_string(orig, "k"), "value");
	cJSON_Delete(orig);
	/* A chain of siblings goes at once, as with cJSON_Delete. */
	v = P("[{\"a\":[1,{\"b\":\"c\"}],\"d\":\"e\"},\"f\",[[[]]]]");
	ss_json_delete_secret(v);
}

/* ---- field access ----------------------------------------------------- */

static void test_getters(void **state)
{
	cJSON *v = P("{\"s\":\"str\",\"n\":42,\"f\":1.5,\"big\":9007199254740993,"
		     "\"max\":9007199254740992,\"neg\":-7,\"t\":true,\"b\":false,"
		     "\"o\":{},\"a\":[],\"z\":null}");
	double d = -1;
	long long ll = -1;
	int b = -1;

	(void)state;
	assert_string_equal(ss_json_get_string(v, "s"), "str");
	assert_null(ss_json_get_string(v, "n"));
	assert_null(ss_json_get_string(v, "missing"));
	assert_null(ss_json_get_string(NULL, "s"));
	assert_null(ss_json_get_string(v, NULL));
	assert_null(ss_json_get_string(ss_json_get_array(v, "a"), "s"));
	assert_non_null(ss_json_get_object(v, "o"));
	assert_null(ss_json_get_object(v, "a"));
	assert_non_null(ss_json_get_array(v, "a"));
	assert_null(ss_json_get_array(v, "o"));

	assert_int_equal(ss_json_get_number(v, "f", &d), SS_OK);
	assert_true(d == 1.5);
	assert_int_equal(ss_json_get_number(v, "s", &d), SS_ERR_INVALID);
	assert_int_equal(ss_json_get_number(v, "missing", &d), SS_ERR_NOTFOUND);
	assert_int_equal(ss_json_get_number(v, "big", &d), SS_ERR_INVALID);
	assert_true(d == 1.5);

	assert_int_equal(ss_json_get_int64(v, "n", &ll), SS_OK);
	assert_int_equal(ll, 42);
	assert_int_equal(ss_json_get_int64(v, "neg", &ll), SS_OK);
	assert_int_equal(ll, -7);
	assert_int_equal(ss_json_get_int64(v, "max", &ll), SS_OK);
	assert_true(ll == 9007199254740992LL);
	assert_int_equal(ss_json_get_int64(v, "f", &ll), SS_ERR_INVALID);
	assert_int_equal(ss_json_get_int64(v, "z", &ll), SS_ERR_INVALID);
	assert_int_equal(ss_json_get_int64(v, "nope", &ll), SS_ERR_NOTFOUND);
	assert_true(ll == 9007199254740992LL);

	assert_int_equal(ss_json_get_bool(v, "t", &b), SS_OK);
	assert_int_equal(b, 1);
	assert_int_equal(ss_json_get_bool(v, "b", &b), SS_OK);
	assert_int_equal(b, 0);
	assert_int_equal(ss_json_get_bool(v, "n", &b), SS_ERR_INVALID);
	assert_int_equal(ss_json_get_bool(v, "x", &b), SS_ERR_NOTFOUND);
	ss_json_delete_secret(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_table),
	    cmocka_unit_test(test_parse_escaped_u0000_text_is_fine),
	    cmocka_unit_test(test_parse_nul_byte),
	    cmocka_unit_test(test_parse_depth),
	    cmocka_unit_test(test_brackets_in_strings_do_not_nest),
	    cmocka_unit_test(test_parse_large_object_dedupe),
	    cmocka_unit_test(test_equal_table),
	    cmocka_unit_test(test_raw_equal),
	    cmocka_unit_test(test_equal_large_objects),
	    cmocka_unit_test(test_equal_duplicates_built),
	    cmocka_unit_test(test_equal_depth_bounded),
	    cmocka_unit_test(test_print_strings),
	    cmocka_unit_test(test_print_numbers),
	    cmocka_unit_test(test_print_invalid),
	    cmocka_unit_test(test_secret_string),
	    cmocka_unit_test(test_delete_secret),
	    cmocka_unit_test(test_getters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
