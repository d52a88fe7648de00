/* merge.h - the deep merge of SPEC §5.
 *
 * ss_merge(base, next) is Python deepmerge's
 *   Merger([(list, ["append"]), (dict, ["merge"]), (set, ["union"])],
 *          ["override"], ["override"]).merge(copy.deepcopy(base), next)
 * with the default options:
 *   - object + object: base's members in base's order, each merged with
 *     next's member of the same key; next's other members appended in
 *     next's order (a Python dict's insertion order);
 *   - array + array: base's items then next's items (duplicates kept);
 *   - anything else (scalars, a type conflict, a later null): next.
 *     true and 1 are different types but the result is next either way.
 *
 * Options (a zeroed struct ss_merge_opts is the default above):
 *   lists = REPLACE: array + array gives next's items only.
 *   lists = UNION:   base's items (as they are, duplicates kept) followed
 *                    by each item of next that is not already in the
 *                    result by ss_json_equal, in next's order; so next's
 *                    own duplicates collapse too. Python deepmerge has no
 *                    such list strategy; this is secretsync's definition.
 *                    Quadratic in the list lengths.
 *   nulls = KEEP:    a null in next does not replace an existing value
 *                    (base's value is kept, whatever its type); a key that
 *                    base lacks still gets next's null, and ss_merge(NULL,
 *                    null) is null.
 *
 * Inputs are never modified and the result shares no memory with them
 * (every node is a fresh copy). Results may hold secrets: free them with
 * ss_json_delete_secret. Inputs nested deeper than SS_JSON_MAX_DEPTH are
 * refused with SS_ERR_TOOBIG (trees from ss_json_parse never are), so the
 * recursion is bounded. Objects with a repeated key (ss_json_parse never
 * makes one) merge next's members one after the other, each onto the
 * first member of base with that key.
 */
#ifndef SS_MERGE_H
#define SS_MERGE_H

#include <cjson/cJSON.h>

#include "rc.h"

enum ss_merge_lists { SS_MERGE_LISTS_APPEND = 0, SS_MERGE_LISTS_REPLACE, SS_MERGE_LISTS_UNION };

enum ss_merge_nulls { SS_MERGE_NULLS_OVERRIDE = 0, SS_MERGE_NULLS_KEEP };

struct ss_merge_opts {
	enum ss_merge_lists lists;
	enum ss_merge_nulls nulls;
};

/* Parse the config words "append" / "replace" / "union" and
 * "override" / "keep". SS_ERR_INVALID for anything else (*out untouched). */
enum ss_rc ss_merge_lists_parse(const char *s, enum ss_merge_lists *out) SS_MUST_CHECK;
enum ss_rc ss_merge_nulls_parse(const char *s, enum ss_merge_nulls *out) SS_MUST_CHECK;

/* The config word of an option value ("append", ..., "keep"). */
const char *ss_merge_lists_name(enum ss_merge_lists l);
const char *ss_merge_nulls_name(enum ss_merge_nulls n);

/* *out = deepmerge(base, next) as described above, a new tree the caller
 * frees with ss_json_delete_secret. base NULL (absent) gives a copy of
 * next; o NULL means the defaults. The result has no key (->string) even
 * when base or next is a member of an object. SS_ERR_INVALID when next is
 * NULL, SS_ERR_TOOBIG (too deep), SS_ERR_NOMEM; *out is NULL on failure. */
enum ss_rc ss_merge(const cJSON *base, const cJSON *next, const struct ss_merge_opts *o,
		    cJSON **out) SS_MUST_CHECK;

/* Merge one source into a target's bundle (SPEC §5): for each member
 * name -> secret of source, in source's order,
 *   bundle[name] = deepmerge(bundle[name], secret);
 * a name new to the bundle is appended. Both must be objects
 * (SS_ERR_INVALID otherwise). bundle is changed in place and only on
 * success: on failure it is left as it was. source is not modified and
 * the bundle shares no memory with it. */
enum ss_rc ss_merge_into_bundle(cJSON *bundle, const cJSON *source,
				const struct ss_merge_opts *o) SS_MUST_CHECK;

#endif
