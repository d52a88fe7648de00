/* ghcmd.h - GitHub Actions workflow commands and file commands.
 *
 * Workflow commands ("::name prop=v,prop=v::message") use the runner's
 * escaping: in the message '%' -> %25, '\r' -> %0D, '\n' -> %0A; in a
 * property value additionally ':' -> %3A and ',' -> %2C.
 *
 * File commands (GITHUB_OUTPUT, GITHUB_ENV) are written as
 *   NAME<<DELIM\nVALUE\nDELIM\n
 * with DELIM = "ghadelimiter_" + 32 hex chars from getrandom(), checked
 * not to occur in the value or the name (a new one is drawn if it does).
 */
#ifndef SS_GHCMD_H
#define SS_GHCMD_H

#include <stddef.h>

#include "buf.h"
#include "rc.h"

/* Append s escaped as a workflow command message. */
enum ss_rc ss_ghcmd_escape_data(struct ss_buf *out, const char *s) SS_MUST_CHECK;

/* Append len bytes at s escaped as a workflow command message (s may
 * hold NUL bytes; they are copied as they are). On failure out is left
 * as it was. */
enum ss_rc ss_ghcmd_escape_datan(struct ss_buf *out, const char *s, size_t len) SS_MUST_CHECK;

/* Append s escaped as a workflow command property value. */
enum ss_rc ss_ghcmd_escape_prop(struct ss_buf *out, const char *s) SS_MUST_CHECK;

/* Append one full command line (with trailing '\n'):
 * "::" cmd [" " props] "::" escaped(message). props is a NULL-terminated
 * array of name, value pairs (values escaped), or NULL; a pair whose
 * value is NULL is left out. cmd and every property name must be
 * non-empty [A-Za-z0-9_-] (else SS_ERR_INVALID). A NULL message is "".
 * On failure out is left as it was. The runner trims white space at the
 * end of the last property value (no escape keeps it). */
enum ss_rc ss_ghcmd_format(struct ss_buf *out, const char *cmd,
			   const char *const *props, const char *message) SS_MUST_CHECK;

/* Fill delim (at least 46 bytes) with a fresh random delimiter that does
 * not occur in name or value. SS_ERR_IO if the CSPRNG fails. */
enum ss_rc ss_ghfile_delimiter(char *delim, size_t size, const char *name,
			       const char *value, size_t value_len) SS_MUST_CHECK;

/* Nonzero if name can be written as a file command: not empty, no '=',
 * '\n', '\r' or "<<", not ending in '<' (the runner would read
 * "a<<<DELIM" as name "a" with delimiter "<DELIM"), and not starting
 * with a byte order mark (EF BB BF, FF FE, FE FF), which the runner
 * would take for the file's encoding. */
int ss_ghfile_name_ok(const char *name);

/* Append the heredoc form of NAME=VALUE to out. A name that
 * ss_ghfile_name_ok refuses gives SS_ERR_INVALID. On failure out is left
 * as it was. */
enum ss_rc ss_ghfile_format(struct ss_buf *out, const char *name,
			    const char *value, size_t value_len) SS_MUST_CHECK;

/* Append NAME=VALUE to the file at path (opened O_APPEND, 0600 when it
 * is created) in one write. SS_ERR_IO names nothing; the caller reports
 * the path. */
enum ss_rc ss_ghfile_append(const char *path, const char *name,
			    const char *value, size_t value_len) SS_MUST_CHECK;

/* Tests only: draw delimiter bytes from fill instead of getrandom()
 * (NULL restores getrandom). Not thread-safe. */
void ss_ghfile_set_random(enum ss_rc (*fill)(unsigned char *buf, size_t len));

#endif
