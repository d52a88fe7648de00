/* common.h - glue shared by the commands: config loading with the exit
 * codes of SPEC §3, Vault settings from the config or the environment,
 * and step outputs / exported variables through the file commands.
 */
#ifndef SS_COMMON_H
#define SS_COMMON_H

#include <stddef.h>
#include <stdio.h>

#include "backends/aws_creds.h"
#include "backends/vault.h"
#include "cli.h"
#include "core/config.h"
#include "core/rc.h"

/* Load the config named by cli. When required is 0 and the path was not
 * given explicitly and ./secretsync.yaml does not exist, *cfg is NULL
 * and SS_EXIT_OK is returned. Otherwise the exit code: SS_EXIT_OK with
 * *cfg set, or SS_EXIT_CONFIG after printing every problem. */
int ss_cmd_load_config(const struct ss_cli *cli, int required, struct ss_config **cfg);

/* Vault settings from cfg (may be NULL: then from VAULT_ADDR,
 * VAULT_TOKEN, VAULT_ROLE_ID/VAULT_SECRET_ID, or the action's vault-role
 * with GitHub OIDC). Strings are borrowed from cfg or the environment. */
void ss_cmd_vault_settings(const struct ss_config *cfg, const struct ss_cli *cli,
			   struct ss_vault_settings *out);

/* AWS credential settings from the flags/inputs (--role-to-assume,
 * --audience, --role-session-name, --role-duration-seconds) and the
 * region: --aws-region, else the config's aws.region (cfg may be NULL),
 * else AWS_REGION / AWS_DEFAULT_REGION. Strings are borrowed. */
void ss_cmd_aws_opts(const struct ss_config *cfg, const struct ss_cli *cli,
		     struct ss_aws_creds_opts *out);

/* The HTTP parallelism: --parallel, else the default. */
int ss_cmd_parallel(const struct ss_cli *cli);

/* Write NAME=VALUE as a step output (GITHUB_OUTPUT). Returns SS_OK, or
 * SS_ERR_NOTFOUND when GITHUB_OUTPUT is not set (nothing written), or
 * SS_ERR_IO after logging an error naming the file. */
enum ss_rc ss_cmd_set_output(const char *name, const char *value, size_t len) SS_MUST_CHECK;

/* Export NAME=VALUE to later steps (GITHUB_ENV); as ss_cmd_set_output. */
enum ss_rc ss_cmd_export_env(const char *name, const char *value, size_t len) SS_MUST_CHECK;

/* Nonzero if name is a valid environment variable name. */
int ss_cmd_env_name_ok(const char *name);

/* Print every line of errors (already "subject: message" lines) as an
 * error through the logger. */
void ss_cmd_log_errors(const char *errors);

/* Open path for appending (a step file such as GITHUB_STEP_SUMMARY),
 * creating it readable and writable by the owner only (0600, whatever
 * the umask) when it does not exist. NULL on failure (errno set). */
FILE *ss_cmd_open_append(const char *path);

#endif
