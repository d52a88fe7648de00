/* credentials.c - `secretsync credentials`: AWS credentials for the
 * later steps of a job, as aws-actions/configure-aws-credentials gives
 * them (SPEC §2, §7, §8).
 *
 * The credentials come from the chain of backends/aws_creds.h (GitHub
 * OIDC with --role-to-assume, else the environment, ...). Every secret is
 * registered with the mask registry the moment it is read or parsed, so
 * in Actions its "::add-mask::" line is out before anything else could
 * print it. GetCallerIdentity then confirms the credentials work and
 * gives the account id. The credentials and the region are exported to
 * GITHUB_ENV (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
 * AWS_REGION, AWS_DEFAULT_REGION); the output aws-account-id is set, and
 * with --output-credentials also aws-access-key-id, aws-secret-access-key,
 * aws-session-token and aws-expiration. Outside Actions (no GITHUB_ENV)
 * only the names of what would be exported are printed, never a value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/aws_creds.h"
#include "backends/aws_sts.h"
#include "cli.h"
#include "common.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "core/mask.h"
#include "net/http.h"
#include "core/banned.h"

static const char *env_nz(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* --aws-region, the config's aws.region, AWS_REGION, AWS_DEFAULT_REGION. */
static const char *pick_region(const struct ss_cli *cli, const struct ss_config *cfg)
{
	if (cli->aws_region != NULL && *cli->aws_region != '\0')
		return cli->aws_region;
	if (cfg != NULL && cfg->aws.region != NULL && *cfg->aws.region != '\0')
		return cfg->aws.region;
	if (env_nz("AWS_REGION") != NULL)
		return env_nz("AWS_REGION");
	return env_nz("AWS_DEFAULT_REGION");
}

struct item {
	const char *name;
	const char *value; /* NULL = skip */
};

/* Write items with fn (export or output); names go to list. Returns
 * nonzero on a write failure (already logged). SS_ERR_NOTFOUND from fn
 * (the file variable is unset) is not a failure: *missing is set. */
static int write_items(enum ss_rc (*fn)(const char *, const char *, size_t),
		       const struct item *items, size_t n, struct ss_buf *list, int *missing)
{
	size_t i;
	int failed = 0;

	*missing = 0;
	for (i = 0; i < n; i++) {
		enum ss_rc rc;

		if (items[i].value == NULL)
			continue;
		rc = fn(items[i].name, items[i].value, strlen(items[i].value));
		if (rc == SS_ERR_NOTFOUND)
			*missing = 1;
		else if (rc != SS_OK)
			failed = 1;
		if (ss_buf_addf(list, "%s%s", list->len ? ", " : "", items[i].name) != SS_OK)
			failed = 1;
	}
	return failed;
}

int ss_cmd_credentials(const struct ss_cli *cli)
{
	struct ss_config *cfg = NULL;
	struct ss_http *h = NULL;
	struct ss_aws_chain *chain = NULL;
	struct ss_aws_creds_opts o;
	struct ss_sts_identity id;
	const struct ss_aws_creds *creds = NULL;
	const char *region, *expiration;
	struct ss_buf err, names, outs, line;
	int code, failed, env_missing = 0, out_missing = 0;
	enum ss_rc rc;

	memset(&id, 0, sizeof(id));
	ss_buf_init(&err, 0);
	ss_buf_init(&names, 0);
	ss_buf_init(&outs, 0);
	ss_buf_init(&line, 0);
	code = ss_cmd_load_config(cli, 0, &cfg);
	if (code != SS_EXIT_OK)
		goto out;
	region = pick_region(cli, cfg);
	if (region == NULL) {
		ss_error("credentials: no AWS region: give --aws-region (the aws-region input), "
			 "aws.region in the config, or set AWS_REGION");
		code = SS_EXIT_USAGE;
		goto out;
	}
	if (!ss_config_is_region(region)) {
		ss_error("credentials: '%s' is not an AWS region (like us-east-1)", region);
		code = SS_EXIT_USAGE;
		goto out;
	}
	if (cli->role_to_assume != NULL && !ss_config_is_role_arn(cli->role_to_assume)) {
		ss_error("credentials: --role-to-assume '%s' is not an IAM role ARN "
			 "(arn:aws:iam::123456789012:role/NAME)",
			 cli->role_to_assume);
		code = SS_EXIT_USAGE;
		goto out;
	}
	/* The credentials go to files the runner reads: it must know to
	 * mask them, and before anything else is printed. */
	if (env_nz("GITHUB_ENV") != NULL || env_nz("GITHUB_OUTPUT") != NULL)
		ss_mask_set_emitter(ss_mask_global(), stdout);
	code = SS_EXIT_FAILURE;
	h = ss_http_new(ss_cmd_parallel(cli));
	if (h == NULL)
		goto out;
	memset(&o, 0, sizeof(o));
	o.region = region;
	o.role_arn = cli->role_to_assume;
	o.audience = cli->audience;
	o.session_name = cli->role_session_name;
	o.duration_seconds = cli->role_duration_seconds;
	chain = ss_aws_chain_new(h, &o, &err);
	if (chain == NULL)
		goto out;
	rc = ss_aws_chain_base(chain, &creds, &err);
	if (rc == SS_OK)
		rc = ss_sts_get_caller_identity(h, region, creds, &id, &err);
	if (rc != SS_OK)
		goto out;
	expiration = ss_aws_chain_expiration(chain);
	{
		const char *stale = env_nz("AWS_SESSION_TOKEN");
		/* Long-term keys after an earlier step exported a session
		 * token: clear it, or the pair would not work. */
		const struct item env[] = {
		    {"AWS_ACCESS_KEY_ID", creds->access_key_id},
		    {"AWS_SECRET_ACCESS_KEY", creds->secret_access_key},
		    {"AWS_SESSION_TOKEN",
		     creds->session_token ? creds->session_token : (stale ? "" : NULL)},
		    {"AWS_REGION", region},
		    {"AWS_DEFAULT_REGION", region},
		};
		const struct item outputs[] = {
		    {"aws-account-id", id.account},
		    {"aws-access-key-id", cli->output_credentials ? creds->access_key_id : NULL},
		    {"aws-secret-access-key",
		     cli->output_credentials ? creds->secret_access_key : NULL},
		    {"aws-session-token", cli->output_credentials ? creds->session_token : NULL},
		    {"aws-expiration", cli->output_credentials ? expiration : NULL},
		};

		failed = write_items(ss_cmd_export_env, env, sizeof(env) / sizeof(env[0]), &names,
				     &env_missing);
		failed |= write_items(ss_cmd_set_output, outputs,
				      sizeof(outputs) / sizeof(outputs[0]), &outs, &out_missing);
	}
	if (failed)
		goto out;
	rc = ss_buf_addf(&line, "credentials: %s (account %s) from %s", id.arn, id.account,
			 creds->source ? creds->source : "?");
	if (rc == SS_OK && expiration != NULL)
		rc = ss_buf_addf(&line, ", valid until %s", expiration);
	if (rc == SS_OK)
		rc = ss_buf_addc(&line, '\n');
	if (rc == SS_OK)
		rc = ss_buf_addf(&line,
				 env_missing ? "credentials: GITHUB_ENV is not set (not in GitHub "
					       "Actions): nothing exported; a step would get %s\n"
					     : "credentials: exported %s\n",
				 names.data);
	if (rc == SS_OK)
		rc = ss_buf_addf(&line,
				 out_missing ? "credentials: GITHUB_OUTPUT is not set: outputs not "
					       "written (%s)\n"
					     : "credentials: outputs %s\n",
				 outs.data);
	if (rc != SS_OK)
		goto out;
	ss_print(stdout, line.data);
	code = SS_EXIT_OK;
out:
	if (err.len > 0)
		ss_cmd_log_errors(err.data);
	ss_sts_identity_clear(&id);
	ss_aws_chain_free(chain);
	ss_http_free(h);
	ss_config_free(cfg);
	ss_buf_free(&err);
	ss_buf_free(&names);
	ss_buf_free(&outs);
	ss_buf_free(&line);
	return code;
}
