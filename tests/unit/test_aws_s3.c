/* test_aws_s3.c - the S3 merge-store client on the fake transport: URLs
 * (path-style and virtual-hosted, key encoding), encryption headers,
 * signing, the not-found and error paths, retries and the async form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "backends/aws_s3.h"
#include "core/hash.h"
#include "net/http.h"

#define BUNDLE "{\"team/app/db\":{\"password\":\"hunter2-secret\"}}"

struct answer {
	long status;
	const char *body;
	const char *region_hdr;
};

struct server {
	const struct answer *answers;
	size_t n;
	size_t calls;
	char method[8];
	char url[512];
	char body[4096];
	char sse[64];
	char kms[128];
	char sha[80];
	char auth[512];
	char ctype[64];
};

static const char *hdr(const struct ss_http_req *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

static void copy_hdr(char *dst, size_t size, const struct ss_http_req *req, const char *name)
{
	const char *v = hdr(req, name);

	snprintf(dst, size, "%s", v ? v : "");
}

static void fake(const struct ss_http_req *req, struct ss_http_resp *resp, void *ctx)
{
	struct server *s = ctx;
	const struct answer *a = &s->answers[s->calls < s->n ? s->calls : s->n - 1];

	s->calls++;
	snprintf(s->method, sizeof(s->method), "%s", req->method);
	snprintf(s->url, sizeof(s->url), "%s", req->url);
	snprintf(s->body, sizeof(s->body), "%.*s", (int)req->body_len, req->body ? req->body : "");
	copy_hdr(s->sse, sizeof(s->sse), req, "x-amz-server-side-encryption");
	copy_hdr(s->kms, sizeof(s->kms), req, "x-amz-server-side-encryption-aws-kms-key-id");
	copy_hdr(s->sha, sizeof(s->sha), req, "x-amz-content-sha256");
	copy_hdr(s->auth, sizeof(s->auth), req, "Authorization");
	copy_hdr(s->ctype, sizeof(s->ctype), req, "Content-Type");
	resp->status = a->status;
	if (a->body != NULL)
		assert_int_equal(ss_buf_adds(&resp->body, a->body), SS_OK);
	/* S3 answers a stored object with its ETag. */
	if (strcmp(req->method, "PUT") == 0 && a->status == 200)
		assert_int_equal(ss_http_resp_add_header(resp, "ETag", 4, "\"0123abcd\"", 10), SS_OK);
	if (a->region_hdr != NULL)
		assert_int_equal(ss_http_resp_add_header(resp, "x-amz-bucket-region", 19,
							 a->region_hdr, strlen(a->region_hdr)),
				 SS_OK);
}

static struct ss_aws_creds creds(void)
{
	struct ss_aws_creds c;

	memset(&c, 0, sizeof(c));
	c.access_key_id = (char *)"AKIDS3";
	c.secret_access_key = (char *)"s3-secret";
	c.source = (char *)"role arn:aws:iam::1:role/x";
	return c;
}

struct fixture {
	struct server srv;
	struct ss_http *h;
	struct ss_s3 *s3;
	struct ss_buf err;
};

static void fx_start(struct fixture *f, const struct answer *answers, size_t n)
{
	struct ss_aws_creds c = creds();

	memset(f, 0, sizeof(*f));
	f->srv.answers = answers;
	f->srv.n = n;
	f->h = ss_http_new(4);
	assert_non_null(f->h);
	ss_http_set_fake(f->h, fake, &f->srv);
	f->s3 = ss_s3_new(f->h, "eu-west-1", &c);
	assert_non_null(f->s3);
	ss_buf_init(&f->err, 0);
}

static void fx_end(struct fixture *f)
{
	ss_s3_free(f->s3);
	ss_http_free(f->h);
	ss_buf_free(&f->err);
}

static int setup(void **state)
{
	(void)state;
	unsetenv("AWS_ENDPOINT_URL");
	setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000/", 1);
	setenv("SECRETSYNC_FAKE_TIME", "20240102T030405Z", 1);
	setenv("SECRETSYNC_HTTP_BACKOFF_MS", "1", 1);
	setenv("SECRETSYNC_HTTP_ATTEMPTS", "3", 1);
	return 0;
}

static void test_urls(void **state)
{
	static const struct {
		int custom;
		const char *bucket, *key, *want;
		enum ss_rc rc;
	} cases[] = {
	    {1, "my-merged", "bundles/staging.json",
	     "http://127.0.0.1:9000/my-merged/bundles/staging.json", SS_OK},
	    {1, "my-merged", NULL, "http://127.0.0.1:9000/my-merged", SS_OK},
	    {1, "b12", "a b/c+d/.././\xc3\xa9~_.-x//y",
	     "http://127.0.0.1:9000/b12/a%20b/c%2Bd/%2E%2E/%2E/%C3%A9~_.-x//y", SS_OK},
	    {0, "my-merged", "bundles/prod.json",
	     "https://my-merged.s3.eu-west-1.amazonaws.com/bundles/prod.json", SS_OK},
	    {0, "my-merged", NULL, "https://my-merged.s3.eu-west-1.amazonaws.com/", SS_OK},
	    {0, "with.dots", "k", "https://s3.eu-west-1.amazonaws.com/with.dots/k", SS_OK},
	    {1, "Upper", "k", NULL, SS_ERR_INVALID},
	    {1, "ab", "k", NULL, SS_ERR_INVALID},
	    {1, "evil/../x", "k", NULL, SS_ERR_INVALID},
	    {1, "-dash", "k", NULL, SS_ERR_INVALID},
	    {1, "good", "", NULL, SS_ERR_INVALID},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ss_aws_creds c = creds();
		struct ss_s3 *s3;
		struct ss_buf out;

		if (cases[i].custom)
			setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000/", 1);
		else
			unsetenv("AWS_ENDPOINT_URL_S3");
		s3 = ss_s3_new(NULL, "eu-west-1", &c);
		ss_buf_init(&out, 0);
		assert_int_equal(ss_s3_url(s3, cases[i].bucket, cases[i].key, &out), cases[i].rc);
		if (cases[i].want)
			assert_string_equal(out.data, cases[i].want);
		ss_buf_free(&out);
		ss_s3_free(s3);
	}
	setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000/", 1);
}

static void test_put_aes256(void **state)
{
	static const struct answer answers[] = {{200, "", NULL}};
	struct fixture f;
	struct ss_s3_put put = {"my-merged", "bundles/staging.json", BUNDLE, strlen(BUNDLE), NULL,
				NULL};
	char hex[SS_SHA256_HEX_LEN + 1];

	(void)state;
	fx_start(&f, answers, 1);
	assert_int_equal(ss_s3_put(f.s3, &put, &f.err), SS_OK);
	assert_string_equal(f.err.data, "");
	assert_string_equal(f.srv.method, "PUT");
	assert_string_equal(f.srv.url, "http://127.0.0.1:9000/my-merged/bundles/staging.json");
	assert_string_equal(f.srv.body, BUNDLE);
	assert_string_equal(f.srv.sse, "AES256");
	assert_string_equal(f.srv.kms, "");
	assert_string_equal(f.srv.ctype, "application/json");
	ss_hash_sha256_hex(BUNDLE, strlen(BUNDLE), hex);
	assert_string_equal(f.srv.sha, hex);
	assert_non_null(strstr(f.srv.auth, "Credential=AKIDS3/20240102/eu-west-1/s3/aws4_request"));
	assert_non_null(strstr(f.srv.auth, "x-amz-server-side-encryption"));
	fx_end(&f);
}

static void test_put_kms(void **state)
{
	static const struct answer answers[] = {{200, "", NULL}};
	struct fixture f;
	struct ss_s3_put put = {"my-merged",	"bundles/prod.json", BUNDLE,
				strlen(BUNDLE), "alias/secrets",     NULL};

	(void)state;
	fx_start(&f, answers, 1);
	assert_int_equal(ss_s3_put(f.s3, &put, &f.err), SS_OK);
	assert_string_equal(f.srv.sse, "aws:kms");
	assert_string_equal(f.srv.kms, "alias/secrets");
	assert_non_null(strstr(f.srv.auth, "x-amz-server-side-encryption-aws-kms-key-id"));
	fx_end(&f);
}

static void test_get(void **state)
{
	static const struct answer answers[] = {{200, BUNDLE, NULL}};
	struct fixture f;
	char *out = NULL;
	size_t len = 0;

	(void)state;
	fx_start(&f, answers, 1);
	assert_int_equal(ss_s3_get(f.s3, "my-merged", "bundles/staging.json", &out, &len, &f.err),
			 SS_OK);
	assert_string_equal(f.srv.method, "GET");
	assert_string_equal(out, BUNDLE);
	assert_int_equal(len, strlen(BUNDLE));
	ss_free_secret(out);
	fx_end(&f);
}

struct err_case {
	const char *op; /* put, get, head */
	long status;
	const char *body;
	const char *region_hdr;
	enum ss_rc rc;
	const char *must[3];
};

#define S3ERR(code, msg)                                                                           \
	"<?xml version=\"1.0\"?><Error><Code>" code "</Code><Message>" msg                         \
	"</Message><RequestId>1</RequestId></Error>"

static void test_errors(void **state)
{
	static const struct err_case cases[] = {
	    {"get",
	     404,
	     S3ERR("NoSuchKey", "The specified key does not exist."),
	     NULL,
	     SS_ERR_NOTFOUND,
	     {NULL, NULL, NULL}},
	    {"get",
	     404,
	     S3ERR("NoSuchBucket", "The specified bucket does not exist"),
	     NULL,
	     SS_ERR_HTTP,
	     {"s3: GetObject s3://my-merged/k.json: NoSuchBucket",
	      "no bucket my-merged in eu-west-1", NULL}},
	    {"get",
	     403,
	     S3ERR("AccessDenied", "Access Denied"),
	     NULL,
	     SS_ERR_AUTH,
	     {"s3: GetObject s3://my-merged/k.json: AccessDenied: Access Denied",
	      "needs s3:GetObject on arn:aws:s3:::my-merged/k.json", "kms:Decrypt"}},
	    {"put",
	     403,
	     S3ERR("AccessDenied", "Access Denied"),
	     NULL,
	     SS_ERR_AUTH,
	     {"s3: PutObject s3://my-merged/k.json: AccessDenied",
	      "the identity of role arn:aws:iam::1:role/x needs s3:PutObject on "
	      "arn:aws:s3:::my-merged/k.json and kms:GenerateDataKey on the key alias/k",
	      "server-side encryption"}},
	    {"put",
	     400,
	     S3ERR("KMS.NotFoundException", "Invalid keyId alias/k"),
	     NULL,
	     SS_ERR_AUTH,
	     {"KMS.NotFoundException", "check the KMS key alias/k", NULL}},
	    {"put",
	     400,
	     S3ERR("InvalidAccessKeyId", "nope"),
	     NULL,
	     SS_ERR_AUTH,
	     {"InvalidAccessKeyId", "not valid or have expired", NULL}},
	    {"head",
	     404,
	     NULL,
	     NULL,
	     SS_ERR_NOTFOUND,
	     {"s3: HeadBucket s3://my-merged: HTTP 404 (no such bucket)", NULL, NULL}},
	    {"head",
	     403,
	     NULL,
	     NULL,
	     SS_ERR_AUTH,
	     {"HTTP 403 (access denied)", "needs s3:ListBucket on arn:aws:s3:::my-merged", NULL}},
	    {"head",
	     301,
	     NULL,
	     "us-west-2",
	     SS_ERR_HTTP,
	     {"the bucket my-merged is in us-west-2, not eu-west-1", NULL, NULL}},
	    {"get",
	     500,
	     S3ERR("InternalError", "try again"),
	     NULL,
	     SS_ERR_HTTP,
	     {"InternalError", "after 3 attempts", NULL}},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct answer a = {cases[i].status, cases[i].body, cases[i].region_hdr};
		struct ss_s3_put put = {"my-merged", "k.json", "{}", 2, "alias/k", NULL};
		struct fixture f;
		char *out = NULL;
		size_t len, k;
		enum ss_rc rc;

		fx_start(&f, &a, 1);
		if (strcmp(cases[i].op, "put") == 0)
			rc = ss_s3_put(f.s3, &put, &f.err);
		else if (strcmp(cases[i].op, "get") == 0)
			rc = ss_s3_get(f.s3, "my-merged", "k.json", &out, &len, &f.err);
		else
			rc = ss_s3_head_bucket(f.s3, "my-merged", &f.err);
		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d, want %d: %s", i, rc, cases[i].rc, f.err.data);
		assert_null(out);
		if (cases[i].must[0] == NULL)
			assert_string_equal(f.err.data, "");
		for (k = 0; k < 3 && cases[i].must[k] != NULL; k++)
			if (strstr(f.err.data, cases[i].must[k]) == NULL)
				fail_msg("case %zu: '%s' not in:\n%s", i, cases[i].must[k],
					 f.err.data);
		fx_end(&f);
	}
}

static void test_throttled_then_ok(void **state)
{
	static const struct answer answers[] = {
	    {503, S3ERR("SlowDown", "Please reduce your request rate."), NULL},
	    {400, S3ERR("RequestTimeout", "idle"), NULL},
	    {200, BUNDLE, NULL}};
	struct fixture f;
	char *out = NULL;
	size_t len = 0;

	(void)state;
	fx_start(&f, answers, 3);
	assert_int_equal(ss_s3_get(f.s3, "my-merged", "k.json", &out, &len, &f.err), SS_OK);
	assert_int_equal(f.srv.calls, 3);
	assert_string_equal(out, BUNDLE);
	ss_free_secret(out);
	fx_end(&f);
}

static void test_invalid_names(void **state)
{
	static const struct answer answers[] = {{200, "", NULL}};
	struct fixture f;
	struct ss_s3_put put = {"Bad_Bucket", "k", "{}", 2, NULL, NULL};
	char *out;
	size_t len;

	(void)state;
	fx_start(&f, answers, 1);
	assert_int_equal(ss_s3_put(f.s3, &put, &f.err), SS_ERR_INVALID);
	assert_int_equal(ss_s3_get(f.s3, "good-bucket", "", &out, &len, &f.err), SS_ERR_INVALID);
	assert_int_equal(ss_s3_head_bucket(f.s3, "x", &f.err), SS_ERR_INVALID);
	put.bucket = "good-bucket";
	put.kms_key_id = "";
	assert_int_equal(ss_s3_put(f.s3, &put, &f.err), SS_ERR_INVALID);
	assert_int_equal(f.srv.calls, 0);
	assert_non_null(strstr(f.err.data, "s3: PutObject s3://Bad_Bucket/k: not a valid bucket"));
	fx_end(&f);
}

struct tally {
	int ok, notfound, other;
	size_t bytes;
};

static void on_done(enum ss_rc rc, struct ss_buf *body, const char *error, void *ctx)
{
	struct tally *t = ctx;

	(void)error;
	if (rc == SS_OK) {
		t->ok++;
		t->bytes += body ? body->len : 0;
	} else if (rc == SS_ERR_NOTFOUND) {
		t->notfound++;
	} else {
		t->other++;
	}
}

static void test_async(void **state)
{
	static const struct answer answers[] = {{200, BUNDLE, NULL}};
	struct fixture f;
	struct tally t = {0, 0, 0, 0};
	struct ss_s3_put put = {"my-merged", "a.json", "{}", 2, NULL, NULL};

	(void)state;
	fx_start(&f, answers, 1);
	assert_int_equal(ss_s3_get_submit(f.s3, "my-merged", "a.json", on_done, &t), SS_OK);
	assert_int_equal(ss_s3_get_submit(f.s3, "my-merged", "b.json", on_done, &t), SS_OK);
	assert_int_equal(ss_s3_head_bucket_submit(f.s3, "my-merged", on_done, &t), SS_OK);
	assert_int_equal(ss_s3_put_submit(f.s3, &put, on_done, &t), SS_OK);
	assert_int_equal(ss_s3_get_submit(f.s3, "BAD", "x", on_done, &t), SS_ERR_INVALID);
	assert_int_equal(ss_http_run(f.h), SS_OK);
	assert_int_equal(t.ok, 4);
	assert_int_equal(t.bytes, 2 * strlen(BUNDLE));
	assert_int_equal(f.srv.calls, 4);
	fx_end(&f);
}

/* A 2xx PutObject answer without an ETag is not taken as stored. */
static void test_put_without_etag(void **state)
{
	static const struct answer answers[] = {{204, "", NULL}};
	struct server srv;
	struct ss_buf err;
	struct ss_s3_put put;
	struct ss_aws_creds c = creds();
	struct ss_http *h = ss_http_new(2);
	struct ss_s3 *s3;

	(void)state;
	memset(&srv, 0, sizeof(srv));
	srv.answers = answers;
	srv.n = 1;
	ss_http_set_fake(h, fake, &srv);
	s3 = ss_s3_new(h, "us-east-1", &c);
	ss_buf_init(&err, 0);
	memset(&put, 0, sizeof(put));
	put.bucket = "my-merged";
	put.key = "k.json";
	put.body = "{}";
	put.len = 2;
	assert_int_not_equal(ss_s3_put(s3, &put, &err), SS_OK);
	assert_non_null(strstr(err.data, "without an ETag"));
	ss_buf_free(&err);
	ss_s3_free(s3);
	ss_http_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_without_etag),
	    cmocka_unit_test(test_urls),	  cmocka_unit_test(test_put_aes256),
	    cmocka_unit_test(test_put_kms),	  cmocka_unit_test(test_get),
	    cmocka_unit_test(test_errors),	  cmocka_unit_test(test_throttled_then_ok),
	    cmocka_unit_test(test_invalid_names), cmocka_unit_test(test_async),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
