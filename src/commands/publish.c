#include "publish.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/aws.h"
#include "backends/aws_sm.h"
#include "backends/github_api.h"
#include "common.h"
#include "core/buf.h"
#include "core/ghcmd.h"
#include "core/json.h"
#include "core/log.h"
#include "core/mask.h"
#include "core/banned.h"

static const char *env_nz(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* The token from the AWS secret github.token_secret (a plain string, or
 * a JSON object with a "token" key). */
static char *token_from_aws(struct ss_http *h, const struct ss_config *cfg,
			    const struct ss_aws_creds *creds)
{
	struct ss_sm_scope sc;
	struct ss_sm_secret *sec = NULL;
	struct ss_buf err;
	char *tok = NULL;

	if (cfg == NULL || cfg->github.token_secret == NULL || creds == NULL)
		return NULL;
	ss_buf_init(&err, 0);
	memset(&sc, 0, sizeof(sc));
	sc.h = h;
	sc.creds = creds;
	sc.region = cfg->aws.region;
	if (sc.region == NULL) {
		ss_warn("github: cannot read the token secret '%s': no AWS region",
			cfg->github.token_secret);
		goto out;
	}
	if (ss_sm_get(&sc, cfg->github.token_secret, &sec, &err) != SS_OK || sec == NULL ||
	    sec->value == NULL) {
		ss_warn("github: cannot read the token from the AWS secret '%s': %s",
			cfg->github.token_secret, err.len ? err.data : "no string value");
		goto out;
	}
	if (sec->value[0] == '{') {
		cJSON *doc = NULL;
		const char *t = NULL;

		if (ss_json_parse(sec->value, sec->value_len, &doc) == SS_OK)
			t = ss_json_get_string(doc, "token");
		tok = t ? ss_strdup(t) : NULL;
		ss_json_delete_secret(doc);
		if (t == NULL)
			ss_warn("github: the AWS secret '%s' is a JSON object without a \"token\" key",
				cfg->github.token_secret);
	} else {
		tok = ss_strdup(sec->value);
	}
out:
	ss_sm_secret_free(sec);
	ss_buf_free(&err);
	return tok;
}

void ss_publish_begin(struct ss_publish *p, const struct ss_cli *cli, const struct ss_config *cfg,
		      const char *command, struct ss_http *h, const void *aws_base)
{
	struct ss_buf err;
	char *aws_token = NULL;
	const char *token;

	memset(p, 0, sizeof(*p));
	p->cli = cli;
	p->cfg = cfg;
	p->command = command;
	p->comment = cli->comment >= 0 ? cli->comment : (cfg ? cfg->github.comment : 0);
	p->status = cli->status >= 0 ? cli->status : (cfg ? cfg->github.status : 0);
	p->status_context = cli->status_context ? cli->status_context
			    : cfg && cfg->github.status_context ? cfg->github.status_context
								: "secretsync";
	if (!p->comment && !p->status)
		return;
	ss_buf_init(&err, 0);
	token = cli->github_token ? cli->github_token : env_nz("GITHUB_TOKEN");
	if (token == NULL) {
		aws_token = token_from_aws(h, cfg, aws_base);
		token = aws_token;
	}
	if (token == NULL) {
		ss_warn("github: no token for the %s (give --github-token or GITHUB_TOKEN%s); not "
			"reporting to GitHub",
			p->comment ? "PR comment" : "commit status",
			cfg && cfg->github.token_secret ? ", or check github.token_secret" : "");
		p->comment = p->status = 0;
		goto out;
	}
	p->ctx = calloc(1, sizeof(*p->ctx));
	if (p->ctx == NULL || ss_github_context_load(p->ctx, &err) != SS_OK) {
		ss_warn("github: %s; not reporting to GitHub", err.len ? err.data : "out of memory");
		p->comment = p->status = 0;
		goto out;
	}
	p->gh = ss_github_new(h, p->ctx, token, &err);
	if (p->gh == NULL) {
		ss_warn("github: %s; not reporting to GitHub", err.len ? err.data : "out of memory");
		p->comment = p->status = 0;
		goto out;
	}
	if (p->comment && p->ctx->pr_number <= 0) {
		ss_info("github: not a pull request event: no PR comment");
		p->comment = 0;
	}
	/* Only a courtesy: the final status replaces it, and a failure of
	 * that one fails the run. */
	if (p->status) {
		ss_buf_reset(&err);
		if (ss_github_status(p->gh, NULL, "pending", p->status_context, "running", NULL,
				     &err) != SS_OK)
			ss_warn("github: the pending commit status was not set: %.*s",
				(int)strcspn(err.data, "\n"), err.data);
	}
out:
	ss_free_secret(aws_token);
	ss_buf_free(&err);
}

static int write_outputs(const struct ss_report *r)
{
	struct ss_report_counts c;
	struct ss_buf json, safe;
	char num[32];
	int bad = 0;
	size_t i;
	const struct {
		const char *name;
		size_t value;
	} outs[] = {
		{"changes", 0}, {"created", 0}, {"updated", 0},
		{"deleted", 0}, {"unchanged", 0}, {"failed", 0},
	};
	size_t values[6];

	if (env_nz("GITHUB_OUTPUT") == NULL)
		return 0;
	ss_report_counts(r, &c);
	values[0] = c.create + c.update + c.del;
	values[1] = c.create;
	values[2] = c.update;
	values[3] = c.del;
	values[4] = c.unchanged;
	values[5] = c.failed;
	for (i = 0; i < 6; i++) {
		snprintf(num, sizeof(num), "%zu", values[i]);
		if (ss_cmd_set_output(outs[i].name, num, strlen(num)) != SS_OK)
			bad = 1;
	}
	ss_buf_init(&json, 0);
	ss_buf_init(&safe, 0);
	/* Masked again on the way out: a value registered after an error
	 * was recorded is still caught. */
	if (ss_report_json(r, &json) != SS_OK ||
	    ss_mask_redact(ss_mask_global(), json.data, json.len, &safe) != SS_OK ||
	    ss_cmd_set_output("plan-json", safe.data, safe.len) != SS_OK)
		bad = 1;
	ss_buf_free(&json);
	ss_buf_free(&safe);
	return bad;
}

static int write_summary(const struct ss_report *r, const char *title)
{
	const char *path = env_nz("GITHUB_STEP_SUMMARY");
	struct ss_buf md, safe;
	FILE *f;
	int bad = 0;

	if (path == NULL)
		return 0;
	ss_buf_init(&md, 0);
	ss_buf_init(&safe, 0);
	/* The summary is capped at 1 MiB per step by GitHub. */
	if (ss_report_markdown(r, title, 1000000, &md) != SS_OK ||
	    ss_mask_redact(ss_mask_global(), md.data, md.len, &safe) != SS_OK) {
		bad = 1;
		goto out;
	}
	f = ss_cmd_open_append(path);
	if (f == NULL || fwrite(safe.data, 1, safe.len, f) != safe.len) {
		ss_error("GITHUB_STEP_SUMMARY: cannot write to %s", path);
		bad = 1;
	}
	if (f != NULL && fclose(f) != 0)
		bad = 1;
out:
	ss_buf_free(&md);
	ss_buf_free(&safe);
	return bad;
}

static void print_github(const struct ss_report *r)
{
	struct ss_buf out, line;
	size_t i;

	ss_buf_init(&out, 0);
	ss_buf_init(&line, 0);
	for (i = 0; i < r->n; i++) {
		const struct ss_report_target *t = &r->targets[i];
		struct ss_report one;
		const char *props[] = {"title", NULL, NULL};
		char title[160];

		/* A one-target report renders that target's lines. */
		one = *r;
		one.targets = (struct ss_report_target *)(uintptr_t)t;
		one.n = 1;
		ss_buf_reset(&out);
		ss_buf_reset(&line);
		snprintf(title, sizeof(title), "target %s", t->name);
		if (ss_ghcmd_format(&out, "group", NULL, title) != SS_OK ||
		    ss_report_text(&one, 0, &line) != SS_OK)
			break;
		/* Drop the one-target totals, its last line: the totals of all
		 * come at the end. (Names in the text are escaped, so no line
		 * but that one can look like it.) */
		if (line.len > 0) {
			size_t end = line.len - 1;

			while (end > 0 && line.data[end - 1] != '\n')
				end--;
			ss_buf_truncate(&line, end);
		}
		if (ss_buf_add(&out, line.data, line.len) != SS_OK ||
		    ss_ghcmd_format(&out, "endgroup", NULL, NULL) != SS_OK)
			break;
		if (t->status != SS_TARGET_OK) {
			snprintf(title, sizeof(title), "secretsync: target %s %s", t->name,
				 t->status == SS_TARGET_FAILED ? "failed" : "skipped");
			props[1] = title;
			if (ss_ghcmd_format(&out, "error", props, t->error ? t->error : "") != SS_OK)
				break;
		}
		ss_print(stdout, out.data);
	}
	ss_buf_reset(&out);
	{
		struct ss_report_counts c;

		ss_report_counts(r, &c);
		if (r->dry_run)
			(void)!ss_buf_addf(&out,
					   "Plan: %zu to create, %zu to update, %zu to delete, %zu "
					   "unchanged, %zu failed targets.\n",
					   c.create, c.update, c.del, c.unchanged, c.failed);
		else
			(void)!ss_buf_addf(&out,
					   "Result: %zu created, %zu updated, %zu deleted, %zu "
					   "unchanged, %zu failed targets.\n",
					   c.create, c.update, c.del, c.unchanged, c.failed);
		ss_print(stdout, out.data);
	}
	ss_buf_free(&out);
	ss_buf_free(&line);
}

int ss_publish_report(struct ss_publish *p, const struct ss_report *r, int verbose)
{
	struct ss_report_counts c;
	struct ss_buf out, err, marker;
	char title[64];
	int bad = 0;

	ss_buf_init(&out, 0);
	ss_buf_init(&err, 0);
	ss_buf_init(&marker, 0);
	snprintf(title, sizeof(title), "secretsync %s", p->command);
	switch (p->cli->output) {
	case SS_OUTPUT_JSON:
		if (ss_report_json(r, &out) == SS_OK && ss_buf_addc(&out, '\n') == SS_OK)
			ss_print(stdout, out.data);
		else
			bad = 1;
		break;
	case SS_OUTPUT_GITHUB:
		print_github(r);
		break;
	case SS_OUTPUT_TEXT:
		if (ss_report_text(r, verbose, &out) == SS_OK)
			ss_print(stdout, out.data);
		else
			bad = 1;
		break;
	}
	fflush(stdout);
	bad |= write_summary(r, title);
	bad |= write_outputs(r);
	ss_report_counts(r, &c);
	if (p->comment && p->gh != NULL) {
		struct ss_github_comment info;

		ss_buf_reset(&out);
		if (ss_github_marker(p->cli->config_path, p->command, &marker) == SS_OK &&
		    ss_report_markdown(r, title, ss_github_comment_room(marker.data), &out) ==
			    SS_OK &&
		    ss_github_sticky_comment(p->gh, 0, marker.data, out.data, &info, &err) == SS_OK) {
			ss_info("github: PR comment %s", info.updated ? "updated" : "created");
		} else {
			/* Asked for and not done: the run must not look green. */
			ss_cmd_log_errors(err.len ? err.data : "github: the PR comment failed");
			bad = 1;
		}
	}
	if (p->status && p->gh != NULL) {
		ss_buf_reset(&out);
		ss_buf_reset(&err);
		if (ss_report_status_line(r, &out) != SS_OK ||
		    ss_github_status(p->gh, NULL, c.failed ? "failure" : "success",
				     p->status_context, out.data, NULL, &err) != SS_OK) {
			ss_cmd_log_errors(err.len ? err.data : "github: the commit status failed");
			bad = 1;
		}
	}
	ss_buf_free(&out);
	ss_buf_free(&err);
	ss_buf_free(&marker);
	return bad;
}

void ss_publish_end(struct ss_publish *p)
{
	ss_github_free(p->gh);
	ss_github_context_free(p->ctx);
	free(p->ctx);
	p->gh = NULL;
	p->ctx = NULL;
}
