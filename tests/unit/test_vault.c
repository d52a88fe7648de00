/* test_vault.c - the Vault client on the fake transport: login answers,
 * LIST/READ shapes of KV v1 and v2, hostile keys, the depth and count
 * caps, the messages for 403, a missing mount, a wrong KV version and a
 * dead token, concurrency of batch reads, revocation. No sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "backends/oidc.h"
#include "backends/vault.h"
#include "core/json.h"
#include "core/log.h"
#include "core/mask.h"
#include "net/http.h"

#define ADDR "https://vault.example.com:8200"
#define TOKEN "tok-unit-5d1c8a"

#define MOUNTS_V2 "{\"data\":{\"type\":\"kv\",\"options\":{\"version\":\"2\"}}}"
#define MOUNTS_V1 "{\"data\":{\"type\":\"kv\",\"options\":null}}"
#define DENIED "{\"errors\":[\"1 error occurred:\\n\\t* permission denied\\n\\n\"]}"
#define DEAD "{\"errors\":[\"2 errors occurred:\\n\\t* permission denied\\n\\t* invalid token\\n\\n\"]}"
#define EMPTY404 "{\"errors\":[]}"

/* A scripted Vault: the first route matching method and path (after
 * "/v1/", with the query) answers; times > 0 limits how often. A route
 * with a fail kind answers with that transport failure. Anything else
 * gets 404 {"errors":[]}. Every call is recorded. */
struct route {
	const char *method;
	const char *path;
	long status;
	const char *body;
	int times;
	enum ss_http_fail fail;
};

#define MAX_CALLS 512

struct call_rec {
	char method[8];
	char path[256];
	char token[64];
	char ns[64];
	char auth[128];
	char body[512];
};

struct fake {
	const struct route *routes;
	size_t nroutes;
	int used[32];
	size_t ncalls;
	struct call_rec calls[MAX_CALLS];
	/* a generated folder: LIST of gen_folder answers gen_count keys */
	const char *gen_folder;
	int gen_count;
};

static const char *header(const struct ss_http_req *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++)
		if (strcmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return "";
}

static void fake_vault(const struct ss_http_req *req, struct ss_http_resp *resp, void *ctx)
{
	struct fake *f = ctx;
	const char *v1 = strstr(req->url, "/v1/");
	const char *path = v1 ? v1 + 4 : req->url;
	struct call_rec *rec = &f->calls[f->ncalls < MAX_CALLS ? f->ncalls : MAX_CALLS - 1];
	size_t i;

	f->ncalls++;
	snprintf(rec->method, sizeof(rec->method), "%s", req->method);
	snprintf(rec->path, sizeof(rec->path), "%s", path);
	snprintf(rec->token, sizeof(rec->token), "%s", header(req, "X-Vault-Token"));
	snprintf(rec->ns, sizeof(rec->ns), "%s", header(req, "X-Vault-Namespace"));
	snprintf(rec->auth, sizeof(rec->auth), "%s", header(req, "Authorization"));
	snprintf(rec->body, sizeof(rec->body), "%s", req->body ? req->body : "");
	if (f->gen_folder != NULL && strcmp(path, f->gen_folder) == 0) {
		assert_int_equal(ss_buf_adds(&resp->body, "{\"data\":{\"keys\":["), SS_OK);
		for (i = 0; i < (size_t)f->gen_count; i++)
			assert_int_equal(ss_buf_addf(&resp->body, "%s\"g%03zu\"", i ? "," : "", i),
					 SS_OK);
		assert_int_equal(ss_buf_adds(&resp->body, "]}}"), SS_OK);
		resp->status = 200;
		return;
	}
	for (i = 0; i < f->nroutes; i++) {
		const struct route *r = &f->routes[i];

		if (strcmp(r->method, req->method) != 0 || strcmp(r->path, path) != 0)
			continue;
		if (r->times > 0 && f->used[i] >= r->times)
			continue;
		f->used[i]++;
		if (r->fail != SS_HTTP_FAIL_NONE) {
			resp->rc = SS_ERR_NET;
			resp->fail = r->fail;
			return;
		}
		resp->status = r->status;
		if (r->body != NULL)
			assert_int_equal(ss_buf_adds(&resp->body, r->body), SS_OK);
		return;
	}
	resp->status = 404;
	assert_int_equal(ss_buf_adds(&resp->body, EMPTY404), SS_OK);
}

/* How many recorded calls have this method and path. */
static int count_calls(const struct fake *f, const char *method, const char *path)
{
	size_t i;
	int n = 0;

	for (i = 0; i < f->ncalls && i < MAX_CALLS; i++)
		n += strcmp(f->calls[i].method, method) == 0 && strcmp(f->calls[i].path, path) == 0;
	return n;
}

static const struct call_rec *find_call(const struct fake *f, const char *method,
					const char *path)
{
	size_t i;

	for (i = 0; i < f->ncalls && i < MAX_CALLS; i++)
		if (strcmp(f->calls[i].method, method) == 0 && strcmp(f->calls[i].path, path) == 0)
			return &f->calls[i];
	return NULL;
}

/* The log, captured. */
static FILE *logf_;
static char logbuf[65536];

static void log_start(void)
{
	logf_ = tmpfile();
	assert_non_null(logf_);
	ss_log_set_stream(logf_);
	ss_log_set_level(SS_LOG_INFO);
}

static const char *log_text(void)
{
	size_t n;

	fflush(logf_);
	rewind(logf_);
	n = fread(logbuf, 1, sizeof(logbuf) - 1, logf_);
	logbuf[n] = '\0';
	return logbuf;
}

static void log_stop(void)
{
	ss_log_set_stream(NULL);
	fclose(logf_);
	logf_ = NULL;
}

struct env {
	struct fake f;
	struct ss_vault_settings s;
	struct ss_http *h;
	struct ss_vault *v;
	struct ss_buf err;
};

static struct env *env_new(const struct route *routes, size_t n)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	setenv("SECRETSYNC_HTTP_BACKOFF_MS", "0", 1);
	setenv("SECRETSYNC_HTTP_ATTEMPTS", "3", 1);
	e->f.routes = routes;
	e->f.nroutes = n;
	assert_true(n <= sizeof(e->f.used) / sizeof(e->f.used[0]));
	e->s.address = ADDR;
	e->s.auth = SS_VAULT_AUTH_TOKEN;
	e->s.token = TOKEN;
	e->s.max_depth = 100;
	e->s.max_secrets = 1000;
	ss_buf_init(&e->err, 0);
	e->h = ss_http_new(16);
	assert_non_null(e->h);
	ss_http_set_fake(e->h, fake_vault, &e->f);
	return e;
}

/* Make the client (after the test changed e->s) and log in. */
static enum ss_rc env_login(struct env *e)
{
	e->v = ss_vault_new(e->h, &e->s, &e->err);
	assert_non_null(e->v);
	return ss_vault_login(e->v, &e->err);
}

static void env_free(struct env *e)
{
	ss_vault_free(e->v);
	ss_http_free(e->h);
	ss_buf_free(&e->err);
	free(e);
}

/* Run a tree read to the end; *out gets the result (or NULL). */
static enum ss_rc run_tree(struct env *e, const char *mount, int version,
			   const char *const *paths, size_t npaths, cJSON **out, long *lists,
			   long *reads)
{
	struct ss_vault_tree *op = NULL;
	enum ss_rc rc;

	*out = NULL;
	rc = ss_vault_tree_start(e->v, mount, version, paths, npaths, &op);
	if (rc != SS_OK)
		return rc;
	assert_int_equal(ss_http_run(e->h), SS_OK);
	ss_vault_tree_counts(op, lists, reads);
	return ss_vault_tree_finish(op, out, &e->err);
}

static char *print(const cJSON *v)
{
	char *s = NULL;

	assert_int_equal(ss_json_print(v, &s), SS_OK);
	return s;
}

/* --- key validation --- */

static void test_key_ok(void **state)
{
	static const struct {
		const char *key;
		size_t len; /* 0 = strlen */
		int ok;
	} cases[] = {
		{"db", 0, 1},
		{"folder/", 0, 1},
		{"a.b-c_d~e", 0, 1},
		{"white space", 0, 1},
		{"ünïcode", 0, 1},
		{"..", 0, 0},
		{"../", 0, 0},
		{"../x", 0, 0},
		{"x/..", 0, 0},
		{"a..b", 0, 0},
		{".", 0, 0},
		{"./", 0, 0},
		{"a//b", 0, 0},
		{"//", 0, 0},
		{"/abs", 0, 0},
		{"/", 0, 0},
		{"a/b", 0, 0},
		{"a/b/", 0, 0},
		{"ctl\001x", 0, 0},
		{"tab\tkey", 0, 0},
		{"new\nline", 0, 0},
		{"del\177", 0, 0},
		{"", 0, 0},
		{"nul\0hidden", 10, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].key);

		if (ss_vault_key_ok(cases[i].key, len) != cases[i].ok)
			fail_msg("key %zu '%s': expected %d", i, cases[i].key, cases[i].ok);
	}
	assert_int_equal(ss_vault_key_ok(NULL, 0), 0);
}

/* --- auth --- */

static void test_token_auth_headers(void **state)
{
	static const struct route r[] = {
		{"GET", "sys/internal/ui/mounts/kv", 200, MOUNTS_V2, 0, 0},
		{"GET", "kv/data/app/db", 200, "{\"data\":{\"data\":{\"p\":\"val-token-auth-1\"},\"metadata\":{}}}", 0, 0},
	};
	struct env *e = env_new(r, 2);
	cJSON *out = NULL;
	char *text;

	(void)state;
	e->s.namespace = "team-a/child";
	assert_int_equal(env_login(e), SS_OK);
	assert_int_equal(e->f.ncalls, 0); /* a given token needs no request */
	assert_int_equal(ss_vault_read(e->v, "kv", "app/db", &out, &e->err), SS_OK);
	text = print(out);
	assert_string_equal(text, "{\"p\":\"val-token-auth-1\"}");
	assert_string_equal(e->f.calls[1].token, TOKEN);
	assert_string_equal(e->f.calls[1].ns, "team-a/child");
	assert_string_equal(e->f.calls[0].ns, "team-a/child");
	/* masked before it was handed over */
	assert_true(ss_mask_contains(ss_mask_global(), "val-token-auth-1", 16));
	assert_true(ss_mask_contains(ss_mask_global(), TOKEN, strlen(TOKEN)));
	/* a given token is never revoked */
	ss_vault_logout(e->v);
	assert_int_equal(count_calls(&e->f, "POST", "auth/token/revoke-self"), 0);
	ss_free_secret(text);
	ss_json_delete_secret(out);
	env_free(e);
}

static void test_approle_login_and_revoke(void **state)
{
	static const struct route r[] = {
		{"POST", "auth/ci-approle/login", 503, "{\"errors\":[\"Vault is sealed\"]}", 1, 0},
		{"POST", "auth/ci-approle/login", 200,
		 "{\"auth\":{\"client_token\":\"hvs.login-token-77f1\",\"lease_duration\":60}}", 0, 0},
		{"GET", "sys/internal/ui/mounts/kv", 200, MOUNTS_V2, 0, 0},
		{"GET", "kv/data/x", 200, "{\"data\":{\"data\":{\"a\":\"b-value-1234\"}}}", 0, 0},
		{"POST", "auth/token/revoke-self", 204, NULL, 0, 0},
	};
	struct env *e = env_new(r, 5);
	const struct call_rec *login;
	cJSON *out = NULL, *body = NULL;

	(void)state;
	e->s.auth = SS_VAULT_AUTH_APPROLE;
	e->s.token = NULL;
	e->s.approle_mount = "ci-approle";
	e->s.role_id = "role-id-unit-0a0b";
	e->s.secret_id = "secret-id-unit-1c1d";
	/* the login is retried like any request (503 then 200) */
	assert_int_equal(env_login(e), SS_OK);
	assert_int_equal(count_calls(&e->f, "POST", "auth/ci-approle/login"), 2);
	login = find_call(&e->f, "POST", "auth/ci-approle/login");
	assert_string_equal(login->token, "");
	assert_int_equal(ss_json_parse(login->body, strlen(login->body), &body), SS_OK);
	assert_string_equal(ss_json_get_string(body, "role_id"), "role-id-unit-0a0b");
	assert_string_equal(ss_json_get_string(body, "secret_id"), "secret-id-unit-1c1d");
	ss_json_delete_secret(body);
	assert_true(ss_mask_contains(ss_mask_global(), "secret-id-unit-1c1d", 19));
	assert_true(ss_mask_contains(ss_mask_global(), "hvs.login-token-77f1", 20));
	/* the token from the login is the one used */
	assert_int_equal(ss_vault_read(e->v, "kv", "x", &out, &e->err), SS_OK);
	assert_string_equal(find_call(&e->f, "GET", "kv/data/x")->token, "hvs.login-token-77f1");
	ss_json_delete_secret(out);
	/* and revoked at the end, once */
	ss_vault_logout(e->v);
	ss_vault_logout(e->v);
	assert_int_equal(count_calls(&e->f, "POST", "auth/token/revoke-self"), 1);
	assert_string_equal(find_call(&e->f, "POST", "auth/token/revoke-self")->token,
			    "hvs.login-token-77f1");
	env_free(e);
}

static void test_login_failures(void **state)
{
	static const struct route bad[] = {
		{"POST", "auth/approle/login", 400, "{\"errors\":[\"invalid role or secret ID\"]}", 0, 0},
	};
	static const struct route notoken[] = {
		{"POST", "auth/approle/login", 200, "{\"auth\":null}", 0, 0},
	};
	struct env *e;

	(void)state;
	/* a 400 is final: one attempt, Vault's words and a hint */
	e = env_new(bad, 1);
	e->s.auth = SS_VAULT_AUTH_APPROLE;
	e->s.role_id = "r";
	e->s.secret_id = "s";
	assert_int_equal(env_login(e), SS_ERR_AUTH);
	assert_int_equal(e->f.ncalls, 1);
	assert_non_null(strstr(e->err.data, "AppRole login at auth/approle/login: HTTP 400 "
					    "invalid role or secret ID"));
	assert_non_null(strstr(e->err.data, "check role_id and secret_id"));
	ss_vault_logout(e->v);
	assert_int_equal(e->f.ncalls, 1); /* nothing to revoke */
	env_free(e);

	e = env_new(notoken, 1);
	e->s.auth = SS_VAULT_AUTH_APPROLE;
	e->s.role_id = "r";
	e->s.secret_id = "s";
	assert_int_equal(env_login(e), SS_ERR_PARSE);
	assert_non_null(strstr(e->err.data, "has no auth.client_token"));
	env_free(e);

	/* no credentials at all */
	e = env_new(NULL, 0);
	e->s.auth = SS_VAULT_AUTH_NONE;
	e->s.token = NULL;
	assert_int_equal(env_login(e), SS_ERR_AUTH);
	assert_non_null(strstr(e->err.data, "no credentials"));
	env_free(e);
}

/* An unsigned JWT with readable claims, for the claims hint. */
#define FAKE_JWT                                                                           \
	"eyJhbGciOiJSUzI1NiJ9."                                                            \
	"eyJzdWIiOiJyZXBvOm9jdG8vYXBwOnJlZjpyZWZzL2hlYWRzL21haW4iLCJhdWQiOiJ2YXVsdCJ9."    \
	"c2lnbmF0dXJl"

static void test_jwt_login(void **state)
{
	static const struct route r[] = {
		{"GET", "https://gh.example.com/_apis/oidc/token?api-version=2.0&audience=vault%2Fci", 200,
		 "{\"value\":\"" FAKE_JWT "\"}", 0, 0},
		{"POST", "auth/gh/login", 200, "{\"auth\":{\"client_token\":\"hvs.jwt-token-3e3e\"}}", 0, 0},
	};
	static const struct route refused[] = {
		{"GET", "https://gh.example.com/_apis/oidc/token?api-version=2.0&audience=vault", 200,
		 "{\"value\":\"" FAKE_JWT "\"}", 0, 0},
		{"POST", "auth/jwt/login", 400,
		 "{\"errors\":[\"error validating claims: claim \\\"repository\\\" does not match\"]}", 0, 0},
	};
	struct env *e;
	const struct call_rec *c;
	cJSON *body = NULL;

	(void)state;
	setenv("ACTIONS_ID_TOKEN_REQUEST_URL", "https://gh.example.com/_apis/oidc/token?api-version=2.0", 1);
	setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "oidc-request-unit-9f9f", 1);
	e = env_new(r, 2);
	e->s.auth = SS_VAULT_AUTH_JWT;
	e->s.jwt_mount = "gh";
	e->s.jwt_role = "ci";
	e->s.jwt_audience = "vault/ci";
	assert_int_equal(env_login(e), SS_OK);
	/* the OIDC token asked with the audience and the request token */
	c = &e->f.calls[0];
	assert_string_equal(c->method, "GET");
	assert_string_equal(c->auth, "Bearer oidc-request-unit-9f9f");
	/* posted with the role */
	c = find_call(&e->f, "POST", "auth/gh/login");
	assert_non_null(c);
	assert_int_equal(ss_json_parse(c->body, strlen(c->body), &body), SS_OK);
	assert_string_equal(ss_json_get_string(body, "jwt"), FAKE_JWT);
	assert_string_equal(ss_json_get_string(body, "role"), "ci");
	ss_json_delete_secret(body);
	assert_true(ss_mask_contains(ss_mask_global(), FAKE_JWT, strlen(FAKE_JWT)));
	assert_true(ss_mask_contains(ss_mask_global(), "oidc-request-unit-9f9f", 22));
	assert_true(ss_mask_contains(ss_mask_global(), "hvs.jwt-token-3e3e", 18));
	env_free(e);

	/* a refused login names the claims to fix */
	e = env_new(refused, 2);
	e->s.auth = SS_VAULT_AUTH_JWT;
	e->s.jwt_role = "ci";
	e->s.jwt_audience = "vault";
	assert_int_equal(env_login(e), SS_ERR_AUTH);
	assert_non_null(strstr(e->err.data, "JWT login at auth/jwt/login as role 'ci': HTTP 400"));
	assert_non_null(strstr(e->err.data, "sub=repo:octo/app:ref:refs/heads/main, aud=vault"));
	env_free(e);

	/* no OIDC in the environment: the permission to add is named */
	unsetenv("ACTIONS_ID_TOKEN_REQUEST_URL");
	e = env_new(refused, 2);
	e->s.auth = SS_VAULT_AUTH_JWT;
	assert_int_equal(env_login(e), SS_ERR_AUTH);
	assert_non_null(strstr(e->err.data, "id-token: write"));
	assert_int_equal(e->f.ncalls, 0);
	env_free(e);
	unsetenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN");
}

/* --- KV shapes --- */

static void test_tree_kv2(void **state)
{
	static const struct route r[] = {
		{"GET", "sys/internal/ui/mounts/kv", 200, MOUNTS_V2, 0, 0},
		{"GET", "kv/metadata/?list=true", 200, "{\"data\":{\"keys\":[\"b\",\"f/\",\"a\"]}}", 0, 0},
		{"GET", "kv/metadata/f/?list=true", 200, "{\"data\":{\"keys\":[\"g/\",\"c\"]}}", 0, 0},
		{"GET", "kv/metadata/f/g/?list=true", 200, "{\"data\":{\"keys\":[\"d\"]}}", 0, 0},
		{"GET", "kv/data/a", 200, "{\"data\":{\"data\":{\"k\":\"va\"},\"metadata\":{\"version\":3}}}", 0, 0},
		{"GET", "kv/data/b", 200, "{\"data\":{\"data\":{\"n\":[1,{\"x\":null}]},\"metadata\":{}}}", 0, 0},
		{"GET", "kv/data/f/c", 200, "{\"data\":{\"data\":{\"k\":\"vc\"},\"metadata\":{}}}", 0, 0},
		/* listed, then deleted: skipped with a warning */
		{"GET", "kv/data/f/g/d", 404, "{\"data\":{\"data\":null,\"metadata\":{\"deletion_time\":\"x\"}}}", 0, 0},
	};
	struct env *e = env_new(r, 8);
	cJSON *out = NULL;
	long lists, reads;
	char *text;

	(void)state;
	log_start();
	assert_int_equal(env_login(e), SS_OK);
	assert_int_equal(run_tree(e, "kv", 0, NULL, 0, &out, &lists, &reads), SS_OK);
	text = print(out);
	/* sorted by name, paths relative to the mount, data only */
	assert_string_equal(text, "{\"a\":{\"k\":\"va\"},\"b\":{\"n\":[1,{\"x\":null}]},"
				  "\"f/c\":{\"k\":\"vc\"}}");
	assert_int_equal(lists, 3);
	assert_int_equal(reads, 4);
	assert_non_null(strstr(log_text(), "kv/f/g/d was listed but is gone or deleted"));
	/* the version is cached: a second tree asks no mount info */
	ss_json_delete_secret(out);
	assert_int_equal(run_tree(e, "kv", 0, (const char *const[]){"f/"}, 1, &out, &lists, &reads),
			 SS_OK);
	assert_int_equal(count_calls(&e->f, "GET", "sys/internal/ui/mounts/kv"), 1);
	log_stop();
	ss_free_secret(text);
	ss_json_delete_secret(out);
	env_free(e);
}

static void test_tree_kv1_and_start_paths(void **state)
{
	static const struct route r[] = {
		{"GET", "sys/internal/ui/mounts/old", 200, MOUNTS_V1, 0, 0},
		{"GET", "old/team/?list=true", 200, "{\"data\":{\"keys\":[\"cfg\",\"sub/\"]}}", 0, 0},
		{"GET", "old/team/sub/?list=true", 200, "{\"data\":{\"keys\":[\"x\"]}}", 0, 0},
		{"GET", "old/team/cfg", 200, "{\"data\":{\"user\":\"u1-value\"},\"lease_duration\":2764800}", 0, 0},
		{"GET", "old/team/sub/x", 200, "{\"data\":{\"y\":\"z1-value\"}}", 0, 0},
		{"GET", "old/single", 200, "{\"data\":{\"s\":\"single-value\"}}", 0, 0},
		/* a start path without '/' that is a folder: read 404, then listed */
		{"GET", "old/folder/?list=true", 200, "{\"data\":{\"keys\":[\"in\"]}}", 0, 0},
		{"GET", "old/folder/in", 200, "{\"data\":{\"i\":\"in-value\"}}", 0, 0},
	};
	static const char *const paths[] = {"team/", "single", "folder", "team/sub/"};
	struct env *e = env_new(r, 8);
	cJSON *out = NULL;
	long lists, reads;
	char *text;

	(void)state;
	assert_int_equal(env_login(e), SS_OK);
	assert_int_equal(run_tree(e, "old", 0, paths, 4, &out, &lists, &reads), SS_OK);
	text = print(out);
	assert_string_equal(text, "{\"folder/in\":{\"i\":\"in-value\"},\"single\":{\"s\":\"single-value\"},"
				  "\"team/cfg\":{\"user\":\"u1-value\"},\"team/sub/x\":{\"y\":\"z1-value\"}}");
	/* the visited set: team/sub/ is listed once although named twice */
	assert_int_equal(count_calls(&e->f, "GET", "old/team/sub/?list=true"), 1);
	assert_int_equal(count_calls(&e->f, "GET", "old/team/sub/x"), 1);
	assert_int_equal(count_calls(&e->f, "GET", "old/folder"), 1);
	ss_free_secret(text);
	ss_json_delete_secret(out);
	env_free(e);
}

static void test_hostile_keys(void **state)
{
	static const struct route r[] = {
		{"GET", "kv/metadata/?list=true", 200,
		 "{\"data\":{\"keys\":[\"../escape\",\"a//b\",\"/abs\",\"ctl\\u0001x\",\"\",\"..\","
		 "\"a/b\",7,null,\"ok\",\"ok\",\"dir/\",\"dir/\"]}}", 0, 0},
		{"GET", "kv/metadata/dir/?list=true", 200, "{\"data\":{\"keys\":[\"../../up\",\"in\"]}}", 0, 0},
		{"GET", "kv/data/ok", 200, "{\"data\":{\"data\":{\"v\":\"ok-value-1\"}}}", 0, 0},
		{"GET", "kv/data/dir/in", 200, "{\"data\":{\"data\":{\"v\":\"in-value-2\"}}}", 0, 0},
	};
	static const char *const bad[] = {"\"../escape\"", "\"a//b\"", "\"/abs\"", "\"ctl\\u0001x\"",
					  "\"\"", "\"..\"", "\"a/b\"", "(not a string)", "\"../../up\""};
	struct env *e = env_new(r, 4);
	cJSON *out = NULL;
	long lists, reads;
	size_t i;
	char *text;

	(void)state;
	log_start();
	assert_int_equal(env_login(e), SS_OK);
	assert_int_equal(run_tree(e, "kv", 2, NULL, 0, &out, &lists, &reads), SS_OK);
	text = print(out);
	assert_string_equal(text, "{\"dir/in\":{\"v\":\"in-value-2\"},\"ok\":{\"v\":\"ok-value-1\"}}");
	/* every bad key was named in a warning, and never requested */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (strstr(log_text(), bad[i]) == NULL)
			fail_msg("no warning names %s; log:\n%s", bad[i], log_text());
	for (i = 0; i < e->f.ncalls; i++)
		if (strstr(e->f.calls[i].path, "..") || strstr(e->f.calls[i].path, "//") ||
		    strstr(e->f.calls[i].path, "abs") || strstr(e->f.calls[i].path, "%01"))
			fail_msg("requested %s", e->f.calls[i].path);
	/* a duplicate key is read once, a duplicate folder listed once */
	assert_int_equal(count_calls(&e->f, "GET", "kv/data/ok"), 1);
	assert_int_equal(count_calls(&e->f, "GET", "kv/metadata/dir/?list=true"), 1);
	log_stop();
	ss_free_secret(text);
	ss_json_delete_secret(out);
	env_free(e);
}

static void test_depth_cap_on_loop(void **state)
{
	/* every folder holds "loop/": without the cap this never ends */
	static const struct route r[] = {
		{"GET", "kv/metadata/?list=true", 200, "{\"data\":{\"keys\":[\"loop/\"]}}", 0, 0},
	};
	struct env *e = env_new(r, 1);
	struct route *loops;
	cJSON *out = NULL;
	long lists, reads;
	char path[512];
	int d, n = 0;

	(void)state;
	/* loop/ ... at each depth answers loop/ again */
	loops = calloc(12, sizeof(*loops));
	assert_non_null(loops);
	loops[0] = r[0];
	for (d = 1; d < 12; d++) {
		size_t off = (size_t)snprintf(path, sizeof(path), "kv/metadata/");
		int k;

		for (k = 0; k < d; k++)
			off += (size_t)snprintf(path + off, sizeof(path) - off, "loop/");
		snprintf(path + off, sizeof(path) - off, "?list=true");
		loops[d].method = "GET";
		loops[d].path = strdup(path);
		loops[d].status = 200;
		loops[d].body = "{\"data\":{\"keys\":[\"loop/\"]}}";
	}
	e->f.routes = loops;
	e->f.nroutes = 12;
	e->s.max_depth = 5;
	log_start();
	assert_int_equal(env_login(e), SS_OK);
	/* a partial tree would make delete_orphans delete: the read fails */
	assert_int_equal(run_tree(e, "kv", 2, NULL, 0, &out, &lists, &reads), SS_ERR_TOOBIG);
	assert_null(out);
	/* the start folder and five levels below it, nothing deeper */
	assert_int_equal(lists, 6);
	for (d = 0; d < (int)e->f.ncalls; d++)
		n += strstr(e->f.calls[d].path, "?list=true") != NULL;
	assert_int_equal(n, 6);
	log_stop();
	ss_json_delete_secret(out);
	for (d = 1; d < 12; d++)
		free((char *)loops[d].path);
	free(loops);
	env_free(e);
}

static void test_count_cap(void **state)
{
	struct env *e = env_new(NULL, 0);
	cJSON *out = NULL;
	long lists, reads;

	(void)state;
	e->f.gen_folder = "kv/metadata/big/?list=true";
	e->f.gen_count = 50;
	e->s.max_secrets = 49;
	assert_int_equal(env_login(e), SS_OK);
	assert_int_equal(run_tree(e, "kv", 2, (const char *const[]){"big/"}, 1, &out, &lists, &reads),
			 SS_ERR_TOOBIG);
	assert_null(out);
	/* refused before any read was sent */
	assert_int_equal(e->f.ncalls, 1);
	assert_non_null(strstr(e->err.data, "more than max_secrets_per_mount (49)"));
	env_free(e);
}

static void test_wide_folder_window(void **state)
{
	struct env *e = env_new(NULL, 0);
	struct ss_http_stats st;
	cJSON *out = NULL;
	long lists, reads;

	(void)state;
	/* 600 keys: more than the walk hands the transport at once; every
	 * read is answered 404 (gone), which is a warning, not a failure */
	e->f.gen_folder = "kv/metadata/wide/?list=true";
	e->f.gen_count = 600;
	log_start();
	assert_int_equal(env_login(e), SS_OK);
	assert_int_equal(run_tree(e, "kv", 2, (const char *const[]){"wide/"}, 1, &out, &lists,
				  &reads),
			 SS_OK);
	assert_int_equal(reads, 600);
	assert_int_equal(e->f.ncalls, 601);
	assert_int_equal(count_calls(&e->f, "GET", "kv/data/wide/g599"), 1);
	ss_http_get_stats(e->h, &st);
	assert_true(st.max_in_flight <= 16);
	log_stop();
	ss_json_delete_secret(out);
	env_free(e);
}

static void test_batch_reads_concurrent(void **state)
{
	static const struct route r[] = {
		{"GET", "sys/internal/ui/mounts/a", 200, MOUNTS_V2, 0, 0},
		{"GET", "sys/internal/ui/mounts/b", 200, MOUNTS_V1, 0, 0},
		{"GET", "a/data/s1", 200, "{\"data\":{\"data\":{\"k\":\"v1-batch\"}}}", 0, 0},
		{"GET", "a/data/s2", 200, "{\"data\":{\"data\":{\"k\":\"v2-batch\"}}}", 0, 0},
		{"GET", "b/s3", 200, "{\"data\":{\"k\":\"v3-batch\"}}", 0, 0},
		{"GET", "b/s4", 200, "{\"data\":{\"k\":\"v4-batch\"}}", 0, 0},
		{"GET", "a/data/gone", 404, "{\"data\":{\"data\":null,\"metadata\":{\"version\":2}}}", 0, 0},
	};
	struct ss_vault_ref refs[6] = {
		{"a", "s1", NULL, 0}, {"b", "s3", NULL, 0}, {"a", "s2", NULL, 0},
		{"b", "s4", NULL, 0}, {"a", "missing", NULL, 0}, {"a", "gone", NULL, 0},
	};
	struct ss_http_stats st;
	struct env *e = env_new(r, 7);
	size_t i;

	(void)state;
	assert_int_equal(env_login(e), SS_OK);
	assert_int_equal(ss_vault_read_many(e->v, refs, 6, &e->err), SS_ERR_NOTFOUND);
	/* one mount info per mount, both at once; then six reads at once */
	assert_int_equal(count_calls(&e->f, "GET", "sys/internal/ui/mounts/a"), 1);
	assert_int_equal(count_calls(&e->f, "GET", "sys/internal/ui/mounts/b"), 1);
	assert_int_equal(e->f.ncalls, 8);
	ss_http_get_stats(e->h, &st);
	assert_int_equal(st.max_in_flight, 6);
	for (i = 0; i < 4; i++) {
		char *t;

		assert_int_equal(refs[i].rc, SS_OK);
		t = print(refs[i].value);
		assert_non_null(strstr(t, "-batch"));
		ss_free_secret(t);
		ss_json_delete_secret(refs[i].value);
	}
	assert_true(ss_mask_contains(ss_mask_global(), "v4-batch", 8));
	assert_int_equal(refs[4].rc, SS_ERR_NOTFOUND);
	assert_int_equal(refs[5].rc, SS_ERR_NOTFOUND);
	assert_null(refs[4].value);
	assert_non_null(strstr(e->err.data, "vault: a/missing: no such secret\n"));
	assert_non_null(strstr(e->err.data, "vault: a/gone: its latest version is deleted"));
	env_free(e);
}

/* --- what a user is told --- */

static void test_403_names_capability(void **state)
{
	static const struct route r[] = {
		{"GET", "sys/internal/ui/mounts/kv", 200, MOUNTS_V2, 0, 0},
		{"GET", "kv/metadata/team/?list=true", 403, DENIED, 0, 0},
		{"GET", "kv/data/team/app/db", 403, DENIED, 0, 0},
		{"GET", "auth/token/lookup-self", 200, "{\"data\":{\"policies\":[\"default\"]}}", 0, 0},
	};
	struct env *e = env_new(r, 4);
	cJSON *out = NULL;
	long lists, reads;

	(void)state;
	assert_int_equal(env_login(e), SS_OK);
	assert_int_equal(run_tree(e, "kv", 0, (const char *const[]){"team/"}, 1, &out, &lists,
				  &reads),
			 SS_ERR_AUTH);
	assert_string_equal(e->err.data,
			    "vault: LIST kv/metadata/team/: 403 permission denied (policy needs "
			    "\"list\" on kv/metadata/team/*)\n");
	/* a 403 is never retried */
	assert_int_equal(count_calls(&e->f, "GET", "kv/metadata/team/?list=true"), 1);
	ss_buf_reset(&e->err);
	assert_int_equal(ss_vault_read(e->v, "kv", "team/app/db", &out, &e->err), SS_ERR_AUTH);
	assert_string_equal(e->err.data,
			    "vault: GET kv/data/team/app/db: 403 permission denied (policy needs "
			    "\"read\" on kv/data/team/app/db)\n");
	assert_int_equal(count_calls(&e->f, "GET", "kv/data/team/app/db"), 1);
	env_free(e);
}

static void test_dead_token(void **state)
{
	static const struct route r[] = {
		{"GET", "sys/internal/ui/mounts/kv", 403, DEAD, 0, 0},
		{"GET", "kv/metadata/?list=true", 403, DEAD, 0, 0},
		{"GET", "kv/data/x", 403, DEAD, 0, 0},
		{"GET", "auth/token/lookup-self", 403, DEAD, 0, 0},
	};
	struct env *e = env_new(r, 4);
	cJSON *out = NULL;
	long lists, reads;
	int version;

	(void)state;
	assert_int_equal(env_login(e), SS_OK);
	/* detecting the version */
	assert_int_equal(ss_vault_kv_version(e->v, "kv", &version, &e->err), SS_ERR_AUTH);
	assert_string_equal(e->err.data, "vault: the token is invalid, expired or revoked "
					 "(auth/token/lookup-self: 403); give a valid VAULT_TOKEN "
					 "or check the login\n");
	/* a tree with the version given */
	ss_buf_reset(&e->err);
	assert_int_equal(run_tree(e, "kv", 2, NULL, 0, &out, &lists, &reads), SS_ERR_AUTH);
	assert_non_null(strstr(e->err.data, "the token is invalid, expired or revoked"));
	assert_null(strstr(e->err.data, "policy needs"));
	/* a tree detecting it */
	ss_buf_reset(&e->err);
	assert_int_equal(run_tree(e, "kv", 0, NULL, 0, &out, &lists, &reads), SS_ERR_AUTH);
	assert_non_null(strstr(e->err.data, "the token is invalid, expired or revoked"));
	assert_null(strstr(e->err.data, "not found"));
	env_free(e);
}

static void test_missing_mount_and_wrong_version(void **state)
{
	static const struct route r[] = {
		{"GET", "sys/internal/ui/mounts/nosuch", 403,
		 "{\"errors\":[\"preflight capability check returned 403, please ensure client's "
		 "policies grant access to path \\\"nosuch/\\\"\"]}", 0, 0},
		{"GET", "auth/token/lookup-self", 200, "{\"data\":{}}", 0, 0},
		{"GET", "nosuch/metadata/?list=true", 404,
		 "{\"errors\":[\"no handler for route \\\"nosuch/metadata/\\\". route entry not found.\"]}", 0, 0},
		/* KV v1 paths on a v2 mount */
		{"GET", "v2/?list=true", 404,
		 "{\"data\":null,\"warnings\":[\"Invalid path for a versioned K/V secrets engine. See the "
		 "API docs for the appropriate API endpoints to use.\"]}", 0, 0},
		/* KV v2 paths on a v1 mount: an empty 404, then the check */
		{"GET", "sys/internal/ui/mounts/v1", 200, MOUNTS_V1, 0, 0},
		{"GET", "v1/metadata/team/?list=true", 404, EMPTY404, 0, 0},
	};
	struct env *e = env_new(r, 6);
	cJSON *out = NULL;
	long lists, reads;

	(void)state;
	assert_int_equal(env_login(e), SS_OK);
	assert_int_equal(run_tree(e, "nosuch", 0, NULL, 0, &out, &lists, &reads), SS_ERR_AUTH);
	assert_non_null(strstr(e->err.data, "vault: mount 'nosuch' not found, or the token cannot "
					    "see it"));
	ss_buf_reset(&e->err);
	assert_int_equal(run_tree(e, "nosuch", 2, NULL, 0, &out, &lists, &reads), SS_ERR_NOTFOUND);
	assert_string_equal(e->err.data, "vault: mount 'nosuch' does not exist (Vault: no handler "
					 "for route \"nosuch/\"); check the mount name\n");
	ss_buf_reset(&e->err);
	assert_int_equal(run_tree(e, "v2", 1, NULL, 0, &out, &lists, &reads), SS_ERR_INVALID);
	assert_string_equal(e->err.data, "vault: mount 'v2' is KV v2, but kv_version 1 is "
					 "configured: set kv_version: 2 in the source, or leave it "
					 "out to detect it\n");
	ss_buf_reset(&e->err);
	assert_int_equal(run_tree(e, "v1", 2, (const char *const[]){"team/"}, 1, &out, &lists,
				  &reads),
			 SS_ERR_INVALID);
	assert_string_equal(e->err.data, "vault: mount 'v1' is KV v1, but kv_version 2 is "
					 "configured: set kv_version: 1 in the source, or leave it "
					 "out to detect it\n");
	env_free(e);
}

static void test_wrong_version_behind_403(void **state)
{
	/* a policy for KV v2 paths refuses the v1 path before Vault routes it */
	static const struct route r[] = {
		{"GET", "kv/team/?list=true", 403, DENIED, 0, 0},
		{"GET", "sys/internal/ui/mounts/kv", 200, MOUNTS_V2, 0, 0},
		{"GET", "ok/metadata/team/?list=true", 403, DENIED, 0, 0},
		{"GET", "sys/internal/ui/mounts/ok", 200, MOUNTS_V2, 0, 0},
		{"GET", "auth/token/lookup-self", 200, "{\"data\":{}}", 0, 0},
	};
	struct env *e = env_new(r, 5);
	cJSON *out = NULL;
	long lists, reads;

	(void)state;
	assert_int_equal(env_login(e), SS_OK);
	assert_int_equal(run_tree(e, "kv", 1, (const char *const[]){"team/"}, 1, &out, &lists,
				  &reads),
			 SS_ERR_INVALID);
	assert_string_equal(e->err.data, "vault: mount 'kv' is KV v2, but kv_version 1 is "
					 "configured: set kv_version: 2 in the source, or leave it "
					 "out to detect it\n");
	/* the version is right: the 403 stands */
	ss_buf_reset(&e->err);
	assert_int_equal(run_tree(e, "ok", 2, (const char *const[]){"team/"}, 1, &out, &lists,
				  &reads),
			 SS_ERR_AUTH);
	assert_string_equal(e->err.data, "vault: LIST ok/metadata/team/: 403 permission denied "
					 "(policy needs \"list\" on ok/metadata/team/*)\n");
	env_free(e);
}

static void test_malformed_answers(void **state)
{
	static const struct route r[] = {
		{"GET", "sys/internal/ui/mounts/kv", 200, MOUNTS_V2, 0, 0},
		{"GET", "kv/data/broken", 200, "{\"data\":{\"data\":{\"k\":\"v\"", 0, 0},
		{"GET", "kv/data/notobj", 200, "{\"data\":{\"data\":[\"a\"]}}", 0, 0},
		{"GET", "kv/metadata/?list=true", 200, "{\"data\":{\"keys\":[\"broken\"]}}", 0, 0},
		{"GET", "kv/metadata/nokeys/?list=true", 200, "{\"data\":{}}", 0, 0},
	};
	struct env *e = env_new(r, 5);
	cJSON *out = NULL;
	long lists, reads;

	(void)state;
	assert_int_equal(env_login(e), SS_OK);
	assert_int_equal(ss_vault_read(e->v, "kv", "broken", &out, &e->err), SS_ERR_PARSE);
	assert_string_equal(e->err.data, "vault: GET kv/data/broken: the answer is not JSON\n");
	ss_buf_reset(&e->err);
	assert_int_equal(ss_vault_read(e->v, "kv", "notobj", &out, &e->err), SS_ERR_PARSE);
	assert_string_equal(e->err.data,
			    "vault: GET kv/data/notobj: the secret's data is not a JSON object\n");
	/* in a walk a broken answer fails it: no secret is silently left out */
	ss_buf_reset(&e->err);
	assert_int_equal(run_tree(e, "kv", 0, NULL, 0, &out, &lists, &reads), SS_ERR_PARSE);
	assert_null(out);
	assert_non_null(strstr(e->err.data, "the answer is not JSON"));
	ss_buf_reset(&e->err);
	assert_int_equal(run_tree(e, "kv", 0, (const char *const[]){"nokeys/"}, 1, &out, &lists,
				  &reads),
			 SS_ERR_PARSE);
	assert_non_null(strstr(e->err.data, "the answer has no data.keys list"));
	env_free(e);
}

static void test_transport_errors(void **state)
{
	static const struct route r[] = {
		{"GET", "sys/internal/ui/mounts/kv", 0, NULL, 0, SS_HTTP_FAIL_CONNECT},
		{"GET", "sys/internal/ui/mounts/t", 0, NULL, 0, SS_HTTP_FAIL_TLS},
		{"GET", "sys/internal/ui/mounts/r", 412, "{\"errors\":[\"required index state not present\"]}", 1, 0},
		{"GET", "sys/internal/ui/mounts/r", 200, MOUNTS_V1, 0, 0},
	};
	struct env *e = env_new(r, 4);
	int version;

	(void)state;
	assert_int_equal(env_login(e), SS_OK);
	/* retried up to the bound, then a message naming the setting */
	assert_int_equal(ss_vault_kv_version(e->v, "kv", &version, &e->err), SS_ERR_NET);
	assert_int_equal(count_calls(&e->f, "GET", "sys/internal/ui/mounts/kv"), 3);
	assert_non_null(strstr(e->err.data, "vault: GET sys/internal/ui/mounts/kv: "));
	assert_non_null(strstr(e->err.data, "check vault.address / VAULT_ADDR"));
	/* a TLS failure is final */
	ss_buf_reset(&e->err);
	assert_int_equal(ss_vault_kv_version(e->v, "t", &version, &e->err), SS_ERR_NET);
	assert_int_equal(count_calls(&e->f, "GET", "sys/internal/ui/mounts/t"), 1);
	/* Vault's 412 is retried */
	ss_buf_reset(&e->err);
	assert_int_equal(ss_vault_kv_version(e->v, "r", &version, &e->err), SS_OK);
	assert_int_equal(version, 1);
	assert_int_equal(count_calls(&e->f, "GET", "sys/internal/ui/mounts/r"), 2);
	env_free(e);
}

static void test_error_text_masked(void **state)
{
	/* the server's words echo a secret: the message never holds it */
	static const struct route r[] = {
		{"GET", "sys/internal/ui/mounts/kv", 200, MOUNTS_V2, 0, 0},
		{"GET", "kv/data/echo", 400, "{\"errors\":[\"bad value near echo-secret-value-77\"]}", 0, 0},
	};
	struct env *e = env_new(r, 2);
	cJSON *out = NULL;

	(void)state;
	assert_int_equal(ss_mask_add(ss_mask_global(), "echo-secret-value-77"), SS_OK);
	assert_int_equal(env_login(e), SS_OK);
	assert_int_equal(ss_vault_read(e->v, "kv", "echo", &out, &e->err), SS_ERR_HTTP);
	assert_string_equal(e->err.data, "vault: GET kv/data/echo: HTTP 400 bad value near ***\n");
	env_free(e);
}

static void test_address_checks(void **state)
{
	struct env *e = env_new(NULL, 0);
	struct ss_vault *v;

	(void)state;
	e->s.address = "https://127.0.0.1:8200";
	v = ss_vault_new(e->h, &e->s, &e->err);
	assert_null(v);
	assert_non_null(strstr(e->err.data, "VAULT_ADDR: https://127.0.0.1 is an IP address"));
	assert_non_null(strstr(e->err.data, "VAULT_TLS_SERVER_NAME"));
	ss_buf_reset(&e->err);
	e->s.address = "vault.example.com:8200";
	assert_null(ss_vault_new(e->h, &e->s, &e->err));
	assert_non_null(strstr(e->err.data, "is not a URL"));
	ss_buf_reset(&e->err);
	e->s.address = NULL;
	assert_null(ss_vault_new(e->h, &e->s, &e->err));
	assert_non_null(strstr(e->err.data, "no address"));
	env_free(e);
}

static void test_tls_server_name(void **state)
{
	static const struct route r[] = {
		{"GET", "sys/internal/ui/mounts/kv", 200, MOUNTS_V2, 0, 0},
	};
	struct env *e = env_new(r, 1);
	int version;

	(void)state;
	e->s.address = "https://10.1.2.3:8200";
	e->s.tls_server_name = "vault.internal";
	assert_int_equal(env_login(e), SS_OK);
	assert_int_equal(ss_vault_kv_version(e->v, "kv", &version, &e->err), SS_OK);
	assert_int_equal(version, 2);
	env_free(e);
}

static void test_write(void **state)
{
	static const struct route r[] = {
		{"GET", "sys/internal/ui/mounts/m2", 200, MOUNTS_V2, 0, 0},
		{"GET", "sys/internal/ui/mounts/m1", 200, MOUNTS_V1, 0, 0},
		{"POST", "m2/data/t/bundle", 200, "{\"data\":{\"version\":1}}", 0, 0},
		{"POST", "m1/t/bundle", 204, NULL, 0, 0},
		{"POST", "m2/data/ro", 403, DENIED, 0, 0},
	};
	struct env *e = env_new(r, 5);
	cJSON *data = NULL;

	(void)state;
	assert_int_equal(ss_json_parse("{\"a\":\"write-value-1\"}", 21, &data), SS_OK);
	assert_int_equal(env_login(e), SS_OK);
	assert_int_equal(ss_vault_write(e->v, "m2", "t/bundle", data, &e->err), SS_OK);
	assert_string_equal(find_call(&e->f, "POST", "m2/data/t/bundle")->body,
			    "{\"data\":{\"a\":\"write-value-1\"}}");
	assert_int_equal(ss_vault_write(e->v, "m1", "t/bundle", data, &e->err), SS_OK);
	assert_string_equal(find_call(&e->f, "POST", "m1/t/bundle")->body,
			    "{\"a\":\"write-value-1\"}");
	assert_int_equal(ss_vault_write(e->v, "m2", "ro", data, &e->err), SS_ERR_AUTH);
	assert_non_null(strstr(e->err.data, "policy needs \"create\" and \"update\" on m2/data/ro"));
	ss_json_delete_secret(data);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_ok),
		cmocka_unit_test(test_token_auth_headers),
		cmocka_unit_test(test_approle_login_and_revoke),
		cmocka_unit_test(test_login_failures),
		cmocka_unit_test(test_jwt_login),
		cmocka_unit_test(test_tree_kv2),
		cmocka_unit_test(test_tree_kv1_and_start_paths),
		cmocka_unit_test(test_hostile_keys),
		cmocka_unit_test(test_depth_cap_on_loop),
		cmocka_unit_test(test_count_cap),
		cmocka_unit_test(test_wide_folder_window),
		cmocka_unit_test(test_batch_reads_concurrent),
		cmocka_unit_test(test_403_names_capability),
		cmocka_unit_test(test_dead_token),
		cmocka_unit_test(test_missing_mount_and_wrong_version),
		cmocka_unit_test(test_wrong_version_behind_403),
		cmocka_unit_test(test_malformed_answers),
		cmocka_unit_test(test_transport_errors),
		cmocka_unit_test(test_error_text_masked),
		cmocka_unit_test(test_address_checks),
		cmocka_unit_test(test_tls_server_name),
		cmocka_unit_test(test_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
