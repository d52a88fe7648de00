#include "json.h"
#include "utf8.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

/* Objects up to this many members are compared with a quadratic scan
 * that needs no memory; bigger ones are sorted by key first. */
#define SMALL_OBJECT 32

#define TYPE(v) ((v)->type & 0xFF)

/* 2^53: every double at least this large is an integer. */
#define EXACT_INT_MAX 9007199254740992.0

/* Without libm (the Makefile does not link it). */
static double dabs(double d)
{
	return d < 0 ? -d : d;
}

static int is_integral(double d)
{
	return isfinite(d) && (dabs(d) >= EXACT_INT_MAX || d == (double)(long long)d);
}

/* ---- the pre-scan ----------------------------------------------------- */


/* One pass over the text before cJSON sees it, without recursion: the
 * nesting depth (cJSON's own limit, 1000, would recurse deeper than a
 * small thread stack allows), NUL bytes and \u0000 escapes, which
 * cJSON would silently cut a string at, and bytes that are not UTF-8
 * (RFC 8259 8.1), which cJSON passes through: Secrets Manager, GitHub
 * and every JSON reader downstream would refuse them, so such text is
 * refused here, where the error can name its source. */
static enum ss_rc prescan(const char *buf, size_t len)
{
	size_t i, k;
	int depth = 0, in_string = 0;

	for (i = 0; i < len; i++) {
		char c = buf[i];

		if (c == '\0')
			return SS_ERR_PARSE;
		if ((unsigned char)c >= 0x80) {
			k = ss_utf8_char((const unsigned char *)buf + i, len - i, NULL);
			if (k == 0)
				return SS_ERR_PARSE;
			i += k - 1;
			continue;
		}
		if (in_string) {
			if (c == '"') {
				in_string = 0;
			} else if (c == '\\') {
				if (i + 1 >= len)
					return SS_ERR_PARSE;
				if (buf[i + 1] == 'u' && len - i >= 6 &&
				    memcmp(buf + i + 2, "0000", 4) == 0)
					return SS_ERR_PARSE;
				i++;
			}
			continue;
		}
		if (c == '"') {
			in_string = 1;
		} else if (c == '[' || c == '{') {
			if (++depth > SS_JSON_MAX_DEPTH)
				return SS_ERR_TOOBIG;
		} else if (c == ']' || c == '}') {
			depth--;
		}
	}
	return SS_OK;
}

#define DEPTH_TEXT_(n) #n
#define DEPTH_TEXT(n)  DEPTH_TEXT_(n)

const char *ss_json_parse_reason(const char *buf, size_t len)
{
	size_t i, k;

	if (buf == NULL || len == 0)
		return "it is empty";
	switch (prescan(buf, len)) {
	case SS_OK: return "it is not one well-formed JSON value (malformed or cut short)";
	case SS_ERR_TOOBIG:
		return "it nests arrays and objects deeper than " DEPTH_TEXT(SS_JSON_MAX_DEPTH) " levels";
	default: break;
	}
	for (i = 0; i < len; i++) {
		if (buf[i] == '\0')
			return "it holds a NUL byte";
		if ((unsigned char)buf[i] >= 0x80) {
			k = ss_utf8_char((const unsigned char *)buf + i, len - i, NULL);
			if (k == 0)
				return "it holds bytes that are not UTF-8";
			i += k - 1;
		}
	}
	return "it holds the escape \\u0000";
}

/* ---- number literals -------------------------------------------------- */

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_number_char(char c)
{
	return is_digit(c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* A decimal number literal split into its parts; its value is
 * (-1)^neg * digits(ip ++ fp) * 10^(exp - fl). */
struct declit {
	int neg;
	const char *ip;
	size_t il;
	const char *fp;
	size_t fl;
	long long exp;
};

/* Parse an RFC 8259 number literal of exactly len bytes. The exponent
 * saturates far beyond anything a double or a sane literal holds. */
static int declit_parse(const char *s, size_t len, struct declit *d)
{
	size_t i = 0;
	int eneg = 0;

	memset(d, 0, sizeof(*d));
	if (i < len && s[i] == '-') {
		d->neg = 1;
		i++;
	}
	if (i >= len || !is_digit(s[i]))
		return 0;
	d->ip = s + i;
	if (s[i] == '0') {
		i++;
	} else {
		while (i < len && is_digit(s[i]))
			i++;
	}
	d->il = (size_t)(s + i - d->ip);
	if (i < len && s[i] == '.') {
		i++;
		d->fp = s + i;
		while (i < len && is_digit(s[i]))
			i++;
		d->fl = (size_t)(s + i - d->fp);
		if (d->fl == 0)
			return 0;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			eneg = s[i++] == '-';
		if (i >= len || !is_digit(s[i]))
			return 0;
		while (i < len && is_digit(s[i])) {
			if (d->exp < 1000000000000000LL)
				d->exp = d->exp * 10 + (s[i] - '0');
			i++;
		}
		if (eneg)
			d->exp = -d->exp;
	}
	return i == len;
}

static char declit_digit(const struct declit *d, size_t k)
{
	if (k < d->il)
		return d->ip[k];
	return d->fp != NULL ? d->fp[k - d->il] : '0';
}

/* Canonical form: significant digits [lo, hi) of ip ++ fp and the power
 * of ten of the last one; lo == hi means zero. */
static void declit_canon(const struct declit *d, size_t *lo, size_t *hi, long long *e)
{
	size_t n = d->il + d->fl;

	*lo = 0;
	while (*lo < n && declit_digit(d, *lo) == '0')
		(*lo)++;
	*hi = n;
	while (*hi > *lo && declit_digit(d, *hi - 1) == '0')
		(*hi)--;
	*e = d->exp - (long long)d->fl + (long long)(n - *hi);
}

/* Two number literals with the same decimal value (exactly, not as
 * doubles); other Raw texts compare byte by byte. */
static int raw_equal(const char *a, const char *b)
{
	struct declit da, db;
	size_t alo, ahi, blo, bhi, k;
	long long ae, be;

	if (a == NULL || b == NULL)
		return a == b;
	if (!declit_parse(a, strlen(a), &da) || !declit_parse(b, strlen(b), &db))
		return strcmp(a, b) == 0;
	declit_canon(&da, &alo, &ahi, &ae);
	declit_canon(&db, &blo, &bhi, &be);
	if (alo == ahi || blo == bhi)
		return alo == ahi && blo == bhi;
	if (da.neg != db.neg || ae != be || ahi - alo != bhi - blo)
		return 0;
	for (k = 0; k < ahi - alo; k++)
		if (declit_digit(&da, alo + k) != declit_digit(&db, blo + k))
			return 0;
	return 1;
}

/* ---- post-processing of cJSON's tree ---------------------------------- */

struct walk {
	const char *buf;
	size_t len;
	size_t pos; /* where the next number literal is looked for */
};

/* The next number literal at or after w->pos, outside strings. cJSON
 * parsed the same text in the same order, so the k-th literal found is
 * the k-th number node of a pre-order walk. */
static int next_number(struct walk *w, const char **start, size_t *tlen)
{
	size_t i = w->pos;

	while (i < w->len) {
		char c = w->buf[i];

		if (c == '"') {
			for (i++; i < w->len && w->buf[i] != '"'; i++)
				if (w->buf[i] == '\\')
					i++;
			i++;
		} else if (c == '-' || is_digit(c)) {
			size_t s = i;

			while (i < w->len && is_number_char(w->buf[i]))
				i++;
			*start = w->buf + s;
			*tlen = i - s;
			w->pos = i;
			return 1;
		} else {
			i++;
		}
	}
	w->pos = i;
	return 0;
}

/* Check a number node against its literal; keep the literal as a Raw
 * node when the double does not hold its value (see json.h). */
static enum ss_rc fix_number(cJSON *v, struct walk *w)
{
	const char *tok = NULL;
	size_t tlen = 0;
	struct declit d;
	int integer, keep = 0;
	char tmp[400];

	if (!next_number(w, &tok, &tlen) || !declit_parse(tok, tlen, &d))
		return SS_ERR_PARSE;
	integer = d.fl == 0 && memchr(tok, 'e', tlen) == NULL && memchr(tok, 'E', tlen) == NULL;
	if (!isfinite(v->valuedouble)) {
		keep = 1;
	} else if (integer && d.il > 15) {
		/* %.0f prints a double's exact integer value. */
		int n = snprintf(tmp, sizeof(tmp), "%.0f", v->valuedouble);

		if (n < 0 || (size_t)n >= sizeof(tmp))
			return SS_ERR_INTERNAL;
		keep = (size_t)n != tlen || memcmp(tmp, tok, tlen) != 0;
	}
	if (keep) {
		/* cJSON_Delete frees it through cJSON's allocator hooks. */
		v->valuestring = cJSON_malloc(tlen + 1);
		if (v->valuestring == NULL)
			return SS_ERR_NOMEM;
		memcpy(v->valuestring, tok, tlen);
		v->valuestring[tlen] = '\0';
		v->type = cJSON_Raw | (v->type & cJSON_StringIsConst);
	}
	return SS_OK;
}

/* Exchange the values of two nodes, keeping their keys and links. */
static void swap_values(cJSON *a, cJSON *b)
{
	cJSON tmp = *a;
	int ka = a->type & cJSON_StringIsConst, kb = b->type & cJSON_StringIsConst;

	a->type = (b->type & ~cJSON_StringIsConst) | ka;
	a->child = b->child;
	a->valuestring = b->valuestring;
	a->valueint = b->valueint;
	a->valuedouble = b->valuedouble;
	b->type = (tmp.type & ~cJSON_StringIsConst) | kb;
	b->child = tmp.child;
	b->valuestring = tmp.valuestring;
	b->valueint = tmp.valueint;
	b->valuedouble = tmp.valuedouble;
}

struct member {
	const char *key;
	size_t idx;
	cJSON *item;
};

static int member_cmp(const void *pa, const void *pb)
{
	const struct member *a = pa, *b = pb;
	int c = strcmp(a->key, b->key);

	if (c != 0)
		return c;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* The members of obj (those with a key) sorted by key, then position.
 * *out is malloc'd; NULL with *n == 0 for an empty object. */
static enum ss_rc sorted_members(const cJSON *obj, struct member **out, size_t *n)
{
	const cJSON *c;
	size_t cnt = 0, i = 0;
	struct member *m;

	*out = NULL;
	*n = 0;
	for (c = obj->child; c != NULL; c = c->next)
		if (c->string != NULL)
			cnt++;
	if (cnt == 0)
		return SS_OK;
	m = calloc(cnt, sizeof(*m));
	if (m == NULL)
		return SS_ERR_NOMEM;
	for (c = obj->child; c != NULL; c = c->next) {
		if (c->string == NULL)
			continue;
		m[i].key = c->string;
		m[i].idx = i;
		m[i].item = (cJSON *)c;
		i++;
	}
	qsort(m, cnt, sizeof(*m), member_cmp);
	*out = m;
	*n = cnt;
	return SS_OK;
}

/* Make each key of obj unique: the first occurrence takes the value of
 * the last one, the others are deleted (Python dict semantics). */
static enum ss_rc dedupe(cJSON *obj)
{
	struct member *m = NULL;
	size_t n = 0, i, j, k;
	enum ss_rc rc;

	if (obj->child == NULL || obj->child->next == NULL)
		return SS_OK;
	rc = sorted_members(obj, &m, &n);
	if (rc != SS_OK)
		return rc;
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && strcmp(m[j].key, m[i].key) == 0; j++)
			;
		if (j - i == 1)
			continue;
		swap_values(m[i].item, m[j - 1].item);
		for (k = i + 1; k < j; k++)
			ss_json_delete_secret(cJSON_DetachItemViaPointer(obj, m[k].item));
	}
	free(m);
	return SS_OK;
}

/* Pre-order over the tree in document order; recursion is bounded by
 * the pre-scan's depth check. */
static enum ss_rc walk_tree(cJSON *v, struct walk *w)
{
	cJSON *c;
	enum ss_rc rc;

	switch (TYPE(v)) {
	case cJSON_Number: return fix_number(v, w);
	case cJSON_Array:
	case cJSON_Object:
		for (c = v->child; c != NULL; c = c->next) {
			rc = walk_tree(c, w);
			if (rc != SS_OK)
				return rc;
		}
		return TYPE(v) == cJSON_Object ? dedupe(v) : SS_OK;
	default: return SS_OK;
	}
}

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

enum ss_rc ss_json_parse(const char *buf, size_t len, cJSON **out)
{
	cJSON *v = NULL;
	const char *end = NULL;
	struct walk w;
	enum ss_rc rc;

	*out = NULL;
	if (buf == NULL || len == 0)
		return SS_ERR_PARSE;
	rc = prescan(buf, len);
	if (rc != SS_OK)
		return rc;
	v = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (v == NULL || end == NULL || end < buf || end > buf + len) {
		rc = SS_ERR_PARSE;
		goto out;
	}
	for (; end < buf + len; end++) {
		if (!is_ws(*end)) {
			rc = SS_ERR_PARSE;
			goto out;
		}
	}
	w.buf = buf;
	w.len = len;
	w.pos = 0;
	rc = walk_tree(v, &w);
out:
	if (rc != SS_OK)
		ss_json_delete_secret(v);
	else
		*out = v;
	return rc;
}

/* ---- equality --------------------------------------------------------- */

static int equal_at(const cJSON *a, const cJSON *b, int depth);

/* The last member of obj named key, or NULL. */
static const cJSON *last_member(const cJSON *obj, const char *key)
{
	const cJSON *c, *found = NULL;

	for (c = obj->child; c != NULL; c = c->next)
		if (c->string != NULL && strcmp(c->string, key) == 0)
			found = c;
	return found;
}

/* Number of members of obj. */
static size_t count_members(const cJSON *obj)
{
	const cJSON *c;
	size_t n = 0;

	for (c = obj->child; c != NULL; c = c->next)
		n++;
	return n;
}

static int object_equal_small(const cJSON *a, const cJSON *b, int depth)
{
	const cJSON *c;
	size_t da = 0, db = 0;

	for (c = a->child; c != NULL; c = c->next) {
		const cJSON *o;

		if (c->string == NULL || last_member(a, c->string) != c)
			continue;
		da++;
		o = last_member(b, c->string);
		if (o == NULL || !equal_at(c, o, depth + 1))
			return 0;
	}
	for (c = b->child; c != NULL; c = c->next)
		if (c->string != NULL && last_member(b, c->string) == c)
			db++;
	return da == db;
}

static int object_equal_sorted(const cJSON *a, const cJSON *b, int depth)
{
	struct member *ma = NULL, *mb = NULL;
	size_t na = 0, nb = 0, i = 0, j = 0;
	int eq = 0;

	if (sorted_members(a, &ma, &na) != SS_OK || sorted_members(b, &mb, &nb) != SS_OK)
		goto out;
	for (;;) {
		/* Move to the last entry of the current key on each side. */
		while (i + 1 < na && strcmp(ma[i].key, ma[i + 1].key) == 0)
			i++;
		while (j + 1 < nb && strcmp(mb[j].key, mb[j + 1].key) == 0)
			j++;
		if (i >= na || j >= nb)
			break;
		if (strcmp(ma[i].key, mb[j].key) != 0 ||
		    !equal_at(ma[i].item, mb[j].item, depth + 1))
			goto out;
		i++;
		j++;
	}
	eq = i >= na && j >= nb;
out:
	free(ma);
	free(mb);
	return eq;
}

static int equal_at(const cJSON *a, const cJSON *b, int depth)
{
	const cJSON *x, *y;

	if (a == NULL || b == NULL)
		return a == b;
	if (TYPE(a) != TYPE(b))
		return 0;
	switch (TYPE(a)) {
	case cJSON_False:
	case cJSON_True:
	case cJSON_NULL: return 1;
	case cJSON_Number: return a->valuedouble == b->valuedouble;
	case cJSON_String:
		if (a->valuestring == NULL || b->valuestring == NULL)
			return a->valuestring == b->valuestring;
		return strcmp(a->valuestring, b->valuestring) == 0;
	case cJSON_Raw: return raw_equal(a->valuestring, b->valuestring);
	case cJSON_Array:
		if (depth > SS_JSON_MAX_DEPTH)
			return 0;
		for (x = a->child, y = b->child; x != NULL && y != NULL; x = x->next, y = y->next)
			if (!equal_at(x, y, depth + 1))
				return 0;
		return x == NULL && y == NULL;
	case cJSON_Object:
		if (depth > SS_JSON_MAX_DEPTH)
			return 0;
		if (count_members(a) <= SMALL_OBJECT && count_members(b) <= SMALL_OBJECT)
			return object_equal_small(a, b, depth);
		return object_equal_sorted(a, b, depth);
	default: return 0;
	}
}

int ss_json_equal(const cJSON *a, const cJSON *b)
{
	return equal_at(a, b, 1);
}

static int depth_ok(const cJSON *v, int level, int max)
{
	const cJSON *c;

	if (TYPE(v) != cJSON_Array && TYPE(v) != cJSON_Object)
		return 1;
	if (level + 1 > max)
		return 0;
	for (c = v->child; c != NULL; c = c->next)
		if (!depth_ok(c, level + 1, max))
			return 0;
	return 1;
}

int ss_json_depth_within(const cJSON *v, int max_depth)
{
	if (v == NULL)
		return 1;
	return depth_ok(v, 0, max_depth);
}

/* ---- printing --------------------------------------------------------- */

static enum ss_rc print_string(const char *s, struct ss_buf *b)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;
	enum ss_rc rc;

	rc = ss_buf_addc(b, '"');
	for (; rc == SS_OK && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[7];
		size_t n = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		rc = ss_buf_add(b, run, (size_t)(s - run));
		if (rc != SS_OK)
			break;
		run = s + 1;
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
		}
		rc = ss_buf_add(b, esc, n);
	}
	if (rc == SS_OK)
		rc = ss_buf_add(b, run, (size_t)(s - run));
	if (rc == SS_OK)
		rc = ss_buf_addc(b, '"');
	return rc;
}

/* The shortest %.Ng (N = 15..17) that reads back as d; integral values
 * below 1e21 in full, as JavaScript prints them. secretsync never calls
 * setlocale, so the decimal point is '.'. */
static enum ss_rc print_number(double d, struct ss_buf *b)
{
	char tmp[64];
	int prec;

	if (!isfinite(d))
		return ss_buf_adds(b, "null");
	if (is_integral(d) && dabs(d) < 1e21)
		return ss_buf_addf(b, "%.0f", d);
	for (prec = 15; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			return ss_buf_adds(b, tmp);
	}
	return ss_buf_addf(b, "%.17g", d);
}

static enum ss_rc print_at(const cJSON *v, struct ss_buf *b, int depth)
{
	const cJSON *c;
	enum ss_rc rc = SS_OK;
	int obj = TYPE(v) == cJSON_Object;

	switch (TYPE(v)) {
	case cJSON_False: return ss_buf_adds(b, "false");
	case cJSON_True: return ss_buf_adds(b, "true");
	case cJSON_NULL: return ss_buf_adds(b, "null");
	case cJSON_Number: return print_number(v->valuedouble, b);
	case cJSON_String:
		if (v->valuestring == NULL)
			return SS_ERR_INVALID;
		return print_string(v->valuestring, b);
	case cJSON_Raw:
		if (v->valuestring == NULL || v->valuestring[0] == '\0')
			return SS_ERR_INVALID;
		return ss_buf_adds(b, v->valuestring);
	case cJSON_Array:
	case cJSON_Object:
		if (depth > SS_JSON_MAX_DEPTH)
			return SS_ERR_TOOBIG;
		rc = ss_buf_addc(b, obj ? '{' : '[');
		for (c = v->child; rc == SS_OK && c != NULL; c = c->next) {
			if (c != v->child)
				rc = ss_buf_addc(b, ',');
			if (rc == SS_OK && obj) {
				if (c->string == NULL)
					return SS_ERR_INVALID;
				rc = print_string(c->string, b);
				if (rc == SS_OK)
					rc = ss_buf_addc(b, ':');
			}
			if (rc == SS_OK)
				rc = print_at(c, b, depth + 1);
		}
		if (rc == SS_OK)
			rc = ss_buf_addc(b, obj ? '}' : ']');
		return rc;
	default: return SS_ERR_INVALID;
	}
}

enum ss_rc ss_json_print_buf(const cJSON *v, struct ss_buf *b)
{
	if (v == NULL)
		return SS_ERR_INVALID;
	return print_at(v, b, 1);
}

enum ss_rc ss_json_print(const cJSON *v, char **out)
{
	struct ss_buf b;
	enum ss_rc rc;

	*out = NULL;
	ss_buf_init(&b, 0);
	rc = ss_json_print_buf(v, &b);
	if (rc == SS_OK)
		rc = ss_buf_take(&b, out);
	ss_buf_free(&b);
	return rc;
}

enum ss_rc ss_json_secret_string(const cJSON *v, char **out)
{
	*out = NULL;
	if (v != NULL && TYPE(v) == cJSON_String) {
		if (v->valuestring == NULL)
			return SS_ERR_INVALID;
		*out = ss_strdup(v->valuestring);
		return *out ? SS_OK : SS_ERR_NOMEM;
	}
	return ss_json_print(v, out);
}

/* ---- freeing ---------------------------------------------------------- */

void ss_json_delete_secret(cJSON *v)
{
	cJSON *head = v, *tail = v, *n;

	if (v == NULL)
		return;
	/* A work list threaded through ->next: each node's children are
	 * moved to its end, so no recursion and no extra memory. */
	while (tail->next != NULL)
		tail = tail->next;
	while (head != NULL) {
		n = head;
		head = n->next;
		if (head == NULL)
			tail = NULL;
		if (!(n->type & cJSON_IsReference) && n->child != NULL) {
			cJSON *last = n->child;

			while (last->next != NULL)
				last = last->next;
			if (tail != NULL)
				tail->next = n->child;
			else
				head = n->child;
			tail = last;
		}
		n->child = NULL;
		n->next = NULL;
		n->prev = NULL;
		if (!(n->type & cJSON_IsReference) && n->valuestring != NULL)
			ss_memzero(n->valuestring, strlen(n->valuestring));
		if (!(n->type & cJSON_StringIsConst) && n->string != NULL)
			ss_memzero(n->string, strlen(n->string));
		n->valuedouble = 0;
		n->valueint = 0;
		cJSON_Delete(n);
	}
}

/* ---- field access ----------------------------------------------------- */

static const cJSON *member(const cJSON *obj, const char *key)
{
	if (obj == NULL || key == NULL || !cJSON_IsObject(obj))
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

const char *ss_json_get_string(const cJSON *obj, const char *key)
{
	const cJSON *m = member(obj, key);

	return m != NULL && cJSON_IsString(m) ? m->valuestring : NULL;
}

const cJSON *ss_json_get_object(const cJSON *obj, const char *key)
{
	const cJSON *m = member(obj, key);

	return cJSON_IsObject(m) ? m : NULL;
}

const cJSON *ss_json_get_array(const cJSON *obj, const char *key)
{
	const cJSON *m = member(obj, key);

	return cJSON_IsArray(m) ? m : NULL;
}

enum ss_rc ss_json_get_number(const cJSON *obj, const char *key, double *out)
{
	const cJSON *m = member(obj, key);

	if (m == NULL)
		return SS_ERR_NOTFOUND;
	if (!cJSON_IsNumber(m))
		return SS_ERR_INVALID;
	*out = m->valuedouble;
	return SS_OK;
}

enum ss_rc ss_json_get_int64(const cJSON *obj, const char *key, long long *out)
{
	double d = 0;
	enum ss_rc rc = ss_json_get_number(obj, key, &d);

	if (rc != SS_OK)
		return rc;
	if (!is_integral(d) || dabs(d) > EXACT_INT_MAX)
		return SS_ERR_INVALID;
	*out = (long long)d;
	return SS_OK;
}

enum ss_rc ss_json_get_bool(const cJSON *obj, const char *key, int *out)
{
	const cJSON *m = member(obj, key);

	if (m == NULL)
		return SS_ERR_NOTFOUND;
	if (!cJSON_IsBool(m))
		return SS_ERR_INVALID;
	*out = cJSON_IsTrue(m) ? 1 : 0;
	return SS_OK;
}
