/* test_aws_creds.c - the credential chain on the fake transport: the
 * order of SPEC §7, OIDC and web identity files, AssumeRole into the
 * given role and into per-target roles (cached), session names,
 * durations and role patterns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "backends/aws_creds.h"
#include "core/mask.h"
#include "net/http.h"

#define ROLE	 "arn:aws:iam::123456789012:role/gh-deploy"
#define TARGET_A "arn:aws:iam::111111111111:role/secretsync"
#define TARGET_B "arn:aws:iam::222222222222:role/secretsync"
#define OIDC_URL "https://token.actions.example/_apis/oidc/token?api-version=2.0"
/* payload {"sub":"repo:acme/infra:ref:refs/heads/main","aud":"sts.amazonaws.com"} */
#define JWT                                                                                        \
	"eyJhbGciOiJSUzI1NiJ9."                                                                    \
	"eyJzdWIiOiJyZXBvOmFjbWUvaW5mcmE6cmVmOnJlZnMvaGVhZHMvbWFpbiIsImF1ZCI6InN0cy5hbWF6b25h"     \
	"d3MuY29tIn0.c2ln"

/* Every request the fake saw. */
struct seen {
	char method[8];
	char url[512];
	char body[4096];
	char auth[512];
	char token_hdr[256];
};

struct server {
	struct seen req[16];
	size_t n;
	long oidc_status;
	/* role ARN substrings that AssumeRole refuses */
	const char *deny;
	int sts_calls;
};

static const char *hdr(const struct ss_http_req *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

/* STS echoes the role in the key id, so tests can tell sessions apart:
 * ASIA<n> with n the STS call number. */
static void fake(const struct ss_http_req *req, struct ss_http_resp *resp, void *ctx)
{
	struct server *s = ctx;
	struct seen *r = &s->req[s->n < 16 ? s->n : 15];
	const char *v;
	char body[2048];

	s->n++;
	snprintf(r->method, sizeof(r->method), "%s", req->method);
	snprintf(r->url, sizeof(r->url), "%s", req->url);
	snprintf(r->body, sizeof(r->body), "%.*s", (int)req->body_len, req->body ? req->body : "");
	v = hdr(req, "Authorization");
	snprintf(r->auth, sizeof(r->auth), "%s", v ? v : "");
	v = hdr(req, "X-Amz-Security-Token");
	snprintf(r->token_hdr, sizeof(r->token_hdr), "%s", v ? v : "");
	if (strncmp(req->url, "https://token.actions.example/", 30) == 0) {
		resp->status = s->oidc_status ? s->oidc_status : 200;
		if (resp->status == 200)
			assert_int_equal(
			    ss_buf_adds(&resp->body, "{\"count\":1,\"value\":\"" JWT "\"}"), SS_OK);
		return;
	}
	s->sts_calls++;
	if (s->deny != NULL && strstr(r->body, s->deny) != NULL) {
		resp->status = 403;
		assert_int_equal(
		    ss_buf_adds(&resp->body,
				"<ErrorResponse><Error><Code>AccessDenied</Code><Message>"
				"not authorized to perform: sts:AssumeRole</Message>"
				"</Error></ErrorResponse>"),
		    SS_OK);
		return;
	}
	resp->status = 200;
	snprintf(body, sizeof(body),
		 "<R><Result><AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/r/s</Arn>"
		 "</AssumedRoleUser><Credentials><AccessKeyId>ASIA%d</AccessKeyId>"
		 "<SecretAccessKey>secret-of-session-%d</SecretAccessKey>"
		 "<SessionToken>token-of-session-%d</SessionToken>"
		 "<Expiration>2030-01-01T00:00:00Z</Expiration></Credentials></Result></R>",
		 s->sts_calls, s->sts_calls, s->sts_calls);
	assert_int_equal(ss_buf_adds(&resp->body, body), SS_OK);
}

static const char *const scrubbed[] = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "GITHUB_RUN_ID",
    "GITHUB_RUN_ATTEMPT",
};

static int setup(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(scrubbed) / sizeof(scrubbed[0]); i++)
		unsetenv(scrubbed[i]);
	setenv("AWS_ENDPOINT_URL_STS", "https://sts.test.example", 1);
	setenv("SECRETSYNC_FAKE_TIME", "20240102T030405Z", 1);
	setenv("SECRETSYNC_HTTP_BACKOFF_MS", "1", 1);
	setenv("SECRETSYNC_HTTP_ATTEMPTS", "2", 1);
	return 0;
}

static void env_keys(void)
{
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "env-secret-key", 1);
}

static void env_oidc(void)
{
	setenv("ACTIONS_ID_TOKEN_REQUEST_URL", OIDC_URL, 1);
	setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "runner-request-token", 1);
}

struct fixture {
	struct server srv;
	struct ss_http *h;
	struct ss_aws_chain *chain;
	struct ss_buf err;
};

static void fx_start(struct fixture *f, const char *role, int duration)
{
	struct ss_aws_creds_opts o;

	memset(f, 0, sizeof(*f));
	f->h = ss_http_new(4);
	assert_non_null(f->h);
	ss_http_set_fake(f->h, fake, &f->srv);
	ss_buf_init(&f->err, 0);
	memset(&o, 0, sizeof(o));
	o.region = "eu-west-1";
	o.role_arn = role;
	o.duration_seconds = duration;
	o.session_name = "unit";
	f->chain = ss_aws_chain_new(f->h, &o, &f->err);
	assert_non_null(f->chain);
}

static void fx_end(struct fixture *f)
{
	size_t i;

	ss_aws_chain_free(f->chain);
	ss_http_free(f->h);
	ss_buf_free(&f->err);
	for (i = 0; i < sizeof(scrubbed) / sizeof(scrubbed[0]); i++)
		unsetenv(scrubbed[i]);
}

static void test_env_keys_no_role(void **state)
{
	struct fixture f;
	const struct ss_aws_creds *c;

	(void)state;
	env_keys();
	setenv("AWS_SESSION_TOKEN", "env-session-token", 1);
	env_oidc(); /* no role: OIDC is not used */
	fx_start(&f, NULL, 0);
	assert_int_equal(ss_aws_chain_base(f.chain, &c, &f.err), SS_OK);
	assert_int_equal(f.srv.n, 0);
	assert_string_equal(c->access_key_id, "AKIDENV");
	assert_string_equal(c->secret_access_key, "env-secret-key");
	assert_string_equal(c->session_token, "env-session-token");
	assert_non_null(strstr(c->source, "environment"));
	assert_null(ss_aws_chain_expiration(f.chain));
	assert_true(ss_mask_contains(ss_mask_global(), "env-secret-key", 14));
	assert_true(ss_mask_contains(ss_mask_global(), "env-session-token", 17));
	fx_end(&f);
}

static void test_env_keys_assume_role(void **state)
{
	struct fixture f;
	const struct ss_aws_creds *c;

	(void)state;
	env_keys();
	fx_start(&f, ROLE, 7200);
	assert_int_equal(ss_aws_chain_base(f.chain, &c, &f.err), SS_OK);
	assert_int_equal(f.srv.n, 1);
	assert_non_null(strstr(f.srv.req[0].body, "Action=AssumeRole&"));
	assert_non_null(strstr(f.srv.req[0].body, "RoleSessionName=unit"));
	/* long-term keys: the duration asked for is sent as is */
	assert_non_null(strstr(f.srv.req[0].body, "DurationSeconds=7200"));
	assert_non_null(strstr(f.srv.req[0].auth, "Credential=AKIDENV/20240102/eu-west-1/sts/"));
	assert_string_equal(f.srv.req[0].token_hdr, "");
	assert_string_equal(c->access_key_id, "ASIA1");
	assert_string_equal(ss_aws_chain_expiration(f.chain), "2030-01-01T00:00:00Z");
	assert_true(ss_mask_contains(ss_mask_global(), "secret-of-session-1", 19));
	/* cached: no second request */
	assert_int_equal(ss_aws_chain_base(f.chain, &c, &f.err), SS_OK);
	assert_int_equal(f.srv.n, 1);
	fx_end(&f);
}

static void test_oidc_wins_with_role(void **state)
{
	struct fixture f;
	const struct ss_aws_creds *c;

	(void)state;
	env_keys(); /* present, but OIDC comes first when a role is given */
	env_oidc();
	fx_start(&f, ROLE, 0);
	assert_int_equal(ss_aws_chain_base(f.chain, &c, &f.err), SS_OK);
	assert_int_equal(f.srv.n, 2);
	assert_string_equal(f.srv.req[0].method, "GET");
	assert_string_equal(f.srv.req[0].url, OIDC_URL "&audience=sts.amazonaws.com");
	assert_string_equal(f.srv.req[0].auth, "Bearer runner-request-token");
	assert_non_null(strstr(f.srv.req[1].body, "Action=AssumeRoleWithWebIdentity&"));
	assert_non_null(strstr(f.srv.req[1].body, "&WebIdentityToken=" JWT));
	assert_non_null(strstr(f.srv.req[1].body, "DurationSeconds=3600"));
	assert_string_equal(f.srv.req[1].auth, ""); /* unsigned */
	assert_string_equal(c->access_key_id, "ASIA1");
	assert_non_null(strstr(c->source, "AssumeRoleWithWebIdentity"));
	assert_true(ss_mask_contains(ss_mask_global(), JWT, strlen(JWT)));
	assert_true(ss_mask_contains(ss_mask_global(), "runner-request-token", 20));
	fx_end(&f);
}

static void test_oidc_audience(void **state)
{
	struct ss_aws_creds_opts o;
	struct server srv;
	struct ss_http *h;
	struct ss_aws_chain *chain;
	const struct ss_aws_creds *c;
	struct ss_buf err;

	(void)state;
	env_oidc();
	memset(&srv, 0, sizeof(srv));
	h = ss_http_new(2);
	ss_http_set_fake(h, fake, &srv);
	ss_buf_init(&err, 0);
	memset(&o, 0, sizeof(o));
	o.region = "us-east-1";
	o.role_arn = ROLE;
	o.audience = "my aud";
	chain = ss_aws_chain_new(h, &o, &err);
	assert_int_equal(ss_aws_chain_base(chain, &c, &err), SS_OK);
	assert_string_equal(srv.req[0].url, OIDC_URL "&audience=my%20aud");
	ss_aws_chain_free(chain);
	ss_http_free(h);
	ss_buf_free(&err);
	unsetenv("ACTIONS_ID_TOKEN_REQUEST_URL");
	unsetenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN");
}

static void test_oidc_refused(void **state)
{
	struct fixture f;
	const struct ss_aws_creds *c;

	(void)state;
	env_oidc();
	fx_start(&f, ROLE, 0);
	f.srv.oidc_status = 403;
	assert_int_equal(ss_aws_chain_base(f.chain, &c, &f.err), SS_ERR_AUTH);
	assert_null(c);
	assert_non_null(strstr(f.err.data, "id-token: write"));
	assert_int_equal(f.err.data[f.err.len - 1], '\n');
	assert_int_equal(f.srv.sts_calls, 0);
	fx_end(&f);
}

static void test_role_without_source(void **state)
{
	struct fixture f;
	const struct ss_aws_creds *c;

	(void)state;
	fx_start(&f, ROLE, 0);
	assert_int_equal(ss_aws_chain_base(f.chain, &c, &f.err), SS_ERR_AUTH);
	assert_int_equal(f.srv.n, 0);
	assert_non_null(strstr(f.err.data, "no credentials to assume " ROLE));
	assert_non_null(strstr(f.err.data, "`permissions: id-token: write`"));
	assert_non_null(strstr(f.err.data, "ACTIONS_ID_TOKEN_REQUEST_URL"));
	fx_end(&f);
}

static void test_nothing_at_all(void **state)
{
	struct fixture f;
	const struct ss_aws_creds *c;

	(void)state;
	fx_start(&f, NULL, 0);
	assert_int_equal(ss_aws_chain_base(f.chain, &c, &f.err), SS_ERR_AUTH);
	assert_non_null(strstr(f.err.data, "aws: no credentials: set AWS_ACCESS_KEY_ID"));
	fx_end(&f);
	/* half a pair is named */
	setenv("AWS_ACCESS_KEY_ID", "AKIDHALF", 1);
	fx_start(&f, NULL, 0);
	assert_int_equal(ss_aws_chain_base(f.chain, &c, &f.err), SS_ERR_AUTH);
	assert_non_null(
	    strstr(f.err.data, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"));
	fx_end(&f);
}

static char *write_token_file(const char *content)
{
	char tmpl[] = "/tmp/test_aws_creds_XXXXXX";
	int fd = mkstemp(tmpl);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
	return strdup(tmpl);
}

static void test_web_identity_file(void **state)
{
	struct fixture f;
	const struct ss_aws_creds *c;
	char *path = write_token_file(JWT "\n");

	(void)state;
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", path, 1);
	setenv("AWS_ROLE_ARN", TARGET_A, 1);
	fx_start(&f, NULL, 0);
	assert_int_equal(ss_aws_chain_base(f.chain, &c, &f.err), SS_OK);
	assert_int_equal(f.srv.n, 1);
	assert_non_null(strstr(f.srv.req[0].body, "Action=AssumeRoleWithWebIdentity&"));
	assert_non_null(strstr(f.srv.req[0].body, "RoleArn=arn%3Aaws%3Aiam%3A%3A111111111111"));
	assert_non_null(strstr(f.srv.req[0].body, "&WebIdentityToken=" JWT));
	assert_null(strstr(f.srv.req[0].body, "%0A")); /* the newline was trimmed */
	fx_end(&f);

	/* a different role given: web identity first, then AssumeRole from it,
	 * chained (3600 s at most) */
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", path, 1);
	setenv("AWS_ROLE_ARN", TARGET_A, 1);
	fx_start(&f, ROLE, 7200);
	assert_int_equal(ss_aws_chain_base(f.chain, &c, &f.err), SS_OK);
	assert_int_equal(f.srv.n, 2);
	assert_non_null(strstr(f.srv.req[1].body, "Action=AssumeRole&"));
	assert_non_null(strstr(f.srv.req[1].body, "DurationSeconds=3600"));
	assert_non_null(strstr(f.srv.req[1].auth, "Credential=ASIA1/"));
	assert_string_equal(f.srv.req[1].token_hdr, "token-of-session-1");
	assert_string_equal(c->access_key_id, "ASIA2");
	fx_end(&f);

	/* an unreadable file is named */
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token", 1);
	setenv("AWS_ROLE_ARN", TARGET_A, 1);
	fx_start(&f, NULL, 0);
	assert_int_equal(ss_aws_chain_base(f.chain, &c, &f.err), SS_ERR_IO);
	assert_non_null(strstr(f.err.data, "AWS_WEB_IDENTITY_TOKEN_FILE /nonexistent/token"));
	fx_end(&f);
	unlink(path);
	free(path);
}

static void test_explicit_keys_first(void **state)
{
	struct ss_aws_creds_opts o;
	struct server srv;
	struct ss_http *h;
	struct ss_aws_chain *chain;
	const struct ss_aws_creds *c;
	struct ss_buf err;

	(void)state;
	env_keys();
	env_oidc();
	memset(&srv, 0, sizeof(srv));
	h = ss_http_new(2);
	ss_http_set_fake(h, fake, &srv);
	ss_buf_init(&err, 0);
	memset(&o, 0, sizeof(o));
	o.region = "us-east-1";
	o.access_key_id = "AKIDGIVEN";
	o.secret_access_key = "given-secret";
	chain = ss_aws_chain_new(h, &o, &err);
	assert_int_equal(ss_aws_chain_base(chain, &c, &err), SS_OK);
	assert_string_equal(c->access_key_id, "AKIDGIVEN");
	assert_int_equal(srv.n, 0);
	ss_aws_chain_free(chain);
	o.access_key_id = NULL; /* half a pair */
	assert_null(ss_aws_chain_new(h, &o, &err));
	assert_non_null(strstr(err.data, "needs its secret access key"));
	ss_http_free(h);
	ss_buf_free(&err);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("ACTIONS_ID_TOKEN_REQUEST_URL");
	unsetenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN");
}

static void test_bad_settings(void **state)
{
	struct ss_aws_creds_opts o;
	struct ss_buf err;

	(void)state;
	ss_buf_init(&err, 0);
	memset(&o, 0, sizeof(o));
	assert_null(ss_aws_chain_new(NULL, &o, &err));
	assert_non_null(strstr(err.data, "aws: no region"));
	o.region = "us-east-1";
	o.duration_seconds = 60;
	assert_null(ss_aws_chain_new(NULL, &o, &err));
	assert_non_null(strstr(err.data, "out of bounds (900 to 43200)"));
	ss_buf_free(&err);
}

static void test_target_roles_cached(void **state)
{
	struct fixture f;
	const struct ss_aws_creds *base, *a, *a2, *b, *self;

	(void)state;
	env_oidc();
	fx_start(&f, ROLE, 7200);
	assert_int_equal(ss_aws_creds_for_role(f.chain, NULL, &base, &f.err), SS_OK);
	assert_int_equal(f.srv.n, 2); /* OIDC + web identity */
	assert_int_equal(ss_aws_creds_for_role(f.chain, TARGET_A, &a, &f.err), SS_OK);
	assert_int_equal(f.srv.n, 3);
	assert_non_null(strstr(f.srv.req[2].body, "Action=AssumeRole&"));
	/* role chaining: 3600 at most even though 7200 was asked for */
	assert_non_null(strstr(f.srv.req[2].body, "DurationSeconds=3600"));
	assert_non_null(strstr(f.srv.req[2].auth, "Credential=ASIA1/"));
	assert_string_equal(a->access_key_id, "ASIA2");
	assert_int_equal(ss_aws_creds_for_role(f.chain, TARGET_A, &a2, &f.err), SS_OK);
	assert_ptr_equal(a, a2);
	assert_int_equal(f.srv.n, 3);
	/* the chain's own role is the base */
	assert_int_equal(ss_aws_creds_for_role(f.chain, ROLE, &self, &f.err), SS_OK);
	assert_ptr_equal(self, base);
	assert_int_equal(ss_aws_creds_for_role(f.chain, TARGET_B, &b, &f.err), SS_OK);
	assert_string_equal(b->access_key_id, "ASIA3");
	assert_int_equal(f.srv.n, 4);
	fx_end(&f);
}

static void test_prefetch(void **state)
{
	struct fixture f;
	const char *roles[] = {TARGET_A, NULL, TARGET_B, TARGET_A,
			       "arn:aws:iam::333333333333:role/denied"};
	const struct ss_aws_creds *c;

	(void)state;
	env_keys();
	fx_start(&f, NULL, 0);
	f.srv.deny = "333333333333";
	assert_int_equal(ss_aws_creds_prefetch(f.chain, roles, 5, &f.err), SS_ERR_AUTH);
	assert_int_equal(f.srv.n, 3); /* A once, B, the denied one */
	assert_non_null(strstr(f.err.data, "sts: AssumeRole into "
					   "arn:aws:iam::333333333333:role/denied (as environment "
					   "(AWS_ACCESS_KEY_ID)): AccessDenied"));
	assert_null(strstr(f.err.data, TARGET_A));
	/* the others are cached */
	assert_int_equal(ss_aws_creds_for_role(f.chain, TARGET_A, &c, &f.err), SS_OK);
	assert_int_equal(ss_aws_creds_for_role(f.chain, TARGET_B, &c, &f.err), SS_OK);
	assert_int_equal(f.srv.n, 3);
	/* long-term base keys: the full default duration */
	assert_non_null(strstr(f.srv.req[0].body, "DurationSeconds=3600"));
	fx_end(&f);
}

static void test_session_names(void **state)
{
	static const struct {
		const char *given, *run, *attempt, *want;
	} cases[] = {
	    {NULL, "123456", NULL, "secretsync-123456"},
	    {NULL, "123456", "1", "secretsync-123456"},
	    {NULL, "123456", "3", "secretsync-123456-3"},
	    {"deploy@prod,eu=1.x+y_z-w", NULL, NULL, "deploy@prod,eu=1.x+y_z-w"},
	    {"my session/name!", NULL, NULL, "my-session-name-"},
	    {"a", NULL, NULL, "a-"},
	    {"0123456789012345678901234567890123456789012345678901234567890123456789", NULL, NULL,
	     "0123456789012345678901234567890123456789012345678901234567890123"},
	    {NULL, "run id;x", NULL, "secretsync-run-id-x"},
	};
	char out[SS_AWS_SESSION_NAME_MAX + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsetenv("GITHUB_RUN_ID");
		unsetenv("GITHUB_RUN_ATTEMPT");
		if (cases[i].run)
			setenv("GITHUB_RUN_ID", cases[i].run, 1);
		if (cases[i].attempt)
			setenv("GITHUB_RUN_ATTEMPT", cases[i].attempt, 1);
		ss_aws_session_name(cases[i].given, out, sizeof(out));
		assert_string_equal(out, cases[i].want);
	}
	unsetenv("GITHUB_RUN_ID");
	unsetenv("GITHUB_RUN_ATTEMPT");
	ss_aws_session_name(NULL, out, sizeof(out));
	assert_true(strncmp(out, "secretsync-", 11) == 0 && strlen(out) > 12);
	assert_true(strspn(out + 11, "0123456789-") == strlen(out + 11));
}

static void test_role_patterns(void **state)
{
	static const struct {
		const char *pattern, *account, *want;
		enum ss_rc rc;
	} cases[] = {
	    {"arn:aws:iam::{account_id}:role/secretsync", "111111111111",
	     "arn:aws:iam::111111111111:role/secretsync", SS_OK},
	    {"arn:aws:iam::%s:role/x", "222222222222", "arn:aws:iam::222222222222:role/x", SS_OK},
	    {"arn:aws:iam::{account_id}:role/r-{account_id}", "333333333333",
	     "arn:aws:iam::333333333333:role/r-333333333333", SS_OK},
	    {"arn:aws:iam::123456789012:role/fixed", "111111111111", NULL, SS_ERR_INVALID},
	    {"arn:aws:iam::{account_id}:role/x", "1111", NULL, SS_ERR_INVALID},
	    {"arn:aws:iam::{account_id}:role/x", "11111111111a", NULL, SS_ERR_INVALID},
	    {"%s%s", "111111111111", NULL, SS_ERR_INVALID},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = NULL;
		enum ss_rc rc = ss_aws_role_for_account(cases[i].pattern, cases[i].account, &out);

		assert_int_equal(rc, cases[i].rc);
		if (cases[i].want)
			assert_string_equal(out, cases[i].want);
		else
			assert_null(out);
		free(out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_env_keys_no_role),	cmocka_unit_test(test_env_keys_assume_role),
	    cmocka_unit_test(test_oidc_wins_with_role), cmocka_unit_test(test_oidc_audience),
	    cmocka_unit_test(test_oidc_refused),	cmocka_unit_test(test_role_without_source),
	    cmocka_unit_test(test_nothing_at_all),	cmocka_unit_test(test_web_identity_file),
	    cmocka_unit_test(test_explicit_keys_first), cmocka_unit_test(test_bad_settings),
	    cmocka_unit_test(test_target_roles_cached), cmocka_unit_test(test_prefetch),
	    cmocka_unit_test(test_session_names),	cmocka_unit_test(test_role_patterns),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
