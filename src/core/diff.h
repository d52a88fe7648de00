/* diff.h - the value-free difference between desired and current secrets.
 *
 * One struct ss_diff holds the plan entries of one target: for each
 * secret its name, its AWS name, the action and, for an update, the key
 * paths added, removed and changed. It never holds a value (SPEC §5, §6),
 * so everything in it may be printed; key names are not escaped, so a
 * printer escapes them for its own format.
 *
 * Values are compared as the text AWS holds (SPEC §5: the compact JSON
 * of the merged value, a string value as the string itself, see
 * ss_json_secret_string): when both texts parse as JSON (ss_json_parse)
 * they are compared as JSON values (ss_json_equal: key order and number
 * formatting do not matter), otherwise byte by byte.
 *
 * Key paths: when both values are JSON objects, the paths of the members
 * that differ, with "." between levels ("db.password"). A member present
 * on both sides whose values are both objects is descended into; any
 * other member that differs (an array that differs in any way, a scalar,
 * a type change) is reported under its own path. A member only in the
 * desired value is "added", one only in the current value "removed", at
 * the level where it is missing ("+db" when the whole "db" object is
 * new). Each list is sorted bytewise, so the order does not depend on
 * either value's key order. A key containing "." is not escaped.
 * When either value is not a JSON object (a string, an array, a number,
 * text that is not JSON), an update has no key paths and its "whole"
 * flag is set: the text rendering says "value changed".
 */
#ifndef SS_DIFF_H
#define SS_DIFF_H

#include <stddef.h>

#include "rc.h"

enum ss_diff_action {
	SS_DIFF_CREATE = 0, /* absent in AWS */
	SS_DIFF_UPDATE,	    /* present and different */
	SS_DIFF_DELETE,	    /* present in AWS, absent from the bundle */
	SS_DIFF_UNCHANGED   /* equal: no write */
};
#define SS_DIFF_NACTIONS 4

/* A growable list of malloc'd key paths. */
struct ss_diff_paths {
	char **v;
	size_t n;
	size_t cap;
};

struct ss_diff_entry {
	char *secret;	/* the secret's name in the bundle */
	char *aws_name; /* its name in AWS */
	enum ss_diff_action action;
	int whole; /* update of a value that is not an object on both sides */
	struct ss_diff_paths changed;
	struct ss_diff_paths added;
	struct ss_diff_paths removed;
};

/* The plan of one target. Read the fields; change them only through the
 * functions below. counts[action] is the number of entries with that
 * action. */
struct ss_diff {
	struct ss_diff_entry *entries;
	size_t n;
	size_t cap;
	size_t counts[SS_DIFF_NACTIONS];
};

/* A new empty diff, or NULL when out of memory. */
struct ss_diff *ss_diff_new(void);

/* Free d and everything in it. NULL is fine. */
void ss_diff_free(struct ss_diff *d);

/* "create", "update", "delete", "unchanged" ("unknown" otherwise). */
const char *ss_diff_action_name(enum ss_diff_action a);

/* Compare the desired text (dlen bytes at desired, NULL when the secret
 * is not in the bundle) with the current text in AWS (NULL when the
 * secret does not exist there) and append the entry for secret (AWS name
 * aws_name; NULL means the same as secret): create when current is
 * NULL, delete when desired is NULL, else update or unchanged. Whether a
 * delete is allowed (tags, delete_orphans) is the caller's decision: add
 * only the deletes that will happen. The texts are only read; parsed
 * copies are zeroed before they are freed. SS_ERR_INVALID when both are
 * NULL or secret is NULL, SS_ERR_NOMEM; on failure d is unchanged. */
enum ss_rc ss_diff_add(struct ss_diff *d, const char *secret, const char *aws_name,
		       const char *desired, size_t dlen, const char *current,
		       size_t clen) SS_MUST_CHECK;

/* Append an entry with the given action and no key paths (for example a
 * delete found by listing tagged secrets). Same errors as ss_diff_add. */
enum ss_rc ss_diff_add_action(struct ss_diff *d, const char *secret, const char *aws_name,
			      enum ss_diff_action a) SS_MUST_CHECK;

/* Sort the entries by secret name, then AWS name (bytewise). */
void ss_diff_sort(struct ss_diff *d);

/* Number of entries that change something (create + update + delete). */
size_t ss_diff_changes(const struct ss_diff *d);

/* The key summary of an entry as a malloc'd string in *out (free()):
 * for an update "<path> changed" for each changed path, then "+<path>"
 * for each added one, then "-<path>" for each removed one, joined by
 * ", " ("password changed, +host, -old"); "value changed" for a whole
 * value update; "" for the other actions. *out is NULL on failure. */
enum ss_rc ss_diff_keys_to_text(const struct ss_diff_entry *e, char **out) SS_MUST_CHECK;

#endif
