/* report.h - the plan/result of a run, rendered for people and programs.
 *
 * A struct ss_report holds, per target, its plan (a struct ss_diff, which
 * never holds a value), its status and error, and renders:
 *   - the versioned JSON report of SPEC §5 (also the plan-json output);
 *   - the text plan ("+ create", "~ update (keys: ...)", "- delete");
 *   - Markdown for the step summary and the PR comment, cut to a size;
 *   - the one-line commit status description (at most 140 characters).
 * Nothing here does I/O, and nothing here holds a secret value; target
 * errors are shown as given, so callers pass masked text or text that
 * holds no value.
 */
#ifndef SS_REPORT_H
#define SS_REPORT_H

#include <stddef.h>

#include "buf.h"
#include "diff.h"
#include "rc.h"

enum ss_target_status {
	SS_TARGET_OK = 0,
	SS_TARGET_FAILED,
	SS_TARGET_SKIPPED /* not run: a dependency failed */
};

struct ss_report_target {
	char *name;
	char *account_id; /* NULL = the base account */
	char *region;
	enum ss_target_status status;
	char *error;        /* NULL unless failed/skipped */
	struct ss_diff *diff; /* owned; may be NULL when the target failed early */
	double seconds;
};

struct ss_report {
	char *command; /* "plan", "pipeline", "verify" */
	int dry_run;
	struct ss_report_target *targets;
	size_t n;
	size_t cap;
};

/* Totals over all targets; failed counts targets. */
struct ss_report_counts {
	size_t create, update, del, unchanged, failed;
};

struct ss_report *ss_report_new(const char *command, int dry_run);
void ss_report_free(struct ss_report *r);

/* Append a target (strings copied; account_id may be NULL). On SS_OK
 * *out points at the new entry, valid until the next add. */
enum ss_rc ss_report_add_target(struct ss_report *r, const char *name, const char *account_id,
				const char *region, struct ss_report_target **out) SS_MUST_CHECK;

/* Mark t failed (or skipped) with a message (copied through the mask
 * registry, so a registered value in it is stored as "***"; control,
 * C1 and bidirectional characters are stored as spaces and bytes that
 * are not UTF-8 as U+FFFD, so the error is one line of valid text). */
enum ss_rc ss_report_fail(struct ss_report_target *t, enum ss_target_status status,
			  const char *error) SS_MUST_CHECK;

void ss_report_counts(const struct ss_report *r, struct ss_report_counts *out);

/* Nonzero when any target has a change to make. */
int ss_report_has_changes(const struct ss_report *r);

/* The JSON report of SPEC §5 (compact, one line). */
enum ss_rc ss_report_json(const struct ss_report *r, struct ss_buf *out) SS_MUST_CHECK;

/* The text plan. verbose also lists unchanged secrets. */
enum ss_rc ss_report_text(const struct ss_report *r, int verbose, struct ss_buf *out) SS_MUST_CHECK;

/* Markdown of at most max_len bytes (0 = no limit): a totals table, then
 * per target a collapsible details block with its changes. Targets whose
 * details do not fit are counted in a closing note; a table that does
 * not fit is cut after a whole line. title heads it (not escaped). The
 * JSON report, the text and the Markdown are valid UTF-8 whatever bytes
 * the names hold (invalid bytes become U+FFFD in JSON and Markdown). */
enum ss_rc ss_report_markdown(const struct ss_report *r, const char *title, size_t max_len,
			      struct ss_buf *out) SS_MUST_CHECK;

/* "3 to create, 1 to update, 0 to delete" (+ ", 1 failed"), at most
 * 140 bytes, for a commit status. */
enum ss_rc ss_report_status_line(const struct ss_report *r, struct ss_buf *out) SS_MUST_CHECK;

/* Append s escaped for a Markdown table cell (|, <, >, &, `, *, _, [, ],
 * \, #, ~ escaped; newlines and tabs as spaces, other C0 controls as
 * \xNN, C1, line-separator and bidirectional controls as \uNNNN, each
 * invalid UTF-8 byte as U+FFFD), so the result is valid UTF-8. */
enum ss_rc ss_report_md_escape(struct ss_buf *out, const char *s) SS_MUST_CHECK;

/* Append s for one line of plain text: newline, CR and tab as \n, \r,
 * \t, a backslash doubled, other control characters as \xNN, and each
 * byte of an invalid UTF-8 sequence, of a C1 control (U+0080-U+009F),
 * of U+2028/U+2029 and of a bidirectional control (U+200E, U+200F,
 * U+202A-U+202E, U+2066-U+2069) as \xNN: the result is valid UTF-8
 * that displays as it reads. Names and
 * key paths come from secrets' keys; escaped, none can start a line
 * (which the Actions runner could take as a workflow command) or send a
 * terminal escape sequence. */
enum ss_rc ss_report_text_escape(struct ss_buf *out, const char *s) SS_MUST_CHECK;

#endif
