/* test_http.c - the transport's queueing and retry rules, on the fake
 * responder (no sockets). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "net/http.h"

/* A scripted server: answers[i] is the answer to the i-th attempt. */
struct answer {
	long status;
	enum ss_http_fail fail;
	const char *body;
	const char *retry_after;
};

struct script {
	const struct answer *answers;
	size_t n;
	size_t calls;
	int prepares;
	char last_date[32];
};

static void fake(const struct ss_http_req *req, struct ss_http_resp *resp, void *ctx)
{
	struct script *s = ctx;
	const struct answer *a = &s->answers[s->calls < s->n ? s->calls : s->n - 1];
	size_t i;

	(void)req;
	s->calls++;
	for (i = 0; i < req->nheaders; i++)
		if (strcmp(req->headers[i].name, "X-Attempt") == 0)
			snprintf(s->last_date, sizeof(s->last_date), "%s", req->headers[i].value);
	if (a->fail != SS_HTTP_FAIL_NONE) {
		resp->rc = SS_ERR_NET;
		resp->fail = a->fail;
		return;
	}
	resp->status = a->status;
	if (a->body != NULL)
		assert_int_equal(ss_buf_adds(&resp->body, a->body), SS_OK);
	if (a->retry_after != NULL)
		assert_int_equal(ss_http_resp_add_header(resp, "Retry-After", 11, a->retry_after,
							 strlen(a->retry_after)),
				 SS_OK);
}

struct result {
	int calls;
	enum ss_rc rc;
	long status;
	int attempts;
	char body[64];
	char error[256];
};

static void done(struct ss_http_resp *resp, void *ctx)
{
	struct result *r = ctx;

	r->calls++;
	r->rc = resp->rc;
	r->status = resp->status;
	r->attempts = resp->attempts;
	snprintf(r->body, sizeof(r->body), "%s", resp->body.data);
	snprintf(r->error, sizeof(r->error), "%s", resp->error);
}

static enum ss_rc prepare(struct ss_http_req *req, void *ctx)
{
	struct result *r = ctx;
	char v[16];

	snprintf(v, sizeof(v), "%d", r->calls + 100);
	return ss_http_req_header(req, "X-Attempt", v);
}

static enum ss_http_verdict throttle_in_400(const struct ss_http_resp *resp, void *ctx)
{
	(void)ctx;
	if (resp->status == 400 && strstr(resp->body.data, "ThrottlingException") != NULL)
		return SS_HTTP_RETRY;
	return SS_HTTP_DEFAULT;
}

struct retry_case {
	const char *name;
	const char *method;
	int idempotent; /* -1 = the method's default */
	struct answer answers[6];
	size_t nanswers;
	int classify;
	enum ss_rc rc;
	long status;
	int attempts;
};

static const struct retry_case retry_cases[] = {
	{"200 first", "GET", -1, {{200, 0, "ok", NULL}}, 1, 0, SS_OK, 200, 1},
	{"503 twice then 200", "GET", -1, {{503, 0, NULL, NULL}, {503, 0, NULL, NULL}, {200, 0, "ok", NULL}}, 3, 0, SS_OK, 200, 3},
	{"429 then 200", "POST", 0, {{429, 0, NULL, "0"}, {200, 0, "ok", NULL}}, 2, 0, SS_OK, 200, 2},
	{"404 not retried", "GET", -1, {{404, 0, NULL, NULL}, {200, 0, NULL, NULL}}, 2, 0, SS_OK, 404, 1},
	{"403 not retried", "LIST", -1, {{403, 0, NULL, NULL}}, 1, 0, SS_OK, 403, 1},
	{"500 on plain POST not retried", "POST", 0, {{500, 0, NULL, NULL}, {200, 0, NULL, NULL}}, 2, 0, SS_OK, 500, 1},
	{"500 on idempotent POST retried", "POST", 1, {{500, 0, NULL, NULL}, {200, 0, NULL, NULL}}, 2, 0, SS_OK, 200, 2},
	{"connect failure on POST retried", "POST", 0, {{0, SS_HTTP_FAIL_CONNECT, NULL, NULL}, {201, 0, NULL, NULL}}, 2, 0, SS_OK, 201, 2},
	{"dropped POST not retried", "POST", 0, {{0, SS_HTTP_FAIL_DROPPED, NULL, NULL}, {201, 0, NULL, NULL}}, 2, 0, SS_ERR_NET, 0, 1},
	{"dropped GET retried", "GET", -1, {{0, SS_HTTP_FAIL_DROPPED, NULL, NULL}, {200, 0, NULL, NULL}}, 2, 0, SS_OK, 200, 2},
	{"timeout GET retried", "GET", -1, {{0, SS_HTTP_FAIL_TIMEOUT, NULL, NULL}, {200, 0, NULL, NULL}}, 2, 0, SS_OK, 200, 2},
	{"truncated GET retried", "GET", -1, {{0, SS_HTTP_FAIL_TRUNCATED, NULL, NULL}, {200, 0, NULL, NULL}}, 2, 0, SS_OK, 200, 2},
	{"TLS failure final", "GET", -1, {{0, SS_HTTP_FAIL_TLS, NULL, NULL}, {200, 0, NULL, NULL}}, 2, 0, SS_ERR_NET, 0, 1},
	{"always 503: bounded attempts", "GET", -1, {{503, 0, NULL, NULL}}, 1, 0, SS_OK, 503, 4},
	{"throttling in a 400 body via classify", "POST", 1, {{400, 0, "{\"__type\":\"ThrottlingException\"}", NULL}, {200, 0, NULL, NULL}}, 2, 1, SS_OK, 200, 2},
	{"plain 400 with classify not retried", "POST", 1, {{400, 0, "{\"__type\":\"ValidationException\"}", NULL}, {200, 0, NULL, NULL}}, 2, 1, SS_OK, 400, 1},
};

static void test_retry_table(void **state)
{
	size_t i;

	(void)state;
	setenv("SECRETSYNC_HTTP_BACKOFF_MS", "1", 1);
	setenv("SECRETSYNC_HTTP_ATTEMPTS", "4", 1);
	for (i = 0; i < sizeof(retry_cases) / sizeof(retry_cases[0]); i++) {
		const struct retry_case *c = &retry_cases[i];
		struct script s = {c->answers, c->nanswers, 0, 0, ""};
		struct result r;
		struct ss_http *h = ss_http_new(4);
		struct ss_http_req *req = ss_http_req_new(c->method, "http://example.invalid/x");

		memset(&r, 0, sizeof(r));
		assert_non_null(h);
		assert_non_null(req);
		ss_http_set_fake(h, fake, &s);
		if (c->idempotent >= 0)
			req->idempotent = c->idempotent;
		if (c->classify)
			req->classify = throttle_in_400;
		req->done = done;
		req->ctx = &r;
		assert_int_equal(ss_http_submit(h, req), SS_OK);
		assert_int_equal(ss_http_run(h), SS_OK);
		if (r.calls != 1 || r.rc != c->rc || r.status != c->status ||
		    r.attempts != c->attempts)
			fail_msg("case '%s': calls %d rc %d status %ld attempts %d", c->name, r.calls,
				 r.rc, r.status, r.attempts);
		assert_int_equal(s.calls, (size_t)c->attempts);
		ss_http_free(h);
	}
}

static void test_prepare_each_attempt(void **state)
{
	static const struct answer a[] = {{503, 0, NULL, NULL}, {200, 0, "done", NULL}};
	struct script s = {a, 2, 0, 0, ""};
	struct result r;
	struct ss_http *h = ss_http_new(1);
	struct ss_http_req *req = ss_http_req_new("GET", "http://example.invalid/");

	(void)state;
	memset(&r, 0, sizeof(r));
	setenv("SECRETSYNC_HTTP_BACKOFF_MS", "1", 1);
	ss_http_set_fake(h, fake, &s);
	assert_int_equal(ss_http_req_header(req, "Accept", "application/json"), SS_OK);
	req->prepare = prepare;
	req->done = done;
	req->ctx = &r;
	assert_int_equal(ss_http_submit(h, req), SS_OK);
	assert_int_equal(ss_http_run(h), SS_OK);
	assert_string_equal(r.body, "done");
	assert_string_equal(s.last_date, "100");
	ss_http_free(h);
}

/* Each completion submits a follow-up until depth 3: a breadth-first walk. */
struct walk {
	struct ss_http *h;
	int completed;
	int submitted;
};

static void walk_done(struct ss_http_resp *resp, void *ctx);

static void walk_submit(struct walk *w, int depth)
{
	char url[64];
	struct ss_http_req *req;

	snprintf(url, sizeof(url), "http://example.invalid/%d", depth);
	req = ss_http_req_new("GET", url);
	assert_non_null(req);
	req->done = walk_done;
	req->ctx = w;
	w->submitted++;
	assert_int_equal(ss_http_submit(w->h, req), SS_OK);
}

static void walk_done(struct ss_http_resp *resp, void *ctx)
{
	struct walk *w = ctx;

	w->completed++;
	if (resp->status == 200 && w->submitted < 40) {
		walk_submit(w, w->submitted);
		walk_submit(w, w->submitted);
	}
}

static void test_callbacks_submit_more(void **state)
{
	static const struct answer a[] = {{200, 0, "x", NULL}};
	struct script s = {a, 1, 0, 0, ""};
	struct walk w = {NULL, 0, 0};
	struct ss_http_stats st;

	(void)state;
	w.h = ss_http_new(3);
	ss_http_set_fake(w.h, fake, &s);
	walk_submit(&w, 0);
	assert_int_equal(ss_http_run(w.h), SS_OK);
	assert_int_equal(w.completed, w.submitted);
	assert_true(w.completed >= 40);
	ss_http_get_stats(w.h, &st);
	assert_int_equal(st.completed, (unsigned long)w.completed);
	ss_http_free(w.h);
}

static void test_ip_https_refused(void **state)
{
	static const struct answer a[] = {{200, 0, "x", NULL}};
	struct script s = {a, 1, 0, 0, ""};
	struct result r;
	struct ss_http *h = ss_http_new(1);
	struct ss_http_req *req = ss_http_req_new("GET", "https://10.1.2.3:8200/v1/sys/health");

	(void)state;
	memset(&r, 0, sizeof(r));
	ss_http_set_fake(h, fake, &s);
	req->label = "VAULT_ADDR";
	req->done = done;
	req->ctx = &r;
	assert_int_equal(ss_http_submit(h, req), SS_OK);
	assert_int_equal(ss_http_run(h), SS_OK);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.rc, SS_ERR_INVALID);
	assert_non_null(strstr(r.error, "IP address"));
	assert_int_equal(s.calls, 0);
	ss_http_free(h);
}

static void test_backoff(void **state)
{
	int attempt;
	unsigned long rnd;

	(void)state;
	for (attempt = 1; attempt <= 10; attempt++) {
		long ceiling = 100L << (attempt - 1);

		if (ceiling > 2000)
			ceiling = 2000;
		for (rnd = 0; rnd < 5000; rnd += 37) {
			long d = ss_http_backoff_ms(100, 2000, attempt, rnd);

			assert_true(d >= 0 && d <= ceiling);
		}
		/* full jitter reaches the ceiling */
		assert_int_equal(ss_http_backoff_ms(100, 2000, attempt, (unsigned long)ceiling),
				 ceiling);
	}
	assert_int_equal(ss_http_backoff_ms(0, 2000, 3, 12345), 0);
}

static void test_retry_after(void **state)
{
	struct ss_http_resp resp;

	(void)state;
	memset(&resp, 0, sizeof(resp));
	ss_buf_init(&resp.body, 0);
	assert_int_equal(ss_http_retry_after_ms(&resp), -1);
	assert_int_equal(ss_http_resp_add_header(&resp, "retry-after", 11, "3", 1), SS_OK);
	assert_int_equal(ss_http_retry_after_ms(&resp), 3000);
	resp.headers[0].value[0] = 'x';
	assert_int_equal(ss_http_retry_after_ms(&resp), -1);
	free(resp.headers[0].name);
	free(resp.headers[0].value);
}

static void test_urlencode(void **state)
{
	static const struct {
		const char *in;
		int keep_slash;
		const char *out;
	} cases[] = {
		{"abc-_.~XYZ019", 0, "abc-_.~XYZ019"},
		{"a b/c", 0, "a%20b%2Fc"},
		{"a b/c", 1, "a%20b/c"},
		{"=&%+", 0, "%3D%26%25%2B"},
		{"\xc3\xa9", 0, "%C3%A9"},
		{"", 0, ""},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ss_buf b;

		ss_buf_init(&b, 0);
		assert_int_equal(ss_http_urlencode(&b, cases[i].in, cases[i].keep_slash), SS_OK);
		assert_string_equal(b.data, cases[i].out);
		ss_buf_free(&b);
	}
}

static void test_cancel(void **state)
{
	static const struct answer a[] = {{503, 0, NULL, "5"}};
	struct script s = {a, 1, 0, 0, ""};
	struct result r;
	struct ss_http *h = ss_http_new(1);
	struct ss_http_req *req = ss_http_req_new("GET", "http://example.invalid/");

	(void)state;
	memset(&r, 0, sizeof(r));
	ss_http_set_fake(h, fake, &s);
	req->done = done;
	req->ctx = &r;
	assert_int_equal(ss_http_submit(h, req), SS_OK);
	ss_http_cancel(h);
	assert_int_equal(ss_http_run(h), SS_OK);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.rc, SS_ERR_NET);
	assert_non_null(strstr(r.error, "cancelled"));
	ss_http_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retry_table),
		cmocka_unit_test(test_prepare_each_attempt),
		cmocka_unit_test(test_callbacks_submit_more),
		cmocka_unit_test(test_ip_https_refused),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_urlencode),
		cmocka_unit_test(test_cancel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
