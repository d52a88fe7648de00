/* test_aws_sts.c - the STS client on the fake transport: request form,
 * signing, answer parsing and masking, and every error path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "backends/aws_sts.h"
#include "core/mask.h"
#include "net/http.h"

#define ROLE "arn:aws:iam::123456789012:role/gh-deploy"

/* A JWT whose payload is
 * {"sub":"repo:acme/infra:ref:refs/heads/main","aud":"sts.amazonaws.com",
 *  "repository":"acme/infra","ref":"refs/heads/main","iss":"https://x"}
 * (header and signature are not checked by anything here). */
#define JWT                                                                                        \
	"eyJhbGciOiJSUzI1NiJ9."                                                                    \
	"eyJzdWIiOiJyZXBvOmFjbWUvaW5mcmE6cmVmOnJlZnMvaGVhZHMvbWFpbiIsImF1ZCI6InN0cy5hbWF6b25h"     \
	"d3MuY29tIiwicmVwb3NpdG9yeSI6ImFjbWUvaW5mcmEiLCJyZWYiOiJyZWZzL2hlYWRzL21haW4iLCJpc3Mi"     \
	"OiJodHRwczovL3gifQ.c2lnbmF0dXJlLXNlY3JldC1wYXJ0"

#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
#define TOKEN  "FwoGZXIvYXdzEXAMPLE//////////wEaDSESSIONTOKEN+abc="

static const char ok_session[] =
    "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
    "<AssumeRoleResult><AssumedRoleUser>"
    "<Arn>arn:aws:sts::123456789012:assumed-role/gh-deploy/s1</Arn>"
    "<AssumedRoleId>AROA:s1</AssumedRoleId></AssumedRoleUser>"
    "<Credentials><AccessKeyId>ASIATESTKEY1</AccessKeyId>"
    "<SecretAccessKey>" SECRET "</SecretAccessKey>"
    "<SessionToken>" TOKEN "</SessionToken>"
    "<Expiration>2030-01-02T03:04:05.123Z</Expiration></Credentials>"
    "</AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>"
    "</AssumeRoleResponse>";

static const char ok_identity[] =
    "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
    "<GetCallerIdentityResult><Arn>arn:aws:sts::123456789012:assumed-role/gh-deploy/s1</Arn>"
    "<UserId>AROA:s1</UserId><Account>123456789012</Account></GetCallerIdentityResult>"
    "</GetCallerIdentityResponse>";

static const char *error_xml(const char *code, const char *msg, char *buf, size_t size)
{
	snprintf(buf, size,
		 "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>"
		 "<Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>"
		 "<RequestId>x</RequestId></ErrorResponse>",
		 code, msg);
	return buf;
}

/* A scripted server. */
struct answer {
	long status;
	const char *body;
	int net_fail;
};

struct server {
	const struct answer *answers;
	size_t n;
	size_t calls;
	char method[8];
	char url[256];
	char body[4096];
	char auth[512];
	char token_hdr[256];
	char ctype[128];
	int has_date;
};

static const char *hdr(const struct ss_http_req *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

static void fake(const struct ss_http_req *req, struct ss_http_resp *resp, void *ctx)
{
	struct server *s = ctx;
	const struct answer *a = &s->answers[s->calls < s->n ? s->calls : s->n - 1];
	const char *v;

	s->calls++;
	snprintf(s->method, sizeof(s->method), "%s", req->method);
	snprintf(s->url, sizeof(s->url), "%s", req->url);
	snprintf(s->body, sizeof(s->body), "%.*s", (int)req->body_len, req->body ? req->body : "");
	v = hdr(req, "Authorization");
	snprintf(s->auth, sizeof(s->auth), "%s", v ? v : "");
	v = hdr(req, "X-Amz-Security-Token");
	snprintf(s->token_hdr, sizeof(s->token_hdr), "%s", v ? v : "");
	v = hdr(req, "Content-Type");
	snprintf(s->ctype, sizeof(s->ctype), "%s", v ? v : "");
	s->has_date = hdr(req, "X-Amz-Date") != NULL;
	if (a->net_fail) {
		resp->rc = SS_ERR_NET;
		resp->fail = SS_HTTP_FAIL_CONNECT;
		return;
	}
	resp->status = a->status;
	if (a->body != NULL)
		assert_int_equal(ss_buf_adds(&resp->body, a->body), SS_OK);
}

static struct ss_http *new_http(struct server *s)
{
	struct ss_http *h = ss_http_new(4);

	assert_non_null(h);
	ss_http_set_fake(h, fake, s);
	return h;
}

static int setup(void **state)
{
	(void)state;
	setenv("AWS_ENDPOINT_URL_STS", "https://sts.test.example", 1);
	setenv("SECRETSYNC_FAKE_TIME", "20240102T030405Z", 1);
	setenv("SECRETSYNC_HTTP_BACKOFF_MS", "1", 1);
	setenv("SECRETSYNC_HTTP_ATTEMPTS", "3", 1);
	return 0;
}

static struct ss_aws_creds source_creds(void)
{
	struct ss_aws_creds c;

	memset(&c, 0, sizeof(c));
	c.access_key_id = (char *)"AKIDSOURCE";
	c.secret_access_key = (char *)"source-secret-key";
	c.session_token = (char *)"source-session-token";
	c.source = (char *)"environment (AWS_ACCESS_KEY_ID)";
	return c;
}

static void test_form(void **state)
{
	struct ss_sts_assume a;
	struct ss_buf b;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.role_arn = ROLE;
	a.session_name = "secretsync-42";
	ss_buf_init(&b, 0);
	assert_int_equal(ss_sts_form(&a, &b), SS_OK);
	assert_string_equal(b.data,
			    "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%"
			    "3A123456789012%3Arole%2Fgh-deploy&RoleSessionName=secretsync-42");
	ss_buf_reset(&b);
	a.duration_seconds = 900;
	a.web_identity_token = "a.b+c/=";
	assert_int_equal(ss_sts_form(&a, &b), SS_OK);
	assert_non_null(strstr(b.data, "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&"));
	assert_non_null(strstr(b.data, "&DurationSeconds=900&WebIdentityToken=a.b%2Bc%2F%3D"));
	ss_buf_free(&b);
}

static void test_parse_time(void **state)
{
	static const struct {
		const char *s;
		enum ss_rc rc;
		long long t;
	} cases[] = {
	    {"1970-01-01T00:00:00Z", SS_OK, 0},
	    {"2024-01-02T03:04:05Z", SS_OK, 1704164645},
	    {"2024-01-02T03:04:05.999Z", SS_OK, 1704164645},
	    {"2024-02-29T00:00:00Z", SS_OK, 1709164800},
	    {"2024-01-02T03:04:05+00:00", SS_OK, 1704164645},
	    {"2023-02-29T00:00:00Z", SS_ERR_INVALID, 0},
	    {"2024-13-01T00:00:00Z", SS_ERR_INVALID, 0},
	    {"2024-01-02 03:04:05Z", SS_ERR_INVALID, 0},
	    {"2024-01-02T03:04:05", SS_ERR_INVALID, 0},
	    {"2024-01-02T03:04:05+01:00", SS_ERR_INVALID, 0},
	    {"2024-01-02T03:04:05.Z", SS_ERR_INVALID, 0},
	    {"1969-12-31T23:59:59Z", SS_ERR_INVALID, 0},
	    {"", SS_ERR_INVALID, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		time_t t = 0;
		enum ss_rc rc = ss_sts_parse_time(cases[i].s, &t);

		if (rc != cases[i].rc)
			fail_msg("'%s': rc %d", cases[i].s, rc);
		if (rc == SS_OK && (long long)t != cases[i].t)
			fail_msg("'%s': %lld, want %lld", cases[i].s, (long long)t, cases[i].t);
	}
}

static void test_parse_session(void **state)
{
	struct ss_mask *m = ss_mask_new();
	struct ss_sts_session s;
	char bad[2048];

	(void)state;
	assert_non_null(m);
	assert_int_equal(ss_sts_parse_session(ok_session, strlen(ok_session), m, &s), SS_OK);
	assert_string_equal(s.creds.access_key_id, "ASIATESTKEY1");
	assert_string_equal(s.creds.secret_access_key, SECRET);
	assert_string_equal(s.creds.session_token, TOKEN);
	assert_string_equal(s.expiration, "2030-01-02T03:04:05.123Z");
	assert_string_equal(s.assumed_role_arn,
			    "arn:aws:sts::123456789012:assumed-role/gh-deploy/s1");
	assert_int_equal((long long)s.creds.expiration, 1893553445LL);
	/* Registered at once. */
	assert_true(ss_mask_contains(m, SECRET, strlen(SECRET)));
	assert_true(ss_mask_contains(m, TOKEN, strlen(TOKEN)));
	assert_true(ss_mask_contains(m, "ASIATESTKEY1", 12));
	ss_sts_session_clear(&s);
	assert_null(s.creds.secret_access_key);

	/* No session token / an empty secret / a bad time / not XML. */
	snprintf(bad, sizeof(bad),
		 "<R><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>"
		 "S</SecretAccessKey></Credentials></R>");
	assert_int_equal(ss_sts_parse_session(bad, strlen(bad), m, &s), SS_ERR_PARSE);
	assert_null(s.creds.access_key_id);
	snprintf(bad, sizeof(bad),
		 "<R><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey/>"
		 "<SessionToken>T</SessionToken></Credentials></R>");
	assert_int_equal(ss_sts_parse_session(bad, strlen(bad), m, &s), SS_ERR_PARSE);
	snprintf(bad, sizeof(bad),
		 "<R><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>"
		 "S</SecretAccessKey><SessionToken>T</SessionToken><Expiration>"
		 "tomorrow</Expiration></Credentials></R>");
	assert_int_equal(ss_sts_parse_session(bad, strlen(bad), m, &s), SS_ERR_PARSE);
	assert_int_equal(ss_sts_parse_session(ok_session, strlen(ok_session) - 10, m, &s),
			 SS_ERR_PARSE);
	assert_int_equal(ss_sts_parse_session("{\"json\":1}", 10, m, &s), SS_ERR_PARSE);
	ss_mask_free(m);
}

static void test_parse_identity(void **state)
{
	struct ss_sts_identity id;
	static const char bad_account[] =
	    "<R><GetCallerIdentityResult><Arn>arn:aws:iam::1:user/x</Arn>"
	    "<Account>12345</Account></GetCallerIdentityResult></R>";
	static const char no_arn[] = "<R><GetCallerIdentityResult><Account>123456789012</Account>"
				     "</GetCallerIdentityResult></R>";

	(void)state;
	assert_int_equal(ss_sts_parse_identity(ok_identity, strlen(ok_identity), &id), SS_OK);
	assert_string_equal(id.account, "123456789012");
	assert_string_equal(id.arn, "arn:aws:sts::123456789012:assumed-role/gh-deploy/s1");
	assert_string_equal(id.user_id, "AROA:s1");
	ss_sts_identity_clear(&id);
	assert_int_equal(ss_sts_parse_identity(bad_account, strlen(bad_account), &id),
			 SS_ERR_PARSE);
	assert_int_equal(ss_sts_parse_identity(no_arn, strlen(no_arn), &id), SS_ERR_PARSE);
	assert_null(id.account);
}

static void test_assume_role_signed(void **state)
{
	static const struct answer answers[] = {{200, ok_session, 0}};
	struct server srv = {answers, 1, 0, "", "", "", "", "", "", 0};
	struct ss_http *h = new_http(&srv);
	struct ss_aws_creds src = source_creds();
	struct ss_sts_assume a;
	struct ss_sts_session s;
	struct ss_buf err;

	(void)state;
	ss_buf_init(&err, 0);
	memset(&a, 0, sizeof(a));
	a.region = "eu-west-1";
	a.role_arn = ROLE;
	a.session_name = "secretsync-7";
	a.duration_seconds = 3600;
	a.source = &src;
	assert_int_equal(ss_sts_assume(h, &a, &s, &err), SS_OK);
	assert_string_equal(err.data, "");
	assert_int_equal(srv.calls, 1);
	assert_string_equal(srv.method, "POST");
	assert_string_equal(srv.url, "https://sts.test.example/");
	assert_string_equal(srv.ctype, "application/x-www-form-urlencoded; charset=utf-8");
	assert_non_null(strstr(srv.body, "Action=AssumeRole&Version=2011-06-15&RoleArn="));
	assert_non_null(strstr(srv.body, "&DurationSeconds=3600"));
	assert_non_null(strstr(srv.auth,
			       "AWS4-HMAC-SHA256 Credential=AKIDSOURCE/20240102/eu-west-1/"
			       "sts/aws4_request"));
	assert_string_equal(srv.token_hdr, "source-session-token");
	assert_true(srv.has_date);
	assert_string_equal(s.creds.access_key_id, "ASIATESTKEY1");
	assert_non_null(strstr(s.creds.source, ROLE));
	assert_true(ss_mask_contains(ss_mask_global(), SECRET, strlen(SECRET)));
	ss_sts_session_clear(&s);
	ss_buf_free(&err);
	ss_http_free(h);
}

static void test_web_identity_unsigned(void **state)
{
	static const struct answer answers[] = {{200, ok_session, 0}};
	struct server srv = {answers, 1, 0, "", "", "", "", "", "", 0};
	struct ss_http *h = new_http(&srv);
	struct ss_sts_assume a;
	struct ss_sts_session s;
	struct ss_buf err;

	(void)state;
	ss_buf_init(&err, 0);
	memset(&a, 0, sizeof(a));
	a.role_arn = ROLE;
	a.session_name = "secretsync-7";
	a.web_identity_token = JWT;
	a.token_origin = "GitHub OIDC";
	assert_int_equal(ss_sts_assume(h, &a, &s, &err), SS_OK);
	assert_string_equal(srv.auth, "");
	assert_false(srv.has_date);
	assert_non_null(strstr(srv.body, "Action=AssumeRoleWithWebIdentity"));
	assert_non_null(strstr(srv.body, "&WebIdentityToken=eyJhbGciOiJSUzI1NiJ9."));
	assert_null(strstr(srv.body, "DurationSeconds"));
	ss_sts_session_clear(&s);
	ss_buf_free(&err);
	ss_http_free(h);
}

/* Each error answer: the rc, and what the message must (and must not)
 * say. */
struct err_case {
	int web;
	long status;
	const char *code;
	const char *message;
	enum ss_rc rc;
	const char *must[4];
};

static void test_errors(void **state)
{
	static const struct err_case cases[] = {
	    {0,
	     403,
	     "AccessDenied",
	     "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: "
	     "sts:AssumeRole on resource: " ROLE,
	     SS_ERR_AUTH,
	     {"sts: AssumeRole into " ROLE " (as environment (AWS_ACCESS_KEY_ID)): AccessDenied",
	      "needs an IAM policy allowing sts:AssumeRole on " ROLE, "trust policy of " ROLE,
	      NULL}},
	    {1,
	     403,
	     "AccessDenied",
	     "Not authorized to perform sts:AssumeRoleWithWebIdentity",
	     SS_ERR_AUTH,
	     {"sts: AssumeRoleWithWebIdentity into " ROLE " (token from GitHub OIDC): AccessDenied",
	      "the token's claims: sub=repo:acme/infra:ref:refs/heads/main, aud=sts.amazonaws.com, "
	      "repository=acme/infra, ref=refs/heads/main (role " ROLE ")",
	      "trust policy of " ROLE " must allow sts:AssumeRoleWithWebIdentity", NULL}},
	    {1,
	     400,
	     "InvalidIdentityToken",
	     "Incorrect token audience",
	     SS_ERR_AUTH,
	     {"InvalidIdentityToken: Incorrect token audience",
	      "sub=repo:acme/infra:ref:refs/heads/main", "IAM OIDC identity provider", NULL}},
	    {1,
	     400,
	     "ExpiredTokenException",
	     "Token expired: current date/time 9",
	     SS_ERR_AUTH,
	     {"ExpiredTokenException", "aud=sts.amazonaws.com", "has expired", NULL}},
	    {0,
	     400,
	     "ExpiredToken",
	     "The security token included in the request is expired",
	     SS_ERR_AUTH,
	     {"ExpiredToken: The security token", "environment (AWS_ACCESS_KEY_ID) have expired",
	      NULL, NULL}},
	    {0,
	     403,
	     "InvalidClientTokenId",
	     "The security token is invalid.",
	     SS_ERR_AUTH,
	     {"InvalidClientTokenId", "AWS_SECRET_ACCESS_KEY", NULL, NULL}},
	    {0,
	     400,
	     "ValidationError",
	     "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
	     SS_ERR_HTTP,
	     {"ValidationError", "role-duration-seconds", NULL, NULL}},
	    {0,
	     403,
	     "RegionDisabledException",
	     "STS is not activated",
	     SS_ERR_HTTP,
	     {"RegionDisabledException", "not activated in us-east-1", NULL, NULL}},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char xml[1024];
		struct answer ans = {cases[i].status, NULL, 0};
		struct server srv;
		struct ss_http *h;
		struct ss_aws_creds src = source_creds();
		struct ss_sts_assume a;
		struct ss_sts_session s;
		struct ss_buf err;
		size_t k;

		ans.body = error_xml(cases[i].code, cases[i].message, xml, sizeof(xml));
		memset(&srv, 0, sizeof(srv));
		srv.answers = &ans;
		srv.n = 1;
		h = new_http(&srv);
		ss_buf_init(&err, 0);
		memset(&a, 0, sizeof(a));
		a.region = "us-east-1";
		a.role_arn = ROLE;
		a.session_name = "s";
		if (cases[i].web) {
			a.web_identity_token = JWT;
			a.token_origin = "GitHub OIDC";
		} else {
			a.source = &src;
		}
		if (ss_sts_assume(h, &a, &s, &err) != cases[i].rc)
			fail_msg("case %zu (%s): wrong rc; message: %s", i, cases[i].code,
				 err.data);
		assert_int_equal(srv.calls, 1); /* none of these is retried */
		assert_null(s.creds.access_key_id);
		for (k = 0; k < 4 && cases[i].must[k] != NULL; k++)
			if (strstr(err.data, cases[i].must[k]) == NULL)
				fail_msg("case %zu: '%s' not in:\n%s", i, cases[i].must[k],
					 err.data);
		/* The token itself is never part of a message. */
		assert_null(strstr(err.data, "eyJ"));
		assert_int_equal(err.data[err.len - 1], '\n');
		ss_buf_free(&err);
		ss_http_free(h);
	}
}

static void test_throttling_retried(void **state)
{
	char xml[512];
	struct answer answers[3];
	struct server srv;
	struct ss_http *h;
	struct ss_aws_creds src = source_creds();
	struct ss_sts_assume a;
	struct ss_sts_session s;
	struct ss_buf err;

	(void)state;
	answers[0] =
	    (struct answer){400, error_xml("Throttling", "Rate exceeded", xml, sizeof(xml)), 0};
	answers[1] = (struct answer){0, NULL, 1};
	answers[2] = (struct answer){200, ok_session, 0};
	memset(&srv, 0, sizeof(srv));
	srv.answers = answers;
	srv.n = 3;
	h = new_http(&srv);
	ss_buf_init(&err, 0);
	memset(&a, 0, sizeof(a));
	a.role_arn = ROLE;
	a.session_name = "s";
	a.source = &src;
	assert_int_equal(ss_sts_assume(h, &a, &s, &err), SS_OK);
	assert_int_equal(srv.calls, 3);
	assert_string_equal(s.creds.access_key_id, "ASIATESTKEY1");
	ss_sts_session_clear(&s);

	/* Throttled on every attempt: the message says so. */
	answers[1] = answers[0];
	answers[2] = answers[0];
	srv.calls = 0;
	assert_int_equal(ss_sts_assume(h, &a, &s, &err), SS_ERR_HTTP);
	assert_int_equal(srv.calls, 3);
	assert_non_null(strstr(err.data, "Throttling: Rate exceeded"));
	assert_non_null(strstr(err.data, "after 3 attempts"));
	ss_buf_free(&err);
	ss_http_free(h);
}

static void test_malformed_and_transport(void **state)
{
	static const char half[] =
	    "<AssumeRoleResponse><AssumeRoleResult><Credentials>"
	    "<AccessKeyId>ASIAHALF</AccessKeyId><SecretAccessKey>half-secret";
	struct answer answers[1] = {{200, half, 0}};
	struct server srv;
	struct ss_http *h;
	struct ss_aws_creds src = source_creds();
	struct ss_sts_assume a;
	struct ss_sts_session s;
	struct ss_sts_identity id;
	struct ss_buf err;

	(void)state;
	memset(&srv, 0, sizeof(srv));
	srv.answers = answers;
	srv.n = 1;
	h = new_http(&srv);
	ss_buf_init(&err, 0);
	memset(&a, 0, sizeof(a));
	a.role_arn = ROLE;
	a.session_name = "s";
	a.source = &src;
	assert_int_equal(ss_sts_assume(h, &a, &s, &err), SS_ERR_PARSE);
	assert_non_null(strstr(err.data, "is not the XML STS sends: refused"));
	assert_null(strstr(err.data, "half-secret"));
	assert_null(s.creds.secret_access_key);

	answers[0] = (struct answer){200, "<html>hello</html>", 0};
	ss_buf_reset(&err);
	assert_int_equal(ss_sts_get_caller_identity(h, "us-east-1", &src, &id, &err), SS_ERR_PARSE);
	assert_non_null(strstr(err.data, "sts: GetCallerIdentity (credentials from environment"));

	answers[0] = (struct answer){0, NULL, 1};
	ss_buf_reset(&err);
	srv.calls = 0;
	assert_int_equal(ss_sts_assume(h, &a, &s, &err), SS_ERR_NET);
	assert_int_equal(srv.calls, 3);
	assert_non_null(strstr(err.data, "sts: AssumeRole into " ROLE));
	assert_non_null(strstr(err.data, "(after 3 attempts)"));
	ss_buf_free(&err);
	ss_http_free(h);
}

static void test_caller_identity(void **state)
{
	char xml[512];
	struct answer answers[1] = {{200, ok_identity, 0}};
	struct server srv;
	struct ss_http *h;
	struct ss_aws_creds src = source_creds();
	struct ss_sts_identity id;
	struct ss_buf err;

	(void)state;
	memset(&srv, 0, sizeof(srv));
	srv.answers = answers;
	srv.n = 1;
	h = new_http(&srv);
	ss_buf_init(&err, 0);
	assert_int_equal(ss_sts_get_caller_identity(h, "us-west-2", &src, &id, &err), SS_OK);
	assert_string_equal(srv.body, "Action=GetCallerIdentity&Version=2011-06-15");
	assert_non_null(strstr(srv.auth, "/us-west-2/sts/aws4_request"));
	assert_string_equal(id.account, "123456789012");
	ss_sts_identity_clear(&id);

	answers[0] =
	    (struct answer){403, error_xml("InvalidClientTokenId", "bad key", xml, sizeof(xml)), 0};
	assert_int_equal(ss_sts_get_caller_identity(h, "us-west-2", &src, &id, &err), SS_ERR_AUTH);
	assert_non_null(strstr(err.data, "GetCallerIdentity (credentials from environment "
					 "(AWS_ACCESS_KEY_ID)): InvalidClientTokenId: bad key"));
	assert_null(id.account);
	ss_buf_free(&err);
	ss_http_free(h);
}

static void test_invalid_requests(void **state)
{
	struct server srv;
	struct ss_http *h;
	struct ss_sts_assume a;
	struct ss_sts_session s;
	struct ss_buf err;

	(void)state;
	memset(&srv, 0, sizeof(srv));
	h = new_http(&srv);
	ss_buf_init(&err, 0);
	memset(&a, 0, sizeof(a));
	a.session_name = "s";
	a.web_identity_token = JWT;
	assert_int_equal(ss_sts_assume(h, &a, &s, &err), SS_ERR_INVALID); /* no role */
	a.role_arn = ROLE;
	a.duration_seconds = 899;
	assert_int_equal(ss_sts_assume(h, &a, &s, &err), SS_ERR_INVALID);
	a.duration_seconds = 43201;
	assert_int_equal(ss_sts_assume(h, &a, &s, &err), SS_ERR_INVALID);
	a.duration_seconds = 0;
	a.web_identity_token = NULL; /* and no source */
	assert_int_equal(ss_sts_assume(h, &a, &s, &err), SS_ERR_INVALID);
	assert_int_equal(srv.calls, 0);
	assert_non_null(strstr(err.data, "from 900 to 43200"));
	assert_non_null(strstr(err.data, "no source credentials"));
	ss_buf_free(&err);
	ss_http_free(h);
}

/* Async: several calls in one loop, each completion exactly once. */
struct count {
	int ok, failed;
};

static void on_session(enum ss_rc rc, struct ss_sts_session *s, const char *error, void *ctx)
{
	struct count *c = ctx;

	if (rc == SS_OK && s->creds.access_key_id != NULL && error[0] == '\0')
		c->ok++;
	else
		c->failed++;
}

static void test_async(void **state)
{
	static const struct answer answers[] = {{200, ok_session, 0}};
	struct server srv = {answers, 1, 0, "", "", "", "", "", "", 0};
	struct ss_http *h = new_http(&srv);
	struct ss_aws_creds src = source_creds();
	struct ss_sts_assume a;
	struct count c = {0, 0};
	int i;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.role_arn = ROLE;
	a.session_name = "s";
	a.source = &src;
	for (i = 0; i < 5; i++)
		assert_int_equal(ss_sts_assume_submit(h, &a, on_session, &c, NULL), SS_OK);
	assert_int_equal(ss_http_run(h), SS_OK);
	assert_int_equal(c.ok, 5);
	assert_int_equal(c.failed, 0);
	ss_http_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_form),
	    cmocka_unit_test(test_parse_time),
	    cmocka_unit_test(test_parse_session),
	    cmocka_unit_test(test_parse_identity),
	    cmocka_unit_test(test_assume_role_signed),
	    cmocka_unit_test(test_web_identity_unsigned),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_throttling_retried),
	    cmocka_unit_test(test_malformed_and_transport),
	    cmocka_unit_test(test_caller_identity),
	    cmocka_unit_test(test_invalid_requests),
	    cmocka_unit_test(test_async),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
