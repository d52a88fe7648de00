/* verify.c - `secretsync verify`, for a scheduled workflow (SPEC §9).
 *
 * Each check is reported PASS or FAIL with its reason and its time: the
 * config is valid; the AWS identity (GetCallerIdentity for the base
 * credentials and for each target role); Vault auth and each source
 * listable (Vault and AWS); the merge store readable; each target's Secrets
 * Manager reachable (ListSecrets); drift (the plan is not empty). Exit 1
 * on a failed check, and on drift unless --allow-drift; 78 for an
 * invalid config.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/aws.h"
#include "backends/aws_creds.h"
#include "backends/aws_s3.h"
#include "backends/aws_sm.h"
#include "backends/aws_sts.h"
#include "backends/github_api.h"
#include "backends/vault.h"
#include "cli.h"
#include "common.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/ghcmd.h"
#include "core/json.h"
#include "core/log.h"
#include "core/report.h"
#include "net/http.h"
#include "pipeline.h"
#include "publish.h"
#include "core/banned.h"

/* The targets verify looks at (--targets, --shard), as a run selects. */
static unsigned char *selected;

static int is_selected(size_t i)
{
	return selected == NULL || selected[i];
}

struct check {
	char *name;
	int ok;
	char *reason;
	double seconds;
};

struct checks {
	struct check *v;
	size_t n, cap;
	double t0;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Record a check that started at c->t0 (see begin). reason: the first
 * line of why, or a short success note. */
static void record(struct checks *c, const char *name, int ok, const char *reason)
{
	struct check *k;

	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 16;
		struct check *n = realloc(c->v, ncap * sizeof(*n));

		if (n == NULL)
			return;
		c->v = n;
		c->cap = ncap;
	}
	k = &c->v[c->n++];
	k->name = ss_strdup(name);
	k->ok = ok;
	k->reason = ss_strndup(reason ? reason : "", strcspn(reason ? reason : "", "\n"));
	k->seconds = now_s() - c->t0;
	ss_info("verify: %s %s%s%s", ok ? "PASS" : "FAIL", name, k->reason[0] ? ": " : "",
		k->reason);
	c->t0 = now_s();
}

static void begin(struct checks *c)
{
	c->t0 = now_s();
}

static void checks_free(struct checks *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->v[i].name);
		free(c->v[i].reason);
	}
	free(c->v);
}

static size_t failed_count(const struct checks *c)
{
	size_t i, n = 0;

	for (i = 0; i < c->n; i++)
		n += !c->v[i].ok;
	return n;
}

static void check_aws(struct checks *c, const struct ss_config *cfg, const struct ss_cli *cli,
		      struct ss_http *h, struct ss_aws_chain **chainp)
{
	struct ss_aws_creds_opts o;
	const struct ss_aws_creds *base = NULL, *cr = NULL;
	struct ss_sts_identity id;
	struct ss_buf err, name, note;
	size_t i;

	ss_buf_init(&err, 0);
	ss_buf_init(&name, 0);
	ss_buf_init(&note, 0);
	memset(&id, 0, sizeof(id));
	ss_cmd_aws_opts(cfg, cli, &o);
	begin(c);
	if (o.region == NULL) {
		record(c, "aws: base identity", 0, "no region: set aws.region or AWS_REGION");
		goto out;
	}
	*chainp = ss_aws_chain_new(h, &o, &err);
	if (*chainp == NULL || ss_aws_chain_base(*chainp, &base, &err) != SS_OK ||
	    ss_sts_get_caller_identity(h, o.region, base, &id, &err) != SS_OK) {
		record(c, "aws: base identity", 0, err.len ? err.data : "failed");
		goto out;
	}
	(void)!ss_buf_addf(&note, "%s (account %s)", id.arn ? id.arn : "?",
			   id.account ? id.account : "?");
	record(c, "aws: base identity", 1, note.data);
	ss_sts_identity_clear(&id);
	for (i = 0; i < cfg->ntargets; i++) {
		const struct ss_config_target *t = &cfg->targets[i];

		if (t->role_arn == NULL || !is_selected(i))
			continue;
		ss_buf_reset(&err);
		ss_buf_reset(&name);
		ss_buf_reset(&note);
		(void)!ss_buf_addf(&name, "aws: target %s assumes %s", t->name, t->role_arn);
		if (ss_aws_creds_for_role(*chainp, t->role_arn, &cr, &err) != SS_OK ||
		    ss_sts_get_caller_identity(h, o.region, cr, &id, &err) != SS_OK) {
			record(c, name.data, 0, err.len ? err.data : "failed");
			continue;
		}
		(void)!ss_buf_addf(&note, "account %s", id.account ? id.account : "?");
		record(c, name.data, t->account_id == NULL || id.account == NULL ||
				      strcmp(t->account_id, id.account) == 0,
		       t->account_id && id.account && strcmp(t->account_id, id.account) != 0
			       ? "the role is in another account than the target's account_id"
			       : note.data);
		ss_sts_identity_clear(&id);
	}
out:
	ss_sts_identity_clear(&id);
	ss_buf_free(&err);
	ss_buf_free(&name);
	ss_buf_free(&note);
}

static void check_vault(struct checks *c, const struct ss_config *cfg, const struct ss_cli *cli,
			struct ss_http *h)
{
	struct ss_vault_settings vs;
	struct ss_vault *v = NULL;
	struct ss_buf err, name, note;
	size_t i;
	int any = cfg->store.kind == SS_STORE_VAULT;

	for (i = 0; i < cfg->nsources; i++)
		any |= cfg->sources[i].kind == SS_SOURCE_VAULT;
	if (!any)
		return;
	ss_buf_init(&err, 0);
	ss_buf_init(&name, 0);
	ss_buf_init(&note, 0);
	begin(c);
	ss_cmd_vault_settings(cfg, cli, &vs);
	v = ss_vault_new(h, &vs, &err);
	if (v == NULL || ss_vault_login(v, &err) != SS_OK ||
	    ss_vault_lookup_self(v, &err) != SS_OK) {
		record(c, "vault: auth", 0, err.len ? err.data : "failed");
		goto out;
	}
	record(c, "vault: auth", 1, vs.address);
	for (i = 0; i < cfg->nsources; i++) {
		const struct ss_config_source *s = &cfg->sources[i];
		struct ss_vault_tree *op = NULL;
		cJSON *out = NULL;
		enum ss_rc rc;

		if (s->kind != SS_SOURCE_VAULT)
			continue;
		ss_buf_reset(&err);
		ss_buf_reset(&name);
		ss_buf_reset(&note);
		(void)!ss_buf_addf(&name, "vault: source %s (%s) readable", s->name, s->mount);
		rc = ss_vault_tree_start(v, s->mount, s->kv_version, (const char *const *)s->paths,
					 s->npaths, &op);
		if (rc == SS_OK)
			rc = ss_http_run(h);
		if (op != NULL) {
			enum ss_rc frc = ss_vault_tree_finish(op, &out, &err);

			if (rc == SS_OK)
				rc = frc;
		}
		(void)!ss_buf_addf(&note, "%d secrets", out ? cJSON_GetArraySize(out) : 0);
		record(c, name.data, rc == SS_OK, rc == SS_OK ? note.data : err.data);
		ss_json_delete_secret(out);
	}
	if (cfg->store.kind == SS_STORE_VAULT) {
		int version;

		ss_buf_reset(&err);
		ss_buf_reset(&name);
		(void)!ss_buf_addf(&name, "merge store: vault mount %s readable", cfg->store.mount);
		record(c, name.data, ss_vault_kv_version(v, cfg->store.mount, &version, &err) == SS_OK,
		       err.data);
	}
out:
	ss_vault_logout(v);
	ss_vault_free(v);
	ss_buf_free(&err);
	ss_buf_free(&name);
	ss_buf_free(&note);
}

/* Record whether the secrets under prefix are listable with the
 * credentials of role (NULL: the base) in region: what the pipeline does
 * first for a target or an AWS source. */
static void check_listable(struct checks *c, const char *name, struct ss_http *h,
			   struct ss_aws_chain *chain, const char *role, const char *region,
			   const char *prefix, int exclude_deleted)
{
	const struct ss_aws_creds *cr;
	struct ss_sm_scope sc;
	struct ss_sm_filter f;
	struct ss_sm_set *set = NULL;
	struct ss_buf err, note;

	ss_buf_init(&err, 0);
	ss_buf_init(&note, 0);
	if (region == NULL) {
		record(c, name, 0, "no region: set its region or aws.region");
		goto out;
	}
	if (ss_aws_creds_for_role(chain, role, &cr, &err) != SS_OK) {
		record(c, name, 0, err.data);
		goto out;
	}
	memset(&sc, 0, sizeof(sc));
	sc.h = h;
	sc.creds = cr;
	sc.region = region;
	sc.role_arn = role;
	memset(&f, 0, sizeof(f));
	f.name_prefix = prefix && prefix[0] ? prefix : NULL;
	f.exclude_deleted = exclude_deleted;
	if (ss_sm_list(&sc, &f, &set, &err) == SS_OK) {
		size_t n = set ? set->n : 0;

		(void)!ss_buf_addf(&note, "%zu secret%s", n, n == 1 ? "" : "s");
		record(c, name, 1, note.data);
	} else {
		record(c, name, 0, err.data);
	}
	ss_sm_set_free(set);
out:
	ss_buf_free(&err);
	ss_buf_free(&note);
}

static void check_targets(struct checks *c, const struct ss_config *cfg, struct ss_http *h,
			  struct ss_aws_chain *chain)
{
	const struct ss_aws_creds *cr;
	struct ss_buf err, name, note;
	size_t i;

	if (chain == NULL)
		return;
	ss_buf_init(&err, 0);
	ss_buf_init(&name, 0);
	ss_buf_init(&note, 0);
	if (cfg->store.kind == SS_STORE_S3 && cfg->ntargets > 0) {
		/* What the pipeline does: GET a bundle (404 = none yet). A
		 * HeadBucket would need more rights than the pipeline has. */
		struct ss_s3 *s3 = NULL;
		char *body = NULL;
		size_t len = 0;
		enum ss_rc rc = SS_ERR_NOMEM;

		begin(c);
		ss_buf_reset(&name);
		ss_buf_reset(&note);
		(void)!ss_buf_addf(&note, "%s%s.json", cfg->store.prefix ? cfg->store.prefix : "",
				   cfg->targets[0].name);
		(void)!ss_buf_addf(&name, "merge store: s3://%s/%s readable", cfg->store.bucket,
				   note.data);
		if (ss_aws_chain_base(chain, &cr, &err) == SS_OK &&
		    (s3 = ss_s3_new(h, cfg->aws.region, cr)) != NULL)
			rc = ss_s3_get(s3, cfg->store.bucket, note.data, &body, &len, &err);
		if (rc == SS_OK || rc == SS_ERR_NOTFOUND)
			record(c, name.data, 1, rc == SS_OK ? "" : "no bundle yet");
		else
			record(c, name.data, 0, err.len ? err.data : "failed");
		ss_free_secret(body);
		ss_s3_free(s3);
	}
	for (i = 0; i < cfg->ntargets; i++) {
		const struct ss_config_target *t = &cfg->targets[i];
		const char *region = t->region ? t->region : cfg->aws.region;

		if (!is_selected(i))
			continue;
		begin(c);
		ss_buf_reset(&name);
		(void)!ss_buf_addf(&name, "secrets manager: target %s (%s) listable", t->name,
				   region ? region : "?");
		check_listable(c, name.data, h, chain, t->role_arn, region, t->secret_prefix, 0);
	}
	ss_buf_free(&err);
	ss_buf_free(&name);
	ss_buf_free(&note);
}

/* Each AWS source: its secrets listable with its credentials (what the
 * pipeline lists before it reads them). */
static void check_aws_sources(struct checks *c, const struct ss_config *cfg, struct ss_http *h,
			      struct ss_aws_chain *chain)
{
	struct ss_buf name;
	size_t i;

	if (chain == NULL)
		return;
	ss_buf_init(&name, 0);
	for (i = 0; i < cfg->nsources; i++) {
		const struct ss_config_source *s = &cfg->sources[i];
		const char *region = s->region ? s->region : cfg->aws.region;

		if (s->kind != SS_SOURCE_AWS)
			continue;
		begin(c);
		ss_buf_reset(&name);
		(void)!ss_buf_addf(&name, "aws: source %s (%s%s%s) listable", s->name,
				   region ? region : "?", s->prefix && s->prefix[0] ? ", " : "",
				   s->prefix ? s->prefix : "");
		check_listable(c, name.data, h, chain, s->role_arn, region, s->prefix, 1);
	}
	ss_buf_free(&name);
}

static void check_drift(struct checks *c, const struct ss_cli *cli, struct ss_config *cfg,
			struct ss_report **report)
{
	struct ss_report_counts k;
	struct ss_buf note;
	enum ss_rc rc;

	ss_buf_init(&note, 0);
	begin(c);
	rc = ss_pipeline_plan(cli, cfg, report);
	if (*report == NULL) {
		record(c, "drift", 0, "the plan could not be computed");
		goto out;
	}
	ss_report_counts(*report, &k);
	if (rc != SS_OK || k.failed > 0) {
		size_t i;
		const char *why = "the plan could not be computed";

		for (i = 0; i < (*report)->n; i++)
			if ((*report)->targets[i].error != NULL) {
				why = (*report)->targets[i].error;
				break;
			}
		record(c, "drift", 0, why);
		goto out;
	}
	if (k.create + k.update + k.del == 0) {
		record(c, "drift", 1, "none: AWS matches the merged sources");
		goto out;
	}
	(void)!ss_buf_addf(&note, "%zu to create, %zu to update, %zu to delete%s", k.create,
			   k.update, k.del, cli->allow_drift ? " (allowed by --allow-drift)" : "");
	record(c, "drift", cli->allow_drift != 0, note.data);
out:
	ss_buf_free(&note);
}

static enum ss_rc checks_json(const struct checks *c, const struct ss_report *plan,
			      struct ss_buf *out)
{
	cJSON *root = cJSON_CreateObject(), *arr, *o;
	struct ss_buf pj;
	enum ss_rc rc = SS_ERR_NOMEM;
	size_t i;
	int ok;

	ss_buf_init(&pj, 0);
	ok = root != NULL && cJSON_AddNumberToObject(root, "version", 1) &&
	     cJSON_AddStringToObject(root, "command", "verify") &&
	     cJSON_AddBoolToObject(root, "ok", failed_count(c) == 0) &&
	     (arr = cJSON_AddArrayToObject(root, "checks")) != NULL;
	for (i = 0; ok && i < c->n; i++) {
		o = cJSON_CreateObject();
		ok = o != NULL && cJSON_AddItemToArray(arr, o) &&
		     cJSON_AddStringToObject(o, "name", c->v[i].name) &&
		     cJSON_AddStringToObject(o, "status", c->v[i].ok ? "pass" : "fail") &&
		     cJSON_AddStringToObject(o, "reason", c->v[i].reason) &&
		     cJSON_AddNumberToObject(o, "seconds",
					     (double)(long)(c->v[i].seconds * 1000) / 1000);
	}
	if (ok && plan != NULL) {
		cJSON *p = NULL;

		ok = ss_report_json(plan, &pj) == SS_OK &&
		     ss_json_parse(pj.data, pj.len, &p) == SS_OK &&
		     cJSON_AddItemToObject(root, "plan", p);
	}
	if (ok)
		rc = ss_json_print_buf(root, out);
	cJSON_Delete(root);
	ss_buf_free(&pj);
	return rc;
}

static void print_checks(const struct ss_cli *cli, const struct checks *c,
			 const struct ss_report *plan)
{
	struct ss_buf out;
	size_t i;

	ss_buf_init(&out, 0);
	if (cli->output == SS_OUTPUT_JSON) {
		if (checks_json(c, plan, &out) == SS_OK && ss_buf_addc(&out, '\n') == SS_OK)
			ss_print(stdout, out.data);
		ss_buf_free(&out);
		return;
	}
	if (cli->output == SS_OUTPUT_GITHUB)
		(void)!ss_ghcmd_format(&out, "group", NULL, "secretsync verify");
	for (i = 0; i < c->n; i++) {
		struct ss_buf name, reason;

		/* Names and reasons may quote what a server sent: one line
		 * each, no control character. */
		ss_buf_init(&name, 0);
		ss_buf_init(&reason, 0);
		(void)!ss_report_text_escape(&name, c->v[i].name);
		(void)!ss_report_text_escape(&reason, c->v[i].reason);
		(void)!ss_buf_addf(&out, "%s  %-60s %6.2fs  %s\n", c->v[i].ok ? "PASS" : "FAIL",
				   name.data, c->v[i].seconds, reason.data);
		ss_buf_free(&name);
		ss_buf_free(&reason);
	}
	if (plan != NULL && ss_report_has_changes(plan))
		(void)!ss_report_text(plan, 0, &out);
	if (cli->output == SS_OUTPUT_GITHUB) {
		(void)!ss_ghcmd_format(&out, "endgroup", NULL, NULL);
		for (i = 0; i < c->n; i++) {
			const char *props[] = {"title", NULL, NULL};
			char title[256];

			if (c->v[i].ok)
				continue;
			snprintf(title, sizeof(title), "secretsync verify: %s", c->v[i].name);
			props[1] = title;
			(void)!ss_ghcmd_format(&out, "error", props, c->v[i].reason);
		}
	}
	(void)!ss_buf_addf(&out, "verify: %zu passed, %zu failed\n", c->n - failed_count(c),
			   failed_count(c));
	ss_print(stdout, out.data);
	ss_buf_free(&out);
}

static void write_summary(const struct checks *c, const struct ss_report *plan)
{
	const char *path = getenv("GITHUB_STEP_SUMMARY");
	struct ss_buf md;
	FILE *f;
	size_t i;

	if (path == NULL || *path == '\0')
		return;
	ss_buf_init(&md, 0);
	(void)!ss_buf_addf(&md, "### secretsync verify: %s\n\n| check | result | time | reason |\n"
				"|---|---|---:|---|\n",
			   failed_count(c) ? "failed" : "healthy");
	for (i = 0; i < c->n; i++) {
		(void)!ss_buf_adds(&md, "| ");
		(void)!ss_report_md_escape(&md, c->v[i].name);
		(void)!ss_buf_addf(&md, " | %s | %.2fs | ", c->v[i].ok ? "PASS" : "**FAIL**",
				   c->v[i].seconds);
		(void)!ss_report_md_escape(&md, c->v[i].reason);
		(void)!ss_buf_adds(&md, " |\n");
	}
	(void)!ss_buf_addc(&md, '\n');
	if (plan != NULL && ss_report_has_changes(plan))
		(void)!ss_report_markdown(plan, "Drift", 500000, &md);
	f = ss_cmd_open_append(path);
	if (f != NULL) {
		ss_print(f, md.data);
		fclose(f);
	} else {
		ss_error("GITHUB_STEP_SUMMARY: cannot write to %s", path);
	}
	ss_buf_free(&md);
}

int ss_cmd_verify(const struct ss_cli *cli)
{
	struct ss_config *cfg = NULL;
	struct ss_aws_chain *chain = NULL;
	struct ss_report *plan = NULL;
	struct ss_publish pub;
	struct ss_http *h = NULL;
	struct checks c;
	int code, status_failed = 0;

	memset(&c, 0, sizeof(c));
	memset(&pub, 0, sizeof(pub));
	begin(&c);
	code = ss_cmd_load_config(cli, 1, &cfg);
	if (code != SS_EXIT_OK) {
		record(&c, "config valid", 0, "see the errors above");
		print_checks(cli, &c, NULL);
		checks_free(&c);
		return code;
	}
	record(&c, "config valid", 1, cli->config_path);
	{
		unsigned char *need = calloc(cfg->ntargets + 1, 1);

		selected = calloc(cfg->ntargets + 1, 1);
		code = selected && need ? ss_pipeline_select(cli, cfg, selected, need)
					: SS_EXIT_FAILURE;
		free(need);
		if (code != SS_EXIT_OK)
			goto out;
	}
	h = ss_http_new(ss_cmd_parallel(cli));
	if (h == NULL) {
		code = SS_EXIT_FAILURE;
		goto out;
	}
	check_aws(&c, cfg, cli, h, &chain);
	ss_publish_begin(&pub, cli, cfg, "verify", h, NULL);
	check_vault(&c, cfg, cli, h);
	check_aws_sources(&c, cfg, h, chain);
	check_targets(&c, cfg, h, chain);
	check_drift(&c, cli, cfg, &plan);
	print_checks(cli, &c, plan);
	write_summary(&c, plan);
	if (pub.status && pub.gh != NULL) {
		struct ss_buf line, err;

		ss_buf_init(&line, 0);
		ss_buf_init(&err, 0);
		(void)!ss_buf_addf(&line, "verify: %zu of %zu checks passed", c.n - failed_count(&c),
				   c.n);
		if (ss_github_status(pub.gh, NULL, failed_count(&c) ? "failure" : "success",
				     pub.status_context, line.data, NULL, &err) != SS_OK) {
			ss_cmd_log_errors(err.data);
			status_failed = 1;
		}
		ss_buf_free(&line);
		ss_buf_free(&err);
	}
	code = failed_count(&c) || status_failed ? SS_EXIT_FAILURE : SS_EXIT_OK;
out:
	ss_publish_end(&pub);
	ss_report_free(plan);
	ss_aws_chain_free(chain);
	ss_http_free(h);
	ss_config_free(cfg);
	checks_free(&c);
	free(selected);
	selected = NULL;
	return code;
}
