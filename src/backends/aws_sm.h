/* aws_sm.h - the AWS Secrets Manager client (JSON protocol, SigV4).
 *
 * Every call is `POST /` on the Secrets Manager endpoint of its region
 * (aws.h: AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL, else
 * https://secretsmanager.REGION.amazonaws.com) with
 * `Content-Type: application/x-amz-json-1.1` and
 * `X-Amz-Target: secretsmanager.<Operation>`, signed on every attempt.
 * Throttling and transient failures are retried by the transport.
 *
 * Operations are asynchronous so that a pipeline can read and write many
 * targets at once on one transport: a *_start function queues the work
 * and returns an op; after ss_http_run(), the matching *_finish hands
 * over the result (or the error) and frees the op. A start fails only
 * for lack of memory or a NULL transport: a bad argument (a name, a value too big, a missing
 * region) is kept in the op, nothing is sent, and finish reports it
 * without the loop having run. Finishing an op whose requests are still
 * queued is a caller bug: finish returns SS_ERR_INTERNAL and the op is
 * freed by its last callback. Synchronous wrappers (ss_sm_list,
 * ss_sm_put, ...) run the loop themselves for simple callers.
 *
 * Secret values: every request that carries a SecretString and every
 * response that may hold one is marked secret for the transport, and
 * each value read is registered with the mask registry (ss_mask_add,
 * which also registers its JSON leaves) in the response callback, before
 * any other code sees it. Values are zeroed before they are freed.
 *
 * Errors are appended to an ss_buf, one line each, subject first, with
 * what the user can do about them:
 *   secretsmanager: PutSecretValue app/db (eu-west-1): AccessDeniedException:
 *   User: ... is not authorized ... (the IAM policy of role
 *   arn:aws:iam::111111111111:role/secretsync must allow
 *   secretsmanager:PutSecretValue on arn:aws:secretsmanager:eu-west-1:
 *   111111111111:secret:app/db-*)
 * Result codes: SS_ERR_NOTFOUND (ResourceNotFoundException), SS_ERR_AUTH
 * (access denied, bad or expired credentials, KMS decryption refused),
 * SS_ERR_CONFLICT (ResourceExistsException), SS_ERR_INVALID (a bad name,
 * InvalidRequestException e.g. a secret scheduled for deletion,
 * InvalidParameterException), SS_ERR_TOOBIG (a value over 64 KiB),
 * SS_ERR_NET (no answer), SS_ERR_HTTP (any other refusal, throttling
 * that outlasted the retries), SS_ERR_PARSE (an answer that is not the
 * expected JSON), SS_ERR_NOMEM.
 */
#ifndef SS_AWS_SM_H
#define SS_AWS_SM_H

#include <stddef.h>

#include "backends/aws.h"
#include "core/buf.h"
#include "core/rc.h"
#include "net/http.h"

/* The ownership tags (SPEC §5): created and updated secrets carry both;
 * only secrets carrying both for a target are ever deleted for it. */
#define SS_SM_TAG_MANAGED_BY "managed-by"
#define SS_SM_TAG_MANAGED_VALUE "secretsync"
#define SS_SM_TAG_TARGET "secretsync:target"

#define SS_SM_MAX_VALUE 65536  /* bytes of a SecretString (AWS's limit) */
#define SS_SM_MAX_NAME 512     /* characters of a secret name */
#define SS_SM_BATCH_MAX 20     /* SecretIdList entries per BatchGetSecretValue */
#define SS_SM_PAGE_SIZE 100    /* MaxResults of a ListSecrets page */
#define SS_SM_TOKEN_LEN 64     /* characters of a derived ClientRequestToken */

/* Where calls go. Everything is copied by the start functions, so the
 * strings need not outlive the call; h is borrowed and must outlive the
 * op. */
struct ss_sm_scope {
	struct ss_http *h;                /* the transport */
	const struct ss_aws_creds *creds; /* required */
	const char *region;               /* required, e.g. "eu-west-1" */
	const char *role_arn;             /* the role creds belong to, for
					   * messages only; NULL = base creds */
	int deleting_live;                /* DeleteSecret of secrets the caller
					   * saw live: "already scheduled for
					   * deletion" means done, not an error */
};

struct ss_sm_tag {
	char *key;
	char *value;
};

enum ss_sm_value_kind {
	SS_SM_NO_VALUE = 0, /* not read (deleted, not wanted, or not asked) */
	SS_SM_STRING,       /* value holds the SecretString */
	SS_SM_BINARY        /* the secret holds SecretBinary: value is NULL */
};

/* One secret as far as it is known. Strings are malloc'd; value is a
 * secret (registered with the mask registry, zeroed on free). */
struct ss_sm_secret {
	char *name;
	char *arn;             /* NULL when not known */
	char *version_id;      /* the AWSCURRENT version; NULL when not known */
	struct ss_sm_tag *tags;
	size_t ntags;
	int tags_known;        /* tags came from ListSecrets or DescribeSecret */
	int deleted;           /* scheduled for deletion (DeletedDate is set) */
	double deleted_date;   /* DeletedDate, epoch seconds; 0 when not deleted */
	enum ss_sm_value_kind kind;
	char *value;           /* SS_SM_STRING: the SecretString, else NULL */
	size_t value_len;
};

/* Secrets sorted by name, each name once. */
struct ss_sm_set {
	struct ss_sm_secret *items;
	size_t n;
	size_t cap;
};

/* Zero the values of s's secrets and free s (and s itself). NULL is fine. */
void ss_sm_set_free(struct ss_sm_set *s);

/* Free the strings of one secret (zeroing the value) and the record
 * itself. NULL is fine. */
void ss_sm_secret_free(struct ss_sm_secret *sec);

/* The secret named name in s (binary search), or NULL. */
const struct ss_sm_secret *ss_sm_set_find(const struct ss_sm_set *s, const char *name);

/* The value of sec's tag key, or NULL when it has no such tag. */
const char *ss_sm_tag_get(const struct ss_sm_secret *sec, const char *key);

/* Nonzero when sec carries managed-by=secretsync and, when target is
 * not NULL, secretsync:target=target: the only secrets a target may
 * delete. */
int ss_sm_is_managed(const struct ss_sm_secret *sec, const char *target);

/* Nonzero when name is a valid Secrets Manager name: 1 to 512
 * characters of [A-Za-z0-9/_+=.@-]. */
int ss_sm_name_ok(const char *name);

/* SS_OK for a valid name; else appends a line naming it and what is
 * wrong and returns SS_ERR_INVALID (SS_ERR_NOMEM if err is full). */
enum ss_rc ss_sm_check_name(const char *name, struct ss_buf *err) SS_MUST_CHECK;

/* The ClientRequestToken of a write (SPEC §5): the lowercase hex SHA-256
 * of target NUL name NUL previous-version-id-or-"create" NUL content,
 * 64 characters (AWS takes 32 to 64). Equal inputs give the same token,
 * so a retried write is recognised by AWS and makes no second version; a
 * revert A -> B -> A differs in the version it replaces, so it lands. A
 * version id is 32-64 characters, so it never equals "create". out
 * receives SS_SM_TOKEN_LEN characters and a NUL.
 *
 * The token becomes the new VersionId, which anyone allowed
 * ListSecrets or DescribeSecret can see without being allowed to read
 * the value. Unkeyed, it lets such a reader test guesses of a
 * low-entropy value offline (target, name and previous version are all
 * visible). ss_sm_token_keyed takes HMAC-SHA256 under key instead (the
 * same message); with a key the reader cannot compute, e.g. one drawn
 * per run, a retry within the run still carries the same token. A NULL
 * or empty key gives ss_sm_token's value. */
void ss_sm_token(const char *target, const char *name, const char *previous_version,
		 const char *content, size_t content_len, char out[SS_SM_TOKEN_LEN + 1]);
void ss_sm_token_keyed(const void *key, size_t key_len, const char *target, const char *name,
		       const char *previous_version, const char *content, size_t content_len,
		       char out[SS_SM_TOKEN_LEN + 1]);

/* Append the line a user needs when the secret name in region is
 * scheduled for deletion (restore it or wait). */
enum ss_rc ss_sm_explain_deleted(struct ss_buf *err, const char *name, const char *region)
	SS_MUST_CHECK;

/* --- reads of many secrets --- */

/* What ListSecrets asks for. Strings are copied. */
struct ss_sm_filter {
	const char *name_prefix; /* "name" filter; NULL or "" = every secret */
	const char *tag_key;     /* "tag-key" filter (prefix match); NULL = none */
	const char *tag_value;   /* "tag-value" filter (prefix match); NULL = none */
	int exclude_deleted;     /* leave out secrets scheduled for deletion
				  * (they are listed, marked deleted, by default) */
};

/* A read op: a listing, a batch read, or both. */
struct ss_sm_read;

/* ListSecrets, every page (MaxResults 100, NextToken), filtered by f
 * (NULL = no filter). A name filter is also applied to the answers, so
 * only names that start with the prefix are kept. The result holds
 * each secret's name, ARN, tags, deletion mark and current version id
 * (from SecretVersionsToStages); no values. */
enum ss_rc ss_sm_list_start(const struct ss_sm_scope *sc, const struct ss_sm_filter *f,
			    struct ss_sm_read **op) SS_MUST_CHECK;

/* The current values of ids (names or ARNs): BatchGetSecretValue with up
 * to 20 ids per call (each call paginated by NextToken), the calls
 * concurrent once the first succeeded. When batch reads are refused or
 * unsupported (AccessDeniedException, an unknown operation), each
 * secret is read with GetSecretValue instead; an Errors entry of a batch
 * answer is retried the same way, except ResourceNotFoundException. The
 * result holds the secrets found (name, ARN, version id, value); ids
 * that do not exist are absent from it. */
enum ss_rc ss_sm_batch_get_start(const struct ss_sm_scope *sc, const char *const *ids, size_t n,
				 struct ss_sm_read **op) SS_MUST_CHECK;

/* A target's current state: the listing of f, then the values of the
 * listed secrets not scheduled for deletion whose names are in want
 * (want NULL = every listed secret; nwant 0 with want set = none), read
 * by ARN as ss_sm_batch_get_start does. Everything runs in one loop.
 * A listed secret that has no current value (created without one, or
 * gone between the listing and the read) keeps kind SS_SM_NO_VALUE; one
 * scheduled for deletion meanwhile gets deleted set. Names in want that
 * were not listed are not read (ListSecrets is eventually consistent: a
 * secret created moments ago may be missing, and a CreateSecret for it
 * then fails with SS_ERR_CONFLICT, explained). */
enum ss_rc ss_sm_state_start(const struct ss_sm_scope *sc, const struct ss_sm_filter *f,
			     const char *const *want, size_t nwant,
			     struct ss_sm_read **op) SS_MUST_CHECK;

/* Hand over the result of a read op (a set the caller frees with
 * ss_sm_set_free) or append the errors to err; frees op. *out is NULL
 * on failure. */
enum ss_rc ss_sm_read_finish(struct ss_sm_read *op, struct ss_sm_set **out,
			     struct ss_buf *err) SS_MUST_CHECK;

/* Requests a read op made so far (for tests and benchmarks). */
struct ss_sm_counts {
	int list_calls;  /* ListSecrets */
	int batch_calls; /* BatchGetSecretValue */
	int get_calls;   /* GetSecretValue */
};
void ss_sm_read_counts(const struct ss_sm_read *op, struct ss_sm_counts *out);

/* Synchronous forms: start, ss_http_run, finish. */
enum ss_rc ss_sm_list(const struct ss_sm_scope *sc, const struct ss_sm_filter *f,
		      struct ss_sm_set **out, struct ss_buf *err) SS_MUST_CHECK;
enum ss_rc ss_sm_batch_get(const struct ss_sm_scope *sc, const char *const *ids, size_t n,
			   struct ss_sm_set **out, struct ss_buf *err) SS_MUST_CHECK;
enum ss_rc ss_sm_state(const struct ss_sm_scope *sc, const struct ss_sm_filter *f,
		       const char *const *want, size_t nwant, struct ss_sm_set **out,
		       struct ss_buf *err) SS_MUST_CHECK;

/* --- calls on one secret --- */

/* A write. value is the SecretString (a secret, at most 65,536 bytes);
 * target is the config target the write is for (the token and the
 * secretsync:target tag); previous_version is the VersionId the write
 * replaces (PutSecretValue; NULL for CreateSecret, and for a secret that
 * exists without a current value); token_key keys the ClientRequestToken
 * (see ss_sm_token_keyed; NULL = unkeyed). */
struct ss_sm_write {
	const char *name;
	const char *target;
	const char *value;
	size_t value_len;
	const char *previous_version;
	const void *token_key;
	size_t token_key_len;
	const char *description; /* CreateSecret only; NULL = none */
	const char *kms_key_id;  /* CreateSecret only; NULL = the AWS managed key */
};

struct ss_sm_op;

/* GetSecretValue (AWSCURRENT) of id: the result has name, ARN, version
 * id and the value (kind STRING or BINARY). */
enum ss_rc ss_sm_get_start(const struct ss_sm_scope *sc, const char *id, struct ss_sm_op **op)
	SS_MUST_CHECK;

/* DescribeSecret: name, ARN, tags, deletion mark, current version id. */
enum ss_rc ss_sm_describe_start(const struct ss_sm_scope *sc, const char *id,
				struct ss_sm_op **op) SS_MUST_CHECK;

/* CreateSecret w->name with the value, the tags managed-by=secretsync
 * and secretsync:target=w->target, and the derived ClientRequestToken
 * (previous version "create"). The result has name, ARN, version id. */
enum ss_rc ss_sm_create_start(const struct ss_sm_scope *sc, const struct ss_sm_write *w,
			      struct ss_sm_op **op) SS_MUST_CHECK;

/* PutSecretValue with the derived ClientRequestToken. The result has
 * name, ARN, version id (the token, or the version AWS already had for
 * it). Do not write a secret the listing marks deleted: AWS refuses it
 * (InvalidRequestException, explained), but moto accepts it silently;
 * report it with ss_sm_explain_deleted instead. */
enum ss_rc ss_sm_put_start(const struct ss_sm_scope *sc, const struct ss_sm_write *w,
			   struct ss_sm_op **op) SS_MUST_CHECK;

/* TagResource: managed-by=secretsync and secretsync:target=target. */
enum ss_rc ss_sm_tag_start(const struct ss_sm_scope *sc, const char *id, const char *target,
			   struct ss_sm_op **op) SS_MUST_CHECK;

/* DeleteSecret with RecoveryWindowInDays (7..30; never a force delete).
 * The result has name, ARN, deleted and deleted_date (the DeletionDate). */
enum ss_rc ss_sm_delete_start(const struct ss_sm_scope *sc, const char *id, int recovery_days,
			      struct ss_sm_op **op) SS_MUST_CHECK;

/* The outcome of a one-secret op: *out (when out is not NULL) gets the
 * result record (the caller frees it with ss_sm_secret_free), or the
 * error lines go to err. Frees op. */
enum ss_rc ss_sm_op_finish(struct ss_sm_op *op, struct ss_sm_secret **out,
			   struct ss_buf *err) SS_MUST_CHECK;

/* Synchronous forms: start, ss_http_run, finish. out may be NULL. */
enum ss_rc ss_sm_get(const struct ss_sm_scope *sc, const char *id, struct ss_sm_secret **out,
		     struct ss_buf *err) SS_MUST_CHECK;
enum ss_rc ss_sm_describe(const struct ss_sm_scope *sc, const char *id,
			  struct ss_sm_secret **out, struct ss_buf *err) SS_MUST_CHECK;
enum ss_rc ss_sm_create(const struct ss_sm_scope *sc, const struct ss_sm_write *w,
			struct ss_sm_secret **out, struct ss_buf *err) SS_MUST_CHECK;
enum ss_rc ss_sm_put(const struct ss_sm_scope *sc, const struct ss_sm_write *w,
		     struct ss_sm_secret **out, struct ss_buf *err) SS_MUST_CHECK;
enum ss_rc ss_sm_tag(const struct ss_sm_scope *sc, const char *id, const char *target,
		     struct ss_buf *err) SS_MUST_CHECK;
enum ss_rc ss_sm_delete(const struct ss_sm_scope *sc, const char *id, int recovery_days,
			struct ss_sm_secret **out, struct ss_buf *err) SS_MUST_CHECK;

#endif
