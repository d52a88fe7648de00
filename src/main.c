/* main.c - argv (or the action's INPUT_* variables) -> command -> exit code.
 *
 * This is the only place that exits. It parses the command line of SPEC §2
 * into a struct ss_cli, applies the environment defaults, and hands the
 * result to one command.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <yaml.h>

#include "commands/cli.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/mask.h"
#include "net/http.h"
#include "net/tls.h"
#include "core/banned.h"

#ifndef SS_VERSION
#define SS_VERSION "0.0.0"
#endif
#ifndef SS_GIT_COMMIT
#define SS_GIT_COMMIT "unknown"
#endif

/* Long options, each tagged with the commands that accept it. */
enum opt_id {
	OPT_CONFIG = 'c',
	OPT_HELP = 'h',
	OPT_DRY_RUN = 256,
	OPT_DIFF,
	OPT_TARGETS,
	OPT_MERGE_ONLY,
	OPT_SYNC_ONLY,
	OPT_EXIT_CODE,
	OPT_OUTPUT,
	OPT_PARALLEL,
	OPT_COMMENT,
	OPT_STATUS,
	OPT_STATUS_CONTEXT,
	OPT_SHOW_VALUES,
	OPT_ALLOW_DRIFT,
	OPT_ROLE,
	OPT_REGION,
	OPT_AUDIENCE,
	OPT_SESSION_NAME,
	OPT_DURATION,
	OPT_OUTPUT_CREDENTIALS,
	OPT_EXPORT_ENV,
	OPT_GITHUB_TOKEN,
	OPT_LOG_LEVEL,
	OPT_SHARD,
	OPT_VERSION
};

#define C_PIPELINE (1u << SS_CMD_PIPELINE)
#define C_PLAN (1u << SS_CMD_PLAN)
#define C_VALIDATE (1u << SS_CMD_VALIDATE)
#define C_VERIFY (1u << SS_CMD_VERIFY)
#define C_CREDENTIALS (1u << SS_CMD_CREDENTIALS)
#define C_GET (1u << SS_CMD_GET)
#define C_RUNS (C_PIPELINE | C_PLAN)
#define C_ALL (C_RUNS | C_VALIDATE | C_VERIFY | C_CREDENTIALS | C_GET)

struct opt_def {
	struct option opt;
	unsigned commands;
};

static const struct opt_def opt_defs[] = {
	{{"config", required_argument, NULL, OPT_CONFIG}, C_ALL},
	{{"help", no_argument, NULL, OPT_HELP}, C_ALL},
	{{"log-level", required_argument, NULL, OPT_LOG_LEVEL}, C_ALL},
	{{"github-token", required_argument, NULL, OPT_GITHUB_TOKEN}, C_RUNS | C_VERIFY},
	{{"output", required_argument, NULL, OPT_OUTPUT}, C_RUNS | C_VERIFY | C_VALIDATE},
	{{"dry-run", no_argument, NULL, OPT_DRY_RUN}, C_RUNS},
	{{"diff", no_argument, NULL, OPT_DIFF}, C_RUNS},
	{{"targets", required_argument, NULL, OPT_TARGETS}, C_RUNS | C_VERIFY},
	{{"merge-only", no_argument, NULL, OPT_MERGE_ONLY}, C_RUNS},
	{{"sync-only", no_argument, NULL, OPT_SYNC_ONLY}, C_RUNS},
	{{"exit-code", no_argument, NULL, OPT_EXIT_CODE}, C_RUNS},
	{{"parallel", required_argument, NULL, OPT_PARALLEL}, C_RUNS | C_VERIFY | C_GET},
	{{"comment", no_argument, NULL, OPT_COMMENT}, C_RUNS},
	{{"status", no_argument, NULL, OPT_STATUS}, C_RUNS | C_VERIFY},
	{{"status-context", required_argument, NULL, OPT_STATUS_CONTEXT}, C_RUNS | C_VERIFY},
	{{"show-values", no_argument, NULL, OPT_SHOW_VALUES}, C_RUNS},
	{{"allow-drift", no_argument, NULL, OPT_ALLOW_DRIFT}, C_VERIFY},
	{{"shard", required_argument, NULL, OPT_SHARD}, C_RUNS | C_VERIFY},
	{{"role-to-assume", required_argument, NULL, OPT_ROLE}, C_CREDENTIALS | C_RUNS | C_VERIFY},
	{{"aws-region", required_argument, NULL, OPT_REGION}, C_CREDENTIALS | C_RUNS | C_VERIFY},
	{{"audience", required_argument, NULL, OPT_AUDIENCE}, C_CREDENTIALS | C_RUNS | C_VERIFY},
	{{"role-session-name", required_argument, NULL, OPT_SESSION_NAME}, C_CREDENTIALS | C_RUNS | C_VERIFY},
	{{"role-duration-seconds", required_argument, NULL, OPT_DURATION}, C_CREDENTIALS | C_RUNS | C_VERIFY},
	{{"output-credentials", no_argument, NULL, OPT_OUTPUT_CREDENTIALS}, C_CREDENTIALS},
	{{"export-env", no_argument, NULL, OPT_EXPORT_ENV}, C_GET},
	{{"version", no_argument, NULL, OPT_VERSION}, 0},
};

#define NOPTS (sizeof(opt_defs) / sizeof(opt_defs[0]))

struct command_def {
	const char *name;
	enum ss_command cmd;
	const char *usage;
};

static const struct command_def commands[] = {
	{"pipeline", SS_CMD_PIPELINE,
	 "usage: secretsync pipeline [-c FILE] [--dry-run] [--diff] [--targets A,B]\n"
	 "                           [--merge-only | --sync-only] [--exit-code]\n"
	 "                           [--output text|json|github] [--parallel N]\n"
	 "                           [--comment] [--status] [--status-context NAME]\n"
	 "                           [--show-values] [--github-token T] [--log-level L]\n"
	 "\n"
	 "Read the Vault (and AWS) sources, deep-merge them per target, store the\n"
	 "bundles in the merge store and sync them into AWS Secrets Manager.\n"
	 "\n"
	 "  -c, --config FILE     config file (default $SECRETSYNC_CONFIG, ./secretsync.yaml)\n"
	 "      --dry-run         compute the real plan, change nothing\n"
	 "      --diff            print the plan (masked: names and keys, never values)\n"
	 "      --targets A,B     only these targets (and what they import)\n"
	 "      --merge-only      merge and write the merge store, do not sync\n"
	 "      --sync-only       sync from the bundles already in the merge store\n"
	 "      --exit-code       exit 2 when there are changes, 0 when there are none\n"
	 "      --output FORMAT   text, json or github (default github in Actions)\n"
	 "      --parallel N      concurrent HTTP requests (default 16)\n"
	 "      --comment         keep a sticky PR comment with the plan\n"
	 "      --status          post a commit status\n"
	 "      --status-context  the commit status context (default secretsync)\n"
	 "      --show-values     show values in the local text diff (refused in Actions)\n"
	 "      --shard I/N       run shard I of N (targets dealt by name; for a matrix)\n"},
	{"plan", SS_CMD_PLAN,
	 "usage: secretsync plan [pipeline options]\n"
	 "\n"
	 "The same as 'secretsync pipeline --dry-run --diff': read everything,\n"
	 "compute the plan, print it, change nothing.\n"},
	{"validate", SS_CMD_VALIDATE,
	 "usage: secretsync validate [-c FILE]\n"
	 "\n"
	 "Check the config file strictly (unknown keys, types, references, cycles)\n"
	 "without any network access. Every problem is printed as FILE:LINE:COL.\n"
	 "Exit 0 when valid, 78 when not.\n"},
	{"verify", SS_CMD_VERIFY,
	 "usage: secretsync verify [-c FILE] [--allow-drift] [--output text|json|github]\n"
	 "                         [--status] [--status-context NAME]\n"
	 "\n"
	 "Check config, AWS identities, Vault auth and listing, the merge store,\n"
	 "each target's Secrets Manager and drift. Exit 1 on a failed check or on\n"
	 "drift (unless --allow-drift).\n"},
	{"credentials", SS_CMD_CREDENTIALS,
	 "usage: secretsync credentials [--role-to-assume ARN] [--aws-region R]\n"
	 "                              [--audience A] [--role-session-name N]\n"
	 "                              [--role-duration-seconds S] [--output-credentials]\n"
	 "\n"
	 "Get AWS credentials (GitHub OIDC -> STS AssumeRoleWithWebIdentity, or the\n"
	 "AWS environment), mask them and export them to GITHUB_ENV.\n"},
	{"get", SS_CMD_GET,
	 "usage: secretsync get SPEC... [--export-env]\n"
	 "\n"
	 "Read secrets and write them as step outputs (masked first).\n"
	 "SPEC is vault:MOUNT/PATH[#KEY][=NAME] or aws:SECRET_ID[#KEY][=NAME].\n"},
	{"version", SS_CMD_VERSION, "usage: secretsync version\n"},
	{"help", SS_CMD_HELP, "usage: secretsync help [COMMAND]\n"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char main_usage[] =
	"usage: secretsync COMMAND [options]\n"
	"\n"
	"Sync secrets from HashiCorp Vault to AWS Secrets Manager, with a masked plan.\n"
	"\n"
	"commands:\n"
	"  pipeline      merge and sync (see 'secretsync pipeline --help')\n"
	"  plan          pipeline --dry-run --diff: show what would change\n"
	"  validate      check the config file, no network\n"
	"  verify        check auth, permissions and drift (for a scheduled job)\n"
	"  credentials   GitHub OIDC -> AWS credentials\n"
	"  get           read secrets into step outputs\n"
	"  version       print the version\n"
	"\n"
	"global options: -c FILE, --output text|json|github, --log-level LEVEL,\n"
	"                --github-token T, --help\n";

static const struct command_def *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int usage_error(const char *cmd, const char *fmt, const char *arg)
	__attribute__((format(printf, 2, 0)));

static int usage_error(const char *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "secretsync: ");
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	fprintf(stderr, fmt, arg);
#pragma GCC diagnostic pop
	fprintf(stderr, "\nTry 'secretsync %s%s--help'.\n", cmd ? cmd : "", cmd ? " " : "");
	return SS_EXIT_USAGE;
}

static int print_version(void)
{
	const char *curl_ssl = ss_tls_backend_version();

	printf("secretsync %s (commit %s)\n", SS_VERSION, SS_GIT_COMMIT);
	printf("libcurl %s, TLS %s, cJSON %s, libyaml %s\n", ss_tls_curl_version(),
	       curl_ssl, cJSON_Version(), yaml_get_version_string());
	return SS_EXIT_OK;
}

/* Parse a decimal integer in [lo, hi]; -1 on error. */
static int parse_int(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_output(const char *s, enum ss_output *out)
{
	if (strcmp(s, "text") == 0)
		*out = SS_OUTPUT_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = SS_OUTPUT_JSON;
	else if (strcmp(s, "github") == 0)
		*out = SS_OUTPUT_GITHUB;
	else
		return -1;
	return 0;
}

static void cli_defaults(struct ss_cli *cli)
{
	const char *gha = getenv("GITHUB_ACTIONS");

	memset(cli, 0, sizeof(*cli));
	cli->github_actions = gha != NULL && strcmp(gha, "true") == 0;
	cli->output = cli->github_actions ? SS_OUTPUT_GITHUB : SS_OUTPUT_TEXT;
	cli->comment = -1;
	cli->status = -1;
}

/* Fill in the config path from $SECRETSYNC_CONFIG or ./secretsync.yaml. */
static void cli_config_default(struct ss_cli *cli)
{
	const char *env;

	if (cli->config_path != NULL) {
		cli->config_explicit = 1;
		return;
	}
	env = getenv("SECRETSYNC_CONFIG");
	if (env != NULL && *env != '\0') {
		cli->config_path = env;
		cli->config_explicit = 1;
		return;
	}
	cli->config_path = "secretsync.yaml";
}

/* Checks shared by argv and action mode; returns an exit code or -1. */
static int cli_finish(struct ss_cli *cli)
{
	const char *cmdname = cli->command == SS_CMD_PLAN ? "plan" : "pipeline";
	const char *lvl = cli->log_level ? cli->log_level : getenv("SECRETSYNC_LOG_LEVEL");
	int level;

	if (lvl != NULL && *lvl != '\0') {
		level = ss_log_parse_level(lvl);
		if (level < 0)
			return usage_error(NULL,
					   "unknown log level '%s' (use debug, info, warn or error)",
					   lvl);
		ss_log_set_level((enum ss_log_level)level);
	}
	if (cli->command == SS_CMD_PLAN) {
		cli->dry_run = 1;
		cli->diff = 1;
	}
	if (cli->merge_only && cli->sync_only)
		return usage_error(cmdname, "%s", "--merge-only and --sync-only exclude each other");
	if (cli->show_values && cli->github_actions)
		return usage_error(cmdname, "%s",
				   "--show-values is refused when GITHUB_ACTIONS=true: "
				   "values would reach the workflow log");
	if (cli->command == SS_CMD_GET && cli->nspecs == 0)
		return usage_error("get", "%s",
				   "get needs at least one SPEC (vault:MOUNT/PATH[#KEY][=NAME] "
				   "or aws:SECRET_ID[#KEY][=NAME])");
	cli_config_default(cli);
	ss_log_set_github(cli->output == SS_OUTPUT_GITHUB);
	return -1;
}

static const char **specs_storage;
static char *inputs_copy;

static int apply_option(struct ss_cli *cli, int id, const char *arg, const char *cmd)
{
	long v;

	switch (id) {
	case OPT_CONFIG: cli->config_path = arg; break;
	case OPT_DRY_RUN: cli->dry_run = 1; break;
	case OPT_DIFF: cli->diff = 1; break;
	case OPT_TARGETS: cli->targets = arg; break;
	case OPT_MERGE_ONLY: cli->merge_only = 1; break;
	case OPT_SYNC_ONLY: cli->sync_only = 1; break;
	case OPT_EXIT_CODE: cli->exit_code = 1; break;
	case OPT_COMMENT: cli->comment = 1; break;
	case OPT_STATUS: cli->status = 1; break;
	case OPT_STATUS_CONTEXT: cli->status_context = arg; break;
	case OPT_SHOW_VALUES: cli->show_values = 1; break;
	case OPT_ALLOW_DRIFT: cli->allow_drift = 1; break;
	case OPT_ROLE: cli->role_to_assume = arg; break;
	case OPT_REGION:
		/* The region the config's aws.region defaults to. */
		cli->aws_region = arg;
		setenv("AWS_REGION", arg, 1);
		break;
	case OPT_AUDIENCE: cli->audience = arg; break;
	case OPT_SESSION_NAME: cli->role_session_name = arg; break;
	case OPT_OUTPUT_CREDENTIALS: cli->output_credentials = 1; break;
	case OPT_EXPORT_ENV: cli->export_env = 1; break;
	case OPT_GITHUB_TOKEN:
		cli->github_token = arg;
		if (ss_mask_add(ss_mask_global(), arg) != SS_OK)
			return SS_EXIT_FAILURE;
		break;
	case OPT_LOG_LEVEL: cli->log_level = arg; break;
	case OPT_OUTPUT:
		if (parse_output(arg, &cli->output) != 0)
			return usage_error(cmd, "unknown --output '%s' (use text, json or github)", arg);
		break;
	case OPT_PARALLEL:
		if (parse_int(arg, 1, 256, &v) != 0)
			return usage_error(cmd, "--parallel '%s' is not a number from 1 to 256", arg);
		cli->parallel = (int)v;
		break;
	case OPT_SHARD: {
		unsigned long i = 0, n = 0;
		char *end = NULL;

		i = strtoul(arg, &end, 10);
		if (end != arg && *end == '/' && end[1] != '\0') {
			const char *nstart = end + 1;

			n = strtoul(nstart, &end, 10);
			if (end == nstart || *end != '\0')
				n = 0;
		}
		if (n < 1 || n > 1000 || i < 1 || i > n || arg[0] == '-')
			return usage_error(cmd, "--shard '%s' is not I/N with 1 <= I <= N <= 1000",
					   arg);
		cli->shard_index = (unsigned)i;
		cli->shard_count = (unsigned)n;
		break;
	}
	case OPT_DURATION:
		if (parse_int(arg, 900, 43200, &v) != 0)
			return usage_error(cmd,
					   "--role-duration-seconds '%s' is not a number from 900 to 43200",
					   arg);
		cli->role_duration_seconds = (int)v;
		break;
	default:
		return SS_EXIT_USAGE;
	}
	return -1;
}

static int parse_argv(int argc, char **argv, struct ss_cli *cli)
{
	struct option longopts[NOPTS + 1];
	const struct command_def *cd;
	const char *name;
	size_t i;
	int c, idx, rc;

	cli_defaults(cli);
	name = argv[1];
	if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
		cli->command = SS_CMD_VERSION;
		return -1;
	}
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
		cli->command = SS_CMD_HELP;
		return -1;
	}
	cd = find_command(name);
	if (cd == NULL)
		return usage_error(NULL, "unknown command '%s'", name);
	cli->command = cd->cmd;
	if (cd->cmd == SS_CMD_HELP) {
		if (argc > 2) {
			const struct command_def *h = find_command(argv[2]);

			if (h == NULL)
				return usage_error(NULL, "unknown command '%s'", argv[2]);
			fputs(h->usage, stdout);
			return SS_EXIT_OK;
		}
		return -1;
	}
	for (i = 0; i < NOPTS; i++)
		longopts[i] = opt_defs[i].opt;
	memset(&longopts[NOPTS], 0, sizeof(struct option));

	/* Options may come before or after the SPECs of 'get'. */
	specs_storage = calloc((size_t)argc, sizeof(*specs_storage));
	if (specs_storage == NULL)
		return SS_EXIT_FAILURE;
	cli->specs = specs_storage;
	optind = 2;
	opterr = 0;
	for (;;) {
		idx = -1;
		c = getopt_long(argc, argv, "-:c:h", longopts, &idx);
		if (c == -1)
			break;
		if (c == 1) {
			if (cd->cmd != SS_CMD_GET)
				return usage_error(cd->name, "unexpected argument '%s'", optarg);
			specs_storage[cli->nspecs++] = optarg;
			continue;
		}
		if (c == '?')
			return usage_error(cd->name, "unknown option '%s'", argv[optind - 1]);
		if (c == ':')
			return usage_error(cd->name, "option '%s' needs a value", argv[optind - 1]);
		if (c == OPT_HELP) {
			fputs(cd->usage, stdout);
			return SS_EXIT_OK;
		}
		for (i = 0; i < NOPTS; i++)
			if (opt_defs[i].opt.val == c)
				break;
		if (i == NOPTS || !(opt_defs[i].commands & (1u << cd->cmd))) {
			fprintf(stderr, "secretsync: option '--%s' is not valid for '%s'\n",
				i < NOPTS ? opt_defs[i].opt.name : "?", cd->name);
			fprintf(stderr, "Try 'secretsync %s --help'.\n", cd->name);
			return SS_EXIT_USAGE;
		}
		rc = apply_option(cli, c, optarg, cd->name);
		if (rc >= 0)
			return rc;
	}
	return cli_finish(cli);
}

/* --- action mode: the INPUT_* variables of action.yml (SPEC §8) --- */

static const char *input(const char *name)
{
	char var[64];
	const char *v;
	size_t i, n;

	n = (size_t)snprintf(var, sizeof(var), "INPUT_%s", name);
	if (n >= sizeof(var))
		return NULL;
	for (i = 6; i < n; i++)
		if (var[i] >= 'a' && var[i] <= 'z')
			var[i] = (char)(var[i] - 'a' + 'A');
	v = getenv(var);
	if (v == NULL || *v == '\0')
		return NULL;
	return v;
}

/* -1 unset, 0 false, 1 true, -2 invalid */
static int input_bool(const char *name)
{
	const char *v = input(name);

	if (v == NULL)
		return -1;
	if (strcmp(v, "true") == 0 || strcmp(v, "True") == 0 || strcmp(v, "TRUE") == 0)
		return 1;
	if (strcmp(v, "false") == 0 || strcmp(v, "False") == 0 || strcmp(v, "FALSE") == 0)
		return 0;
	return -2;
}

static int parse_inputs(struct ss_cli *cli)
{
	static const struct {
		const char *input;
		int opt;
	} flags[] = {
		{"dry-run", OPT_DRY_RUN},
		{"exit-code", OPT_EXIT_CODE},
		{"comment", OPT_COMMENT},
		{"status", OPT_STATUS},
		{"export-env", OPT_EXPORT_ENV},
		{"output-credentials", OPT_OUTPUT_CREDENTIALS},
		{"allow-drift", OPT_ALLOW_DRIFT},
	};
	static const struct {
		const char *input;
		int opt;
	} values[] = {
		{"config", OPT_CONFIG},
		{"targets", OPT_TARGETS},
		{"status-context", OPT_STATUS_CONTEXT},
		{"github-token", OPT_GITHUB_TOKEN},
		{"role-to-assume", OPT_ROLE},
		{"aws-region", OPT_REGION},
		{"audience", OPT_AUDIENCE},
		{"role-session-name", OPT_SESSION_NAME},
		{"role-duration-seconds", OPT_DURATION},
		{"parallel", OPT_PARALLEL},
		{"log-level", OPT_LOG_LEVEL},
		{"output", OPT_OUTPUT},
		{"shard", OPT_SHARD},
	};
	const struct command_def *cd;
	const char *cmd = input("command");
	const char *secrets;
	char *copy, *p, *line;
	size_t i;
	int b, rc;

	cli_defaults(cli);
	if (cmd == NULL)
		cmd = "pipeline";
	cd = find_command(cmd);
	if (cd == NULL || cd->cmd == SS_CMD_HELP || cd->cmd == SS_CMD_VERSION)
		return usage_error(NULL,
				   "input 'command' is '%s' (use pipeline, plan, validate, verify, "
				   "credentials or get)",
				   cmd);
	cli->command = cd->cmd;
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		b = input_bool(flags[i].input);
		if (b == -2) {
			fprintf(stderr, "secretsync: input '%s' must be true or false\n",
				flags[i].input);
			return SS_EXIT_USAGE;
		}
		if (b == 1) {
			rc = apply_option(cli, flags[i].opt, NULL, cd->name);
			if (rc >= 0)
				return rc;
		} else if (b == 0 && flags[i].opt == OPT_COMMENT) {
			cli->comment = 0;
		} else if (b == 0 && flags[i].opt == OPT_STATUS) {
			cli->status = 0;
		}
	}
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		const char *v = input(values[i].input);

		if (v == NULL)
			continue;
		rc = apply_option(cli, values[i].opt, v, cd->name);
		if (rc >= 0)
			return rc;
	}
	cli->vault_addr = input("vault-addr");
	cli->vault_namespace = input("vault-namespace");
	cli->vault_role = input("vault-role");
	if (cli->vault_addr != NULL)
		setenv("VAULT_ADDR", cli->vault_addr, 1);
	if (cli->vault_namespace != NULL)
		setenv("VAULT_NAMESPACE", cli->vault_namespace, 1);

	/* secrets: one SPEC per line (or separated by semicolons, as
	 * vault-action accepts). */
	secrets = input("secrets");
	if (secrets != NULL) {
		copy = ss_strdup(secrets);
		inputs_copy = copy;
		if (copy == NULL)
			return SS_EXIT_FAILURE;
		specs_storage = calloc(strlen(secrets) / 2 + 2, sizeof(*specs_storage));
		if (specs_storage == NULL) {
			free(copy);
			return SS_EXIT_FAILURE;
		}
		cli->specs = specs_storage;
		for (p = copy; (line = strsep(&p, "\n;")) != NULL;) {
			while (*line == ' ' || *line == '\t' || *line == '\r')
				line++;
			for (i = strlen(line); i > 0 && strchr(" \t\r", line[i - 1]); i--)
				line[i - 1] = '\0';
			if (*line != '\0')
				specs_storage[cli->nspecs++] = line;
		}
		/* copy stays allocated: the specs point into it for the run. */
	}
	return cli_finish(cli);
}

static int dispatch(const struct ss_cli *cli)
{
	switch (cli->command) {
	case SS_CMD_PIPELINE:
	case SS_CMD_PLAN: return ss_cmd_pipeline(cli);
	case SS_CMD_VALIDATE: return ss_cmd_validate(cli);
	case SS_CMD_VERIFY: return ss_cmd_verify(cli);
	case SS_CMD_CREDENTIALS: return ss_cmd_credentials(cli);
	case SS_CMD_GET: return ss_cmd_get(cli);
	case SS_CMD_VERSION: return print_version();
	case SS_CMD_HELP: fputs(main_usage, stdout); return SS_EXIT_OK;
	case SS_CMD_NONE: break;
	}
	fputs(main_usage, stderr);
	return SS_EXIT_USAGE;
}

/* SIGTERM/SIGINT: stop the network work in flight; the command then
 * cleans up (revokes the Vault token), reports what it applied and
 * exits 1. A second signal ends the process at once. */
static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = 1;
	ss_http_interrupt();
	signal(sig, SIG_DFL);
}

/* cJSON's free: zero the block first, so a secret parsed or printed by
 * cJSON (also in a buffer it drops halfway through) does not linger in
 * freed memory. With a custom free cJSON never uses realloc. */
static void zeroing_free(void *p)
{
	if (p == NULL)
		return;
	ss_memzero(p, malloc_usable_size(p));
	free(p);
}

int main(int argc, char **argv)
{
	cJSON_Hooks hooks = {malloc, zeroing_free};
	struct rlimit nocore = {0, 0};
	struct ss_cli cli;
	const char *gha = getenv("GITHUB_ACTIONS");
	int rc;

	/* A core dump would hold every secret of the run. */
	(void)setrlimit(RLIMIT_CORE, &nocore);
	cJSON_InitHooks(&hooks);
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
	}
	if (ss_mask_global() == NULL) {
		fputs("secretsync: out of memory\n", stderr);
		return SS_EXIT_FAILURE;
	}
	if (argc < 2) {
		if (gha != NULL && strcmp(gha, "true") == 0) {
			rc = parse_inputs(&cli);
		} else {
			fputs(main_usage, stderr);
			return SS_EXIT_USAGE;
		}
	} else {
		rc = parse_argv(argc, argv, &cli);
	}
	if (rc < 0) {
		if (cli.output == SS_OUTPUT_GITHUB)
			ss_mask_set_emitter(ss_mask_global(), stdout);
		rc = dispatch(&cli);
	}
	if (got_signal) {
		fputs("secretsync: interrupted by a signal\n", stderr);
		if (rc == SS_EXIT_OK || rc == SS_EXIT_CHANGES)
			rc = SS_EXIT_FAILURE;
	}
	fflush(stdout);
	free(specs_storage);
	ss_free_secret(inputs_copy);
	return rc;
}
