/* validate.c - `secretsync validate`: load the config, list every problem
 * or print a one-line summary. No network at all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config_file.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/ghcmd.h"
#include "core/log.h"
#include "core/banned.h"

/* The action's vault-addr / vault-namespace / aws-region inputs stand in
 * for the variables they set. */
static const char *validate_env(const char *name, void *ctx)
{
	const struct ss_cli *cli = ctx;

	if (strcmp(name, "VAULT_ADDR") == 0 && cli->vault_addr != NULL && cli->vault_addr[0])
		return cli->vault_addr;
	if (strcmp(name, "VAULT_NAMESPACE") == 0 && cli->vault_namespace != NULL &&
	    cli->vault_namespace[0])
		return cli->vault_namespace;
	if (strcmp(name, "AWS_REGION") == 0 && cli->aws_region != NULL && cli->aws_region[0])
		return cli->aws_region;
	return getenv(name);
}

/* In GitHub mode each "FILE:LINE:COL: message" line also becomes an
 * "::error file=,line=,col=::" annotation on the workflow run. */
static enum ss_rc annotate(const char *path, const char *errors, struct ss_buf *out)
{
	size_t plen = strlen(path);
	const char *line = errors;
	enum ss_rc rc = SS_OK;

	while (*line != '\0' && rc == SS_OK) {
		const char *end = strchr(line, '\n');
		size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
		char *one = ss_strndup(line, len);
		char lno[24] = "", cno[24] = "";
		const char *msg = one;
		const char *props[7] = { "file", path, NULL, NULL, NULL, NULL, NULL };

		if (one == NULL)
			return SS_ERR_NOMEM;
		if (strncmp(one, path, plen) == 0 && one[plen] == ':') {
			unsigned long ln, cn;
			int used = 0;

			msg = one + plen + 1;
			if (sscanf(msg, "%lu:%lu: %n", &ln, &cn, &used) == 2 && used > 0) {
				snprintf(lno, sizeof(lno), "%lu", ln);
				snprintf(cno, sizeof(cno), "%lu", cn);
				props[2] = "line";
				props[3] = lno;
				props[4] = "col";
				props[5] = cno;
				msg += used;
			} else {
				while (*msg == ' ')
					msg++;
			}
		}
		rc = ss_ghcmd_format(out, "error", props, msg);
		free(one);
		line += len + (end != NULL);
	}
	return rc;
}

static enum ss_rc summary(const char *path, const struct ss_config *cfg, struct ss_buf *out)
{
	enum ss_rc rc;
	size_t i;

	rc = ss_buf_addf(out, "%s: valid: %zu source%s, %zu target%s", path, cfg->nsources,
			 cfg->nsources == 1 ? "" : "s", cfg->ntargets,
			 cfg->ntargets == 1 ? "" : "s");
	for (i = 0; i < cfg->ntargets && rc == SS_OK; i++)
		rc = ss_buf_addf(out, "%s%s", i == 0 ? " (order: " : ", ", cfg->targets[i].name);
	if (rc == SS_OK && cfg->ntargets > 0)
		rc = ss_buf_adds(out, ")");
	if (rc != SS_OK)
		return rc;
	switch (cfg->store.kind) {
	case SS_STORE_S3:
		rc = ss_buf_addf(out, ", merge store s3://%s/%s\n", cfg->store.bucket,
				 cfg->store.prefix);
		break;
	case SS_STORE_VAULT:
		rc = ss_buf_addf(out, ", merge store vault:%s\n", cfg->store.mount);
		break;
	default:
		rc = ss_buf_adds(out, ", no merge store\n");
		break;
	}
	return rc;
}

int ss_cmd_validate(const struct ss_cli *cli)
{
	const char *path = cli->config_path != NULL ? cli->config_path : "secretsync.yaml";
	struct ss_config *cfg = NULL;
	struct ss_buf errors, out;
	enum ss_rc rc;
	int code = SS_EXIT_CONFIG;

	ss_buf_init(&errors, 0);
	ss_buf_init(&out, 0);
	rc = ss_config_load_file_env(path, validate_env, (void *)cli, &cfg, &errors);
	if (rc == SS_OK) {
		if (summary(path, cfg, &out) != SS_OK) {
			ss_error("validate: %s", ss_strerror(SS_ERR_NOMEM));
			code = SS_EXIT_FAILURE;
			goto out;
		}
		ss_print(stdout, out.data);
		fflush(stdout);
		code = SS_EXIT_OK;
		goto out;
	}
	if (errors.len == 0) {
		/* Out of memory, or the error list itself overflowed. */
		ss_error("%s: cannot load the config: %s", path, ss_strerror(rc));
		code = rc == SS_ERR_NOMEM ? SS_EXIT_FAILURE : SS_EXIT_CONFIG;
		goto out;
	}
	fflush(stdout);
	ss_print(stderr, errors.data);
	fflush(stderr);
	if (cli->output == SS_OUTPUT_GITHUB && annotate(path, errors.data, &out) == SS_OK) {
		ss_print(stdout, out.data);
		fflush(stdout);
	}
	code = SS_EXIT_CONFIG;
out:
	ss_config_free(cfg);
	ss_buf_free(&errors);
	ss_buf_free(&out);
	return code;
}
