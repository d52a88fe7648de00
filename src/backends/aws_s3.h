/* aws_s3.h - the S3 client of the merge store: PutObject (always with
 * server-side encryption), GetObject, HeadBucket.
 *
 * Addressing: with a custom endpoint (AWS_ENDPOINT_URL_S3 or
 * AWS_ENDPOINT_URL) path-style, ENDPOINT/BUCKET/KEY; otherwise
 * virtual-hosted, https://BUCKET.s3.REGION.amazonaws.com/KEY (path-style
 * for a bucket name with a '.', which a wildcard certificate cannot
 * cover). Keys are percent-encoded per segment ('/' kept; a "." or ".."
 * segment encoded so no client normalises it away). Every request is
 * signed with SigV4 (the payload hash signed as x-amz-content-sha256).
 *
 * Object bodies are merged secret bundles: they are never logged
 * (secret_body / secret_response) and every copy is zeroed when freed.
 * The caller registers a bundle's values with the mask registry (it
 * knows the structure); this client does not interpret bodies.
 *
 * Errors are appended to an ss_buf as lines, subject first:
 *   s3: PutObject s3://my-merged/bundles/staging.json: AccessDenied: Access Denied
 *     (the identity needs s3:PutObject on arn:aws:s3:::my-merged/bundles/staging.json ...)
 * A missing object (GetObject: 404 NoSuchKey) is SS_ERR_NOTFOUND with
 * nothing appended: whether that is an error is the caller's call. A
 * missing bucket is SS_ERR_NOTFOUND for HeadBucket (with a message) and
 * an error (SS_ERR_HTTP) for the object calls.
 */
#ifndef SS_AWS_S3_H
#define SS_AWS_S3_H

#include <stddef.h>

#include "backends/aws.h"
#include "core/buf.h"
#include "core/rc.h"
#include "net/http.h"

/* The largest object GetObject accepts (a merged bundle). */
#define SS_S3_MAX_OBJECT ((size_t)16 * 1024 * 1024)

struct ss_s3;

/* A client for region with creds (copied) on transport h (borrowed).
 * NULL on allocation failure. */
struct ss_s3 *ss_s3_new(struct ss_http *h, const char *region, const struct ss_aws_creds *creds);

/* Zero the credentials and free the client. NULL is fine. */
void ss_s3_free(struct ss_s3 *s3);

/* Append the URL of bucket/key (key NULL: the bucket itself) to out. */
enum ss_rc ss_s3_url(const struct ss_s3 *s3, const char *bucket, const char *key,
		     struct ss_buf *out) SS_MUST_CHECK;

/* A PutObject; strings and body borrowed for the submit call. */
struct ss_s3_put {
	const char *bucket;
	const char *key;
	const void *body;
	size_t len;
	const char *kms_key_id;	  /* SSE-KMS with this key; NULL = SSE-S3 (AES256) */
	const char *content_type; /* NULL = application/json */
};

/* Completion of an S3 call. rc SS_OK: done; body is the object for
 * GetObject (the callback may take it with ss_buf_take; it is zeroed
 * otherwise) and NULL for the others. SS_ERR_NOTFOUND: the object does
 * not exist (error is "") or, for HeadBucket, the bucket (error says
 * so). Otherwise error holds the lines: SS_ERR_AUTH for access denied,
 * KMS and credential refusals, SS_ERR_NET when S3 could not be reached,
 * SS_ERR_HTTP for the rest. Called exactly once per successful submit. */
typedef void (*ss_s3_done_fn)(enum ss_rc rc, struct ss_buf *body, const char *error, void *ctx);

/* Queue a call on the client's transport; done runs from ss_http_run.
 * On failure nothing is queued and done is not called. */
enum ss_rc ss_s3_put_submit(struct ss_s3 *s3, const struct ss_s3_put *put, ss_s3_done_fn done,
			    void *ctx) SS_MUST_CHECK;
enum ss_rc ss_s3_get_submit(struct ss_s3 *s3, const char *bucket, const char *key,
			    ss_s3_done_fn done, void *ctx) SS_MUST_CHECK;
enum ss_rc ss_s3_head_bucket_submit(struct ss_s3 *s3, const char *bucket, ss_s3_done_fn done,
				    void *ctx) SS_MUST_CHECK;

/* The same, run to completion (they run the transport's loop). */
enum ss_rc ss_s3_put(struct ss_s3 *s3, const struct ss_s3_put *put,
		     struct ss_buf *err) SS_MUST_CHECK;
/* On SS_OK *out is the object as a malloc'd NUL-terminated secret (free
 * with ss_free_secret) and *len its length (it may hold NULs). */
enum ss_rc ss_s3_get(struct ss_s3 *s3, const char *bucket, const char *key, char **out, size_t *len,
		     struct ss_buf *err) SS_MUST_CHECK;
enum ss_rc ss_s3_head_bucket(struct ss_s3 *s3, const char *bucket,
			     struct ss_buf *err) SS_MUST_CHECK;

#endif
