/* fuzz_github_event.c - the GitHub event payload parser, the Link header
 * parser and the commit status description cutter.
 *
 * The input is an event payload, a Link header value and a description
 * at once. Beyond "no crash, no leak, no UB":
 * - ss_github_event_parse: a success gives a PR number in 1..2^31-1 and
 *   a head SHA of 7 to 64 lowercase or uppercase hex digits that is
 *   .pull_request.head.sha of the payload; a failure gives no SHA and a
 *   line in err starting "github: GITHUB_EVENT_PATH: ", and the same
 *   input always gives the same verdict;
 * - ss_github_link_next: a success gives a URL that appears in the
 *   header between '<' and '>' and holds no '>', and the header names
 *   "next"; NOTFOUND and PARSE leave *out NULL;
 * - ss_github_cut_description: at most 140 characters of valid UTF-8
 *   with no control characters.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/github_api.h"
#include "core/buf.h"
#include "core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

static int is_hex(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 7 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return 1;
}

static void check_event(const uint8_t *data, size_t size)
{
	struct ss_buf err, err2;
	char *sha = NULL, *sha2 = NULL;
	long num = -1, num2 = -1;
	enum ss_rc rc, rc2;

	ss_buf_init(&err, 0);
	ss_buf_init(&err2, 0);
	rc = ss_github_event_parse((const char *)data, size, &num, &sha, &err);
	rc2 = ss_github_event_parse((const char *)data, size, &num2, &sha2, &err2);
	check(rc == rc2 && num == num2);
	if (rc == SS_OK) {
		cJSON *doc = NULL;
		const char *want;

		check(sha != NULL && is_hex(sha) && strcmp(sha, sha2) == 0);
		check(num >= 1 && num <= 2147483647L);
		check(err.len == 0);
		/* The SHA is the payload's, not some other string. */
		check(ss_json_parse((const char *)data, size, &doc) == SS_OK);
		want = ss_json_get_string(
		    ss_json_get_object(ss_json_get_object(doc, "pull_request"), "head"), "sha");
		check(want != NULL && strcmp(want, sha) == 0);
		ss_json_delete_secret(doc);
	} else {
		check(sha == NULL && sha2 == NULL && num == 0);
		check(rc == SS_ERR_PARSE || rc == SS_ERR_INVALID || rc == SS_ERR_TOOBIG);
		check(err.len > 0 && strncmp(err.data, "github: GITHUB_EVENT_PATH: ", 27) == 0);
		check(err.data[err.len - 1] == '\n' && memchr(err.data, '\n', err.len - 1) == NULL);
	}
	free(sha);
	free(sha2);
	ss_buf_free(&err);
	ss_buf_free(&err2);
}

static void check_link(const char *s)
{
	char *next = (char *)"sentinel";
	enum ss_rc rc;

	rc = ss_github_link_next(s, &next);
	if (rc == SS_OK) {
		const char *at;
		size_t n;

		check(next != NULL && strchr(next, '>') == NULL);
		n = strlen(next);
		/* "<" URL ">" occurs in the header. */
		for (at = s; (at = strchr(at, '<')) != NULL; at++)
			if (strncmp(at + 1, next, n) == 0 && at[1 + n] == '>')
				break;
		check(at != NULL);
		/* A link with rel=next was found: the word is in the header. */
		check(strcasestr(s, "next") != NULL);
		free(next);
	} else {
		check(rc == SS_ERR_NOTFOUND || rc == SS_ERR_PARSE);
		check(next == NULL);
	}
}

/* Length of the valid UTF-8 character at p, or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned long c;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, c = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, c = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, c = p[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return len;
}

static void check_description(const char *s)
{
	struct ss_buf out;
	const unsigned char *p;
	size_t i = 0, k, chars = 0;
	long n;

	ss_buf_init(&out, 0);
	check(ss_github_cut_description(s, &out) == SS_OK);
	p = (const unsigned char *)out.data;
	while (i < out.len) {
		k = utf8_len(p + i, out.len - i);
		check(k > 0);
		check(!(k == 1 && (p[i] < 0x20 || p[i] == 0x7f)));
		i += k;
		chars++;
	}
	check(chars <= 140);
	n = ss_github_utf8_chars(out.data, out.len);
	check(n == (long)chars);
	/* Short valid text without control characters passes unchanged. */
	n = ss_github_utf8_chars(s, strlen(s));
	if (n >= 0 && n <= 140) {
		for (i = 0; s[i] != '\0' && !((unsigned char)s[i] < 0x20 || s[i] == 0x7f); i++)
			;
		if (s[i] == '\0')
			check(strcmp(out.data, s) == 0);
	}
	ss_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	check_event(data, size);
	s = ss_strndup((const char *)data, size);
	check(s != NULL);
	check_link(s);
	check_description(s);
	free(s);
	return 0;
}
