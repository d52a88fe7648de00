#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "ghcmd.h"
#include "mask.h"
#include "banned.h"

static enum ss_log_level log_level = SS_LOG_INFO;
static FILE *log_stream;
static int log_github;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void ss_log_set_level(enum ss_log_level level)
{
	log_level = level;
}

enum ss_log_level ss_log_get_level(void)
{
	return log_level;
}

int ss_log_parse_level(const char *s)
{
	if (s == NULL)
		return -1;
	if (strcasecmp(s, "debug") == 0)
		return SS_LOG_DEBUG;
	if (strcasecmp(s, "info") == 0)
		return SS_LOG_INFO;
	if (strcasecmp(s, "warn") == 0 || strcasecmp(s, "warning") == 0)
		return SS_LOG_WARN;
	if (strcasecmp(s, "error") == 0)
		return SS_LOG_ERROR;
	return -1;
}

void ss_log_set_stream(FILE *stream)
{
	log_stream = stream;
}

void ss_log_set_github(int on)
{
	log_github = on;
}

static const char *level_name(enum ss_log_level level)
{
	switch (level) {
	case SS_LOG_DEBUG: return "debug";
	case SS_LOG_INFO: return "info";
	case SS_LOG_WARN: return "warning";
	case SS_LOG_ERROR: return "error";
	case SS_LOG_QUIET: break;
	}
	return "log";
}

/* The Actions runner reads commands from every line a step prints, on
 * stdout and stderr: "::cmd::" at the start of a line (after white
 * space), and the legacy "##[cmd]" ANYWHERE in a line (ActionCommand.
 * TryParse uses IndexOf), where "##[stop-commands]x" turns command
 * processing off and "##[set-output name=n]v" sets an output. Names and
 * keys from secrets, and remote error text, reach printed lines, so
 * "##[" is never printed as such: it becomes "##\u005b", which reads
 * the same to a person and is the same text inside a JSON string (the
 * only place "##[" can occur in JSON). */
static const char legacy_prefix[] = "##[";
static const char legacy_safe[] = "##\\u005b";

/* Append in[0..len) to out with every "##[" neutralised. */
static enum ss_rc add_neutralised(struct ss_buf *out, const char *in, size_t len)
{
	const char *p = in, *end = in + len, *hit;
	enum ss_rc rc = SS_OK;

	while (rc == SS_OK && (hit = memmem(p, (size_t)(end - p), legacy_prefix, 3)) != NULL) {
		rc = ss_buf_add(out, p, (size_t)(hit - p));
		if (rc == SS_OK)
			rc = ss_buf_adds(out, legacy_safe);
		p = hit + 3;
	}
	if (rc == SS_OK)
		rc = ss_buf_add(out, p, (size_t)(end - p));
	return rc;
}

/* Write text to stream, falling back to a fixed notice when the text
 * cannot be redacted (out of memory): never the raw text. */
static void write_redacted(FILE *stream, const char *text, size_t len)
{
	struct ss_buf red, out;

	ss_buf_init(&red, 0);
	ss_buf_init(&out, 0);
	if (ss_mask_redact(ss_mask_global(), text, len, &red) == SS_OK &&
	    add_neutralised(&out, red.data, red.len) == SS_OK)
		fwrite(out.data, 1, out.len, stream);
	else
		fputs("secretsync: (message withheld: could not redact it)\n", stream);
	fflush(stream);
	ss_buf_free(&red);
	ss_buf_free(&out);
}

/* Append p[0..len) with control characters made visible: C0 controls
 * but tab (and, with keep_newlines, '\r' and '\n', which a workflow
 * command encodes itself), DEL and the C1 controls (UTF-8 C2 80..C2 9F,
 * which some terminals obey) as \xNN per byte, '\r' as \r. */
static enum ss_rc add_visible(struct ss_buf *out, const char *p, size_t len, int keep_newlines)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i;
	enum ss_rc rc = SS_OK;

	for (i = 0; rc == SS_OK && i < len; i++) {
		unsigned char c = s[i];

		if (keep_newlines && (c == '\r' || c == '\n'))
			rc = ss_buf_addc(out, (char)c);
		else if (c == '\r')
			rc = ss_buf_adds(out, "\\r");
		else if ((c < 0x20 && c != '\t') || c == 0x7f)
			rc = ss_buf_addf(out, "\\x%02x", c);
		else if (c == 0xc2 && i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] < 0xa0) {
			rc = ss_buf_addf(out, "\\x%02x\\x%02x", c, s[i + 1]);
			i++;
		} else
			rc = ss_buf_addc(out, (char)c);
	}
	return rc;
}

/* The length of the white space .NET's String.TrimStart would remove at
 * p (n bytes left): ASCII blanks and the Unicode space characters. */
static size_t dotnet_space_len(const unsigned char *p, size_t n)
{
	static const char *const wide[] = {"\xc2\x85", "\xc2\xa0", "\xe1\x9a\x80",
					   "\xe2\x80\xa8", "\xe2\x80\xa9", "\xe2\x80\xaf",
					   "\xe2\x81\x9f", "\xe3\x80\x80"};
	size_t i, k;

	if (n > 0 && (p[0] == ' ' || p[0] == '\t' || p[0] == '\v' || p[0] == '\f'))
		return 1;
	if (n >= 3 && p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0x80 && p[2] <= 0x8a)
		return 3; /* U+2000..U+200A */
	for (i = 0; i < sizeof(wide) / sizeof(wide[0]); i++) {
		k = strlen(wide[i]);
		if (n >= k && memcmp(p, wide[i], k) == 0)
			return k;
	}
	return 0;
}

/* Append the lines of msg[0..len) as plain log text: the first after
 * "secretsync: LEVEL: ", the others (a multi-line message such as an
 * HTTP debug dump) as they are, each ended by '\n'. No line can start a
 * workflow command: a line that would start with "::" once the runner
 * trims its white space gets its first ':' as \x3a. '\r' (which also
 * ends a line for the runner) and other control characters are made
 * visible; "##[" is neutralised. */
static enum ss_rc add_plain_lines(struct ss_buf *out, const char *level, const char *msg,
				  size_t len)
{
	const char *p = msg, *end = msg + len, *nl;
	struct ss_buf line;
	size_t i, k;
	int first = 1;
	enum ss_rc rc = SS_OK;

	ss_buf_init(&line, 0);
	do {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		ss_buf_reset(&line);
		rc = add_visible(&line, p, (size_t)(nl - p), 0);
		if (rc == SS_OK && first)
			rc = ss_buf_addf(out, "secretsync: %s: ", level);
		if (rc == SS_OK && !first) {
			for (i = 0; (k = dotnet_space_len((const unsigned char *)line.data + i,
							   line.len - i)) > 0;)
				i += k;
			if (line.len - i >= 2 && line.data[i] == ':' && line.data[i + 1] == ':') {
				rc = ss_buf_add(out, line.data, i);
				if (rc == SS_OK)
					rc = ss_buf_adds(out, "\\x3a");
				if (rc == SS_OK)
					rc = add_neutralised(out, line.data + i + 1, line.len - i - 1);
			} else {
				rc = add_neutralised(out, line.data, line.len);
			}
		} else if (rc == SS_OK) {
			rc = add_neutralised(out, line.data, line.len);
		}
		if (rc == SS_OK)
			rc = ss_buf_addc(out, '\n');
		first = 0;
		p = nl + 1;
	} while (rc == SS_OK && nl < end);
	ss_buf_free(&line);
	return rc;
}

void ss_log(enum ss_log_level level, const char *fmt, ...)
{
	struct ss_buf msg, line;
	va_list ap;
	enum ss_rc rc;
	FILE *stream = log_stream ? log_stream : stderr;

	if (level < log_level || level == SS_LOG_QUIET)
		return;
	ss_buf_init(&msg, 0);
	ss_buf_init(&line, 0);
	va_start(ap, fmt);
	rc = ss_buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	if (rc != SS_OK)
		goto out;
	/* Redact first, then escape: the mask sees the raw message text. */
	if (ss_mask_redact(ss_mask_global(), msg.data, msg.len, &line) != SS_OK)
		goto out;
	ss_buf_reset(&msg);
	if (log_github && (level == SS_LOG_WARN || level == SS_LOG_ERROR)) {
		/* The annotation is one workflow command (its newlines are
		 * encoded); other control characters are made visible. */
		rc = add_visible(&msg, line.data, line.len, 1);
		ss_buf_reset(&line);
		if (rc == SS_OK)
			rc = ss_buf_add(&line, msg.data, msg.len);
		ss_buf_reset(&msg);
		if (rc == SS_OK)
			rc = ss_ghcmd_format(&msg, level == SS_LOG_WARN ? "warning" : "error",
					     NULL, line.data);
	} else {
		rc = add_plain_lines(&msg, level_name(level), line.data, line.len);
	}
	if (rc != SS_OK)
		goto out;
	pthread_mutex_lock(&log_lock);
	fwrite(msg.data, 1, msg.len, stream);
	fflush(stream);
	pthread_mutex_unlock(&log_lock);
out:
	ss_buf_free(&msg);
	ss_buf_free(&line);
}

void ss_print(FILE *stream, const char *text)
{
	pthread_mutex_lock(&log_lock);
	write_redacted(stream, text, strlen(text));
	pthread_mutex_unlock(&log_lock);
}
