/* pipeline.c - `secretsync pipeline` and `plan`: Vault (and AWS) sources
 * -> deep merge per target -> merge store -> AWS Secrets Manager.
 *
 * The run goes in phases, each one a batch of requests on the shared
 * transport so that independent work runs concurrently:
 *   1. authenticate (Vault login, AWS base credentials, target roles);
 *   2. read every source the selected targets need (or, with
 *      --sync-only, the bundles from the merge store);
 *   3. merge per target in dependency order (pure, in memory);
 *   4. write changed bundles to the merge store;
 *   5. read each target's current state (ListSecrets + batch reads);
 *   6. compute the plan (value-free diff) and, unless --dry-run, apply
 *      it with idempotent writes.
 * A failure marks its target (and the targets that import it) failed;
 * without continue_on_error the remaining targets are skipped. The
 * report is published at the end whatever happened.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "backends/aws.h"
#include "backends/aws_creds.h"
#include "backends/aws_s3.h"
#include "backends/aws_sm.h"
#include "backends/aws_source.h"
#include "backends/vault.h"
#include "cli.h"
#include "common.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/diff.h"
#include "core/json.h"
#include "core/log.h"
#include "core/mask.h"
#include "core/merge.h"
#include "core/report.h"
#include "core/strset.h"
#include "net/http.h"
#include "pipeline.h"
#include "publish.h"
#include "core/banned.h"

struct target_state {
	const struct ss_config_target *t;
	size_t index;
	int want;          /* selected: merged, stored and synced */
	int need;          /* merged (selected or imported by a selected one) */
	int failed;        /* merging or syncing it failed */
	int applied;       /* its writes were sent (not a dry run) */
	int stored;        /* its bundle went through the merge store */
	int partial;       /* a source it merges left keys out: no deletes */
	char *error;       /* why (first error line) */
	cJSON *bundle;     /* name -> value */
	const struct ss_aws_creds *creds; /* for its account (borrowed from the chain) */
	struct ss_sm_set *state;          /* current secrets in AWS */
	struct ss_report_target *rt;
	double started;
};

struct run {
	const struct ss_cli *cli;
	struct ss_config *cfg;
	struct ss_http *h;
	struct ss_vault_settings vs;
	struct ss_vault *vault;
	struct ss_aws_chain *chain;
	const struct ss_aws_creds *base;
	struct target_state *ts;
	cJSON **sources;    /* per config source */
	char **source_err;  /* per config source: why it could not be read */
	unsigned char *source_partial; /* per config source: keys were skipped */
	struct ss_report *report;
	struct ss_merge_opts mopts;
	int dry_run;
	int continue_on_error;
	int aborted;        /* a failure without continue_on_error */
	const char *first_failed; /* the target whose failure aborted the run */
	/* Keys this run's ClientRequestTokens (HMAC): a retry within the run
	 * repeats its token, while a version id reveals nothing about the
	 * value to someone who may list but not read secrets. */
	unsigned char token_key[32];
	int own_cfg;        /* run_free frees cfg */
	int parallel;       /* the transport's bound */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The first line of an error buffer, for the report. */
static char *first_line(const char *s)
{
	size_t n = strcspn(s ? s : "", "\n");

	return ss_strndup(s ? s : "", n);
}

static void target_fail(struct run *r, struct target_state *t, const char *why)
{
	if (!t->failed) {
		t->failed = 1;
		free(t->error);
		t->error = first_line(why);
	}
	if (!r->continue_on_error && !r->aborted) {
		r->aborted = 1;
		r->first_failed = t->t->name;
	}
}

/* --targets: mark the wanted targets and their dependencies. */
int ss_pipeline_select(const struct ss_cli *cli, const struct ss_config *cfg,
		       unsigned char *want, unsigned char *need)
{
	unsigned char *shard = NULL;
	char *list = NULL, *p, *name;
	size_t i;
	int rc = SS_EXIT_OK;

	memset(want, 0, cfg->ntargets);
	memset(need, 0, cfg->ntargets);
	if (cli->targets == NULL) {
		memset(want, 1, cfg->ntargets);
	} else {
		list = ss_strdup(cli->targets);
		if (list == NULL) {
			rc = SS_EXIT_FAILURE;
			goto out;
		}
		for (p = list; (name = strsep(&p, ",")) != NULL;) {
			long idx;

			while (*name == ' ')
				name++;
			if (*name == '\0')
				continue;
			idx = ss_config_target_index(cfg, name);
			if (idx < 0) {
				struct ss_buf names;

				ss_buf_init(&names, 0);
				for (i = 0; i < cfg->ntargets; i++)
					if (ss_buf_addf(&names, "%s%s", i ? ", " : "",
							cfg->targets[i].name) != SS_OK)
						break;
				fprintf(stderr,
					"secretsync: --targets: no target '%s' in %s (targets: %s)\n",
					name, cli->config_path, names.data);
				ss_buf_free(&names);
				rc = SS_EXIT_USAGE;
				goto out;
			}
			want[idx] = 1;
		}
	}
	if (cli->shard_count > 0) {
		shard = calloc(cfg->ntargets + 1, 1);
		if (shard == NULL ||
		    ss_config_shard(cfg, cli->shard_index, cli->shard_count, shard) != SS_OK) {
			rc = SS_EXIT_FAILURE;
			goto out;
		}
		for (i = 0; i < cfg->ntargets; i++)
			want[i] = want[i] && shard[i];
	}
	ss_config_closure(cfg, want, need);
	for (i = 0; i < cfg->ntargets; i++)
		need[i] = need[i] || want[i];
out:
	free(shard);
	free(list);
	return rc;
}

static int select_targets(struct run *r)
{
	const struct ss_config *cfg = r->cfg;
	unsigned char *want = calloc(cfg->ntargets + 1, 1);
	unsigned char *need = calloc(cfg->ntargets + 1, 1);
	size_t i;
	int rc;

	if (want == NULL || need == NULL) {
		rc = SS_EXIT_FAILURE;
		goto out;
	}
	rc = ss_pipeline_select(r->cli, cfg, want, need);
	if (rc != SS_EXIT_OK)
		goto out;
	for (i = 0; i < cfg->ntargets; i++) {
		r->ts[i].t = &cfg->targets[i];
		r->ts[i].index = i;
		r->ts[i].want = want[i];
		r->ts[i].need = need[i];
	}
out:
	free(want);
	free(need);
	return rc;
}

static int source_needed(const struct run *r, size_t si)
{
	size_t i, j;

	for (i = 0; i < r->cfg->ntargets; i++) {
		const struct ss_config_target *t = &r->cfg->targets[i];

		if (!r->ts[i].need)
			continue;
		for (j = 0; j < t->nimports; j++)
			if (!t->imports[j].is_target && t->imports[j].index == si)
				return 1;
	}
	return 0;
}

static const char *target_region(const struct run *r, const struct ss_config_target *t)
{
	return t->region ? t->region : r->cfg->aws.region;
}

/* --- phase 1: authentication --- */

static int need_vault(const struct run *r)
{
	size_t i;

	if (r->cfg->store.kind == SS_STORE_VAULT)
		return 1;
	if (r->cli->sync_only)
		return 0;
	for (i = 0; i < r->cfg->nsources; i++)
		if (r->cfg->sources[i].kind == SS_SOURCE_VAULT && source_needed(r, i))
			return 1;
	return 0;
}

static int need_aws(const struct run *r)
{
	size_t i;

	if (!r->cli->merge_only || r->cfg->store.kind == SS_STORE_S3)
		return 1;
	for (i = 0; i < r->cfg->nsources; i++)
		if (r->cfg->sources[i].kind == SS_SOURCE_AWS && source_needed(r, i))
			return 1;
	return 0;
}

static int authenticate(struct run *r)
{
	struct ss_aws_creds_opts o;
	struct ss_buf err;
	const char **roles = NULL;
	size_t i, n = 0;
	int ok = 0;

	ss_buf_init(&err, 0);
	if (need_vault(r)) {
		ss_cmd_vault_settings(r->cfg, r->cli, &r->vs);
		r->vault = ss_vault_new(r->h, &r->vs, &err);
		if (r->vault == NULL || ss_vault_login(r->vault, &err) != SS_OK)
			goto out;
	}
	if (need_aws(r)) {
		ss_cmd_aws_opts(r->cfg, r->cli, &o);
		if (o.region == NULL) {
			(void)!ss_buf_adds(&err, "aws: no region: set aws.region in the config, or "
						 "AWS_REGION\n");
			goto out;
		}
		r->chain = ss_aws_chain_new(r->h, &o, &err);
		if (r->chain == NULL || ss_aws_chain_base(r->chain, &r->base, &err) != SS_OK)
			goto out;
		/* Assume every role the run needs at once. */
		roles = calloc(r->cfg->ntargets + r->cfg->nsources + 1, sizeof(*roles));
		if (roles == NULL)
			goto out;
		for (i = 0; i < r->cfg->ntargets; i++)
			if (r->ts[i].want && !r->cli->merge_only && r->cfg->targets[i].role_arn)
				roles[n++] = r->cfg->targets[i].role_arn;
		for (i = 0; i < r->cfg->nsources; i++)
			if (r->cfg->sources[i].kind == SS_SOURCE_AWS && r->cfg->sources[i].role_arn &&
			    source_needed(r, i) && !r->cli->sync_only)
				roles[n++] = r->cfg->sources[i].role_arn;
		if (n > 0 && ss_aws_creds_prefetch(r->chain, roles, n, &err) != SS_OK) {
			/* Per-target failures are reported when the target runs
			 * (which tries once more): an error here could be one
			 * that the second try mends. */
			ss_debug("aws: assuming the roles up front failed: %s", err.data);
			ss_buf_reset(&err);
		}
	}
	ok = 1;
out:
	if (!ok)
		ss_cmd_log_errors(err.len ? err.data : "out of memory\n");
	free(roles);
	ss_buf_free(&err);
	return ok;
}

/* --- phase 2: sources --- */

struct source_op {
	size_t index;
	struct ss_vault_tree *vt;
	struct ss_aws_source *as;
};

static void read_sources(struct run *r)
{
	const struct ss_config *cfg = r->cfg;
	struct source_op *ops = calloc(cfg->nsources + 1, sizeof(*ops));
	struct ss_buf err;
	size_t i;

	ss_buf_init(&err, 0);
	if (ops == NULL)
		return;
	for (i = 0; i < cfg->nsources; i++) {
		const struct ss_config_source *s = &cfg->sources[i];
		enum ss_rc rc = SS_OK;

		ops[i].index = i;
		if (!source_needed(r, i))
			continue;
		ss_buf_reset(&err);
		if (s->kind == SS_SOURCE_VAULT) {
			rc = ss_vault_tree_start(r->vault, s->mount, s->kv_version,
						 (const char *const *)s->paths, s->npaths,
						 &ops[i].vt);
		} else {
			struct ss_aws_source_settings as;
			const struct ss_aws_creds *creds = NULL;

			memset(&as, 0, sizeof(as));
			as.name = s->name;
			as.region = s->region ? s->region : cfg->aws.region;
			as.prefix = s->prefix;
			as.role_arn = s->role_arn;
			rc = ss_aws_creds_for_role(r->chain, s->role_arn, &creds, &err);
			if (rc == SS_OK)
				rc = ss_aws_source_start(r->h, creds, &as, &ops[i].as);
		}
		if (rc != SS_OK && err.len == 0)
			(void)!ss_buf_addf(&err, "source %s: %s\n", s->name, ss_strerror(rc));
		if (rc != SS_OK)
			r->source_err[i] = first_line(err.data);
	}
	if (ss_http_run(r->h) != SS_OK)
		ss_error("internal: the transport failed");
	for (i = 0; i < cfg->nsources; i++) {
		enum ss_rc rc;

		ss_buf_reset(&err);
		if (ops[i].vt != NULL) {
			r->source_partial[i] = ss_vault_tree_skipped(ops[i].vt) > 0;
			rc = ss_vault_tree_finish(ops[i].vt, &r->sources[i], &err);
		}
		else if (ops[i].as != NULL)
			rc = ss_aws_source_finish(ops[i].as, &r->sources[i], &err);
		else
			continue;
		if (rc != SS_OK) {
			ss_cmd_log_errors(err.len ? err.data : ss_strerror(rc));
			free(r->source_err[i]);
			r->source_err[i] = first_line(err.len ? err.data : ss_strerror(rc));
		} else {
			ss_info("source %s: %d secret%s", cfg->sources[i].name,
				cJSON_GetArraySize(r->sources[i]),
				cJSON_GetArraySize(r->sources[i]) == 1 ? "" : "s");
		}
	}
	ss_buf_free(&err);
	free(ops);
}

/* --- phase 3: merge --- */

static void merge_targets(struct run *r)
{
	const struct ss_config *cfg = r->cfg;
	size_t i, j;

	/* cfg->targets is in dependency order: imports are merged first. */
	for (i = 0; i < cfg->ntargets && !r->aborted; i++) {
		struct target_state *ts = &r->ts[i];
		const struct ss_config_target *t = ts->t;

		if (!ts->need)
			continue;
		ts->bundle = cJSON_CreateObject();
		if (ts->bundle == NULL) {
			target_fail(r, ts, "out of memory");
			continue;
		}
		for (j = 0; j < t->nimports && !ts->failed; j++) {
			const struct ss_config_import *imp = &t->imports[j];
			const cJSON *src;
			char why[512];
			enum ss_rc rc;

			if (imp->is_target) {
				struct target_state *dep = &r->ts[imp->index];

				if (dep->failed || dep->bundle == NULL) {
					snprintf(why, sizeof(why), "imports target %s, which failed",
						 imp->name);
					target_fail(r, ts, why);
					break;
				}
				src = dep->bundle;
				ts->partial |= dep->partial;
			} else {
				if (r->sources[imp->index] == NULL) {
					snprintf(why, sizeof(why), "source %s could not be read: %s",
						 imp->name,
						 r->source_err[imp->index] ? r->source_err[imp->index]
									   : "unknown error");
					target_fail(r, ts, why);
					break;
				}
				src = r->sources[imp->index];
				ts->partial |= r->source_partial[imp->index];
			}
			rc = ss_merge_into_bundle(ts->bundle, src, &r->mopts);
			if (rc != SS_OK) {
				snprintf(why, sizeof(why), "merging %s: %s", imp->name, ss_strerror(rc));
				target_fail(r, ts, why);
			}
		}
	}
}

/* --- phase 4: the merge store --- */

static char *s3_key(const struct ss_config *cfg, const char *target)
{
	struct ss_buf b;
	char *out = NULL;

	ss_buf_init(&b, 0);
	if (ss_buf_addf(&b, "%s%s.json", cfg->store.prefix ? cfg->store.prefix : "", target) ==
		    SS_OK &&
	    ss_buf_take(&b, &out) == SS_OK)
		return out;
	ss_buf_free(&b);
	return NULL;
}

/* Write (or with --sync-only read) one target's bundle. */
/* Vault merge store writes go out this many at a time. */
#define STORE_WINDOW 64

/* Run the queued store ops and finish them all; the first failure's
 * code is returned, every failure's lines are in err. */
static enum ss_rc flush_ops(struct run *r, struct ss_vault_op **ops, size_t *n,
			    struct ss_buf *err)
{
	enum ss_rc rc = SS_OK, one;
	size_t i;

	if (*n == 0)
		return SS_OK;
	if (ss_http_run(r->h) != SS_OK)
		rc = SS_ERR_INTERNAL;
	for (i = 0; i < *n; i++) {
		one = ss_vault_op_finish(ops[i], err);
		if (rc == SS_OK)
			rc = one;
		ops[i] = NULL;
	}
	*n = 0;
	return rc;
}

static void store_bundle(struct run *r, struct target_state *ts)
{
	const struct ss_config *cfg = r->cfg;
	struct ss_vault_op *ops[STORE_WINDOW];
	size_t nops = 0;
	struct ss_buf err;
	cJSON *old = NULL;
	enum ss_rc rc = SS_OK;

	ss_buf_init(&err, 0);
	if (cfg->store.kind == SS_STORE_VAULT) {
		struct ss_vault_tree *op = NULL;
		const char *start[1];
		struct ss_buf folder;
		const cJSON *item;

		ss_buf_init(&folder, 0);
		rc = ss_buf_addf(&folder, "%s/", ts->t->name);
		start[0] = folder.data;
		if (rc == SS_OK)
			rc = ss_vault_tree_start(r->vault, cfg->store.mount, 0, start, 1, &op);
		if (rc == SS_OK)
			rc = ss_http_run(r->h);
		if (op != NULL) {
			enum ss_rc frc = ss_vault_tree_finish(op, &old, &err);

			if (rc == SS_OK)
				rc = frc;
		}
		if (rc != SS_OK) {
			ss_buf_free(&folder);
			goto fail;
		}
		if (r->cli->sync_only) {
			/* Names come back as "<target>/<secret>": strip the folder. */
			cJSON *b = cJSON_CreateObject();
			cJSON *c, *next;

			for (c = old ? old->child : NULL; b != NULL && c != NULL; c = next) {
				next = c->next;
				cJSON_DetachItemViaPointer(old, c);
				if (!cJSON_AddItemToObject(b, c->string + folder.len, c)) {
					ss_json_delete_secret(c);
				}
			}
			ss_json_delete_secret(ts->bundle);
			ts->bundle = b;
			ss_buf_free(&folder);
			if (b == NULL || b->child == NULL) {
				(void)!ss_buf_addf(&err,
						   "merge store: vault %s/%s has no bundle; run the merge "
						   "first (without --sync-only)\n",
						   cfg->store.mount, ts->t->name);
				rc = SS_ERR_NOTFOUND;
				goto fail;
			}
			goto out;
		}
		cJSON_ArrayForEach(item, ts->bundle)
		{
			struct ss_buf path;
			const cJSON *prev;

			ss_buf_init(&path, 0);
			rc = ss_buf_addf(&path, "%s%s", folder.data, item->string);
			prev = old && rc == SS_OK
				       ? cJSON_GetObjectItemCaseSensitive(old, path.data)
				       : NULL;
			if (rc == SS_OK && prev != NULL && ss_json_equal(prev, item)) {
				ss_buf_free(&path);
				continue;
			}
			if (rc == SS_OK && !cJSON_IsObject(item)) {
				(void)!ss_buf_addf(&err,
						   "merge store: %s is not a JSON object, and the Vault "
						   "merge store keeps objects only\n",
						   item->string);
				rc = SS_ERR_INVALID;
			}
			if (rc == SS_OK && r->dry_run)
				ss_info("merge store: vault %s/%s would be written", cfg->store.mount,
					path.data);
			else if (rc == SS_OK)
				rc = ss_vault_write_start(r->vault, cfg->store.mount, path.data, item,
							  &ops[nops++], &err);
			ss_buf_free(&path);
			if (rc == SS_OK && nops == STORE_WINDOW)
				rc = flush_ops(r, ops, &nops, &err);
			if (rc != SS_OK)
				break;
		}
		/* Secrets that left the bundle leave the store too, or a
		 * --sync-only run would bring them back. */
		for (item = old ? old->child : NULL; rc == SS_OK && item != NULL;
		     item = item->next) {
			const char *secret = item->string + folder.len;

			if (strncmp(item->string, folder.data, folder.len) != 0 ||
			    cJSON_GetObjectItemCaseSensitive(ts->bundle, secret) != NULL)
				continue;
			if (r->dry_run)
				ss_info("merge store: vault %s/%s would be deleted", cfg->store.mount,
					item->string);
			else
				rc = ss_vault_delete_start(r->vault, cfg->store.mount, item->string,
							   &ops[nops++], &err);
			if (rc == SS_OK && nops == STORE_WINDOW)
				rc = flush_ops(r, ops, &nops, &err);
		}
		/* Even after a failure: every queued op is finished and freed. */
		{
			enum ss_rc frc = flush_ops(r, ops, &nops, &err);

			if (rc == SS_OK)
				rc = frc;
		}
		ss_buf_free(&folder);
		if (rc != SS_OK)
			goto fail;
	}
	goto out;
fail:
	ss_cmd_log_errors(err.len ? err.data : ss_strerror(rc));
	target_fail(r, ts, err.len ? err.data : ss_strerror(rc));
out:
	ss_json_delete_secret(old);
	ss_buf_free(&err);
}

/* One target's bundle in the S3 merge store, through the two rounds. */
struct s3_slot {
	struct run *r;
	struct target_state *ts;
	char *key;
	enum ss_rc rc;
	char *body; /* the stored bundle (a secret) */
	size_t len;
	char *error;
	int put;    /* a PutObject was queued */
};

static void s3_done(enum ss_rc rc, struct ss_buf *body, const char *error, void *ctx)
{
	struct s3_slot *sl = ctx;

	sl->rc = rc;
	if (rc == SS_OK && body != NULL) {
		sl->len = body->len;
		if (ss_buf_take(body, &sl->body) != SS_OK)
			sl->rc = SS_ERR_NOMEM;
	}
	if (rc != SS_OK && rc != SS_ERR_NOTFOUND && error != NULL)
		sl->error = ss_strdup(error);
}

static void s3_slot_fail(struct s3_slot *sl, const char *why)
{
	ss_cmd_log_errors(why);
	target_fail(sl->r, sl->ts, why);
}

/* The S3 merge store: every bundle GET at once, compare, then every
 * needed PUT at once (or, with --sync-only, adopt the stored bundles). */
static void store_s3(struct run *r, struct ss_s3 *s3)
{
	const struct ss_config *cfg = r->cfg;
	struct s3_slot *sl = calloc(cfg->ntargets + 1, sizeof(*sl));
	struct ss_buf err;
	size_t i;

	ss_buf_init(&err, 0);
	if (sl == NULL) {
		r->aborted = 1;
		return;
	}
	for (i = 0; i < cfg->ntargets; i++) {
		struct target_state *ts = &r->ts[i];

		sl[i].r = r;
		sl[i].ts = ts;
		if (!ts->want || ts->failed || (ts->bundle == NULL && !r->cli->sync_only))
			continue;
		sl[i].key = s3_key(cfg, ts->t->name);
		if (sl[i].key == NULL ||
		    ss_s3_get_submit(s3, cfg->store.bucket, sl[i].key, s3_done, &sl[i]) != SS_OK) {
			s3_slot_fail(&sl[i], "merge store: out of memory");
			free(sl[i].key);
			sl[i].key = NULL;
		}
	}
	if (ss_http_run(r->h) != SS_OK)
		ss_error("internal: the transport failed");
	for (i = 0; i < cfg->ntargets; i++) {
		struct s3_slot *x = &sl[i];
		struct target_state *ts = x->ts;
		cJSON *old = NULL;
		char *text = NULL;
		enum ss_rc rc = x->rc;

		if (x->key == NULL)
			continue;
		ss_buf_reset(&err);
		if (rc != SS_OK && rc != SS_ERR_NOTFOUND) {
			s3_slot_fail(x, x->error ? x->error : ss_strerror(rc));
			continue;
		}
		if (x->body != NULL && ss_json_parse(x->body, x->len, &old) == SS_OK &&
		    ss_mask_add_json(ss_mask_global(), old) != SS_OK) {
			ss_json_delete_secret(old);
			s3_slot_fail(x, "merge store: out of memory");
			continue;
		}
		if (r->cli->sync_only) {
			if (old == NULL || !cJSON_IsObject(old)) {
				(void)!ss_buf_addf(&err,
						   "merge store: s3://%s/%s %s; run the merge first "
						   "(without --sync-only)\n",
						   cfg->store.bucket, x->key,
						   x->body ? "is not a JSON object" : "does not exist");
				s3_slot_fail(x, err.data);
				ss_json_delete_secret(old);
				continue;
			}
			ss_json_delete_secret(ts->bundle);
			ts->bundle = old;
			ts->stored = 1;
			continue;
		}
		if (old != NULL && ss_json_equal(old, ts->bundle)) {
			ss_debug("merge store: s3://%s/%s unchanged", cfg->store.bucket, x->key);
			ts->stored = 1;
		} else if (r->dry_run) {
			ss_info("merge store: s3://%s/%s would be %s", cfg->store.bucket, x->key,
				old ? "updated" : "created");
			ts->stored = 1;
		} else if (ss_json_print(ts->bundle, &text) == SS_OK) {
			struct ss_s3_put put;

			memset(&put, 0, sizeof(put));
			put.bucket = cfg->store.bucket;
			put.key = x->key;
			put.body = text;
			put.len = strlen(text);
			put.kms_key_id = cfg->store.kms_key_id;
			x->rc = SS_ERR_INTERNAL;
			if (ss_s3_put_submit(s3, &put, s3_done, x) == SS_OK)
				x->put = 1;
			else
				s3_slot_fail(x, "merge store: out of memory");
		} else {
			s3_slot_fail(x, "merge store: out of memory");
		}
		ss_json_delete_secret(old);
		ss_free_secret(text);
	}
	if (ss_http_run(r->h) != SS_OK)
		ss_error("internal: the transport failed");
	for (i = 0; i < cfg->ntargets; i++) {
		struct s3_slot *x = &sl[i];

		if (x->put) {
			if (x->rc == SS_OK) {
				ss_info("merge store: wrote s3://%s/%s", cfg->store.bucket, x->key);
				x->ts->stored = 1;
			} else {
				s3_slot_fail(x, x->error ? x->error : ss_strerror(x->rc));
			}
		}
		free(x->key);
		ss_free_secret(x->body);
		free(x->error);
	}
	free(sl);
	ss_buf_free(&err);
}

static void store_bundles(struct run *r)
{
	struct ss_s3 *s3 = NULL;
	size_t i;

	if (r->cfg->store.kind == SS_STORE_NONE)
		return;
	if (r->cfg->store.kind == SS_STORE_S3) {
		s3 = ss_s3_new(r->h, r->cfg->aws.region, r->base);
		if (s3 == NULL) {
			ss_error("merge store: out of memory");
			r->aborted = 1;
			return;
		}
	}
	if (s3 != NULL)
		store_s3(r, s3);
	for (i = 0; s3 == NULL && i < r->cfg->ntargets && !r->aborted; i++) {
		struct target_state *ts = &r->ts[i];

		if (ts->want && !ts->failed && (ts->bundle != NULL || r->cli->sync_only)) {
			store_bundle(r, ts);
			ts->stored = !ts->failed;
		}
	}
	ss_s3_free(s3);
}

/* --- phases 5 and 6: sync --- */

static enum ss_rc aws_name(const struct ss_config_target *t, const char *secret,
			   struct ss_buf *out)
{
	ss_buf_reset(out);
	return ss_buf_addf(out, "%s%s", t->secret_prefix ? t->secret_prefix : "", secret);
}

static void start_state_reads(struct run *r, struct ss_sm_read **ops)
{
	size_t i;

	for (i = 0; i < r->cfg->ntargets; i++) {
		struct target_state *ts = &r->ts[i];
		const struct ss_config_target *t = ts->t;
		struct ss_sm_scope sc;
		struct ss_sm_filter f;
		struct ss_buf err, name;
		const char **want = NULL;
		const cJSON *item;
		size_t n = 0;
		enum ss_rc rc;

		if (!ts->want || ts->failed || r->aborted)
			continue;
		ts->started = now_s();
		ss_buf_init(&err, 0);
		ss_buf_init(&name, 0);
		rc = ss_aws_creds_for_role(r->chain, t->role_arn, &ts->creds, &err);
		if (rc != SS_OK)
			goto fail;
		if (target_region(r, t) == NULL) {
			(void)!ss_buf_addf(&err, "target %s: no region (set its region or aws.region)\n",
					   t->name);
			rc = SS_ERR_INVALID;
			goto fail;
		}
		want = calloc((size_t)cJSON_GetArraySize(ts->bundle) + 1, sizeof(*want));
		if (want == NULL) {
			rc = SS_ERR_NOMEM;
			goto fail;
		}
		cJSON_ArrayForEach(item, ts->bundle)
		{
			rc = aws_name(t, item->string, &name);
			if (rc == SS_OK && (want[n] = ss_strdup(name.data)) == NULL)
				rc = SS_ERR_NOMEM;
			if (rc != SS_OK)
				break;
			n++;
		}
		if (rc != SS_OK)
			goto fail;
		memset(&sc, 0, sizeof(sc));
		sc.h = r->h;
		sc.creds = ts->creds;
		sc.region = target_region(r, t);
		sc.role_arn = t->role_arn;
		memset(&f, 0, sizeof(f));
		f.name_prefix = t->secret_prefix && t->secret_prefix[0] ? t->secret_prefix : NULL;
		rc = ss_sm_state_start(&sc, &f, want, n, &ops[i]);
		if (rc != SS_OK)
			goto fail;
		goto done;
fail:
		if (err.len == 0)
			(void)!ss_buf_addf(&err, "target %s: %s\n", t->name, ss_strerror(rc));
		ss_cmd_log_errors(err.data);
		target_fail(r, ts, err.data);
done:
		while (want != NULL && n > 0)
			free((char *)(uintptr_t)want[--n]);
		free(want);
		ss_buf_free(&err);
		ss_buf_free(&name);
	}
}

/* Whether the change to aws_name of target ts was made: the set holds
 * "<target index>:<AWS name>" (targets in other accounts share names). */
static int was_done(const struct ss_strset *done, const struct target_state *ts,
		    const char *aws_name)
{
	struct ss_buf key;
	int has;

	ss_buf_init(&key, 0);
	has = ss_buf_addf(&key, "%zu:%s", ts->index, aws_name) == SS_OK &&
	      ss_strset_has(done, key.data);
	ss_buf_free(&key);
	return has;
}

static enum ss_rc mark_done(struct ss_strset *done, const struct target_state *ts,
			    const char *aws_name)
{
	struct ss_buf key;
	int added;
	enum ss_rc rc;

	ss_buf_init(&key, 0);
	rc = ss_buf_addf(&key, "%zu:%s", ts->index, aws_name);
	if (rc == SS_OK)
		rc = ss_strset_add(done, key.data, &added);
	ss_buf_free(&key);
	return rc;
}

/* Nonzero when writing text over cv (NULL: absent) is a change (or
 * cannot be told: out of memory). */
static int is_change(const char *secret, const char *aws_name, const char *text, const char *cv)
{
	struct ss_diff *one = ss_diff_new();
	int change = 1;

	if (one != NULL &&
	    ss_diff_add(one, secret, aws_name, text, strlen(text), cv, cv ? strlen(cv) : 0) ==
		    SS_OK &&
	    one->n == 1)
		change = one->entries[0].action != SS_DIFF_UNCHANGED;
	ss_diff_free(one);
	return change;
}

/* Compute a target's plan from its bundle and its AWS state. With
 * applied, after the writes: the changes whose writes went through (by
 * AWS name) and the unchanged, so that the report of a failed target
 * shows what was done, not what was planned. */
static void plan_target(struct run *r, struct target_state *ts, const struct ss_strset *applied)
{
	const struct ss_config_target *t = ts->t;
	struct ss_diff *d = ss_diff_new();
	struct ss_buf name, err;
	const cJSON *item;
	size_t i;
	enum ss_rc rc = SS_OK;

	ss_buf_init(&name, 0);
	ss_buf_init(&err, 0);
	if (d == NULL) {
		target_fail(r, ts, "out of memory");
		return;
	}
	cJSON_ArrayForEach(item, ts->bundle)
	{
		const struct ss_sm_secret *cur;
		char *text = NULL;

		rc = aws_name(t, item->string, &name);
		if (rc == SS_OK)
			rc = ss_sm_check_name(name.data, &err);
		if (rc == SS_OK)
			rc = ss_json_secret_string(item, &text);
		if (rc == SS_OK && strlen(text) > SS_SM_MAX_VALUE) {
			(void)!ss_buf_addf(&err,
					   "target %s: secret %s is %zu bytes, over Secrets Manager's "
					   "%d-byte limit\n",
					   t->name, name.data, strlen(text), SS_SM_MAX_VALUE);
			rc = SS_ERR_TOOBIG;
		}
		cur = rc == SS_OK ? ss_sm_set_find(ts->state, name.data) : NULL;
		if (rc == SS_OK && cur != NULL && cur->deleted) {
			rc = ss_sm_explain_deleted(&err, name.data, target_region(r, t));
			if (rc == SS_OK)
				rc = SS_ERR_INVALID;
		}
		if (rc == SS_OK) {
			const char *cv = cur && cur->kind == SS_SM_STRING ? cur->value : NULL;

			if (cur != NULL && cv == NULL) /* binary or unreadable: overwrite */
				cv = "";
			if (applied != NULL && !was_done(applied, ts, name.data) &&
			    is_change(item->string, name.data, text, cv))
				; /* a change that was not made */
			else
				rc = ss_diff_add(d, item->string, name.data, text, strlen(text), cv,
						 cv ? strlen(cv) : 0);
		}
		ss_free_secret(text);
		if (rc != SS_OK)
			break;
	}
	/* Orphans: managed by this target, absent from the bundle. */
	for (i = 0; rc == SS_OK && ts->state != NULL && i < ts->state->n; i++) {
		const struct ss_sm_secret *s = &ts->state->items[i];
		const char *pfx = t->secret_prefix ? t->secret_prefix : "";
		const char *secret = s->name + strlen(pfx);

		if (s->deleted || !ss_sm_is_managed(s, t->name) ||
		    strncmp(s->name, pfx, strlen(pfx)) != 0 ||
		    cJSON_GetObjectItemCaseSensitive(ts->bundle, secret) != NULL)
			continue;
		if (applied != NULL) {
			if (r->cfg->pipeline.delete_orphans && !ts->partial &&
			    was_done(applied, ts, s->name))
				rc = ss_diff_add_action(d, secret, s->name, SS_DIFF_DELETE);
		} else if (r->cfg->pipeline.delete_orphans && ts->partial)
			ss_warn("target %s: %s is managed by secretsync but not in the bundle; not "
				"deleted: a source of this target left out keys it could not read "
				"safely (see the warnings above), so the bundle may be incomplete",
				t->name, s->name);
		else if (r->cfg->pipeline.delete_orphans)
			rc = ss_diff_add_action(d, secret, s->name, SS_DIFF_DELETE);
		else
			ss_info("target %s: %s is managed by secretsync but no longer in the bundle "
				"(kept: delete_orphans is off)",
				t->name, s->name);
	}
	if (rc != SS_OK) {
		ss_cmd_log_errors(err.len ? err.data : ss_strerror(rc));
		target_fail(r, ts, err.len ? err.data : ss_strerror(rc));
		ss_diff_free(d);
	} else {
		ss_diff_sort(d);
		ts->rt->diff = d;
	}
	ss_buf_free(&name);
	ss_buf_free(&err);
}

struct write_op {
	struct target_state *ts;
	struct ss_sm_op *op;
	const char *what;
	char *name;
};

/* Queue the writes of one target's plan; returns the number queued. */
static size_t start_writes(struct run *r, struct target_state *ts, struct write_op *w, size_t max,
			   size_t *cursor)
{
	const struct ss_config_target *t = ts->t;
	const struct ss_diff *d = ts->rt->diff;
	struct ss_sm_scope sc;
	struct ss_buf err;
	size_t i, n = 0;

	ss_buf_init(&err, 0);
	memset(&sc, 0, sizeof(sc));
	sc.h = r->h;
	sc.creds = ts->creds;
	sc.region = target_region(r, t);
	sc.role_arn = t->role_arn;
	sc.deleting_live = 1; /* orphans are planned from live secrets only */
	/* Each entry takes at most two slots (a write and a tag). */
	for (i = *cursor; d != NULL && i < d->n && n + 2 <= max; i++) {
		const struct ss_diff_entry *e = &d->entries[i];
		const struct ss_sm_secret *cur = ss_sm_set_find(ts->state, e->aws_name);
		const cJSON *item = cJSON_GetObjectItemCaseSensitive(ts->bundle, e->secret);
		struct ss_sm_write wr;
		char *text = NULL;
		enum ss_rc rc = SS_OK;

		if (e->action == SS_DIFF_UNCHANGED) {
			/* Unchanged but not tagged as ours: claim it. */
			if (cur != NULL && !ss_sm_is_managed(cur, t->name) && cur->tags_known) {
				rc = ss_sm_tag_start(&sc, e->aws_name, t->name, &w[n].op);
				w[n].what = "tag";
			} else {
				continue;
			}
		} else if (e->action == SS_DIFF_DELETE) {
			rc = ss_sm_delete_start(&sc, e->aws_name,
						(int)r->cfg->pipeline.recovery_window_days, &w[n].op);
			w[n].what = "delete";
		} else {
			rc = item ? ss_json_secret_string(item, &text) : SS_ERR_INTERNAL;
			memset(&wr, 0, sizeof(wr));
			wr.name = e->aws_name;
			wr.target = t->name;
			wr.value = text;
			wr.value_len = text ? strlen(text) : 0;
			wr.previous_version = cur ? cur->version_id : NULL;
			wr.token_key = r->token_key;
			wr.token_key_len = sizeof(r->token_key);
			if (rc == SS_OK && e->action == SS_DIFF_CREATE) {
				rc = ss_sm_create_start(&sc, &wr, &w[n].op);
				w[n].what = "create";
			} else if (rc == SS_OK) {
				rc = ss_sm_put_start(&sc, &wr, &w[n].op);
				w[n].what = "update";
			}
			ss_free_secret(text);
		}
		w[n].ts = ts;
		w[n].name = ss_strdup(e->aws_name);
		if (rc != SS_OK && w[n].op == NULL) {
			(void)!ss_buf_addf(&err, "target %s: %s %s: %s\n", t->name, w[n].what,
					   e->aws_name, ss_strerror(rc));
			free(w[n].name);
			continue;
		}
		n++;
		/* An update of a secret that is not ours also needs the tags. */
		if (e->action == SS_DIFF_UPDATE && cur != NULL && !ss_sm_is_managed(cur, t->name) &&
		    n < max) {
			if (ss_sm_tag_start(&sc, e->aws_name, t->name, &w[n].op) == SS_OK ||
			    w[n].op != NULL) {
				w[n].ts = ts;
				w[n].what = "tag";
				w[n].name = ss_strdup(e->aws_name);
				n++;
			}
		}
	}
	*cursor = i;
	if (err.len > 0) {
		ss_cmd_log_errors(err.data);
		target_fail(r, ts, err.data);
	}
	ss_buf_free(&err);
	return n;
}

/* Finish a batch of writes: record what was made, fail what was not. */
static void finish_writes(struct run *r, struct write_op *w, size_t n, struct ss_strset *done)
{
	struct ss_buf err;
	size_t i;

	ss_buf_init(&err, 0);
	for (i = 0; i < n; i++) {
		ss_buf_reset(&err);
		if (ss_sm_op_finish(w[i].op, NULL, &err) != SS_OK) {
			ss_cmd_log_errors(err.data);
			target_fail(r, w[i].ts, err.data);
		} else if (strcmp(w[i].what, "tag") != 0 && w[i].name != NULL &&
			   mark_done(done, w[i].ts, w[i].name) != SS_OK) {
			target_fail(r, w[i].ts, "out of memory");
		}
		free(w[i].name);
		w[i].name = NULL;
		w[i].op = NULL;
	}
	ss_buf_free(&err);
}

static void sync_targets(struct run *r)
{
	const struct ss_config *cfg = r->cfg;
	struct ss_sm_read **reads = calloc(cfg->ntargets + 1, sizeof(*reads));
	struct write_op *writes = NULL;
	struct ss_strset done; /* AWS names whose change was made */
	size_t i, nw = 0, maxw = 0;
	struct ss_buf err;

	ss_buf_init(&err, 0);
	ss_strset_init(&done);
	if (reads == NULL)
		return;
	start_state_reads(r, reads);
	if (ss_http_run(r->h) != SS_OK)
		ss_error("internal: the transport failed");
	for (i = 0; i < cfg->ntargets; i++) {
		struct target_state *ts = &r->ts[i];

		if (reads[i] == NULL)
			continue;
		ss_buf_reset(&err);
		if (ss_sm_read_finish(reads[i], &ts->state, &err) != SS_OK) {
			ss_cmd_log_errors(err.data);
			target_fail(r, ts, err.data);
			continue;
		}
		plan_target(r, ts, NULL);
		if (ts->rt->diff != NULL)
			maxw += ts->rt->diff->n * 2;
	}
	if (!r->dry_run && maxw > 0 && !r->aborted) {
		/* Writes go out in windows of a few times the transport's
		 * parallelism: queuing every write of every target at once
		 * would hold thousands of requests (and values) in memory. */
		size_t window = (size_t)r->parallel * 4 < 32 ? 32 : (size_t)r->parallel * 4;
		size_t ti = 0, cursor = 0;

		writes = calloc(window, sizeof(*writes));
		/* Out of memory: nothing is written, so no target is done. */
		for (i = 0; writes == NULL && i < cfg->ntargets; i++)
			if (r->ts[i].want && !r->ts[i].failed && r->ts[i].rt->diff != NULL)
				target_fail(r, &r->ts[i], "out of memory");
		while (writes != NULL && ti < cfg->ntargets && !ss_http_interrupted()) {
			nw = 0;
			while (ti < cfg->ntargets && nw + 2 <= window) {
				struct target_state *ts = &r->ts[ti];

				/* Without continue_on_error, a failure stops new
				 * targets; one already under way is completed. */
				if (!ts->want || ts->failed || ts->rt->diff == NULL ||
				    (r->aborted && !ts->applied)) {
					ti++;
					cursor = 0;
					continue;
				}
				ts->applied = 1;
				nw += start_writes(r, ts, writes + nw, window - nw, &cursor);
				if (cursor >= ts->rt->diff->n || ts->failed) {
					ti++;
					cursor = 0;
				}
			}
			if (nw == 0)
				break;
			if (ss_http_run(r->h) != SS_OK)
				ss_error("internal: the transport failed");
			finish_writes(r, writes, nw, &done);
		}
		free(writes);
		/* Interrupted: the targets whose writes were not all sent are
		 * not done (ti is the one under way, cursor its next write). */
		for (i = ti; ss_http_interrupted() && i < cfg->ntargets; i++) {
			struct target_state *ts = &r->ts[i];

			if (!ts->want || ts->failed || ts->rt->diff == NULL ||
			    ss_diff_changes(ts->rt->diff) == 0 || (i == ti && cursor >= ts->rt->diff->n))
				continue;
			target_fail(r, ts, "interrupted by a signal before all its changes were made");
			ts->applied = 1; /* its report: the changes made (none, or some) */
		}
		/* A target that failed midway: its report shows the changes
		 * made, not the plan. */
		for (i = 0; i < cfg->ntargets; i++) {
			struct target_state *ts = &r->ts[i];

			if (!ts->want || !ts->failed || !ts->applied || ts->rt->diff == NULL)
				continue;
			ss_diff_free(ts->rt->diff);
			ts->rt->diff = NULL;
			plan_target(r, ts, &done);
		}
	}
	for (i = 0; i < cfg->ntargets; i++) {
		struct target_state *ts = &r->ts[i];
		const struct ss_diff *d = ts->rt ? ts->rt->diff : NULL;

		if (!ts->want || ts->rt == NULL)
			continue;
		ts->rt->seconds = ts->started > 0 ? now_s() - ts->started : 0;
		if (ts->failed)
			ss_info("target %s: failed in %.2fs", ts->t->name, ts->rt->seconds);
		else if (d != NULL)
			ss_info("target %s: %zu create, %zu update, %zu delete, %zu unchanged "
				"(%.2fs)",
				ts->t->name, d->counts[SS_DIFF_CREATE], d->counts[SS_DIFF_UPDATE],
				d->counts[SS_DIFF_DELETE], d->counts[SS_DIFF_UNCHANGED],
				ts->rt->seconds);
	}
	free(reads);
	ss_strset_free(&done);
	ss_buf_free(&err);
}

/* --- --show-values: the one place values are printed (SPEC §2, §6) --- */

/* The member of v at a dotted key path; a key may itself hold ".". */
static const cJSON *path_get(const cJSON *v, const char *path)
{
	while (v != NULL && cJSON_IsObject(v)) {
		const cJSON *c, *hit = NULL;

		cJSON_ArrayForEach(c, v)
		{
			size_t n = strlen(c->string);

			if (strcmp(c->string, path) == 0)
				return c;
			if (hit == NULL && strncmp(c->string, path, n) == 0 && path[n] == '.')
				hit = c;
		}
		if (hit == NULL)
			return NULL;
		path += strlen(hit->string) + 1;
		v = hit;
	}
	return NULL;
}

static enum ss_rc add_value(struct ss_buf *out, const cJSON *v)
{
	char *text = NULL;
	enum ss_rc rc;

	if (v == NULL)
		return ss_buf_adds(out, "(absent)");
	rc = ss_json_print(v, &text);
	if (rc == SS_OK)
		rc = ss_buf_adds(out, text);
	ss_free_secret(text);
	return rc;
}

static enum ss_rc add_paths(struct ss_buf *out, const struct ss_diff_paths *p, const char *mark,
			    const cJSON *old, const cJSON *cur)
{
	enum ss_rc rc = SS_OK;
	size_t i;

	for (i = 0; rc == SS_OK && i < p->n; i++) {
		rc = ss_buf_addf(out, "      %s%s: ", mark, p->v[i]);
		if (rc == SS_OK && old != NULL)
			rc = add_value(out, path_get(old, p->v[i]));
		if (rc == SS_OK && old != NULL && cur != NULL)
			rc = ss_buf_adds(out, " -> ");
		if (rc == SS_OK && cur != NULL)
			rc = add_value(out, path_get(cur, p->v[i]));
		if (rc == SS_OK)
			rc = ss_buf_addc(out, '\n');
	}
	return rc;
}

/* Print the old and new values behind each change, unmasked, to stdout.
 * main.c refuses --show-values in Actions; only the text output shows
 * them, never the JSON report, the summary or anything sent to GitHub. */
static void show_values(struct run *r)
{
	struct ss_buf out;
	enum ss_rc rc;
	size_t i, j;

	ss_buf_init(&out, 0);
	rc = ss_buf_adds(&out, "\nValues (--show-values; local only):\n");
	for (i = 0; rc == SS_OK && i < r->cfg->ntargets; i++) {
		const struct target_state *ts = &r->ts[i];
		const struct ss_diff *d = ts->rt ? ts->rt->diff : NULL;

		for (j = 0; rc == SS_OK && d != NULL && j < d->n; j++) {
			const struct ss_diff_entry *e = &d->entries[j];
			const struct ss_sm_secret *cur = ss_sm_set_find(ts->state, e->aws_name);
			const cJSON *want = cJSON_GetObjectItemCaseSensitive(ts->bundle, e->secret);
			cJSON *old = NULL, *text = NULL;

			if (e->action == SS_DIFF_UNCHANGED || e->action == SS_DIFF_DELETE)
				continue;
			if (cur != NULL && cur->value != NULL &&
			    ss_json_parse(cur->value, cur->value_len, &old) != SS_OK) {
				old = NULL;
				text = cJSON_CreateString(cur->value);
			}
			rc = ss_buf_addf(&out, "  %s %s (target %s)\n",
					 e->action == SS_DIFF_CREATE ? "+" : "~", e->aws_name,
					 ts->t->name);
			if (rc == SS_OK && (e->action == SS_DIFF_CREATE || e->whole)) {
				rc = ss_buf_adds(&out, "      ");
				if (rc == SS_OK && e->action == SS_DIFF_UPDATE) {
					rc = add_value(&out, old ? old : text);
					if (rc == SS_OK)
						rc = ss_buf_adds(&out, " -> ");
				}
				if (rc == SS_OK)
					rc = add_value(&out, want);
				if (rc == SS_OK)
					rc = ss_buf_addc(&out, '\n');
			} else if (rc == SS_OK) {
				rc = add_paths(&out, &e->changed, "", old, want);
				if (rc == SS_OK)
					rc = add_paths(&out, &e->added, "+", NULL, want);
				if (rc == SS_OK)
					rc = add_paths(&out, &e->removed, "-", old, NULL);
			}
			ss_json_delete_secret(old);
			ss_json_delete_secret(text);
		}
	}
	if (rc == SS_OK) {
		fwrite(out.data, 1, out.len, stdout);
		fflush(stdout);
	} else {
		ss_error("--show-values: %s", ss_strerror(rc));
	}
	ss_buf_free(&out);
}

static void run_free(struct run *r)
{
	size_t i;

	if (r->ts != NULL)
		for (i = 0; r->cfg != NULL && i < r->cfg->ntargets; i++) {
			ss_json_delete_secret(r->ts[i].bundle);
			ss_sm_set_free(r->ts[i].state);
			free(r->ts[i].error);
		}
	free(r->ts);
	if (r->sources != NULL)
		for (i = 0; r->cfg != NULL && i < r->cfg->nsources; i++) {
			ss_json_delete_secret(r->sources[i]);
			free(r->source_err[i]);
		}
	free(r->sources);
	free(r->source_err);
	free(r->source_partial);
	ss_vault_logout(r->vault);
	ss_vault_free(r->vault);
	ss_aws_chain_free(r->chain);
	ss_report_free(r->report);
	ss_http_free(r->h);
	if (r->own_cfg)
		ss_config_free(r->cfg);
}

/* Set up r for cli and cfg (taken over by r). Exit code or -1. */
static int run_init(struct run *r, const struct ss_cli *cli, struct ss_config *cfg,
		    const char *command, int dry_run)
{
	size_t i, k;
	int code;

	memset(r, 0, sizeof(*r));
	r->cli = cli;
	r->cfg = cfg;
	r->dry_run = dry_run;
	r->continue_on_error = cfg->pipeline.continue_on_error;
	r->mopts.lists = cfg->pipeline.lists == SS_CONFIG_LISTS_REPLACE ? SS_MERGE_LISTS_REPLACE
			 : cfg->pipeline.lists == SS_CONFIG_LISTS_UNION ? SS_MERGE_LISTS_UNION
									: SS_MERGE_LISTS_APPEND;
	r->mopts.nulls = cfg->pipeline.nulls == SS_CONFIG_NULLS_KEEP ? SS_MERGE_NULLS_KEEP
								      : SS_MERGE_NULLS_OVERRIDE;
	if (getrandom(r->token_key, sizeof(r->token_key), 0) != (ssize_t)sizeof(r->token_key)) {
		ss_error("cannot read the system's random generator");
		return SS_EXIT_FAILURE;
	}
	r->ts = calloc(cfg->ntargets + 1, sizeof(*r->ts));
	r->sources = calloc(cfg->nsources + 1, sizeof(*r->sources));
	r->source_err = calloc(cfg->nsources + 1, sizeof(*r->source_err));
	r->source_partial = calloc(cfg->nsources + 1, 1);
	r->report = ss_report_new(command, dry_run);
	r->parallel = cli->parallel > 0 ? cli->parallel : (int)cfg->pipeline.sync_parallel;
	r->h = ss_http_new(r->parallel);
	if (r->ts == NULL || r->sources == NULL || r->source_err == NULL ||
	    r->source_partial == NULL || r->report == NULL || r->h == NULL)
		return SS_EXIT_FAILURE;
	code = select_targets(r);
	if (code != SS_EXIT_OK)
		return code;
	for (i = 0; i < cfg->ntargets; i++) {
		const struct ss_config_target *t = &cfg->targets[i];
		struct ss_report_target *rt;

		if (r->ts[i].want &&
		    ss_report_add_target(r->report, t->name, t->account_id, target_region(r, t),
					 &rt) != SS_OK)
			return SS_EXIT_FAILURE;
	}
	/* Adding may move the entries: link them once all are in. */
	for (i = 0, k = 0; i < cfg->ntargets; i++)
		if (r->ts[i].want)
			r->ts[i].rt = &r->report->targets[k++];
	if (cli->sync_only && cfg->store.kind == SS_STORE_NONE) {
		fprintf(stderr, "secretsync: --sync-only needs a merge_store in %s\n",
			cli->config_path);
		return SS_EXIT_USAGE;
	}
	return -1;
}

/* Everything after authentication: sources, merge, store, sync. */
static void run_execute(struct run *r)
{
	size_t i;

	if (r->dry_run)
		ss_info("dry run: reading only, nothing will be written");
	if (!r->cli->sync_only) {
		read_sources(r);
		merge_targets(r);
		/* Merged: the sources, and the bundles of targets that were
		 * only imported, are not needed any more. */
		for (i = 0; i < r->cfg->nsources; i++) {
			ss_json_delete_secret(r->sources[i]);
			r->sources[i] = NULL;
		}
		for (i = 0; i < r->cfg->ntargets; i++)
			if (!r->ts[i].want) {
				ss_json_delete_secret(r->ts[i].bundle);
				r->ts[i].bundle = NULL;
			}
	} else {
		for (i = 0; i < r->cfg->ntargets; i++)
			if (r->ts[i].want)
				r->ts[i].bundle = cJSON_CreateObject();
	}
	if (!r->aborted)
		store_bundles(r);
	if (!r->cli->merge_only && !r->aborted)
		sync_targets(r);
}

/* Move target failures into the report. After an abort, a target that
 * was not finished is skipped: without a plan, or (not in a dry run) with
 * a plan whose writes were never sent, which is dropped so that the
 * report does not count changes that did not happen. */
static int run_settle(struct run *r)
{
	char why[256];
	size_t i;
	int bad = 0;

	snprintf(why, sizeof(why), "not run: target %s failed (continue_on_error is off)",
		 r->first_failed ? r->first_failed : "another");
	for (i = 0; i < r->cfg->ntargets; i++) {
		struct target_state *ts = &r->ts[i];
		int unfinished;

		if (!ts->want || ts->rt == NULL)
			continue;
		if (r->cli->merge_only)
			unfinished = r->cfg->store.kind != SS_STORE_NONE && !ts->stored;
		else
			unfinished = ts->rt->diff == NULL ||
				     (!r->dry_run && !ts->applied &&
				      ss_diff_changes(ts->rt->diff) > 0);
		if (ts->failed) {
			if (ss_report_fail(ts->rt, SS_TARGET_FAILED, ts->error) != SS_OK)
				bad = 1;
		} else if (r->aborted && unfinished) {
			ss_diff_free(ts->rt->diff);
			ts->rt->diff = NULL;
			if (ss_report_fail(ts->rt, SS_TARGET_SKIPPED, why) != SS_OK)
				bad = 1;
		}
	}
	return bad;
}

static void mark_all(struct run *r, const char *why)
{
	size_t i;

	for (i = 0; i < r->cfg->ntargets; i++)
		if (r->ts[i].want && r->ts[i].rt != NULL &&
		    ss_report_fail(r->ts[i].rt, SS_TARGET_SKIPPED, why) != SS_OK)
			break;
}

enum ss_rc ss_pipeline_plan(const struct ss_cli *cli, struct ss_config *cfg,
			    struct ss_report **out)
{
	struct run r;
	enum ss_rc rc = SS_OK;

	*out = NULL;
	if (run_init(&r, cli, cfg, "verify", 1) != -1) {
		rc = SS_ERR_INVALID;
		goto out;
	}
	if (!authenticate(&r)) {
		mark_all(&r, "authentication failed");
		rc = SS_ERR_AUTH;
	} else {
		run_execute(&r);
	}
	if (run_settle(&r))
		rc = SS_ERR_NOMEM;
	*out = r.report;
	r.report = NULL;
out:
	run_free(&r); /* cfg stays the caller's */
	return rc;
}

int ss_cmd_pipeline(const struct ss_cli *cli)
{
	struct ss_publish pub;
	struct ss_report_counts c;
	struct ss_config *cfg = NULL;
	struct run r;
	const char *command = cli->command == SS_CMD_PLAN ? "plan" : "pipeline";
	int code;

	memset(&r, 0, sizeof(r));
	memset(&pub, 0, sizeof(pub));
	code = ss_cmd_load_config(cli, 1, &cfg);
	if (code != SS_EXIT_OK)
		return code;
	code = run_init(&r, cli, cfg, command, cli->dry_run || cfg->pipeline.dry_run);
	r.own_cfg = 1;
	if (code != -1)
		goto out;
	code = SS_EXIT_OK;
	if (!authenticate(&r)) {
		mark_all(&r, "authentication failed");
		ss_publish_begin(&pub, cli, r.cfg, command, r.h, NULL);
		(void)ss_publish_report(&pub, r.report, 0);
		code = SS_EXIT_FAILURE;
		goto out;
	}
	ss_publish_begin(&pub, cli, r.cfg, command, r.h, r.base);
	run_execute(&r);
	if (run_settle(&r))
		code = SS_EXIT_FAILURE;
	if (ss_publish_report(&pub, r.report, 0))
		code = SS_EXIT_FAILURE;
	if (cli->show_values && cli->output == SS_OUTPUT_TEXT && !cli->github_actions)
		show_values(&r);
	ss_report_counts(r.report, &c);
	if (c.failed > 0 || r.aborted)
		code = SS_EXIT_FAILURE;
	else if (code == SS_EXIT_OK && cli->exit_code && ss_report_has_changes(r.report))
		code = SS_EXIT_CHANGES;
out:
	ss_publish_end(&pub);
	run_free(&r);
	return code;
}
