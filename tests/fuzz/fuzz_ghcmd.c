/* fuzz_ghcmd.c - workflow commands and file commands, read back the way
 * the Actions runner reads them.
 *
 * Input: one flags byte, then NUL-separated pieces: the command name, the
 * message, then up to three property name/value pairs; for the file
 * command, the first piece is the NAME and all the bytes after the flags
 * byte (NULs included) are the VALUE.
 *
 * Workflow commands: a line from ss_ghcmd_format holds exactly one '\n'
 * (at its end) and no '\r' (the runner splits output on both), and
 * parsing it with a re-implementation of the runner's reader
 * (ActionCommand.TryParseV2 with UnescapeData / UnescapeProperty) gives
 * back the command, every property with a non-empty value, and the
 * message, byte for byte. A refused command name or property name is
 * SS_ERR_INVALID and leaves the buffer as it was.
 *
 * File commands: the record from ss_ghfile_format, read with a
 * re-implementation of the runner's EnvFileKeyValuePairs (lines split at
 * '\n'; "NAME<<DELIM" ends at the first line equal to DELIM), gives back
 * exactly one pair, NAME and VALUE byte for byte; read at the start of a
 * file, its first bytes are not a byte order mark (which would make the
 * runner decode the file differently). The "random" bytes of the
 * delimiter can come from the input, so the fuzzer can plant the
 * delimiter inside the value: then a fresh one must be drawn, and when
 * every draw collides the call fails instead of writing a record the
 * runner would cut short.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/ghcmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PIECES 8

static void check(int ok)
{
	if (!ok)
		abort();
}

/* ---- a runner-like reader for workflow commands ---- */

/* Decode one UTF-8 character at p[0..n) into *cp; its length, or 1 with
 * *cp = 0xFFFD for an invalid byte (as the runner's decoder does). */
static size_t utf8_at(const unsigned char *p, size_t n, unsigned long *cp)
{
	size_t len, i;
	unsigned long c;

	*cp = 0xFFFD;
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
		return 1;
	if (n < len)
		return 1;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 1;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 1;
	*cp = c;
	return len;
}

/* .NET char.IsWhiteSpace for the characters String.Trim removes. */
static int dotnet_space(unsigned long c)
{
	return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
	       (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
	       c == 0x205f || c == 0x3000;
}

/* String.Trim (or with start_too == 0 String.TrimEnd) on
 * p[*start..*end) (UTF-8). */
static void dotnet_trim(const unsigned char *p, size_t *start, size_t *end, int start_too)
{
	unsigned long cp;
	size_t k, j;

	while (start_too && *start < *end) {
		k = utf8_at(p + *start, *end - *start, &cp);
		if (!dotnet_space(cp))
			break;
		*start += k;
	}
	while (*end > *start) {
		/* The last character: step back over continuation bytes. */
		for (j = *end - 1; j > *start && (p[j] & 0xc0) == 0x80 && *end - j < 4; j--)
			;
		k = utf8_at(p + j, *end - j, &cp);
		if (j + k != *end) {
			j = *end - 1;
			k = 1;
			cp = 0xFFFD;
		}
		/* A value's '\r' and '\n' were escaped: not white space
		 * any more by the time the runner trims. */
		if (!dotnet_space(cp) || (!start_too && (cp == '\r' || cp == '\n')))
			break;
		*end = j;
	}
}

/* String.Replace(from, to) on a malloc'd string of *len bytes. */
static char *replace(char *s, size_t *len, const char *from, char to)
{
	size_t i = 0, o = 0, fl = strlen(from);

	while (i < *len) {
		if (i + fl <= *len && memcmp(s + i, from, fl) == 0) {
			s[o++] = to;
			i += fl;
		} else {
			s[o++] = s[i++];
		}
	}
	*len = o;
	s[o] = '\0';
	return s;
}

static char *unescape(const char *p, size_t n, int prop, size_t *len)
{
	char *s = ss_strndup(p, n);

	check(s != NULL);
	*len = n;
	replace(s, len, "%0D", '\r');
	replace(s, len, "%0A", '\n');
	if (prop) {
		replace(s, len, "%3A", ':');
		replace(s, len, "%2C", ',');
	}
	return replace(s, len, "%25", '%');
}

struct parsed_prop {
	char *name, *value;
	size_t name_len, value_len;
};

struct parsed {
	char *cmd;
	char *data;
	size_t data_len;
	struct parsed_prop props[16];
	size_t nprops;
};

/* ActionCommand.TryParseV2 over the line l[0..n) (no newline). */
static int runner_parse(const char *l, size_t n, struct parsed *out)
{
	const char *endp, *info;
	size_t info_len, sp, ps, pe, i, j;

	memset(out, 0, sizeof(*out));
	if (n < 2 || memcmp(l, "::", 2) != 0)
		return 0;
	endp = memmem(l + 2, n - 2, "::", 2);
	if (endp == NULL)
		return 0;
	info = l + 2;
	info_len = (size_t)(endp - info);
	for (sp = 0; sp < info_len && info[sp] != ' '; sp++)
		;
	out->cmd = ss_strndup(info, sp);
	check(out->cmd != NULL);
	if (sp > 0 && sp < info_len) {
		ps = sp + 1;
		pe = info_len;
		dotnet_trim((const unsigned char *)info, &ps, &pe, 1);
		/* Split(',', RemoveEmptyEntries), then Split('=', 2,
		 * RemoveEmptyEntries): a pair needs a non-empty name and
		 * a non-empty value. */
		for (i = ps; i < pe; i = j + 1) {
			const char *item = info + i, *eq;
			size_t ilen, nl, vs;

			for (j = i; j < pe && info[j] != ','; j++)
				;
			ilen = j - i;
			if (ilen == 0)
				continue;
			eq = memchr(item, '=', ilen);
			if (eq == NULL)
				continue;
			nl = (size_t)(eq - item);
			vs = nl + 1;
			if (nl == 0)
				continue; /* never written: names are not empty */
			if (vs >= ilen)
				continue;
			check(out->nprops < 16);
			out->props[out->nprops].name = ss_strndup(item, nl);
			out->props[out->nprops].name_len = nl;
			out->props[out->nprops].value =
			    unescape(item + vs, ilen - vs, 1, &out->props[out->nprops].value_len);
			check(out->props[out->nprops].name != NULL);
			out->nprops++;
		}
	}
	out->data = unescape(endp + 2, n - (size_t)(endp + 2 - l), 0, &out->data_len);
	return 1;
}

static void parsed_free(struct parsed *p)
{
	size_t i;

	free(p->cmd);
	free(p->data);
	for (i = 0; i < p->nprops; i++) {
		free(p->props[i].name);
		free(p->props[i].value);
	}
}

static int cmd_name_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return 0;
	return 1;
}

/* Property names as ghcmd.h allows them: the same alphabet as command
 * names (a name with other white space would be trimmed by the runner). */
static int prop_name_ok(const char *s)
{
	return cmd_name_ok(s);
}

/* The value of property name as the runner would keep it (the last
 * pair with that name wins), or NULL. */
static const struct parsed_prop *find_prop(const struct parsed *p, const char *name)
{
	const struct parsed_prop *found = NULL;
	size_t i;

	for (i = 0; i < p->nprops; i++)
		if (strcmp(p->props[i].name, name) == 0)
			found = &p->props[i];
	return found;
}

/* The value the runner keeps for a property we wrote: String.Trim on
 * the whole property list drops white space at the end of the last
 * value (there is no escape for it), so compare after trimming that. */
static void check_commands(char **pieces, size_t npieces)
{
	const char *props[2 * 3 + 1];
	const char *cmd = pieces[0], *msg = npieces > 1 ? pieces[1] : NULL;
	struct ss_buf out;
	struct parsed p;
	size_t nprops = 0, i, k, last = (size_t)-1;
	int valid;
	enum ss_rc rc;

	valid = cmd_name_ok(cmd);
	for (i = 2; i + 1 < npieces && nprops < 3; i += 2) {
		props[2 * nprops] = pieces[i];
		/* An empty value stands for "leave the property out". */
		props[2 * nprops + 1] = pieces[i + 1][0] != '\0' ? pieces[i + 1] : NULL;
		if (!prop_name_ok(pieces[i]))
			valid = 0;
		if (props[2 * nprops + 1] != NULL)
			last = nprops;
		nprops++;
	}
	props[2 * nprops] = NULL;

	ss_buf_init(&out, 0);
	check(ss_buf_adds(&out, "x") == SS_OK);
	rc = ss_ghcmd_format(&out, cmd, props, msg);
	if (!valid) {
		check(rc == SS_ERR_INVALID && out.len == 1);
		ss_buf_free(&out);
		return;
	}
	check(rc == SS_OK);
	check(out.len >= 2 && out.data[out.len - 1] == '\n');
	check(memchr(out.data, '\r', out.len) == NULL);
	check(memchr(out.data, '\n', out.len - 1) == NULL);
	check(runner_parse(out.data + 1, out.len - 2, &p));
	check(strcmp(p.cmd, cmd) == 0);
	k = msg ? strlen(msg) : 0;
	check(p.data_len == k && (k == 0 || memcmp(p.data, msg, k) == 0));
	for (i = 0; i < nprops; i++) {
		const char *v = props[2 * i + 1];
		const struct parsed_prop *pp = find_prop(&p, props[2 * i]);
		size_t j, vs = 0, ve, others = 0;

		for (j = 0; j < nprops; j++)
			if (j != i && props[2 * j + 1] != NULL &&
			    strcmp(props[2 * j], props[2 * i]) == 0)
				others++;
		if (v == NULL) {
			if (others == 0)
				check(pp == NULL);
			continue;
		}
		if (others > 0)
			continue; /* which one the runner keeps is its business */
		ve = strlen(v);
		if (i == last)
			dotnet_trim((const unsigned char *)v, &vs, &ve, 0);
		if (vs == ve)
			continue; /* trimmed away entirely: the runner drops it */
		check(pp != NULL);
		check(pp->value_len == ve - vs && memcmp(pp->value, v + vs, ve - vs) == 0);
	}
	parsed_free(&p);

	/* The message alone, with any bytes (NULs included), for add-mask. */
	ss_buf_reset(&out);
	check(ss_ghcmd_escape_datan(&out, pieces[0], strlen(pieces[0])) == SS_OK);
	check(memchr(out.data, '\n', out.len) == NULL && memchr(out.data, '\r', out.len) == NULL);
	ss_buf_free(&out);
}

/* ---- a runner-like reader for file commands ---- */

struct pair {
	const char *name, *value;
	size_t name_len, value_len;
};

/* EnvFileKeyValuePairs over text[0..n) (Linux: lines end at '\n').
 * Returns the number of pairs (at most max), or -1 where the runner
 * would fail the step. */
static int runner_file_parse(const char *text, size_t n, struct pair *pairs, int max)
{
	size_t i = 0, eol, ls, le;
	int np = 0;

	while (i < n) {
		const char *nl = memchr(text + i, '\n', n - i);
		const char *line = text + i, *eq, *hd;
		size_t len;

		eol = nl ? (size_t)(nl - text) : n;
		len = eol - i;
		i = nl ? eol + 1 : n;
		if (len == 0)
			continue;
		eq = memchr(line, '=', len);
		hd = memmem(line, len, "<<", 2);
		if (np == max)
			return -1;
		if (eq != NULL && (hd == NULL || eq < hd)) {
			pairs[np].name = line;
			pairs[np].name_len = (size_t)(eq - line);
			pairs[np].value = eq + 1;
			pairs[np].value_len = len - (size_t)(eq + 1 - line);
			np++;
			continue;
		}
		if (hd == NULL)
			return -1;
		{
			const char *delim = hd + 2;
			size_t dlen = len - (size_t)(delim - line), start = i, end = i;
			int found = 0;

			if (hd == line || dlen == 0)
				return -1;
			while (i < n) {
				nl = memchr(text + i, '\n', n - i);
				if (nl == NULL)
					return -1; /* EOF marker missing new line */
				ls = i;
				le = (size_t)(nl - text);
				i = le + 1;
				if (le - ls == dlen && memcmp(text + ls, delim, dlen) == 0) {
					found = 1;
					break;
				}
				end = le;
			}
			if (!found)
				return -1;
			pairs[np].name = line;
			pairs[np].name_len = (size_t)(hd - line);
			pairs[np].value = text + start;
			pairs[np].value_len = end > start ? end - start : 0;
			np++;
		}
	}
	return np;
}

static const uint8_t *rnd_src;
static size_t rnd_len;
static unsigned rnd_draws;

/* Delimiter "randomness" from the input: the first draws repeat the
 * input's bytes (so a value can hold the delimiter), later ones count. */
static enum ss_rc fuzz_fill(unsigned char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = rnd_len ? rnd_src[i % rnd_len] : 0;
	if (rnd_draws >= (rnd_len ? rnd_src[0] % 80u : 0u))
		buf[0] ^= (unsigned char)(rnd_draws + 1);
	rnd_draws++;
	return SS_OK;
}

static int name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || strpbrk(s, "=\r\n") != NULL || strstr(s, "<<") != NULL || s[n - 1] == '<')
		return 0;
	return 1;
}

static int bom_at(const char *s, size_t n)
{
	return (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) ||
	       (n >= 2 && (memcmp(s, "\xff\xfe", 2) == 0 || memcmp(s, "\xfe\xff", 2) == 0));
}

static void check_file(const char *name, const char *value, size_t vlen, int fuzz_random,
		       const uint8_t *rnd, size_t rlen)
{
	struct ss_buf out;
	struct pair pairs[4];
	enum ss_rc rc;
	int np;

	rnd_src = rnd;
	rnd_len = rlen;
	rnd_draws = 0;
	ss_ghfile_set_random(fuzz_random ? fuzz_fill : NULL);
	ss_buf_init(&out, 0);
	rc = ss_ghfile_format(&out, name, value, vlen);
	ss_ghfile_set_random(NULL);
	if (!name_ok(name) || bom_at(name, strlen(name))) {
		check(rc == SS_ERR_INVALID && out.len == 0);
		ss_buf_free(&out);
		return;
	}
	if (rc == SS_ERR_INTERNAL) {
		/* Only when every draw collided with the value or name. */
		check(fuzz_random);
		ss_buf_free(&out);
		return;
	}
	check(rc == SS_OK);
	check(!bom_at(out.data, out.len));
	np = runner_file_parse(out.data, out.len, pairs, 4);
	check(np == 1);
	check(pairs[0].name_len == strlen(name) && memcmp(pairs[0].name, name, pairs[0].name_len) == 0);
	check(pairs[0].value_len == vlen && (vlen == 0 || memcmp(pairs[0].value, value, vlen) == 0));
	ss_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy, *pieces[MAX_PIECES];
	size_t npieces = 0, i;
	uint8_t flags;

	if (size < 1)
		return 0;
	flags = data[0];
	copy = malloc(size + 1);
	check(copy != NULL);
	memcpy(copy, data + 1, size - 1);
	copy[size - 1] = '\0';
	pieces[npieces++] = copy;
	for (i = 0; i < size - 1 && npieces < MAX_PIECES; i++) {
		if (copy[i] == '\0')
			pieces[npieces++] = copy + i + 1;
	}

	check_commands(pieces, npieces);
	/* NAME is the first piece, VALUE all the bytes (NULs too), or the
	 * second piece; the delimiter's bytes from the rest. */
	if (flags & 1)
		check_file(pieces[0], (const char *)data + 1, size - 1, (flags & 2) != 0,
			   data + 1, size - 1);
	else
		check_file(pieces[0], npieces > 1 ? pieces[1] : "", npieces > 1 ? strlen(pieces[1]) : 0,
			   (flags & 2) != 0, npieces > 2 ? (const uint8_t *)pieces[2] : data,
			   npieces > 2 ? strlen(pieces[2]) : size);
	free(copy);
	return 0;
}
