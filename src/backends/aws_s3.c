#include "aws_s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "net/sigv4.h"
#include "core/banned.h"

struct ss_s3 {
	struct ss_http *h;
	char *region;
	char *endpoint; /* no trailing '/' */
	int custom;	/* a custom endpoint: path-style */
	struct ss_aws_creds creds;
};

enum s3_kind { S3_PUT, S3_GET, S3_HEAD };

struct s3_op {
	enum s3_kind kind;
	char *what; /* "s3: PutObject s3://bucket/key" */
	char *bucket;
	char *key; /* NULL for HeadBucket */
	char *kms; /* PutObject with SSE-KMS */
	char *source;
	char *region;
	ss_s3_done_fn done;
	void *ctx;
};

struct ss_s3 *ss_s3_new(struct ss_http *h, const char *region, const struct ss_aws_creds *creds)
{
	struct ss_s3 *s3 = calloc(1, sizeof(*s3));

	if (s3 == NULL)
		return NULL;
	s3->h = h;
	s3->region = ss_strdup(region ? region : "us-east-1");
	s3->endpoint = ss_aws_endpoint(SS_AWS_S3, s3->region, &s3->custom);
	if (s3->region == NULL || s3->endpoint == NULL ||
	    ss_aws_creds_copy(&s3->creds, creds) != SS_OK) {
		ss_s3_free(s3);
		return NULL;
	}
	return s3;
}

void ss_s3_free(struct ss_s3 *s3)
{
	if (s3 == NULL)
		return;
	ss_aws_creds_clear(&s3->creds);
	free(s3->region);
	free(s3->endpoint);
	free(s3);
}

/* S3's bucket naming rules, loosely: 3-63 of [a-z0-9.-], starting and
 * ending with a letter or digit. Anything else never reaches a URL. */
static int bucket_ok(const char *b)
{
	size_t i, n = b ? strlen(b) : 0;

	if (n < 3 || n > 63)
		return 0;
	for (i = 0; i < n; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') || b[i] == '.' ||
		      b[i] == '-'))
			return 0;
	return b[0] != '.' && b[0] != '-' && b[n - 1] != '.' && b[n - 1] != '-';
}

/* Append key percent-encoded segment by segment. */
static enum ss_rc encode_key(struct ss_buf *out, const char *key)
{
	const char *s = key;
	enum ss_rc rc = SS_OK;

	for (;;) {
		size_t n = strcspn(s, "/");

		if (n == 1 && s[0] == '.')
			rc = ss_buf_adds(out, "%2E");
		else if (n == 2 && s[0] == '.' && s[1] == '.')
			rc = ss_buf_adds(out, "%2E%2E");
		else
			rc = ss_sigv4_uri_encode(out, s, n, false);
		if (rc != SS_OK || s[n] == '\0')
			return rc;
		rc = ss_buf_addc(out, '/');
		if (rc != SS_OK)
			return rc;
		s += n + 1;
	}
}

enum ss_rc ss_s3_url(const struct ss_s3 *s3, const char *bucket, const char *key,
		     struct ss_buf *out)
{
	const char *scheme_end;
	enum ss_rc rc;

	if (!bucket_ok(bucket) || (key != NULL && *key == '\0'))
		return SS_ERR_INVALID;
	scheme_end = strstr(s3->endpoint, "://");
	if (s3->custom || strchr(bucket, '.') != NULL || scheme_end == NULL) {
		rc = ss_buf_addf(out, "%s/%s", s3->endpoint, bucket);
		if (rc == SS_OK && key != NULL)
			rc = ss_buf_addc(out, '/');
	} else {
		scheme_end += 3;
		rc = ss_buf_addf(out, "%.*s%s.%s/", (int)(scheme_end - s3->endpoint), s3->endpoint,
				 bucket, scheme_end);
	}
	if (rc == SS_OK && key != NULL)
		rc = encode_key(out, key);
	return rc;
}

static void op_free(struct s3_op *op)
{
	if (op == NULL)
		return;
	free(op->what);
	free(op->bucket);
	free(op->key);
	free(op->kms);
	free(op->source);
	free(op->region);
	free(op);
}

static const char *op_name(enum s3_kind k)
{
	return k == S3_PUT ? "PutObject" : k == S3_GET ? "GetObject" : "HeadBucket";
}

static int is_code(const struct ss_aws_error *e, const char *code)
{
	return strcmp(e->code, code) == 0;
}

/* The message lines of a failed call; returns its rc. */
static enum ss_rc describe(const struct s3_op *op, const struct ss_http_resp *resp,
			   const struct ss_aws_error *e, struct ss_buf *msg)
{
	const char *region = ss_http_resp_header(resp, "x-amz-bucket-region");
	enum ss_rc rc, result = SS_ERR_HTTP;
	int denied;

	if (resp->rc != SS_OK) {
		rc = ss_buf_addf(msg, "%s: %s", op->what, resp->error);
		if (rc == SS_OK && resp->attempts > 1)
			rc = ss_buf_addf(msg, " (after %d attempts)", resp->attempts);
		if (rc == SS_OK)
			rc = ss_buf_addc(msg, '\n');
		return rc != SS_OK ? rc : resp->rc;
	}
	denied = resp->status == 403 || is_code(e, "AccessDenied");
	if (e->code[0] != '\0')
		rc = ss_buf_addf(msg, "%s: %s%s%s\n", op->what, e->code, e->message[0] ? ": " : "",
				 e->message);
	else
		rc = ss_buf_addf(msg, "%s: HTTP %ld%s\n", op->what, resp->status,
				 resp->status == 403   ? " (access denied)"
				 : resp->status == 404 ? " (no such bucket)"
				 : resp->status == 301 ? " (the bucket is in another region)"
						       : "");
	if (rc != SS_OK)
		return rc;
	if (denied) {
		result = SS_ERR_AUTH;
		if (op->kind == S3_PUT)
			rc = ss_buf_addf(
			    msg,
			    "  (the identity of %s needs s3:PutObject on "
			    "arn:aws:s3:::%s/%s%s%s; the bucket policy may deny it too, "
			    "e.g. an upload without server-side encryption)\n",
			    op->source, op->bucket, op->key,
			    op->kms ? " and kms:GenerateDataKey on the key " : "",
			    op->kms ? op->kms : "");
		else if (op->kind == S3_GET)
			rc = ss_buf_addf(
			    msg,
			    "  (the identity of %s needs s3:GetObject on "
			    "arn:aws:s3:::%s/%s, and kms:Decrypt for an SSE-KMS object; "
			    "without s3:ListBucket S3 reports a missing object as "
			    "AccessDenied)\n",
			    op->source, op->bucket, op->key);
		else
			rc = ss_buf_addf(msg,
					 "  (the identity of %s needs s3:ListBucket on "
					 "arn:aws:s3:::%s)\n",
					 op->source, op->bucket);
	} else if (is_code(e, "NoSuchBucket") || (op->kind == S3_HEAD && resp->status == 404)) {
		/* Only HeadBucket's answer is "not found": for an object,
		 * a missing bucket must never pass for a missing object. */
		result = op->kind == S3_HEAD ? SS_ERR_NOTFOUND : SS_ERR_HTTP;
		rc = ss_buf_addf(msg,
				 "  (no bucket %s in %s: check merge_store.s3.bucket and the "
				 "region)\n",
				 op->bucket, op->region);
	} else if (resp->status == 301 || is_code(e, "PermanentRedirect") ||
		   is_code(e, "AuthorizationHeaderMalformed") ||
		   is_code(e, "IllegalLocationConstraintException")) {
		if (region != NULL)
			rc = ss_buf_addf(msg,
					 "  (the bucket %s is in %s, not %s: set the region to "
					 "%s)\n",
					 op->bucket, region, op->region, region);
		else
			rc = ss_buf_addf(msg, "  (the bucket %s is in another region than %s)\n",
					 op->bucket, op->region);
	} else if (strncmp(e->code, "KMS.", 4) == 0 || is_code(e, "KMSKeyNotAccessibleFault")) {
		result = SS_ERR_AUTH;
		rc = ss_buf_addf(msg,
				 "  (check the KMS key %s: it must exist in %s, be enabled, "
				 "and allow this identity to use it)\n",
				 op->kms ? op->kms : "of the object", op->region);
	} else if (is_code(e, "InvalidAccessKeyId") || is_code(e, "SignatureDoesNotMatch") ||
		   is_code(e, "ExpiredToken") || is_code(e, "InvalidToken")) {
		result = SS_ERR_AUTH;
		rc = ss_buf_addf(msg, "  (the credentials from %s are not valid or have expired)\n",
				 op->source);
	} else if (ss_aws_code_retryable(e->code) || resp->status >= 500) {
		rc = ss_buf_addf(msg, "  (S3 still failed after %d attempts)\n", resp->attempts);
	}
	return rc != SS_OK ? rc : result;
}

static void on_answer(struct ss_http_resp *resp, const struct ss_aws_error *e, void *ctx)
{
	struct s3_op *op = ctx;
	struct ss_buf msg;
	enum ss_rc rc = SS_OK;

	ss_buf_init(&msg, 0);
	if (ss_aws_ok(resp) && op->kind == S3_PUT && ss_http_resp_header(resp, "ETag") == NULL) {
		/* S3 answers every stored object with its ETag: a 2xx without
		 * one did not come from S3 and proves nothing was stored. */
		rc = SS_ERR_PARSE;
		if (ss_buf_addf(&msg, "%s: HTTP %ld without an ETag: the object may not be stored\n",
				op->what, resp->status) != SS_OK)
			rc = SS_ERR_NOMEM;
	} else if (ss_aws_ok(resp)) {
		rc = SS_OK;
	} else if (op->kind == S3_GET && resp->rc == SS_OK && resp->status == 404 &&
		   (is_code(e, "NoSuchKey") || e->code[0] == '\0')) {
		rc = SS_ERR_NOTFOUND;
	} else {
		rc = describe(op, resp, e, &msg);
	}
	op->done(rc, rc == SS_OK && op->kind == S3_GET ? &resp->body : NULL, msg.data, op->ctx);
	ss_buf_free(&msg);
	op_free(op);
}

/* Build and queue a call; takes op (freed on failure). */
static enum ss_rc submit(struct ss_s3 *s3, struct s3_op *op, const char *method,
			 const struct ss_s3_put *put)
{
	const char *extra[8];
	struct ss_aws_call call;
	struct ss_buf url, label;
	size_t n = 0;
	enum ss_rc rc;

	ss_buf_init(&url, 0);
	ss_buf_init(&label, 0);
	rc = ss_s3_url(s3, op->bucket, op->key, &url);
	if (rc == SS_OK)
		rc = ss_buf_addf(&label, "s3 %s %s%s%s", op_name(op->kind), op->bucket,
				 op->key ? "/" : "", op->key ? op->key : "");
	if (rc != SS_OK)
		goto out;
	memset(&call, 0, sizeof(call));
	call.service = SS_AWS_S3;
	call.region = s3->region;
	call.creds = &s3->creds;
	call.method = method;
	call.url = url.data;
	call.idempotent = 1; /* a PUT of the same bytes twice is the same object */
	call.secret_body = 1;
	call.secret_response = 1;
	call.max_response = op->kind == S3_GET ? SS_S3_MAX_OBJECT : 64 * 1024;
	call.label = label.data;
	call.done = on_answer;
	call.ctx = op;
	if (put != NULL) {
		call.content_type = put->content_type ? put->content_type : "application/json";
		call.body = put->body != NULL ? put->body : "";
		call.body_len = put->len;
		extra[n++] = "x-amz-server-side-encryption";
		extra[n++] = put->kms_key_id ? "aws:kms" : "AES256";
		if (put->kms_key_id) {
			extra[n++] = "x-amz-server-side-encryption-aws-kms-key-id";
			extra[n++] = put->kms_key_id;
		}
		extra[n] = NULL;
		call.extra_headers = extra;
	}
	rc = ss_aws_submit(s3->h, &call);
out:
	if (rc != SS_OK)
		op_free(op);
	ss_buf_free(&url);
	ss_buf_free(&label);
	return rc;
}

static struct s3_op *op_new(const struct ss_s3 *s3, enum s3_kind kind, const char *bucket,
			    const char *key, const char *kms, ss_s3_done_fn done, void *ctx)
{
	struct s3_op *op = calloc(1, sizeof(*op));
	struct ss_buf what;

	if (op == NULL)
		return NULL;
	op->kind = kind;
	op->done = done;
	op->ctx = ctx;
	op->bucket = ss_strdup(bucket);
	op->key = ss_strdup(key);
	op->kms = ss_strdup(kms);
	op->region = ss_strdup(s3->region);
	op->source = ss_strdup(s3->creds.source ? s3->creds.source : "the given credentials");
	ss_buf_init(&what, 0);
	if (op->bucket == NULL || (key && !op->key) || (kms && !op->kms) || !op->region ||
	    !op->source ||
	    ss_buf_addf(&what, "s3: %s s3://%s%s%s", op_name(kind), bucket, key ? "/" : "",
			key ? key : "") != SS_OK ||
	    ss_buf_take(&what, &op->what) != SS_OK) {
		ss_buf_free(&what);
		op_free(op);
		return NULL;
	}
	ss_buf_free(&what);
	return op;
}

static enum ss_rc check_names(const char *bucket, const char *key, int need_key)
{
	if (!bucket_ok(bucket))
		return SS_ERR_INVALID;
	if (need_key && (key == NULL || *key == '\0'))
		return SS_ERR_INVALID;
	return SS_OK;
}

enum ss_rc ss_s3_put_submit(struct ss_s3 *s3, const struct ss_s3_put *put, ss_s3_done_fn done,
			    void *ctx)
{
	struct s3_op *op;

	if (check_names(put->bucket, put->key, 1) != SS_OK ||
	    (put->kms_key_id != NULL && *put->kms_key_id == '\0'))
		return SS_ERR_INVALID;
	op = op_new(s3, S3_PUT, put->bucket, put->key, put->kms_key_id, done, ctx);
	if (op == NULL)
		return SS_ERR_NOMEM;
	return submit(s3, op, "PUT", put);
}

enum ss_rc ss_s3_get_submit(struct ss_s3 *s3, const char *bucket, const char *key,
			    ss_s3_done_fn done, void *ctx)
{
	struct s3_op *op;

	if (check_names(bucket, key, 1) != SS_OK)
		return SS_ERR_INVALID;
	op = op_new(s3, S3_GET, bucket, key, NULL, done, ctx);
	if (op == NULL)
		return SS_ERR_NOMEM;
	return submit(s3, op, "GET", NULL);
}

enum ss_rc ss_s3_head_bucket_submit(struct ss_s3 *s3, const char *bucket, ss_s3_done_fn done,
				    void *ctx)
{
	struct s3_op *op;

	if (check_names(bucket, NULL, 0) != SS_OK)
		return SS_ERR_INVALID;
	op = op_new(s3, S3_HEAD, bucket, NULL, NULL, done, ctx);
	if (op == NULL)
		return SS_ERR_NOMEM;
	return submit(s3, op, "HEAD", NULL);
}

struct sync {
	enum ss_rc rc;
	char **out;
	size_t *len;
	struct ss_buf *err;
};

static void on_sync(enum ss_rc rc, struct ss_buf *body, const char *error, void *ctx)
{
	struct sync *y = ctx;

	y->rc = rc;
	if (rc == SS_OK && body != NULL && y->out != NULL) {
		*y->len = body->len;
		y->rc = ss_buf_take(body, y->out);
	} else if (rc != SS_OK && ss_buf_adds(y->err, error) != SS_OK) {
		y->rc = SS_ERR_NOMEM;
	}
}

static enum ss_rc invalid(struct ss_buf *err, const char *what, const char *bucket, const char *key)
{
	if (ss_buf_addf(err, "s3: %s s3://%s%s%s: not a valid bucket name or key\n", what,
			bucket ? bucket : "", key ? "/" : "", key ? key : "") != SS_OK)
		return SS_ERR_NOMEM;
	return SS_ERR_INVALID;
}

static enum ss_rc run(struct ss_s3 *s3, enum ss_rc rc, struct sync *y)
{
	if (rc == SS_OK)
		rc = ss_http_run(s3->h);
	return rc == SS_OK ? y->rc : rc;
}

enum ss_rc ss_s3_put(struct ss_s3 *s3, const struct ss_s3_put *put, struct ss_buf *err)
{
	struct sync y = {SS_ERR_INTERNAL, NULL, NULL, err};
	enum ss_rc rc = ss_s3_put_submit(s3, put, on_sync, &y);

	if (rc == SS_ERR_INVALID)
		return invalid(err, "PutObject", put->bucket, put->key);
	return run(s3, rc, &y);
}

enum ss_rc ss_s3_get(struct ss_s3 *s3, const char *bucket, const char *key, char **out, size_t *len,
		     struct ss_buf *err)
{
	struct sync y = {SS_ERR_INTERNAL, out, len, err};
	enum ss_rc rc;

	*out = NULL;
	*len = 0;
	rc = ss_s3_get_submit(s3, bucket, key, on_sync, &y);
	if (rc == SS_ERR_INVALID)
		return invalid(err, "GetObject", bucket, key);
	rc = run(s3, rc, &y);
	if (rc != SS_OK && *out != NULL) {
		ss_free_secret(*out);
		*out = NULL;
		*len = 0;
	}
	return rc;
}

enum ss_rc ss_s3_head_bucket(struct ss_s3 *s3, const char *bucket, struct ss_buf *err)
{
	struct sync y = {SS_ERR_INTERNAL, NULL, NULL, err};
	enum ss_rc rc = ss_s3_head_bucket_submit(s3, bucket, on_sync, &y);

	if (rc == SS_ERR_INVALID)
		return invalid(err, "HeadBucket", bucket, NULL);
	return run(s3, rc, &y);
}
