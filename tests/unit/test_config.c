/* test_config.c - the strict config loader: defaults, every key type,
 * shorthand targets, ${VAR} expansion, errors with exact positions, every
 * error collected, cycles, the dependency order and the lookup API. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/config.h"

/* --- the fake environment ------------------------------------------------ */

struct fake_var {
	const char *name;
	const char *value;
};

static const struct fake_var fake_env_vars[] = {
	{ "VAULT_ADDR", "https://vault.example.com:8200" },
	{ "TEAM_ROLE", "arn:aws:iam::444444444444:role/team" },
	{ "ACCT", "555555555555" },
	{ "BAD_ACCT", "12ab" },
	{ "EMPTY", "" },
	{ "SECRET_ONE", "s3cr3t-value-one" },
	{ "SECRET_TWO", "hunter2-the-second" },
	{ "PAR", "8" },
	{ "YES", "true" },
	{ NULL, NULL }
};

static int env_calls;

static const char *fake_env(const char *name, void *ctx)
{
	const struct fake_var *v = ctx != NULL ? ctx : fake_env_vars;

	env_calls++;
	for (; v->name != NULL; v++)
		if (strcmp(v->name, name) == 0)
			return v->value;
	return NULL;
}

static struct ss_config *load_ok(const char *yaml)
{
	struct ss_config *cfg = NULL;
	struct ss_buf errs;
	enum ss_rc rc;

	ss_buf_init(&errs, 0);
	rc = ss_config_parse(yaml, strlen(yaml), "t.yaml", fake_env, NULL, &cfg, &errs);
	if (rc != SS_OK)
		print_error("unexpected errors:\n%s", errs.data);
	assert_int_equal(rc, SS_OK);
	assert_non_null(cfg);
	assert_int_equal(errs.len, 0);
	ss_buf_free(&errs);
	return cfg;
}

/* Load and return the error text (malloc'd); asserts the load failed. */
static char *load_err(const char *yaml, const struct fake_var *env)
{
	struct ss_config *cfg = (struct ss_config *)1;
	struct ss_buf errs;
	char *text = NULL;
	enum ss_rc rc;

	ss_buf_init(&errs, 0);
	rc = ss_config_parse(yaml, strlen(yaml), "t.yaml", fake_env, (void *)env, &cfg, &errs);
	assert_int_equal(rc, SS_ERR_INVALID);
	assert_null(cfg);
	assert_int_equal(ss_buf_take(&errs, &text), SS_OK);
	ss_buf_free(&errs);
	return text;
}

#define BASE "sources:\n  s: {vault: {mount: kv}}\n"

/* --- defaults and every key ---------------------------------------------- */

static void test_defaults(void **state)
{
	static const struct fake_var none[] = { { NULL, NULL } };
	const char *y = BASE "targets:\n  t: [s]\n";
	struct ss_config *cfg = NULL;
	struct ss_buf errs;

	(void)state;
	ss_buf_init(&errs, 0);
	assert_int_equal(ss_config_parse(y, strlen(y), "t.yaml", fake_env, (void *)none, &cfg,
					 &errs), SS_OK);
	assert_null(cfg->vault.address);
	assert_null(cfg->vault.namespace);
	assert_int_equal(cfg->vault.auth, SS_VAULT_AUTH_NONE);
	assert_int_equal(cfg->vault.max_traversal_depth, 100);
	assert_int_equal(cfg->vault.max_secrets_per_mount, 100000);
	assert_null(cfg->aws.region);
	assert_null(cfg->aws.role_pattern);
	assert_int_equal(cfg->store.kind, SS_STORE_NONE);
	assert_int_equal(cfg->pipeline.merge_parallel, 4);
	assert_int_equal(cfg->pipeline.lists, SS_CONFIG_LISTS_APPEND);
	assert_int_equal(cfg->pipeline.nulls, SS_CONFIG_NULLS_OVERRIDE);
	assert_int_equal(cfg->pipeline.sync_parallel, 16);
	assert_int_equal(cfg->pipeline.delete_orphans, 0);
	assert_int_equal(cfg->pipeline.recovery_window_days, 30);
	assert_int_equal(cfg->pipeline.dry_run, 0);
	assert_int_equal(cfg->pipeline.continue_on_error, 0);
	assert_int_equal(cfg->github.comment, 0);
	assert_int_equal(cfg->github.status, 0);
	assert_null(cfg->github.status_context);
	assert_null(cfg->github.token_secret);
	assert_int_equal(cfg->nsources, 1);
	assert_int_equal(cfg->sources[0].kind, SS_SOURCE_VAULT);
	assert_string_equal(cfg->sources[0].mount, "kv");
	assert_int_equal(cfg->sources[0].npaths, 0);
	assert_int_equal(cfg->sources[0].kv_version, 0);
	assert_int_equal(cfg->ntargets, 1);
	assert_string_equal(cfg->targets[0].name, "t");
	assert_true(cfg->targets[0].shorthand);
	assert_null(cfg->targets[0].account_id);
	assert_null(cfg->targets[0].region);
	assert_null(cfg->targets[0].role_arn);
	assert_string_equal(cfg->targets[0].secret_prefix, "");
	ss_config_free(cfg);
	ss_buf_free(&errs);
}

static void test_env_defaults(void **state)
{
	static const struct fake_var env[] = {
		{ "VAULT_ADDR", "https://v.example" }, { "VAULT_NAMESPACE", "ns1" },
		{ "VAULT_TOKEN", "tok-from-env" }, { "AWS_DEFAULT_REGION", "eu-north-1" },
		{ NULL, NULL }
	};
	static const struct fake_var env2[] = {
		{ "AWS_REGION", "ap-south-1" }, { "AWS_DEFAULT_REGION", "eu-north-1" },
		{ "VAULT_TOKEN", "" }, { NULL, NULL }
	};
	const char *y = BASE "targets:\n  t: [s]\n";
	struct ss_config *cfg = NULL;
	struct ss_buf errs;

	(void)state;
	ss_buf_init(&errs, 0);
	assert_int_equal(ss_config_parse(y, strlen(y), "t.yaml", fake_env, (void *)env, &cfg,
					 &errs), SS_OK);
	assert_string_equal(cfg->vault.address, "https://v.example");
	assert_string_equal(cfg->vault.namespace, "ns1");
	assert_int_equal(cfg->vault.auth, SS_VAULT_AUTH_TOKEN);
	assert_true(cfg->vault.auth_from_env);
	assert_string_equal(cfg->vault.token, "tok-from-env");
	assert_string_equal(cfg->aws.region, "eu-north-1");
	assert_string_equal(cfg->targets[0].region, "eu-north-1");
	ss_config_free(cfg);
	cfg = NULL;
	assert_int_equal(ss_config_parse(y, strlen(y), "t.yaml", fake_env, (void *)env2, &cfg,
					 &errs), SS_OK);
	assert_string_equal(cfg->aws.region, "ap-south-1");
	assert_int_equal(cfg->vault.auth, SS_VAULT_AUTH_NONE);
	assert_null(cfg->vault.token);
	ss_config_free(cfg);
	ss_buf_free(&errs);
}

static void test_every_key(void **state)
{
	const char *y =
		"vault:\n"
		"  address: https://vault.internal:8200\n"
		"  namespace: team-a\n"
		"  auth:\n"
		"    approle:\n"
		"      role_id: rid\n"
		"      secret_id: ${SECRET_ONE}\n"
		"  max_traversal_depth: 7\n"
		"  max_secrets_per_mount: 500\n"
		"aws:\n"
		"  region: us-east-1\n"
		"  role_pattern: \"arn:aws:iam::{account_id}:role/secretsync\"\n"
		"sources:\n"
		"  shared:\n"
		"    vault: {mount: shared/}\n"
		"  team:\n"
		"    vault:\n"
		"      mount: kv\n"
		"      paths: [team/app, team/db/, \"other/*\"]\n"
		"      kv_version: 1\n"
		"  legacy:\n"
		"    aws:\n"
		"      region: us-west-2\n"
		"      prefix: legacy/\n"
		"      role_arn: \"arn:aws:iam::333333333333:role/read\"\n"
		"merge_store:\n"
		"  s3:\n"
		"    bucket: my-merged\n"
		"    prefix: bundles/\n"
		"    kms_key_id: alias/secrets\n"
		"targets:\n"
		"  staging:\n"
		"    account_id: \"111111111111\"\n"
		"    imports: [shared, team]\n"
		"    region: eu-west-1\n"
		"    secret_prefix: \"app/\"\n"
		"    role_arn: \"arn:aws:iam::111111111111:role/deployer\"\n"
		"  prod:\n"
		"    account_id: 222222222222\n"
		"    imports:\n"
		"      - staging\n"
		"      - legacy\n"
		"  sandbox: [staging]\n"
		"pipeline:\n"
		"  merge: {parallel: 2, lists: union, nulls: keep}\n"
		"  sync: {parallel: 32, delete_orphans: true, recovery_window_days: 7}\n"
		"  dry_run: true\n"
		"  continue_on_error: True\n"
		"github:\n"
		"  comment: true\n"
		"  status: false\n"
		"  status_context: ci/secrets\n"
		"  token_secret: github/token\n";
	struct ss_config *cfg;
	const struct ss_config_target *t;
	const struct ss_config_source *s;

	(void)state;
	cfg = load_ok(y);
	assert_string_equal(cfg->vault.address, "https://vault.internal:8200");
	assert_string_equal(cfg->vault.namespace, "team-a");
	assert_int_equal(cfg->vault.auth, SS_VAULT_AUTH_APPROLE);
	assert_false(cfg->vault.auth_from_env);
	assert_string_equal(cfg->vault.approle_mount, "approle");
	assert_string_equal(cfg->vault.role_id, "rid");
	assert_string_equal(cfg->vault.secret_id, "s3cr3t-value-one");
	assert_int_equal(cfg->vault.max_traversal_depth, 7);
	assert_int_equal(cfg->vault.max_secrets_per_mount, 500);
	assert_string_equal(cfg->aws.region, "us-east-1");
	assert_string_equal(cfg->aws.role_pattern, "arn:aws:iam::{account_id}:role/secretsync");

	assert_int_equal(cfg->nsources, 3);
	s = ss_config_find_source(cfg, "shared");
	assert_non_null(s);
	assert_string_equal(s->mount, "shared");
	assert_int_equal(s->line, 14);
	assert_int_equal(s->col, 3);
	s = ss_config_find_source(cfg, "team");
	assert_int_equal(s->kv_version, 1);
	assert_int_equal(s->npaths, 3);
	assert_string_equal(s->paths[0], "team/app");
	assert_string_equal(s->paths[1], "team/db/");
	assert_string_equal(s->paths[2], "other/");
	s = ss_config_find_source(cfg, "legacy");
	assert_int_equal(s->kind, SS_SOURCE_AWS);
	assert_string_equal(s->region, "us-west-2");
	assert_string_equal(s->prefix, "legacy/");
	assert_string_equal(s->role_arn, "arn:aws:iam::333333333333:role/read");
	assert_null(ss_config_find_source(cfg, "staging"));

	assert_int_equal(cfg->store.kind, SS_STORE_S3);
	assert_string_equal(cfg->store.bucket, "my-merged");
	assert_string_equal(cfg->store.prefix, "bundles/");
	assert_string_equal(cfg->store.kms_key_id, "alias/secrets");

	assert_int_equal(cfg->ntargets, 3);
	t = ss_config_find_target(cfg, "staging");
	assert_string_equal(t->account_id, "111111111111");
	assert_string_equal(t->region, "eu-west-1");
	assert_string_equal(t->secret_prefix, "app/");
	assert_string_equal(t->role_arn, "arn:aws:iam::111111111111:role/deployer");
	assert_false(t->role_from_pattern);
	assert_int_equal(t->nimports, 2);
	assert_false(t->imports[0].is_target);
	assert_string_equal(cfg->sources[t->imports[0].index].name, "shared");
	t = ss_config_find_target(cfg, "prod");
	/* a plain 12-digit scalar keeps its text */
	assert_string_equal(t->account_id, "222222222222");
	assert_string_equal(t->region, "us-east-1");
	assert_string_equal(t->role_arn, "arn:aws:iam::222222222222:role/secretsync");
	assert_true(t->role_from_pattern);
	assert_true(t->imports[0].is_target);
	assert_string_equal(cfg->targets[t->imports[0].index].name, "staging");
	assert_false(t->imports[1].is_target);
	t = ss_config_find_target(cfg, "sandbox");
	assert_true(t->shorthand);
	assert_null(t->account_id);
	assert_null(t->role_arn);
	assert_null(ss_config_find_target(cfg, "nope"));

	assert_int_equal(cfg->pipeline.merge_parallel, 2);
	assert_int_equal(cfg->pipeline.lists, SS_CONFIG_LISTS_UNION);
	assert_int_equal(cfg->pipeline.nulls, SS_CONFIG_NULLS_KEEP);
	assert_int_equal(cfg->pipeline.sync_parallel, 32);
	assert_int_equal(cfg->pipeline.delete_orphans, 1);
	assert_int_equal(cfg->pipeline.recovery_window_days, 7);
	assert_int_equal(cfg->pipeline.dry_run, 1);
	assert_int_equal(cfg->pipeline.continue_on_error, 1);
	assert_int_equal(cfg->github.comment, 1);
	assert_int_equal(cfg->github.status, 0);
	assert_string_equal(cfg->github.status_context, "ci/secrets");
	assert_string_equal(cfg->github.token_secret, "github/token");
	ss_config_free(cfg);
}

struct auth_case {
	const char *yaml;
	enum ss_vault_auth auth;
	const char *token, *mount, *role, *audience;
};

static void test_auth_forms(void **state)
{
	static const struct auth_case cases[] = {
		{ "vault:\n  auth:\n    token:\n      token: ${SECRET_TWO}\n",
		  SS_VAULT_AUTH_TOKEN, "hunter2-the-second", NULL, NULL, NULL },
		/* the Go SecretSync fixture's short form */
		{ "vault:\n  auth:\n    token: abc.def\n", SS_VAULT_AUTH_TOKEN, "abc.def", NULL,
		  NULL, NULL },
		{ "vault:\n  auth:\n    jwt: {role: ci, audience: vault}\n", SS_VAULT_AUTH_JWT,
		  NULL, "jwt", "ci", "vault" },
		{ "vault:\n  auth:\n    jwt: {mount: gha/}\n", SS_VAULT_AUTH_JWT, NULL, "gha",
		  NULL, NULL },
		{ "vault:\n  auth:\n    approle: {mount: ar, role_id: r, secret_id: s}\n",
		  SS_VAULT_AUTH_APPROLE, NULL, "ar", NULL, NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct auth_case *c = &cases[i];
		struct ss_config *cfg = load_ok(c->yaml);

		assert_int_equal(cfg->vault.auth, c->auth);
		assert_false(cfg->vault.auth_from_env);
		if (c->token != NULL)
			assert_string_equal(cfg->vault.token, c->token);
		if (c->auth == SS_VAULT_AUTH_JWT) {
			assert_string_equal(cfg->vault.jwt_mount, c->mount);
			if (c->role != NULL)
				assert_string_equal(cfg->vault.jwt_role, c->role);
			else
				assert_null(cfg->vault.jwt_role);
			if (c->audience != NULL)
				assert_string_equal(cfg->vault.jwt_audience, c->audience);
			else
				assert_null(cfg->vault.jwt_audience);
		}
		if (c->auth == SS_VAULT_AUTH_APPROLE)
			assert_string_equal(cfg->vault.approle_mount, c->mount);
		ss_config_free(cfg);
	}
}

static void test_custom_role_pattern_alias(void **state)
{
	const char *y = "aws:\n  execution_context:\n"
			"    custom_role_pattern: \"arn:aws:iam::%s:role/x\"\n"
			BASE "targets:\n  t: {account_id: \"123456789012\", imports: [s]}\n";
	struct ss_config *cfg;

	(void)state;
	cfg = load_ok(y);
	assert_string_equal(cfg->aws.role_pattern, "arn:aws:iam::{account_id}:role/x");
	assert_string_equal(cfg->targets[0].role_arn, "arn:aws:iam::123456789012:role/x");
	ss_config_free(cfg);
}

static void test_vault_store_and_merge_keys(void **state)
{
	const char *y = "x-common: &c\n  region: eu-west-3\n  imports: [s]\n"
			BASE
			"merge_store:\n  vault:\n    mount: merged-secrets\n"
			"targets:\n"
			"  a:\n    <<: *c\n    account_id: \"111111111111\"\n"
			"  b:\n    <<: *c\n    region: us-east-2\n";
	struct ss_config *cfg;

	(void)state;
	cfg = load_ok(y);
	assert_int_equal(cfg->store.kind, SS_STORE_VAULT);
	assert_string_equal(cfg->store.mount, "merged-secrets");
	assert_string_equal(cfg->targets[0].region, "eu-west-3");
	assert_string_equal(cfg->targets[1].region, "us-east-2");
	assert_int_equal(cfg->targets[1].nimports, 1);
	ss_config_free(cfg);
}

static void test_whole_mount_paths(void **state)
{
	const char *y = "sources:\n  s:\n    vault:\n      mount: kv\n      paths: [a, \"*\"]\n"
			"targets:\n  t: [s]\n";
	struct ss_config *cfg;

	(void)state;
	cfg = load_ok(y);
	assert_int_equal(cfg->sources[0].npaths, 0);
	assert_null(cfg->sources[0].paths);
	ss_config_free(cfg);
}

/* --- environment expansion -------------------------------------------- */

struct expand_case {
	const char *in;
	enum ss_rc rc;
	const char *out;   /* or the reason on failure */
};

static void test_expand(void **state)
{
	static const struct expand_case cases[] = {
		{ "plain", SS_OK, "plain" },
		{ "", SS_OK, "" },
		{ "${ACCT}", SS_OK, "555555555555" },
		{ "a-${ACCT}-b", SS_OK, "a-555555555555-b" },
		{ "${NOPE:-dflt}", SS_OK, "dflt" },
		{ "${NOPE:-}", SS_OK, "" },
		{ "${EMPTY:-used}", SS_OK, "used" },
		{ "${EMPTY}", SS_OK, "" },
		{ "${ACCT:-unused}", SS_OK, "555555555555" },
		{ "$$", SS_OK, "$" },
		{ "$${ACCT}", SS_OK, "${ACCT}" },
		{ "cost: $5 and $", SS_OK, "cost: $5 and $" },
		{ "$$$${PAR}", SS_OK, "$${PAR}" },
		{ "$$${PAR}", SS_OK, "$8" },
		{ "${PAR}${PAR}", SS_OK, "88" },
		{ "${NOPE}", SS_ERR_INVALID,
		  "${NOPE} is not set (export NOPE, or write ${NOPE:-default})" },
		{ "${ACCT}${NOPE}", SS_ERR_INVALID,
		  "${NOPE} is not set (export NOPE, or write ${NOPE:-default})" },
		{ "${", SS_ERR_INVALID,
		  "\"${\" is not followed by a variable name (write ${NAME} or "
		  "${NAME:-default}; $$ is a literal $)" },
		{ "${1A}", SS_ERR_INVALID,
		  "\"${\" is not followed by a variable name (write ${NAME} or "
		  "${NAME:-default}; $$ is a literal $)" },
		{ "${ACCT", SS_ERR_INVALID,
		  "\"${ACCT\" is not closed by \"}\" (write ${NAME} or ${NAME:-default}; "
		  "$$ is a literal $)" },
		{ "${A B}", SS_ERR_INVALID,
		  "\"${A\" is not closed by \"}\" (write ${NAME} or ${NAME:-default}; "
		  "$$ is a literal $)" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = (char *)1, why[300] = "";
		enum ss_rc rc = ss_config_expand(cases[i].in, strlen(cases[i].in), fake_env, NULL,
						 &out, why, sizeof(why));

		assert_int_equal(rc, cases[i].rc);
		if (rc == SS_OK) {
			assert_string_equal(out, cases[i].out);
			ss_free_secret(out);
		} else {
			assert_null(out);
			assert_string_equal(why, cases[i].out);
		}
	}
}

static void test_expand_in_config(void **state)
{
	const char *y = "vault:\n  address: ${VAULT_ADDR}\n"
			"aws:\n  region: \"${REG:-eu-central-1}\"\n"
			"sources:\n  s:\n    vault:\n      mount: \"$$weird\"\n"
			"    \n"
			"targets:\n"
			"  t:\n    account_id: ${ACCT}\n    imports: [s]\n"
			"    role_arn: \"arn:aws:iam::${ACCT}:role/${R:-deploy}\"\n"
			"pipeline:\n  merge:\n    parallel: ${PAR}\n  dry_run: \"${YES}\"\n";
	struct ss_config *cfg;

	(void)state;
	cfg = load_ok(y);
	assert_string_equal(cfg->vault.address, "https://vault.example.com:8200");
	assert_string_equal(cfg->aws.region, "eu-central-1");
	assert_string_equal(cfg->sources[0].mount, "$weird");
	assert_string_equal(cfg->targets[0].account_id, "555555555555");
	assert_string_equal(cfg->targets[0].role_arn, "arn:aws:iam::555555555555:role/deploy");
	assert_int_equal(cfg->pipeline.merge_parallel, 8);
	assert_int_equal(cfg->pipeline.dry_run, 1);
	ss_config_free(cfg);
}

/* Errors about scalars that came through ${...} quote the raw text: no
 * value from the environment ever reaches a message. */
static void test_no_value_leaks(void **state)
{
	const char *y = "vault:\n  address: ${SECRET_ONE}\n"
			"  auth:\n    approle:\n      role_id: ${SECRET_TWO}x\n"
			"      secret_id: \"${SECRET_ONE}-${UNSET_ONE}\"\n"
			"  max_traversal_depth: ${SECRET_TWO}\n"
			"aws:\n  region: ${SECRET_ONE}\n"
			"sources:\n  s:\n    vault: {mount: \"${SECRET_TWO}/../x\"}\n"
			"targets:\n  t:\n    account_id: ${SECRET_ONE}\n    imports: [s]\n"
			"    role_arn: \"${SECRET_TWO}\"\n"
			"    secret_prefix: \"${SECRET_ONE} \"\n"
			"pipeline:\n  dry_run: ${SECRET_TWO}\n  merge: {lists: \"${SECRET_ONE}\"}\n";
	char *e;

	(void)state;
	e = load_err(y, NULL);
	assert_null(strstr(e, "s3cr3t"));
	assert_null(strstr(e, "hunter2"));
	assert_non_null(strstr(e, "t.yaml:6:18: vault.auth.approle.secret_id: ${UNSET_ONE} is "
				  "not set"));
	assert_non_null(strstr(e, "t.yaml:2:12: vault.address: \"${SECRET_ONE}\" (after "
				  "expansion) is not a URL"));
	assert_non_null(strstr(e, "t.yaml:15:17: targets.t.account_id: \"${SECRET_ONE}\" "
				  "(after expansion) is not a 12-digit AWS account id"));
	assert_non_null(strstr(e, "t.yaml:9:11: aws.region:"));
	assert_non_null(strstr(e, "t.yaml:7:24: vault.max_traversal_depth:"));
	assert_non_null(strstr(e, "t.yaml:12:20: sources.s.vault.mount:"));
	assert_non_null(strstr(e, "t.yaml:17:15: targets.t.role_arn:"));
	assert_non_null(strstr(e, "t.yaml:18:20: targets.t.secret_prefix:"));
	assert_non_null(strstr(e, "t.yaml:20:12: pipeline.dry_run:"));
	assert_non_null(strstr(e, "t.yaml:21:18: pipeline.merge.lists:"));
	free(e);
}

/* --- errors, with exact positions --------------------------------------- */

struct err_case {
	const char *name;
	const char *yaml;
	const char *errors;  /* the whole expected error text */
};

static const struct err_case err_cases[] = {
	{ "unknown key with suggestion",
	  "vault:\n  adress: https://x\n",
	  "t.yaml:2:3: vault.adress: unknown key; did you mean \"address\"?\n" },
	{ "unknown top-level key",
	  "sourcez: {}\n",
	  "t.yaml:1:1: sourcez: unknown key; did you mean \"sources\"?\n" },
	{ "unknown key lists allowed",
	  "pipeline:\n  speed: 3\n",
	  "t.yaml:2:3: pipeline.speed: unknown key (allowed in pipeline: merge, sync, dry_run, "
	  "continue_on_error)\n" },
	{ "Go-only key",
	  "log:\n  level: debug\n",
	  "t.yaml:1:1: log: a Go SecretSync setting that secretsync does not support; remove "
	  "it\n" },
	{ "wrong type: mapping expected",
	  "vault: [a]\n",
	  "t.yaml:1:8: vault: expected a mapping (address, namespace, auth, ...), got a list\n" },
	{ "wrong type: string expected",
	  "vault:\n  address: {a: 1}\n",
	  "t.yaml:2:12: vault.address: expected a string, got a mapping\n" },
	{ "wrong type: integer",
	  "pipeline:\n  sync:\n    parallel: lots\n",
	  "t.yaml:3:15: pipeline.sync.parallel: expected an integer from 1 to 256, got "
	  "\"lots\"\n" },
	{ "quoted integer",
	  "pipeline:\n  merge:\n    parallel: \"4\"\n",
	  "t.yaml:3:15: pipeline.merge.parallel: expected an integer, got the string \"4\" "
	  "(remove the quotes)\n" },
	{ "recovery window range",
	  "pipeline:\n  sync: {recovery_window_days: 31}\n",
	  "t.yaml:2:32: pipeline.sync.recovery_window_days: 31 is out of range (AWS Secrets "
	  "Manager allows 7 to 30 days)\n" },
	{ "bool",
	  "pipeline:\n  dry_run: yes\n",
	  "t.yaml:2:12: pipeline.dry_run: expected true or false, got \"yes\"\n" },
	{ "enum",
	  "pipeline:\n  merge: {nulls: drop}\n",
	  "t.yaml:2:18: pipeline.merge.nulls: \"drop\" is not one of override or keep\n" },
	{ "empty section",
	  "merge_store:\n",
	  "t.yaml:1:13: merge_store: is empty; give s3: or vault:, or remove the key\n" },
	{ "missing required: mount",
	  "sources:\n  s:\n    vault:\n      paths: [a]\n",
	  "t.yaml:3:5: sources.s.vault: missing required key \"mount\"\n" },
	{ "missing required: imports",
	  BASE "targets:\n  t:\n    account_id: \"111111111111\"\n",
	  "t.yaml:4:3: targets.t: missing required key \"imports\" (the sources and targets it "
	  "merges)\n" },
	{ "missing required: bucket",
	  "merge_store:\n  s3: {prefix: x/}\n",
	  "t.yaml:2:3: merge_store.s3: missing required key \"bucket\"\n" },
	{ "missing required: approle secret_id",
	  "vault:\n  auth:\n    approle:\n      role_id: r\n",
	  "t.yaml:3:5: vault.auth.approle: missing required key \"secret_id\"\n" },
	{ "source needs one kind",
	  "sources:\n  s: {}\n",
	  "t.yaml:2:3: sources.s: give one of vault or aws\n" },
	{ "two auth methods",
	  "vault:\n  auth:\n    jwt: {}\n    token: {token: x}\n",
	  "t.yaml:4:5: vault.auth: give exactly one of token, approle or jwt (both jwt and "
	  "token are set)\n" },
	{ "bad account id (the example of the brief)",
	  BASE "targets:\n  staging:\n    account_id: \"1234\"\n    imports: [s]\n",
	  "t.yaml:5:17: targets.staging.account_id: \"1234\" is not a 12-digit AWS account id "
	  "(quote it: \"012345678901\")\n" },
	{ "account id as a YAML integer of 11 digits",
	  BASE "targets:\n  t:\n    account_id: 12345678901\n    imports: [s]\n",
	  "t.yaml:5:17: targets.t.account_id: \"12345678901\" is not a 12-digit AWS account id "
	  "(quote it: \"012345678901\")\n" },
	{ "dangling import with suggestion",
	  "sources:\n  shared: {vault: {mount: kv}}\ntargets:\n  t: [sharde]\n",
	  "t.yaml:4:7: targets.t[0]: \"sharde\" names neither a source nor a target; did you "
	  "mean \"shared\"?\n" },
	{ "dangling import",
	  BASE "targets:\n  t:\n    imports: [s, zzz]\n",
	  "t.yaml:5:18: targets.t.imports[1]: \"zzz\" names neither a source nor a target; "
	  "define it under sources: or targets:\n" },
	{ "self import",
	  BASE "targets:\n  t: [s, t]\n",
	  "t.yaml:4:10: targets.t[1]: import cycle t -> t (a target cannot import itself, "
	  "directly or through other targets)\n" },
	{ "cycle of three",
	  BASE "targets:\n  a: [s, b]\n  b: {imports: [c]}\n  c: [a]\n",
	  "t.yaml:6:7: targets.c[0]: import cycle a -> b -> c -> a (a target cannot import "
	  "itself, directly or through other targets)\n" },
	{ "two cycles",
	  BASE "targets:\n  a: [b]\n  b: [a]\n  c: [d]\n  d: [c]\n",
	  "t.yaml:5:7: targets.b[0]: import cycle a -> b -> a (a target cannot import itself, "
	  "directly or through other targets)\n"
	  "t.yaml:7:7: targets.d[0]: import cycle c -> d -> c (a target cannot import itself, "
	  "directly or through other targets)\n" },
	{ "source and target share a name",
	  BASE "targets:\n  s: [s]\n",
	  "t.yaml:4:3: targets.s: \"s\" is both a source (line 2) and a target; rename one of "
	  "them\n" },
	{ "duplicate key",
	  "aws:\n  region: us-east-1\n  region: us-east-2\n",
	  "t.yaml:3:3: aws.region: duplicate key (first given at line 2); remove one\n" },
	{ "duplicate target",
	  BASE "targets:\n  t: [s]\n  t: [s]\n",
	  "t.yaml:5:3: targets.t: duplicate key (first given at line 4); remove one\n" },
	{ "invalid region",
	  "aws:\n  region: us-east1\n",
	  "t.yaml:2:11: aws.region: \"us-east1\" is not an AWS region (like us-east-1 or "
	  "eu-west-2)\n" },
	{ "bad ARN",
	  BASE "targets:\n  t:\n    imports: [s]\n    role_arn: arn:aws:iam::1234:user/x\n",
	  "t.yaml:6:15: targets.t.role_arn: \"arn:aws:iam::1234:user/x\" is not an IAM role "
	  "ARN (arn:aws:iam::ACCOUNT_ID:role/NAME)\n" },
	{ "role pattern without a hole",
	  "aws:\n  role_pattern: arn:aws:iam::123456789012:role/x\n",
	  "t.yaml:2:17: aws.role_pattern: \"arn:aws:iam::123456789012:role/x\" must contain "
	  "{account_id} once (like arn:aws:iam::{account_id}:role/secretsync)\n" },
	{ "unset variable",
	  "vault:\n  namespace: ${NS_UNSET}\n",
	  "t.yaml:2:14: vault.namespace: ${NS_UNSET} is not set (export NS_UNSET, or write "
	  "${NS_UNSET:-default})\n" },
	{ "bad vault path",
	  "sources:\n  s:\n    vault:\n      mount: kv\n      paths:\n        - ok\n"
	  "        - /abs\n",
	  "t.yaml:7:11: sources.s.vault.paths[1]: \"/abs\" is not a valid Vault path: it must "
	  "not start with \"/\"\n" },
	{ "kv_version",
	  "sources:\n  s: {vault: {mount: kv, kv_version: 3}}\n",
	  "t.yaml:2:38: sources.s.vault.kv_version: 3 is out of range (1 or 2; remove it to "
	  "auto-detect)\n" },
	{ "bad name",
	  "sources:\n  \"a b\": {vault: {mount: kv}}\n",
	  "t.yaml:2:3: sources.\"a b\": a source name must be 1 to 128 letters, digits, \"-\", "
	  "\"_\" or \".\", starting with a letter, digit or \"_\"\n" },
	{ "imports as a string",
	  BASE "targets:\n  t: {imports: s}\n",
	  "t.yaml:4:16: targets.t.imports: expected a list of strings, got a string (write it "
	  "as [name] or as \"- name\" lines)\n" },
	{ "empty shorthand",
	  BASE "targets:\n  t: []\n",
	  "t.yaml:4:6: targets.t: is empty; list at least one source or target\n" },
	{ "target of the wrong type",
	  BASE "targets:\n  t: s\n",
	  "t.yaml:4:6: targets.t: expected a mapping (account_id, imports, ...) or a list of "
	  "imports, got a string\n" },
	{ "section of the wrong type: boolean",
	  "github: true\n",
	  "t.yaml:1:9: github: expected a mapping (comment, status, status_context, "
	  "token_secret), got a boolean\n" },
	{ "section of the wrong type: number",
	  "pipeline: {merge: -12}\n",
	  "t.yaml:1:19: pipeline.merge: expected a mapping (parallel, lists, nulls), got a "
	  "number\n" },
	{ "YAML syntax",
	  "vault:\n  address: [x\n",
	  "t.yaml:3:1: YAML: did not find expected ',' or ']' (while parsing a flow sequence "
	  "at line 2)\n" },
	{ "tabs",
	  "vault:\n\taddress: x\n",
	  "t.yaml:2:1: YAML: found character that cannot start any token (while scanning for "
	  "the next token at line 2) (indent with spaces, not tabs)\n" },
	{ "empty file", "",
	  "t.yaml:1:1: the config is empty (it needs at least a targets: section)\n" },
	{ "top level list", "- a\n",
	  "t.yaml:1:1: the top level must be a mapping (vault:, sources:, targets:, ...), got "
	  "a list\n" },
	{ "two documents", "github: {}\n---\ngithub: {}\n",
	  "t.yaml:2:1: only one YAML document is allowed (remove this \"---\" and what "
	  "follows)\n" },
	{ "undefined alias", "github: *nope\n",
	  "t.yaml:1:9: YAML: found undefined alias\n" },
	{ "store: both kinds",
	  "merge_store:\n  s3: {bucket: abc}\n  vault: {mount: m}\n",
	  "t.yaml:3:3: merge_store: give exactly one of s3 or vault (both s3 and vault are "
	  "set)\n" },
	{ "many errors, sorted by position",
	  "targets:\n  t: [nope]\nvault:\n  bogus: 1\n  max_traversal_depth: 0\n",
	  "t.yaml:2:7: targets.t[0]: \"nope\" names neither a source nor a target; define it "
	  "under sources: or targets:\n"
	  "t.yaml:4:3: vault.bogus: unknown key (allowed in vault: address, namespace, auth, "
	  "max_traversal_depth, max_secrets_per_mount)\n"
	  "t.yaml:5:24: vault.max_traversal_depth: 0 is out of range (1 to 10000)\n" },
	{ "NUL in a scalar",
	  "github: {token_secret: \"a\\0b\"}\n",
	  "t.yaml:1:24: github.token_secret: contains a NUL byte\n" },
	{ "alias loop stays bounded",
	  "targets: &t\n  a: *t\n",
	  "t.yaml:2:3: targets.a.a: unknown key (allowed in targets.a: account_id, imports, "
	  "region, secret_prefix, role_arn)\n"
	  "t.yaml:2:3: targets.a: missing required key \"imports\" (the sources and targets it "
	  "merges)\n" },
};

static void test_errors(void **state)
{
	size_t i, bad = 0;

	(void)state;
	for (i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		char *e = load_err(err_cases[i].yaml, NULL);

		if (strcmp(e, err_cases[i].errors) != 0) {
			print_error("case \"%s\":\nwant:\n%sgot:\n%s", err_cases[i].name,
				    err_cases[i].errors, e);
			bad++;
		}
		free(e);
	}
	assert_int_equal(bad, 0);
}

/* Every problem of a file with one of each is reported, not just the
 * first. */
static void test_all_errors_collected(void **state)
{
	const char *y =
		"vault:\n  adress: x\n"                              /* 2 */
		"aws:\n  region: nowhere\n"                          /* 4 */
		"sources:\n  s: {vault: {}}\n"                       /* 6 */
		"targets:\n"
		"  a: {account_id: \"12\", imports: [s, b, ghost]}\n" /* 8 */
		"  b: [a]\n"                                         /* 9 */
		"pipeline: {dry_run: 3}\n";                          /* 10 */
	char *e, *p;
	size_t lines = 0;

	(void)state;
	e = load_err(y, NULL);
	for (p = e; *p != '\0'; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 7);
	assert_non_null(strstr(e, "t.yaml:2:3: vault.adress"));
	assert_non_null(strstr(e, "t.yaml:4:11: aws.region"));
	assert_non_null(strstr(e, "t.yaml:6:7: sources.s.vault: missing required key"));
	assert_non_null(strstr(e, "t.yaml:8:19: targets.a.account_id"));
	assert_non_null(strstr(e, "t.yaml:8:41: targets.a.imports[2]: \"ghost\""));
	assert_non_null(strstr(e, "t.yaml:9:7: targets.b[0]: import cycle a -> b -> a"));
	assert_non_null(strstr(e, "t.yaml:10:21: pipeline.dry_run"));
	free(e);
}

static void test_error_cap(void **state)
{
	struct ss_buf y;
	char *e, *p;
	size_t i, lines = 0;

	(void)state;
	ss_buf_init(&y, 0);
	assert_int_equal(ss_buf_adds(&y, "targets:\n"), SS_OK);
	for (i = 0; i < SS_CONFIG_MAX_ERRORS + 50; i++)
		assert_int_equal(ss_buf_addf(&y, "  t%zu: [missing]\n", i), SS_OK);
	e = load_err(y.data, NULL);
	for (p = e; *p != '\0'; p++)
		lines += *p == '\n';
	assert_int_equal(lines, SS_CONFIG_MAX_ERRORS + 1);
	assert_non_null(strstr(e, ": 50 more errors not shown\n"));
	free(e);
	ss_buf_free(&y);
}

/* Aliases make the document a graph: repeating a big list through them
 * must hit the node budget instead of growing without bound. */
static void test_alias_budget(void **state)
{
	struct ss_buf y;
	char *e;
	size_t i;

	(void)state;
	ss_buf_init(&y, 0);
	assert_int_equal(ss_buf_adds(&y, "x-big: &big ["), SS_OK);
	for (i = 0; i < 2000; i++)
		assert_int_equal(ss_buf_adds(&y, i ? ", s" : "s"), SS_OK);
	assert_int_equal(ss_buf_adds(&y, "]\n" BASE "targets:\n"), SS_OK);
	for (i = 0; i < 1000; i++)
		assert_int_equal(ss_buf_addf(&y, "  t%zu: *big\n", i), SS_OK);
	e = load_err(y.data, NULL);
	assert_non_null(strstr(e, "the config is too large, or its aliases repeat too much "
				  "(at most 1000000 values after alias expansion)\n"));
	free(e);
	ss_buf_free(&y);
}

/* --- dependency order and lookups --------------------------------------- */

static void test_dependency_order(void **state)
{
	const char *y = BASE
		"targets:\n"
		"  prod: [staging, s]\n"
		"  demo: [prod]\n"
		"  alpha: [s]\n"
		"  staging: [s]\n"
		"  zeta: [alpha, staging]\n"
		"  omega: [s]\n";
	static const char *const want[] = { "alpha", "staging", "prod", "demo", "zeta", "omega" };
	struct ss_config *cfg;
	size_t i, *deps = NULL, n = 0;
	unsigned char sel[6] = { 0 }, need[6];
	long di;

	(void)state;
	cfg = load_ok(y);
	assert_int_equal(cfg->ntargets, 6);
	for (i = 0; i < 6; i++)
		assert_string_equal(cfg->targets[i].name, want[i]);
	/* target imports point into the sorted array */
	for (i = 0; i < cfg->ntargets; i++) {
		size_t j;

		for (j = 0; j < cfg->targets[i].nimports; j++)
			if (cfg->targets[i].imports[j].is_target) {
				assert_true(cfg->targets[i].imports[j].index < i);
				assert_string_equal(cfg->targets[cfg->targets[i].imports[j].index].name,
						    cfg->targets[i].imports[j].name);
			}
	}
	di = ss_config_target_index(cfg, "demo");
	assert_int_equal(di, 3);
	assert_int_equal(ss_config_target_index(cfg, "nope"), -1);
	assert_int_equal(ss_config_target_deps(cfg, (size_t)di, &deps, &n), SS_OK);
	assert_int_equal(n, 2);
	assert_string_equal(cfg->targets[deps[0]].name, "staging");
	assert_string_equal(cfg->targets[deps[1]].name, "prod");
	free(deps);
	assert_int_equal(ss_config_target_deps(cfg, 0, &deps, &n), SS_OK);
	assert_int_equal(n, 0);
	assert_null(deps);
	assert_int_equal(ss_config_target_deps(cfg, 99, &deps, &n), SS_ERR_INVALID);

	sel[ss_config_target_index(cfg, "zeta")] = 1;
	sel[ss_config_target_index(cfg, "omega")] = 1;
	ss_config_closure(cfg, sel, need);
	assert_int_equal(need[0], 1); /* alpha */
	assert_int_equal(need[1], 1); /* staging */
	assert_int_equal(need[2], 0); /* prod */
	assert_int_equal(need[3], 0); /* demo */
	assert_int_equal(need[4], 1); /* zeta */
	assert_int_equal(need[5], 1); /* omega */
	ss_config_free(cfg);
}

static void test_inheritance_three_levels(void **state)
{
	const char *y = BASE
		"targets:\n"
		"  demo: [production]\n"
		"  production: {account_id: \"222222222222\", imports: [staging]}\n"
		"  staging: {account_id: \"111111111111\", imports: [s]}\n";
	struct ss_config *cfg;
	size_t *deps = NULL, n = 0;

	(void)state;
	cfg = load_ok(y);
	assert_string_equal(cfg->targets[0].name, "staging");
	assert_string_equal(cfg->targets[1].name, "production");
	assert_string_equal(cfg->targets[2].name, "demo");
	assert_int_equal(ss_config_target_deps(cfg, 2, &deps, &n), SS_OK);
	assert_int_equal(n, 2);
	assert_int_equal(deps[0], 0);
	assert_int_equal(deps[1], 1);
	free(deps);
	ss_config_free(cfg);
}

/* --- value checks -------------------------------------------------------- */

static void test_validators(void **state)
{
	static const char *const good_regions[] = {
		"us-east-1", "eu-west-2", "ap-southeast-4", "us-gov-west-1", "cn-northwest-1",
		"us-iso-east-1", "il-central-1", "me-central-1"
	};
	static const char *const bad_regions[] = {
		"", "us", "us-east", "us-east-", "US-EAST-1", "us-east-123", "useast-1",
		"us_east_1", "-us-east-1", "us--east-1", "u1-east-1", "us-east-1a",
		"us-a-b-c-1"
	};
	static const char *const good_arns[] = {
		"arn:aws:iam::123456789012:role/x", "arn:aws-cn:iam::123456789012:role/a/b/c",
		"arn:aws-us-gov:iam::000000000000:role/Name+=,.@_-"
	};
	static const char *const bad_arns[] = {
		"", "arn:aws:iam::12345678901:role/x", "arn:aws:iam::123456789012:user/x",
		"arn:aws:iam::123456789012:role/", "arn:aws:sts::123456789012:role/x",
		"arn:aws:iam::123456789012:role//x", "arn:aws:iam::123456789012:role/x/",
		"arn:aws:iam::123456789012:role/a b", "xarn:aws:iam::123456789012:role/x"
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good_regions) / sizeof(*good_regions); i++)
		assert_true(ss_config_is_region(good_regions[i]));
	for (i = 0; i < sizeof(bad_regions) / sizeof(*bad_regions); i++) {
		if (ss_config_is_region(bad_regions[i]))
			print_error("accepted region \"%s\"\n", bad_regions[i]);
		assert_false(ss_config_is_region(bad_regions[i]));
	}
	for (i = 0; i < sizeof(good_arns) / sizeof(*good_arns); i++)
		assert_true(ss_config_is_role_arn(good_arns[i]));
	for (i = 0; i < sizeof(bad_arns) / sizeof(*bad_arns); i++) {
		if (ss_config_is_role_arn(bad_arns[i]))
			print_error("accepted ARN \"%s\"\n", bad_arns[i]);
		assert_false(ss_config_is_role_arn(bad_arns[i]));
	}
	assert_true(ss_config_is_account_id("012345678901"));
	assert_false(ss_config_is_account_id("01234567890"));
	assert_false(ss_config_is_account_id("0123456789012"));
	assert_false(ss_config_is_account_id("01234567890a"));
	assert_false(ss_config_is_account_id(NULL));
}

static void test_go_secretsync_config(void **state)
{
	/* The shape of the Go tool's own example configs (core keys only). */
	const char *y =
		"vault:\n"
		"  address: https://vault.example.com\n"
		"  namespace: admin\n"
		"  auth:\n"
		"    token:\n"
		"      token: ${SECRET_TWO}\n"
		"aws:\n"
		"  region: us-east-1\n"
		"sources:\n"
		"  analytics:\n"
		"    vault:\n"
		"      mount: analytics\n"
		"  test-source:\n"
		"    vault:\n"
		"      mount: secret\n"
		"      paths:\n"
		"        - test/*\n"
		"merge_store:\n"
		"  vault:\n"
		"    mount: merged\n"
		"targets:\n"
		"  Staging:\n"
		"    account_id: \"111111111111\"\n"
		"    region: us-east-1\n"
		"    imports:\n"
		"      - analytics\n"
		"      - test-source\n"
		"  Production:\n"
		"    account_id: \"222222222222\"\n"
		"    imports:\n"
		"      - Staging\n"
		"pipeline:\n"
		"  merge:\n"
		"    parallel: 2\n"
		"  sync:\n"
		"    parallel: 2\n"
		"    delete_orphans: false\n"
		"  dry_run: true\n"
		"  continue_on_error: true\n";
	struct ss_config *cfg;

	(void)state;
	cfg = load_ok(y);
	assert_string_equal(cfg->sources[1].paths[0], "test/");
	assert_int_equal(cfg->store.kind, SS_STORE_VAULT);
	assert_string_equal(cfg->targets[1].name, "Production");
	assert_int_equal(cfg->pipeline.sync_parallel, 2);
	ss_config_free(cfg);
}

static void test_not_nul_terminated(void **state)
{
	const char *y = BASE "targets:\n  t: [s]\nGARBAGE";
	struct ss_config *cfg = NULL;
	struct ss_buf errs;
	char *copy;
	size_t len = strlen(y) - strlen("GARBAGE");

	(void)state;
	copy = malloc(len);
	assert_non_null(copy);
	memcpy(copy, y, len);
	ss_buf_init(&errs, 0);
	assert_int_equal(ss_config_parse(copy, len, "t.yaml", NULL, NULL, &cfg, &errs), SS_OK);
	assert_int_equal(cfg->ntargets, 1);
	ss_config_free(cfg);
	ss_buf_free(&errs);
	free(copy);
	ss_config_free(NULL);
}

/* --shard I/N: a partition of the targets, balanced, by name only. */
static void test_shard(void **state)
{
	struct ss_config *a = load_ok("sources:\n  s: {vault: {mount: kv}}\n"
				      "targets:\n"
				      "  zeta: [s]\n  alpha: [s]\n  mid: [alpha]\n"
				      "  beta: [mid]\n  omega: [s]\n  gamma: [beta, zeta]\n"
				      "  delta: [s]\n");
	/* the same targets in another order */
	struct ss_config *b = load_ok("sources:\n  s: {vault: {mount: kv}}\n"
				      "targets:\n"
				      "  delta: [s]\n  omega: [s]\n  alpha: [s]\n  zeta: [s]\n"
				      "  mid: [alpha]\n  beta: [mid]\n  gamma: [beta, zeta]\n");
	unsigned char want[7], seen[7];
	unsigned n, i;
	size_t k;

	(void)state;
	for (n = 1; n <= 8; n++) {
		size_t min = 99, max = 0;

		memset(seen, 0, sizeof(seen));
		for (i = 1; i <= n; i++) {
			size_t cnt = 0;

			assert_int_equal(ss_config_shard(a, i, n, want), SS_OK);
			for (k = 0; k < a->ntargets; k++) {
				if (!want[k])
					continue;
				cnt++;
				assert_int_equal(seen[k], 0); /* in exactly one shard */
				seen[k] = 1;
				/* the same target lands in the same shard in b */
				{
					unsigned char wb[7];
					long bi = ss_config_target_index(b, a->targets[k].name);

					assert_int_equal(ss_config_shard(b, i, n, wb), SS_OK);
					assert_true(bi >= 0 && wb[bi]);
				}
			}
			min = cnt < min ? cnt : min;
			max = cnt > max ? cnt : max;
		}
		for (k = 0; k < a->ntargets; k++)
			assert_int_equal(seen[k], 1);
		assert_true(max - min <= 1);
	}
	assert_int_equal(ss_config_shard(a, 0, 2, want), SS_ERR_INVALID);
	assert_int_equal(ss_config_shard(a, 3, 2, want), SS_ERR_INVALID);
	ss_config_free(a);
	ss_config_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_env_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_auth_forms),
		cmocka_unit_test(test_custom_role_pattern_alias),
		cmocka_unit_test(test_vault_store_and_merge_keys),
		cmocka_unit_test(test_whole_mount_paths),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_expand_in_config),
		cmocka_unit_test(test_no_value_leaks),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_all_errors_collected),
		cmocka_unit_test(test_error_cap),
		cmocka_unit_test(test_alias_budget),
		cmocka_unit_test(test_dependency_order),
		cmocka_unit_test(test_inheritance_three_levels),
		cmocka_unit_test(test_validators),
		cmocka_unit_test(test_go_secretsync_config),
		cmocka_unit_test(test_not_nul_terminated),
		cmocka_unit_test(test_shard),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
