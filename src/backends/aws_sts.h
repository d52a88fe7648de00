/* aws_sts.h - the AWS STS client: AssumeRole, AssumeRoleWithWebIdentity
 * and GetCallerIdentity.
 *
 * STS speaks the query protocol: a POST of a form body
 * "Action=...&Version=2011-06-15&..." and an XML answer. AssumeRole and
 * GetCallerIdentity are signed with SigV4 (on every attempt, by
 * ss_aws_submit); AssumeRoleWithWebIdentity is not signed: the token is
 * the credential. The three calls create nothing that a repeat would
 * duplicate, so they are retried like reads (throttling codes included).
 *
 * Secrets: the web identity token (in the request body), the secret
 * access key and the session token (in the answer) never reach a log.
 * The parsed access key id, secret access key and session token are
 * registered with the mask registry the moment they are parsed, before
 * any callback sees them, and every copy is zeroed when freed.
 *
 * Errors are appended to an ss_buf as lines, subject first, with what the
 * user needs to fix them. A refused web identity shows the token's
 * non-secret claims (sub, aud, repository, ref, environment) next to the
 * role, which is what a trust policy is written against:
 *   sts: AssumeRoleWithWebIdentity into arn:aws:iam::123456789012:role/gh
 *     (token from GitHub OIDC): InvalidIdentityToken: Incorrect token audience
 *     the token's claims: sub=repo:acme/infra:ref:refs/heads/main, aud=sts.amazonaws.com, ...
 *     (the role's account needs an IAM OIDC provider for the token's issuer
 *     with the token's aud as a client id)
 */
#ifndef SS_AWS_STS_H
#define SS_AWS_STS_H

#include <time.h>

#include "backends/aws.h"
#include "core/buf.h"
#include "core/mask.h"
#include "core/rc.h"
#include "net/http.h"

#define SS_STS_API_VERSION "2011-06-15"
/* Bounds of DurationSeconds (the role's MaxSessionDuration may be lower;
 * a role assumed with temporary credentials allows 3600 at most). */
#define SS_STS_MIN_DURATION	    900
#define SS_STS_MAX_DURATION	    43200
#define SS_STS_DEFAULT_DURATION	    3600
#define SS_STS_CHAINED_MAX_DURATION 3600

/* An AssumeRole or AssumeRoleWithWebIdentity request; strings borrowed
 * for the duration of the submit call. */
struct ss_sts_assume {
	const char *region; /* STS region (endpoint and signing) */
	const char *role_arn;
	const char *session_name; /* valid RoleSessionName (see aws_creds.h) */
	int duration_seconds;	  /* 0 = not sent (AWS's default, 3600) */
	/* AssumeRole: the caller's credentials, and a description of where
	 * they came from for messages ("environment (AWS_ACCESS_KEY_ID)"). */
	const struct ss_aws_creds *source;
	/* AssumeRoleWithWebIdentity when set (source is then ignored): the
	 * token (a secret), and where it came from for messages
	 * ("GitHub OIDC", "AWS_WEB_IDENTITY_TOKEN_FILE"). */
	const char *web_identity_token;
	const char *token_origin;
};

/* Temporary credentials from STS. */
struct ss_sts_session {
	struct ss_aws_creds creds; /* expiration parsed; source describes the role */
	char *expiration;	   /* as STS wrote it ("2030-01-02T03:04:05Z"), or NULL */
	char *assumed_role_arn;	   /* AssumedRoleUser/Arn, or NULL */
};

/* Zero and free what s holds; s is left empty. NULL is fine. */
void ss_sts_session_clear(struct ss_sts_session *s);

/* Move src into dst (dst cleared first); src is left empty. */
void ss_sts_session_move(struct ss_sts_session *dst, struct ss_sts_session *src);

/* The identity behind a set of credentials. */
struct ss_sts_identity {
	char *account; /* 12 digits */
	char *arn;
	char *user_id; /* may be NULL */
};

/* Free what id holds; id is left empty. NULL is fine. */
void ss_sts_identity_clear(struct ss_sts_identity *id);

/* Completion of an assume call. On SS_OK, s is filled (and its secrets
 * masked) and error is ""; the callback may take s's contents with
 * ss_sts_session_move, else they are zeroed and freed when it returns.
 * On failure s is empty and error holds the message lines (each ending
 * in '\n'). Called exactly once per successful submit. */
typedef void (*ss_sts_session_fn)(enum ss_rc rc, struct ss_sts_session *s, const char *error,
				  void *ctx);

/* Completion of GetCallerIdentity; as ss_sts_session_fn (the callback may
 * take id's strings, setting them to NULL). */
typedef void (*ss_sts_identity_fn)(enum ss_rc rc, struct ss_sts_identity *id, const char *error,
				   void *ctx);

/* Queue an AssumeRole (or AssumeRoleWithWebIdentity when
 * a->web_identity_token is set) on h; done runs from ss_http_run. On
 * failure nothing is queued, done is not called, and err (may be NULL)
 * says why: SS_ERR_INVALID for a request missing its role, session name
 * or source credentials, or a duration out of bounds. */
enum ss_rc ss_sts_assume_submit(struct ss_http *h, const struct ss_sts_assume *a,
				ss_sts_session_fn done, void *ctx,
				struct ss_buf *err) SS_MUST_CHECK;

/* The same, run to completion (runs h's loop). On SS_OK out (which need
 * not be initialised) holds the session; on failure out is empty and err
 * holds the message. SS_ERR_AUTH when STS refused (access denied, a bad
 * or expired token or key), SS_ERR_NET when it could not be reached,
 * SS_ERR_PARSE for an answer that is not STS's XML, SS_ERR_HTTP for
 * anything else. */
enum ss_rc ss_sts_assume(struct ss_http *h, const struct ss_sts_assume *a,
			 struct ss_sts_session *out, struct ss_buf *err) SS_MUST_CHECK;

/* Queue GetCallerIdentity for creds (borrowed for the call; source is
 * named in messages). */
enum ss_rc ss_sts_identity_submit(struct ss_http *h, const char *region,
				  const struct ss_aws_creds *creds, ss_sts_identity_fn done,
				  void *ctx) SS_MUST_CHECK;

/* The same, run to completion; out need not be initialised. */
enum ss_rc ss_sts_get_caller_identity(struct ss_http *h, const char *region,
				      const struct ss_aws_creds *creds, struct ss_sts_identity *out,
				      struct ss_buf *err) SS_MUST_CHECK;

/* Pure pieces, for tests and fuzzing. */

/* Append the form body of a (Action, Version, RoleArn, RoleSessionName,
 * DurationSeconds when nonzero, WebIdentityToken for a web identity),
 * every value percent-encoded. The body may hold a secret. */
enum ss_rc ss_sts_form(const struct ss_sts_assume *a, struct ss_buf *out) SS_MUST_CHECK;

/* Parse an AssumeRole / AssumeRoleWithWebIdentity answer into out (need
 * not be initialised). AccessKeyId, SecretAccessKey and SessionToken are
 * required; Expiration, when present, must be an ISO 8601 UTC time. The
 * three credentials are registered with mask (may be NULL) before this
 * returns. SS_ERR_PARSE for anything else; out is then empty. */
enum ss_rc ss_sts_parse_session(const char *xml, size_t len, struct ss_mask *mask,
				struct ss_sts_session *out) SS_MUST_CHECK;

/* Parse a GetCallerIdentity answer (Account, a 12-digit id, and Arn are
 * required, UserId is optional). SS_ERR_PARSE otherwise; out empty. */
enum ss_rc ss_sts_parse_identity(const char *xml, size_t len,
				 struct ss_sts_identity *out) SS_MUST_CHECK;

/* Parse "YYYY-MM-DDTHH:MM:SS[.fraction]Z" (UTC; a "+00:00" suffix is
 * accepted too) into epoch seconds. SS_ERR_INVALID otherwise. */
enum ss_rc ss_sts_parse_time(const char *s, time_t *out) SS_MUST_CHECK;

#endif
