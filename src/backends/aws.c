#include "aws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/json.h"
#include "core/log.h"
#include "core/mask.h"
#include "net/sigv4.h"
#include "core/banned.h"

/* What a queued AWS request needs until it completes. */
struct aws_ctx {
	enum ss_aws_service service;
	char *region;
	struct ss_aws_creds creds;
	int sign;
	char *path;  /* as on the wire, "/" at least */
	char *query; /* without '?', or NULL */
	char *label;
	ss_aws_done_fn done;
	void *ctx;
};

void ss_aws_creds_clear(struct ss_aws_creds *c)
{
	if (c == NULL)
		return;
	ss_free_secret(c->access_key_id);
	ss_free_secret(c->secret_access_key);
	ss_free_secret(c->session_token);
	free(c->source);
	c->access_key_id = c->secret_access_key = c->session_token = c->source = NULL;
	c->expiration = 0;
}

enum ss_rc ss_aws_creds_copy(struct ss_aws_creds *dst, const struct ss_aws_creds *src)
{
	ss_aws_creds_clear(dst);
	dst->access_key_id = ss_strdup(src->access_key_id);
	dst->secret_access_key = ss_strdup(src->secret_access_key);
	dst->session_token = ss_strdup(src->session_token);
	dst->source = ss_strdup(src->source);
	dst->expiration = src->expiration;
	if ((src->access_key_id && !dst->access_key_id) ||
	    (src->secret_access_key && !dst->secret_access_key) ||
	    (src->session_token && !dst->session_token) || (src->source && !dst->source)) {
		ss_aws_creds_clear(dst);
		return SS_ERR_NOMEM;
	}
	return SS_OK;
}

enum ss_rc ss_aws_creds_mask(const struct ss_aws_creds *c)
{
	enum ss_rc rc = SS_OK;

	if (c->secret_access_key != NULL)
		rc = ss_mask_add(ss_mask_global(), c->secret_access_key);
	if (rc == SS_OK && c->session_token != NULL)
		rc = ss_mask_add(ss_mask_global(), c->session_token);
	return rc;
}

const char *ss_aws_signing_name(enum ss_aws_service svc)
{
	switch (svc) {
	case SS_AWS_STS: return "sts";
	case SS_AWS_SECRETS_MANAGER: return "secretsmanager";
	case SS_AWS_S3: return "s3";
	}
	return "unknown";
}

char *ss_aws_endpoint(enum ss_aws_service svc, const char *region, int *custom)
{
	static const char *const vars[] = {"AWS_ENDPOINT_URL_STS",
					   "AWS_ENDPOINT_URL_SECRETS_MANAGER",
					   "AWS_ENDPOINT_URL_S3"};
	const char *v = getenv(vars[svc]);
	struct ss_buf b;
	char *out = NULL;

	*custom = 0;
	if (v == NULL || *v == '\0')
		v = getenv("AWS_ENDPOINT_URL");
	ss_buf_init(&b, 0);
	if (v != NULL && *v != '\0') {
		size_t n = strlen(v);

		while (n > 0 && v[n - 1] == '/')
			n--;
		*custom = 1;
		if (ss_buf_add(&b, v, n) != SS_OK)
			goto out;
	} else if (ss_buf_addf(&b, "https://%s.%s.amazonaws.com", ss_aws_signing_name(svc),
			       region ? region : "us-east-1") != SS_OK) {
		goto out;
	}
	if (ss_buf_take(&b, &out) != SS_OK)
		out = NULL;
out:
	ss_buf_free(&b);
	return out;
}

/* Copy text between <tag> and </tag> (first occurrence), unescaping the
 * five XML entities. */
static void xml_text(const char *xml, size_t len, const char *tag, char *out, size_t size)
{
	char open[64], close[64];
	const char *a, *b, *end = xml + len;
	size_t j = 0;

	out[0] = '\0';
	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	a = memmem(xml, len, open, strlen(open));
	if (a == NULL)
		return;
	a += strlen(open);
	b = memmem(a, (size_t)(end - a), close, strlen(close));
	if (b == NULL)
		return;
	while (a < b && j + 1 < size) {
		static const struct {
			const char *ent;
			char ch;
		} ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'},
			    {"&apos;", '\''}};
		size_t k, n = 0;

		if (*a == '&')
			for (k = 0; k < sizeof(ents) / sizeof(ents[0]); k++) {
				n = strlen(ents[k].ent);
				if ((size_t)(b - a) >= n && memcmp(a, ents[k].ent, n) == 0) {
					out[j++] = ents[k].ch;
					break;
				}
				n = 0;
			}
		if (n > 0) {
			a += n;
			continue;
		}
		out[j++] = *a++;
	}
	out[j] = '\0';
}

void ss_aws_parse_error(const struct ss_http_resp *resp, struct ss_aws_error *out)
{
	const char *hdr = ss_http_resp_header(resp, "x-amzn-ErrorType");
	cJSON *doc = NULL;

	out->code[0] = '\0';
	out->message[0] = '\0';
	if (resp->rc != SS_OK || (resp->status >= 200 && resp->status < 300))
		return;
	if (resp->body.len > 0 && resp->body.data[0] == '<') {
		xml_text(resp->body.data, resp->body.len, "Code", out->code, sizeof(out->code));
		xml_text(resp->body.data, resp->body.len, "Message", out->message,
			 sizeof(out->message));
	} else if (resp->body.len > 0 &&
		   ss_json_parse(resp->body.data, resp->body.len, &doc) == SS_OK) {
		const char *type = ss_json_get_string(doc, "__type");
		const char *msg = ss_json_get_string(doc, "message");

		if (type == NULL)
			type = ss_json_get_string(doc, "code");
		if (msg == NULL)
			msg = ss_json_get_string(doc, "Message");
		if (type != NULL) {
			const char *hash = strrchr(type, '#');

			snprintf(out->code, sizeof(out->code), "%s", hash ? hash + 1 : type);
		}
		if (msg != NULL)
			snprintf(out->message, sizeof(out->message), "%s", msg);
		ss_json_delete_secret(doc);
	}
	if (out->code[0] == '\0' && hdr != NULL)
		snprintf(out->code, sizeof(out->code), "%.*s", (int)strcspn(hdr, ":"), hdr);
}

int ss_aws_code_retryable(const char *code)
{
	static const char *const codes[] = {
		"Throttling", "ThrottlingException", "ThrottledException",
		"RequestThrottledException", "TooManyRequestsException",
		"ProvisionedThroughputExceededException", "TransactionInProgressException",
		"RequestLimitExceeded", "BandwidthLimitExceeded", "RequestThrottled",
		"SlowDown", "PriorRequestNotComplete", "EC2ThrottledException",
		"InternalError", "InternalFailure", "InternalServiceError",
		"InternalServiceErrorException", "ServiceUnavailable",
		"ServiceUnavailableException", "RequestTimeout", "RequestTimeoutException",
		"IDPCommunicationError",
	};
	size_t i;

	if (code == NULL || *code == '\0')
		return 0;
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(code, codes[i]) == 0)
			return 1;
	return 0;
}

int ss_aws_ok(const struct ss_http_resp *resp)
{
	return resp->rc == SS_OK && resp->status >= 200 && resp->status < 300;
}

static void ctx_free(struct aws_ctx *a)
{
	if (a == NULL)
		return;
	free(a->region);
	ss_aws_creds_clear(&a->creds);
	free(a->path);
	free(a->query);
	free(a->label);
	free(a);
}

static enum ss_rc aws_prepare(struct ss_http_req *req, void *ctx)
{
	struct aws_ctx *a = ctx;
	struct ss_sigv4_header hs[SS_HTTP_MAX_HEADERS];
	struct ss_sigv4_creds c;
	struct ss_sigv4_params p;
	struct ss_sigv4_req r;
	struct ss_sigv4_out out;
	size_t i;
	enum ss_rc rc;

	if (!a->sign)
		return SS_OK;
	for (i = 0; i < req->base_headers; i++) {
		hs[i].name = req->headers[i].name;
		hs[i].value = req->headers[i].value;
	}
	memset(&r, 0, sizeof(r));
	r.method = req->method;
	r.path = a->path;
	r.query = a->query;
	r.headers = hs;
	r.nheaders = req->base_headers;
	r.body = req->body;
	r.body_len = req->body_len;
	c.access_key_id = a->creds.access_key_id;
	c.secret_access_key = a->creds.secret_access_key;
	c.session_token = a->creds.session_token;
	memset(&p, 0, sizeof(p));
	p.region = a->region;
	p.service = ss_aws_signing_name(a->service);
	p.normalize_path = a->service != SS_AWS_S3;
	p.sign_content_sha256 = a->service == SS_AWS_S3;
	rc = ss_sigv4_now(&p.when);
	if (rc != SS_OK)
		return rc;
	ss_sigv4_out_init(&out);
	rc = ss_sigv4_sign(&r, &c, &p, &out);
	for (i = 0; rc == SS_OK && i < out.nheaders; i++)
		rc = ss_http_req_header(req, out.headers[i].name, out.headers[i].value);
	ss_sigv4_out_free(&out);
	return rc;
}

static enum ss_http_verdict aws_classify(const struct ss_http_resp *resp, void *ctx)
{
	struct ss_aws_error e;

	(void)ctx;
	if (resp->status >= 200 && resp->status < 300)
		return SS_HTTP_DEFAULT;
	ss_aws_parse_error(resp, &e);
	if (ss_aws_code_retryable(e.code))
		return SS_HTTP_RETRY;
	return SS_HTTP_DEFAULT;
}

static void aws_done(struct ss_http_resp *resp, void *ctx)
{
	struct aws_ctx *a = ctx;
	struct ss_aws_error e;

	ss_aws_parse_error(resp, &e);
	if (a->done != NULL)
		a->done(resp, &e, a->ctx);
	ctx_free(a);
}

/* Split url into the authority (Host header), the path and the query. */
static enum ss_rc split_url(const char *url, char **host, char **path, char **query)
{
	const char *p = strstr(url, "://"), *slash, *q;

	*host = *path = *query = NULL;
	if (p == NULL)
		return SS_ERR_INVALID;
	p += 3;
	slash = p + strcspn(p, "/?#");
	*host = ss_strndup(p, (size_t)(slash - p));
	if (*slash == '/') {
		q = strchr(slash, '?');
		*path = q ? ss_strndup(slash, (size_t)(q - slash)) : ss_strdup(slash);
		if (q != NULL)
			*query = ss_strdup(q + 1);
		if (q != NULL && *query == NULL)
			return SS_ERR_NOMEM;
	} else {
		*path = ss_strdup("/");
		if (*slash == '?' && (*query = ss_strdup(slash + 1)) == NULL)
			return SS_ERR_NOMEM;
	}
	return *host && *path ? SS_OK : SS_ERR_NOMEM;
}

enum ss_rc ss_aws_submit(struct ss_http *h, const struct ss_aws_call *call)
{
	struct ss_http_req *req = NULL;
	struct aws_ctx *a;
	char *host = NULL;
	size_t i;
	enum ss_rc rc;

	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return SS_ERR_NOMEM;
	a->service = call->service;
	a->done = call->done;
	a->ctx = call->ctx;
	a->sign = call->creds != NULL;
	a->region = ss_strdup(call->region ? call->region : "us-east-1");
	a->label = ss_strdup(call->label ? call->label : call->url);
	rc = a->region && a->label ? SS_OK : SS_ERR_NOMEM;
	if (rc == SS_OK && call->creds != NULL)
		rc = ss_aws_creds_copy(&a->creds, call->creds);
	if (rc == SS_OK)
		rc = split_url(call->url, &host, &a->path, &a->query);
	if (rc != SS_OK)
		goto fail;
	req = ss_http_req_new(call->method, call->url);
	if (req == NULL) {
		rc = SS_ERR_NOMEM;
		goto fail;
	}
	req->service = SS_TLS_AWS;
	req->label = a->label;
	req->idempotent = call->idempotent;
	req->secret_body = call->secret_body;
	req->secret_response = call->secret_response;
	req->max_response = call->max_response;
	req->prepare = aws_prepare;
	req->classify = aws_classify;
	req->done = aws_done;
	req->ctx = a;
	rc = ss_http_req_header(req, "Host", host);
	if (rc == SS_OK && call->content_type != NULL)
		rc = ss_http_req_header(req, "Content-Type", call->content_type);
	if (rc == SS_OK && call->target != NULL)
		rc = ss_http_req_header(req, "X-Amz-Target", call->target);
	for (i = 0; rc == SS_OK && call->extra_headers != NULL && call->extra_headers[i] != NULL;
	     i += 2)
		rc = ss_http_req_header(req, call->extra_headers[i], call->extra_headers[i + 1]);
	if (rc == SS_OK && call->body != NULL)
		rc = ss_http_req_body(req, call->body, call->body_len);
	if (rc != SS_OK)
		goto fail;
	free(host);
	/* On failure submit frees req but not a, and done is not called. */
	rc = ss_http_submit(h, req);
	if (rc != SS_OK)
		ctx_free(a);
	return rc;
fail:
	ss_http_req_free(req);
	ctx_free(a);
	free(host);
	return rc;
}

enum ss_rc ss_aws_describe_failure(struct ss_buf *err, const char *what,
				   const struct ss_http_resp *resp, const struct ss_aws_error *e)
{
	enum ss_rc rc;

	if (resp->rc != SS_OK)
		return ss_buf_addf(err, "%s: %s\n", what, resp->error);
	if (e->code[0] == '\0')
		return ss_buf_addf(err, "%s: HTTP %ld\n", what, resp->status);
	rc = ss_buf_addf(err, "%s: %s%s%s", what, e->code, e->message[0] ? ": " : "",
			 e->message);
	if (rc == SS_OK && (strcmp(e->code, "AccessDeniedException") == 0 ||
			    strcmp(e->code, "AccessDenied") == 0 ||
			    strcmp(e->code, "UnauthorizedOperation") == 0))
		rc = ss_buf_adds(err, " (the IAM policy of this identity must allow the action; "
				      "see the README's IAM policies)");
	else if (rc == SS_OK && (strcmp(e->code, "SignatureDoesNotMatch") == 0 ||
				 strcmp(e->code, "InvalidClientTokenId") == 0 ||
				 strcmp(e->code, "UnrecognizedClientException") == 0))
		rc = ss_buf_adds(err, " (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)");
	else if (rc == SS_OK && (strcmp(e->code, "ExpiredToken") == 0 ||
				 strcmp(e->code, "ExpiredTokenException") == 0))
		rc = ss_buf_adds(err, " (the session credentials have expired)");
	if (rc == SS_OK)
		rc = ss_buf_addc(err, '\n');
	return rc;
}
