/* config.h - the strict secretsync config loader (SPEC §4).
 *
 * ss_config_parse() turns the bytes of a YAML config into a struct
 * ss_config. It does no I/O: the caller reads the file and supplies an
 * environment lookup, so the same code serves the CLI, the unit tests and
 * the fuzz harness.
 *
 * Strict: an unknown key, a wrong type, a missing required key, a bad
 * account id, region or ARN, a duplicate key, an import that names neither
 * a source nor a target, an import cycle, or a name that is both a source
 * and a target is an error. Every problem is collected (not only the
 * first) as one line "FILE:LINE:COL: message\n" (1-based, at the offending
 * node), sorted by position, and then the load fails.
 *
 * Environment: "${VAR}" and "${VAR:-default}" expand in every scalar value
 * (":-" also applies when VAR is set but empty, as in sh); "$$" is a
 * literal "$"; any other "$" is kept. An unset variable without a default
 * is an error naming the variable. No expanded value ever appears in an
 * error message: errors about a scalar quote its raw text from the file,
 * and errors about secret fields (vault.auth token, role_id, secret_id)
 * quote nothing.
 *
 * Compatibility: a config written for the Go SecretSync tool loads
 * unchanged for the core keys (vault.address/namespace/auth,
 * sources.*.vault.mount/paths, merge_store, targets.*, pipeline.*). Its
 * other keys (log, dynamic_targets, aws.control_tower, ...) are rejected
 * with a message saying secretsync does not support them. Also accepted
 * from it: "vault.auth.token: TOKEN" (a plain string), a source path
 * ending in "/" "*" (read as the folder, "*" alone: the whole mount), and
 * YAML merge keys ("<<: *base"). Top-level keys starting with "x-" are not
 * read: they hold anchors for merge keys, as in docker compose files.
 *
 * Hostile input: the file is capped at SS_CONFIG_MAX_SIZE, merge keys nest
 * at most 8 deep, and the walk visits at most a million values after
 * alias expansion (an alias bomb is an error, not a hang).
 */
#ifndef SS_CONFIG_H
#define SS_CONFIG_H

#include <stddef.h>

#include "buf.h"
#include "rc.h"

/* Largest config file the loaders accept (4 MiB). */
#define SS_CONFIG_MAX_SIZE ((size_t)4 * 1024 * 1024)

/* Errors beyond this many are summarised in one last line. */
#define SS_CONFIG_MAX_ERRORS 200

/* Looks up an environment variable: returns its value (borrowed, must
 * stay valid until the call returns) or NULL when it is unset. */
typedef const char *ss_config_env_fn(const char *name, void *ctx);

enum ss_vault_auth {
	SS_VAULT_AUTH_NONE = 0, /* nothing configured and no $VAULT_TOKEN */
	SS_VAULT_AUTH_TOKEN,
	SS_VAULT_AUTH_APPROLE,
	SS_VAULT_AUTH_JWT
};

enum ss_source_kind {
	SS_SOURCE_VAULT = 0,
	SS_SOURCE_AWS
};

enum ss_store_kind {
	SS_STORE_NONE = 0,
	SS_STORE_S3,
	SS_STORE_VAULT
};

enum ss_config_lists {
	SS_CONFIG_LISTS_APPEND = 0,
	SS_CONFIG_LISTS_REPLACE,
	SS_CONFIG_LISTS_UNION
};

enum ss_config_nulls {
	SS_CONFIG_NULLS_OVERRIDE = 0,
	SS_CONFIG_NULLS_KEEP
};

/* Every string below is malloc'd and owned by the struct ss_config; NULL
 * means "not set" where the comment says so. line/col are the 1-based
 * position of the entry's key in the file. */

struct ss_config_vault {
	char *address;          /* vault.address, else $VAULT_ADDR; NULL = none */
	char *namespace;        /* vault.namespace, else $VAULT_NAMESPACE; NULL = none */
	enum ss_vault_auth auth;
	int auth_from_env;      /* token auth taken from $VAULT_TOKEN */
	char *token;            /* TOKEN: the token (a secret) */
	char *approle_mount;    /* APPROLE: default "approle" */
	char *role_id;          /* APPROLE (sensitive) */
	char *secret_id;        /* APPROLE (a secret) */
	char *jwt_mount;        /* JWT: default "jwt" */
	char *jwt_role;         /* JWT: NULL = the mount's default role */
	char *jwt_audience;     /* JWT: NULL = none */
	long max_traversal_depth;    /* default 100 */
	long max_secrets_per_mount;  /* default 100000 */
};

struct ss_config_aws {
	char *region;           /* aws.region, else $AWS_REGION, else
				 * $AWS_DEFAULT_REGION; NULL = none */
	char *role_pattern;     /* with "{account_id}" (a "%s" pattern is
				 * rewritten to it); NULL = none */
};

struct ss_config_source {
	char *name;
	enum ss_source_kind kind;
	int line, col;
	/* SS_SOURCE_VAULT */
	char *mount;            /* no leading or trailing '/' */
	char **paths;           /* folders or secrets under the mount, no
				 * leading '/'; a folder ends in '/' when the
				 * file wrote it so (or "x/" "*" was given) */
	size_t npaths;          /* 0 = the whole mount */
	int kv_version;         /* 0 = auto-detect, 1 or 2 */
	/* SS_SOURCE_AWS */
	char *region;           /* default aws.region; NULL = none */
	char *prefix;           /* NULL = every secret */
	char *role_arn;         /* NULL = base credentials */
};

struct ss_config_store {
	enum ss_store_kind kind;
	char *bucket;           /* S3 */
	char *prefix;           /* S3: "" when absent */
	char *kms_key_id;       /* S3: NULL = AES256 */
	char *mount;            /* VAULT */
};

/* One import of a target, resolved. */
struct ss_config_import {
	char *name;
	int is_target;          /* else a source */
	size_t index;           /* into cfg->targets or cfg->sources */
};

struct ss_config_target {
	char *name;
	int line, col;
	int shorthand;          /* written as "name: [imports]" */
	char *account_id;       /* 12 digits as written; NULL = base account */
	struct ss_config_import *imports;  /* in file order, at least one */
	size_t nimports;
	char *region;           /* resolved: the target's, else aws.region;
				 * NULL = none */
	char *secret_prefix;    /* "" when absent */
	char *role_arn;         /* resolved: the target's, else from
				 * aws.role_pattern when account_id is set;
				 * NULL = no role assumed */
	int role_from_pattern;  /* role_arn came from aws.role_pattern */
};

struct ss_config_pipeline {
	long merge_parallel;            /* default 4 */
	enum ss_config_lists lists;     /* default append */
	enum ss_config_nulls nulls;     /* default override */
	long sync_parallel;             /* default 16 */
	int delete_orphans;             /* default 0 */
	long recovery_window_days;      /* default 30, 7..30 */
	int dry_run;                    /* default 0 */
	int continue_on_error;          /* default 0 */
};

struct ss_config_github {
	int comment;            /* default 0 */
	int status;             /* default 0 */
	char *status_context;   /* default "secretsync" */
	char *token_secret;     /* NULL = none */
};

struct ss_config {
	struct ss_config_vault vault;
	struct ss_config_aws aws;
	struct ss_config_source *sources;  /* file order */
	size_t nsources;
	struct ss_config_store store;
	struct ss_config_target *targets;  /* dependency order: every target
					    * comes after the targets it
					    * imports; otherwise file order */
	size_t ntargets;
	struct ss_config_pipeline pipeline;
	struct ss_config_github github;
};

/* Parse the config in buf[0..len) (need not be NUL-terminated). filename
 * is used only in messages. env looks variables up (NULL: every variable
 * is unset); env_ctx is passed to it.
 * On SS_OK *out is the new config (free with ss_config_free) and nothing
 * is appended to errors. On SS_ERR_INVALID *out is NULL and errors holds
 * one "FILE:LINE:COL: message\n" line per problem. SS_ERR_NOMEM or
 * SS_ERR_TOOBIG (errors is full) may also be returned, *out NULL. */
enum ss_rc ss_config_parse(const char *buf, size_t len, const char *filename,
			   ss_config_env_fn *env, void *env_ctx,
			   struct ss_config **out, struct ss_buf *errors) SS_MUST_CHECK;

/* Zero every string (some are secrets) and free cfg. NULL is fine. */
void ss_config_free(struct ss_config *cfg);

/* The target / source with this name, or NULL. */
const struct ss_config_target *ss_config_find_target(const struct ss_config *cfg,
						     const char *name);
const struct ss_config_source *ss_config_find_source(const struct ss_config *cfg,
						     const char *name);

/* Index of the named target in cfg->targets, or -1. */
long ss_config_target_index(const struct ss_config *cfg, const char *name);

/* Transitive target dependencies of cfg->targets[index] (the targets it
 * imports, directly or through others; not itself), in dependency order.
 * On SS_OK *out is a malloc'd array of *n indices into cfg->targets (NULL
 * when *n is 0); the caller frees it. */
enum ss_rc ss_config_target_deps(const struct ss_config *cfg, size_t index,
				 size_t **out, size_t *n) SS_MUST_CHECK;

/* For --targets: want[i] nonzero selects cfg->targets[i]; need (ntargets
 * bytes, written) gets 1 for each selected target and each target they
 * depend on, 0 for the rest. */
void ss_config_closure(const struct ss_config *cfg, const unsigned char *want,
		       unsigned char *need);

/* For --shard INDEX/COUNT (1 <= INDEX <= COUNT): want (ntargets bytes,
 * written) gets 1 for the targets of shard INDEX. Targets are sorted by
 * name and dealt round-robin, so every target is in exactly one shard,
 * the shards differ in size by at most one, and the split depends only
 * on the set of target names. A shard merges the targets its targets
 * import (ss_config_closure) without writing them, so the shards of one
 * config together do exactly what one unsharded run does. SS_ERR_INVALID
 * unless 1 <= index <= count; SS_ERR_NOMEM. */
enum ss_rc ss_config_shard(const struct ss_config *cfg, unsigned index, unsigned count,
			   unsigned char *want) SS_MUST_CHECK;

/* Expand "${VAR}", "${VAR:-default}" and "$$" in in[0..len) (a NUL in the
 * input is kept as is). On SS_OK *out is the malloc'd result (a secret
 * may be in it: free with ss_free_secret). On SS_ERR_INVALID *out is NULL
 * and a reason naming the variable (never a value) is written to
 * why[0..why_size) (why may be NULL when why_size is 0). */
enum ss_rc ss_config_expand(const char *in, size_t len, ss_config_env_fn *env,
			    void *env_ctx, char **out, char *why,
			    size_t why_size) SS_MUST_CHECK;

/* Checks used by the loader, for other commands' flags: nonzero when s is
 * a 12-digit account id, an AWS region name ("us-east-1",
 * "us-gov-west-1"), or an IAM role ARN ("arn:aws:iam::123456789012:role/x"). */
int ss_config_is_account_id(const char *s);
int ss_config_is_region(const char *s);
int ss_config_is_role_arn(const char *s);

#endif
