/* json.h - cJSON helpers: a strict bounded parser, semantic equality, a
 * compact printer that keeps every number exact, and safe field access.
 *
 * Trees from ss_json_parse have these properties, which the rest of the
 * code (merge, diff, equality) relies on:
 *   - nesting is at most SS_JSON_MAX_DEPTH containers deep, so every
 *     recursive walk over them is bounded (a musl thread stack is small);
 *   - an object never holds a key twice: a repeated key keeps the position
 *     of its first occurrence and the value of its last, as Python's
 *     json.loads and JavaScript's JSON.parse do;
 *   - an integer literal that a double cannot hold exactly (beyond 2^53)
 *     and a literal too large for a double are kept as a cJSON_Raw node
 *     holding the literal's text, so such a number is printed back
 *     unchanged instead of rounded (cJSON's own printer rounds to 15
 *     significant digits). cJSON_IsNumber() is false for such a node.
 *
 * The parser accepts RFC 8259 JSON only: numbers like "01", "1." or "+1",
 * text after the value, NUL bytes, the escape \u0000 (a C string
 * cannot hold it) and bytes that are not well-formed UTF-8 (overlong
 * forms, surrogates, past U+10FFFF; escaped lone surrogates too, which
 * cJSON refuses) are refused, so every string in a tree is UTF-8.
 *
 * Trees may hold secrets: free them with ss_json_delete_secret, which
 * zeroes every string and number before freeing.
 *
 * Everything here may run in several threads at once on different trees
 * (cJSON's parser also stores a global error position, which is never
 * read here).
 */
#ifndef SS_JSON_H
#define SS_JSON_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "rc.h"

/* The deepest nesting of arrays and objects ss_json_parse accepts ("{}"
 * is depth 1). A merge-store bundle adds one level to a secret, a Vault
 * KV v2 answer two. */
#define SS_JSON_MAX_DEPTH 128

/* Parse len bytes at buf (no NUL terminator needed) into *out, which the
 * caller frees with ss_json_delete_secret. Returns SS_ERR_PARSE for text
 * that is not one JSON value (leading and trailing whitespace allowed),
 * SS_ERR_TOOBIG when nested deeper than SS_JSON_MAX_DEPTH, SS_ERR_NOMEM.
 * On failure *out is NULL. */
enum ss_rc ss_json_parse(const char *buf, size_t len, cJSON **out) SS_MUST_CHECK;

/* Why ss_json_parse refuses (or would refuse) len bytes at buf, as a
 * static phrase for an error message: "it nests arrays and objects
 * deeper than 128 levels", "it holds bytes that are not UTF-8", "it
 * holds a NUL byte", "it holds the escape \u0000", "it is empty", or
 * "it is not one well-formed JSON value (malformed or cut short)". Never
 * quotes the text (it may hold secrets). */
const char *ss_json_parse_reason(const char *buf, size_t len);

/* Nonzero when a and b hold the same JSON value: object members are
 * compared by key whatever their order (with a repeated key, its last
 * value counts), arrays in order, numbers by value (1, 1.0 and 1e0 are
 * equal; a Raw number literal equals another with the same decimal
 * value), strings byte by byte; true is not 1. Both NULL are equal.
 * Trees deeper than SS_JSON_MAX_DEPTH, and the rare case where memory
 * runs out while comparing a large object, compare unequal. */
int ss_json_equal(const cJSON *a, const cJSON *b);

/* Nonzero when v nests no deeper than max_depth containers. The walk
 * stops at max_depth + 1, so it is safe on any tree. */
int ss_json_depth_within(const cJSON *v, int max_depth);

/* Append the compact JSON text of v to b: no whitespace, object members
 * in their order, strings as UTF-8 with only '"', '\\' and control
 * characters escaped, finite numbers in the shortest form that reads
 * back as the same double (integral values below 1e17 as integers),
 * Raw nodes verbatim, a non-finite number as null.
 * SS_ERR_INVALID for a malformed tree (an invalid type, a member without
 * a key, a Raw node without text), SS_ERR_TOOBIG deeper than
 * SS_JSON_MAX_DEPTH or when b's cap is reached. On failure b may hold
 * part of the text. */
enum ss_rc ss_json_print_buf(const cJSON *v, struct ss_buf *b) SS_MUST_CHECK;

/* The compact JSON text of v (as ss_json_print_buf) as a malloc'd string
 * in *out; the caller frees it with ss_free_secret. *out is NULL on
 * failure. */
enum ss_rc ss_json_print(const cJSON *v, char **out) SS_MUST_CHECK;

/* The text secretsync writes to AWS for value v (SPEC §5): a string
 * value as the string itself, anything else as its compact JSON.
 * malloc'd in *out (free with ss_free_secret), NULL on failure. */
enum ss_rc ss_json_secret_string(const cJSON *v, char **out) SS_MUST_CHECK;

/* Zero every key, string, Raw text and number in the chain starting at
 * v (v and its next siblings, as cJSON_Delete), then free it. Iterative:
 * safe on trees of any depth. NULL is fine. */
void ss_json_delete_secret(cJSON *v);

/* Field access on an object; all accept a NULL or non-object obj.
 * ss_json_get_string: the member's string, borrowed from obj, or NULL
 * when obj has no member key or it is not a string.
 * ss_json_get_object / ss_json_get_array: the member when it has that
 * type, else NULL.
 * ss_json_get_number: SS_ERR_NOTFOUND when absent, SS_ERR_INVALID when
 * not a number; *out untouched on failure.
 * ss_json_get_int64: as ss_json_get_number, and SS_ERR_INVALID unless
 * the number is integral and within [-2^53, 2^53].
 * ss_json_get_bool: SS_ERR_NOTFOUND / SS_ERR_INVALID (not true/false);
 * *out is 0 or 1. */
const char *ss_json_get_string(const cJSON *obj, const char *key);
const cJSON *ss_json_get_object(const cJSON *obj, const char *key);
const cJSON *ss_json_get_array(const cJSON *obj, const char *key);
enum ss_rc ss_json_get_number(const cJSON *obj, const char *key, double *out) SS_MUST_CHECK;
enum ss_rc ss_json_get_int64(const cJSON *obj, const char *key, long long *out) SS_MUST_CHECK;
enum ss_rc ss_json_get_bool(const cJSON *obj, const char *key, int *out) SS_MUST_CHECK;

#endif
