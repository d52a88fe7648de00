#include "xml.h"

#include <string.h>

#include "banned.h"

struct name {
	const char *p;
	size_t len;
};

/* What a query is doing during the walk. */
struct qstate {
	int depth; /* collecting the text at this depth; 0 = not collecting */
};

struct walk {
	const char *p, *end;
	struct name stack[SS_XML_MAX_DEPTH];
	int depth;
	int root_seen; /* the root element has been opened */
	struct ss_xml_query *q;
	struct qstate *qs;
	size_t nq;
};

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_name_char(char c)
{
	return !is_space(c) && c != '/' && c != '>' && c != '<' && c != '=' && c != '"' &&
	       c != '\'' && c != '&' && c != '!' && c != '?' && c != '\0';
}

/* Control characters XML forbids (tab, LF and CR are allowed). */
static int is_bad_control(unsigned char c)
{
	return c < 0x20 && c != '\t' && c != '\n' && c != '\r';
}

static int starts(const struct walk *w, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(w->end - w->p) >= n && memcmp(w->p, s, n) == 0;
}

/* Advance past the next occurrence of s; SS_ERR_PARSE if there is none
 * or a forbidden byte comes first. from and to get the bounds of the skipped content. */
static enum ss_rc skip_past(struct walk *w, const char *s, const char **from, const char **to)
{
	size_t n = strlen(s);
	const char *a = w->p, *hit;

	hit = memmem(a, (size_t)(w->end - a), s, n);
	if (hit == NULL)
		return SS_ERR_PARSE;
	for (; a < hit; a++)
		if (is_bad_control((unsigned char)*a))
			return SS_ERR_PARSE;
	if (from != NULL)
		*from = w->p;
	if (to != NULL)
		*to = hit;
	w->p = hit + n;
	return SS_OK;
}

static void skip_space(struct walk *w)
{
	while (w->p < w->end && is_space(*w->p))
		w->p++;
}

static enum ss_rc read_name(struct walk *w, struct name *out)
{
	const char *a = w->p;

	while (w->p < w->end && is_name_char(*w->p) && !is_bad_control((unsigned char)*w->p))
		w->p++;
	if (w->p == a)
		return SS_ERR_PARSE;
	if ((size_t)(w->p - a) > SS_XML_MAX_NAME)
		return SS_ERR_TOOBIG;
	out->p = a;
	out->len = (size_t)(w->p - a);
	return SS_OK;
}

/* The local part of a name (after the last ':'). */
static struct name local_name(struct name n)
{
	size_t i;

	for (i = n.len; i > 0; i--)
		if (n.p[i - 1] == ':') {
			n.p += i;
			n.len -= i;
			break;
		}
	return n;
}

/* Nonzero when path (already checked) matches the open elements. */
static int path_matches(const struct walk *w, const char *path)
{
	int anchored = path[0] == '/';
	const char *start = anchored ? path + 1 : path;
	const char *e = start + strlen(start);
	int level = w->depth - 1;

	while (e > start) {
		const char *b = e;
		struct name ln;

		while (b > start && b[-1] != '/')
			b--;
		if (level < 0)
			return 0;
		ln = local_name(w->stack[level]);
		if (ln.len != (size_t)(e - b) || memcmp(ln.p, b, ln.len) != 0)
			return 0;
		level--;
		e = b > start ? b - 1 : b;
		if (b == start)
			break;
	}
	return !anchored || level == -1;
}

static int path_ok(const char *path)
{
	const char *s;
	int parts = 0;

	if (path == NULL)
		return 0;
	s = path[0] == '/' ? path + 1 : path;
	if (*s == '\0')
		return 0;
	for (;;) {
		size_t n = strcspn(s, "/");

		if (n == 0 || n > SS_XML_MAX_NAME)
			return 0;
		if (++parts > SS_XML_MAX_DEPTH)
			return 0;
		if (s[n] == '\0')
			return 1;
		s += n + 1;
	}
}

/* Give len bytes of text to every query collecting at this depth. */
static enum ss_rc emit(struct walk *w, const char *s, size_t len)
{
	size_t i;
	enum ss_rc rc;

	if (len == 0)
		return SS_OK;
	for (i = 0; i < w->nq; i++)
		if (w->qs[i].depth == w->depth && w->q[i].out != NULL) {
			rc = ss_buf_add(w->q[i].out, s, len);
			if (rc != SS_OK)
				return rc;
		}
	return SS_OK;
}

static int collecting(const struct walk *w)
{
	size_t i;

	for (i = 0; i < w->nq; i++)
		if (w->qs[i].depth == w->depth)
			return 1;
	return 0;
}

/* Encode a code point as UTF-8 into out (4 bytes at most); its length. */
static size_t utf8(unsigned long cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Decode the entity at w->p ('&') into out; its byte length in *n. */
static enum ss_rc entity(struct walk *w, char out[4], size_t *n)
{
	static const struct {
		const char *name;
		char ch;
	} known[] = {{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
	const char *a = w->p + 1, *semi;
	size_t len, i;

	semi = memchr(a, ';', (size_t)(w->end - a) < 12 ? (size_t)(w->end - a) : 12);
	if (semi == NULL)
		return SS_ERR_PARSE;
	len = (size_t)(semi - a);
	w->p = semi + 1;
	if (len >= 2 && a[0] == '#') {
		unsigned long cp = 0;
		int hex = a[1] == 'x';
		size_t j = hex ? 2 : 1;

		if (j >= len)
			return SS_ERR_PARSE;
		for (; j < len; j++) {
			char c = a[j];
			unsigned d;

			if (c >= '0' && c <= '9')
				d = (unsigned)(c - '0');
			else if (hex && c >= 'a' && c <= 'f')
				d = (unsigned)(c - 'a' + 10);
			else if (hex && c >= 'A' && c <= 'F')
				d = (unsigned)(c - 'A' + 10);
			else
				return SS_ERR_PARSE;
			cp = cp * (hex ? 16 : 10) + d;
			if (cp > 0x10ffff)
				return SS_ERR_PARSE;
		}
		/* XML's Char production: no NUL, no other C0 controls but
		 * tab/LF/CR, no surrogates, no U+FFFE/U+FFFF. */
		if ((cp < 0x20 && cp != 0x9 && cp != 0xa && cp != 0xd) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
			return SS_ERR_PARSE;
		*n = utf8(cp, out);
		return SS_OK;
	}
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strlen(known[i].name) == len && memcmp(known[i].name, a, len) == 0) {
			out[0] = known[i].ch;
			*n = 1;
			return SS_OK;
		}
	return SS_ERR_PARSE;
}

/* Character data up to the next '<' (or the end). */
static enum ss_rc text(struct walk *w)
{
	const char *run = w->p;
	int keep = w->depth > 0 && collecting(w);
	enum ss_rc rc;

	while (w->p < w->end && *w->p != '<') {
		char c = *w->p;

		if (is_bad_control((unsigned char)c))
			return SS_ERR_PARSE;
		if (w->depth == 0 && !is_space(c))
			return SS_ERR_PARSE; /* text outside the root */
		if (c == '&') {
			char ch[4];
			size_t n = 0;

			if (keep && (rc = emit(w, run, (size_t)(w->p - run))) != SS_OK)
				return rc;
			rc = entity(w, ch, &n);
			if (rc != SS_OK)
				return rc;
			if (keep && (rc = emit(w, ch, n)) != SS_OK)
				return rc;
			run = w->p;
			continue;
		}
		w->p++;
	}
	return keep ? emit(w, run, (size_t)(w->p - run)) : SS_OK;
}

/* An attribute value: quoted, no '<', entities well formed. */
static enum ss_rc attr_value(struct walk *w)
{
	char quote;

	if (w->p >= w->end || (*w->p != '"' && *w->p != '\''))
		return SS_ERR_PARSE;
	quote = *w->p++;
	while (w->p < w->end && *w->p != quote) {
		char ch[4];
		size_t n;
		enum ss_rc rc;

		if (*w->p == '<' || is_bad_control((unsigned char)*w->p))
			return SS_ERR_PARSE;
		if (*w->p == '&') {
			rc = entity(w, ch, &n);
			if (rc != SS_OK)
				return rc;
			continue;
		}
		w->p++;
	}
	if (w->p >= w->end)
		return SS_ERR_PARSE;
	w->p++;
	return SS_OK;
}

static void close_element(struct walk *w)
{
	size_t i;

	for (i = 0; i < w->nq; i++)
		if (w->qs[i].depth == w->depth)
			w->qs[i].depth = 0;
	w->depth--;
}

static enum ss_rc start_tag(struct walk *w)
{
	struct name n;
	size_t i;
	enum ss_rc rc;
	int empty = 0;

	if (w->root_seen && w->depth == 0)
		return SS_ERR_PARSE; /* a second root */
	w->p++;			     /* '<' */
	rc = read_name(w, &n);
	if (rc != SS_OK)
		return rc;
	for (;;) {
		const char *before = w->p;
		struct name an;

		skip_space(w);
		if (w->p >= w->end)
			return SS_ERR_PARSE;
		if (*w->p == '>') {
			w->p++;
			break;
		}
		if (*w->p == '/') {
			if (w->end - w->p < 2 || w->p[1] != '>')
				return SS_ERR_PARSE;
			w->p += 2;
			empty = 1;
			break;
		}
		if (w->p == before)
			return SS_ERR_PARSE; /* attributes are separated by space */
		rc = read_name(w, &an);
		if (rc != SS_OK)
			return rc;
		skip_space(w);
		if (w->p >= w->end || *w->p != '=')
			return SS_ERR_PARSE;
		w->p++;
		skip_space(w);
		rc = attr_value(w);
		if (rc != SS_OK)
			return rc;
	}
	if (w->depth >= SS_XML_MAX_DEPTH)
		return SS_ERR_TOOBIG;
	w->stack[w->depth++] = n;
	w->root_seen = 1;
	for (i = 0; i < w->nq; i++)
		if (!w->q[i].found && w->qs[i].depth == 0 && path_matches(w, w->q[i].path)) {
			w->q[i].found = 1;
			w->qs[i].depth = w->depth;
		}
	if (empty)
		close_element(w);
	return SS_OK;
}

static enum ss_rc end_tag(struct walk *w)
{
	struct name n;
	const struct name *top;
	enum ss_rc rc;

	w->p += 2; /* "</" */
	rc = read_name(w, &n);
	if (rc != SS_OK)
		return rc;
	skip_space(w);
	if (w->p >= w->end || *w->p != '>')
		return SS_ERR_PARSE;
	w->p++;
	if (w->depth == 0)
		return SS_ERR_PARSE;
	top = &w->stack[w->depth - 1];
	if (top->len != n.len || memcmp(top->p, n.p, n.len) != 0)
		return SS_ERR_PARSE;
	close_element(w);
	return SS_OK;
}

static enum ss_rc walk_all(struct walk *w)
{
	enum ss_rc rc;
	const char *from, *to;

	if (starts(w, "\xef\xbb\xbf"))
		w->p += 3;
	while (w->p < w->end) {
		if (*w->p != '<') {
			rc = text(w);
		} else if (starts(w, "<?")) {
			w->p += 2;
			rc = skip_past(w, "?>", NULL, NULL);
		} else if (starts(w, "<!--")) {
			w->p += 4;
			rc = skip_past(w, "-->", NULL, NULL);
		} else if (starts(w, "<![CDATA[")) {
			if (w->depth == 0)
				return SS_ERR_PARSE;
			w->p += 9;
			rc = skip_past(w, "]]>", &from, &to);
			if (rc == SS_OK && collecting(w))
				rc = emit(w, from, (size_t)(to - from));
		} else if (starts(w, "<!")) {
			return SS_ERR_PARSE; /* DOCTYPE and friends: never */
		} else if (starts(w, "</")) {
			rc = end_tag(w);
		} else {
			rc = start_tag(w);
		}
		if (rc != SS_OK)
			return rc;
	}
	return w->root_seen && w->depth == 0 ? SS_OK : SS_ERR_PARSE;
}

enum ss_rc ss_xml_extract(const char *xml, size_t len, struct ss_xml_query *q, size_t nq)
{
	struct qstate qs[SS_XML_MAX_QUERIES];
	struct walk w;
	size_t i;
	enum ss_rc rc;

	for (i = 0; i < nq; i++) {
		q[i].found = 0;
		if (!path_ok(q[i].path))
			return SS_ERR_INVALID;
	}
	if (nq > sizeof(qs) / sizeof(qs[0]))
		return SS_ERR_INVALID;
	if (xml == NULL)
		return SS_ERR_PARSE;
	memset(qs, 0, sizeof(qs));
	memset(&w, 0, sizeof(w));
	w.p = xml;
	w.end = xml + len;
	w.q = q;
	w.qs = qs;
	w.nq = nq;
	rc = walk_all(&w);
	if (rc != SS_OK)
		for (i = 0; i < nq; i++)
			q[i].found = 0;
	return rc;
}

enum ss_rc ss_xml_text(const char *xml, size_t len, const char *path, struct ss_buf *out)
{
	struct ss_xml_query q = {path, out, 0};
	enum ss_rc rc = ss_xml_extract(xml, len, &q, 1);

	if (rc == SS_OK && !q.found)
		return SS_ERR_NOTFOUND;
	return rc;
}
