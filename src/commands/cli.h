/* cli.h - the parsed command line shared by every command.
 *
 * main.c fills a struct ss_cli from argv (or, in action mode, from the
 * INPUT_* variables) and calls the command's entry point, which returns
 * the process exit code (SPEC §3). Strings are borrowed from argv or the
 * environment and live for the whole run.
 */
#ifndef SS_CLI_H
#define SS_CLI_H

/* Exit codes (SPEC §3). */
#define SS_EXIT_OK 0
#define SS_EXIT_FAILURE 1
#define SS_EXIT_CHANGES 2
#define SS_EXIT_USAGE 64
#define SS_EXIT_CONFIG 78

enum ss_command {
	SS_CMD_NONE = 0,
	SS_CMD_PIPELINE,
	SS_CMD_PLAN,
	SS_CMD_VALIDATE,
	SS_CMD_VERIFY,
	SS_CMD_CREDENTIALS,
	SS_CMD_GET,
	SS_CMD_VERSION,
	SS_CMD_HELP
};

enum ss_output {
	SS_OUTPUT_TEXT = 0,
	SS_OUTPUT_JSON,
	SS_OUTPUT_GITHUB
};

struct ss_cli {
	enum ss_command command;
	const char *config_path;   /* -c, $SECRETSYNC_CONFIG, ./secretsync.yaml */
	int config_explicit;       /* -c or $SECRETSYNC_CONFIG was given */
	enum ss_output output;
	int github_actions;        /* GITHUB_ACTIONS=true */
	const char *log_level;     /* NULL = default */
	const char *github_token;  /* --github-token */

	/* pipeline / plan / verify */
	int dry_run;
	int diff;
	const char *targets;       /* comma-separated, NULL = all */
	int merge_only;
	int sync_only;
	int exit_code;
	int parallel;              /* 0 = default (16) */
	int comment;               /* -1 = from config */
	int status;                /* -1 = from config */
	const char *status_context;
	int show_values;
	int allow_drift;
	unsigned shard_index;      /* --shard I/N: 1..N; 0 = not sharded */
	unsigned shard_count;

	/* credentials */
	const char *role_to_assume;
	const char *aws_region;
	const char *audience;
	const char *role_session_name;
	int role_duration_seconds; /* 0 = default */
	int output_credentials;

	/* get */
	const char **specs;        /* NULL-terminated */
	int nspecs;
	int export_env;

	/* action inputs that map to environment settings */
	const char *vault_addr;
	const char *vault_namespace;
	const char *vault_role;
};

int ss_cmd_pipeline(const struct ss_cli *cli);
int ss_cmd_validate(const struct ss_cli *cli);
int ss_cmd_verify(const struct ss_cli *cli);
int ss_cmd_credentials(const struct ss_cli *cli);
int ss_cmd_get(const struct ss_cli *cli);

#endif
