/* get.c - `secretsync get SPEC...`: read secrets into step outputs (and
 * with --export-env into the environment of later steps), masked first.
 *
 * SPEC is vault:MOUNT/PATH[#KEY][=NAME] or aws:SECRET_ID[#KEY][=NAME].
 * The output name is NAME, else KEY, else the last path segment; the
 * variable exported with --export-env is NAME as given, else that name
 * upper-cased with every other character than [A-Z0-9_] turned into '_'.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/aws.h"
#include "backends/aws_creds.h"
#include "backends/aws_sm.h"
#include "backends/vault.h"
#include "cli.h"
#include "common.h"
#include "core/buf.h"
#include "core/ghcmd.h"
#include "core/json.h"
#include "core/log.h"
#include "core/mask.h"
#include "net/http.h"
#include "core/banned.h"

enum spec_kind {
	SPEC_VAULT,
	SPEC_AWS
};

struct spec {
	const char *raw;
	enum spec_kind kind;
	char *mount;  /* vault */
	char *path;   /* vault: below the mount; aws: the secret id */
	char *key;    /* NULL = the whole secret */
	char *name;   /* output name */
	char *env;    /* exported variable name */
};

static void spec_free(struct spec *s)
{
	free(s->mount);
	free(s->path);
	free(s->key);
	free(s->name);
	free(s->env);
}

static int name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

static char *env_name_of(const char *name)
{
	char *e = ss_strdup(name);
	char *p;

	if (e == NULL)
		return NULL;
	for (p = e; *p != '\0'; p++) {
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
		else if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
			*p = '_';
	}
	return e;
}

/* Parse one SPEC; on failure print why and return nonzero. */
static int parse_spec(const char *raw, struct spec *s)
{
	const char *body, *eq, *hash, *end, *slash, *last;
	int explicit_name = 0;

	memset(s, 0, sizeof(*s));
	s->raw = raw;
	if (strncmp(raw, "vault:", 6) == 0) {
		s->kind = SPEC_VAULT;
		body = raw + 6;
	} else if (strncmp(raw, "aws:", 4) == 0) {
		s->kind = SPEC_AWS;
		body = raw + 4;
	} else {
		fprintf(stderr,
			"secretsync: get: '%s' is not a SPEC: write vault:MOUNT/PATH[#KEY][=NAME] "
			"or aws:SECRET_ID[#KEY][=NAME]\n",
			raw);
		return 1;
	}
	end = body + strlen(body);
	/* =NAME: the last '=' when a plain name follows it. */
	eq = strrchr(body, '=');
	if (eq != NULL && eq[1] != '\0') {
		const char *p;

		for (p = eq + 1; *p != '\0' && name_char(*p); p++)
			;
		if (*p == '\0') {
			s->name = ss_strdup(eq + 1);
			explicit_name = 1;
			end = eq;
		}
	}
	hash = memchr(body, '#', (size_t)(end - body));
	if (hash != NULL) {
		if (hash + 1 == end) {
			fprintf(stderr, "secretsync: get: '%s': '#' must be followed by a KEY\n", raw);
			return 1;
		}
		s->key = ss_strndup(hash + 1, (size_t)(end - hash - 1));
		end = hash;
	}
	if (s->kind == SPEC_VAULT) {
		slash = memchr(body, '/', (size_t)(end - body));
		if (slash == NULL || slash == body || slash + 1 >= end) {
			fprintf(stderr,
				"secretsync: get: '%s': a Vault SPEC is vault:MOUNT/PATH "
				"(e.g. vault:kv/team/app#password)\n",
				raw);
			return 1;
		}
		s->mount = ss_strndup(body, (size_t)(slash - body));
		s->path = ss_strndup(slash + 1, (size_t)(end - slash - 1));
	} else {
		if (end == body) {
			fprintf(stderr, "secretsync: get: '%s': the secret id is empty\n", raw);
			return 1;
		}
		s->path = ss_strndup(body, (size_t)(end - body));
	}
	if (s->name == NULL) {
		last = s->key;
		if (last == NULL && s->path != NULL) {
			last = strrchr(s->path, '/');
			last = last ? last + 1 : s->path;
		}
		s->name = ss_strdup(last ? last : "");
	}
	if (s->name == NULL || s->path == NULL || (s->kind == SPEC_VAULT && s->mount == NULL))
		return 1;
	if (!ss_ghfile_name_ok(s->name) || s->name[0] == '\0') {
		fprintf(stderr, "secretsync: get: '%s': '%s' cannot be an output name; add =NAME\n",
			raw, s->name);
		return 1;
	}
	s->env = explicit_name ? ss_strdup(s->name) : env_name_of(s->name);
	if (s->env == NULL)
		return 1;
	if (!ss_cmd_env_name_ok(s->env)) {
		fprintf(stderr,
			"secretsync: get: '%s': '%s' cannot be an environment variable name; "
			"add =NAME with letters, digits and '_'\n",
			raw, s->env);
		return 1;
	}
	return 0;
}

/* The value a spec asks for, as the text to output (malloc'd secret). */
static enum ss_rc extract(const struct spec *s, const cJSON *secret, char **out,
			  struct ss_buf *err)
{
	const cJSON *v = secret;
	const cJSON *c;

	*out = NULL;
	if (s->key != NULL) {
		v = cJSON_IsObject(secret) ? cJSON_GetObjectItemCaseSensitive(secret, s->key)
					   : NULL;
		if (v == NULL && strchr(s->key, '.') != NULL) {
			/* a dotted path into nested objects */
			char *copy = ss_strdup(s->key), *p, *part;

			if (copy == NULL)
				return SS_ERR_NOMEM;
			v = secret;
			for (p = copy; v != NULL && (part = strsep(&p, ".")) != NULL;)
				v = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, part)
						      : NULL;
			free(copy);
		}
		if (v == NULL) {
			enum ss_rc rc = ss_buf_addf(err, "get: %s: the secret has no key '%s'",
						    s->raw, s->key);
			int first = 1;

			if (rc == SS_OK && cJSON_IsObject(secret)) {
				rc = ss_buf_adds(err, " (its keys:");
				cJSON_ArrayForEach(c, secret)
				{
					if (rc == SS_OK)
						rc = ss_buf_addf(err, "%s %s", first ? "" : ",",
								 c->string);
					first = 0;
				}
				if (rc == SS_OK)
					rc = ss_buf_addc(err, ')');
			}
			if (rc == SS_OK)
				rc = ss_buf_addc(err, '\n');
			return rc == SS_OK ? SS_ERR_NOTFOUND : rc;
		}
	}
	return ss_json_secret_string(v, out);
}

/* Read every Vault spec's secret at once (each distinct secret once) and
 * pick the values into values[i]. Returns nonzero on a failure (the
 * reasons are in err). */
static int read_vault_specs(const struct ss_cli *cli, const struct ss_config *cfg,
			    struct spec *specs, int n, struct ss_http *h, char **values,
			    struct ss_vault **vp, struct ss_buf *err)
{
	struct ss_vault_settings vs;
	struct ss_vault_ref *refs = NULL;
	size_t *which = NULL, nrefs = 0, j;
	int i, failed = 0, any = 0;
	enum ss_rc rc;

	for (i = 0; i < n; i++)
		any |= specs[i].kind == SPEC_VAULT;
	if (!any)
		return 0;
	refs = calloc((size_t)n, sizeof(*refs));
	which = calloc((size_t)n, sizeof(*which));
	if (refs == NULL || which == NULL) {
		failed = 1;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (specs[i].kind != SPEC_VAULT)
			continue;
		for (j = 0; j < nrefs; j++)
			if (strcmp(refs[j].mount, specs[i].mount) == 0 &&
			    strcmp(refs[j].path, specs[i].path) == 0)
				break;
		if (j == nrefs) {
			refs[j].mount = specs[i].mount;
			refs[j].path = specs[i].path;
			nrefs++;
		}
		which[i] = j;
	}
	ss_cmd_vault_settings(cfg, cli, &vs);
	*vp = ss_vault_new(h, &vs, err);
	if (*vp == NULL || ss_vault_login(*vp, err) != SS_OK) {
		failed = 1;
		goto out;
	}
	/* Each ref that failed has its line in err. */
	if (ss_vault_read_many(*vp, refs, nrefs, err) != SS_OK)
		failed = 1;
	for (i = 0; i < n; i++) {
		const struct ss_vault_ref *ref = &refs[which[i]];

		if (specs[i].kind != SPEC_VAULT || ref->rc != SS_OK)
			continue;
		rc = extract(&specs[i], ref->value, &values[i], err);
		if (rc == SS_OK)
			rc = ss_mask_add(ss_mask_global(), values[i]);
		if (rc != SS_OK)
			failed = 1;
	}
out:
	for (j = 0; refs != NULL && j < nrefs; j++)
		ss_json_delete_secret(refs[j].value);
	free(which);
	free(refs);
	return failed;
}

/* The same for aws: specs, with the base AWS credentials (SPEC §7) in
 * the region of --aws-region / the config / AWS_REGION. A SecretString
 * that is a JSON object can be picked into with #KEY. */
static int read_aws_specs(const struct ss_cli *cli, const struct ss_config *cfg,
			  struct spec *specs, int n, struct ss_http *h, char **values,
			  struct ss_buf *err)
{
	struct ss_aws_creds_opts o;
	struct ss_aws_chain *chain = NULL;
	const struct ss_aws_creds *base = NULL;
	struct ss_sm_op **ops = NULL;
	struct ss_sm_secret **got = NULL;
	struct ss_sm_scope sc;
	int i, k, failed = 0, any = 0;
	enum ss_rc rc;

	for (i = 0; i < n; i++)
		any |= specs[i].kind == SPEC_AWS;
	if (!any)
		return 0;
	ss_cmd_aws_opts(cfg, cli, &o);
	if (o.region == NULL) {
		(void)!ss_buf_adds(err, "get: aws: specs need a region: --aws-region, aws.region "
					"in the config, or AWS_REGION\n");
		return 1;
	}
	ops = calloc((size_t)n, sizeof(*ops));
	got = calloc((size_t)n, sizeof(*got));
	chain = ss_aws_chain_new(h, &o, err);
	if (ops == NULL || got == NULL || chain == NULL ||
	    ss_aws_chain_base(chain, &base, err) != SS_OK) {
		failed = 1;
		goto out;
	}
	memset(&sc, 0, sizeof(sc));
	sc.h = h;
	sc.creds = base;
	sc.region = o.region;
	/* One GetSecretValue per distinct secret, all at once. */
	for (i = 0; i < n; i++) {
		if (specs[i].kind != SPEC_AWS)
			continue;
		for (k = 0; k < i; k++)
			if (specs[k].kind == SPEC_AWS && strcmp(specs[k].path, specs[i].path) == 0)
				break;
		if (k < i)
			continue;
		if (ss_sm_get_start(&sc, specs[i].path, &ops[i]) != SS_OK) {
			failed = 1;
			goto out;
		}
	}
	if (ss_http_run(h) != SS_OK)
		failed = 1;
	for (i = 0; i < n; i++)
		if (ops[i] != NULL) {
			rc = ss_sm_op_finish(ops[i], &got[i], err);
			ops[i] = NULL;
			if (rc != SS_OK)
				failed = 1;
		}
	for (i = 0; i < n && !failed; i++) {
		const struct ss_sm_secret *sec;
		cJSON *doc = NULL;

		if (specs[i].kind != SPEC_AWS)
			continue;
		for (k = 0; k <= i; k++)
			if (got[k] != NULL && strcmp(specs[k].path, specs[i].path) == 0)
				break;
		sec = k <= i ? got[k] : NULL;
		if (sec == NULL || sec->kind != SS_SM_STRING || sec->value == NULL) {
			(void)!ss_buf_addf(err, "get: %s: the secret has no string value\n",
					   specs[i].raw);
			failed = 1;
			break;
		}
		if (specs[i].key == NULL) {
			values[i] = ss_strndup(sec->value, sec->value_len);
			rc = values[i] ? SS_OK : SS_ERR_NOMEM;
		} else if (ss_json_parse(sec->value, sec->value_len, &doc) != SS_OK ||
			   !cJSON_IsObject(doc)) {
			(void)!ss_buf_addf(err, "get: %s: #%s needs a secret holding a JSON object\n",
					   specs[i].raw, specs[i].key);
			rc = SS_ERR_INVALID;
		} else {
			rc = extract(&specs[i], doc, &values[i], err);
		}
		ss_json_delete_secret(doc);
		if (rc == SS_OK)
			rc = ss_mask_add(ss_mask_global(), values[i]);
		if (rc != SS_OK)
			failed = 1;
	}
out:
	for (i = 0; ops != NULL && i < n; i++)
		if (ops[i] != NULL && ss_sm_op_finish(ops[i], NULL, err) != SS_OK)
			failed = 1;
	for (i = 0; got != NULL && i < n; i++)
		ss_sm_secret_free(got[i]);
	free(ops);
	free(got);
	ss_aws_chain_free(chain);
	return failed;
}

/* Write every value; only called when all were read, so a failed step
 * leaves no partial outputs behind. */
static int write_values(const struct ss_cli *cli, struct spec *specs, int n, char **values,
			int *outputs_written)
{
	int i;
	enum ss_rc rc;

	for (i = 0; i < n; i++) {
		struct spec *s = &specs[i];
		size_t len = strlen(values[i]);

		rc = ss_cmd_set_output(s->name, values[i], len);
		if (rc == SS_OK)
			(*outputs_written)++;
		if (rc == SS_ERR_NOTFOUND)
			rc = SS_OK;
		if (rc == SS_OK && cli->export_env) {
			rc = ss_cmd_export_env(s->env, values[i], len);
			if (rc == SS_ERR_NOTFOUND)
				rc = SS_OK;
		}
		if (rc != SS_OK)
			return 1;
		printf("%s -> %s%s%s\n", s->raw, s->name, cli->export_env ? ", $" : "",
		       cli->export_env ? s->env : "");
	}
	fflush(stdout);
	return 0;
}

int ss_cmd_get(const struct ss_cli *cli)
{
	struct ss_config *cfg = NULL;
	struct ss_vault *vault = NULL;
	struct spec *specs;
	struct ss_http *h = NULL;
	struct ss_buf err;
	char **values = NULL;
	int i, code, failed = 0, bad = 0, written = 0;

	ss_buf_init(&err, 0);
	specs = calloc((size_t)cli->nspecs, sizeof(*specs));
	values = calloc((size_t)cli->nspecs + 1, sizeof(*values));
	if (specs == NULL || values == NULL) {
		free(specs);
		free(values);
		return SS_EXIT_FAILURE;
	}
	for (i = 0; i < cli->nspecs; i++)
		bad |= parse_spec(cli->specs[i], &specs[i]);
	if (bad) {
		code = SS_EXIT_USAGE;
		goto out;
	}
	code = ss_cmd_load_config(cli, 0, &cfg);
	if (code != SS_EXIT_OK)
		goto out;
	/* Values go to outputs: the runner must know to mask them. */
	if (cli->github_actions || getenv("GITHUB_OUTPUT") != NULL || getenv("GITHUB_ENV") != NULL)
		ss_mask_set_emitter(ss_mask_global(), stdout);
	h = ss_http_new(ss_cmd_parallel(cli));
	if (h == NULL) {
		code = SS_EXIT_FAILURE;
		goto out;
	}
	failed |= read_vault_specs(cli, cfg, specs, cli->nspecs, h, values, &vault, &err);
	failed |= read_aws_specs(cli, cfg, specs, cli->nspecs, h, values, &err);
	if (err.len > 0)
		ss_cmd_log_errors(err.data);
	if (!failed)
		failed = write_values(cli, specs, cli->nspecs, values, &written);
	if (!failed && getenv("GITHUB_OUTPUT") == NULL)
		ss_warn("get: GITHUB_OUTPUT is not set: the secrets were read but written nowhere "
			"(run it as a GitHub Actions step)");
	code = failed ? SS_EXIT_FAILURE : SS_EXIT_OK;
out:
	ss_vault_logout(vault);
	ss_vault_free(vault);
	for (i = 0; i < cli->nspecs; i++) {
		spec_free(&specs[i]);
		ss_free_secret(values[i]);
	}
	free(specs);
	free(values);
	ss_http_free(h);
	ss_config_free(cfg);
	ss_buf_free(&err);
	return code;
}
