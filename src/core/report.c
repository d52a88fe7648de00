#include "report.h"
#include "utf8.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json.h"
#include "mask.h"
#include "banned.h"

/* Names, key paths and errors come from secrets, servers and configs:
 * any bytes. The renderers keep their output valid UTF-8 (a JSON text
 * must be, and GitHub refuses a comment body that is not) and keep
 * characters that change how a line reads out of the text and Markdown:
 * C0 and C1 controls and the bidirectional controls (which can make a
 * plan line display as something else). */


/* C1 controls, the line and paragraph separators and the bidirectional
 * marks, embeddings, overrides and isolates. */
static int unsafe_char(unsigned long cp)
{
	return (cp >= 0x80 && cp < 0xa0) || cp == 0x200e || cp == 0x200f || cp == 0x2028 ||
	       cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* s, or a malloc'd copy of s with each invalid UTF-8 byte replaced by
 * U+FFFD in *tmp (NULL when s is valid). NULL on allocation failure. */
static const char *valid_utf8(const char *s, char **tmp)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i, k;
	unsigned long cp;
	struct ss_buf b;

	*tmp = NULL;
	for (i = 0; i < n; i += k) {
		if ((k = ss_utf8_char(p + i, n - i, &cp)) == 0)
			break;
	}
	if (i == n)
		return s;
	ss_buf_init(&b, 0);
	for (i = 0; i < n; i += k) {
		k = ss_utf8_char(p + i, n - i, &cp);
		if ((k == 0 && ss_buf_adds(&b, "\xef\xbf\xbd") != SS_OK) ||
		    (k > 0 && ss_buf_add(&b, p + i, k) != SS_OK))
			break;
		if (k == 0)
			k = 1;
	}
	if (i < n || ss_buf_take(&b, tmp) != SS_OK) {
		ss_buf_free(&b);
		return NULL;
	}
	ss_buf_free(&b);
	return *tmp;
}

/* cJSON_AddStringToObject with s made valid UTF-8. */
static cJSON *add_string(cJSON *obj, const char *key, const char *s)
{
	char *tmp;
	const char *v = valid_utf8(s, &tmp);
	cJSON *r = v ? cJSON_AddStringToObject(obj, key, v) : NULL;

	free(tmp);
	return r;
}

struct ss_report *ss_report_new(const char *command, int dry_run)
{
	struct ss_report *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->command = ss_strdup(command);
	if (r->command == NULL) {
		free(r);
		return NULL;
	}
	r->dry_run = dry_run;
	return r;
}

void ss_report_free(struct ss_report *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++) {
		struct ss_report_target *t = &r->targets[i];

		free(t->name);
		free(t->account_id);
		free(t->region);
		free(t->error);
		ss_diff_free(t->diff);
	}
	free(r->targets);
	free(r->command);
	free(r);
}

enum ss_rc ss_report_add_target(struct ss_report *r, const char *name, const char *account_id,
				const char *region, struct ss_report_target **out)
{
	struct ss_report_target *t;

	*out = NULL;
	if (r->n == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 8;
		struct ss_report_target *n = realloc(r->targets, ncap * sizeof(*n));

		if (n == NULL)
			return SS_ERR_NOMEM;
		r->targets = n;
		r->cap = ncap;
	}
	t = &r->targets[r->n];
	memset(t, 0, sizeof(*t));
	t->name = ss_strdup(name);
	t->account_id = account_id ? ss_strdup(account_id) : NULL;
	t->region = region ? ss_strdup(region) : NULL;
	if (t->name == NULL || (account_id && !t->account_id) || (region && !t->region)) {
		free(t->name);
		free(t->account_id);
		free(t->region);
		return SS_ERR_NOMEM;
	}
	r->n++;
	*out = t;
	return SS_OK;
}

enum ss_rc ss_report_fail(struct ss_report_target *t, enum ss_target_status status,
			  const char *error)
{
	/* Remote error text may echo a value: store it masked, since the
	 * report goes to outputs, summaries and comments. It may also hold
	 * control characters and bytes that are not UTF-8, which every
	 * renderer (and a workflow command) would have to handle: stored as
	 * one clean line. */
	char *e = ss_mask_redact_str(ss_mask_global(), error ? error : "failed"), *clean = NULL;
	const unsigned char *p = (const unsigned char *)e;
	struct ss_buf b;
	unsigned long cp;
	size_t n, i, k;
	enum ss_rc rc = SS_OK;

	if (e == NULL)
		return SS_ERR_NOMEM;
	n = strlen(e);
	ss_buf_init(&b, 0);
	for (i = 0; rc == SS_OK && i < n; i += k) {
		k = ss_utf8_char(p + i, n - i, &cp);
		if (k == 0) {
			rc = ss_buf_adds(&b, "\xef\xbf\xbd");
			k = 1;
		} else if (cp < 0x20 || cp == 0x7f || unsafe_char(cp)) {
			rc = ss_buf_addc(&b, ' ');
		} else {
			rc = ss_buf_add(&b, p + i, k);
		}
	}
	if (rc == SS_OK)
		rc = ss_buf_take(&b, &clean);
	ss_buf_free(&b);
	free(e);
	if (rc != SS_OK)
		return rc;
	free(t->error);
	t->error = clean;
	t->status = status;
	return SS_OK;
}

void ss_report_counts(const struct ss_report *r, struct ss_report_counts *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < r->n; i++) {
		const struct ss_report_target *t = &r->targets[i];

		if (t->status != SS_TARGET_OK)
			out->failed++;
		if (t->diff == NULL)
			continue;
		out->create += t->diff->counts[SS_DIFF_CREATE];
		out->update += t->diff->counts[SS_DIFF_UPDATE];
		out->del += t->diff->counts[SS_DIFF_DELETE];
		out->unchanged += t->diff->counts[SS_DIFF_UNCHANGED];
	}
}

int ss_report_has_changes(const struct ss_report *r)
{
	struct ss_report_counts c;

	ss_report_counts(r, &c);
	return c.create + c.update + c.del > 0;
}

static const char *status_name(enum ss_target_status s)
{
	switch (s) {
	case SS_TARGET_OK: return "ok";
	case SS_TARGET_FAILED: return "failed";
	case SS_TARGET_SKIPPED: return "skipped";
	}
	return "unknown";
}

static cJSON *paths_array(const struct ss_diff_paths *p)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a != NULL && i < p->n; i++) {
		char *tmp;
		const char *v = valid_utf8(p->v[i], &tmp);
		cJSON *s = v ? cJSON_CreateString(v) : NULL;

		free(tmp);
		if (s == NULL || !cJSON_AddItemToArray(a, s)) {
			cJSON_Delete(s);
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

static int add_counts(cJSON *obj, size_t create, size_t update, size_t del, size_t unchanged,
		      const size_t *failed)
{
	cJSON *c = cJSON_AddObjectToObject(obj, "counts");

	return c != NULL && cJSON_AddNumberToObject(c, "create", (double)create) &&
	       cJSON_AddNumberToObject(c, "update", (double)update) &&
	       cJSON_AddNumberToObject(c, "delete", (double)del) &&
	       cJSON_AddNumberToObject(c, "unchanged", (double)unchanged) &&
	       (failed == NULL || cJSON_AddNumberToObject(c, "failed", (double)*failed));
}

static cJSON *target_json(const struct ss_report_target *t)
{
	cJSON *o = cJSON_CreateObject(), *changes, *ch, *keys;
	const struct ss_diff *d = t->diff;
	size_t i;
	int ok;

	if (o == NULL)
		return NULL;
	ok = add_string(o, "name", t->name) != NULL &&
	     (t->account_id ? add_string(o, "account_id", t->account_id)
			    : cJSON_AddNullToObject(o, "account_id")) != NULL &&
	     (t->region ? add_string(o, "region", t->region)
			: cJSON_AddNullToObject(o, "region")) != NULL &&
	     cJSON_AddStringToObject(o, "status", status_name(t->status)) != NULL &&
	     (t->error ? add_string(o, "error", t->error)
		       : cJSON_AddNullToObject(o, "error")) != NULL &&
	     (changes = cJSON_AddArrayToObject(o, "changes")) != NULL;
	for (i = 0; ok && d != NULL && i < d->n; i++) {
		const struct ss_diff_entry *e = &d->entries[i];

		ch = cJSON_CreateObject();
		ok = ch != NULL && cJSON_AddItemToArray(changes, ch) &&
		     add_string(ch, "secret", e->secret) != NULL &&
		     add_string(ch, "aws_name", e->aws_name) != NULL &&
		     cJSON_AddStringToObject(ch, "action", ss_diff_action_name(e->action)) != NULL &&
		     (keys = cJSON_AddObjectToObject(ch, "keys")) != NULL;
		if (!ok)
			break;
		ok = cJSON_AddItemToObject(keys, "added", paths_array(&e->added)) &&
		     cJSON_AddItemToObject(keys, "removed", paths_array(&e->removed)) &&
		     cJSON_AddItemToObject(keys, "changed", paths_array(&e->changed)) &&
		     (e->action != SS_DIFF_UPDATE || cJSON_AddBoolToObject(ch, "whole", e->whole));
	}
	if (ok)
		ok = add_counts(o, d ? d->counts[SS_DIFF_CREATE] : 0,
				d ? d->counts[SS_DIFF_UPDATE] : 0, d ? d->counts[SS_DIFF_DELETE] : 0,
				d ? d->counts[SS_DIFF_UNCHANGED] : 0, NULL);
	if (ok)
		ok = cJSON_AddNumberToObject(o, "seconds", (double)(long)(t->seconds * 1000) / 1000) !=
		     NULL;
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

enum ss_rc ss_report_json(const struct ss_report *r, struct ss_buf *out)
{
	struct ss_report_counts c;
	cJSON *root = cJSON_CreateObject(), *targets;
	enum ss_rc rc = SS_ERR_NOMEM;
	size_t i;
	int ok;

	ss_report_counts(r, &c);
	ok = root != NULL && cJSON_AddNumberToObject(root, "version", 1) != NULL &&
	     add_string(root, "command", r->command) != NULL &&
	     cJSON_AddBoolToObject(root, "dry_run", r->dry_run) != NULL &&
	     (targets = cJSON_AddArrayToObject(root, "targets")) != NULL;
	for (i = 0; ok && i < r->n; i++)
		ok = cJSON_AddItemToArray(targets, target_json(&r->targets[i])) &&
		     cJSON_GetArraySize(targets) == (int)i + 1;
	if (ok)
		ok = add_counts(root, c.create, c.update, c.del, c.unchanged, &c.failed);
	if (ok)
		rc = ss_json_print_buf(root, out);
	cJSON_Delete(root);
	return rc;
}

static const char *entry_mark(enum ss_diff_action a)
{
	switch (a) {
	case SS_DIFF_CREATE: return "+";
	case SS_DIFF_UPDATE: return "~";
	case SS_DIFF_DELETE: return "-";
	case SS_DIFF_UNCHANGED: return "=";
	}
	return "?";
}

static enum ss_rc counts_phrase(struct ss_buf *out, size_t create, size_t update, size_t del,
				size_t unchanged, int dry_run)
{
	if (dry_run)
		return ss_buf_addf(out, "%zu to create, %zu to update, %zu to delete, %zu unchanged",
				   create, update, del, unchanged);
	return ss_buf_addf(out, "%zu created, %zu updated, %zu deleted, %zu unchanged", create,
			   update, del, unchanged);
}

enum ss_rc ss_report_text_escape(struct ss_buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, k, j;
	unsigned long cp;
	enum ss_rc rc = SS_OK;

	while (i < n && rc == SS_OK) {
		k = ss_utf8_char(p + i, n - i, &cp);
		if (k == 0 || unsafe_char(cp)) {
			/* An invalid byte, or each byte of a C1 or
			 * bidirectional control, as \xNN. */
			for (j = 0; j < (k ? k : 1) && rc == SS_OK; j++)
				rc = ss_buf_addf(out, "\\x%02x", p[i + j]);
			i += k ? k : 1;
			continue;
		}
		if (cp == '\n')
			rc = ss_buf_adds(out, "\\n");
		else if (cp == '\r')
			rc = ss_buf_adds(out, "\\r");
		else if (cp == '\t')
			rc = ss_buf_adds(out, "\\t");
		else if (cp == '\\')
			rc = ss_buf_adds(out, "\\\\");
		else if (cp < 0x20 || cp == 0x7f)
			rc = ss_buf_addf(out, "\\x%02x", (unsigned)cp);
		else
			rc = ss_buf_add(out, p + i, k);
		i += k;
	}
	return rc;
}

enum ss_rc ss_report_text(const struct ss_report *r, int verbose, struct ss_buf *out)
{
	struct ss_report_counts c;
	enum ss_rc rc = SS_OK;
	size_t i, j;

	for (i = 0; rc == SS_OK && i < r->n; i++) {
		const struct ss_report_target *t = &r->targets[i];
		const struct ss_diff *d = t->diff;

		rc = ss_buf_adds(out, "target ");
		if (rc == SS_OK)
			rc = ss_report_text_escape(out, t->name);
		if (rc == SS_OK)
			rc = ss_buf_adds(out, t->account_id ? " (account " : " (base account");
		if (rc == SS_OK && t->account_id)
			rc = ss_report_text_escape(out, t->account_id);
		if (rc == SS_OK)
			rc = ss_buf_adds(out, ", ");
		if (rc == SS_OK)
			rc = ss_report_text_escape(out, t->region ? t->region : "?");
		if (rc == SS_OK)
			rc = ss_buf_adds(out, "): ");
		if (rc == SS_OK && t->status != SS_TARGET_OK) {
			rc = ss_buf_addf(out, "%s: ", status_name(t->status));
			if (rc == SS_OK)
				rc = ss_report_text_escape(out, t->error ? t->error : "");
			if (rc == SS_OK)
				rc = ss_buf_addc(out, '\n');
			if (d == NULL)
				continue;
		} else if (rc == SS_OK) {
			rc = counts_phrase(out, d ? d->counts[SS_DIFF_CREATE] : 0,
					   d ? d->counts[SS_DIFF_UPDATE] : 0,
					   d ? d->counts[SS_DIFF_DELETE] : 0,
					   d ? d->counts[SS_DIFF_UNCHANGED] : 0, r->dry_run);
			if (rc == SS_OK)
				rc = ss_buf_addc(out, '\n');
		}
		for (j = 0; rc == SS_OK && d != NULL && j < d->n; j++) {
			const struct ss_diff_entry *e = &d->entries[j];
			char *keys = NULL;

			if (e->action == SS_DIFF_UNCHANGED && !verbose)
				continue;
			rc = ss_diff_keys_to_text(e, &keys);
			if (rc == SS_OK)
				rc = ss_buf_addf(out, "  %s ", entry_mark(e->action));
			if (rc == SS_OK)
				rc = ss_report_text_escape(out, e->aws_name);
			if (rc == SS_OK)
				rc = ss_buf_addf(out, " %s", ss_diff_action_name(e->action));
			/* Key names come from the values: escaped, so that none can
			 * start a line (a workflow command) or reach a terminal. */
			if (rc == SS_OK && keys != NULL && keys[0] != '\0') {
				rc = ss_buf_adds(out, " (keys: ");
				if (rc == SS_OK)
					rc = ss_report_text_escape(out, keys);
				if (rc == SS_OK)
					rc = ss_buf_addc(out, ')');
			}
			if (rc == SS_OK)
				rc = ss_buf_addc(out, '\n');
			free(keys);
		}
	}
	ss_report_counts(r, &c);
	if (rc == SS_OK)
		rc = ss_buf_adds(out, r->dry_run ? "Plan: " : "Result: ");
	if (rc == SS_OK)
		rc = counts_phrase(out, c.create, c.update, c.del, c.unchanged, r->dry_run);
	if (rc == SS_OK)
		rc = ss_buf_addf(out, ", %zu failed target%s.\n", c.failed, c.failed == 1 ? "" : "s");
	return rc;
}

enum ss_rc ss_report_md_escape(struct ss_buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, k;
	unsigned long cp;
	enum ss_rc rc = SS_OK;

	while (i < n && rc == SS_OK) {
		k = ss_utf8_char(p + i, n - i, &cp);
		if (k == 0) {
			rc = ss_buf_adds(out, "\xef\xbf\xbd"); /* U+FFFD */
			i++;
			continue;
		}
		if (k > 1) {
			if (unsafe_char(cp))
				rc = ss_buf_addf(out, "\\\\u%04lx", cp);
			else
				rc = ss_buf_add(out, p + i, k);
			i += k;
			continue;
		}
		switch (cp) {
		case '|': rc = ss_buf_adds(out, "\\|"); break;
		case '<': rc = ss_buf_adds(out, "&lt;"); break;
		case '>': rc = ss_buf_adds(out, "&gt;"); break;
		case '&': rc = ss_buf_adds(out, "&amp;"); break;
		case '\n':
		case '\r':
		case '\t': rc = ss_buf_addc(out, ' '); break;
		case '`':
		case '*':
		case '_':
		case '[':
		case ']':
		case '\\':
		case '#':
		case '~':
			rc = ss_buf_addc(out, '\\');
			if (rc == SS_OK)
				rc = ss_buf_addc(out, (char)cp);
			break;
		default:
			if (cp < 0x20 || cp == 0x7f)
				rc = ss_buf_addf(out, "\\\\x%02lx", cp);
			else
				rc = ss_buf_addc(out, (char)cp);
			break;
		}
		i++;
	}
	return rc;
}

/* The details block of one target. */
static enum ss_rc target_details(const struct ss_report_target *t, int dry_run,
				 struct ss_buf *out)
{
	const struct ss_diff *d = t->diff;
	size_t j, changes = d ? ss_diff_changes(d) : 0;
	enum ss_rc rc;

	rc = ss_buf_adds(out, "<details><summary>");
	if (rc == SS_OK)
		rc = ss_report_md_escape(out, t->name);
	if (rc == SS_OK && t->status != SS_TARGET_OK)
		rc = ss_buf_addf(out, ": %s</summary>\n\n", status_name(t->status));
	else if (rc == SS_OK)
		rc = ss_buf_addf(out, ": %zu change%s</summary>\n\n", changes,
				 changes == 1 ? "" : "s");
	if (rc == SS_OK && t->error != NULL) {
		rc = ss_buf_adds(out, "Error: ");
		if (rc == SS_OK)
			rc = ss_report_md_escape(out, t->error);
		if (rc == SS_OK)
			rc = ss_buf_adds(out, "\n\n");
	}
	if (rc == SS_OK && changes > 0)
		rc = ss_buf_addf(out, "| action | AWS secret | from | keys |\n|---|---|---|---|\n");
	for (j = 0; rc == SS_OK && d != NULL && j < d->n; j++) {
		const struct ss_diff_entry *e = &d->entries[j];
		char *keys = NULL;

		if (e->action == SS_DIFF_UNCHANGED)
			continue;
		rc = ss_diff_keys_to_text(e, &keys);
		if (rc == SS_OK)
			rc = ss_buf_addf(out, "| %s %s | ", entry_mark(e->action),
					 dry_run ? ss_diff_action_name(e->action)
						 : e->action == SS_DIFF_CREATE   ? "created"
						 : e->action == SS_DIFF_UPDATE ? "updated"
									       : "deleted");
		if (rc == SS_OK)
			rc = ss_report_md_escape(out, e->aws_name);
		if (rc == SS_OK)
			rc = ss_buf_adds(out, " | ");
		if (rc == SS_OK)
			rc = ss_report_md_escape(out, e->secret);
		if (rc == SS_OK)
			rc = ss_buf_adds(out, " | ");
		if (rc == SS_OK && keys != NULL)
			rc = ss_report_md_escape(out, keys);
		if (rc == SS_OK)
			rc = ss_buf_adds(out, " |\n");
		free(keys);
	}
	if (rc == SS_OK && changes == 0 && t->status == SS_TARGET_OK)
		rc = ss_buf_adds(out, "No changes.\n");
	if (rc == SS_OK)
		rc = ss_buf_adds(out, "\n</details>\n\n");
	return rc;
}

enum ss_rc ss_report_markdown(const struct ss_report *r, const char *title, size_t max_len,
			      struct ss_buf *out)
{
	struct ss_report_counts c;
	struct ss_buf head, part;
	size_t i, left_out = 0, budget;
	enum ss_rc rc;
	static const char note_room[] = "\n_... and the details of 99999999 more targets were "
					"left out to fit; the full plan is in the job log and the "
					"plan-json output._\n";
	static const char note_cut[] = "\n_... the table was cut to fit; the full plan is in the "
				       "job log and the plan-json output._\n";

	ss_buf_init(&head, 0);
	ss_buf_init(&part, 0);
	ss_report_counts(r, &c);
	rc = ss_buf_addf(&head, "### %s\n\n", title);
	if (rc == SS_OK)
		rc = ss_buf_adds(&head, "**");
	if (rc == SS_OK)
		rc = counts_phrase(&head, c.create, c.update, c.del, c.unchanged, r->dry_run);
	if (rc == SS_OK)
		rc = ss_buf_addf(&head, ", %zu failed**\n\n", c.failed);
	if (rc == SS_OK)
		rc = ss_buf_adds(&head, "| target | account | region | create | update | delete | "
					"unchanged | status |\n|---|---|---|---:|---:|---:|---:|---|\n");
	for (i = 0; rc == SS_OK && i < r->n; i++) {
		const struct ss_report_target *t = &r->targets[i];
		const struct ss_diff *d = t->diff;

		rc = ss_buf_adds(&head, "| ");
		if (rc == SS_OK)
			rc = ss_report_md_escape(&head, t->name);
		if (rc == SS_OK)
			rc = ss_buf_adds(&head, " | ");
		if (rc == SS_OK)
			rc = ss_report_md_escape(&head, t->account_id ? t->account_id : "(base)");
		if (rc == SS_OK)
			rc = ss_buf_adds(&head, " | ");
		if (rc == SS_OK)
			rc = ss_report_md_escape(&head, t->region ? t->region : "");
		if (rc == SS_OK)
			rc = ss_buf_addf(&head, " | %zu | %zu | %zu | %zu | %s |\n",
					 d ? d->counts[SS_DIFF_CREATE] : 0,
					 d ? d->counts[SS_DIFF_UPDATE] : 0,
					 d ? d->counts[SS_DIFF_DELETE] : 0,
					 d ? d->counts[SS_DIFF_UNCHANGED] : 0, status_name(t->status));
	}
	if (rc == SS_OK)
		rc = ss_buf_addc(&head, '\n');
	if (rc != SS_OK)
		goto out;
	/* The table itself must fit; cut it too if it does not, after its
	 * last whole line (a row cut in two would spill its cells and could
	 * end inside a character or an escape), with a note when the note
	 * fits too. */
	budget = max_len ? max_len : (size_t)-1;
	if (max_len && head.len + sizeof(note_room) > max_len) {
		size_t keep = max_len > sizeof(note_cut) - 1 ? max_len - (sizeof(note_cut) - 1) : 0;

		if (keep > head.len)
			keep = head.len;
		while (keep > 0 && head.data[keep - 1] != '\n')
			keep--;
		rc = ss_buf_add(out, head.data, keep);
		if (rc == SS_OK && keep + sizeof(note_cut) - 1 <= max_len)
			rc = ss_buf_adds(out, note_cut);
		goto out;
	}
	rc = ss_buf_add(out, head.data, head.len);
	for (i = 0; rc == SS_OK && i < r->n; i++) {
		ss_buf_reset(&part);
		rc = target_details(&r->targets[i], r->dry_run, &part);
		if (rc != SS_OK)
			break;
		if (out->len + part.len + sizeof(note_room) > budget) {
			left_out++;
			continue;
		}
		rc = ss_buf_add(out, part.data, part.len);
	}
	if (rc == SS_OK && left_out > 0)
		rc = ss_buf_addf(out,
				 "\n_... and the details of %zu more target%s were left out to fit; "
				 "the full plan is in the job log and the plan-json output._\n",
				 left_out, left_out == 1 ? "" : "s");
out:
	ss_buf_free(&head);
	ss_buf_free(&part);
	return rc;
}

enum ss_rc ss_report_status_line(const struct ss_report *r, struct ss_buf *out)
{
	struct ss_report_counts c;
	struct ss_buf b;
	enum ss_rc rc;

	ss_buf_init(&b, 0);
	ss_report_counts(r, &c);
	if (r->dry_run)
		rc = ss_buf_addf(&b, "%zu to create, %zu to update, %zu to delete", c.create,
				 c.update, c.del);
	else
		rc = ss_buf_addf(&b, "%zu created, %zu updated, %zu deleted", c.create, c.update,
				 c.del);
	if (rc == SS_OK && c.failed > 0)
		rc = ss_buf_addf(&b, ", %zu target%s failed", c.failed, c.failed == 1 ? "" : "s");
	if (rc == SS_OK) {
		if (b.len > 140)
			ss_buf_truncate(&b, 140);
		rc = ss_buf_add(out, b.data, b.len);
	}
	ss_buf_free(&b);
	return rc;
}
