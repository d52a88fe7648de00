/* fuzz_mask.c - the mask registry and redaction through it, against a
 * naive model.
 *
 * Input: one byte of flags, then pieces separated by 0xFE bytes: up to
 * seven values to register (flags & 7 of them; NUL bytes allowed), then
 * the text. The text to redact is the text piece with every value
 * planted after it in turn (text v0 text v1 text ...), so every value
 * occurs in it.
 *
 * The model computes, from mask.h's rules alone, the set of strings a
 * value registers (the whole value and each non-empty line with a
 * trailing '\r' cut; for a JSON object or array also its compact text and
 * each string leaf with its lines; each kept only when it is at least
 * SS_MASK_MIN_LEN bytes once trimmed and not true/false/null/{/}), marks
 * every byte of the text covered by an occurrence of any of them, and
 * builds the expected output: each maximal run of covered bytes becomes
 * one SS_MASK_REPLACEMENT. The checks:
 * - ss_mask_redact's output equals the model's, byte for byte, so no
 *   byte of any occurrence of a registered value survives (and nothing
 *   else is touched);
 * - ss_mask_count equals the size of the model's set, and
 *   ss_mask_contains says whether anything is covered;
 * - the emitter announced exactly the model's set, in order, one
 *   "::add-mask::" line each, whose unescaped text is the value;
 * - redacting into a buffer that is too small fails with SS_ERR_TOOBIG
 *   and leaves the buffer as it was.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/mask.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_VALUES 7
#define MAX_TEXT   (64 * 1024)

static void check(int ok)
{
	if (!ok)
		abort();
}

/* ---- the model's set ---- */

struct str {
	char *p;
	size_t n;
};

struct set {
	struct str *v;
	size_t n, cap;
};

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int worth(const char *p, size_t n)
{
	static const char *const lit[] = {"true", "false", "null", "{", "}"};
	size_t i;

	while (n > 0 && is_space(p[0]))
		p++, n--;
	while (n > 0 && is_space(p[n - 1]))
		n--;
	if (n < SS_MASK_MIN_LEN)
		return 0;
	for (i = 0; i < 5; i++)
		if (strlen(lit[i]) == n && memcmp(lit[i], p, n) == 0)
			return 0;
	return 1;
}

static void set_add(struct set *s, const char *p, size_t n)
{
	size_t i;

	if (!worth(p, n))
		return;
	for (i = 0; i < s->n; i++)
		if (s->v[i].n == n && memcmp(s->v[i].p, p, n) == 0)
			return;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 32;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		check(s->v != NULL);
	}
	s->v[s->n].p = malloc(n + 1);
	check(s->v[s->n].p != NULL);
	memcpy(s->v[s->n].p, p, n);
	s->v[s->n].n = n;
	s->n++;
}

static void set_free(struct set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i].p);
	free(s->v);
}

static void model_text(struct set *s, const char *p, size_t n)
{
	size_t i = 0, j, l;

	set_add(s, p, n);
	while (i < n) {
		for (j = i; j < n && p[j] != '\n'; j++)
			;
		l = j - i;
		if (l > 0 && p[i + l - 1] == '\r')
			l--;
		if (l > 0)
			set_add(s, p + i, l);
		i = j + 1;
	}
}

static void model_leaves(struct set *s, const cJSON *v)
{
	const cJSON *c;

	if (cJSON_IsString(v) && v->valuestring != NULL) {
		model_text(s, v->valuestring, strlen(v->valuestring));
		return;
	}
	if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
		return;
	for (c = v->child; c != NULL; c = c->next)
		model_leaves(s, c);
}

static void model_value(struct set *s, const char *p, size_t n)
{
	const char *end = NULL;
	cJSON *root;
	char *compact;
	size_t i;

	model_text(s, p, n);
	for (i = 0; i < n && is_space(p[i]); i++)
		;
	if (i == n || (p[i] != '{' && p[i] != '['))
		return;
	root = cJSON_ParseWithLengthOpts(p, n, &end, 0);
	if (root == NULL)
		return;
	for (i = (size_t)(end - p); i < n && is_space(p[i]); i++)
		;
	if ((cJSON_IsObject(root) || cJSON_IsArray(root)) && i == n) {
		compact = cJSON_PrintUnformatted(root);
		check(compact != NULL);
		set_add(s, compact, strlen(compact));
		free(compact);
		model_leaves(s, root);
	}
	cJSON_Delete(root);
}

/* ---- the model's redaction ---- */

static void model_redact(const struct set *s, const char *t, size_t n, struct ss_buf *out,
			 int *any)
{
	unsigned char *cov = calloc(n + 1, 1);
	const char *hit;
	size_t i, at;

	check(cov != NULL);
	*any = 0;
	for (i = 0; i < s->n; i++) {
		for (at = 0; at + s->v[i].n <= n; at = (size_t)(hit - t) + 1) {
			hit = memmem(t + at, n - at, s->v[i].p, s->v[i].n);
			if (hit == NULL)
				break;
			memset(cov + (hit - t), 1, s->v[i].n);
			*any = 1;
		}
	}
	for (i = 0; i < n; i++) {
		if (!cov[i]) {
			check(ss_buf_addc(out, t[i]) == SS_OK);
			continue;
		}
		check(ss_buf_adds(out, SS_MASK_REPLACEMENT) == SS_OK);
		while (i + 1 < n && cov[i + 1])
			i++;
	}
	free(cov);
}

/* ---- the announcements ---- */

static void check_announced(const struct set *s, const char *a, size_t n)
{
	static const char pre[] = "::add-mask::";
	size_t k = 0, i = 0, j, o;
	char *v;

	while (i < n) {
		const char *nl = memchr(a + i, '\n', n - i);

		check(nl != NULL);
		j = (size_t)(nl - a);
		check(j - i >= sizeof(pre) - 1 && memcmp(a + i, pre, sizeof(pre) - 1) == 0);
		check(memchr(a + i, '\r', j - i) == NULL);
		/* The runner's UnescapeData: %0D, %0A, then %25. */
		v = malloc(j - i + 1);
		check(v != NULL);
		o = 0;
		for (i += sizeof(pre) - 1; i < j; i++) {
			if (a[i] == '%' && j - i >= 3 && memcmp(a + i, "%0D", 3) == 0)
				v[o++] = '\r', i += 2;
			else if (a[i] == '%' && j - i >= 3 && memcmp(a + i, "%0A", 3) == 0)
				v[o++] = '\n', i += 2;
			else if (a[i] == '%') {
				/* Every other '%' we write is "%25". */
				check(j - i >= 3 && memcmp(a + i, "%25", 3) == 0);
				v[o++] = '%', i += 2;
			} else
				v[o++] = a[i];
		}
		check(k < s->n);
		check(s->v[k].n == o && memcmp(s->v[k].p, v, o) == 0);
		free(v);
		k++;
		i = j + 1;
	}
	check(k == s->n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *pieces[MAX_VALUES + 1];
	size_t lens[MAX_VALUES + 1], nvals, np = 0, i, start, tlen = 0;
	struct ss_mask *m;
	struct set model = {0};
	struct ss_buf text, got, want, small;
	char *ann = NULL, *red;
	size_t annlen = 0;
	FILE *em = NULL;
	uint8_t flags;
	int any;
	enum ss_rc rc;

	/* The model is quadratic: keep inputs small. */
	if (size < 1 || size > 4096)
		return 0;
	flags = data[0];
	nvals = flags & 7;
	start = 1;
	for (i = 1; i <= size && np < nvals + 1; i++) {
		if (i == size || (data[i] == 0xFE && np < nvals)) {
			pieces[np] = (const char *)data + start;
			lens[np] = i - start;
			np++;
			start = i + 1;
		}
	}
	if (np < nvals + 1)
		return 0;
	/* The last piece, the text, runs to the end of the input. */
	lens[nvals] = size - (size_t)((const uint8_t *)pieces[nvals] - data);

	m = ss_mask_new();
	check(m != NULL);
	if (flags & 8) {
		em = open_memstream(&ann, &annlen);
		check(em != NULL);
		ss_mask_set_emitter(m, em);
	}
	for (i = 0; i < nvals; i++) {
		const char *v = pieces[i];
		size_t n = lens[i];

		if ((flags & 0x30) == 0x10 && memchr(v, '\0', n) == NULL) {
			char *z = ss_strndup(v, n);

			check(z != NULL);
			rc = ss_mask_add(m, z);
			free(z);
		} else if ((flags & 0x30) == 0x20) {
			/* A parsed tree's leaves (what the backends register). */
			cJSON *j = NULL;

			if (ss_json_parse(v, n, &j) == SS_OK) {
				rc = ss_mask_add_json(m, j);
				model_leaves(&model, j);
			} else {
				rc = SS_OK;
			}
			ss_json_delete_secret(j);
			check(rc == SS_OK);
			continue;
		} else {
			rc = ss_mask_addn(m, v, n);
		}
		check(rc == SS_OK);
		model_value(&model, v, n);
	}
	if ((flags & 0x40) && em == NULL) {
		/* Announce what was registered so far, late. */
		em = open_memstream(&ann, &annlen);
		check(em != NULL);
		ss_mask_set_emitter(m, em);
	}
	check(ss_mask_count(m) == model.n);

	/* text v0 text v1 ... text */
	ss_buf_init(&text, MAX_TEXT);
	for (i = 0; i <= nvals; i++) {
		if (ss_buf_add(&text, pieces[nvals], lens[nvals]) != SS_OK ||
		    (i < nvals && ss_buf_add(&text, pieces[i], lens[i]) != SS_OK))
			break;
	}
	tlen = text.len;

	ss_buf_init(&got, 0);
	ss_buf_init(&want, 0);
	check(ss_buf_adds(&got, "pre") == SS_OK && ss_buf_adds(&want, "pre") == SS_OK);
	check(ss_mask_redact(m, text.data, tlen, &got) == SS_OK);
	model_redact(&model, text.data, tlen, &want, &any);
	check(got.len == want.len && memcmp(got.data, want.data, got.len) == 0);
	check(ss_mask_contains(m, text.data, tlen) == any);

	/* Too small an output buffer: refused, untouched. */
	if (got.len > 8) {
		ss_buf_init(&small, got.len - 4);
		check(ss_buf_adds(&small, "ab") == SS_OK);
		check(ss_mask_redact(m, text.data, tlen, &small) == SS_ERR_TOOBIG);
		check(small.len == 2 && memcmp(small.data, "ab", 3) == 0);
		ss_buf_free(&small);
	}
	/* The C-string form agrees up to the first NUL. */
	red = ss_mask_redact_str(m, text.data);
	check(red != NULL);
	if (memchr(text.data, '\0', tlen) == NULL)
		check(strlen(red) == got.len - 3 && memcmp(red, got.data + 3, got.len - 3) == 0);
	free(red);

	if (em != NULL) {
		check(fflush(em) == 0);
		check_announced(&model, ann, annlen);
	}
	ss_mask_free(m);
	if (em != NULL)
		fclose(em);
	free(ann);
	ss_buf_free(&text);
	ss_buf_free(&got);
	ss_buf_free(&want);
	set_free(&model);
	return 0;
}
