/* log.h - the logger; it writes only through the mask registry.
 *
 * Messages go to stderr (or the stream set by ss_log_set_stream) as
 * "secretsync: LEVEL: message\n"; the further lines of a multi-line
 * message follow as they are, except that none can start a workflow
 * command (a leading "::", after white space, shows as "\x3a:") and '\r'
 * and other control characters but tab show as \r, \xNN. In GitHub mode,
 * warnings and errors are written as "::warning::" / "::error::" workflow
 * commands instead, with the message escaped. Every message is redacted
 * by ss_mask_global() before it is written: a secret that reaches a log
 * call is printed as "***". The runner also takes the legacy "##[cmd]"
 * form anywhere in a line: the plain lines and everything ss_print
 * writes show "##[" as "##\u005b" (the same text in a JSON string).
 */
#ifndef SS_LOG_H
#define SS_LOG_H

#include <stdio.h>

enum ss_log_level {
	SS_LOG_DEBUG = 0,
	SS_LOG_INFO,
	SS_LOG_WARN,
	SS_LOG_ERROR,
	SS_LOG_QUIET
};

/* Set the lowest level that is printed (default SS_LOG_INFO). */
void ss_log_set_level(enum ss_log_level level);
enum ss_log_level ss_log_get_level(void);

/* Parse "debug", "info", "warn"/"warning", "error"; -1 if unknown. */
int ss_log_parse_level(const char *s);

/* Write to stream instead of stderr (NULL restores stderr). */
void ss_log_set_stream(FILE *stream);

/* Nonzero: format warnings and errors as GitHub workflow commands. */
void ss_log_set_github(int on);

void ss_log(enum ss_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define ss_debug(...) ss_log(SS_LOG_DEBUG, __VA_ARGS__)
#define ss_info(...) ss_log(SS_LOG_INFO, __VA_ARGS__)
#define ss_warn(...) ss_log(SS_LOG_WARN, __VA_ARGS__)
#define ss_error(...) ss_log(SS_LOG_ERROR, __VA_ARGS__)

/* Write already formatted text through the mask to a stream (used for
 * the plan, reports and anything else that prints), with "##[" as
 * "##\u005b". */
void ss_print(FILE *stream, const char *text);

#endif
