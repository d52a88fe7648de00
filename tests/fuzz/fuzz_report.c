/* fuzz_report.c - the report renderers (JSON, text, Markdown, status
 * line) over a fuzzed report.
 *
 * Input: one flags byte, then records separated by 0xFE bytes; the first
 * byte of a record says what it is:
 *   't' NAME [0x00 ACCOUNT [0x00 REGION]]  a new target
 *   'f' / 's' MESSAGE                      the current target failed / was skipped
 *   'd' SECRET                             a delete of SECRET
 *   other: SECRET 0x00 DESIRED 0x00 CURRENT an entry from ss_diff_add (an
 *          absent part is an absent side)
 * Names are any bytes: the renderers must cope with names no config
 * would allow, as secrets' own names and keys come from Vault and AWS.
 *
 * Checks:
 * - JSON: valid UTF-8, parses (strictly), version 1, the command, one
 *   element per target with the right status, entry count and counts,
 *   totals equal ss_report_counts;
 * - text: valid UTF-8; every line starts with "target ", "  " plus an
 *   action mark, "Plan: " or "Result: ", and no byte is a control
 *   character but the '\n' ending it (no injected line, no terminal
 *   escape, no C1 control, no bidirectional override);
 * - Markdown: valid UTF-8, at most max_len bytes, every line complete,
 *   table rows with the right number of unescaped cells, no HTML tag
 *   but our own (details/summary), nothing but our heading starts a line
 *   with '#';
 * - the status line: at most 140 bytes, one line;
 * - a target's stored error (ss_report_fail) is one line of valid UTF-8
 *   without control characters.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/diff.h"
#include "core/json.h"
#include "core/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_TARGETS 6

static void check(int ok)
{
	if (!ok)
		abort();
}

/* Length of the valid UTF-8 character at p (n bytes left) and its code
 * point, or 0. */
static size_t utf8_at(const unsigned char *p, size_t n, unsigned long *cp)
{
	size_t len, i;
	unsigned long c;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
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
	*cp = c;
	return len;
}

/* Valid UTF-8; with strict, also no control character (C0 but '\n',
 * DEL, C1) and no bidirectional control. */
static void check_utf8(const char *s, size_t n, int strict)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long cp = 0;
	size_t i = 0, k;

	while (i < n) {
		k = utf8_at(p + i, n - i, &cp);
		check(k > 0);
		if (strict) {
			check(!(cp < 0x20 && cp != '\n') && cp != 0x7f && !(cp >= 0x80 && cp < 0xa0));
			check(!(cp >= 0x202a && cp <= 0x202e) && !(cp >= 0x2066 && cp <= 0x2069) &&
			      cp != 0x200e && cp != 0x200f && cp != 0x2028 && cp != 0x2029);
		}
		i += k;
	}
}

static void check_json(const struct ss_report *r, const struct ss_buf *b)
{
	struct ss_report_counts c;
	const cJSON *targets, *t, *counts;
	cJSON *doc = NULL;
	long long v;
	size_t i;

	check_utf8(b->data, b->len, 0);
	check(ss_json_parse(b->data, b->len, &doc) == SS_OK);
	check(ss_json_get_int64(doc, "version", &v) == SS_OK && v == 1);
	check(ss_json_get_string(doc, "command") != NULL &&
	      strcmp(ss_json_get_string(doc, "command"), r->command) == 0);
	targets = ss_json_get_array(doc, "targets");
	check(targets != NULL && cJSON_GetArraySize(targets) == (int)r->n);
	for (i = 0, t = targets->child; i < r->n; i++, t = t->next) {
		const struct ss_report_target *rt = &r->targets[i];
		const cJSON *changes = ss_json_get_array(t, "changes");
		const char *st = ss_json_get_string(t, "status");

		check(st != NULL && strcmp(st, rt->status == SS_TARGET_OK       ? "ok"
					       : rt->status == SS_TARGET_FAILED ? "failed"
										: "skipped") == 0);
		check(changes != NULL &&
		      cJSON_GetArraySize(changes) == (int)(rt->diff ? rt->diff->n : 0));
		check(ss_json_get_string(t, "name") != NULL);
		check(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(t, "error")) == (rt->error == NULL));
	}
	ss_report_counts(r, &c);
	counts = ss_json_get_object(doc, "counts");
	check(ss_json_get_int64(counts, "create", &v) == SS_OK && (size_t)v == c.create);
	check(ss_json_get_int64(counts, "update", &v) == SS_OK && (size_t)v == c.update);
	check(ss_json_get_int64(counts, "delete", &v) == SS_OK && (size_t)v == c.del);
	check(ss_json_get_int64(counts, "unchanged", &v) == SS_OK && (size_t)v == c.unchanged);
	check(ss_json_get_int64(counts, "failed", &v) == SS_OK && (size_t)v == c.failed);
	ss_json_delete_secret(doc);
}

static int starts(const char *l, size_t n, const char *p)
{
	size_t k = strlen(p);

	return n >= k && memcmp(l, p, k) == 0;
}

static void check_text(const struct ss_buf *b)
{
	size_t i = 0, n;

	check(b->len > 0 && b->data[b->len - 1] == '\n');
	check_utf8(b->data, b->len, 1);
	while (i < b->len) {
		const char *l = b->data + i, *nl = memchr(l, '\n', b->len - i);

		check(nl != NULL);
		n = (size_t)(nl - l);
		check(starts(l, n, "target ") || starts(l, n, "  + ") || starts(l, n, "  ~ ") ||
		      starts(l, n, "  - ") || starts(l, n, "  = ") || starts(l, n, "Plan: ") ||
		      starts(l, n, "Result: "));
		i += n + 1;
	}
}

/* Count the '|' that are not escaped by a backslash. */
static size_t cells(const char *l, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (l[i] == '\\')
			i++;
		else if (l[i] == '|')
			k++;
	}
	return k;
}

static void check_markdown(const struct ss_buf *b, size_t max_len)
{
	static const char *const tags[] = {"<details>", "</details>", "<summary>", "</summary>"};
	size_t i = 0, n, t;

	if (max_len > 0)
		check(b->len <= max_len);
	check_utf8(b->data, b->len, 0);
	check(b->len == 0 || b->data[b->len - 1] == '\n');
	while (i < b->len) {
		const char *l = b->data + i, *nl = memchr(l, '\n', b->len - i), *p;

		check(nl != NULL);
		n = (size_t)(nl - l);
		check(memchr(l, '\r', n) == NULL);
		if (n > 0 && l[0] == '|') {
			size_t k = cells(l, n);

			check(k == 5 || k == 9);
		}
		if (n > 0 && l[0] == '#')
			check(starts(l, n, "### fuzz report"));
		for (p = l; (p = memchr(p, '<', (size_t)(nl - p))) != NULL; p++) {
			for (t = 0; t < 4; t++)
				if (starts(p, (size_t)(nl - p), tags[t]))
					break;
			check(t < 4);
		}
		i += n + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const commands[] = {"plan", "pipeline", "verify", "plan"};
	struct ss_report *r;
	struct ss_report_target *t = NULL;
	struct ss_buf out;
	size_t i, start, max_len;
	uint8_t flags;

	if (size < 1)
		return 0;
	flags = data[0];
	r = ss_report_new(commands[flags & 3], (flags & 4) != 0);
	check(r != NULL);
	for (start = i = 1; i <= size; i++) {
		const char *rec, *a, *b;
		size_t n, al, bl;
		char *copy;

		if (i < size && data[i] != 0xFE)
			continue;
		rec = (const char *)data + start;
		n = i - start;
		start = i + 1;
		if (n == 0)
			continue;
		copy = ss_strndup(rec + 1, n - 1);
		check(copy != NULL);
		if (rec[0] == 't' && r->n < MAX_TARGETS) {
			/* copy holds the record's bytes, NULs included, plus
			 * a terminator: its parts are C strings. */
			a = memchr(copy, '\0', n - 1);
			b = a ? memchr(a + 1, '\0', n - 1 - (size_t)(a + 1 - copy)) : NULL;
			check(ss_report_add_target(r, copy, a ? a + 1 : NULL, b ? b + 1 : NULL, &t) ==
			      SS_OK);
			t->diff = ss_diff_new();
			check(t->diff != NULL);
			t->seconds = (double)(unsigned char)rec[0] / 7.0;
		} else if (t != NULL && (rec[0] == 'f' || rec[0] == 's')) {
			check(ss_report_fail(t, rec[0] == 'f' ? SS_TARGET_FAILED : SS_TARGET_SKIPPED,
					     copy) == SS_OK);
		} else if (t != NULL && rec[0] == 'd') {
			check(ss_diff_add_action(t->diff, copy, NULL, SS_DIFF_DELETE) == SS_OK);
		} else if (t != NULL) {
			enum ss_rc rc;

			a = memchr(rec, '\0', n);
			b = a ? memchr(a + 1, '\0', n - (size_t)(a + 1 - rec)) : NULL;
			al = a ? (size_t)((b ? b : rec + n) - (a + 1)) : 0;
			bl = b ? (size_t)(rec + n - (b + 1)) : 0;
			free(copy);
			copy = ss_strndup(rec, a ? (size_t)(a - rec) : n);
			check(copy != NULL);
			rc = ss_diff_add(t->diff, copy, (flags & 8) ? "prefix/x" : NULL,
					 a ? a + 1 : NULL, al, b ? b + 1 : NULL, bl);
			check(rc == SS_OK || (a == NULL && b == NULL && rc == SS_ERR_INVALID) ||
			      rc == SS_ERR_TOOBIG);
		}
		free(copy);
	}
	if (r->n > 0 && (flags & 16))
		ss_diff_sort(r->targets[0].diff);
	/* A stored error is one line of valid text. */
	for (i = 0; i < r->n; i++) {
		const char *e = r->targets[i].error;

		if (e != NULL) {
			check_utf8(e, strlen(e), 1);
			check(strchr(e, '\n') == NULL);
		}
	}

	ss_buf_init(&out, 0);
	check(ss_report_json(r, &out) == SS_OK);
	check_json(r, &out);

	ss_buf_reset(&out);
	check(ss_report_text(r, (flags & 32) != 0, &out) == SS_OK);
	check_text(&out);

	ss_buf_reset(&out);
	max_len = (flags & 64) ? (size_t)(data[size - 1]) * 8 : 0;
	check(ss_report_markdown(r, "fuzz report", max_len, &out) == SS_OK);
	check_markdown(&out, max_len);

	ss_buf_reset(&out);
	check(ss_report_status_line(r, &out) == SS_OK);
	check(out.len <= 140 && memchr(out.data, '\n', out.len) == NULL);

	ss_buf_free(&out);
	ss_report_free(r);
	return 0;
}
