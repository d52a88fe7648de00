/* mask.h - the registry of secret values, and redaction through it.
 *
 * Every value read from Vault or AWS and every token is registered here
 * before anything else happens with it (SPEC §6). Registering a value
 * registers the whole value and each of its non-empty lines (split at
 * '\n', a trailing '\r' cut); a JSON object or array registers each
 * string leaf, with its lines, (and the whole compact text). Values
 * shorter than SS_MASK_MIN_LEN bytes and the literals "true", "false",
 * "null", "{", "}" are ignored, both judged once surrounding white space
 * is trimmed (a "  }," line of pretty JSON is not a secret): masking them
 * would wreck every log line. Registering a value twice does nothing.
 *
 * When an emitter is set (GitHub output mode), each newly registered
 * value is announced once as "::add-mask::VALUE" with the workflow
 * command escaping of ghcmd.h, before ss_mask_add returns.
 *
 * The process has one registry (ss_mask_global); everything that prints
 * goes through ss_mask_redact. The registry is thread-safe.
 */
#ifndef SS_MASK_H
#define SS_MASK_H

#include <stdio.h>
#include <stddef.h>

#include "buf.h"
#include "rc.h"

#define SS_MASK_MIN_LEN 4
#define SS_MASK_REPLACEMENT "***"

struct cJSON;
struct ss_mask;

/* A new empty registry, or NULL on allocation failure. */
struct ss_mask *ss_mask_new(void);

/* Zero every stored value and free the registry. NULL is fine. */
void ss_mask_free(struct ss_mask *m);

/* The process-wide registry (created on first use, never NULL unless
 * allocation fails at start-up). */
struct ss_mask *ss_mask_global(void);

/* Announce newly registered values as "::add-mask::" lines on out (NULL
 * turns announcing off). Values registered earlier are announced now. */
void ss_mask_set_emitter(struct ss_mask *m, FILE *out);

/* Register a NUL-terminated value (and its lines). If the text parses as
 * a JSON object or array, its string leaves are registered too.
 * SS_ERR_IO: registered, but the add-mask line could not be written. */
enum ss_rc ss_mask_add(struct ss_mask *m, const char *value) SS_MUST_CHECK;

/* Register len bytes at value (may hold NULs; they split nothing). */
enum ss_rc ss_mask_addn(struct ss_mask *m, const char *value, size_t len) SS_MUST_CHECK;

/* Register every string leaf of a cJSON value (and numbers' text is not
 * registered: they are not secrets on their own). */
enum ss_rc ss_mask_add_json(struct ss_mask *m, const struct cJSON *v) SS_MUST_CHECK;

/* Number of distinct values registered. */
size_t ss_mask_count(const struct ss_mask *m);

/* Append in[0..len) to out with every registered value replaced by
 * SS_MASK_REPLACEMENT (longest match first). Every byte inside any
 * occurrence is masked: occurrences that overlap or touch become one
 * SS_MASK_REPLACEMENT, so no part of an overlapping secret shows. Cost
 * per byte of text is independent of the number of values. On failure
 * out is left as it was. */
enum ss_rc ss_mask_redact(struct ss_mask *m, const char *in, size_t len,
			  struct ss_buf *out) SS_MUST_CHECK;

/* Convenience: a malloc'd redacted copy of s, or NULL on failure. */
char *ss_mask_redact_str(struct ss_mask *m, const char *s);

/* Nonzero if s contains any registered value. */
int ss_mask_contains(struct ss_mask *m, const char *s, size_t len);

#endif
