/* mask.c - the registry of secret values, and redaction through it.
 *
 * The values live in a compressed trie (a radix tree): every edge is
 * labelled with a run of bytes that points into one of the stored
 * values, and a node is terminal when the bytes from the root to it are
 * a registered value. The trie is the set (a value that ends on a
 * terminal node is a duplicate) and the redaction index at once.
 *
 * Redaction walks the trie from every position of the text and takes the
 * deepest terminal node it reaches: the longest value that starts there.
 * The cost per position is the length of the longest common prefix of
 * the text there with any value (a few bytes in real text), not the
 * number of values, and registering a value is O(its length), so values
 * can be added between redactions without rebuilding anything (an
 * Aho-Corasick automaton would have to recompute its failure links).
 *
 * Every byte covered by some occurrence of some value is masked:
 * occurrences that overlap or touch are merged into one "***", so two
 * overlapping secrets never leave the tail of one visible (the runner's
 * own masker merges the same way). For nested values this is "longest
 * match first".
 */
#include "mask.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ghcmd.h"
#include "banned.h"

/* JSON nesting deeper than cJSON's own parse limit is refused rather
 * than walked (a cJSON tree built by hand could be deeper). */
#define JSON_MAX_DEPTH (CJSON_NESTING_LIMIT + 1)

struct kid {
	unsigned char key; /* first byte of the child's label */
	uint32_t node;
};

struct node {
	const unsigned char *label; /* the edge into this node */
	size_t label_len;
	struct kid *kids; /* sorted by key, while the node has few */
	uint32_t *dense;  /* or indexed by key (0: none), once it has many */
	uint32_t nkids;
	uint32_t capkids;
	int term; /* the path to here is a registered value */
};

/* A node with more children than this gets a direct 256-entry table:
 * the few nodes near the root that branch widely are visited from
 * nearly every position of a text, and a table lookup is cheaper there
 * than a binary search. */
#define SPARSE_MAX 16

struct value {
	char *p;
	size_t len;
};

struct ss_mask {
	pthread_mutex_t lock;
	struct node *nodes; /* nodes[0] is the root */
	uint32_t nnodes;
	uint32_t capnodes;
	struct value *values; /* in the order they were registered */
	size_t nvalues;
	size_t capvalues;
	size_t announced; /* values[0..announced) were sent to an emitter */
	FILE *emitter;
};

struct ss_mask *ss_mask_new(void)
{
	struct ss_mask *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->capnodes = 64;
	m->nodes = calloc(m->capnodes, sizeof(*m->nodes));
	if (m->nodes != NULL)
		m->nodes[0].dense = calloc(256, sizeof(uint32_t));
	if (m->nodes == NULL || m->nodes[0].dense == NULL ||
	    pthread_mutex_init(&m->lock, NULL) != 0) {
		if (m->nodes != NULL)
			free(m->nodes[0].dense);
		free(m->nodes);
		free(m);
		return NULL;
	}
	m->nnodes = 1;
	return m;
}

void ss_mask_free(struct ss_mask *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nvalues; i++) {
		ss_memzero(m->values[i].p, m->values[i].len);
		free(m->values[i].p);
	}
	free(m->values);
	/* The child keys (and which dense slots are used) are bytes of
	 * the values. */
	for (i = 0; i < m->nnodes; i++) {
		ss_memzero(m->nodes[i].kids, m->nodes[i].capkids * sizeof(struct kid));
		free(m->nodes[i].kids);
		if (m->nodes[i].dense != NULL)
			ss_memzero(m->nodes[i].dense, 256 * sizeof(uint32_t));
		free(m->nodes[i].dense);
	}
	ss_memzero(m->nodes, m->capnodes * sizeof(struct node));
	free(m->nodes);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static struct ss_mask *global_mask;
static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
	global_mask = ss_mask_new();
}

struct ss_mask *ss_mask_global(void)
{
	pthread_once(&global_once, global_init);
	return global_mask;
}

/* ---- the trie ---- */

static uint32_t child(const struct ss_mask *m, uint32_t n, unsigned char c)
{
	const struct node *nd;
	uint32_t lo, hi, mid;

	nd = &m->nodes[n];
	if (nd->dense != NULL)
		return nd->dense[c];
	lo = 0;
	hi = nd->nkids;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (nd->kids[mid].key == c)
			return nd->kids[mid].node;
		if (nd->kids[mid].key < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Make room for one more child of node n: grow its sorted array, or
 * past SPARSE_MAX children turn it into a dense table. */
static enum ss_rc reserve_kid(struct ss_mask *m, uint32_t n)
{
	struct node *nd = &m->nodes[n];
	struct kid *k;
	uint32_t cap, i;

	if (nd->dense != NULL || nd->nkids < nd->capkids)
		return SS_OK;
	if (nd->nkids >= SPARSE_MAX) {
		nd->dense = calloc(256, sizeof(uint32_t));
		if (nd->dense == NULL)
			return SS_ERR_NOMEM;
		for (i = 0; i < nd->nkids; i++)
			nd->dense[nd->kids[i].key] = nd->kids[i].node;
		ss_memzero(nd->kids, nd->capkids * sizeof(*k));
		free(nd->kids);
		nd->kids = NULL;
		nd->capkids = 0;
		return SS_OK;
	}
	cap = nd->capkids ? nd->capkids * 2 : 2;
	k = malloc(cap * sizeof(*k));
	if (k == NULL)
		return SS_ERR_NOMEM;
	if (nd->nkids > 0)
		memcpy(k, nd->kids, nd->nkids * sizeof(*k));
	ss_memzero(nd->kids, nd->capkids * sizeof(*k));
	free(nd->kids);
	nd->kids = k;
	nd->capkids = cap;
	return SS_OK;
}

/* Set parent's child for key c to node (reserve_kid was called). */
static void set_kid(struct ss_mask *m, uint32_t parent, unsigned char c, uint32_t node)
{
	struct node *nd = &m->nodes[parent];
	uint32_t i;

	if (nd->dense != NULL) {
		if (nd->dense[c] == 0)
			nd->nkids++;
		nd->dense[c] = node;
		return;
	}
	for (i = 0; i < nd->nkids && nd->kids[i].key < c; i++)
		;
	if (i < nd->nkids && nd->kids[i].key == c) {
		nd->kids[i].node = node;
		return;
	}
	memmove(&nd->kids[i + 1], &nd->kids[i], (nd->nkids - i) * sizeof(struct kid));
	nd->kids[i].key = c;
	nd->kids[i].node = node;
	nd->nkids++;
}

static enum ss_rc reserve_nodes(struct ss_mask *m, uint32_t extra)
{
	struct node *n;
	uint32_t cap;

	if (m->capnodes - m->nnodes >= extra)
		return SS_OK;
	if (m->capnodes > UINT32_MAX / 2)
		return SS_ERR_TOOBIG;
	cap = m->capnodes * 2;
	n = realloc(m->nodes, cap * sizeof(*n));
	if (n == NULL)
		return SS_ERR_NOMEM;
	memset(n + m->capnodes, 0, (cap - m->capnodes) * sizeof(*n));
	m->nodes = n;
	m->capnodes = cap;
	return SS_OK;
}

static uint32_t new_node(struct ss_mask *m, const unsigned char *label, size_t len, int term)
{
	uint32_t id = m->nnodes++;
	struct node *nd = &m->nodes[id];

	memset(nd, 0, sizeof(*nd));
	nd->label = label;
	nd->label_len = len;
	nd->term = term;
	return id;
}

/* Insert key[0..len) (len > 0; the bytes must stay valid as long as the
 * registry: labels point into them). *added is 1 if the key was new, 0
 * if it was already there (then nothing changed). On failure nothing
 * changed either: all allocations happen before the first change. */
static enum ss_rc trie_insert(struct ss_mask *m, const unsigned char *key, size_t len, int *added)
{
	uint32_t n = 0, c, mid;
	size_t d = 0, k;
	struct node *cn;
	struct kid *kids;
	enum ss_rc rc;

	*added = 0;
	if ((rc = reserve_nodes(m, 2)) != SS_OK)
		return rc;
	for (;;) {
		if (d == len) {
			if (!m->nodes[n].term) {
				m->nodes[n].term = 1;
				*added = 1;
			}
			return SS_OK;
		}
		c = child(m, n, key[d]);
		if (c == 0) {
			/* A new leaf under n for the rest of the key. */
			if ((rc = reserve_kid(m, n)) != SS_OK)
				return rc;
			set_kid(m, n, key[d], new_node(m, key + d, len - d, 1));
			*added = 1;
			return SS_OK;
		}
		cn = &m->nodes[c];
		for (k = 1; k < cn->label_len && d + k < len && cn->label[k] == key[d + k]; k++)
			;
		if (k == cn->label_len) {
			n = c;
			d += k;
			continue;
		}
		/* The key leaves (or ends inside) c's edge after k bytes:
		 * split the edge with a new node mid holding c. */
		kids = malloc(2 * sizeof(*kids));
		if (kids == NULL)
			return SS_ERR_NOMEM;
		mid = new_node(m, cn->label, k, d + k == len);
		cn = &m->nodes[c];
		m->nodes[mid].kids = kids;
		m->nodes[mid].capkids = 2;
		m->nodes[mid].kids[0].key = cn->label[k];
		m->nodes[mid].kids[0].node = c;
		m->nodes[mid].nkids = 1;
		cn->label += k;
		cn->label_len -= k;
		set_kid(m, n, key[d], mid);
		if (d + k < len)
			set_kid(m, mid, key[d + k], new_node(m, key + d + k, len - d - k, 1));
		*added = 1;
		return SS_OK;
	}
}

/* The length of the longest registered value that is a prefix of
 * t[0..len), or 0. */
static size_t longest_at(const struct ss_mask *m, const unsigned char *t, size_t len)
{
	uint32_t n = 0, c;
	size_t d = 0, best = 0;
	const struct node *cn;

	for (;;) {
		if (m->nodes[n].term)
			best = d;
		if (d >= len)
			break;
		c = child(m, n, t[d]);
		if (c == 0)
			break;
		cn = &m->nodes[c];
		if (cn->label_len > len - d ||
		    (cn->label_len > 1 && memcmp(cn->label + 1, t + d + 1, cn->label_len - 1) != 0))
			break;
		d += cn->label_len;
		n = c;
	}
	return best;
}

/* ---- registering ---- */

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Nonzero if p[0..len) is worth masking: at least SS_MASK_MIN_LEN bytes
 * once surrounding white space is trimmed, and not a JSON literal or a
 * lone brace (masking those would wreck every log line). */
static int worth_masking(const char *p, size_t len)
{
	static const char *const literals[] = {"true", "false", "null", "{", "}"};
	size_t i;

	while (len > 0 && is_space(p[0])) {
		p++;
		len--;
	}
	while (len > 0 && is_space(p[len - 1]))
		len--;
	if (len < SS_MASK_MIN_LEN)
		return 0;
	for (i = 0; i < sizeof(literals) / sizeof(literals[0]); i++) {
		if (strlen(literals[i]) == len && memcmp(literals[i], p, len) == 0)
			return 0;
	}
	return 1;
}

/* Write "::add-mask::VALUE\n" for values[from..to) to the emitter. */
static enum ss_rc announce(struct ss_mask *m, size_t from, size_t to)
{
	struct ss_buf line;
	enum ss_rc rc = SS_OK;
	size_t i;

	ss_buf_init(&line, 0);
	for (i = from; i < to; i++) {
		ss_buf_reset(&line);
		if ((rc = ss_buf_adds(&line, "::add-mask::")) != SS_OK ||
		    (rc = ss_ghcmd_escape_datan(&line, m->values[i].p, m->values[i].len)) !=
			SS_OK ||
		    (rc = ss_buf_addc(&line, '\n')) != SS_OK)
			break;
		if (fwrite(line.data, 1, line.len, m->emitter) != line.len) {
			rc = SS_ERR_IO;
			break;
		}
	}
	if (fflush(m->emitter) != 0 && rc == SS_OK)
		rc = SS_ERR_IO;
	ss_buf_free(&line);
	return rc;
}

/* Register one candidate (lock held): filtered, deduplicated, stored,
 * and announced when an emitter is set. */
static enum ss_rc add_one(struct ss_mask *m, const char *p, size_t len)
{
	struct value *v;
	char *copy = NULL;
	size_t cap;
	int added = 0;
	enum ss_rc rc = SS_OK;

	if (!worth_masking(p, len))
		return SS_OK;
	if (m->nvalues == m->capvalues) {
		cap = m->capvalues ? m->capvalues * 2 : 16;
		v = realloc(m->values, cap * sizeof(*v));
		if (v == NULL)
			return SS_ERR_NOMEM;
		m->values = v;
		m->capvalues = cap;
	}
	copy = ss_strndup(p, len);
	if (copy == NULL)
		return SS_ERR_NOMEM;
	if ((rc = trie_insert(m, (const unsigned char *)copy, len, &added)) != SS_OK || !added) {
		ss_memzero(copy, len);
		free(copy);
		return rc;
	}
	m->values[m->nvalues].p = copy;
	m->values[m->nvalues].len = len;
	m->nvalues++;
	if (m->emitter != NULL) {
		rc = announce(m, m->announced, m->nvalues);
		m->announced = m->nvalues;
	}
	return rc;
}

/* Register p[0..len) and each of its non-empty lines (lock held). */
static enum ss_rc add_text(struct ss_mask *m, const char *p, size_t len)
{
	const char *end = p + len, *line = p, *nl;
	size_t l;
	enum ss_rc rc;

	if ((rc = add_one(m, p, len)) != SS_OK)
		return rc;
	while (line < end) {
		nl = memchr(line, '\n', (size_t)(end - line));
		l = (size_t)((nl ? nl : end) - line);
		if (l > 0 && line[l - 1] == '\r')
			l--;
		if (l > 0 && (rc = add_one(m, line, l)) != SS_OK)
			return rc;
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	return SS_OK;
}

static enum ss_rc add_leaves(struct ss_mask *m, const cJSON *v, int depth)
{
	const cJSON *c;
	enum ss_rc rc;

	if (depth > JSON_MAX_DEPTH)
		return SS_ERR_INVALID;
	if (cJSON_IsString(v) && v->valuestring != NULL)
		return add_text(m, v->valuestring, strlen(v->valuestring));
	if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
		return SS_OK;
	for (c = v->child; c != NULL; c = c->next) {
		if ((rc = add_leaves(m, c, depth + 1)) != SS_OK)
			return rc;
	}
	return SS_OK;
}

/* cJSON frees without zeroing: clear every string of the tree first
 * (recursion depth is bounded by cJSON's nesting limit). */
static void zero_json(cJSON *v)
{
	for (; v != NULL; v = v->next) {
		if (v->valuestring != NULL)
			ss_memzero(v->valuestring, strlen(v->valuestring));
		if (v->string != NULL)
			ss_memzero(v->string, strlen(v->string));
		zero_json(v->child);
	}
}

/* If p[0..len) is a JSON object or array (and nothing else but white
 * space), register its compact text and its string leaves (lock held).
 * Text that is not JSON is no error: it was registered as text. */
static enum ss_rc add_json_text(struct ss_mask *m, const char *p, size_t len)
{
	cJSON *root = NULL;
	const char *end = NULL;
	char *compact = NULL;
	size_t i, cap;
	int tries;
	enum ss_rc rc = SS_OK;

	for (i = 0; i < len && is_space(p[i]); i++)
		;
	if (i == len || (p[i] != '{' && p[i] != '['))
		return SS_OK;
	root = cJSON_ParseWithLengthOpts(p, len, &end, 0);
	if (root == NULL || (!cJSON_IsObject(root) && !cJSON_IsArray(root)))
		goto out;
	for (i = (size_t)(end - p); i < len && is_space(p[i]); i++)
		;
	if (i < len)
		goto out;
	/* Print into our own buffer: cJSON's printer reallocs and would
	 * leave copies of the secrets behind in freed memory. */
	for (cap = len + 64, tries = 0; tries < 4 && cap < 0x7fffffff; tries++, cap *= 2) {
		compact = malloc(cap);
		if (compact == NULL) {
			rc = SS_ERR_NOMEM;
			goto out;
		}
		if (cJSON_PrintPreallocated(root, compact, (int)cap, 0))
			break;
		ss_memzero(compact, cap);
		free(compact);
		compact = NULL;
	}
	if (compact != NULL && (rc = add_one(m, compact, strlen(compact))) != SS_OK)
		goto out;
	rc = add_leaves(m, root, 0);
out:
	if (compact != NULL) {
		ss_memzero(compact, cap);
		free(compact);
	}
	zero_json(root);
	cJSON_Delete(root);
	return rc;
}

enum ss_rc ss_mask_addn(struct ss_mask *m, const char *value, size_t len)
{
	enum ss_rc rc;

	if (m == NULL)
		return SS_ERR_NOMEM;
	if (value == NULL)
		return len ? SS_ERR_INVALID : SS_OK;
	pthread_mutex_lock(&m->lock);
	rc = add_text(m, value, len);
	if (rc == SS_OK)
		rc = add_json_text(m, value, len);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

enum ss_rc ss_mask_add(struct ss_mask *m, const char *value)
{
	return ss_mask_addn(m, value, value ? strlen(value) : 0);
}

enum ss_rc ss_mask_add_json(struct ss_mask *m, const struct cJSON *v)
{
	enum ss_rc rc;

	if (m == NULL)
		return SS_ERR_NOMEM;
	if (v == NULL)
		return SS_OK;
	pthread_mutex_lock(&m->lock);
	rc = add_leaves(m, v, 0);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

void ss_mask_set_emitter(struct ss_mask *m, FILE *out)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	m->emitter = out;
	if (out != NULL) {
		/* Nowhere to report a failure: ss_mask_add reports the
		 * next one. */
		(void)announce(m, m->announced, m->nvalues);
		m->announced = m->nvalues;
	}
	pthread_mutex_unlock(&m->lock);
}

size_t ss_mask_count(const struct ss_mask *m)
{
	struct ss_mask *mm = (struct ss_mask *)m; /* the lock is not const */
	size_t n;

	if (mm == NULL)
		return 0;
	pthread_mutex_lock(&mm->lock);
	n = mm->nvalues;
	pthread_mutex_unlock(&mm->lock);
	return n;
}

/* ---- redacting ---- */

enum ss_rc ss_mask_redact(struct ss_mask *m, const char *in, size_t len, struct ss_buf *out)
{
	const unsigned char *t = (const unsigned char *)in;
	size_t start = out->len, copied = 0, run_s = 0, run_e = 0, i, l;
	int have_run = 0;
	enum ss_rc rc = SS_OK;

	if (m == NULL)
		return SS_ERR_NOMEM;
	if (in == NULL && len > 0)
		return SS_ERR_INVALID;
	pthread_mutex_lock(&m->lock);
	for (i = 0; m->nvalues > 0 && i + SS_MASK_MIN_LEN <= len; i++) {
		if (m->nodes[0].dense[t[i]] == 0 || (l = longest_at(m, t + i, len - i)) == 0)
			continue;
		if (have_run && i <= run_e) {
			/* Overlaps or touches the current run: extend it. */
			if (i + l > run_e)
				run_e = i + l;
			continue;
		}
		if (have_run && ((rc = ss_buf_add(out, in + copied, run_s - copied)) != SS_OK ||
				 (rc = ss_buf_adds(out, SS_MASK_REPLACEMENT)) != SS_OK))
			goto out;
		copied = run_e;
		run_s = i;
		run_e = i + l;
		have_run = 1;
	}
	if (have_run && ((rc = ss_buf_add(out, in + copied, run_s - copied)) != SS_OK ||
			 (rc = ss_buf_adds(out, SS_MASK_REPLACEMENT)) != SS_OK))
		goto out;
	if (have_run)
		copied = run_e;
	rc = ss_buf_add(out, in + copied, len - copied);
out:
	pthread_mutex_unlock(&m->lock);
	if (rc != SS_OK)
		ss_buf_truncate(out, start);
	return rc;
}

char *ss_mask_redact_str(struct ss_mask *m, const char *s)
{
	struct ss_buf b;
	char *r = NULL;
	size_t len;

	if (s == NULL)
		return NULL;
	len = strlen(s);
	/* Every value is longer than the replacement: the text can only
	 * shrink. */
	ss_buf_init(&b, len + 4);
	if (ss_mask_redact(m, s, len, &b) != SS_OK || ss_buf_take(&b, &r) != SS_OK)
		r = NULL;
	ss_buf_free(&b);
	return r;
}

int ss_mask_contains(struct ss_mask *m, const char *s, size_t len)
{
	const unsigned char *t = (const unsigned char *)s;
	size_t i;
	int found = 0;

	if (m == NULL || s == NULL)
		return 0;
	pthread_mutex_lock(&m->lock);
	for (i = 0; m->nvalues > 0 && i + SS_MASK_MIN_LEN <= len && !found; i++)
		found = m->nodes[0].dense[t[i]] != 0 && longest_at(m, t + i, len - i) > 0;
	pthread_mutex_unlock(&m->lock);
	return found;
}
