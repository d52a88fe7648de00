/* aws_creds.h - where the AWS credentials of a run come from (SPEC §7).
 *
 * A chain resolves the base credentials once, on first use, in this
 * order:
 *   1. explicit keys (flags / action inputs), if given;
 *   2. GitHub OIDC, when a role is given and the runner offers a token
 *      (ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN): the JWT for the
 *      audience (default sts.amazonaws.com) is exchanged with
 *      AssumeRoleWithWebIdentity (unsigned). This comes before the
 *      environment keys, as in configure-aws-credentials;
 *   3. AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN);
 *   4. AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN (or the role given).
 * When a role is given and the source is keys (1 or 3), or a web
 * identity file for another role, the source is used to AssumeRole into
 * the role. No source at all is an error naming what to set (with a role
 * given: the `permissions: id-token: write` the job needs for OIDC).
 *
 * Per-target roles (ss_aws_creds_for_role) are assumed with AssumeRole
 * from the base credentials and cached per role ARN for the run; a role
 * assumed from temporary credentials lasts 3600 s at most (AWS's limit on
 * role chaining).
 *
 * Every credential is registered with the mask registry the moment it is
 * read or parsed (access key id, secret key, session token, web identity
 * token) and zeroed when the chain is freed. A chain is used from one
 * thread; its calls run the transport's loop (ss_http_run), so they must
 * not be made from inside a transport callback.
 */
#ifndef SS_AWS_CREDS_H
#define SS_AWS_CREDS_H

#include <stddef.h>

#include "backends/aws.h"
#include "core/buf.h"
#include "core/rc.h"
#include "net/http.h"

#define SS_AWS_DEFAULT_AUDIENCE "sts.amazonaws.com"
/* RoleSessionName: 2 to 64 characters of [A-Za-z0-9_+=,.@-]. */
#define SS_AWS_SESSION_NAME_MAX 64

/* Settings of a chain; strings are copied by ss_aws_chain_new. */
struct ss_aws_creds_opts {
	const char *region;	   /* STS region; required */
	const char *role_arn;	   /* --role-to-assume; NULL = none */
	const char *audience;	   /* OIDC audience; NULL = SS_AWS_DEFAULT_AUDIENCE */
	const char *session_name;  /* NULL = "secretsync-<run id>" (sanitised) */
	int duration_seconds;	   /* 0 = 3600; else 900..43200 */
	const char *access_key_id; /* explicit keys; NULL = none */
	const char *secret_access_key;
	const char *session_token; /* NULL = none */
};

struct ss_aws_chain;

/* A new chain on transport h (borrowed; must outlive the chain). NULL on
 * allocation failure or invalid settings (err says why: no region, a
 * duration out of bounds, half of an explicit key pair). Nothing is
 * fetched yet. */
struct ss_aws_chain *ss_aws_chain_new(struct ss_http *h, const struct ss_aws_creds_opts *o,
				      struct ss_buf *err);

/* Zero every credential and free the chain. NULL is fine. */
void ss_aws_chain_free(struct ss_aws_chain *c);

/* The base credentials (resolved on the first call, then cached; a
 * failure is not cached). *out is borrowed from the chain until it is
 * freed. On failure err holds the reason. Runs the loop. */
enum ss_rc ss_aws_chain_base(struct ss_aws_chain *c, const struct ss_aws_creds **out,
			     struct ss_buf *err) SS_MUST_CHECK;

/* The base credentials' expiration as STS wrote it (ISO 8601), or NULL
 * (long-term keys, or not resolved yet). Borrowed. */
const char *ss_aws_chain_expiration(const struct ss_aws_chain *c);

/* The session name the chain uses (sanitised). Borrowed. */
const char *ss_aws_chain_session_name(const struct ss_aws_chain *c);

/* Credentials for role_arn: NULL (or the chain's own role) gives the
 * base credentials; any other role is assumed with AssumeRole from the
 * base and cached for the run. *out is borrowed from the chain. Runs the
 * loop. */
enum ss_rc ss_aws_creds_for_role(struct ss_aws_chain *c, const char *role_arn,
				 const struct ss_aws_creds **out, struct ss_buf *err) SS_MUST_CHECK;

/* Assume every role of roles[0..n) not cached yet, all at once (the
 * transport's parallelism applies); NULL entries are skipped. Each
 * failure adds its lines to err; the first failure's code is returned
 * after every role was tried. Runs the loop. */
enum ss_rc ss_aws_creds_prefetch(struct ss_aws_chain *c, const char *const *roles, size_t n,
				 struct ss_buf *err) SS_MUST_CHECK;

/* The role ARN for account_id from a role pattern holding
 * "{account_id}" (every occurrence is replaced) or, as the Go tool
 * writes it, one "%s". malloc'd in *out. SS_ERR_INVALID when account_id
 * is not 12 digits or the pattern has no placeholder. */
enum ss_rc ss_aws_role_for_account(const char *pattern, const char *account_id,
				   char **out) SS_MUST_CHECK;

/* A valid RoleSessionName into out (size > SS_AWS_SESSION_NAME_MAX):
 * given, or "secretsync-" + GITHUB_RUN_ID (+ "-" + GITHUB_RUN_ATTEMPT
 * when above 1), else "secretsync-<pid>-<unix time>"; every character
 * outside [A-Za-z0-9_+=,.@-] becomes '-', the result is cut to 64
 * characters and one shorter than 2 is padded with '-'. */
void ss_aws_session_name(const char *given, char *out, size_t size);

#endif
