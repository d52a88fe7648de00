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

/* Write text to stream, falling back to a fixed notice when the text
 * cannot be redacted (out of memory): never the raw text. */
static void write_redacted(FILE *stream, const char *text, size_t len)
{
	struct ss_buf out;

	ss_buf_init(&out, 0);
	if (ss_mask_redact(ss_mask_global(), text, len, &out) == SS_OK)
		fwrite(out.data, 1, out.len, stream);
	else
		fputs("secretsync: (message withheld: could not redact it)\n", stream);
	fflush(stream);
	ss_buf_free(&out);
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
		rc = ss_ghcmd_format(&msg, level == SS_LOG_WARN ? "warning" : "error",
				     NULL, line.data);
	} else {
		rc = ss_buf_addf(&msg, "secretsync: %s: %s\n", level_name(level), line.data);
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
