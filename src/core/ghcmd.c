/* ghcmd.c - GitHub Actions workflow commands and file commands.
 *
 * The escaping mirrors the runner's unescaping (ActionCommand.cs): it
 * replaces %0D, %0A (and %3A, %2C in properties) first and %25 last, so
 * every '%' we write must start one of those codes.
 *
 * The file command reader (the runner's EnvFileKeyValuePairs) splits the
 * file on '\n' only, takes "NAME<<DELIM" as the start of a heredoc that
 * ends at the first line exactly equal to DELIM, and takes the bytes in
 * between, less the last '\n', as the value. A value can therefore hold
 * anything, '\r' and NUL included, as long as no line of it equals the
 * delimiter: we make sure the delimiter does not occur in it at all.
 */
#include "ghcmd.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "banned.h"

#define DELIM_PREFIX	   "ghadelimiter_"
#define DELIM_PREFIX_LEN   (sizeof(DELIM_PREFIX) - 1)
#define DELIM_RANDOM_BYTES 16
#define DELIM_LEN	   (DELIM_PREFIX_LEN + 2 * DELIM_RANDOM_BYTES)

/* A value that held a fresh random delimiter this many times in a row
 * means the random source is broken, not that we were unlucky. */
#define DELIM_MAX_DRAWS 64

static enum ss_rc os_random(unsigned char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = getrandom(buf + got, len - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return SS_ERR_IO;
		}
		got += (size_t)n;
	}
	return SS_OK;
}

static enum ss_rc (*random_fill)(unsigned char *, size_t) = os_random;

void ss_ghfile_set_random(enum ss_rc (*fill)(unsigned char *buf, size_t len))
{
	random_fill = fill ? fill : os_random;
}

/* Append len bytes at s, replacing '%', '\r', '\n' (and with prop set
 * also ':' and ',') by their %XX codes. Runs of plain bytes are copied
 * in one append. */
static enum ss_rc escape(struct ss_buf *out, const char *s, size_t len, int prop)
{
	size_t start = out->len, i, run = 0;
	const char *code;
	enum ss_rc rc = SS_OK;

	for (i = 0; i < len; i++) {
		switch (s[i]) {
		case '%': code = "%25"; break;
		case '\r': code = "%0D"; break;
		case '\n': code = "%0A"; break;
		case ':': code = prop ? "%3A" : NULL; break;
		case ',': code = prop ? "%2C" : NULL; break;
		default: code = NULL; break;
		}
		if (code == NULL)
			continue;
		if ((rc = ss_buf_add(out, s + run, i - run)) != SS_OK ||
		    (rc = ss_buf_add(out, code, 3)) != SS_OK)
			goto out;
		run = i + 1;
	}
	rc = ss_buf_add(out, s + run, len - run);
out:
	if (rc != SS_OK)
		ss_buf_truncate(out, start);
	return rc;
}

enum ss_rc ss_ghcmd_escape_data(struct ss_buf *out, const char *s)
{
	return escape(out, s, strlen(s), 0);
}

enum ss_rc ss_ghcmd_escape_datan(struct ss_buf *out, const char *s, size_t len)
{
	return escape(out, s, len, 0);
}

enum ss_rc ss_ghcmd_escape_prop(struct ss_buf *out, const char *s)
{
	return escape(out, s, strlen(s), 1);
}

static int cmd_ok(const char *cmd)
{
	const char *p;

	if (cmd == NULL || *cmd == '\0')
		return 0;
	for (p = cmd; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return 0;
	}
	return 1;
}

/* Property names take the command-name alphabet: the runner trims the
 * property list with .NET's String.Trim, so a name starting with other
 * white space (a tab, U+00A0, ...) would come out renamed. */
static int prop_name_ok(const char *name)
{
	return cmd_ok(name);
}

enum ss_rc ss_ghcmd_format(struct ss_buf *out, const char *cmd, const char *const *props,
			   const char *message)
{
	size_t start = out->len, i;
	int first = 1;
	enum ss_rc rc;

	if (!cmd_ok(cmd))
		return SS_ERR_INVALID;
	for (i = 0; props != NULL && props[i] != NULL; i += 2) {
		if (!prop_name_ok(props[i]))
			return SS_ERR_INVALID;
	}
	if ((rc = ss_buf_add(out, "::", 2)) != SS_OK || (rc = ss_buf_adds(out, cmd)) != SS_OK)
		goto out;
	for (i = 0; props != NULL && props[i] != NULL; i += 2) {
		if (props[i + 1] == NULL)
			continue;
		if ((rc = ss_buf_addc(out, first ? ' ' : ',')) != SS_OK ||
		    (rc = ss_buf_adds(out, props[i])) != SS_OK ||
		    (rc = ss_buf_addc(out, '=')) != SS_OK ||
		    (rc = ss_ghcmd_escape_prop(out, props[i + 1])) != SS_OK)
			goto out;
		first = 0;
	}
	if ((rc = ss_buf_add(out, "::", 2)) != SS_OK ||
	    (rc = ss_ghcmd_escape_data(out, message ? message : "")) != SS_OK ||
	    (rc = ss_buf_addc(out, '\n')) != SS_OK)
		goto out;
out:
	if (rc != SS_OK)
		ss_buf_truncate(out, start);
	return rc;
}

enum ss_rc ss_ghfile_delimiter(char *delim, size_t size, const char *name, const char *value,
			       size_t value_len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[DELIM_RANDOM_BYTES];
	size_t i;
	int draw;
	enum ss_rc rc = SS_ERR_INTERNAL;

	if (delim == NULL || size < DELIM_LEN + 1)
		return SS_ERR_INVALID;
	memcpy(delim, DELIM_PREFIX, DELIM_PREFIX_LEN);
	for (draw = 0; draw < DELIM_MAX_DRAWS; draw++) {
		if (random_fill(rnd, sizeof(rnd)) != SS_OK) {
			rc = SS_ERR_IO;
			break;
		}
		for (i = 0; i < sizeof(rnd); i++) {
			delim[DELIM_PREFIX_LEN + 2 * i] = hex[rnd[i] >> 4];
			delim[DELIM_PREFIX_LEN + 2 * i + 1] = hex[rnd[i] & 0xf];
		}
		delim[DELIM_LEN] = '\0';
		if ((name == NULL || strstr(name, delim) == NULL) &&
		    (value == NULL || memmem(value, value_len, delim, DELIM_LEN) == NULL)) {
			rc = SS_OK;
			break;
		}
		rc = SS_ERR_INTERNAL;
	}
	ss_memzero(rnd, sizeof(rnd));
	if (rc != SS_OK)
		ss_memzero(delim, size);
	return rc;
}

int ss_ghfile_name_ok(const char *name)
{
	size_t len;

	if (name == NULL || (len = strlen(name)) == 0)
		return 0;
	if (strpbrk(name, "=\r\n") != NULL || strstr(name, "<<") != NULL)
		return 0;
	/* The runner reads the file with a byte order mark sniffer: a
	 * record at the start of the file that began with one would lose
	 * it from its name (UTF-8) or turn the file into UTF-16 text. */
	if (strncmp(name, "\xef\xbb\xbf", 3) == 0 || strncmp(name, "\xff\xfe", 2) == 0 ||
	    strncmp(name, "\xfe\xff", 2) == 0)
		return 0;
	return name[len - 1] != '<';
}

enum ss_rc ss_ghfile_format(struct ss_buf *out, const char *name, const char *value,
			    size_t value_len)
{
	char delim[DELIM_LEN + 1];
	size_t start = out->len;
	enum ss_rc rc;

	if (!ss_ghfile_name_ok(name) || (value == NULL && value_len > 0))
		return SS_ERR_INVALID;
	if ((rc = ss_ghfile_delimiter(delim, sizeof(delim), name, value, value_len)) != SS_OK)
		return rc;
	if ((rc = ss_buf_adds(out, name)) != SS_OK || (rc = ss_buf_add(out, "<<", 2)) != SS_OK ||
	    (rc = ss_buf_add(out, delim, DELIM_LEN)) != SS_OK ||
	    (rc = ss_buf_addc(out, '\n')) != SS_OK ||
	    (rc = ss_buf_add(out, value, value_len)) != SS_OK ||
	    (rc = ss_buf_addc(out, '\n')) != SS_OK ||
	    (rc = ss_buf_add(out, delim, DELIM_LEN)) != SS_OK ||
	    (rc = ss_buf_addc(out, '\n')) != SS_OK)
		ss_buf_truncate(out, start);
	return rc;
}

/* Write all of p, retrying on EINTR and after partial writes. */
static enum ss_rc write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return SS_ERR_IO;
		}
		if (n == 0)
			return SS_ERR_IO;
		p += n;
		len -= (size_t)n;
	}
	return SS_OK;
}

enum ss_rc ss_ghfile_append(const char *path, const char *name, const char *value, size_t value_len)
{
	struct ss_buf rec;
	size_t namelen;
	int fd = -1;
	enum ss_rc rc;

	/* The record is name, value, two delimiters and a few separators:
	 * cap the buffer at exactly that so a huge value is refused
	 * rather than cut. */
	ss_buf_init(&rec, 0);
	if (path == NULL || !ss_ghfile_name_ok(name)) {
		rc = SS_ERR_INVALID;
		goto out;
	}
	namelen = strlen(name);
	if (value_len > ((size_t)-1) / 2 - namelen - 2 * DELIM_LEN - 16) {
		rc = SS_ERR_TOOBIG;
		goto out;
	}
	rec.max = namelen + value_len + 2 * DELIM_LEN + 16;
	if ((rc = ss_ghfile_format(&rec, name, value, value_len)) != SS_OK)
		goto out;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = SS_ERR_IO;
		goto out;
	}
	rc = write_all(fd, rec.data, rec.len);
out:
	if (fd >= 0 && close(fd) != 0 && rc == SS_OK)
		rc = SS_ERR_IO;
	ss_buf_free(&rec);
	return rc;
}
