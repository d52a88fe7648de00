/* config.c - the YAML walk of the config loader: the schema of SPEC §4,
 * defaults, cross-references and the target dependency order.
 *
 * The file is loaded with libyaml's document API (nodes keep their start
 * marks), then walked section by section against a fixed schema. Every
 * problem is recorded with the mark of the node it is about and the walk
 * goes on, so one run lists them all; they are sorted by position at the
 * end. The walk never descends into a node the schema does not know,
 * which with the depth cap on merge keys and the node budget bounds the
 * work on hostile input (aliases make the document a graph, possibly with
 * cycles).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "banned.h"

#define MERGE_DEPTH_MAX 8
#define NODE_BUDGET 1000000L
#define QUOTE_MAX 60       /* bytes of a raw scalar shown in a message */
#define MSG_MAX 1200
#define PATH_LEN 400
#define NAME_MAX_LEN 128
#define CYCLE_SHOWN_MAX 600

struct cerr {
	unsigned long line, col;
	size_t seq;
	char *msg;
};

struct pair {
	yaml_node_t *k;
	yaml_node_t *v;
	int merged;   /* came from a "<<" merge key */
	int dropped;  /* a duplicate, or overridden by an explicit key */
};

struct map {
	struct pair *p;
	size_t n;
};

/* What the graph phase needs to know about a target besides the config:
 * the nodes to point errors at. Parallel to cfg->targets in file order. */
struct tdraft {
	yaml_node_t *key;
	yaml_node_t **inodes;  /* the node of each import */
	size_t *iidx;          /* its index in the file's list */
};

struct ld {
	const char *file;
	yaml_document_t *doc;
	ss_config_env_fn *env;
	void *env_ctx;
	struct cerr *errs;
	size_t nerrs, errcap;
	int nomem;
	int over_budget;
	long budget;
	struct ss_config *cfg;
	struct tdraft *td;
	yaml_node_t **skeys;  /* key node of each source */
};

struct quote {
	char s[QUOTE_MAX * 4 + 16];
};

/* --- messages --------------------------------------------------------- */

static void vreport(struct ld *l, const yaml_mark_t *m, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void vreport(struct ld *l, const yaml_mark_t *m, const char *fmt, va_list ap)
{
	char msg[MSG_MAX];
	struct cerr *e;

	if (l->nerrs == l->errcap) {
		size_t cap = l->errcap ? l->errcap * 2 : 16;
		struct cerr *n = realloc(l->errs, cap * sizeof(*n));

		if (n == NULL) {
			l->nomem = 1;
			return;
		}
		l->errs = n;
		l->errcap = cap;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized) */
	e = &l->errs[l->nerrs];
	e->line = m != NULL ? (unsigned long)m->line + 1 : 1;
	e->col = m != NULL ? (unsigned long)m->column + 1 : 1;
	e->seq = l->nerrs;
	e->msg = ss_strdup(msg);
	if (e->msg == NULL) {
		l->nomem = 1;
		return;
	}
	l->nerrs++;
}

static void report(struct ld *l, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report(struct ld *l, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(l, n != NULL ? &n->start_mark : NULL, fmt, ap);
	va_end(ap);
}

static void report_mark(struct ld *l, const yaml_mark_t *m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report_mark(struct ld *l, const yaml_mark_t *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(l, m, fmt, ap);
	va_end(ap);
}

/* s[0..len) as a one-line double-quoted string, cut after QUOTE_MAX bytes
 * (on a UTF-8 character boundary). */
static const char *quote_bytes(const char *s, size_t len, struct quote *q)
{
	size_t i, o = 0, shown = len;
	static const char hex[] = "0123456789abcdef";

	if (shown > QUOTE_MAX) {
		shown = QUOTE_MAX;
		while (shown > 0 && ((unsigned char)s[shown] & 0xc0) == 0x80)
			shown--;
	}
	q->s[o++] = '"';
	for (i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			q->s[o++] = '\\';
			q->s[o++] = (char)c;
		} else if (c == '\n') {
			q->s[o++] = '\\';
			q->s[o++] = 'n';
		} else if (c == '\t') {
			q->s[o++] = '\\';
			q->s[o++] = 't';
		} else if (c < 0x20 || c == 0x7f) {
			q->s[o++] = '\\';
			q->s[o++] = 'x';
			q->s[o++] = hex[c >> 4];
			q->s[o++] = hex[c & 15];
		} else {
			q->s[o++] = (char)c;
		}
	}
	q->s[o++] = '"';
	if (shown < len) {
		memcpy(q->s + o, "...", 3);
		o += 3;
	}
	q->s[o] = '\0';
	return q->s;
}

/* The raw text of a scalar node as written in the file, quoted. Never the
 * expanded value: that may hold a secret from the environment. */
static const char *raw(const yaml_node_t *n, struct quote *q)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return "(not a scalar)";
	return quote_bytes((const char *)n->data.scalar.value, n->data.scalar.length, q);
}

static int is_simple_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > NAME_MAX_LEN)
		return 0;
	if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') ||
	      (s[0] >= '0' && s[0] <= '9') || s[0] == '_'))
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

/* Append n bytes of s to the path in dst (length *o), cutting at PATH_LEN. */
static void path_put(char *dst, size_t *o, const char *s, size_t n)
{
	if (n > PATH_LEN - 1 - *o)
		n = PATH_LEN - 1 - *o;
	memcpy(dst + *o, s, n);
	*o += n;
	dst[*o] = '\0';
}

/* parent + "." + key, with key quoted unless it is a simple name. */
static void path_key(char *dst, const char *parent, const char *key, size_t klen)
{
	struct quote q;
	size_t o = 0;

	dst[0] = '\0';
	path_put(dst, &o, parent, strlen(parent));
	if (parent[0] != '\0')
		path_put(dst, &o, ".", 1);
	if (is_simple_name(key, klen)) {
		path_put(dst, &o, key, klen);
	} else {
		const char *shown = quote_bytes(key, klen, &q);

		path_put(dst, &o, shown, strlen(shown));
	}
}

static void path_index(char *dst, const char *parent, size_t i)
{
	char num[32];
	size_t o = 0;

	snprintf(num, sizeof(num), "[%zu]", i);
	dst[0] = '\0';
	path_put(dst, &o, parent, strlen(parent));
	path_put(dst, &o, num, strlen(num));
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[65];

	if (la > 64 || lb > 64)
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* Whether cand is close enough to word to suggest it: one edit for short
 * words, two for longer ones, and never a rewrite of most of it. */
static int near_enough(const char *word, const char *cand, size_t *best)
{
	size_t wl = strlen(word), cl = strlen(cand);
	size_t limit = (wl >= 6 && cl >= 6) ? 2 : 1;
	size_t d = edit_distance(word, cand);

	if (d > limit || d >= *best || d * 2 >= wl || d * 2 >= cl)
		return 0;
	*best = d;
	return 1;
}

/* The closest candidate within a small edit distance, or NULL. */
static const char *suggest(const char *word, const char *const *cands, size_t n)
{
	size_t i, best = 99;
	const char *pick = NULL;

	for (i = 0; i < n; i++)
		if (near_enough(word, cands[i], &best))
			pick = cands[i];
	return pick;
}

/* --- nodes ------------------------------------------------------------ */

static yaml_node_t *node_at(struct ld *l, int index)
{
	return yaml_document_get_node(l->doc, index);
}

static int spend(struct ld *l, const yaml_node_t *n)
{
	if (l->over_budget)
		return -1;
	if (--l->budget < 0) {
		l->over_budget = 1;
		report(l, n, "the config is too large, or its aliases repeat too much "
		       "(at most %ld values after alias expansion)", NODE_BUDGET);
		return -1;
	}
	return 0;
}

static int is_plain(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static int scalar_is(const yaml_node_t *n, const char *s)
{
	size_t len = strlen(s);

	return n->type == YAML_SCALAR_NODE && n->data.scalar.length == len &&
	       memcmp(n->data.scalar.value, s, len) == 0;
}

static int is_null(const yaml_node_t *n)
{
	return is_plain(n) && (n->data.scalar.length == 0 || scalar_is(n, "~") ||
			       scalar_is(n, "null") || scalar_is(n, "Null") ||
			       scalar_is(n, "NULL"));
}

static const char *kind(const yaml_node_t *n)
{
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a list";
	if (is_null(n))
		return "nothing (null)";
	if (is_plain(n)) {
		const char *s = (const char *)n->data.scalar.value;
		size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;

		if (scalar_is(n, "true") || scalar_is(n, "false"))
			return "a boolean";
		if (s[i] != '\0' && strspn(s + i, "0123456789") == strlen(s + i))
			return "a number";
	}
	return "a string";
}

static const char *key_str(const yaml_node_t *k)
{
	return (const char *)k->data.scalar.value;
}

/* --- mappings ----------------------------------------------------------- */

static int pairs_push(struct ld *l, struct map *m, size_t *cap, yaml_node_t *k,
		      yaml_node_t *v, int merged)
{
	if (m->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct pair *np = realloc(m->p, ncap * sizeof(*np));

		if (np == NULL) {
			l->nomem = 1;
			return -1;
		}
		m->p = np;
		*cap = ncap;
	}
	m->p[m->n].k = k;
	m->p[m->n].v = v;
	m->p[m->n].merged = merged;
	m->p[m->n].dropped = 0;
	m->n++;
	return 0;
}

static int collect(struct ld *l, yaml_node_t *node, const char *path, int depth,
		   int merged, struct map *m, size_t *cap)
{
	yaml_node_pair_t *p;

	for (p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(l, p->key);
		yaml_node_t *v = node_at(l, p->value);

		if (k == NULL || v == NULL || spend(l, k) != 0)
			return -1;
		if (is_plain(k) && scalar_is(k, "<<")) {
			/* YAML merge key: the pairs of the mapping (or of each
			 * mapping in the list) count as if written here, below
			 * the keys written explicitly. */
			if (depth >= MERGE_DEPTH_MAX) {
				report(l, k, "%s: merge keys (<<) nested too deeply", path);
				continue;
			}
			if (v->type == YAML_MAPPING_NODE) {
				if (collect(l, v, path, depth + 1, 1, m, cap) != 0)
					return -1;
			} else if (v->type == YAML_SEQUENCE_NODE) {
				yaml_node_item_t *it;

				for (it = v->data.sequence.items.start;
				     it < v->data.sequence.items.top; it++) {
					yaml_node_t *mv = node_at(l, *it);

					if (mv == NULL || spend(l, mv) != 0)
						return -1;
					if (mv->type != YAML_MAPPING_NODE) {
						report(l, mv, "%s: a merge key (<<) takes mappings, "
						       "got %s", path, kind(mv));
						continue;
					}
					if (collect(l, mv, path, depth + 1, 1, m, cap) != 0)
						return -1;
				}
			} else {
				report(l, v, "%s: a merge key (<<) takes a mapping or a list "
				       "of mappings (like <<: *base), got %s", path, kind(v));
			}
			continue;
		}
		if (pairs_push(l, m, cap, k, v, merged) != 0)
			return -1;
	}
	return 0;
}

static int pair_cmp(const void *a, const void *b)
{
	const struct pair *x = *(const struct pair *const *)a;
	const struct pair *y = *(const struct pair *const *)b;
	size_t lx = x->k->data.scalar.length, ly = y->k->data.scalar.length;
	int c = memcmp(x->k->data.scalar.value, y->k->data.scalar.value, lx < ly ? lx : ly);

	if (c != 0)
		return c;
	if (lx != ly)
		return lx < ly ? -1 : 1;
	/* Keep file (collection) order within a group. */
	return x < y ? -1 : (x > y ? 1 : 0);
}

static void map_free(struct map *m)
{
	free(m->p);
	m->p = NULL;
	m->n = 0;
}

/* Collect the pairs of a mapping node: keys must be scalars; a duplicate
 * explicit key is an error; a merged key loses to an explicit one and to
 * an earlier merged one. Returns 0, or -1 when the walk must stop (out of
 * memory or budget): then m is empty. */
static int map_open(struct ld *l, yaml_node_t *node, const char *path, struct map *m)
{
	size_t cap = 0, i, j;
	struct pair **idx = NULL;
	int rc = -1;

	m->p = NULL;
	m->n = 0;
	if (collect(l, node, path, 0, 0, m, &cap) != 0)
		goto out;
	for (i = 0; i < m->n; i++) {
		yaml_node_t *k = m->p[i].k;

		if (k->type != YAML_SCALAR_NODE) {
			report(l, k, "%s: a key must be a plain string, got %s", path, kind(k));
			m->p[i].dropped = 1;
		} else if (memchr(k->data.scalar.value, '\0', k->data.scalar.length) != NULL) {
			report(l, k, "%s: a key must not contain a NUL byte", path);
			m->p[i].dropped = 1;
		}
	}
	rc = 0;
	if (m->n < 2)
		goto out;
	idx = malloc(m->n * sizeof(*idx));
	if (idx == NULL) {
		l->nomem = 1;
		rc = -1;
		goto out;
	}
	for (i = j = 0; i < m->n; i++)
		if (!m->p[i].dropped)
			idx[j++] = &m->p[i];
	qsort(idx, j, sizeof(*idx), pair_cmp);
	for (i = 0; i < j;) {
		size_t e = i + 1, g;
		struct pair *keep = NULL;

		while (e < j && idx[e]->k->data.scalar.length == idx[i]->k->data.scalar.length &&
		       memcmp(idx[e]->k->data.scalar.value, idx[i]->k->data.scalar.value,
			      idx[i]->k->data.scalar.length) == 0)
			e++;
		for (g = i; g < e; g++)
			if (!idx[g]->merged) {
				keep = idx[g];
				break;
			}
		if (keep == NULL)
			keep = idx[i];
		for (g = i; g < e; g++) {
			struct pair *p = idx[g];
			char kp[PATH_LEN];

			if (p == keep)
				continue;
			p->dropped = 1;
			if (p->merged || keep->merged)
				continue;
			path_key(kp, path, key_str(p->k), p->k->data.scalar.length);
			report(l, p->k, "%s: duplicate key (first given at line %lu); remove one",
			       kp, (unsigned long)keep->k->start_mark.line + 1);
		}
		i = e;
	}
out:
	free(idx);
	if (rc != 0)
		map_free(m);
	return rc;
}

static struct pair *map_find(struct map *m, const char *key)
{
	size_t i, len = strlen(key);

	for (i = 0; i < m->n; i++) {
		struct pair *p = &m->p[i];

		if (!p->dropped && p->k->data.scalar.length == len &&
		    memcmp(p->k->data.scalar.value, key, len) == 0)
			return p;
	}
	return NULL;
}

static int in_list(const char *s, size_t len, const char *const *list)
{
	size_t i;

	for (i = 0; list != NULL && list[i] != NULL; i++)
		if (strlen(list[i]) == len && memcmp(list[i], s, len) == 0)
			return 1;
	return 0;
}

/* Report every key not in allowed. goonly lists keys of the Go SecretSync
 * tool that secretsync does not implement; where names the section in
 * "keys allowed in ..." (empty: the top level). */
static void check_keys(struct ld *l, struct map *m, const char *path,
		       const char *const *allowed, const char *const *goonly)
{
	size_t i, n = 0;

	while (allowed[n] != NULL)
		n++;
	for (i = 0; i < m->n; i++) {
		struct pair *p = &m->p[i];
		const char *k;
		size_t klen;
		char kp[PATH_LEN], list[400];
		const char *near;
		size_t j, o = 0;

		if (p->dropped)
			continue;
		k = key_str(p->k);
		klen = p->k->data.scalar.length;
		if (in_list(k, klen, allowed))
			continue;
		if (path[0] == '\0' && klen > 2 && memcmp(k, "x-", 2) == 0) {
			/* "x-name:" at the top level holds YAML anchors for
			 * merge keys (as in docker compose); it is not read. */
			p->dropped = 1;
			continue;
		}
		p->dropped = 1;
		path_key(kp, path, k, klen);
		if (in_list(k, klen, goonly)) {
			report(l, p->k, "%s: a Go SecretSync setting that secretsync does not "
			       "support; remove it", kp);
			continue;
		}
		near = suggest(k, allowed, n);
		if (near != NULL) {
			report(l, p->k, "%s: unknown key; did you mean \"%s\"?", kp, near);
			continue;
		}
		list[0] = '\0';
		for (j = 0; j < n && o < sizeof(list); j++)
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
					      j ? ", " : "", allowed[j]);
		report(l, p->k, "%s: unknown key (allowed %s%s: %s)", kp,
		       path[0] ? "in " : "at the top level", path, list);
	}
}

/* --- scalars ---------------------------------------------------------- */

struct sval {
	char *s;        /* the value after expansion (malloc'd) */
	int expanded;   /* the raw text held a "$" sequence */
	int quoted;     /* not a plain scalar */
};

/* The value of a scalar node, expanded. Returns 0, or -1 after reporting
 * why (never with the value when secret is set). */
static int scalar_value(struct ld *l, yaml_node_t *n, const char *path, int secret,
			struct sval *sv)
{
	const char *s;
	size_t len;
	char why[400];

	sv->s = NULL;
	sv->expanded = 0;
	sv->quoted = 0;
	if (spend(l, n) != 0)
		return -1;
	if (n->type != YAML_SCALAR_NODE) {
		report(l, n, "%s: expected a string, got %s", path, kind(n));
		return -1;
	}
	if (is_null(n)) {
		report(l, n, "%s: no value; give one, or remove the key", path);
		return -1;
	}
	s = (const char *)n->data.scalar.value;
	len = n->data.scalar.length;
	if (memchr(s, '\0', len) != NULL) {
		report(l, n, "%s: contains a NUL byte", path);
		return -1;
	}
	sv->quoted = !is_plain(n);
	if (memchr(s, '$', len) == NULL) {
		sv->s = ss_strndup(s, len);
		if (sv->s == NULL) {
			l->nomem = 1;
			return -1;
		}
		return 0;
	}
	sv->expanded = 1;
	why[0] = '\0';
	switch (ss_config_expand(s, len, l->env, l->env_ctx, &sv->s, why, sizeof(why))) {
	case SS_OK:
		break;
	case SS_ERR_INVALID:
		report(l, n, "%s: %s", path, why);
		return -1;
	default:
		l->nomem = 1;
		return -1;
	}
	(void)secret;
	return 0;
}

static void sval_free(struct sval *sv)
{
	ss_free_secret(sv->s);
	sv->s = NULL;
}

/* " (after expansion)" when the value came through ${...}. */
static const char *exp_note(const struct sval *sv)
{
	return sv->expanded ? " (after expansion)" : "";
}

#define F_SECRET 1
#define F_NONEMPTY 2

/* Set *dst to the string at key (replacing what was there). Returns 1
 * when set, 0 when the key is absent, -1 after an error. *vn gets the
 * value node when not NULL. */
static int get_str(struct ld *l, struct map *m, const char *path, const char *key,
		   int flags, char **dst, yaml_node_t **vn, struct sval *svout)
{
	struct pair *p = map_find(m, key);
	char kp[PATH_LEN];
	struct sval sv;

	if (vn != NULL)
		*vn = NULL;
	if (p == NULL)
		return 0;
	if (vn != NULL)
		*vn = p->v;
	path_key(kp, path, key, strlen(key));
	if (scalar_value(l, p->v, kp, flags & F_SECRET, &sv) != 0)
		return -1;
	if ((flags & F_NONEMPTY) && sv.s[0] == '\0') {
		report(l, p->v, "%s: is empty%s; give a value, or remove the key", kp,
		       exp_note(&sv));
		sval_free(&sv);
		return -1;
	}
	ss_free_secret(*dst);
	*dst = sv.s;
	if (svout != NULL) {
		*svout = sv;
		svout->s = NULL;
	}
	return 1;
}

static int parse_long(const char *s, long *out)
{
	long v = 0;
	size_t i = 0;

	if (s[0] == '+')
		i++;
	if (s[i] == '\0')
		return -1;
	for (; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || v > 100000000000L)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* An integer in [min, max]; hint (NULL: "MIN to MAX") explains a range
 * error. */
static int get_long(struct ld *l, struct map *m, const char *path, const char *key,
		    long min, long max, const char *hint, long *dst)
{
	struct pair *p = map_find(m, key);
	char kp[PATH_LEN];
	struct sval sv;
	struct quote q;
	long v;
	int rc = -1;

	if (p == NULL)
		return 0;
	path_key(kp, path, key, strlen(key));
	if (p->v->type != YAML_SCALAR_NODE) {
		report(l, p->v, "%s: expected an integer, got %s", kp, kind(p->v));
		return -1;
	}
	if (scalar_value(l, p->v, kp, 0, &sv) != 0)
		return -1;
	if (sv.quoted && !sv.expanded) {
		report(l, p->v, "%s: expected an integer, got the string %s (remove the quotes)",
		       kp, raw(p->v, &q));
	} else if (parse_long(sv.s, &v) != 0) {
		report(l, p->v, "%s: expected an integer from %ld to %ld, got %s%s", kp, min,
		       max, raw(p->v, &q), exp_note(&sv));
	} else if (v < min || v > max) {
		char range[64];

		snprintf(range, sizeof(range), "%ld to %ld", min, max);
		if (sv.expanded)
			report(l, p->v, "%s: %s (after expansion) is out of range (%s)", kp,
			       raw(p->v, &q), hint != NULL ? hint : range);
		else
			report(l, p->v, "%s: %ld is out of range (%s)", kp, v,
			       hint != NULL ? hint : range);
	} else {
		*dst = v;
		rc = 1;
	}
	sval_free(&sv);
	return rc;
}

static int get_bool(struct ld *l, struct map *m, const char *path, const char *key, int *dst)
{
	struct pair *p = map_find(m, key);
	char kp[PATH_LEN];
	struct sval sv;
	struct quote q;
	int rc = -1;

	if (p == NULL)
		return 0;
	path_key(kp, path, key, strlen(key));
	if (p->v->type != YAML_SCALAR_NODE) {
		report(l, p->v, "%s: expected true or false, got %s", kp, kind(p->v));
		return -1;
	}
	if (scalar_value(l, p->v, kp, 0, &sv) != 0)
		return -1;
	if (sv.quoted && !sv.expanded) {
		report(l, p->v, "%s: expected true or false, got the string %s "
		       "(remove the quotes)", kp, raw(p->v, &q));
	} else if (strcmp(sv.s, "true") == 0 || strcmp(sv.s, "True") == 0 ||
		   strcmp(sv.s, "TRUE") == 0) {
		*dst = 1;
		rc = 1;
	} else if (strcmp(sv.s, "false") == 0 || strcmp(sv.s, "False") == 0 ||
		   strcmp(sv.s, "FALSE") == 0) {
		*dst = 0;
		rc = 1;
	} else {
		report(l, p->v, "%s: expected true or false, got %s%s", kp, raw(p->v, &q),
		       exp_note(&sv));
	}
	sval_free(&sv);
	return rc;
}

/* One of the NULL-terminated names; *dst gets its index. */
static int get_enum(struct ld *l, struct map *m, const char *path, const char *key,
		    const char *const *names, int *dst)
{
	struct pair *p = map_find(m, key);
	char kp[PATH_LEN], list[200];
	struct sval sv;
	struct quote q;
	size_t i, o = 0;

	if (p == NULL)
		return 0;
	path_key(kp, path, key, strlen(key));
	if (scalar_value(l, p->v, kp, 0, &sv) != 0)
		return -1;
	for (i = 0; names[i] != NULL; i++) {
		if (strcmp(sv.s, names[i]) == 0) {
			*dst = (int)i;
			sval_free(&sv);
			return 1;
		}
		if (o < sizeof(list))
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
					      i == 0 ? "" : (names[i + 1] == NULL ? " or " : ", "),
					      names[i]);
	}
	report(l, p->v, "%s: %s%s is not one of %s", kp, raw(p->v, &q), exp_note(&sv), list);
	sval_free(&sv);
	return -1;
}

/* A list of strings: *items / *nodes get n malloc'd entries. Returns 1,
 * 0 when absent, -1 after an error (the good items are still returned). */
static int get_strlist(struct ld *l, struct map *m, const char *path, const char *key,
		       char ***items, yaml_node_t ***nodes, size_t **idx, size_t *n)
{
	struct pair *p = map_find(m, key);
	char kp[PATH_LEN];
	yaml_node_item_t *it;
	size_t cnt, i = 0;
	int rc = 1;

	*items = NULL;
	*nodes = NULL;
	*idx = NULL;
	*n = 0;
	if (p == NULL)
		return 0;
	path_key(kp, path, key, strlen(key));
	if (p->v->type != YAML_SEQUENCE_NODE) {
		if (p->v->type == YAML_SCALAR_NODE && !is_null(p->v))
			report(l, p->v, "%s: expected a list of strings, got a string "
			       "(write it as [name] or as \"- name\" lines)", kp);
		else
			report(l, p->v, "%s: expected a list of strings, got %s", kp,
			       kind(p->v));
		return -1;
	}
	cnt = (size_t)(p->v->data.sequence.items.top - p->v->data.sequence.items.start);
	if (cnt == 0)
		return 1;
	*items = calloc(cnt, sizeof(**items));
	*nodes = calloc(cnt, sizeof(**nodes));
	*idx = calloc(cnt, sizeof(**idx));
	if (*items == NULL || *nodes == NULL || *idx == NULL) {
		l->nomem = 1;
		return -1;
	}
	for (it = p->v->data.sequence.items.start; it < p->v->data.sequence.items.top;
	     it++, i++) {
		yaml_node_t *v = node_at(l, *it);
		char ip[PATH_LEN];
		struct sval sv;

		if (v == NULL)
			return -1;
		path_index(ip, kp, i);
		if (scalar_value(l, v, ip, 0, &sv) != 0) {
			rc = -1;
			if (l->over_budget || l->nomem)
				return -1;
			continue;
		}
		(*items)[*n] = sv.s;
		(*nodes)[*n] = v;
		(*idx)[*n] = i;
		(*n)++;
	}
	return rc;
}

static void strlist_free(char **items, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		ss_free_secret(items[i]);
	free(items);
}

/* The value at key must be a mapping: open it. Returns 1 (opened), 0
 * (absent), -1 (wrong type, reported, or the walk must stop). */
static int get_map(struct ld *l, struct map *m, const char *path, const char *key,
		   const char *want, struct map *out, struct pair **where)
{
	struct pair *p = map_find(m, key);
	char kp[PATH_LEN];

	out->p = NULL;
	out->n = 0;
	if (where != NULL)
		*where = p;
	if (p == NULL)
		return 0;
	path_key(kp, path, key, strlen(key));
	if (p->v->type != YAML_MAPPING_NODE) {
		if (is_null(p->v))
			report(l, p->v, "%s: is empty; give %s, or remove the key", kp, want);
		else
			report(l, p->v, "%s: expected a mapping (%s), got %s", kp, want,
			       kind(p->v));
		return -1;
	}
	if (spend(l, p->v) != 0 || map_open(l, p->v, kp, out) != 0)
		return -1;
	return 1;
}

/* --- value checks ------------------------------------------------------ */

/* A Vault mount or path: no leading "/", no "//", no "." or ".." segment,
 * no control characters. A trailing "/" is allowed when folder_ok. */
static const char *path_problem(const char *s, int folder_ok)
{
	const char *seg = s, *p;

	if (s[0] == '\0')
		return "is empty";
	if (s[0] == '/')
		return "must not start with \"/\"";
	for (p = s; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "must not contain control characters";
		if (*p == '*')
			return "must not contain \"*\" (only a final \"/*\" is accepted)";
		if (*p == '/') {
			if (p[1] == '/')
				return "must not contain \"//\"";
			if ((p - seg == 1 && seg[0] == '.') ||
			    (p - seg == 2 && seg[0] == '.' && seg[1] == '.'))
				return "must not contain \".\" or \"..\" segments";
			if (p[1] == '\0' && !folder_ok)
				return "must not end with \"/\"";
			seg = p + 1;
		}
	}
	if ((p - seg == 1 && seg[0] == '.') || (p - seg == 2 && seg[0] == '.' && seg[1] == '.'))
		return "must not contain \".\" or \"..\" segments";
	return NULL;
}

/* A mount given as "kv/" is the mount "kv". */
static void strip_slash(char *s)
{
	size_t n = strlen(s);

	while (n > 1 && s[n - 1] == '/')
		s[--n] = '\0';
}

static int check_mount(struct ld *l, const char *kp, yaml_node_t *vn, char *mount)
{
	const char *why;
	struct quote q;

	strip_slash(mount);
	why = path_problem(mount, 0);
	if (why != NULL) {
		report(l, vn, "%s: %s is not a valid Vault mount: it %s", kp, raw(vn, &q), why);
		return -1;
	}
	return 0;
}

static int check_region(struct ld *l, const char *kp, yaml_node_t *vn, const struct sval *sv,
			const char *s)
{
	struct quote q;

	if (ss_config_is_region(s))
		return 0;
	report(l, vn, "%s: %s%s is not an AWS region (like us-east-1 or eu-west-2)", kp,
	       raw(vn, &q), exp_note(sv));
	return -1;
}

static int check_arn(struct ld *l, const char *kp, yaml_node_t *vn, const struct sval *sv,
		     const char *s)
{
	struct quote q;

	if (ss_config_is_role_arn(s))
		return 0;
	report(l, vn, "%s: %s%s is not an IAM role ARN (arn:aws:iam::ACCOUNT_ID:role/NAME)",
	       kp, raw(vn, &q), exp_note(sv));
	return -1;
}

/* S3 bucket naming rules: 3-63 of [a-z0-9.-], starting and ending with a
 * letter or digit. */
static int is_bucket(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 3 || n > 63)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
			return 0;
	}
	return s[0] != '.' && s[0] != '-' && s[n - 1] != '.' && s[n - 1] != '-';
}

/* AWS secret names: [A-Za-z0-9/_+=.@-]. */
static int is_secret_name_chars(const char *s)
{
	for (; *s != '\0'; s++) {
		char c = *s;

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || strchr("/_+=.@-", c) != NULL))
			return 0;
	}
	return 1;
}

static int is_url(const char *s)
{
	const char *host;

	if (strncmp(s, "https://", 8) == 0)
		host = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		host = s + 7;
	else
		return 0;
	if (*host == '\0' || *host == '/' || *host == ':')
		return 0;
	for (; *host != '\0'; host++)
		if ((unsigned char)*host <= 0x20 || *host == 0x7f)
			return 0;
	return 1;
}

static char *env_copy(struct ld *l, const char *name)
{
	const char *v = l->env != NULL ? l->env(name, l->env_ctx) : NULL;
	char *c;

	if (v == NULL || v[0] == '\0')
		return NULL;
	c = ss_strdup(v);
	if (c == NULL)
		l->nomem = 1;
	return c;
}

static int set_default(struct ld *l, char **dst, const char *value)
{
	if (*dst != NULL)
		return 0;
	*dst = ss_strdup(value);
	if (*dst == NULL) {
		l->nomem = 1;
		return -1;
	}
	return 0;
}

/* --- sections ----------------------------------------------------------- */

static const char *const top_keys[] = {
	"vault", "aws", "sources", "merge_store", "targets", "pipeline", "github", NULL
};
static const char *const top_go[] = { "log", "dynamic_targets", NULL };
static const char *const vault_keys[] = {
	"address", "namespace", "auth", "max_traversal_depth", "max_secrets_per_mount", NULL
};
static const char *const auth_keys[] = { "token", "approle", "jwt", NULL };
static const char *const auth_go[] = { "kubernetes", NULL };
static const char *const token_keys[] = { "token", NULL };
static const char *const approle_keys[] = { "mount", "role_id", "secret_id", NULL };
static const char *const jwt_keys[] = { "mount", "role", "audience", NULL };
static const char *const aws_keys[] = {
	"region", "role_pattern", "execution_context", NULL
};
static const char *const aws_go[] = {
	"control_tower", "organizations", "identity_center", NULL
};
static const char *const exec_keys[] = { "custom_role_pattern", NULL };
static const char *const exec_go[] = { "type", "account_id", "delegation", NULL };
static const char *const source_keys[] = { "vault", "aws", NULL };
static const char *const svault_keys[] = { "mount", "paths", "kv_version", NULL };
static const char *const svault_go[] = { "address", "namespace", NULL };
static const char *const saws_keys[] = { "region", "prefix", "role_arn", NULL };
static const char *const saws_go[] = { "account_id", "tags", NULL };
static const char *const store_keys[] = { "s3", "vault", NULL };
static const char *const s3_keys[] = { "bucket", "prefix", "kms_key_id", NULL };
static const char *const mvault_keys[] = { "mount", NULL };
static const char *const target_keys[] = {
	"account_id", "imports", "region", "secret_prefix", "role_arn", NULL
};
static const char *const pipeline_keys[] = {
	"merge", "sync", "dry_run", "continue_on_error", NULL
};
static const char *const merge_keys[] = { "parallel", "lists", "nulls", NULL };
static const char *const sync_keys[] = {
	"parallel", "delete_orphans", "recovery_window_days", NULL
};
static const char *const github_keys[] = {
	"comment", "status", "status_context", "token_secret", NULL
};
static const char *const lists_names[] = { "append", "replace", "union", NULL };
static const char *const nulls_names[] = { "override", "keep", NULL };

/* Of the keys in which[], exactly one may be present. Returns the pair,
 * or NULL (reported: none or several). */
static struct pair *exactly_one(struct ld *l, struct map *m, const char *path,
				yaml_node_t *at, const char *const *which, const char *what)
{
	struct pair *found = NULL, *p;
	size_t i;

	for (i = 0; i < m->n; i++) {
		p = &m->p[i];
		if (p->dropped || !in_list(key_str(p->k), p->k->data.scalar.length, which))
			continue;
		if (found != NULL) {
			report(l, p->k, "%s: give exactly one of %s (both %s and %s are set)",
			       path, what, key_str(found->k), key_str(p->k));
			return NULL;
		}
		found = p;
	}
	/* Nothing to choose from, unless the keys there were reported as
	 * unknown or duplicate already. */
	if (found == NULL && m->n == 0)
		report(l, at, "%s: give one of %s", path, what);
	return found;
}

static void walk_auth(struct ld *l, struct map *vm)
{
	struct ss_config_vault *v = &l->cfg->vault;
	struct map am, sub;
	struct pair *where, *one;
	char kp[PATH_LEN];
	yaml_node_t *vn;
	int r;

	r = get_map(l, vm, "vault", "auth", "token:, approle: or jwt:", &am, &where);
	if (r <= 0)
		return;
	check_keys(l, &am, "vault.auth", auth_keys, auth_go);
	one = exactly_one(l, &am, "vault.auth", where->k, auth_keys, "token, approle or jwt");
	if (one == NULL)
		goto out;
	path_key(kp, "vault.auth", key_str(one->k), one->k->data.scalar.length);
	if (strcmp(key_str(one->k), "token") == 0) {
		v->auth = SS_VAULT_AUTH_TOKEN;
		if (one->v->type == YAML_SCALAR_NODE && !is_null(one->v)) {
			/* "token: TOKEN", as some Go SecretSync configs write it. */
			get_str(l, &am, "vault.auth", "token", F_SECRET | F_NONEMPTY, &v->token,
				NULL, NULL);
			goto out;
		}
		if (get_map(l, &am, "vault.auth", "token", "token: ${VAULT_TOKEN}", &sub,
			    NULL) <= 0)
			goto out;
		check_keys(l, &sub, kp, token_keys, NULL);
		if (get_str(l, &sub, kp, "token", F_SECRET | F_NONEMPTY, &v->token, &vn,
			    NULL) == 0)
			report(l, one->k, "%s: missing required key \"token\"", kp);
		map_free(&sub);
	} else if (strcmp(key_str(one->k), "approle") == 0) {
		v->auth = SS_VAULT_AUTH_APPROLE;
		if (get_map(l, &am, "vault.auth", "approle", "mount, role_id, secret_id", &sub,
			    NULL) <= 0)
			goto out;
		check_keys(l, &sub, kp, approle_keys, NULL);
		if (get_str(l, &sub, kp, "mount", F_NONEMPTY, &v->approle_mount, &vn, NULL) > 0) {
			char mp[PATH_LEN];

			path_key(mp, kp, "mount", 5);
			check_mount(l, mp, vn, v->approle_mount);
		}
		if (get_str(l, &sub, kp, "role_id", F_SECRET | F_NONEMPTY, &v->role_id, NULL,
			    NULL) == 0)
			report(l, one->k, "%s: missing required key \"role_id\"", kp);
		if (get_str(l, &sub, kp, "secret_id", F_SECRET | F_NONEMPTY, &v->secret_id,
			    NULL, NULL) == 0)
			report(l, one->k, "%s: missing required key \"secret_id\"", kp);
		set_default(l, &v->approle_mount, "approle");
		map_free(&sub);
	} else {
		v->auth = SS_VAULT_AUTH_JWT;
		if (get_map(l, &am, "vault.auth", "jwt", "mount, role, audience", &sub,
			    NULL) <= 0)
			goto out;
		check_keys(l, &sub, kp, jwt_keys, NULL);
		if (get_str(l, &sub, kp, "mount", F_NONEMPTY, &v->jwt_mount, &vn, NULL) > 0) {
			char mp[PATH_LEN];

			path_key(mp, kp, "mount", 5);
			check_mount(l, mp, vn, v->jwt_mount);
		}
		get_str(l, &sub, kp, "role", F_NONEMPTY, &v->jwt_role, NULL, NULL);
		get_str(l, &sub, kp, "audience", F_NONEMPTY, &v->jwt_audience, NULL, NULL);
		set_default(l, &v->jwt_mount, "jwt");
		map_free(&sub);
	}
out:
	map_free(&am);
}

static void walk_vault(struct ld *l, struct map *top)
{
	struct ss_config_vault *v = &l->cfg->vault;
	struct map vm;
	yaml_node_t *vn;
	struct sval sv;
	struct quote q;

	if (get_map(l, top, "", "vault", "address, namespace, auth, ...", &vm, NULL) > 0) {
		check_keys(l, &vm, "vault", vault_keys, NULL);
		if (get_str(l, &vm, "vault", "address", F_NONEMPTY, &v->address, &vn, &sv) > 0 &&
		    !is_url(v->address))
			report(l, vn, "vault.address: %s%s is not a URL (write "
			       "https://HOST:PORT)", raw(vn, &q), exp_note(&sv));
		get_str(l, &vm, "vault", "namespace", 0, &v->namespace, NULL, NULL);
		walk_auth(l, &vm);
		get_long(l, &vm, "vault", "max_traversal_depth", 1, 10000, NULL,
			 &v->max_traversal_depth);
		get_long(l, &vm, "vault", "max_secrets_per_mount", 1, 100000000L, NULL,
			 &v->max_secrets_per_mount);
		map_free(&vm);
	}
	if (v->address == NULL)
		v->address = env_copy(l, "VAULT_ADDR");
	if (v->namespace == NULL)
		v->namespace = env_copy(l, "VAULT_NAMESPACE");
	if (v->namespace != NULL && v->namespace[0] == '\0') {
		ss_free_secret(v->namespace);
		v->namespace = NULL;
	}
	if (v->auth == SS_VAULT_AUTH_NONE) {
		v->token = env_copy(l, "VAULT_TOKEN");
		if (v->token != NULL) {
			v->auth = SS_VAULT_AUTH_TOKEN;
			v->auth_from_env = 1;
		}
	}
}

/* "arn:...:{account_id}:role/x" or "arn:...:%s:role/x" -> the first form,
 * checked as a role ARN. Returns 0, or -1 after reporting. */
static int role_pattern(struct ld *l, const char *kp, yaml_node_t *vn, const struct sval *sv,
			char **pat)
{
	char *p = *pat, *hole, *norm, *test;
	size_t n;
	struct quote q;
	int ok;

	hole = strstr(p, "%s");
	if (hole != NULL) {
		n = strlen(p);
		norm = malloc(n + sizeof("{account_id}"));
		if (norm == NULL) {
			l->nomem = 1;
			return -1;
		}
		memcpy(norm, p, (size_t)(hole - p));
		memcpy(norm + (hole - p), "{account_id}", 12);
		memcpy(norm + (hole - p) + 12, hole + 2, n - (size_t)(hole - p) - 2 + 1);
		ss_free_secret(p);
		*pat = p = norm;
	}
	hole = strstr(p, "{account_id}");
	if (hole == NULL || strstr(hole + 12, "{account_id}") != NULL) {
		report(l, vn, "%s: %s%s must contain {account_id} once (like "
		       "arn:aws:iam::{account_id}:role/secretsync)", kp, raw(vn, &q),
		       exp_note(sv));
		return -1;
	}
	n = strlen(p);
	test = malloc(n + 1);
	if (test == NULL) {
		l->nomem = 1;
		return -1;
	}
	memcpy(test, p, (size_t)(hole - p));
	memcpy(test + (hole - p), "123456789012", 12);
	memcpy(test + (hole - p) + 12, hole + 12, n - (size_t)(hole - p) - 12 + 1);
	ok = ss_config_is_role_arn(test);
	free(test);
	if (!ok) {
		report(l, vn, "%s: %s%s is not an IAM role ARN pattern "
		       "(arn:aws:iam::{account_id}:role/NAME)", kp, raw(vn, &q), exp_note(sv));
		return -1;
	}
	return 0;
}

static void walk_aws(struct ld *l, struct map *top)
{
	struct ss_config_aws *a = &l->cfg->aws;
	struct map am, em;
	yaml_node_t *vn;
	struct sval sv;

	if (get_map(l, top, "", "aws", "region, role_pattern, ...", &am, NULL) > 0) {
		check_keys(l, &am, "aws", aws_keys, aws_go);
		if (get_str(l, &am, "aws", "region", F_NONEMPTY, &a->region, &vn, &sv) > 0 &&
		    check_region(l, "aws.region", vn, &sv, a->region) != 0) {
			ss_free_secret(a->region);
			a->region = NULL;
		}
		if (get_str(l, &am, "aws", "role_pattern", F_NONEMPTY, &a->role_pattern, &vn,
			    &sv) > 0 &&
		    role_pattern(l, "aws.role_pattern", vn, &sv, &a->role_pattern) != 0) {
			ss_free_secret(a->role_pattern);
			a->role_pattern = NULL;
		}
		if (get_map(l, &am, "aws", "execution_context", "custom_role_pattern", &em,
			    NULL) > 0) {
			char *pat = NULL;
			const char *kp = "aws.execution_context.custom_role_pattern";

			check_keys(l, &em, "aws.execution_context", exec_keys, exec_go);
			if (get_str(l, &em, "aws.execution_context", "custom_role_pattern",
				    F_NONEMPTY, &pat, &vn, &sv) > 0) {
				if (map_find(&am, "role_pattern") != NULL)
					report(l, vn, "%s: give only one of aws.role_pattern "
					       "and %s", kp, kp);
				else if (role_pattern(l, kp, vn, &sv, &pat) == 0) {
					a->role_pattern = pat;
					pat = NULL;
				}
			}
			ss_free_secret(pat);
			map_free(&em);
		}
		map_free(&am);
	}
	if (a->region == NULL)
		a->region = env_copy(l, "AWS_REGION");
	if (a->region == NULL)
		a->region = env_copy(l, "AWS_DEFAULT_REGION");
}

/* Check a source or target name key; returns 0 when it is usable. */
static int check_name(struct ld *l, const char *section, yaml_node_t *k, const char *what)
{
	const char *s = key_str(k);
	size_t n = k->data.scalar.length;
	char kp[PATH_LEN];

	if (is_simple_name(s, n))
		return 0;
	path_key(kp, section, s, n);
	report(l, k, "%s: a %s name must be 1 to %d letters, digits, \"-\", \"_\" or \".\", "
	       "starting with a letter, digit or \"_\"", kp, what, NAME_MAX_LEN);
	return -1;
}

static void source_vault(struct ld *l, struct ss_config_source *s, struct map *sm,
			 const char *sp, struct pair *where)
{
	struct map vm;
	char kp[PATH_LEN], mp[PATH_LEN];
	yaml_node_t *vn, **nodes = NULL;
	char **paths = NULL;
	size_t n = 0, i, keep = 0, *idx = NULL;
	long kv = 0;
	int whole = 0;

	path_key(kp, sp, "vault", 5);
	if (get_map(l, sm, sp, "vault", "mount, paths, kv_version", &vm, NULL) <= 0)
		return;
	check_keys(l, &vm, kp, svault_keys, svault_go);
	path_key(mp, kp, "mount", 5);
	if (get_str(l, &vm, kp, "mount", F_NONEMPTY, &s->mount, &vn, NULL) > 0)
		check_mount(l, mp, vn, s->mount);
	else if (map_find(&vm, "mount") == NULL)
		report(l, where->k, "%s: missing required key \"mount\"", kp);
	if (get_long(l, &vm, kp, "kv_version", 1, 2, "1 or 2; remove it to auto-detect",
		     &kv) > 0)
		s->kv_version = (int)kv;
	get_strlist(l, &vm, kp, "paths", &paths, &nodes, &idx, &n);
	path_key(mp, kp, "paths", 5);
	for (i = 0; i < n; i++) {
		char *p = paths[i], ip[PATH_LEN];
		size_t len = strlen(p);
		const char *why;
		struct quote q;

		/* Go SecretSync writes "team/" "*" for a folder and "*" for
		 * the whole mount. */
		paths[i] = NULL;
		if (strcmp(p, "*") == 0 || strcmp(p, "/*") == 0) {
			ss_free_secret(p);
			whole = 1;
			continue;
		}
		if (len >= 2 && p[len - 2] == '/' && p[len - 1] == '*')
			p[len - 1] = '\0';
		why = path_problem(p, 1);
		if (why != NULL) {
			path_index(ip, mp, idx[i]);
			report(l, nodes[i], "%s: %s is not a valid Vault path: it %s", ip,
			       raw(nodes[i], &q), why);
			ss_free_secret(p);
			continue;
		}
		paths[keep++] = p;
	}
	if (whole) {
		strlist_free(paths, keep);
		paths = NULL;
		keep = 0;
	}
	s->paths = paths;
	s->npaths = keep;
	free(nodes);
	free(idx);
	map_free(&vm);
}

static void source_aws(struct ld *l, struct ss_config_source *s, struct map *sm,
		       const char *sp)
{
	struct map am;
	char kp[PATH_LEN], rp[PATH_LEN];
	yaml_node_t *vn;
	struct sval sv;

	path_key(kp, sp, "aws", 3);
	if (get_map(l, sm, sp, "aws", "region, prefix, role_arn", &am, NULL) <= 0)
		return;
	check_keys(l, &am, kp, saws_keys, saws_go);
	path_key(rp, kp, "region", 6);
	if (get_str(l, &am, kp, "region", F_NONEMPTY, &s->region, &vn, &sv) > 0)
		check_region(l, rp, vn, &sv, s->region);
	get_str(l, &am, kp, "prefix", 0, &s->prefix, NULL, NULL);
	path_key(rp, kp, "role_arn", 8);
	if (get_str(l, &am, kp, "role_arn", F_NONEMPTY, &s->role_arn, &vn, &sv) > 0)
		check_arn(l, rp, vn, &sv, s->role_arn);
	if (s->region == NULL && l->cfg->aws.region != NULL)
		set_default(l, &s->region, l->cfg->aws.region);
	map_free(&am);
}

static void walk_sources(struct ld *l, struct map *top)
{
	struct ss_config *cfg = l->cfg;
	struct map all;
	size_t i;

	if (get_map(l, top, "", "sources", "one entry per source", &all, NULL) <= 0)
		return;
	cfg->sources = calloc(all.n ? all.n : 1, sizeof(*cfg->sources));
	l->skeys = calloc(all.n ? all.n : 1, sizeof(*l->skeys));
	if (cfg->sources == NULL || l->skeys == NULL) {
		l->nomem = 1;
		goto out;
	}
	for (i = 0; i < all.n && !l->nomem && !l->over_budget; i++) {
		struct pair *p = &all.p[i];
		struct ss_config_source *s;
		struct map sm;
		struct pair *one;
		char sp[PATH_LEN];

		if (p->dropped)
			continue;
		path_key(sp, "sources", key_str(p->k), p->k->data.scalar.length);
		check_name(l, "sources", p->k, "source");
		s = &cfg->sources[cfg->nsources];
		s->name = ss_strndup(key_str(p->k), p->k->data.scalar.length);
		if (s->name == NULL) {
			l->nomem = 1;
			break;
		}
		s->line = (int)p->k->start_mark.line + 1;
		s->col = (int)p->k->start_mark.column + 1;
		l->skeys[cfg->nsources] = p->k;
		cfg->nsources++;
		if (p->v->type != YAML_MAPPING_NODE) {
			report(l, p->v, "%s: expected a mapping with vault: or aws:, got %s", sp,
			       kind(p->v));
			continue;
		}
		if (spend(l, p->v) != 0 || map_open(l, p->v, sp, &sm) != 0)
			break;
		check_keys(l, &sm, sp, source_keys, NULL);
		one = exactly_one(l, &sm, sp, p->k, source_keys, "vault or aws");
		if (one != NULL && strcmp(key_str(one->k), "vault") == 0) {
			s->kind = SS_SOURCE_VAULT;
			source_vault(l, s, &sm, sp, one);
		} else if (one != NULL) {
			s->kind = SS_SOURCE_AWS;
			source_aws(l, s, &sm, sp);
		}
		map_free(&sm);
	}
out:
	map_free(&all);
}

static void walk_store(struct ld *l, struct map *top)
{
	struct ss_config_store *st = &l->cfg->store;
	struct map mm, sub;
	struct pair *where, *one;
	yaml_node_t *vn;
	struct sval sv;
	struct quote q;

	if (get_map(l, top, "", "merge_store", "s3: or vault:", &mm, &where) <= 0)
		return;
	check_keys(l, &mm, "merge_store", store_keys, NULL);
	one = exactly_one(l, &mm, "merge_store", where->k, store_keys, "s3 or vault");
	if (one == NULL)
		goto out;
	if (strcmp(key_str(one->k), "s3") == 0) {
		st->kind = SS_STORE_S3;
		if (get_map(l, &mm, "merge_store", "s3", "bucket, prefix, kms_key_id", &sub,
			    NULL) <= 0)
			goto out;
		check_keys(l, &sub, "merge_store.s3", s3_keys, NULL);
		if (get_str(l, &sub, "merge_store.s3", "bucket", F_NONEMPTY, &st->bucket, &vn,
			    &sv) > 0) {
			if (!is_bucket(st->bucket))
				report(l, vn, "merge_store.s3.bucket: %s%s is not a valid S3 "
				       "bucket name (3 to 63 of a-z, 0-9, \".\" and \"-\")",
				       raw(vn, &q), exp_note(&sv));
		} else if (map_find(&sub, "bucket") == NULL) {
			report(l, one->k, "merge_store.s3: missing required key \"bucket\"");
		}
		if (get_str(l, &sub, "merge_store.s3", "prefix", 0, &st->prefix, &vn, &sv) > 0 &&
		    st->prefix[0] == '/')
			report(l, vn, "merge_store.s3.prefix: %s%s must not start with \"/\"",
			       raw(vn, &q), exp_note(&sv));
		get_str(l, &sub, "merge_store.s3", "kms_key_id", F_NONEMPTY, &st->kms_key_id,
			NULL, NULL);
		set_default(l, &st->prefix, "");
	} else {
		st->kind = SS_STORE_VAULT;
		if (get_map(l, &mm, "merge_store", "vault", "mount", &sub, NULL) <= 0)
			goto out;
		check_keys(l, &sub, "merge_store.vault", mvault_keys, NULL);
		if (get_str(l, &sub, "merge_store.vault", "mount", F_NONEMPTY, &st->mount, &vn,
			    NULL) > 0)
			check_mount(l, "merge_store.vault.mount", vn, st->mount);
		else if (map_find(&sub, "mount") == NULL)
			report(l, one->k, "merge_store.vault: missing required key \"mount\"");
	}
	map_free(&sub);
out:
	map_free(&mm);
}

static void walk_pipeline(struct ld *l, struct map *top)
{
	struct ss_config_pipeline *pl = &l->cfg->pipeline;
	struct map pm, sub;
	int e;

	if (get_map(l, top, "", "pipeline", "merge, sync, dry_run, continue_on_error", &pm,
		    NULL) <= 0)
		return;
	check_keys(l, &pm, "pipeline", pipeline_keys, NULL);
	if (get_map(l, &pm, "pipeline", "merge", "parallel, lists, nulls", &sub, NULL) > 0) {
		check_keys(l, &sub, "pipeline.merge", merge_keys, NULL);
		get_long(l, &sub, "pipeline.merge", "parallel", 1, 64, NULL, &pl->merge_parallel);
		if (get_enum(l, &sub, "pipeline.merge", "lists", lists_names, &e) > 0)
			pl->lists = (enum ss_config_lists)e;
		if (get_enum(l, &sub, "pipeline.merge", "nulls", nulls_names, &e) > 0)
			pl->nulls = (enum ss_config_nulls)e;
		map_free(&sub);
	}
	if (get_map(l, &pm, "pipeline", "sync",
		    "parallel, delete_orphans, recovery_window_days", &sub, NULL) > 0) {
		check_keys(l, &sub, "pipeline.sync", sync_keys, NULL);
		get_long(l, &sub, "pipeline.sync", "parallel", 1, 256, NULL, &pl->sync_parallel);
		get_bool(l, &sub, "pipeline.sync", "delete_orphans", &pl->delete_orphans);
		get_long(l, &sub, "pipeline.sync", "recovery_window_days", 7, 30,
			 "AWS Secrets Manager allows 7 to 30 days", &pl->recovery_window_days);
		map_free(&sub);
	}
	get_bool(l, &pm, "pipeline", "dry_run", &pl->dry_run);
	get_bool(l, &pm, "pipeline", "continue_on_error", &pl->continue_on_error);
	map_free(&pm);
}

static void walk_github(struct ld *l, struct map *top)
{
	struct ss_config_github *g = &l->cfg->github;
	struct map gm;

	if (get_map(l, top, "", "github", "comment, status, status_context, token_secret",
		    &gm, NULL) <= 0)
		return;
	check_keys(l, &gm, "github", github_keys, NULL);
	get_bool(l, &gm, "github", "comment", &g->comment);
	get_bool(l, &gm, "github", "status", &g->status);
	get_str(l, &gm, "github", "status_context", F_NONEMPTY, &g->status_context, NULL, NULL);
	get_str(l, &gm, "github", "token_secret", F_NONEMPTY, &g->token_secret, NULL, NULL);
	map_free(&gm);
}

/* The imports of target t, from a list node. */
static void target_imports(struct ld *l, struct ss_config_target *t, struct tdraft *d,
			   char **names, yaml_node_t **nodes, size_t *idx, size_t n)
{
	size_t i;

	t->imports = calloc(n ? n : 1, sizeof(*t->imports));
	if (t->imports == NULL) {
		l->nomem = 1;
		strlist_free(names, n);
		free(nodes);
		free(idx);
		return;
	}
	for (i = 0; i < n; i++)
		t->imports[i].name = names[i];
	t->nimports = n;
	free(names);
	d->inodes = nodes;
	d->iidx = idx;
}

static void target_full(struct ld *l, struct ss_config_target *t, struct tdraft *d,
			struct map *tm, const char *tp, yaml_node_t *key)
{
	char kp[PATH_LEN];
	yaml_node_t *vn, *acct_node = NULL, **nodes = NULL;
	char **names = NULL;
	size_t n = 0, *idx = NULL;
	struct sval sv;
	struct quote q, q2;
	int r;

	check_keys(l, tm, tp, target_keys, NULL);
	path_key(kp, tp, "account_id", 10);
	if (get_str(l, tm, tp, "account_id", 0, &t->account_id, &acct_node, &sv) > 0 &&
	    !ss_config_is_account_id(t->account_id)) {
		report(l, acct_node, "%s: %s%s is not a 12-digit AWS account id (quote it: "
		       "\"012345678901\")", kp, raw(acct_node, &q), exp_note(&sv));
		ss_free_secret(t->account_id);
		t->account_id = NULL;
	}
	path_key(kp, tp, "imports", 7);
	r = get_strlist(l, tm, tp, "imports", &names, &nodes, &idx, &n);
	if (r == 0)
		report(l, key, "%s: missing required key \"imports\" (the sources and targets "
		       "it merges)", tp);
	else if (r > 0 && n == 0)
		report(l, map_find(tm, "imports")->v, "%s: is empty; list at least one source "
		       "or target", kp);
	target_imports(l, t, d, names, nodes, idx, n);
	path_key(kp, tp, "region", 6);
	if (get_str(l, tm, tp, "region", F_NONEMPTY, &t->region, &vn, &sv) > 0 &&
	    check_region(l, kp, vn, &sv, t->region) != 0) {
		ss_free_secret(t->region);
		t->region = NULL;
	}
	path_key(kp, tp, "secret_prefix", 13);
	if (get_str(l, tm, tp, "secret_prefix", 0, &t->secret_prefix, &vn, &sv) > 0 &&
	    (!is_secret_name_chars(t->secret_prefix) || strlen(t->secret_prefix) > 256))
		report(l, vn, "%s: %s%s may only hold letters, digits and /_+=.@- "
		       "(at most 256)", kp, raw(vn, &q), exp_note(&sv));
	path_key(kp, tp, "role_arn", 8);
	if (get_str(l, tm, tp, "role_arn", F_NONEMPTY, &t->role_arn, &vn, &sv) > 0 &&
	    check_arn(l, kp, vn, &sv, t->role_arn) == 0 && t->account_id != NULL &&
	    strncmp(strstr(t->role_arn, ":iam::") + 6, t->account_id, 12) != 0)
		report(l, vn, "%s: %s%s is a role in another account than account_id %s; "
		       "make them agree", kp, raw(vn, &q), exp_note(&sv), raw(acct_node, &q2));
}

static void walk_targets(struct ld *l, struct map *top)
{
	struct ss_config *cfg = l->cfg;
	struct map all;
	size_t i;

	if (get_map(l, top, "", "targets", "one entry per target", &all, NULL) <= 0)
		return;
	cfg->targets = calloc(all.n ? all.n : 1, sizeof(*cfg->targets));
	l->td = calloc(all.n ? all.n : 1, sizeof(*l->td));
	if (cfg->targets == NULL || l->td == NULL) {
		l->nomem = 1;
		goto out;
	}
	for (i = 0; i < all.n && !l->nomem && !l->over_budget; i++) {
		struct pair *p = &all.p[i];
		struct ss_config_target *t;
		struct tdraft *d;
		struct map tm;
		char tp[PATH_LEN];

		if (p->dropped)
			continue;
		path_key(tp, "targets", key_str(p->k), p->k->data.scalar.length);
		check_name(l, "targets", p->k, "target");
		t = &cfg->targets[cfg->ntargets];
		d = &l->td[cfg->ntargets];
		t->name = ss_strndup(key_str(p->k), p->k->data.scalar.length);
		if (t->name == NULL) {
			l->nomem = 1;
			break;
		}
		t->line = (int)p->k->start_mark.line + 1;
		t->col = (int)p->k->start_mark.column + 1;
		d->key = p->k;
		cfg->ntargets++;
		if (spend(l, p->v) != 0)
			break;
		if (p->v->type == YAML_SEQUENCE_NODE) {
			struct map one;
			char **names = NULL;
			yaml_node_t **nodes = NULL;
			size_t n = 0, *idx = NULL;

			/* "name: [a, b]": reuse the list reader on a one-pair map. */
			one.p = p;
			one.n = 1;
			t->shorthand = 1;
			get_strlist(l, &one, "targets", key_str(p->k), &names, &nodes, &idx, &n);
			if (n == 0 && p->v->data.sequence.items.top == p->v->data.sequence.items.start)
				report(l, p->v, "%s: is empty; list at least one source or target",
				       tp);
			target_imports(l, t, d, names, nodes, idx, n);
		} else if (p->v->type == YAML_MAPPING_NODE) {
			if (map_open(l, p->v, tp, &tm) != 0)
				break;
			target_full(l, t, d, &tm, tp, p->k);
			map_free(&tm);
		} else {
			report(l, p->v, "%s: expected a mapping (account_id, imports, ...) or a "
			       "list of imports, got %s", tp, kind(p->v));
			t->imports = calloc(1, sizeof(*t->imports));
			if (t->imports == NULL)
				l->nomem = 1;
		}
		if (t->region == NULL && cfg->aws.region != NULL)
			set_default(l, &t->region, cfg->aws.region);
		set_default(l, &t->secret_prefix, "");
		if (t->role_arn == NULL && t->account_id != NULL && cfg->aws.role_pattern != NULL) {
			const char *pat = cfg->aws.role_pattern;
			const char *hole = strstr(pat, "{account_id}");
			size_t plen = strlen(pat);

			t->role_arn = malloc(plen + 1);
			if (t->role_arn == NULL) {
				l->nomem = 1;
				break;
			}
			memcpy(t->role_arn, pat, (size_t)(hole - pat));
			memcpy(t->role_arn + (hole - pat), t->account_id, 12);
			memcpy(t->role_arn + (hole - pat) + 12, hole + 12,
			       plen - (size_t)(hole - pat) - 12 + 1);
			t->role_from_pattern = 1;
		}
	}
out:
	map_free(&all);
}

/* --- the graph of targets ------------------------------------------------ */

struct nameref {
	const char *name;
	int is_target;
	size_t index;
};

static int nameref_cmp(const void *a, const void *b)
{
	const struct nameref *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	/* sources first, then file order */
	if (x->is_target != y->is_target)
		return x->is_target - y->is_target;
	return x->index < y->index ? -1 : (x->index > y->index);
}

static const struct nameref *nameref_find(const struct nameref *refs, size_t n, const char *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(refs[mid].name, name);

		if (c == 0) {
			while (mid > 0 && strcmp(refs[mid - 1].name, name) == 0)
				mid--;
			return &refs[mid];
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static const char *import_suggest(struct ld *l, const char *name)
{
	const char *pick = NULL;
	size_t best = 99, i;

	for (i = 0; i < l->cfg->nsources + l->cfg->ntargets; i++) {
		const char *c = i < l->cfg->nsources ? l->cfg->sources[i].name :
			l->cfg->targets[i - l->cfg->nsources].name;

		if (near_enough(name, c, &best))
			pick = c;
	}
	return pick;
}

/* Resolve every import to a source or a target; report clashes between
 * source and target names, dangling and repeated imports. */
static void resolve(struct ld *l)
{
	struct ss_config *cfg = l->cfg;
	size_t n = cfg->nsources + cfg->ntargets, i, j;
	struct nameref *refs;

	refs = calloc(n ? n : 1, sizeof(*refs));
	if (refs == NULL) {
		l->nomem = 1;
		return;
	}
	for (i = 0; i < cfg->nsources; i++) {
		refs[i].name = cfg->sources[i].name;
		refs[i].index = i;
	}
	for (i = 0; i < cfg->ntargets; i++) {
		refs[cfg->nsources + i].name = cfg->targets[i].name;
		refs[cfg->nsources + i].is_target = 1;
		refs[cfg->nsources + i].index = i;
	}
	qsort(refs, n, sizeof(*refs), nameref_cmp);
	for (i = 1; i < n; i++) {
		if (strcmp(refs[i].name, refs[i - 1].name) != 0 || !refs[i].is_target ||
		    refs[i - 1].is_target)
			continue;
		{
			const struct ss_config_target *t = &cfg->targets[refs[i].index];
			char tp[PATH_LEN];

			path_key(tp, "targets", t->name, strlen(t->name));
			report(l, l->td[refs[i].index].key, "%s: \"%s\" is both a source "
			       "(line %d) and a target; rename one of them", tp, t->name,
			       cfg->sources[refs[i - 1].index].line);
		}
	}
	for (i = 0; i < cfg->ntargets; i++) {
		struct ss_config_target *t = &cfg->targets[i];
		char tp[PATH_LEN], ip[PATH_LEN];

		path_key(tp, "targets", t->name, strlen(t->name));
		for (j = 0; j < t->nimports; j++) {
			struct ss_config_import *im = &t->imports[j];
			const struct nameref *r = nameref_find(refs, n, im->name);
			yaml_node_t *vn = l->td[i].inodes[j];
			struct quote q;
			size_t k;

			if (t->shorthand) {
				path_index(ip, tp, l->td[i].iidx[j]);
			} else {
				char kp[PATH_LEN];

				path_key(kp, tp, "imports", 7);
				path_index(ip, kp, l->td[i].iidx[j]);
			}
			for (k = 0; k < j; k++)
				if (strcmp(t->imports[k].name, im->name) == 0)
					break;
			if (k < j) {
				report(l, vn, "%s: %s is imported twice; remove one", ip,
				       raw(vn, &q));
				continue;
			}
			if (r == NULL) {
				const char *near = import_suggest(l, im->name);

				if (near != NULL)
					report(l, vn, "%s: %s names neither a source nor a "
					       "target; did you mean \"%s\"?", ip, raw(vn, &q),
					       near);
				else
					report(l, vn, "%s: %s names neither a source nor a "
					       "target; define it under sources: or targets:",
					       ip, raw(vn, &q));
				continue;
			}
			/* A clashing name resolves to the source; it is an error
			 * already. */
			im->is_target = r->is_target;
			im->index = r->index;
		}
	}
	free(refs);
}

/* Report each import cycle once, as "a -> b -> a", at the import that
 * closes it. Iterative depth-first search in file order. */
static void find_cycles(struct ld *l)
{
	struct ss_config *cfg = l->cfg;
	size_t n = cfg->ntargets, top, s;
	unsigned char *color = calloc(n ? n : 1, 1); /* 0 new, 1 on stack, 2 done */
	size_t *stack = malloc((n ? n : 1) * sizeof(*stack));
	size_t *next = calloc(n ? n : 1, sizeof(*next));

	if (color == NULL || stack == NULL || next == NULL) {
		l->nomem = 1;
		goto out;
	}
	for (s = 0; s < n; s++) {
		if (color[s] != 0)
			continue;
		top = 0;
		stack[top++] = s;
		color[s] = 1;
		while (top > 0) {
			size_t u = stack[top - 1];
			struct ss_config_target *t = &cfg->targets[u];
			struct ss_config_import *im;
			size_t v;

			if (next[u] >= t->nimports) {
				color[u] = 2;
				top--;
				continue;
			}
			im = &t->imports[next[u]++];
			if (!im->is_target)
				continue;
			v = im->index;
			if (color[v] == 0) {
				color[v] = 1;
				stack[top++] = v;
			} else if (color[v] == 1) {
				char cyc[CYCLE_SHOWN_MAX + 64], tp[PATH_LEN], ip[PATH_LEN];
				size_t from = top, o = 0, i;

				while (from > 0 && stack[from - 1] != v)
					from--;
				from = from > 0 ? from - 1 : 0;
				for (i = from; i < top && o < CYCLE_SHOWN_MAX; i++)
					o += (size_t)snprintf(cyc + o, sizeof(cyc) - o, "%s -> ",
							      cfg->targets[stack[i]].name);
				if (o >= CYCLE_SHOWN_MAX)
					snprintf(cyc + CYCLE_SHOWN_MAX,
						 sizeof(cyc) - CYCLE_SHOWN_MAX, "... -> %s",
						 cfg->targets[v].name);
				else
					snprintf(cyc + o, sizeof(cyc) - o, "%s",
						 cfg->targets[v].name);
				path_key(tp, "targets", t->name, strlen(t->name));
				if (t->shorthand) {
					path_index(ip, tp, l->td[u].iidx[next[u] - 1]);
				} else {
					char kp[PATH_LEN];

					path_key(kp, tp, "imports", 7);
					path_index(ip, kp, l->td[u].iidx[next[u] - 1]);
				}
				report(l, l->td[u].inodes[next[u] - 1], "%s: import cycle %s "
				       "(a target cannot import itself, directly or through "
				       "other targets)", ip, cyc);
			}
		}
	}
out:
	free(color);
	free(stack);
	free(next);
}

static void heap_push(size_t *h, size_t *n, size_t v)
{
	size_t i = (*n)++;

	while (i > 0 && h[(i - 1) / 2] > v) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = v;
}

static size_t heap_pop(size_t *h, size_t *n)
{
	size_t top = h[0], v = h[--(*n)], i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= *n)
			break;
		if (c + 1 < *n && h[c + 1] < h[c])
			c++;
		if (h[c] >= v)
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n > 0)
		h[i] = v;
	return top;
}

/* Reorder cfg->targets so that every target follows the targets it
 * imports, keeping file order wherever the imports allow it (Kahn's
 * algorithm, always taking the earliest ready target). No cycles here. */
static void order_targets(struct ld *l)
{
	struct ss_config *cfg = l->cfg;
	size_t n = cfg->ntargets, i, j, hn = 0, done = 0, e = 0;
	size_t *indeg = NULL, *start = NULL, *edges = NULL, *heap = NULL, *order = NULL,
	       *newpos = NULL;
	struct ss_config_target *sorted = NULL;

	if (n < 2)
		return;
	indeg = calloc(n, sizeof(*indeg));
	start = calloc(n + 1, sizeof(*start));
	heap = malloc(n * sizeof(*heap));
	order = malloc(n * sizeof(*order));
	newpos = malloc(n * sizeof(*newpos));
	sorted = malloc(n * sizeof(*sorted));
	if (indeg == NULL || start == NULL || heap == NULL || order == NULL ||
	    newpos == NULL || sorted == NULL) {
		l->nomem = 1;
		goto out;
	}
	/* edges dep -> dependant, as compressed adjacency lists */
	for (i = 0; i < n; i++)
		for (j = 0; j < cfg->targets[i].nimports; j++)
			if (cfg->targets[i].imports[j].is_target) {
				start[cfg->targets[i].imports[j].index + 1]++;
				indeg[i]++;
				e++;
			}
	for (i = 0; i < n; i++)
		start[i + 1] += start[i];
	edges = malloc((e ? e : 1) * sizeof(*edges));
	if (edges == NULL) {
		l->nomem = 1;
		goto out;
	}
	{
		size_t *fill = heap; /* reused as a cursor array before the sort */

		for (i = 0; i < n; i++)
			fill[i] = start[i];
		for (i = 0; i < n; i++)
			for (j = 0; j < cfg->targets[i].nimports; j++)
				if (cfg->targets[i].imports[j].is_target)
					edges[fill[cfg->targets[i].imports[j].index]++] = i;
	}
	for (i = 0; i < n; i++)
		if (indeg[i] == 0)
			heap_push(heap, &hn, i);
	while (hn > 0) {
		size_t u = heap_pop(heap, &hn);

		order[done++] = u;
		for (j = start[u]; j < start[u + 1]; j++)
			if (--indeg[edges[j]] == 0)
				heap_push(heap, &hn, edges[j]);
	}
	if (done != n) {
		/* Unreachable: cycles were reported before. */
		report(l, NULL, "internal error: import cycle missed");
		goto out;
	}
	for (i = 0; i < n; i++) {
		newpos[order[i]] = i;
		sorted[i] = cfg->targets[order[i]];
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < sorted[i].nimports; j++)
			if (sorted[i].imports[j].is_target)
				sorted[i].imports[j].index = newpos[sorted[i].imports[j].index];
	memcpy(cfg->targets, sorted, n * sizeof(*sorted));
out:
	free(indeg);
	free(start);
	free(edges);
	free(heap);
	free(order);
	free(newpos);
	free(sorted);
}

/* --- entry points ----------------------------------------------------- */

static void walk(struct ld *l, yaml_node_t *root)
{
	struct map top;

	if (root->type != YAML_MAPPING_NODE) {
		report(l, root, "the top level must be a mapping (vault:, sources:, targets:, "
		       "...), got %s", kind(root));
		return;
	}
	if (map_open(l, root, "", &top) != 0)
		return;
	check_keys(l, &top, "", top_keys, top_go);
	walk_vault(l, &top);
	walk_aws(l, &top);
	walk_sources(l, &top);
	walk_store(l, &top);
	walk_pipeline(l, &top);
	walk_github(l, &top);
	walk_targets(l, &top);
	map_free(&top);
	if (l->nomem || l->over_budget)
		return;
	resolve(l);
	if (l->nomem)
		return;
	find_cycles(l);
}

static void init_defaults(struct ss_config *cfg)
{
	cfg->vault.max_traversal_depth = 100;
	cfg->vault.max_secrets_per_mount = 100000;
	cfg->pipeline.merge_parallel = 4;
	cfg->pipeline.sync_parallel = 16;
	cfg->pipeline.recovery_window_days = 30;
}

/* line:col of a byte offset, for reader errors that carry only that. */
static void offset_mark(const char *buf, size_t len, size_t off, yaml_mark_t *m)
{
	size_t i;

	m->line = 0;
	m->column = 0;
	for (i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			m->line++;
			m->column = 0;
		} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
			m->column++;
		}
	}
}

static void yaml_problem(struct ld *l, yaml_parser_t *p, const char *buf, size_t len)
{
	yaml_mark_t m = p->problem_mark;
	const char *problem = p->problem != NULL ? p->problem : "unknown problem";
	const char *hint = "";

	if (p->error == YAML_READER_ERROR) {
		offset_mark(buf, len, p->problem_offset, &m);
		report_mark(l, &m, "YAML: %s (the file must be UTF-8 text)", problem);
		return;
	}
	if (p->error == YAML_MEMORY_ERROR) {
		l->nomem = 1;
		return;
	}
	if (m.index < len && buf[m.index] == '\t')
		hint = " (indent with spaces, not tabs)";
	else if (p->context != NULL && strstr(p->context, "flow") != NULL &&
		 p->context_mark.index < m.index && m.index < len &&
		 memmem(buf + p->context_mark.index, m.index + 1 - p->context_mark.index,
			"${", 2) != NULL)
		hint = " (a plain ${VAR} cannot go in [...] or {...}: quote it)";
	if (p->context != NULL)
		report_mark(l, &m, "YAML: %s (%s at line %lu)%s", problem, p->context,
			    (unsigned long)p->context_mark.line + 1, hint);
	else
		report_mark(l, &m, "YAML: %s%s", problem, hint);
}

static int cerr_cmp(const void *a, const void *b)
{
	const struct cerr *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

static enum ss_rc flush_errors(struct ld *l, struct ss_buf *errors)
{
	size_t i;
	enum ss_rc rc = SS_OK;

	size_t n = 0, shown = 0;

	qsort(l->errs, l->nerrs, sizeof(*l->errs), cerr_cmp);
	/* An alias can make the walk meet the same node twice: the same
	 * message at the same place is said once. */
	for (i = 0; i < l->nerrs; i++) {
		if (n > 0 && l->errs[n - 1].line == l->errs[i].line &&
		    l->errs[n - 1].col == l->errs[i].col &&
		    strcmp(l->errs[n - 1].msg, l->errs[i].msg) == 0) {
			free(l->errs[i].msg);
			continue;
		}
		l->errs[n++] = l->errs[i];
	}
	l->nerrs = n;
	for (i = 0; i < n && rc == SS_OK; i++, shown++) {
		if (shown == SS_CONFIG_MAX_ERRORS) {
			rc = ss_buf_addf(errors, "%s:%lu:%lu: %zu more errors not shown\n",
					 l->file, l->errs[i].line, l->errs[i].col, n - i);
			break;
		}
		rc = ss_buf_addf(errors, "%s:%lu:%lu: %s\n", l->file, l->errs[i].line,
				 l->errs[i].col, l->errs[i].msg);
	}
	return rc;
}

enum ss_rc ss_config_parse(const char *buf, size_t len, const char *filename,
			   ss_config_env_fn *env, void *env_ctx,
			   struct ss_config **out, struct ss_buf *errors)
{
	struct ld l;
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	int have_parser = 0, have_doc = 0;
	enum ss_rc rc = SS_OK;
	size_t i;

	*out = NULL;
	memset(&l, 0, sizeof(l));
	l.file = filename != NULL ? filename : "config";
	l.env = env;
	l.env_ctx = env_ctx;
	l.budget = NODE_BUDGET;
	l.cfg = calloc(1, sizeof(*l.cfg));
	if (l.cfg == NULL)
		return SS_ERR_NOMEM;
	init_defaults(l.cfg);
	if (len > SS_CONFIG_MAX_SIZE) {
		report(&l, NULL, "the file is larger than %zu bytes", SS_CONFIG_MAX_SIZE);
		goto done;
	}
	if (!yaml_parser_initialize(&parser)) {
		rc = SS_ERR_NOMEM;
		goto done;
	}
	have_parser = 1;
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_problem(&l, &parser, buf, len);
		goto done;
	}
	have_doc = 1;
	l.doc = &doc;
	if (yaml_document_get_root_node(&doc) == NULL) {
		report(&l, NULL, "the config is empty (it needs at least a targets: section)");
		goto done;
	}
	if (!yaml_parser_load(&parser, &extra)) {
		yaml_problem(&l, &parser, buf, len);
	} else {
		yaml_node_t *r2 = yaml_document_get_root_node(&extra);

		if (r2 != NULL)
			report_mark(&l, &extra.start_mark, "only one YAML document is allowed "
				    "(remove this \"---\" and what follows)");
		yaml_document_delete(&extra);
	}
	walk(&l, yaml_document_get_root_node(&doc));
	if (l.nerrs == 0 && !l.nomem && !l.over_budget)
		order_targets(&l);
done:
	if (l.nomem)
		rc = SS_ERR_NOMEM;
	if (rc == SS_OK && l.nerrs > 0) {
		rc = flush_errors(&l, errors);
		if (rc == SS_OK)
			rc = SS_ERR_INVALID;
	}
	if (l.td != NULL) {
		for (i = 0; i < l.cfg->ntargets; i++) {
			free(l.td[i].inodes);
			free(l.td[i].iidx);
		}
		free(l.td);
	}
	free(l.skeys);
	for (i = 0; i < l.nerrs; i++)
		free(l.errs[i].msg);
	free(l.errs);
	if (have_doc)
		yaml_document_delete(&doc);
	if (have_parser)
		yaml_parser_delete(&parser);
	if (rc == SS_OK)
		*out = l.cfg;
	else
		ss_config_free(l.cfg);
	return rc;
}

void ss_config_free(struct ss_config *cfg)
{
	size_t i, j;

	if (cfg == NULL)
		return;
	ss_free_secret(cfg->vault.address);
	ss_free_secret(cfg->vault.namespace);
	ss_free_secret(cfg->vault.token);
	ss_free_secret(cfg->vault.approle_mount);
	ss_free_secret(cfg->vault.role_id);
	ss_free_secret(cfg->vault.secret_id);
	ss_free_secret(cfg->vault.jwt_mount);
	ss_free_secret(cfg->vault.jwt_role);
	ss_free_secret(cfg->vault.jwt_audience);
	ss_free_secret(cfg->aws.region);
	ss_free_secret(cfg->aws.role_pattern);
	for (i = 0; i < cfg->nsources; i++) {
		struct ss_config_source *s = &cfg->sources[i];

		ss_free_secret(s->name);
		ss_free_secret(s->mount);
		strlist_free(s->paths, s->npaths);
		ss_free_secret(s->region);
		ss_free_secret(s->prefix);
		ss_free_secret(s->role_arn);
	}
	free(cfg->sources);
	ss_free_secret(cfg->store.bucket);
	ss_free_secret(cfg->store.prefix);
	ss_free_secret(cfg->store.kms_key_id);
	ss_free_secret(cfg->store.mount);
	for (i = 0; i < cfg->ntargets; i++) {
		struct ss_config_target *t = &cfg->targets[i];

		ss_free_secret(t->name);
		ss_free_secret(t->account_id);
		for (j = 0; j < t->nimports; j++)
			ss_free_secret(t->imports[j].name);
		free(t->imports);
		ss_free_secret(t->region);
		ss_free_secret(t->secret_prefix);
		ss_free_secret(t->role_arn);
	}
	free(cfg->targets);
	ss_free_secret(cfg->github.status_context);
	ss_free_secret(cfg->github.token_secret);
	free(cfg);
}

const struct ss_config_target *ss_config_find_target(const struct ss_config *cfg,
						     const char *name)
{
	long i = ss_config_target_index(cfg, name);

	return i < 0 ? NULL : &cfg->targets[i];
}

const struct ss_config_source *ss_config_find_source(const struct ss_config *cfg,
						     const char *name)
{
	size_t i;

	if (cfg == NULL || name == NULL)
		return NULL;
	for (i = 0; i < cfg->nsources; i++)
		if (strcmp(cfg->sources[i].name, name) == 0)
			return &cfg->sources[i];
	return NULL;
}

long ss_config_target_index(const struct ss_config *cfg, const char *name)
{
	size_t i;

	if (cfg == NULL || name == NULL)
		return -1;
	for (i = 0; i < cfg->ntargets; i++)
		if (strcmp(cfg->targets[i].name, name) == 0)
			return (long)i;
	return -1;
}

void ss_config_closure(const struct ss_config *cfg, const unsigned char *want,
		       unsigned char *need)
{
	size_t i, j;

	for (i = 0; i < cfg->ntargets; i++)
		need[i] = want[i] ? 1 : 0;
	/* Imports come earlier in cfg->targets, so one backward pass marks
	 * every transitive dependency. */
	for (i = cfg->ntargets; i-- > 0;) {
		if (!need[i])
			continue;
		for (j = 0; j < cfg->targets[i].nimports; j++)
			if (cfg->targets[i].imports[j].is_target)
				need[cfg->targets[i].imports[j].index] = 1;
	}
}

static const struct ss_config *shard_cfg;

static int shard_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return strcmp(shard_cfg->targets[x].name, shard_cfg->targets[y].name);
}

enum ss_rc ss_config_shard(const struct ss_config *cfg, unsigned index, unsigned count,
			   unsigned char *want)
{
	size_t *order, i;

	memset(want, 0, cfg->ntargets);
	if (count == 0 || index == 0 || index > count)
		return SS_ERR_INVALID;
	if (cfg->ntargets == 0)
		return SS_OK;
	order = malloc(cfg->ntargets * sizeof(*order));
	if (order == NULL)
		return SS_ERR_NOMEM;
	for (i = 0; i < cfg->ntargets; i++)
		order[i] = i;
	shard_cfg = cfg;
	qsort(order, cfg->ntargets, sizeof(*order), shard_cmp);
	/* Names are unique: the order is total, so qsort is deterministic. */
	for (i = 0; i < cfg->ntargets; i++)
		want[order[i]] = i % count == index - 1;
	free(order);
	return SS_OK;
}

enum ss_rc ss_config_target_deps(const struct ss_config *cfg, size_t index,
				 size_t **out, size_t *n)
{
	unsigned char *want, *need;
	size_t i, cnt = 0;

	*out = NULL;
	*n = 0;
	if (index >= cfg->ntargets)
		return SS_ERR_INVALID;
	want = calloc(cfg->ntargets, 1);
	need = calloc(cfg->ntargets, 1);
	if (want == NULL || need == NULL) {
		free(want);
		free(need);
		return SS_ERR_NOMEM;
	}
	want[index] = 1;
	ss_config_closure(cfg, want, need);
	need[index] = 0;
	for (i = 0; i < cfg->ntargets; i++)
		cnt += need[i];
	if (cnt > 0) {
		*out = malloc(cnt * sizeof(**out));
		if (*out == NULL) {
			free(want);
			free(need);
			return SS_ERR_NOMEM;
		}
		for (i = 0; i < cfg->ntargets; i++)
			if (need[i])
				(*out)[(*n)++] = i;
	}
	free(want);
	free(need);
	return SS_OK;
}
