#include "common.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_file.h"
#include "core/buf.h"
#include "core/ghcmd.h"
#include "core/log.h"
#include "net/http.h"
#include "core/banned.h"

static const char *env_nz(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

int ss_cmd_load_config(const struct ss_cli *cli, int required, struct ss_config **cfg)
{
	struct ss_buf errors;
	enum ss_rc rc;

	*cfg = NULL;
	if (!required && !cli->config_explicit && access(cli->config_path, F_OK) != 0)
		return SS_EXIT_OK;
	ss_buf_init(&errors, 0);
	rc = ss_config_load_file(cli->config_path, cfg, &errors);
	if (rc != SS_OK) {
		ss_print(stderr, errors.len > 0 ? errors.data : "secretsync: cannot load the config\n");
		ss_buf_free(&errors);
		return SS_EXIT_CONFIG;
	}
	ss_buf_free(&errors);
	return SS_EXIT_OK;
}

void ss_cmd_vault_settings(const struct ss_config *cfg, const struct ss_cli *cli,
			   struct ss_vault_settings *out)
{
	memset(out, 0, sizeof(*out));
	out->tls_server_name = env_nz("VAULT_TLS_SERVER_NAME");
	out->max_depth = 100;
	out->max_secrets = 100000;
	if (cfg != NULL) {
		const struct ss_config_vault *v = &cfg->vault;

		out->address = v->address;
		out->namespace = v->namespace;
		out->auth = v->auth;
		out->token = v->token;
		out->approle_mount = v->approle_mount;
		out->role_id = v->role_id;
		out->secret_id = v->secret_id;
		out->jwt_mount = v->jwt_mount;
		out->jwt_role = v->jwt_role ? v->jwt_role : cli->vault_role;
		out->jwt_audience = v->jwt_audience;
		out->max_depth = v->max_traversal_depth;
		out->max_secrets = v->max_secrets_per_mount;
		return;
	}
	out->address = env_nz("VAULT_ADDR");
	out->namespace = env_nz("VAULT_NAMESPACE");
	if ((out->token = env_nz("VAULT_TOKEN")) != NULL) {
		out->auth = SS_VAULT_AUTH_TOKEN;
	} else if (env_nz("VAULT_ROLE_ID") != NULL && env_nz("VAULT_SECRET_ID") != NULL) {
		out->auth = SS_VAULT_AUTH_APPROLE;
		out->role_id = env_nz("VAULT_ROLE_ID");
		out->secret_id = env_nz("VAULT_SECRET_ID");
		out->approle_mount = env_nz("VAULT_APPROLE_MOUNT");
	} else if (cli->vault_role != NULL || env_nz("VAULT_ROLE") != NULL) {
		out->auth = SS_VAULT_AUTH_JWT;
		out->jwt_role = cli->vault_role ? cli->vault_role : env_nz("VAULT_ROLE");
		out->jwt_mount = env_nz("VAULT_JWT_MOUNT");
		out->jwt_audience = env_nz("VAULT_JWT_AUDIENCE");
	} else {
		out->auth = SS_VAULT_AUTH_NONE;
	}
}

void ss_cmd_aws_opts(const struct ss_config *cfg, const struct ss_cli *cli,
		     struct ss_aws_creds_opts *out)
{
	memset(out, 0, sizeof(*out));
	out->region = cli->aws_region;
	if (out->region == NULL && cfg != NULL)
		out->region = cfg->aws.region;
	if (out->region == NULL)
		out->region = env_nz("AWS_REGION");
	if (out->region == NULL)
		out->region = env_nz("AWS_DEFAULT_REGION");
	out->role_arn = cli->role_to_assume;
	out->audience = cli->audience;
	out->session_name = cli->role_session_name;
	out->duration_seconds = cli->role_duration_seconds;
}

int ss_cmd_parallel(const struct ss_cli *cli)
{
	return cli->parallel > 0 ? cli->parallel : SS_HTTP_DEFAULT_PARALLEL;
}

static enum ss_rc write_file_command(const char *var, const char *name, const char *value,
				     size_t len)
{
	const char *path = env_nz(var);
	enum ss_rc rc;

	if (path == NULL)
		return SS_ERR_NOTFOUND;
	rc = ss_ghfile_append(path, name, value, len);
	if (rc == SS_ERR_INVALID)
		ss_error("%s: '%s' cannot be used as a name", var, name);
	else if (rc != SS_OK)
		ss_error("%s: cannot write to %s (%s)", var, path, ss_strerror(rc));
	return rc;
}

enum ss_rc ss_cmd_set_output(const char *name, const char *value, size_t len)
{
	return write_file_command("GITHUB_OUTPUT", name, value, len);
}

enum ss_rc ss_cmd_export_env(const char *name, const char *value, size_t len)
{
	return write_file_command("GITHUB_ENV", name, value, len);
}

int ss_cmd_env_name_ok(const char *name)
{
	const char *p;

	if (name == NULL || *name == '\0' || (*name >= '0' && *name <= '9'))
		return 0;
	for (p = name; *p != '\0'; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	return 1;
}

void ss_cmd_log_errors(const char *errors)
{
	const char *line = errors;

	while (line != NULL && *line != '\0') {
		const char *end = strchr(line, '\n');
		int len = end ? (int)(end - line) : (int)strlen(line);

		if (len > 0)
			ss_error("%.*s", len, line);
		line = end ? end + 1 : NULL;
	}
}

FILE *ss_cmd_open_append(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	FILE *f;

	if (fd < 0)
		return NULL;
	f = fdopen(fd, "a");
	if (f == NULL)
		close(fd);
	return f;
}
