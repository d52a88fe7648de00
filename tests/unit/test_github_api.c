/* test_github_api.c - the GitHub client on the fake transport: commit
 * statuses, the sticky comment (pagination, bot filter, create vs edit,
 * the size cap, Link to another host), error explanations, the event
 * context, the marker, the description cut and the Link parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <cmocka.h>

#include "backends/github_api.h"
#include "core/json.h"
#include "core/mask.h"
#include "net/http.h"

#define TOKEN	 "ghs_unit_test_token_0123456789"
#define HEAD	 "89abcdef0123456789abcdef0123456789abcdef"
#define PUSH_SHA "0123456789abcdef0123456789abcdef01234567"
#define API	 "https://api.github.com"
#define COMMENTS API "/repos/octo/app/issues/7/comments"
#define MARKER	 "<!-- secretsync:sticky config=secretsync.yaml command=plan -->"

/* ---- a scripted GitHub ---- */

struct route {
	const char *method;
	const char *url; /* exact, or a prefix when it ends in '*' */
	long status;
	const char *body;
	const char *hname[2];
	const char *hval[2];
	int times; /* 0 = always */
	int used;
};

struct seen {
	char method[8];
	char url[1024];
	char auth[128];
	char accept[64];
	char version[32];
	char ctype[64];
	char *body;
	int idempotent;
};

#define MAX_SEEN (SS_GITHUB_MAX_PAGES + 8)

struct server {
	struct route *routes;
	size_t nroutes;
	struct seen seen[MAX_SEEN];
	size_t n;
	int endless;
};

static const char *req_header(const struct ss_http_req *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return "";
}

static int route_match(const struct route *r, const struct ss_http_req *req)
{
	size_t n = strlen(r->url);

	if (strcmp(r->method, req->method) != 0 || (r->times != 0 && r->used >= r->times))
		return 0;
	if (n > 0 && r->url[n - 1] == '*')
		return strncmp(r->url, req->url, n - 1) == 0;
	return strcmp(r->url, req->url) == 0;
}

static void fake(const struct ss_http_req *req, struct ss_http_resp *resp, void *ctx)
{
	struct server *s = ctx;
	struct seen *w;
	size_t i, k;

	assert_true(s->n < MAX_SEEN);
	w = &s->seen[s->n++];
	snprintf(w->method, sizeof(w->method), "%s", req->method);
	snprintf(w->url, sizeof(w->url), "%s", req->url);
	snprintf(w->auth, sizeof(w->auth), "%s", req_header(req, "Authorization"));
	snprintf(w->accept, sizeof(w->accept), "%s", req_header(req, "Accept"));
	snprintf(w->version, sizeof(w->version), "%s", req_header(req, "X-GitHub-Api-Version"));
	snprintf(w->ctype, sizeof(w->ctype), "%s", req_header(req, "Content-Type"));
	w->body = req->body ? strndup(req->body, req->body_len) : NULL;
	w->idempotent = req->idempotent;
	if (s->endless && strcmp(req->method, "GET") == 0) {
		/* Every page links to a new next page. */
		char link[256];

		snprintf(link, sizeof(link),
			 "<" API "/repositories/1/issues/7/comments?page=%zu>; "
			 "rel=\"next\"",
			 s->n + 1);
		resp->status = 200;
		assert_int_equal(ss_buf_adds(&resp->body, "[]"), SS_OK);
		assert_int_equal(ss_http_resp_add_header(resp, "Link", 4, link, strlen(link)),
				 SS_OK);
		return;
	}
	for (i = 0; i < s->nroutes; i++) {
		struct route *r = &s->routes[i];

		if (!route_match(r, req))
			continue;
		r->used++;
		resp->status = r->status;
		if (r->body != NULL)
			assert_int_equal(ss_buf_adds(&resp->body, r->body), SS_OK);
		for (k = 0; k < 2 && r->hname[k] != NULL; k++)
			assert_int_equal(ss_http_resp_add_header(resp, r->hname[k],
								 strlen(r->hname[k]), r->hval[k],
								 strlen(r->hval[k])),
					 SS_OK);
		return;
	}
	resp->status = 404;
	assert_int_equal(ss_buf_adds(&resp->body, "{\"message\":\"no route in the test\"}"), SS_OK);
}

static void server_free(struct server *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->seen[i].body);
	s->n = 0;
}

/* A world: a PR context on api.github.com (or base), a client, a fake. */
struct world {
	struct ss_github_context ctx;
	struct ss_http *h;
	struct ss_github *g;
	struct server s;
	struct ss_buf err;
};

static void world_init(struct world *w, const char *base, long pr, struct route *routes,
		       size_t nroutes)
{
	memset(w, 0, sizeof(*w));
	setenv("SECRETSYNC_HTTP_BACKOFF_MS", "1", 1);
	setenv("SECRETSYNC_HTTP_ATTEMPTS", "3", 1);
	w->ctx.api_url = strdup(base ? base : API);
	w->ctx.repository = strdup("octo/app");
	w->ctx.sha = strdup(PUSH_SHA);
	w->ctx.event_name = strdup(pr ? "pull_request" : "push");
	w->ctx.pr_number = pr;
	w->ctx.head_sha = pr ? strdup(HEAD) : NULL;
	w->ctx.target_url = strdup("https://github.com/octo/app/actions/runs/42");
	w->s.routes = routes;
	w->s.nroutes = nroutes;
	ss_buf_init(&w->err, 0);
	w->h = ss_http_new(4);
	assert_non_null(w->h);
	ss_http_set_fake(w->h, fake, &w->s);
	w->g = ss_github_new(w->h, &w->ctx, TOKEN, &w->err);
	assert_non_null(w->g);
}

static void world_free(struct world *w)
{
	ss_github_free(w->g);
	ss_http_free(w->h);
	ss_github_context_free(&w->ctx);
	server_free(&w->s);
	ss_buf_free(&w->err);
}

static void assert_github_headers(const struct seen *r)
{
	assert_string_equal(r->auth, "Bearer " TOKEN);
	assert_string_equal(r->accept, "application/vnd.github+json");
	assert_string_equal(r->version, "2022-11-28");
	if (r->body != NULL)
		assert_non_null(strstr(r->ctype, "application/json"));
}

static cJSON *seen_json(const struct seen *r)
{
	cJSON *doc = NULL;

	assert_non_null(r->body);
	assert_int_equal(ss_json_parse(r->body, strlen(r->body), &doc), SS_OK);
	return doc;
}

/* ---- commit status ---- */

static void test_status_on_pr_head(void **state)
{
	struct route routes[] = {
	    {"POST", API "/repos/octo/app/statuses/" HEAD, 201, "{\"id\":1}", {0}, {0}, 0, 0},
	};
	struct world w;
	cJSON *doc;

	(void)state;
	world_init(&w, NULL, 7, routes, 1);
	assert_int_equal(
	    ss_github_status(w.g, NULL, "success", "secretsync", "1 to create", NULL, &w.err),
	    SS_OK);
	assert_int_equal(w.s.n, 1);
	assert_string_equal(w.s.seen[0].method, "POST");
	assert_github_headers(&w.s.seen[0]);
	assert_int_equal(w.s.seen[0].idempotent, 1);
	doc = seen_json(&w.s.seen[0]);
	assert_string_equal(ss_json_get_string(doc, "state"), "success");
	assert_string_equal(ss_json_get_string(doc, "context"), "secretsync");
	assert_string_equal(ss_json_get_string(doc, "description"), "1 to create");
	assert_string_equal(ss_json_get_string(doc, "target_url"),
			    "https://github.com/octo/app/actions/runs/42");
	ss_json_delete_secret(doc);
	assert_int_equal(w.err.len, 0);
	world_free(&w);
}

static void test_status_push_sha_ghes_no_target(void **state)
{
	struct route routes[] = {
	    {"POST",
	     "https://ghe.example.com/api/v3/repos/octo/app/statuses/" PUSH_SHA,
	     201,
	     "{}",
	     {0},
	     {0},
	     0,
	     0},
	};
	struct world w;
	cJSON *doc;

	(void)state;
	world_init(&w, "https://ghe.example.com/api/v3", 0, routes, 1);
	assert_int_equal(ss_github_status(w.g, NULL, "pending", "ci/x", NULL, "", &w.err), SS_OK);
	assert_int_equal(w.s.n, 1);
	doc = seen_json(&w.s.seen[0]);
	assert_null(cJSON_GetObjectItemCaseSensitive(doc, "target_url"));
	assert_string_equal(ss_json_get_string(doc, "description"), "");
	ss_json_delete_secret(doc);
	world_free(&w);
}

static void test_status_description_cut(void **state)
{
	struct route routes[] = {
	    {"POST", API "/repos/octo/app/statuses/*", 201, "{}", {0}, {0}, 0, 0},
	};
	struct world w;
	char desc[1024];
	const char *sent;
	cJSON *doc;
	size_t i;

	(void)state;
	/* 200 two-byte characters: a byte cut at 140 would split one. */
	for (i = 0; i < 200; i++)
		memcpy(desc + 2 * i, "\xc3\xa9", 2);
	desc[400] = '\0';
	world_init(&w, NULL, 0, routes, 1);
	assert_int_equal(ss_github_status(w.g, PUSH_SHA, "failure", "c", desc, NULL, &w.err),
			 SS_OK);
	doc = seen_json(&w.s.seen[0]);
	sent = ss_json_get_string(doc, "description");
	assert_non_null(sent);
	assert_int_equal(ss_github_utf8_chars(sent, strlen(sent)), 140);
	assert_int_equal(strncmp(sent, desc, 139 * 2), 0);
	assert_string_equal(sent + 139 * 2, "\xe2\x80\xa6");
	ss_json_delete_secret(doc);
	world_free(&w);
}

static void test_status_retried_on_5xx(void **state)
{
	struct route routes[] = {
	    {"POST", API "/repos/octo/app/statuses/*", 502, "bad gateway", {0}, {0}, 1, 0},
	    {"POST", API "/repos/octo/app/statuses/*", 201, "{}", {0}, {0}, 0, 0},
	};
	struct world w;

	(void)state;
	world_init(&w, NULL, 0, routes, 2);
	assert_int_equal(ss_github_status(w.g, NULL, "success", "c", "d", NULL, &w.err), SS_OK);
	assert_int_equal(w.s.n, 2);
	world_free(&w);
}

struct error_case {
	const char *name;
	long status;
	const char *body;
	const char *hname[2];
	const char *hval[2];
	enum ss_rc rc;
	const char *want[3];
};

static const struct error_case status_errors[] = {
    {"403 no permission",
     403,
     "{\"message\":\"Resource not accessible by integration\",\"documentation_url\":\"x\"}",
     {0},
     {0},
     SS_ERR_AUTH,
     {"403 Resource not accessible by integration", "statuses: write", "POST /repos/octo/app"}},
    {"404",
     404,
     "{\"message\":\"Not Found\"}",
     {0},
     {0},
     SS_ERR_NOTFOUND,
     {"404 Not Found", "statuses: write", NULL}},
    {"401",
     401,
     "{\"message\":\"Bad credentials\"}",
     {0},
     {0},
     SS_ERR_AUTH,
     {"401 Bad credentials", "invalid or expired", "GITHUB_TOKEN"}},
    {"422 objects",
     422,
     "{\"message\":\"Validation Failed\",\"errors\":[{\"resource\":\"Status\",\"code\":"
     "\"custom\",\"field\":\"description\",\"message\":\"description is too long\"}]}",
     {0},
     {0},
     SS_ERR_INVALID,
     {"422 Validation Failed: description is too long", NULL, NULL}},
    {"422 string",
     422,
     "{\"message\":\"Validation Failed\",\"errors\":\"No commit found for SHA: abc\"}",
     {0},
     {0},
     SS_ERR_INVALID,
     {"Validation Failed: No commit found for SHA: abc", NULL, NULL}},
    {"422 code only",
     422,
     "{\"message\":\"Validation Failed\",\"errors\":[{\"field\":\"state\",\"code\":\"invalid\"}]}",
     {0},
     {0},
     SS_ERR_INVALID,
     {"Validation Failed: state invalid", NULL, NULL}},
    {"403 rate limit",
     403,
     "{\"message\":\"API rate limit exceeded for installation ID 1.\"}",
     {"X-RateLimit-Remaining", "X-RateLimit-Reset"},
     {"0", "99999999999"},
     SS_ERR_HTTP,
     {"API rate limit exceeded", "rate limit is used up", "resets in"}},
    {"403 secondary rate limit",
     403,
     "{\"message\":\"You have exceeded a secondary rate limit.\"}",
     {"Retry-After", NULL},
     {"60", NULL},
     SS_ERR_HTTP,
     {"secondary rate limit", "wait 60 s", NULL}},
    {"429 after retries",
     429,
     "{\"message\":\"slow down\"}",
     {"Retry-After", NULL},
     {"0", NULL},
     SS_ERR_HTTP,
     {"429 slow down", "3 attempts", NULL}},
    {"plain text 403 (no user agent)",
     403,
     "Request forbidden by administrative rules.\n",
     {0},
     {0},
     SS_ERR_AUTH,
     {"403 Request forbidden by administrative rules.", NULL, NULL}},
    {"500 not json",
     500,
     "<html>oops</html>",
     {0},
     {0},
     SS_ERR_HTTP,
     {"HTTP 500 <html>oops</html>", NULL, NULL}},
    {"token echoed back is masked",
     400,
     "{\"message\":\"bad header Bearer " TOKEN "\"}",
     {0},
     {0},
     SS_ERR_HTTP,
     {"bad header Bearer ***", NULL, NULL}},
};

static void test_status_errors(void **state)
{
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(status_errors) / sizeof(status_errors[0]); i++) {
		const struct error_case *c = &status_errors[i];
		struct route routes[] = {
		    {"POST",
		     API "/repos/octo/app/statuses/*",
		     c->status,
		     c->body,
		     {c->hname[0], c->hname[1]},
		     {c->hval[0], c->hval[1]},
		     0,
		     0},
		};
		struct world w;
		enum ss_rc rc;

		world_init(&w, NULL, 7, routes, 1);
		rc = ss_github_status(w.g, NULL, "success", "c", "d", NULL, &w.err);
		if (rc != c->rc)
			fail_msg("case '%s': rc %d, want %d: %s", c->name, rc, c->rc, w.err.data);
		for (k = 0; k < 3 && c->want[k] != NULL; k++)
			if (strstr(w.err.data, c->want[k]) == NULL)
				fail_msg("case '%s': '%s' not in: %s", c->name, c->want[k],
					 w.err.data);
		if (strstr(w.err.data, TOKEN) != NULL)
			fail_msg("case '%s': the token is in the error", c->name);
		assert_int_equal(strncmp(w.err.data, "github: ", 8), 0);
		world_free(&w);
	}
}

static void test_status_bad_arguments(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, NULL, 0, NULL, 0);
	assert_int_equal(ss_github_status(w.g, NULL, "done", "c", "d", NULL, &w.err),
			 SS_ERR_INVALID);
	assert_non_null(strstr(w.err.data, "pending, success, failure or error"));
	assert_int_equal(ss_github_status(w.g, NULL, "success", "", "d", NULL, &w.err),
			 SS_ERR_INVALID);
	assert_int_equal(ss_github_status(w.g, "../../x", "success", "c", "d", NULL, &w.err),
			 SS_ERR_INVALID);
	free(w.ctx.sha);
	w.ctx.sha = NULL;
	assert_int_equal(ss_github_status(w.g, NULL, "success", "c", "d", NULL, &w.err),
			 SS_ERR_INVALID);
	assert_non_null(strstr(w.err.data, "no commit SHA"));
	assert_int_equal(w.s.n, 0);
	world_free(&w);
}

/* ---- the sticky comment ---- */

static void test_comment_created(void **state)
{
	struct route routes[] = {
	    {"GET",
	     COMMENTS "?per_page=100",
	     200,
	     "[{\"id\":5,\"user\":{\"login\":\"alice\",\"type\":\"User\"},\"body\":\"hi\"}]",
	     {0},
	     {0},
	     0,
	     0},
	    {"POST",
	     COMMENTS,
	     201,
	     "{\"id\":99,\"html_url\":\"https://github.com/octo/app/pull/7#issuecomment-99\"}",
	     {0},
	     {0},
	     0,
	     0},
	};
	struct ss_github_comment out;
	struct world w;
	cJSON *doc;

	(void)state;
	world_init(&w, NULL, 7, routes, 2);
	assert_int_equal(ss_github_sticky_comment(w.g, 0, MARKER, "## Plan\n", &out, &w.err),
			 SS_OK);
	assert_int_equal(w.s.n, 2);
	assert_string_equal(w.s.seen[0].method, "GET");
	assert_github_headers(&w.s.seen[0]);
	assert_string_equal(w.s.seen[1].method, "POST");
	assert_github_headers(&w.s.seen[1]);
	assert_int_equal(w.s.seen[1].idempotent, 0);
	doc = seen_json(&w.s.seen[1]);
	assert_string_equal(ss_json_get_string(doc, "body"), MARKER "\n## Plan\n");
	ss_json_delete_secret(doc);
	assert_int_equal(out.id, 99);
	assert_int_equal(out.updated, 0);
	assert_string_equal(out.html_url, "https://github.com/octo/app/pull/7#issuecomment-99");
	world_free(&w);
}

static void test_comment_post_5xx_not_retried(void **state)
{
	struct route routes[] = {
	    {"GET", COMMENTS "?per_page=100", 200, "[]", {0}, {0}, 0, 0},
	    {"POST", COMMENTS, 502, "{\"message\":\"Server Error\"}", {0}, {0}, 1, 0},
	    {"POST", COMMENTS, 201, "{\"id\":1}", {0}, {0}, 0, 0},
	};
	struct world w;

	(void)state;
	world_init(&w, NULL, 7, routes, 3);
	assert_int_equal(ss_github_sticky_comment(w.g, 0, MARKER, "x", NULL, &w.err), SS_ERR_HTTP);
	assert_int_equal(w.s.n, 2); /* one GET, one POST: never a second POST */
	assert_non_null(strstr(w.err.data, "HTTP 502 Server Error"));
	world_free(&w);
}

#define PAGE2 "https://api.github.com/repositories/4242/issues/7/comments?per_page=100&page=2"
#define PAGE3 "https://api.github.com/repositories/4242/issues/7/comments?per_page=100&page=3"

static void test_comment_found_on_page3(void **state)
{
	struct route routes[] = {
	    {"GET",
	     COMMENTS "?per_page=100",
	     200,
	     "[{\"id\":1,\"user\":{\"type\":\"User\"},\"body\":\"a\"}]",
	     {"Link", NULL},
	     {"<" PAGE2 ">; rel=\"next\", <" PAGE3 ">; rel=\"last\"", NULL},
	     0,
	     0},
	    {"GET",
	     PAGE2,
	     200,
	     "[{\"id\":2,\"user\":{\"type\":\"Bot\"},\"body\":\"other bot text\"}]",
	     {"Link", NULL},
	     {"<" COMMENTS "?per_page=100&page=1>; rel=\"prev\", <" PAGE3 ">; rel=\"next\", <" PAGE3
	      ">; rel=\"last\", <" COMMENTS "?per_page=100&page=1>; rel=\"first\"",
	      NULL},
	     0,
	     0},
	    {"GET",
	     PAGE3,
	     200,
	     "[{\"id\":3,\"user\":{\"type\":\"Bot\"},\"body\":\"" MARKER "\\nold\"},"
	     "{\"id\":4,\"user\":{\"type\":\"User\"},\"body\":\"thanks\"}]",
	     {"Link", NULL},
	     {"<" PAGE2 ">; rel=\"prev\"", NULL},
	     0,
	     0},
	    {"PATCH",
	     API "/repos/octo/app/issues/comments/3",
	     200,
	     "{\"id\":3,\"html_url\":\"https://github.com/octo/app/pull/7#issuecomment-3\"}",
	     {0},
	     {0},
	     0,
	     0},
	};
	struct ss_github_comment out;
	struct world w;
	cJSON *doc;

	(void)state;
	world_init(&w, NULL, 7, routes, 4);
	assert_int_equal(ss_github_sticky_comment(w.g, 0, MARKER, "new", &out, &w.err), SS_OK);
	assert_int_equal(w.s.n, 4);
	assert_string_equal(w.s.seen[0].url, COMMENTS "?per_page=100");
	assert_string_equal(w.s.seen[1].url, PAGE2);
	assert_string_equal(w.s.seen[2].url, PAGE3);
	assert_string_equal(w.s.seen[3].method, "PATCH");
	assert_github_headers(&w.s.seen[3]);
	assert_int_equal(w.s.seen[3].idempotent, 1);
	doc = seen_json(&w.s.seen[3]);
	assert_string_equal(ss_json_get_string(doc, "body"), MARKER "\nnew");
	ss_json_delete_secret(doc);
	assert_int_equal(out.id, 3);
	assert_int_equal(out.updated, 1);
	assert_int_equal(out.unchanged, 0);
	world_free(&w);
}

static void test_comment_user_marker_ignored(void **state)
{
	struct route routes[] = {
	    {"GET",
	     COMMENTS "?per_page=100",
	     200,
	     "[{\"id\":1,\"user\":{\"login\":\"alice\",\"type\":\"User\"},\"body\":\"quote: " MARKER
	     "\"},{\"id\":2,\"user\":{\"type\":\"Bot\"},\"body\":\"<!-- secretsync:sticky "
	     "config=secretsync.yaml command=pipeline -->\"},{\"id\":6,\"body\":\"" MARKER "\"}]",
	     {0},
	     {0},
	     0,
	     0},
	    {"POST", COMMENTS, 201, "{\"id\":10}", {0}, {0}, 0, 0},
	};
	struct ss_github_comment out;
	struct world w;

	(void)state;
	world_init(&w, NULL, 7, routes, 2);
	assert_int_equal(ss_github_sticky_comment(w.g, 0, MARKER, "b", &out, &w.err), SS_OK);
	assert_int_equal(w.s.n, 2);
	assert_string_equal(w.s.seen[1].method, "POST");
	assert_int_equal(out.id, 10);
	assert_int_equal(out.updated, 0);
	world_free(&w);
}

static void test_comment_newest_of_several(void **state)
{
	struct route routes[] = {
	    {"GET",
	     COMMENTS "?per_page=100",
	     200,
	     "[{\"id\":11,\"user\":{\"type\":\"Bot\"},\"body\":\"" MARKER "\\nv1\"},"
	     "{\"id\":12,\"user\":{\"type\":\"User\"},\"body\":\"x\"},"
	     "{\"id\":13,\"user\":{\"type\":\"Bot\"},\"body\":\"" MARKER "\\nv2\"}]",
	     {0},
	     {0},
	     0,
	     0},
	    {"PATCH", API "/repos/octo/app/issues/comments/*", 200, "{\"id\":13}", {0}, {0}, 0, 0},
	};
	struct world w;

	(void)state;
	world_init(&w, NULL, 7, routes, 2);
	assert_int_equal(ss_github_sticky_comment(w.g, 0, MARKER, "v3", NULL, &w.err), SS_OK);
	assert_int_equal(w.s.n, 2);
	assert_string_equal(w.s.seen[1].url, API "/repos/octo/app/issues/comments/13");
	world_free(&w);
}

static void test_comment_unchanged_not_sent(void **state)
{
	struct route routes[] = {
	    {"GET",
	     COMMENTS "?per_page=100",
	     200,
	     "[{\"id\":21,\"user\":{\"type\":\"Bot\"},\"body\":\"" MARKER "\\nsame\"}]",
	     {0},
	     {0},
	     0,
	     0},
	};
	struct ss_github_comment out;
	struct world w;

	(void)state;
	world_init(&w, NULL, 7, routes, 1);
	assert_int_equal(ss_github_sticky_comment(w.g, 0, MARKER, "same", &out, &w.err), SS_OK);
	assert_int_equal(w.s.n, 1);
	assert_int_equal(out.id, 21);
	assert_int_equal(out.unchanged, 1);
	world_free(&w);
}

static void test_comment_deleted_meanwhile(void **state)
{
	struct route routes[] = {
	    {"GET",
	     COMMENTS "?per_page=100",
	     200,
	     "[{\"id\":21,\"user\":{\"type\":\"Bot\"},\"body\":\"" MARKER "\\nold\"}]",
	     {0},
	     {0},
	     0,
	     0},
	    {"PATCH",
	     API "/repos/octo/app/issues/comments/21",
	     404,
	     "{\"message\":\"Not Found\"}",
	     {0},
	     {0},
	     0,
	     0},
	    {"POST", COMMENTS, 201, "{\"id\":22}", {0}, {0}, 0, 0},
	};
	struct ss_github_comment out;
	struct world w;

	(void)state;
	world_init(&w, NULL, 7, routes, 3);
	assert_int_equal(ss_github_sticky_comment(w.g, 0, MARKER, "new", &out, &w.err), SS_OK);
	assert_int_equal(w.s.n, 3);
	assert_int_equal(out.id, 22);
	assert_int_equal(out.updated, 0);
	world_free(&w);
}

static char *repeat(const char *unit, size_t times)
{
	size_t n = strlen(unit), i;
	char *s = malloc(n * times + 1);

	assert_non_null(s);
	for (i = 0; i < times; i++)
		memcpy(s + i * n, unit, n);
	s[n * times] = '\0';
	return s;
}

static void test_comment_size_cap(void **state)
{
	struct route routes[] = {
	    {"GET", COMMENTS "?per_page=100", 200, "[]", {0}, {0}, 0, 0},
	    {"POST", COMMENTS, 201, "{\"id\":1}", {0}, {0}, 0, 0},
	};
	size_t room = ss_github_comment_room(MARKER);
	struct world w;
	char *body;
	cJSON *doc;

	(void)state;
	assert_int_equal(room, SS_GITHUB_COMMENT_MAX - strlen(MARKER) - 1);
	world_init(&w, NULL, 7, routes, 2);
	/* One character too many: refused before any request. */
	body = repeat("a", room + 1);
	assert_int_equal(ss_github_sticky_comment(w.g, 0, MARKER, body, NULL, &w.err),
			 SS_ERR_TOOBIG);
	assert_non_null(strstr(w.err.data, "65537 characters"));
	assert_non_null(strstr(w.err.data, "65536"));
	assert_int_equal(w.s.n, 0);
	free(body);
	/* Exactly the limit: sent. */
	body = repeat("a", room);
	assert_int_equal(ss_github_sticky_comment(w.g, 0, MARKER, body, NULL, &w.err), SS_OK);
	assert_int_equal(w.s.n, 2);
	doc = seen_json(&w.s.seen[1]);
	assert_int_equal(strlen(ss_json_get_string(doc, "body")), SS_GITHUB_COMMENT_MAX);
	ss_json_delete_secret(doc);
	free(body);
	/* Characters, not bytes: room two-byte characters still fit... */
	body = repeat("\xc3\xa9", room);
	assert_int_equal(ss_github_sticky_comment(w.g, 0, MARKER, body, NULL, &w.err), SS_OK);
	free(body);
	/* ...one more does not. */
	body = repeat("\xc3\xa9", room + 1);
	assert_int_equal(ss_github_sticky_comment(w.g, 0, MARKER, body, NULL, &w.err),
			 SS_ERR_TOOBIG);
	free(body);
	/* Not UTF-8: refused. */
	assert_int_equal(ss_github_sticky_comment(w.g, 0, MARKER, "bad \xff byte", NULL, &w.err),
			 SS_ERR_INVALID);
	assert_int_equal(w.s.n, 4);
	world_free(&w);
}

static void test_comment_link_elsewhere_refused(void **state)
{
	static const char *const links[] = {
	    "<https://evil.example.com/repos/octo/app/issues/7/comments?page=2>; rel=\"next\"",
	    "<https://api.github.com.evil.com/repos/octo/app/issues/7/comments?page=2>; "
	    "rel=\"next\"",
	    "<https://api.github.com@evil.com/x?page=2>; rel=\"next\"",
	    "<http://api.github.com/repos/octo/app/issues/7/comments?page=2>; rel=\"next\"",
	    "</repos/octo/app/issues/7/comments?page=2>; rel=\"next\"",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		struct route routes[] = {
		    {"GET",
		     COMMENTS "?per_page=100",
		     200,
		     "[]",
		     {"Link", NULL},
		     {links[i], NULL},
		     0,
		     0},
		    {"GET", "*", 200, "[]", {0}, {0}, 0, 0},
		    {"POST", "*", 201, "{\"id\":1}", {0}, {0}, 0, 0},
		};
		struct world w;

		world_init(&w, NULL, 7, routes, 3);
		if (ss_github_sticky_comment(w.g, 0, MARKER, "x", NULL, &w.err) != SS_ERR_INVALID)
			fail_msg("link %zu was followed", i);
		assert_int_equal(w.s.n, 1);
		assert_non_null(strstr(w.err.data, "not under GITHUB_API_URL"));
		world_free(&w);
	}
}

static void test_comment_page_loops_bounded(void **state)
{
	struct route routes[] = {
	    {"GET",
	     COMMENTS "?per_page=100",
	     200,
	     "[]",
	     {"Link", NULL},
	     {"<" COMMENTS "?per_page=100>; rel=\"next\"", NULL},
	     0,
	     0},
	};
	struct route repeat3[] = {
	    {"GET",
	     COMMENTS "*",
	     200,
	     "[]",
	     {"Link", NULL},
	     {"<" PAGE2 ">; rel=\"next\"", NULL},
	     1,
	     0},
	    {"GET", "*", 200, "[]", {"Link", NULL}, {"<" PAGE3 ">; rel=\"next\"", NULL}, 0, 0},
	};
	struct world w;

	(void)state;
	world_init(&w, NULL, 7, routes, 1);
	assert_int_equal(ss_github_sticky_comment(w.g, 0, MARKER, "x", NULL, &w.err),
			 SS_ERR_TOOBIG);
	assert_int_equal(w.s.n, 1);
	world_free(&w);
	/* page 1 -> 2 -> 3 -> 3: stops at the repeated page */
	world_init(&w, NULL, 7, repeat3, 2);
	assert_int_equal(ss_github_sticky_comment(w.g, 0, MARKER, "x", NULL, &w.err),
			 SS_ERR_TOOBIG);
	assert_int_equal(w.s.n, 3);
	world_free(&w);
	/* a new page every time: stops at the page cap, nothing posted */
	world_init(&w, NULL, 7, NULL, 0);
	w.s.endless = 1;
	assert_int_equal(ss_github_sticky_comment(w.g, 0, MARKER, "x", NULL, &w.err),
			 SS_ERR_TOOBIG);
	assert_int_equal(w.s.n, SS_GITHUB_MAX_PAGES);
	assert_non_null(strstr(w.err.data, "too many pages"));
	world_free(&w);
}

static const struct error_case comment_errors[] = {
    {"POST 403",
     403,
     "{\"message\":\"Resource not accessible by integration\"}",
     {0},
     {0},
     SS_ERR_AUTH,
     {"POST /repos/octo/app/issues/7/comments: 403", "pull-requests: write", "issues: write"}},
    {"POST 404",
     404,
     "{\"message\":\"Not Found\"}",
     {0},
     {0},
     SS_ERR_NOTFOUND,
     {"404 Not Found", "pull-requests: write", NULL}},
    {"POST 422",
     422,
     "{\"message\":\"Validation Failed\",\"errors\":[{\"resource\":\"IssueComment\","
     "\"code\":\"custom\",\"field\":\"body\",\"message\":\"body is too long (maximum is "
     "65536 characters)\"}]}",
     {0},
     {0},
     SS_ERR_INVALID,
     {"422 Validation Failed: body is too long", NULL, NULL}},
    {"POST 401",
     401,
     "{\"message\":\"Bad credentials\"}",
     {0},
     {0},
     SS_ERR_AUTH,
     {"401 Bad credentials", "invalid or expired", NULL}},
};

static void test_comment_errors(void **state)
{
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(comment_errors) / sizeof(comment_errors[0]); i++) {
		const struct error_case *c = &comment_errors[i];
		struct route routes[] = {
		    {"GET", COMMENTS "?per_page=100", 200, "[]", {0}, {0}, 0, 0},
		    {"POST", COMMENTS, c->status, c->body, {0}, {0}, 0, 0},
		};
		struct world w;
		enum ss_rc rc;

		world_init(&w, NULL, 7, routes, 2);
		rc = ss_github_sticky_comment(w.g, 0, MARKER, "x", NULL, &w.err);
		if (rc != c->rc)
			fail_msg("case '%s': rc %d, want %d: %s", c->name, rc, c->rc, w.err.data);
		for (k = 0; k < 3 && c->want[k] != NULL; k++)
			if (strstr(w.err.data, c->want[k]) == NULL)
				fail_msg("case '%s': '%s' not in: %s", c->name, c->want[k],
					 w.err.data);
		world_free(&w);
	}
}

static void test_comment_list_errors(void **state)
{
	struct route forbidden[] = {
	    {"GET",
	     COMMENTS "*",
	     403,
	     "{\"message\":\"Resource not accessible by integration\"}",
	     {0},
	     {0},
	     0,
	     0},
	};
	struct route notlist[] = {
	    {"GET", COMMENTS "*", 200, "{\"message\":\"odd\"}", {0}, {0}, 0, 0},
	};
	struct route badlink[] = {
	    {"GET", COMMENTS "*", 200, "[]", {"Link", NULL}, {"no angle brackets", NULL}, 0, 0},
	};
	struct world w;

	(void)state;
	world_init(&w, NULL, 7, forbidden, 1);
	assert_int_equal(ss_github_sticky_comment(w.g, 0, MARKER, "x", NULL, &w.err), SS_ERR_AUTH);
	assert_non_null(
	    strstr(w.err.data, "GET /repos/octo/app/issues/7/comments?per_page=100: 403"));
	assert_non_null(strstr(w.err.data, "pull-requests: read"));
	assert_int_equal(w.s.n, 1);
	world_free(&w);
	world_init(&w, NULL, 7, notlist, 1);
	assert_int_equal(ss_github_sticky_comment(w.g, 0, MARKER, "x", NULL, &w.err), SS_ERR_PARSE);
	world_free(&w);
	world_init(&w, NULL, 7, badlink, 1);
	assert_int_equal(ss_github_sticky_comment(w.g, 0, MARKER, "x", NULL, &w.err), SS_ERR_PARSE);
	assert_non_null(strstr(w.err.data, "malformed Link"));
	world_free(&w);
}

static void test_comment_not_a_pr(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, NULL, 0, NULL, 0);
	assert_int_equal(ss_github_sticky_comment(w.g, 0, MARKER, "x", NULL, &w.err),
			 SS_ERR_INVALID);
	assert_non_null(strstr(w.err.data, "not a pull request event (GITHUB_EVENT_NAME=push)"));
	assert_int_equal(ss_github_sticky_comment(w.g, 0, "", "x", NULL, &w.err), SS_ERR_INVALID);
	assert_int_equal(w.s.n, 0);
	world_free(&w);
}

/* ---- the client ---- */

static void test_new_refuses(void **state)
{
	struct ss_github_context ctx;
	struct ss_buf err;
	struct ss_http *h = ss_http_new(1);

	(void)state;
	memset(&ctx, 0, sizeof(ctx));
	ss_buf_init(&err, 0);
	ctx.api_url = strdup(API);
	ctx.repository = strdup("octo/app");
	assert_null(ss_github_new(h, &ctx, "", &err));
	assert_non_null(strstr(err.data, "no token"));
	ss_buf_reset(&err);
	assert_null(ss_github_new(h, &ctx, "ghs_abc\r\nX-Evil: 1", &err));
	assert_non_null(strstr(err.data, "white space or control"));
	assert_null(strstr(err.data, "ghs_abc"));
	ss_buf_reset(&err);
	free(ctx.repository);
	ctx.repository = NULL;
	assert_null(ss_github_new(h, &ctx, "ghs_valid_token_1", &err));
	assert_non_null(strstr(err.data, "GITHUB_REPOSITORY is not set"));
	ss_buf_reset(&err);
	ctx.repository = strdup("octo/app/extra");
	assert_null(ss_github_new(h, &ctx, "ghs_valid_token_2", &err));
	assert_non_null(strstr(err.data, "not OWNER/REPO"));
	ss_github_context_free(&ctx);
	ss_buf_free(&err);
	ss_http_free(h);
}

static void test_token_masked(void **state)
{
	struct world w;
	char *red;

	(void)state;
	world_init(&w, NULL, 0, NULL, 0);
	assert_true(ss_mask_contains(ss_mask_global(), "x" TOKEN "y", strlen(TOKEN) + 2));
	red = ss_mask_redact_str(ss_mask_global(), "Bearer " TOKEN);
	assert_string_equal(red, "Bearer ***");
	free(red);
	world_free(&w);
}

static void test_values_redacted_before_sending(void **state)
{
	struct route routes[] = {
	    {"GET", COMMENTS "?per_page=100", 200, "[]", {0}, {0}, 0, 0},
	    {"POST", "*", 201, "{\"id\":1}", {0}, {0}, 0, 0},
	};
	struct world w;
	cJSON *doc;

	(void)state;
	assert_int_equal(ss_mask_add(ss_mask_global(), "s3cr3t-db-password"), SS_OK);
	world_init(&w, NULL, 7, routes, 2);
	assert_int_equal(
	    ss_github_sticky_comment(w.g, 0, MARKER, "pw=s3cr3t-db-password;", NULL, &w.err),
	    SS_OK);
	assert_int_equal(
	    ss_github_status(w.g, NULL, "failure", "c", "oops s3cr3t-db-password", NULL, &w.err),
	    SS_OK);
	assert_int_equal(w.s.n, 3);
	doc = seen_json(&w.s.seen[1]);
	assert_string_equal(ss_json_get_string(doc, "body"), MARKER "\npw=***;");
	ss_json_delete_secret(doc);
	doc = seen_json(&w.s.seen[2]);
	assert_string_equal(ss_json_get_string(doc, "description"), "oops ***");
	ss_json_delete_secret(doc);
	world_free(&w);
}

/* ---- pure helpers ---- */

static void test_marker(void **state)
{
	static const struct {
		const char *config, *command, *want;
	} cases[] = {
	    {"secretsync.yaml", "plan",
	     "<!-- secretsync:sticky config=secretsync.yaml command=plan -->"},
	    {"ci/my-config.yaml", "pipeline",
	     "<!-- secretsync:sticky config=ci/my-config.yaml command=pipeline -->"},
	    {"a b-->c", "verify",
	     "<!-- secretsync:sticky config=a%20b%2D%2D%3Ec command=verify -->"},
	    {"x command=plan", "plan",
	     "<!-- secretsync:sticky config=x%20command%3Dplan command=plan -->"},
	    {"100%.yaml", "plan", "<!-- secretsync:sticky config=100%25.yaml command=plan -->"},
	    {"-", "plan", "<!-- secretsync:sticky config=- command=plan -->"},
	    {"\xc3\xa9<!--", "plan",
	     "<!-- secretsync:sticky config=%C3%A9%3C%21%2D%2D command=plan -->"},
	};
	struct ss_buf a, b;
	size_t i;

	(void)state;
	ss_buf_init(&a, 0);
	ss_buf_init(&b, 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *inner;

		ss_buf_reset(&a);
		assert_int_equal(ss_github_marker(cases[i].config, cases[i].command, &a), SS_OK);
		assert_string_equal(a.data, cases[i].want);
		/* Between "<!--" and "-->": no "--" and no '>'. */
		inner = strndup(a.data + 4, a.len - 7);
		assert_null(strstr(inner, "--"));
		assert_null(strchr(inner, '>'));
		free(inner);
	}
	/* Neither of two markers is part of the other. */
	ss_buf_reset(&a);
	assert_int_equal(ss_github_marker("x", "plan", &a), SS_OK);
	assert_int_equal(ss_github_marker("x command=plan", "plan", &b), SS_OK);
	assert_null(strstr(b.data, a.data));
	assert_null(strstr(a.data, b.data));
	ss_buf_free(&a);
	ss_buf_free(&b);
}

static void test_cut_description(void **state)
{
	struct ss_buf out;
	char *s;

	(void)state;
	ss_buf_init(&out, 0);
	assert_int_equal(ss_github_cut_description(NULL, &out), SS_OK);
	assert_string_equal(out.data, "");
	assert_int_equal(ss_github_cut_description("3 to create\n1 failed\t!", &out), SS_OK);
	assert_string_equal(out.data, "3 to create 1 failed !");
	ss_buf_reset(&out);
	s = repeat("a", 140);
	assert_int_equal(ss_github_cut_description(s, &out), SS_OK);
	assert_string_equal(out.data, s);
	free(s);
	ss_buf_reset(&out);
	s = repeat("b", 141);
	assert_int_equal(ss_github_cut_description(s, &out), SS_OK);
	assert_int_equal(out.len, 139 + 3);
	assert_int_equal(ss_github_utf8_chars(out.data, out.len), 140);
	free(s);
	ss_buf_reset(&out);
	/* four-byte characters */
	s = repeat("\xf0\x9f\x94\x91", 150);
	assert_int_equal(ss_github_cut_description(s, &out), SS_OK);
	assert_int_equal(ss_github_utf8_chars(out.data, out.len), 140);
	assert_int_equal(out.len, 139 * 4 + 3);
	free(s);
	ss_buf_reset(&out);
	/* a sequence cut short at the end, a stray continuation byte */
	assert_int_equal(ss_github_cut_description("ok \x80 \xe2\x82", &out), SS_OK);
	assert_string_equal(out.data, "ok ? ??");
	ss_buf_free(&out);
}

static void test_utf8_chars(void **state)
{
	static const struct {
		const char *s;
		long want;
	} cases[] = {
	    {"", 0},
	    {"abc", 3},
	    {"\xc3\xa9t\xc3\xa9", 3},
	    {"\xe2\x82\xac", 1},
	    {"\xf0\x9f\x94\x91", 1},
	    {"\xc0\xaf", -1},	      /* overlong '/' */
	    {"\xe0\x80\xaf", -1},     /* overlong */
	    {"\xed\xa0\x80", -1},     /* a surrogate */
	    {"\xf4\x90\x80\x80", -1}, /* past U+10FFFF */
	    {"\xff", -1},
	    {"a\xc3", -1},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (ss_github_utf8_chars(cases[i].s, strlen(cases[i].s)) != cases[i].want)
			fail_msg("case %zu", i);
}

static void test_link_next(void **state)
{
	static const struct {
		const char *link;
		enum ss_rc rc;
		const char *want;
	} cases[] = {
	    {"<https://a/x?page=2>; rel=\"next\", <https://a/x?page=5>; rel=\"last\"", SS_OK,
	     "https://a/x?page=2"},
	    {"<https://a/x?page=1>; rel=\"prev\", <https://a/x?page=3>; rel=\"next\"", SS_OK,
	     "https://a/x?page=3"},
	    {"<https://a/x?page=1>; rel=\"first\", <https://a/x?page=1>; rel=\"prev\"",
	     SS_ERR_NOTFOUND, NULL},
	    {"<https://a/n>;rel=next", SS_OK, "https://a/n"},
	    {"<https://a/n> ; title=\"a, b; c\" ; rel=\"last next\"", SS_OK, "https://a/n"},
	    {"<https://a/n>; REL=\"Next\"", SS_OK, "https://a/n"},
	    {"<https://a/n>; rel=\"nextpage\"", SS_ERR_NOTFOUND, NULL},
	    {"", SS_ERR_NOTFOUND, NULL},
	    {"https://a/n; rel=\"next\"", SS_ERR_PARSE, NULL},
	    {"<https://a/n; rel=\"next\"", SS_ERR_PARSE, NULL},
	    {"<https://a/n>; rel=\"next", SS_ERR_PARSE, NULL},
	    {"<https://a/n> junk, <https://b>; rel=next", SS_ERR_PARSE, NULL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = (char *)"unset";
		enum ss_rc rc = ss_github_link_next(cases[i].link, &out);

		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d", i, rc);
		if (cases[i].want != NULL)
			assert_string_equal(out, cases[i].want);
		else
			assert_null(out);
		free(out);
	}
}

static void test_event_parse(void **state)
{
	static const struct {
		const char *json;
		enum ss_rc rc;
		long number;
	} cases[] = {
	    {"{\"action\":\"opened\",\"number\":7,\"pull_request\":{\"number\":7,\"head\":{\"sha\":"
	     "\"" HEAD "\",\"ref\":\"f\"}}}",
	     SS_OK, 7},
	    {"{\"pull_request\":{\"head\":{\"sha\":\"" HEAD "\"}}}", SS_ERR_INVALID, 0},
	    {"{\"pull_request\":{\"number\":\"7\",\"head\":{\"sha\":\"" HEAD "\"}}}",
	     SS_ERR_INVALID, 0},
	    {"{\"pull_request\":{\"number\":-1,\"head\":{\"sha\":\"" HEAD "\"}}}", SS_ERR_INVALID,
	     0},
	    {"{\"pull_request\":{\"number\":7,\"head\":{\"sha\":\"../x\"}}}", SS_ERR_INVALID, 0},
	    {"{\"pull_request\":{\"number\":7}}", SS_ERR_INVALID, 0},
	    {"{\"ref\":\"refs/heads/main\"}", SS_ERR_INVALID, 0},
	    {"{not json", SS_ERR_PARSE, 0},
	    {"", SS_ERR_PARSE, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ss_buf err;
		char *sha = NULL;
		long num = -5;
		enum ss_rc rc;

		ss_buf_init(&err, 0);
		rc = ss_github_event_parse(cases[i].json, strlen(cases[i].json), &num, &sha, &err);
		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d", i, rc);
		assert_int_equal(num, cases[i].number);
		if (rc == SS_OK) {
			assert_string_equal(sha, HEAD);
			assert_int_equal(err.len, 0);
		} else {
			assert_null(sha);
			assert_non_null(strstr(err.data, "GITHUB_EVENT_PATH"));
		}
		free(sha);
		ss_buf_free(&err);
	}
}

static void clear_env(void)
{
	static const char *const vars[] = {
	    "GITHUB_API_URL",	 "GITHUB_REPOSITORY", "GITHUB_SHA",   "GITHUB_EVENT_NAME",
	    "GITHUB_EVENT_PATH", "GITHUB_SERVER_URL", "GITHUB_RUN_ID"};
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void test_context_load(void **state)
{
	struct ss_github_context ctx;
	struct ss_buf err;
	char path[] = "/tmp/gh_event_XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	ss_buf_init(&err, 0);
	clear_env();

	/* Defaults: api.github.com, nothing else. */
	assert_int_equal(ss_github_context_load(&ctx, &err), SS_OK);
	assert_string_equal(ctx.api_url, API);
	assert_null(ctx.repository);
	assert_null(ss_github_context_sha(&ctx));
	assert_int_equal(ctx.pr_number, 0);
	ss_github_context_free(&ctx);

	/* A push on GHES: the event file is not read at all. */
	setenv("GITHUB_API_URL", "https://ghe.example.com/api/v3/", 1);
	setenv("GITHUB_REPOSITORY", "octo/app.js", 1);
	setenv("GITHUB_SHA", PUSH_SHA, 1);
	setenv("GITHUB_EVENT_NAME", "push", 1);
	setenv("GITHUB_EVENT_PATH", "/nonexistent/event.json", 1);
	setenv("GITHUB_SERVER_URL", "https://ghe.example.com/", 1);
	setenv("GITHUB_RUN_ID", "12345", 1);
	assert_int_equal(ss_github_context_load(&ctx, &err), SS_OK);
	assert_string_equal(ctx.api_url, "https://ghe.example.com/api/v3");
	assert_string_equal(ss_github_context_sha(&ctx), PUSH_SHA);
	assert_string_equal(ctx.target_url,
			    "https://ghe.example.com/octo/app.js/actions/runs/12345");
	ss_github_context_free(&ctx);

	/* A pull request: number and head SHA from the payload. */
	setenv("GITHUB_EVENT_NAME", "pull_request_target", 1);
	setenv("GITHUB_EVENT_PATH", path, 1);
	write_file(path, "{\"pull_request\":{\"number\":42,\"head\":{\"sha\":\"" HEAD "\"}}}");
	assert_int_equal(ss_github_context_load(&ctx, &err), SS_OK);
	assert_int_equal(ctx.pr_number, 42);
	assert_string_equal(ss_github_context_sha(&ctx), HEAD);
	ss_github_context_free(&ctx);
	assert_int_equal(err.len, 0);

	/* A malformed payload, then a missing one, then none named. */
	write_file(path, "{\"pull_request\": [");
	assert_int_equal(ss_github_context_load(&ctx, &err), SS_ERR_PARSE);
	assert_non_null(strstr(err.data, "not JSON"));
	ss_github_context_free(&ctx);
	ss_buf_reset(&err);
	setenv("GITHUB_EVENT_PATH", "/nonexistent/event.json", 1);
	assert_int_equal(ss_github_context_load(&ctx, &err), SS_ERR_IO);
	assert_non_null(strstr(err.data, "cannot read GITHUB_EVENT_PATH /nonexistent/event.json"));
	ss_github_context_free(&ctx);
	ss_buf_reset(&err);
	unsetenv("GITHUB_EVENT_PATH");
	assert_int_equal(ss_github_context_load(&ctx, &err), SS_ERR_INVALID);
	assert_non_null(strstr(err.data, "GITHUB_EVENT_PATH is not set"));
	ss_github_context_free(&ctx);
	ss_buf_reset(&err);

	/* A directory is not an event file. */
	setenv("GITHUB_EVENT_PATH", "/tmp", 1);
	assert_int_equal(ss_github_context_load(&ctx, &err), SS_ERR_IO);
	assert_non_null(strstr(err.data, "not a regular file"));
	ss_github_context_free(&ctx);
	ss_buf_reset(&err);

	/* Bad settings. */
	setenv("GITHUB_EVENT_NAME", "push", 1);
	setenv("GITHUB_API_URL", "ftp://x", 1);
	assert_int_equal(ss_github_context_load(&ctx, &err), SS_ERR_INVALID);
	assert_non_null(strstr(err.data, "GITHUB_API_URL 'ftp://x'"));
	ss_github_context_free(&ctx);
	ss_buf_reset(&err);
	setenv("GITHUB_API_URL", "https://api.github.com?x=1", 1);
	assert_int_equal(ss_github_context_load(&ctx, &err), SS_ERR_INVALID);
	ss_github_context_free(&ctx);
	ss_buf_reset(&err);
	unsetenv("GITHUB_API_URL");
	setenv("GITHUB_REPOSITORY", "octo", 1);
	assert_int_equal(ss_github_context_load(&ctx, &err), SS_ERR_INVALID);
	assert_non_null(strstr(err.data, "GITHUB_REPOSITORY 'octo' is not OWNER/REPO"));
	ss_github_context_free(&ctx);
	ss_buf_reset(&err);
	setenv("GITHUB_REPOSITORY", "octo/app", 1);
	setenv("GITHUB_SHA", "main", 1);
	assert_int_equal(ss_github_context_load(&ctx, &err), SS_ERR_INVALID);
	assert_non_null(strstr(err.data, "GITHUB_SHA 'main'"));
	ss_github_context_free(&ctx);

	clear_env();
	unlink(path);
	ss_buf_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_on_pr_head),
	    cmocka_unit_test(test_status_push_sha_ghes_no_target),
	    cmocka_unit_test(test_status_description_cut),
	    cmocka_unit_test(test_status_retried_on_5xx),
	    cmocka_unit_test(test_status_errors),
	    cmocka_unit_test(test_status_bad_arguments),
	    cmocka_unit_test(test_comment_created),
	    cmocka_unit_test(test_comment_post_5xx_not_retried),
	    cmocka_unit_test(test_comment_found_on_page3),
	    cmocka_unit_test(test_comment_user_marker_ignored),
	    cmocka_unit_test(test_comment_newest_of_several),
	    cmocka_unit_test(test_comment_unchanged_not_sent),
	    cmocka_unit_test(test_comment_deleted_meanwhile),
	    cmocka_unit_test(test_comment_size_cap),
	    cmocka_unit_test(test_comment_link_elsewhere_refused),
	    cmocka_unit_test(test_comment_page_loops_bounded),
	    cmocka_unit_test(test_comment_errors),
	    cmocka_unit_test(test_comment_list_errors),
	    cmocka_unit_test(test_comment_not_a_pr),
	    cmocka_unit_test(test_new_refuses),
	    cmocka_unit_test(test_token_masked),
	    cmocka_unit_test(test_values_redacted_before_sending),
	    cmocka_unit_test(test_marker),
	    cmocka_unit_test(test_cut_description),
	    cmocka_unit_test(test_utf8_chars),
	    cmocka_unit_test(test_link_next),
	    cmocka_unit_test(test_event_parse),
	    cmocka_unit_test(test_context_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
