/* test_mask.c - the mask registry: what is registered, what is announced,
 * and what redaction leaves of a text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "core/mask.h"
#include "core/banned.h"

/* ---- helpers ---- */

/* An emitter that collects into memory. */
struct sink {
	FILE *f;
	char *text;
	size_t len;
};

static void sink_open(struct sink *s)
{
	s->text = NULL;
	s->len = 0;
	s->f = open_memstream(&s->text, &s->len);
	assert_non_null(s->f);
}

static void sink_close(struct sink *s)
{
	fclose(s->f);
	free(s->text);
}

static char *redact(struct ss_mask *m, const char *s)
{
	char *r = ss_mask_redact_str(m, s);

	assert_non_null(r);
	return r;
}

static void assert_redacts(struct ss_mask *m, const char *in, const char *want)
{
	char *r = redact(m, in);

	assert_string_equal(r, want);
	free(r);
}

/* ---- what is registered and announced ---- */

struct reg_case {
	const char *in;
	size_t in_len;	  /* 0: strlen(in) */
	const char *want; /* the emitter output */
	size_t want_len;  /* 0: strlen(want) */
	size_t count;
};

static const struct reg_case reg_cases[] = {
    {"abc", 0, "", 0, 0},
    {"", 0, "", 0, 0},
    {"abcd", 0, "::add-mask::abcd\n", 0, 1},
    {"true", 0, "", 0, 0},
    {"false", 0, "", 0, 0},
    {"null", 0, "", 0, 0},
    {"  null \n", 0, "", 0, 0},
    {"\tfalse\r\n", 0, "", 0, 0},
    {"   {   ", 0, "", 0, 0},
    {"  }\n", 0, "", 0, 0},
    {"  ab  ", 0, "", 0, 0},
    {"trues", 0, "::add-mask::trues\n", 0, 1},
    {"pct%val", 0, "::add-mask::pct%25val\n", 0, 1},
    {"line-one\nline-two", 0,
     "::add-mask::line-one%0Aline-two\n::add-mask::line-one\n::add-mask::line-two\n", 0, 3},
    {"line-one\r\nline-two\r\n", 0,
     "::add-mask::line-one%0D%0Aline-two%0D%0A\n::add-mask::line-one\n::add-mask::line-two\n", 0,
     3},
    {"only\n\n\nlines\n", 0,
     "::add-mask::only%0A%0A%0Alines%0A\n::add-mask::only\n::add-mask::lines\n", 0, 3},
    {"short\nab\ncd\nlonger", 0,
     "::add-mask::short%0Aab%0Acd%0Alonger\n::add-mask::short\n::add-mask::longer\n", 0, 3},
    {"dup-line\ndup-line", 0, "::add-mask::dup-line%0Adup-line\n::add-mask::dup-line\n", 0, 2},
    {"secret\r", 0, "::add-mask::secret%0D\n::add-mask::secret\n", 0, 2},
    {"ab\0cdef", 7, "::add-mask::ab\0cdef\n", 20, 1},
    {"{\"user\": \"alice-admin\", \"pass\": \"p@ss\\nword\", \"n\": 12345, \"ok\": true, "
     "\"nested\": {\"k\": [\"deep-secret\", \"xy\", 3.5]}}",
     0,
     "::add-mask::{\"user\": \"alice-admin\", \"pass\": \"p@ss\\nword\", \"n\": 12345, "
     "\"ok\": true, \"nested\": {\"k\": [\"deep-secret\", \"xy\", 3.5]}}\n"
     "::add-mask::{\"user\":\"alice-admin\",\"pass\":\"p@ss\\nword\",\"n\":12345,"
     "\"ok\":true,\"nested\":{\"k\":[\"deep-secret\",\"xy\",3.5]}}\n"
     "::add-mask::alice-admin\n"
     "::add-mask::p@ss%0Aword\n"
     "::add-mask::p@ss\n"
     "::add-mask::word\n"
     "::add-mask::deep-secret\n",
     0, 7},
    {"{\n  \"a\": \"value-one\",\n  \"b\": \"true\"\n}\n", 0,
     "::add-mask::{%0A  \"a\": \"value-one\",%0A  \"b\": \"true\"%0A}%0A\n"
     "::add-mask::  \"a\": \"value-one\",\n"
     "::add-mask::  \"b\": \"true\"\n"
     "::add-mask::{\"a\":\"value-one\",\"b\":\"true\"}\n"
     "::add-mask::value-one\n",
     0, 5},
    {" [\"alpha1\", \"beta22\"] ", 0,
     "::add-mask:: [\"alpha1\", \"beta22\"] \n"
     "::add-mask::[\"alpha1\",\"beta22\"]\n"
     "::add-mask::alpha1\n"
     "::add-mask::beta22\n",
     0, 4},
    {"{\"k\":\"unicode-\\u00e9\\u2713\"}", 0,
     "::add-mask::{\"k\":\"unicode-\\u00e9\\u2713\"}\n"
     "::add-mask::{\"k\":\"unicode-\xc3\xa9\xe2\x9c\x93\"}\n"
     "::add-mask::unicode-\xc3\xa9\xe2\x9c\x93\n",
     0, 3},
    /* Not JSON objects: registered as text only. */
    {"{not json}", 0, "::add-mask::{not json}\n", 0, 1},
    {"{\"a\":\"bbbbbb\"} x", 0, "::add-mask::{\"a\":\"bbbbbb\"} x\n", 0, 1},
    {"\"just-a-string\"", 0, "::add-mask::\"just-a-string\"\n", 0, 1},
    {"12345678", 0, "::add-mask::12345678\n", 0, 1},
};

static void test_register_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(reg_cases) / sizeof(reg_cases[0]); i++) {
		const struct reg_case *c = &reg_cases[i];
		size_t in_len = c->in_len ? c->in_len : strlen(c->in);
		size_t want_len = c->want_len ? c->want_len : strlen(c->want);
		struct ss_mask *m = ss_mask_new();
		struct sink s;

		assert_non_null(m);
		sink_open(&s);
		ss_mask_set_emitter(m, s.f);
		assert_int_equal(ss_mask_addn(m, c->in, in_len), SS_OK);
		/* Registering again announces nothing more. */
		assert_int_equal(ss_mask_addn(m, c->in, in_len), SS_OK);
		fflush(s.f);
		if (s.len != want_len || memcmp(s.text, c->want, want_len) != 0)
			fail_msg("case %zu: emitted\n%.*s\nwant\n%s", i, (int)s.len, s.text,
				 c->want);
		assert_int_equal(ss_mask_count(m), c->count);
		ss_mask_free(m);
		sink_close(&s);
	}
}

static void test_dedupe(void **state)
{
	struct ss_mask *m = ss_mask_new();

	(void)state;
	assert_non_null(m);
	assert_int_equal(ss_mask_add(m, "same-value"), SS_OK);
	assert_int_equal(ss_mask_add(m, "same-value"), SS_OK);
	assert_int_equal(ss_mask_add(m, "same-value\nsame-value"), SS_OK);
	assert_int_equal(ss_mask_addn(m, "same-value-and-more", 10), SS_OK);
	assert_int_equal(ss_mask_count(m), 2);
	/* A prefix and an extension of a value are values of their own. */
	assert_int_equal(ss_mask_add(m, "same-valu"), SS_OK);
	assert_int_equal(ss_mask_add(m, "same-values"), SS_OK);
	assert_int_equal(ss_mask_count(m), 4);
	ss_mask_free(m);
}

static void test_emitter_set_later(void **state)
{
	struct ss_mask *m = ss_mask_new();
	struct sink a, b;

	(void)state;
	assert_non_null(m);
	assert_int_equal(ss_mask_add(m, "first-one"), SS_OK);
	assert_int_equal(ss_mask_add(m, "two\nsecond-two"), SS_OK);
	sink_open(&a);
	ss_mask_set_emitter(m, a.f);
	assert_string_equal(a.text, "::add-mask::first-one\n"
				    "::add-mask::two%0Asecond-two\n"
				    "::add-mask::second-two\n");
	assert_int_equal(ss_mask_add(m, "third-one"), SS_OK);
	assert_string_equal(a.text, "::add-mask::first-one\n"
				    "::add-mask::two%0Asecond-two\n"
				    "::add-mask::second-two\n"
				    "::add-mask::third-one\n");
	/* Off, then on another stream: only what came in between. */
	ss_mask_set_emitter(m, NULL);
	assert_int_equal(ss_mask_add(m, "fourth-one"), SS_OK);
	sink_open(&b);
	ss_mask_set_emitter(m, b.f);
	assert_string_equal(b.text, "::add-mask::fourth-one\n");
	assert_int_equal(ss_mask_add(m, "first-one"), SS_OK);
	fflush(b.f);
	assert_string_equal(b.text, "::add-mask::fourth-one\n");
	ss_mask_set_emitter(m, NULL);
	sink_close(&a);
	sink_close(&b);
	ss_mask_free(m);
}

static void test_add_json_tree(void **state)
{
	struct ss_mask *m = ss_mask_new();
	cJSON *root = cJSON_CreateObject(), *arr;
	char *r;

	(void)state;
	assert_non_null(m);
	assert_non_null(root);
	assert_non_null(cJSON_AddStringToObject(root, "password", "hunter2-hunter2"));
	assert_non_null(cJSON_AddNumberToObject(root, "port", 543210));
	assert_non_null(cJSON_AddTrueToObject(root, "enabled"));
	arr = cJSON_AddArrayToObject(root, "list");
	assert_non_null(arr);
	cJSON_AddItemToArray(arr, cJSON_CreateString("pem-line-1\npem-line-2"));
	cJSON_AddItemToArray(arr, cJSON_CreateString("null"));
	assert_int_equal(ss_mask_add_json(m, root), SS_OK);
	/* The leaf, the multi-line leaf and its two lines. */
	assert_int_equal(ss_mask_count(m), 4);
	r = redact(m, "pw=hunter2-hunter2 port=543210 enabled password pem-line-2 null");
	assert_string_equal(r, "pw=*** port=543210 enabled password *** null");
	free(r);
	cJSON_Delete(root);
	assert_int_equal(ss_mask_add_json(m, NULL), SS_OK);
	ss_mask_free(m);
}

/* ---- redaction ---- */

struct redact_case {
	const char *values[4];
	const char *in;
	const char *want;
};

static const struct redact_case redact_cases[] = {
    {{"secret-long", "secret"}, "x secret-long y secret z", "x *** y *** z"},
    {{"secret", "secret-long"}, "x secret-long y secret z", "x *** y *** z"},
    {{"secret", "secret-long"}, "secret-lon", "***-lon"},
    {{"abcdef", "defghi"}, "0abcdefghi1", "0***1"},
    {{"defghi", "abcdef"}, "0abcdefghi1", "0***1"},
    {{"abcd", "efgh"}, "abcdefgh", "***"},
    {{"abcd", "efgh"}, "abcd efgh", "*** ***"},
    {{"password123", "word"}, "mypassword123!", "my***!"},
    {{"password123", "word"}, "a word b password", "a *** b pass***"},
    {{"tok3n"}, "tok3n", "***"},
    {{"tok3n"}, "tok3n..tok3n", "***..***"},
    {{"tok3n"}, "tok3", "tok3"},
    {{"tok3n"}, "", ""},
    {{"tok3n"}, "ab", "ab"},
    {{"tok3n"}, "TOK3N tok3N", "TOK3N tok3N"},
    {{"abcdefgh", "abcdxyz", "abcd1234"}, "abcdxyz abcdefg abcd1234 abcd", "*** abcdefg *** abcd"},
    {{"aaaa", "aaaab"}, "aaaaaaab", "***"},
    {{"aaaa", "aaaab"}, "aaaaaaa", "***"},
    {{"aaaa"}, "aaa aaaa aaa", "aaa *** aaa"},
    {{"line-one\nline-two"}, "x line-one\nline-two y", "x *** y"},
    {{"line-one\nline-two"}, "[line-two] [line-one]", "[***] [***]"},
    {{"caf\xc3\xa9-secret"}, "<caf\xc3\xa9-secret>", "<***>"},
    {{"%0A%0D"}, "a%0A%0Db", "a***b"},
};

static void test_redact_table(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(redact_cases) / sizeof(redact_cases[0]); i++) {
		const struct redact_case *c = &redact_cases[i];
		struct ss_mask *m = ss_mask_new();
		char *r;

		assert_non_null(m);
		for (j = 0; j < 4 && c->values[j] != NULL; j++)
			assert_int_equal(ss_mask_add(m, c->values[j]), SS_OK);
		r = redact(m, c->in);
		if (strcmp(r, c->want) != 0)
			fail_msg("case %zu: got \"%s\" want \"%s\"", i, r, c->want);
		assert_int_equal(ss_mask_contains(m, c->in, strlen(c->in)),
				 strcmp(c->in, c->want) != 0);
		free(r);
		ss_mask_free(m);
	}
}

static void test_redact_empty_registry(void **state)
{
	struct ss_mask *m = ss_mask_new();
	struct ss_buf b;

	(void)state;
	assert_non_null(m);
	assert_redacts(m, "nothing to hide here", "nothing to hide here");
	assert_false(ss_mask_contains(m, "nothing", 7));
	/* A missing registry redacts nothing rather than everything. */
	ss_buf_init(&b, 0);
	assert_int_not_equal(ss_mask_redact(NULL, "abc", 3, &b), SS_OK);
	assert_int_equal(b.len, 0);
	assert_int_not_equal(ss_mask_add(NULL, "abcdef"), SS_OK);
	assert_null(ss_mask_redact_str(m, NULL));
	ss_buf_free(&b);
	ss_mask_free(m);
	ss_mask_free(NULL);
}

static void test_redact_appends_and_nul(void **state)
{
	struct ss_mask *m = ss_mask_new();
	struct ss_buf b;

	(void)state;
	assert_non_null(m);
	assert_int_equal(ss_mask_addn(m, "ab\0cdef", 7), SS_OK);
	ss_buf_init(&b, 0);
	assert_int_equal(ss_buf_adds(&b, "> "), SS_OK);
	assert_int_equal(ss_mask_redact(m, "x ab\0cdef ab\0cde y", 18, &b), SS_OK);
	assert_int_equal(b.len, 2 + 14);
	assert_memory_equal(b.data, "> x *** ab\0cde y", 16);
	ss_buf_free(&b);

	/* Too small a buffer: refused, and the buffer is unchanged. */
	ss_buf_init(&b, 6);
	assert_int_equal(ss_buf_adds(&b, "> "), SS_OK);
	assert_int_equal(ss_mask_redact(m, "x ab\0cdef tail", 14, &b), SS_ERR_TOOBIG);
	assert_string_equal(b.data, "> ");
	ss_buf_free(&b);
	ss_mask_free(m);
}

static void test_many_occurrences(void **state)
{
	enum { N = 10000 };
	struct ss_mask *m = ss_mask_new();
	struct ss_buf in, want;
	char *r;
	size_t i;

	(void)state;
	assert_non_null(m);
	assert_int_equal(ss_mask_add(m, "repeat-me"), SS_OK);
	ss_buf_init(&in, 0);
	ss_buf_init(&want, 0);
	for (i = 0; i < N; i++) {
		assert_int_equal(ss_buf_adds(&in, i % 2 ? "repeat-me " : "repeat-merepeat-me\n"),
				 SS_OK);
		assert_int_equal(ss_buf_adds(&want, i % 2 ? "*** " : "***\n"), SS_OK);
	}
	r = redact(m, in.data);
	assert_string_equal(r, want.data);
	free(r);
	ss_buf_free(&in);
	ss_buf_free(&want);
	ss_mask_free(m);
}

static void test_global(void **state)
{
	struct ss_mask *g = ss_mask_global();

	(void)state;
	assert_non_null(g);
	assert_ptr_equal(g, ss_mask_global());
	assert_int_equal(ss_mask_add(g, "global-secret"), SS_OK);
	assert_redacts(ss_mask_global(), "[global-secret]", "[***]");
}

/* ---- threads ---- */

enum { THREADS = 4, PER_THREAD = 2000 };

struct worker {
	struct ss_mask *m;
	int id;
	int bad;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	char v[64], text[128], *r;
	int i;

	for (i = 0; i < PER_THREAD; i++) {
		snprintf(v, sizeof(v), "thread-%d-value-%d", w->id, i);
		if (ss_mask_add(w->m, v) != SS_OK)
			w->bad++;
		snprintf(text, sizeof(text), "<%s>", v);
		r = ss_mask_redact_str(w->m, text);
		if (r == NULL || strcmp(r, "<***>") != 0)
			w->bad++;
		free(r);
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct ss_mask *m = ss_mask_new();
	struct worker w[THREADS];
	pthread_t t[THREADS];
	int i;

	(void)state;
	assert_non_null(m);
	for (i = 0; i < THREADS; i++) {
		w[i].m = m;
		w[i].id = i;
		w[i].bad = 0;
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].bad, 0);
	}
	assert_int_equal(ss_mask_count(m), THREADS * PER_THREAD);
	assert_redacts(m, "thread-3-value-1999 thread-0-value-0", "*** ***");
	ss_mask_free(m);
}

/* The reference: mark every byte inside any occurrence of any value,
 * then replace each maximal marked run by "***" (adjacent occurrences
 * form one run). O(text x values): small inputs only. */
static char *naive_redact(char **values, size_t n, const char *t)
{
	size_t len = strlen(t), i, j, vl, o = 0;
	char *mark = calloc(len + 1, 1), *out = malloc(len + 1);

	assert_non_null(mark);
	assert_non_null(out);
	for (j = 0; j < n; j++) {
		vl = strlen(values[j]);
		for (i = 0; i + vl <= len; i++)
			if (memcmp(t + i, values[j], vl) == 0)
				memset(mark + i, 1, vl);
	}
	for (i = 0; i < len;) {
		if (!mark[i]) {
			out[o++] = t[i++];
			continue;
		}
		memcpy(out + o, "***", 3);
		o += 3;
		while (i < len && mark[i])
			i++;
	}
	out[o] = '\0';
	free(mark);
	return out;
}

static uint64_t rnd(void);

/* Random values and texts checked against the reference. Tiny
 * alphabets give many shared prefixes, edge splits, nested and
 * overlapping occurrences; a wide one with many short values gives nodes
 * with many children (the dense tables). Texts are pieces of values,
 * prefixes of values and random bytes. */
static void test_redact_vs_naive(void **state)
{
	enum { ROUNDS = 600, MAXV = 400, TEXT = 600 };
	static const char *const alphabets[] = {"ab", "abc",
						"abcdefghijklmnopqrstuvwxyz0123456789-_"};
	char *values[MAXV], text[TEXT + 1], *got, *want;
	size_t round, n, i, j, len, vl;

	(void)state;
	for (round = 0; round < ROUNDS; round++) {
		struct ss_mask *m = ss_mask_new();
		const char *alpha = alphabets[round % 3];
		size_t na = strlen(alpha), maxv = round % 3 == 2 ? MAXV : 40;

		assert_non_null(m);
		n = 1 + rnd() % maxv;
		for (i = 0; i < n; i++) {
			len = SS_MASK_MIN_LEN + rnd() % (round % 3 == 2 ? 3 : 9);
			values[i] = malloc(len + 1);
			assert_non_null(values[i]);
			for (j = 0; j < len; j++)
				values[i][j] = alpha[rnd() % na];
			values[i][len] = '\0';
			assert_int_equal(ss_mask_add(m, values[i]), SS_OK);
		}
		len = 0;
		while (len < TEXT - 16 && rnd() % 64) {
			const char *v = values[rnd() % n];

			switch (rnd() % 4) {
			case 0: /* a whole value */
			case 1: /* a prefix of one */
				vl = strlen(v);
				if (rnd() % 4 == 1)
					vl = 1 + rnd() % vl;
				memcpy(text + len, v, vl);
				len += vl;
				break;
			case 2: text[len++] = ' '; break;
			default: text[len++] = alpha[rnd() % na]; break;
			}
		}
		text[len] = '\0';
		got = redact(m, text);
		want = naive_redact(values, n, text);
		if (strcmp(got, want) != 0)
			fail_msg("round %zu: text \"%s\"\n got \"%s\"\nwant \"%s\"", round, text,
				 got, want);
		assert_int_equal(ss_mask_contains(m, text, len), strcmp(text, want) != 0);
		free(got);
		free(want);
		for (i = 0; i < n; i++)
			free(values[i]);
		ss_mask_free(m);
	}
}

/* ---- performance sanity (prints figures, asserts only correctness) ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* nvalues random values (after prefix) and a text of about text_size
 * bytes: lowercase words with a value planted every ~1 KB. The expected
 * redaction is built alongside. Prints registration and redaction
 * figures. */
static void perf_run(const char *label, const char *prefix, size_t nvalues, size_t text_size)
{
	static const char alpha[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct ss_mask *m = ss_mask_new();
	char **values = calloc(nvalues, sizeof(*values));
	struct ss_buf text, want, out;
	size_t i, j, len, planted = 0, plen = strlen(prefix);
	double t0, t1, t2;

	assert_non_null(m);
	assert_non_null(values);
	for (i = 0; i < nvalues; i++) {
		len = plen + 16 + rnd() % 33;
		values[i] = malloc(len + 1);
		assert_non_null(values[i]);
		memcpy(values[i], prefix, plen);
		for (j = plen; j < len; j++)
			values[i][j] = alpha[rnd() % 64];
		values[i][len] = '\0';
	}
	t0 = now();
	for (i = 0; i < nvalues; i++)
		assert_int_equal(ss_mask_add(m, values[i]), SS_OK);
	t1 = now();
	ss_buf_init(&text, 0);
	ss_buf_init(&want, 0);
	while (text.len < text_size) {
		/* Words, some of them near misses: the prefix alone. */
		for (j = 0; j < 100; j++) {
			const char *w = j % 10 == 0 && plen ? prefix : "lorem";
			assert_int_equal(ss_buf_adds(&text, w), SS_OK);
			assert_int_equal(ss_buf_adds(&want, w), SS_OK);
			assert_int_equal(ss_buf_addf(&text, "%c", "aeiou "[rnd() % 6]), SS_OK);
			assert_int_equal(ss_buf_add(&want, text.data + text.len - 1, 1), SS_OK);
		}
		assert_int_equal(ss_buf_adds(&text, values[rnd() % nvalues]), SS_OK);
		assert_int_equal(ss_buf_adds(&want, "***"), SS_OK);
		assert_int_equal(ss_buf_adds(&text, " "), SS_OK);
		assert_int_equal(ss_buf_adds(&want, " "), SS_OK);
		planted++;
	}
	ss_buf_init(&out, 0);
	t2 = now();
	assert_int_equal(ss_mask_redact(m, text.data, text.len, &out), SS_OK);
	t2 = now() - t2;
	assert_int_equal(out.len, want.len);
	assert_memory_equal(out.data, want.data, want.len);
	print_message("perf %-14s %zu values registered in %.1f ms; redacted %.2f MB "
		      "(%zu planted) in %.1f ms = %.1f MB/s\n",
		      label, nvalues, (t1 - t0) * 1e3, (double)text.len / 1e6, planted, t2 * 1e3,
		      (double)text.len / 1e6 / t2);
	for (i = 0; i < nvalues; i++)
		free(values[i]);
	free(values);
	ss_buf_free(&text);
	ss_buf_free(&want);
	ss_buf_free(&out);
	ss_mask_free(m);
}

static void test_perf(void **state)
{
	(void)state;
	perf_run("random", "", 50000, 1000000);
	/* Every value shares a prefix that also appears in the text. */
	perf_run("shared-prefix", "AKIAEXAMPLE", 50000, 1000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_register_table),
	    cmocka_unit_test(test_dedupe),
	    cmocka_unit_test(test_emitter_set_later),
	    cmocka_unit_test(test_add_json_tree),
	    cmocka_unit_test(test_redact_table),
	    cmocka_unit_test(test_redact_empty_registry),
	    cmocka_unit_test(test_redact_appends_and_nul),
	    cmocka_unit_test(test_many_occurrences),
	    cmocka_unit_test(test_redact_vs_naive),
	    cmocka_unit_test(test_global),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_perf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
