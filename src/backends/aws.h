/* aws.h - what every AWS client shares: credentials, endpoints, SigV4
 * signing on every attempt, service error parsing and throttling.
 *
 * A request built by ss_aws_req_new is signed in its prepare hook, so a
 * retry carries a fresh X-Amz-Date. The completion callback receives the
 * response and, when the status is not 2xx, the parsed AWS error (JSON
 * protocol "__type"/"message", query/XML and S3 "<Code>"/"<Message>").
 */
#ifndef SS_AWS_H
#define SS_AWS_H

#include <time.h>

#include "core/buf.h"
#include "core/rc.h"
#include "net/http.h"

enum ss_aws_service {
	SS_AWS_STS = 0,
	SS_AWS_SECRETS_MANAGER,
	SS_AWS_S3
};

/* Credentials; every string malloc'd, zeroed on free. */
struct ss_aws_creds {
	char *access_key_id;
	char *secret_access_key;
	char *session_token; /* NULL for long-term keys */
	time_t expiration;   /* 0 = unknown / none */
	char *source;        /* where they came from, for messages: "environment" */
};

/* Zero and free the strings of c (c itself is not freed). NULL is fine. */
void ss_aws_creds_clear(struct ss_aws_creds *c);

/* Copy src into dst (dst cleared first). */
enum ss_rc ss_aws_creds_copy(struct ss_aws_creds *dst, const struct ss_aws_creds *src)
	SS_MUST_CHECK;

/* Register every secret part of c with the mask registry. */
enum ss_rc ss_aws_creds_mask(const struct ss_aws_creds *c) SS_MUST_CHECK;

/* The base URL of a service in region, without a trailing slash:
 * AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL_SECRETS_MANAGER /
 * AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, else the regional
 * https://SERVICE.REGION.amazonaws.com. *custom is set when an endpoint
 * variable was used (S3 then uses path-style URLs). malloc'd, NULL on
 * allocation failure. */
char *ss_aws_endpoint(enum ss_aws_service svc, const char *region, int *custom);

/* The SigV4 signing name of a service: "sts", "secretsmanager", "s3". */
const char *ss_aws_signing_name(enum ss_aws_service svc);

/* A parsed AWS error answer. */
struct ss_aws_error {
	char code[96];     /* "ThrottlingException", "AccessDenied", ... */
	char message[384]; /* AWS's message (shown through the mask) */
};

/* Parse the error in resp (JSON or XML). Fills "" when there is none. */
void ss_aws_parse_error(const struct ss_http_resp *resp, struct ss_aws_error *out);

/* Nonzero for AWS's throttling and transient error codes. */
int ss_aws_code_retryable(const char *code);

/* Called when an AWS request completes: resp as from the transport, err
 * parsed when the status is not 2xx (else empty). */
typedef void (*ss_aws_done_fn)(struct ss_http_resp *resp, const struct ss_aws_error *err,
			       void *ctx);

/* Everything needed to sign and send one request. Strings are copied. */
struct ss_aws_call {
	enum ss_aws_service service;
	const char *region;
	const struct ss_aws_creds *creds; /* NULL = unsigned (AssumeRoleWithWebIdentity) */
	const char *method;
	const char *url;          /* full URL: endpoint + path + query */
	const char *content_type; /* NULL = none */
	const char *target;       /* X-Amz-Target for the JSON protocol, or NULL */
	const void *body;
	size_t body_len;
	int idempotent;           /* safe to repeat after a mid-request failure */
	int secret_body;
	int secret_response;
	size_t max_response;
	const char *label;        /* "secretsmanager PutSecretValue app/db" (copied) */
	const char *const *extra_headers; /* NULL-terminated name, value pairs, or NULL */
	ss_aws_done_fn done;
	void *ctx;
};

/* Queue call on h. On failure nothing is queued and done is not called. */
enum ss_rc ss_aws_submit(struct ss_http *h, const struct ss_aws_call *call) SS_MUST_CHECK;

/* Nonzero when resp is a 2xx answer. */
int ss_aws_ok(const struct ss_http_resp *resp);

/* Append "what: CODE: message" (or the transport error) to err, plus a
 * hint for AccessDenied naming the action. */
enum ss_rc ss_aws_describe_failure(struct ss_buf *err, const char *what,
				   const struct ss_http_resp *resp,
				   const struct ss_aws_error *e) SS_MUST_CHECK;

#endif
