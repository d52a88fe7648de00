/* test_ghcmd.c - workflow command escaping and file command records. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ghcmd.h"
#include "core/banned.h"

#define DELIM_LEN 45 /* "ghadelimiter_" + 32 hex */

struct escape_case {
	const char *in;
	const char *data;
	const char *prop;
};

static const struct escape_case escape_cases[] = {
    {"", "", ""},
    {"plain text", "plain text", "plain text"},
    {"100%", "100%25", "100%25"},
    {"%25", "%2525", "%2525"},
    {"%0A", "%250A", "%250A"},
    {"a\nb", "a%0Ab", "a%0Ab"},
    {"a\r\nb", "a%0D%0Ab", "a%0D%0Ab"},
    {"\n\n", "%0A%0A", "%0A%0A"},
    {"k:v,w", "k:v,w", "k%3Av%2Cw"},
    {"::add-mask::x", "::add-mask::x", "%3A%3Aadd-mask%3A%3Ax"},
    {"%\r\n:,", "%25%0D%0A:,", "%25%0D%0A%3A%2C"},
    {"caf\xc3\xa9 \xe2\x9c\x93", "caf\xc3\xa9 \xe2\x9c\x93", "caf\xc3\xa9 \xe2\x9c\x93"},
};

static void test_escape_table(void **state)
{
	struct ss_buf b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(escape_cases) / sizeof(escape_cases[0]); i++) {
		ss_buf_init(&b, 0);
		assert_int_equal(ss_buf_adds(&b, "<"), SS_OK);
		assert_int_equal(ss_ghcmd_escape_data(&b, escape_cases[i].in), SS_OK);
		assert_string_equal(b.data + 1, escape_cases[i].data);
		ss_buf_reset(&b);
		assert_int_equal(ss_ghcmd_escape_prop(&b, escape_cases[i].in), SS_OK);
		assert_string_equal(b.data, escape_cases[i].prop);
		ss_buf_free(&b);
	}
}

static void test_escape_datan_nul(void **state)
{
	struct ss_buf b;

	(void)state;
	ss_buf_init(&b, 0);
	assert_int_equal(ss_ghcmd_escape_datan(&b, "a\0%\n", 4), SS_OK);
	assert_int_equal(b.len, 8);
	assert_memory_equal(b.data, "a\0%25%0A", 8);
	ss_buf_free(&b);
}

static void test_escape_toobig_leaves_buffer(void **state)
{
	struct ss_buf b;

	(void)state;
	ss_buf_init(&b, 8);
	assert_int_equal(ss_buf_adds(&b, "ab"), SS_OK);
	assert_int_equal(ss_ghcmd_escape_data(&b, "%%%"), SS_ERR_TOOBIG);
	assert_string_equal(b.data, "ab");
	assert_int_equal(ss_ghcmd_format(&b, "error", NULL, "0123456789"), SS_ERR_TOOBIG);
	assert_string_equal(b.data, "ab");
	ss_buf_free(&b);
}

struct format_case {
	const char *cmd;
	const char *const *props;
	const char *message;
	enum ss_rc rc;
	const char *want;
};

static const char *const props_file[] = {"file", "a,b:c.txt", "line", "12", NULL};
static const char *const props_null_value[] = {"title", NULL, "line", "3", NULL};
static const char *const props_bad_name[] = {"ti,tle", "x", NULL};
static const char *const props_bad_name2[] = {"", "x", NULL};
static const char *const props_none[] = {NULL};

static const struct format_case format_cases[] = {
    {"add-mask", NULL, "s3cr%t\nline", SS_OK, "::add-mask::s3cr%25t%0Aline\n"},
    {"error", props_file, "bad: thing, 100%", SS_OK,
     "::error file=a%2Cb%3Ac.txt,line=12::bad: thing, 100%25\n"},
    {"warning", props_null_value, "m", SS_OK, "::warning line=3::m\n"},
    {"notice", props_none, "", SS_OK, "::notice::\n"},
    {"endgroup", NULL, NULL, SS_OK, "::endgroup::\n"},
    {"", NULL, "x", SS_ERR_INVALID, NULL},
    {"add mask", NULL, "x", SS_ERR_INVALID, NULL},
    {"a:b", NULL, "x", SS_ERR_INVALID, NULL},
    {"error", props_bad_name, "x", SS_ERR_INVALID, NULL},
    {"error", props_bad_name2, "x", SS_ERR_INVALID, NULL},
};

static void test_format_table(void **state)
{
	struct ss_buf b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(format_cases) / sizeof(format_cases[0]); i++) {
		const struct format_case *c = &format_cases[i];

		ss_buf_init(&b, 0);
		assert_int_equal(ss_buf_adds(&b, "prefix\n"), SS_OK);
		assert_int_equal(ss_ghcmd_format(&b, c->cmd, c->props, c->message), c->rc);
		if (c->rc == SS_OK)
			assert_string_equal(b.data + 7, c->want);
		else
			assert_string_equal(b.data, "prefix\n");
		ss_buf_free(&b);
	}
}

static void assert_delim_shape(const char *d)
{
	size_t i;

	assert_int_equal(strlen(d), DELIM_LEN);
	assert_memory_equal(d, "ghadelimiter_", 13);
	for (i = 13; i < DELIM_LEN; i++)
		assert_true((d[i] >= '0' && d[i] <= '9') || (d[i] >= 'a' && d[i] <= 'f'));
}

static void test_delimiter_shape_and_size(void **state)
{
	char d[46], small[45];

	(void)state;
	assert_int_equal(ss_ghfile_delimiter(d, sizeof(d), "n", "v", 1), SS_OK);
	assert_delim_shape(d);
	assert_int_equal(ss_ghfile_delimiter(small, sizeof(small), "n", "v", 1), SS_ERR_INVALID);
}

/* Many draws: all distinct (a broken or constant source would repeat). */
static void test_delimiter_many_draws(void **state)
{
	enum { N = 2000 };
	char(*d)[46] = calloc(N, sizeof(*d));
	size_t i, j;

	(void)state;
	assert_non_null(d);
	for (i = 0; i < N; i++) {
		assert_int_equal(ss_ghfile_delimiter(d[i], sizeof(d[i]), "NAME", "", 0), SS_OK);
		assert_delim_shape(d[i]);
	}
	for (i = 0; i < N; i++)
		for (j = i + 1; j < N; j++)
			assert_string_not_equal(d[i], d[j]);
	free(d);
}

/* A scripted random source: draw i fills every byte with script[i]. */
static const unsigned char *script;
static size_t script_len, script_pos;

static enum ss_rc scripted(unsigned char *buf, size_t len)
{
	if (script_pos >= script_len)
		return SS_ERR_IO;
	memset(buf, script[script_pos++], len);
	return SS_OK;
}

static enum ss_rc failing(unsigned char *buf, size_t len)
{
	(void)buf;
	(void)len;
	return SS_ERR_IO;
}

static int restore_random(void **state)
{
	(void)state;
	ss_ghfile_set_random(NULL);
	return 0;
}

static void use_script(const unsigned char *s, size_t n)
{
	script = s;
	script_len = n;
	script_pos = 0;
	ss_ghfile_set_random(scripted);
}

#define D_AA "ghadelimiter_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define D_BB "ghadelimiter_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define D_CC "ghadelimiter_cccccccccccccccccccccccccccccccc"

struct redraw_case {
	const char *name;
	const char *value;
	unsigned char draws[4];
	size_t ndraws;
	enum ss_rc rc;
	const char *want;
	size_t used;
};

static const struct redraw_case redraw_cases[] = {
    /* No collision: the first draw is used. */
    {"N", "value", {0xaa, 0xbb}, 2, SS_OK, D_AA, 1},
    /* The value holds the first draw: a second one is drawn. */
    {"N", "x\n" D_AA "\ny", {0xaa, 0xbb}, 2, SS_OK, D_BB, 2},
    /* The value holds the first two draws. */
    {"N", D_BB "--" D_AA, {0xaa, 0xbb, 0xcc}, 3, SS_OK, D_CC, 3},
    /* The name holds the first draw. */
    {"N" D_AA, "v", {0xaa, 0xbb}, 2, SS_OK, D_BB, 2},
    /* A prefix of the delimiter in the value is no collision. */
    {"N", "ghadelimiter_aaaaaaaa", {0xaa}, 1, SS_OK, D_AA, 1},
    /* The source fails: SS_ERR_IO, nothing usable. */
    {"N", D_AA, {0xaa}, 1, SS_ERR_IO, NULL, 2},
};

static void test_delimiter_redraw(void **state)
{
	char d[46];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(redraw_cases) / sizeof(redraw_cases[0]); i++) {
		const struct redraw_case *c = &redraw_cases[i];

		use_script(c->draws, c->ndraws);
		assert_int_equal(
		    ss_ghfile_delimiter(d, sizeof(d), c->name, c->value, strlen(c->value)), c->rc);
		if (c->want != NULL)
			assert_string_equal(d, c->want);
		assert_int_equal(script_pos, c->used > c->ndraws ? c->ndraws : c->used);
	}
	ss_ghfile_set_random(failing);
	assert_int_equal(ss_ghfile_delimiter(d, sizeof(d), "N", "v", 1), SS_ERR_IO);
	ss_ghfile_set_random(NULL);
}

/* A source that always collides gives up instead of looping forever. */
static void test_delimiter_gives_up(void **state)
{
	static const unsigned char aa[128] = {0};
	char d[46], value[64];

	(void)state;
	memset(value, 0, sizeof(value));
	memcpy(value, "ghadelimiter_00000000000000000000000000000000", DELIM_LEN);
	use_script(aa, sizeof(aa));
	assert_int_not_equal(ss_ghfile_delimiter(d, sizeof(d), "N", value, DELIM_LEN), SS_OK);
	assert_true(script_pos < sizeof(aa));
	ss_ghfile_set_random(NULL);
}

struct name_case {
	const char *name;
	int ok;
};

static const struct name_case name_cases[] = {
    {"plan-json", 1},	{"AWS_SECRET_ACCESS_KEY", 1},
    {"a", 1},		{"with space", 1},
    {"caf\xc3\xa9", 1}, {"a<b", 1},
    {"<a", 1},		{"", 0},
    {"a=b", 0},		{"=", 0},
    {"a\nb", 0},	{"a\rb", 0},
    {"a\r", 0},		{"a<<b", 0},
    {"<<", 0},		{"a<", 0},
    {"<", 0},
};

static void test_name_validation(void **state)
{
	struct ss_buf b;
	size_t i;

	(void)state;
	assert_false(ss_ghfile_name_ok(NULL));
	for (i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++) {
		assert_int_equal(ss_ghfile_name_ok(name_cases[i].name), name_cases[i].ok);
		ss_buf_init(&b, 0);
		assert_int_equal(ss_ghfile_format(&b, name_cases[i].name, "v", 1),
				 name_cases[i].ok ? SS_OK : SS_ERR_INVALID);
		if (!name_cases[i].ok)
			assert_int_equal(b.len, 0);
		ss_buf_free(&b);
	}
}

struct record_case {
	const char *name;
	const char *value;
	size_t value_len;
	const char *want;
	size_t want_len;
};

#define REC(n, v, w)                                                                               \
	{                                                                                          \
		n, v, sizeof(v) - 1, w, sizeof(w) - 1                                              \
	}

static const struct record_case record_cases[] = {
    REC("out", "value", "out<<" D_AA "\nvalue\n" D_AA "\n"),
    REC("out", "", "out<<" D_AA "\n\n" D_AA "\n"),
    REC("out", "\n", "out<<" D_AA "\n\n\n" D_AA "\n"),
    REC("out", "a\r\nb\n", "out<<" D_AA "\na\r\nb\n\n" D_AA "\n"),
    REC("out", "x=y<<EOF", "out<<" D_AA "\nx=y<<EOF\n" D_AA "\n"),
    REC("out", "nul\0byte", "out<<" D_AA "\nnul\0byte\n" D_AA "\n"),
};

static void test_record_exact(void **state)
{
	static const unsigned char aa[] = {0xaa};
	struct ss_buf b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(record_cases) / sizeof(record_cases[0]); i++) {
		const struct record_case *c = &record_cases[i];

		use_script(aa, 1);
		ss_buf_init(&b, 0);
		assert_int_equal(ss_ghfile_format(&b, c->name, c->value, c->value_len), SS_OK);
		assert_int_equal(b.len, c->want_len);
		assert_memory_equal(b.data, c->want, c->want_len);
		ss_buf_free(&b);
	}
	ss_ghfile_set_random(NULL);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	p = malloc((size_t)n + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	p[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return p;
}

static void test_append_file(void **state)
{
	static const unsigned char draws[] = {0xaa, 0xbb};
	char dir[] = "/tmp/test_ghcmd.XXXXXX", path[64];
	const char *want = "one<<" D_AA "\n1\n" D_AA "\ntwo<<" D_BB "\nl1\nl2\n" D_BB "\n";
	struct stat st;
	mode_t old;
	size_t len;
	char *text;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/out", dir);
	old = umask(022);
	use_script(draws, sizeof(draws));
	assert_int_equal(ss_ghfile_append(path, "one", "1", 1), SS_OK);
	assert_int_equal(ss_ghfile_append(path, "two", "l1\nl2", 5), SS_OK);
	umask(old);
	ss_ghfile_set_random(NULL);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	text = read_file(path, &len);
	assert_int_equal(len, strlen(want));
	assert_string_equal(text, want);
	free(text);

	/* An invalid name writes nothing, and creates nothing. */
	assert_int_equal(ss_ghfile_append(path, "bad=name", "x", 1), SS_ERR_INVALID);
	text = read_file(path, &len);
	assert_int_equal(len, strlen(want));
	free(text);
	unlink(path);
	assert_int_equal(ss_ghfile_append(path, "a<<b", "x", 1), SS_ERR_INVALID);
	assert_int_not_equal(access(path, F_OK), 0);

	/* An existing file keeps its mode. */
	assert_int_equal(close(open(path, O_WRONLY | O_CREAT, 0644)), 0);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(ss_ghfile_append(path, "n", "v", 1), SS_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	unlink(path);

	/* A directory that does not exist: SS_ERR_IO. */
	snprintf(path, sizeof(path), "%s/nope/out", dir);
	assert_int_equal(ss_ghfile_append(path, "n", "v", 1), SS_ERR_IO);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape_table),
	    cmocka_unit_test(test_escape_datan_nul),
	    cmocka_unit_test(test_escape_toobig_leaves_buffer),
	    cmocka_unit_test(test_format_table),
	    cmocka_unit_test(test_delimiter_shape_and_size),
	    cmocka_unit_test(test_delimiter_many_draws),
	    cmocka_unit_test_teardown(test_delimiter_redraw, restore_random),
	    cmocka_unit_test_teardown(test_delimiter_gives_up, restore_random),
	    cmocka_unit_test(test_name_validation),
	    cmocka_unit_test_teardown(test_record_exact, restore_random),
	    cmocka_unit_test_teardown(test_append_file, restore_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
