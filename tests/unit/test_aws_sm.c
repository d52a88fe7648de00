/* test_aws_sm.c - the Secrets Manager client and the AWS source, on the
 * transport's fake responder: a small in-memory Secrets Manager that
 * speaks the JSON protocol, keeps versions, tags and deletion marks, and
 * can be told to page, deny, throttle or fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "backends/aws_sm.h"
#include "backends/aws_source.h"
#include "core/json.h"
#include "core/mask.h"

#define MAXV 8
#define MAXT 8
#define NOPS 8

/* --- the fake service --- */

struct fversion {
	char id[80];
	char *value;
};

struct fsecret {
	char name[600];
	char arn[700];
	struct fversion v[MAXV];
	int nv;
	int current; /* index into v, -1 = no value */
	char tk[MAXT][64], tv[MAXT][64];
	int ntags;
	int deleted;
	int binary;
};

enum { OP_LIST, OP_BATCH, OP_GET, OP_CREATE, OP_PUT, OP_DESCRIBE, OP_TAG, OP_DELETE };
static const char *const op_names[NOPS] = {"ListSecrets",    "BatchGetSecretValue",
					   "GetSecretValue", "CreateSecret",
					   "PutSecretValue", "DescribeSecret",
					   "TagResource",    "DeleteSecret"};

struct fake {
	struct fsecret *s;
	size_t n, cap;
	int page_cap;       /* ListSecrets entries per page at most (0 = MaxResults) */
	int batch_page_cap; /* BatchGetSecretValue values per page at most (0 = all) */
	int ignore_filter;  /* answer ListSecrets as if no name filter was sent */
	const char *batch_refusal; /* error code for every batch call */
	const char *errors_name;   /* this secret goes into a batch's Errors ... */
	const char *errors_code;   /* ... with this code */
	/* An injected failure: the next fail_count calls of fail_op. */
	int fail_op;
	int fail_count;
	const char *fail_code;
	const char *fail_msg;
	long fail_status;
	int drop_after_op; /* apply this op, then lose the answer (once) */
	int drop_after_count;
	/* What was seen. */
	int calls[NOPS];
	int attempts_total;
	int violations;     /* protocol or hygiene errors */
	char violation[256];
	char expect_url[256];
	char expect_region[32];
	char last_body[4096];
	cJSON *last_req;    /* the last request body, parsed */
	int force_delete_seen;
};

static void violate(struct fake *f, const char *what)
{
	f->violations++;
	snprintf(f->violation, sizeof(f->violation), "%s", what);
}

static void fake_reset(struct fake *f)
{
	size_t i;
	int j;

	for (i = 0; i < f->n; i++)
		for (j = 0; j < f->s[i].nv; j++)
			free(f->s[i].v[j].value);
	free(f->s);
	cJSON_Delete(f->last_req);
	memset(f, 0, sizeof(*f));
	f->fail_op = -1;
	f->drop_after_op = -1;
	snprintf(f->expect_url, sizeof(f->expect_url), "http://sm.test/");
	snprintf(f->expect_region, sizeof(f->expect_region), "eu-west-1");
}

static struct fsecret *fake_find(struct fake *f, const char *id)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->s[i].name, id) == 0 || strcmp(f->s[i].arn, id) == 0)
			return &f->s[i];
	return NULL;
}

static struct fsecret *fake_add(struct fake *f, const char *name, const char *value)
{
	struct fsecret *s;

	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 64;
		f->s = realloc(f->s, f->cap * sizeof(*f->s));
		assert_non_null(f->s);
	}
	s = &f->s[f->n++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->arn, sizeof(s->arn), "arn:aws:secretsmanager:eu-west-1:111111111111:secret:%s-AbCdEf",
		 name);
	s->current = -1;
	if (value != NULL) {
		snprintf(s->v[0].id, sizeof(s->v[0].id), "seed-version-%06zu-0000000000000000000", f->n);
		s->v[0].value = strdup(value);
		s->nv = 1;
		s->current = 0;
	}
	return s;
}

static void fake_tag(struct fsecret *s, const char *k, const char *v)
{
	int i;

	for (i = 0; i < s->ntags; i++)
		if (strcmp(s->tk[i], k) == 0)
			break;
	if (i == s->ntags) {
		assert_true(s->ntags < MAXT);
		s->ntags++;
	}
	snprintf(s->tk[i], sizeof(s->tk[i]), "%s", k);
	snprintf(s->tv[i], sizeof(s->tv[i]), "%s", v);
}

static void answer(struct ss_http_resp *resp, long status, cJSON *body)
{
	char *text = cJSON_PrintUnformatted(body);

	assert_non_null(text);
	resp->status = status;
	assert_int_equal(ss_buf_adds(&resp->body, text), SS_OK);
	free(text);
	cJSON_Delete(body);
}

static void error(struct ss_http_resp *resp, const char *code, const char *msg)
{
	cJSON *b = cJSON_CreateObject();

	cJSON_AddStringToObject(b, "__type", code);
	cJSON_AddStringToObject(b, "Message", msg);
	answer(resp, 400, b);
}

static cJSON *tags_json(const struct fsecret *s)
{
	cJSON *arr = cJSON_CreateArray();
	int i;

	for (i = 0; i < s->ntags; i++) {
		cJSON *t = cJSON_CreateObject();

		cJSON_AddStringToObject(t, "Key", s->tk[i]);
		cJSON_AddStringToObject(t, "Value", s->tv[i]);
		cJSON_AddItemToArray(arr, t);
	}
	return arr;
}

static cJSON *meta_json(const struct fsecret *s, const char *map_key)
{
	cJSON *o = cJSON_CreateObject(), *map = cJSON_CreateObject();
	int i;

	cJSON_AddStringToObject(o, "ARN", s->arn);
	cJSON_AddStringToObject(o, "Name", s->name);
	cJSON_AddItemToObject(o, "Tags", tags_json(s));
	for (i = 0; i < s->nv; i++) {
		cJSON *st = cJSON_CreateArray();

		cJSON_AddItemToArray(st, cJSON_CreateString(i == s->current ? "AWSCURRENT"
									    : "AWSPREVIOUS"));
		cJSON_AddItemToObject(map, s->v[i].id, st);
	}
	cJSON_AddItemToObject(o, map_key, map);
	if (s->deleted)
		cJSON_AddNumberToObject(o, "DeletedDate", 1700000000.5);
	else
		cJSON_AddNullToObject(o, "DeletedDate"); /* as moto writes it */
	return o;
}

static cJSON *value_json(const struct fsecret *s)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "ARN", s->arn);
	cJSON_AddStringToObject(o, "Name", s->name);
	cJSON_AddStringToObject(o, "VersionId", s->v[s->current].id);
	if (s->binary)
		cJSON_AddStringToObject(o, "SecretBinary", "AAEC");
	else
		cJSON_AddStringToObject(o, "SecretString", s->v[s->current].value);
	return o;
}

static int starts(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static int filter_ok(const struct fake *f, const struct fsecret *s, const cJSON *filters)
{
	const cJSON *flt;

	cJSON_ArrayForEach(flt, filters)
	{
		const char *key = cJSON_GetObjectItem(flt, "Key")->valuestring;
		const char *val = cJSON_GetArrayItem(cJSON_GetObjectItem(flt, "Values"), 0)->valuestring;
		int i, hit = 0;

		if (strcmp(key, "name") == 0) {
			if (!f->ignore_filter && !starts(s->name, val))
				return 0;
			continue;
		}
		for (i = 0; i < s->ntags; i++)
			if (starts(strcmp(key, "tag-key") == 0 ? s->tk[i] : s->tv[i], val))
				hit = 1;
		if (!hit)
			return 0;
	}
	return 1;
}

static void do_list(struct fake *f, const cJSON *req, struct ss_http_resp *resp)
{
	const cJSON *mr = cJSON_GetObjectItem(req, "MaxResults");
	const cJSON *nt = cJSON_GetObjectItem(req, "NextToken");
	const cJSON *filters = cJSON_GetObjectItem(req, "Filters");
	int incl = cJSON_IsTrue(cJSON_GetObjectItem(req, "IncludePlannedDeletion"));
	int max = cJSON_IsNumber(mr) ? mr->valueint : 100, start = 0, taken = 0;
	cJSON *out = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(out, "SecretList");
	size_t i, matched = 0;

	if (max < 1 || max > 100) {
		cJSON_Delete(out);
		error(resp, "InvalidParameterException", "MaxResults must be 1..100");
		return;
	}
	if (f->page_cap > 0 && max > f->page_cap)
		max = f->page_cap;
	if (cJSON_IsString(nt))
		start = atoi(nt->valuestring);
	for (i = 0; i < f->n; i++) {
		const struct fsecret *s = &f->s[i];

		if ((s->deleted && !incl) || !filter_ok(f, s, filters))
			continue;
		if ((int)matched++ < start)
			continue;
		if (taken == max)
			break;
		cJSON_AddItemToArray(list, meta_json(s, "SecretVersionsToStages"));
		taken++;
	}
	if (i < f->n) {
		char tok[32];

		snprintf(tok, sizeof(tok), "%d", start + taken);
		cJSON_AddStringToObject(out, "NextToken", tok);
	} else {
		cJSON_AddNullToObject(out, "NextToken"); /* moto's way */
	}
	answer(resp, 200, out);
}

static void do_batch(struct fake *f, const cJSON *req, struct ss_http_resp *resp)
{
	const cJSON *ids = cJSON_GetObjectItem(req, "SecretIdList"), *id;
	const cJSON *nt = cJSON_GetObjectItem(req, "NextToken");
	cJSON *out, *vals, *errs;
	int start = cJSON_IsString(nt) ? atoi(nt->valuestring) : 0, k = 0, taken = 0;

	if (f->batch_refusal != NULL) {
		error(resp, f->batch_refusal, "batch refused by the fake");
		return;
	}
	if (!cJSON_IsArray(ids) || cJSON_GetArraySize(ids) < 1 || cJSON_GetArraySize(ids) > 20) {
		error(resp, "ValidationException", "SecretIdList must hold 1 to 20 ids");
		return;
	}
	if (cJSON_GetObjectItem(req, "Filters") != NULL || cJSON_GetObjectItem(req, "MaxResults")) {
		error(resp, "InvalidParameterException", "Filters with SecretIdList");
		return;
	}
	out = cJSON_CreateObject();
	vals = cJSON_AddArrayToObject(out, "SecretValues");
	errs = cJSON_AddArrayToObject(out, "Errors");
	cJSON_ArrayForEach(id, ids)
	{
		const struct fsecret *s = fake_find(f, id->valuestring);
		cJSON *e;

		if (k++ < start)
			continue;
		if (f->batch_page_cap > 0 && taken == f->batch_page_cap) {
			char tok[32];

			snprintf(tok, sizeof(tok), "%d", k - 1);
			cJSON_AddStringToObject(out, "NextToken", tok);
			break;
		}
		taken++;
		if (s != NULL && s->current >= 0 && !s->deleted &&
		    !(f->errors_name && strcmp(f->errors_name, s->name) == 0)) {
			cJSON_AddItemToArray(vals, value_json(s));
			continue;
		}
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "SecretId", id->valuestring);
		if (s != NULL && f->errors_name && strcmp(f->errors_name, s->name) == 0) {
			cJSON_AddStringToObject(e, "ErrorCode", f->errors_code);
			cJSON_AddStringToObject(e, "Message", "injected");
			f->errors_name = NULL; /* once */
		} else if (s != NULL && s->deleted) {
			cJSON_AddStringToObject(e, "ErrorCode", "InvalidRequestException");
			cJSON_AddStringToObject(e, "Message", "marked deleted");
		} else {
			cJSON_AddStringToObject(e, "ErrorCode", "ResourceNotFoundException");
			cJSON_AddStringToObject(e, "Message", "Secrets Manager can't find the specified secret.");
		}
		cJSON_AddItemToArray(errs, e);
	}
	answer(resp, 200, out);
}

static void do_get(struct fake *f, const cJSON *req, struct ss_http_resp *resp)
{
	const struct fsecret *s = fake_find(f, cJSON_GetObjectItem(req, "SecretId")->valuestring);

	if (s == NULL || s->current < 0)
		error(resp, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
	else if (s->deleted)
		error(resp, "InvalidRequestException",
		      "You can't perform this operation on the secret because it was marked for deletion.");
	else
		answer(resp, 200, value_json(s));
}

static int token_ok(const char *t)
{
	return t != NULL && strlen(t) >= 32 && strlen(t) <= 64;
}

/* A write of value under token to s: AWS's idempotency rules. */
static void write_version(struct fsecret *s, const char *token, const char *value,
			  struct ss_http_resp *resp)
{
	int i;
	cJSON *o;

	for (i = 0; i < s->nv; i++)
		if (strcmp(s->v[i].id, token) == 0)
			break;
	if (i < s->nv && strcmp(s->v[i].value, value) != 0) {
		error(resp, "ResourceExistsException",
		      "You can't use ClientRequestToken because that value is already in use for a version of this secret.");
		return;
	}
	if (i == s->nv) {
		assert_true(s->nv < MAXV);
		snprintf(s->v[i].id, sizeof(s->v[i].id), "%s", token);
		s->v[i].value = strdup(value);
		s->nv++;
		s->current = i;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "ARN", s->arn);
	cJSON_AddStringToObject(o, "Name", s->name);
	cJSON_AddStringToObject(o, "VersionId", s->v[i].id);
	answer(resp, 200, o);
}

static void do_create(struct fake *f, const cJSON *req, struct ss_http_resp *resp)
{
	const char *name = cJSON_GetObjectItem(req, "Name")->valuestring;
	const cJSON *tok = cJSON_GetObjectItem(req, "ClientRequestToken");
	const cJSON *val = cJSON_GetObjectItem(req, "SecretString");
	const cJSON *tags = cJSON_GetObjectItem(req, "Tags"), *t;
	struct fsecret *s = fake_find(f, name);
	int i;

	if (!cJSON_IsString(tok) || !token_ok(tok->valuestring)) {
		error(resp, "InvalidParameterException", "ClientRequestToken must be 32-64 characters long.");
		return;
	}
	if (s != NULL && s->deleted) {
		error(resp, "InvalidRequestException",
		      "You can't create this secret because a secret with this name is already scheduled for deletion.");
		return;
	}
	if (s != NULL) {
		for (i = 0; i < s->nv; i++)
			if (strcmp(s->v[i].id, tok->valuestring) == 0)
				break;
		if (i == s->nv) {
			error(resp, "ResourceExistsException",
			      "The operation failed because the secret already exists.");
			return;
		}
		write_version(s, tok->valuestring, val->valuestring, resp);
		return;
	}
	s = fake_add(f, name, NULL);
	cJSON_ArrayForEach(t, tags)
		fake_tag(s, cJSON_GetObjectItem(t, "Key")->valuestring,
			 cJSON_GetObjectItem(t, "Value")->valuestring);
	write_version(s, tok->valuestring, val->valuestring, resp);
}

static void do_put(struct fake *f, const cJSON *req, struct ss_http_resp *resp)
{
	struct fsecret *s = fake_find(f, cJSON_GetObjectItem(req, "SecretId")->valuestring);
	const cJSON *tok = cJSON_GetObjectItem(req, "ClientRequestToken");

	if (s == NULL) {
		error(resp, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
		return;
	}
	if (!cJSON_IsString(tok) || !token_ok(tok->valuestring)) {
		error(resp, "InvalidParameterException", "ClientRequestToken must be 32-64 characters long.");
		return;
	}
	if (s->deleted) {
		error(resp, "InvalidRequestException",
		      "You can't perform this operation on the secret because it was marked for deletion.");
		return;
	}
	write_version(s, tok->valuestring,
		      cJSON_GetObjectItem(req, "SecretString")->valuestring, resp);
}

static void do_describe(struct fake *f, const cJSON *req, struct ss_http_resp *resp)
{
	const struct fsecret *s = fake_find(f, cJSON_GetObjectItem(req, "SecretId")->valuestring);

	if (s == NULL)
		error(resp, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
	else
		answer(resp, 200, meta_json(s, "VersionIdsToStages"));
}

static void do_tag(struct fake *f, const cJSON *req, struct ss_http_resp *resp)
{
	struct fsecret *s = fake_find(f, cJSON_GetObjectItem(req, "SecretId")->valuestring);
	const cJSON *t;

	if (s == NULL) {
		error(resp, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
		return;
	}
	cJSON_ArrayForEach(t, cJSON_GetObjectItem(req, "Tags"))
		fake_tag(s, cJSON_GetObjectItem(t, "Key")->valuestring,
			 cJSON_GetObjectItem(t, "Value")->valuestring);
	resp->status = 200; /* an empty body, as AWS sends */
}

static void do_delete(struct fake *f, const cJSON *req, struct ss_http_resp *resp)
{
	struct fsecret *s = fake_find(f, cJSON_GetObjectItem(req, "SecretId")->valuestring);
	const cJSON *days = cJSON_GetObjectItem(req, "RecoveryWindowInDays");
	cJSON *o;

	if (cJSON_GetObjectItem(req, "ForceDeleteWithoutRecovery") != NULL)
		f->force_delete_seen++;
	if (s == NULL) {
		error(resp, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
		return;
	}
	if (!cJSON_IsNumber(days) || days->valueint < 7 || days->valueint > 30) {
		error(resp, "InvalidParameterException", "RecoveryWindowInDays 7..30");
		return;
	}
	if (s->deleted) {
		error(resp, "InvalidRequestException",
		      "You tried to perform the operation on a secret that's currently marked deleted.");
		return;
	}
	s->deleted = 1;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "ARN", s->arn);
	cJSON_AddStringToObject(o, "Name", s->name);
	cJSON_AddNumberToObject(o, "DeletionDate", 1700000000 + 86400.0 * days->valueint);
	answer(resp, 200, o);
}

static const char *req_header(const struct ss_http_req *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

static void fake_fn(const struct ss_http_req *req, struct ss_http_resp *resp, void *ctx)
{
	struct fake *f = ctx;
	const char *target = req_header(req, "X-Amz-Target");
	const char *ct = req_header(req, "Content-Type");
	const char *auth = req_header(req, "Authorization");
	char scope[128];
	cJSON *body;
	int op;

	f->attempts_total++;
	if (strcmp(req->method, "POST") != 0 || strcmp(req->url, f->expect_url) != 0)
		violate(f, "method or URL");
	if (ct == NULL || strcmp(ct, "application/x-amz-json-1.1") != 0)
		violate(f, "content type");
	snprintf(scope, sizeof(scope), "/%s/secretsmanager/aws4_request", f->expect_region);
	if (auth == NULL || !starts(auth, "AWS4-HMAC-SHA256 Credential=AKIDTEST/") ||
	    strstr(auth, scope) == NULL)
		violate(f, "signature scope");
	if (target == NULL || !starts(target, "secretsmanager.")) {
		violate(f, "target");
		resp->status = 400;
		return;
	}
	for (op = 0; op < NOPS; op++)
		if (strcmp(target + strlen("secretsmanager."), op_names[op]) == 0)
			break;
	assert_true(op < NOPS);
	snprintf(f->last_body, sizeof(f->last_body), "%.*s", (int)req->body_len, req->body);
	body = cJSON_ParseWithLength(req->body, req->body_len);
	assert_non_null(body);
	cJSON_Delete(f->last_req);
	f->last_req = body;
	/* Secret hygiene: bodies with values, answers with values. */
	if (cJSON_GetObjectItem(body, "SecretString") != NULL && !req->secret_body)
		violate(f, "a SecretString body not marked secret");
	if ((op == OP_BATCH || op == OP_GET) && !req->secret_response)
		violate(f, "a value answer not marked secret");
	if ((op == OP_CREATE || op == OP_PUT) && !req->idempotent)
		violate(f, "a write with a token not marked idempotent");
	f->calls[op]++;
	if (f->fail_op == op && f->fail_count > 0) {
		f->fail_count--;
		if (f->fail_status >= 500) {
			resp->status = f->fail_status;
			return;
		}
		error(resp, f->fail_code, f->fail_msg ? f->fail_msg : "injected");
		return;
	}
	switch (op) {
	case OP_LIST: do_list(f, body, resp); break;
	case OP_BATCH: do_batch(f, body, resp); break;
	case OP_GET: do_get(f, body, resp); break;
	case OP_CREATE: do_create(f, body, resp); break;
	case OP_PUT: do_put(f, body, resp); break;
	case OP_DESCRIBE: do_describe(f, body, resp); break;
	case OP_TAG: do_tag(f, body, resp); break;
	case OP_DELETE: do_delete(f, body, resp); break;
	}
	if (f->drop_after_op == op && f->drop_after_count > 0) {
		/* The work is done, the answer lost on the way back. */
		f->drop_after_count--;
		ss_buf_reset(&resp->body);
		resp->status = 0;
		resp->rc = SS_ERR_NET;
		resp->fail = SS_HTTP_FAIL_DROPPED;
	}
}

/* --- fixtures --- */

struct world {
	struct fake f;
	struct ss_http *h;
	struct ss_aws_creds creds;
	struct ss_sm_scope sc;
	struct ss_buf err;
};

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	setenv("SECRETSYNC_HTTP_BACKOFF_MS", "1", 1);
	setenv("SECRETSYNC_HTTP_ATTEMPTS", "4", 1);
	setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://sm.test", 1);
	unsetenv("AWS_ENDPOINT_URL");
	fake_reset(&w->f);
	w->h = ss_http_new(8);
	assert_non_null(w->h);
	ss_http_set_fake(w->h, fake_fn, &w->f);
	w->creds.access_key_id = strdup("AKIDTEST");
	w->creds.secret_access_key = strdup("test-secret-access-key");
	w->sc.h = w->h;
	w->sc.creds = &w->creds;
	w->sc.region = "eu-west-1";
	w->sc.role_arn = "arn:aws:iam::111111111111:role/secretsync";
	ss_buf_init(&w->err, 0);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	assert_int_equal(w->f.violations, 0);
	fake_reset(&w->f);
	ss_http_free(w->h);
	ss_aws_creds_clear(&w->creds);
	ss_buf_free(&w->err);
	free(w);
	return 0;
}

static struct ss_sm_write wr(const char *name, const char *target, const char *value,
			     const char *prev)
{
	struct ss_sm_write w;

	memset(&w, 0, sizeof(w));
	w.name = name;
	w.target = target;
	w.value = value;
	w.value_len = strlen(value);
	w.previous_version = prev;
	return w;
}

/* n secrets named PREFIX000, PREFIX001, ... */
static void seed(struct fake *f, const char *prefix, int n, int managed)
{
	char name[64], value[96];
	int i;

	for (i = 0; i < n; i++) {
		struct fsecret *s;

		snprintf(name, sizeof(name), "%.40s%03d", prefix, i);
		snprintf(value, sizeof(value), "{\"pw\":\"value-of-%s\"}", name);
		s = fake_add(f, name, value);
		if (managed) {
			fake_tag(s, "managed-by", "secretsync");
			fake_tag(s, "secretsync:target", "staging");
		}
	}
}

/* --- pure functions --- */

static void test_name_validation(void **state)
{
	static const char *const good[] = {"a", "app/db", "A-Z_0.9+=@/x", "github/token"};
	static const char *const bad[] = {"", "with space", "bang!", "star*", "tab\tx", "caf\xc3\xa9",
					  "semi;colon", "new\nline"};
	struct ss_buf err;
	char long_name[600];
	size_t i;

	(void)state;
	ss_buf_init(&err, 0);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_true(ss_sm_name_ok(good[i]));
		assert_int_equal(ss_sm_check_name(good[i], &err), SS_OK);
	}
	assert_int_equal(err.len, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ss_buf_reset(&err);
		assert_false(ss_sm_name_ok(bad[i]));
		assert_int_equal(ss_sm_check_name(bad[i], &err), SS_ERR_INVALID);
		assert_non_null(strstr(err.data, "secretsmanager: "));
		assert_non_null(strstr(err.data, "valid"));
		assert_null(strchr(err.data, '\t'));
		assert_int_equal(strchr(err.data, '\n'), err.data + err.len - 1); /* one line */
	}
	ss_buf_reset(&err);
	assert_int_equal(ss_sm_check_name("with space", &err), SS_ERR_INVALID);
	assert_non_null(strstr(err.data, "'with space'"));
	assert_non_null(strstr(err.data, "position 5"));
	memset(long_name, 'a', sizeof(long_name));
	long_name[512] = '\0';
	assert_true(ss_sm_name_ok(long_name));
	long_name[512] = 'a';
	long_name[513] = '\0';
	assert_false(ss_sm_name_ok(long_name));
	ss_buf_reset(&err);
	assert_int_equal(ss_sm_check_name(long_name, &err), SS_ERR_INVALID);
	assert_non_null(strstr(err.data, "513 characters"));
	assert_false(ss_sm_name_ok(NULL));
	ss_buf_free(&err);
}

static void test_token(void **state)
{
	char a[SS_SM_TOKEN_LEN + 1], b[SS_SM_TOKEN_LEN + 1], c[SS_SM_TOKEN_LEN + 1];
	char v32[33], long_key[100];
	size_t i;

	(void)state;
	/* A fixed vector (Python: hashlib.sha256(b'staging\0app/db\0create\0{"a":1}')). */
	ss_sm_token("staging", "app/db", NULL, "{\"a\":1}", 7, a);
	assert_string_equal(a, "d15fa8087a1cf06733d2df8ad1103c04a391bd413574bf58f66f67e41bfd8998");
	ss_sm_token("staging", "app/db", "", "{\"a\":1}", 7, b);
	assert_string_equal(a, b); /* "" and NULL both mean a create */
	memset(v32, 'v', 32);
	v32[32] = '\0';
	ss_sm_token("staging", "app/db", v32, "B", 1, c);
	assert_string_equal(c, "25f9e5198bd5126b0bad2bc224b198bb49f4a2c6f04a528d3b42f619cf6e203d");
	/* Same inputs, same token; any input differing, another token. */
	ss_sm_token("staging", "app/db", "v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1", "A", 1, a);
	ss_sm_token("staging", "app/db", "v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1", "A", 1, b);
	assert_string_equal(a, b);
	ss_sm_token("staging", "app/db", "v3v3v3v3v3v3v3v3v3v3v3v3v3v3v3v3", "A", 1, c);
	assert_string_not_equal(a, c); /* a revert A -> B -> A replaces another version */
	ss_sm_token("prod", "app/db", "v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1", "A", 1, c);
	assert_string_not_equal(a, c);
	ss_sm_token("staging", "app/db2", "v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1", "A", 1, c);
	assert_string_not_equal(a, c);
	ss_sm_token("staging", "app/db", "v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1", "B", 1, c);
	assert_string_not_equal(a, c);
	/* The separators keep fields apart: ("ab","c") is not ("a","bc"). */
	ss_sm_token("ab", "c", NULL, "x", 1, a);
	ss_sm_token("a", "bc", NULL, "x", 1, b);
	assert_string_not_equal(a, b);
	/* Keyed: HMAC-SHA256 of the same message (Python's hmac module). */
	ss_sm_token_keyed("run-key-0123", 12, "staging", "app/db", NULL, "{\"a\":1}", 7, a);
	assert_string_equal(a, "1e7cc24bd9f076e769edf1941c2fa16c1fe0ad0499cc6a5bb687a51f5790d85e");
	memset(long_key, 'k', sizeof(long_key));
	ss_sm_token_keyed(long_key, sizeof(long_key), "staging", "app/db", NULL, "{\"a\":1}", 7, b);
	assert_string_equal(b, "6d51f563a1af2d78de230457be9fb7a52f8796b280a3545f6702812836f29ce5");
	ss_sm_token_keyed("run-key-0124", 12, "staging", "app/db", NULL, "{\"a\":1}", 7, c);
	assert_string_not_equal(a, c);
	ss_sm_token_keyed(NULL, 0, "staging", "app/db", NULL, "{\"a\":1}", 7, c);
	assert_string_equal(c, "d15fa8087a1cf06733d2df8ad1103c04a391bd413574bf58f66f67e41bfd8998");
	/* 32..64 characters of lowercase hex. */
	assert_int_equal(strlen(a), SS_SM_TOKEN_LEN);
	assert_true(SS_SM_TOKEN_LEN >= 32 && SS_SM_TOKEN_LEN <= 64);
	for (i = 0; i < strlen(a); i++)
		assert_non_null(strchr("0123456789abcdef", a[i]));
}

static void test_set_helpers(void **state)
{
	struct world *w = *state;
	struct ss_sm_set *set = NULL;
	const struct ss_sm_secret *s;
	struct fsecret *f;

	f = fake_add(&w->f, "app/a", "1");
	fake_tag(f, "managed-by", "secretsync");
	fake_tag(f, "secretsync:target", "staging");
	f = fake_add(&w->f, "app/b", "2");
	fake_tag(f, "managed-by", "secretsync");
	fake_tag(f, "secretsync:target", "prod");
	fake_add(&w->f, "app/c", "3");
	f = fake_add(&w->f, "app/d", "4");
	fake_tag(f, "managed-by", "someone-else");
	fake_tag(f, "secretsync:target", "staging");
	assert_int_equal(ss_sm_list(&w->sc, NULL, &set, &w->err), SS_OK);
	assert_int_equal(set->n, 4);
	s = ss_sm_set_find(set, "app/a");
	assert_true(s->tags_known);
	assert_true(ss_sm_is_managed(s, "staging"));
	assert_true(ss_sm_is_managed(s, NULL));
	assert_false(ss_sm_is_managed(s, "prod"));
	assert_false(ss_sm_is_managed(ss_sm_set_find(set, "app/b"), "staging"));
	assert_false(ss_sm_is_managed(ss_sm_set_find(set, "app/c"), NULL));
	assert_false(ss_sm_is_managed(ss_sm_set_find(set, "app/d"), "staging"));
	assert_string_equal(ss_sm_tag_get(s, "secretsync:target"), "staging");
	assert_null(ss_sm_tag_get(s, "nope"));
	assert_null(ss_sm_set_find(set, "app/zz"));
	assert_null(ss_sm_set_find(NULL, "app/a"));
	ss_sm_set_free(set);
	ss_sm_set_free(NULL);
	ss_sm_secret_free(NULL);
}

/* --- ListSecrets --- */

static void test_list_pages(void **state)
{
	struct world *w = *state;
	struct ss_sm_set *set = NULL;
	struct ss_sm_read *op = NULL;
	struct ss_sm_counts n;
	struct ss_sm_filter flt;
	char name[64];
	size_t i;

	seed(&w->f, "app/s", 250, 1);
	seed(&w->f, "other/s", 30, 0);
	w->f.s[7].deleted = 1;
	memset(&flt, 0, sizeof(flt));
	flt.name_prefix = "app/";
	assert_int_equal(ss_sm_list_start(&w->sc, &flt, &op), SS_OK);
	assert_int_equal(ss_http_run(w->h), SS_OK);
	ss_sm_read_counts(op, &n);
	assert_int_equal(n.list_calls, 3); /* 100 + 100 + 50 */
	assert_int_equal(n.batch_calls + n.get_calls, 0);
	assert_int_equal(ss_sm_read_finish(op, &set, &w->err), SS_OK);
	assert_int_equal(set->n, 250);
	for (i = 0; i < set->n; i++) {
		snprintf(name, sizeof(name), "app/s%03zu", i);
		assert_string_equal(set->items[i].name, name); /* sorted */
		assert_int_equal(set->items[i].kind, SS_SM_NO_VALUE);
		assert_non_null(set->items[i].arn);
		assert_non_null(set->items[i].version_id);
		assert_int_equal(set->items[i].deleted, i == 7);
		assert_true(ss_sm_is_managed(&set->items[i], "staging"));
	}
	assert_true(set->items[7].deleted_date > 1.6e9);
	/* The request: a name filter, 100 a page, deleted secrets included. */
	assert_non_null(strstr(w->f.last_body, "\"MaxResults\":100"));
	assert_non_null(strstr(w->f.last_body, "\"IncludePlannedDeletion\":true"));
	assert_non_null(strstr(w->f.last_body,
			       "\"Filters\":[{\"Key\":\"name\",\"Values\":[\"app/\"]}]"));
	assert_non_null(strstr(w->f.last_body, "\"NextToken\":\"200\""));
	ss_sm_set_free(set);

	/* Small pages: many calls, the same answer. */
	w->f.page_cap = 7;
	w->f.calls[OP_LIST] = 0;
	assert_int_equal(ss_sm_list(&w->sc, &flt, &set, &w->err), SS_OK);
	assert_int_equal(set->n, 250);
	assert_int_equal(w->f.calls[OP_LIST], 36);
	ss_sm_set_free(set);

	/* No filter: everything; exclude_deleted: the deleted one is gone. */
	w->f.page_cap = 0;
	flt.name_prefix = NULL;
	flt.exclude_deleted = 1;
	assert_int_equal(ss_sm_list(&w->sc, &flt, &set, &w->err), SS_OK);
	assert_int_equal(set->n, 279);
	assert_null(strstr(w->f.last_body, "Filters"));
	assert_null(strstr(w->f.last_body, "IncludePlannedDeletion"));
	assert_null(ss_sm_set_find(set, "app/s007"));
	ss_sm_set_free(set);
}

static void test_list_prefix_kept_exact(void **state)
{
	struct world *w = *state;
	struct ss_sm_set *set = NULL;
	struct ss_sm_filter flt;

	/* A server whose name filter is looser than a prefix match. */
	fake_add(&w->f, "app/x", "1");
	fake_add(&w->f, "apple", "2");
	fake_add(&w->f, "zzz/app/y", "3");
	w->f.ignore_filter = 1;
	memset(&flt, 0, sizeof(flt));
	flt.name_prefix = "app/";
	assert_int_equal(ss_sm_list(&w->sc, &flt, &set, &w->err), SS_OK);
	assert_int_equal(set->n, 1);
	assert_string_equal(set->items[0].name, "app/x");
	ss_sm_set_free(set);
}

static void test_list_tag_filters(void **state)
{
	struct world *w = *state;
	struct ss_sm_set *set = NULL;
	struct ss_sm_filter flt;

	seed(&w->f, "app/m", 3, 1);
	seed(&w->f, "app/u", 2, 0);
	memset(&flt, 0, sizeof(flt));
	flt.tag_key = "managed-by";
	flt.tag_value = "staging";
	assert_int_equal(ss_sm_list(&w->sc, &flt, &set, &w->err), SS_OK);
	assert_int_equal(set->n, 3);
	assert_non_null(strstr(w->f.last_body, "{\"Key\":\"tag-key\",\"Values\":[\"managed-by\"]}"));
	assert_non_null(strstr(w->f.last_body, "{\"Key\":\"tag-value\",\"Values\":[\"staging\"]}"));
	ss_sm_set_free(set);
	/* A negation or an invalid prefix is refused before sending. */
	flt.tag_key = "!managed-by";
	w->f.calls[OP_LIST] = 0;
	assert_int_equal(ss_sm_list(&w->sc, &flt, &set, &w->err), SS_ERR_INVALID);
	assert_null(set);
	memset(&flt, 0, sizeof(flt));
	flt.name_prefix = "!app";
	assert_int_equal(ss_sm_list(&w->sc, &flt, &set, &w->err), SS_ERR_INVALID);
	assert_int_equal(w->f.calls[OP_LIST], 0);
	assert_non_null(strstr(w->err.data, "'!app'"));
}

static void test_list_errors(void **state)
{
	struct world *w = *state;
	struct ss_sm_set *set = NULL;
	struct ss_sm_filter flt;

	memset(&flt, 0, sizeof(flt));
	flt.name_prefix = "app/";
	w->f.fail_op = OP_LIST;
	w->f.fail_count = 1;
	w->f.fail_code = "AccessDeniedException";
	w->f.fail_msg = "User: arn:aws:sts::111111111111:assumed-role/secretsync/x is not authorized "
			"to perform: secretsmanager:ListSecrets";
	assert_int_equal(ss_sm_list(&w->sc, &flt, &set, &w->err), SS_ERR_AUTH);
	assert_null(set);
	assert_non_null(strstr(w->err.data, "secretsmanager: ListSecrets of names starting with "
					    "'app/' (eu-west-1): AccessDeniedException: User:"));
	assert_non_null(strstr(w->err.data, "role arn:aws:iam::111111111111:role/secretsync must "
					    "allow secretsmanager:ListSecrets on \"*\""));
	/* A page that is not JSON. */
	ss_buf_reset(&w->err);
	w->f.fail_op = OP_LIST;
	w->f.fail_count = 1;
	w->f.fail_status = 0;
	w->f.fail_code = "";
	seed(&w->f, "app/s", 2, 0);
	assert_int_equal(ss_sm_list(&w->sc, &flt, &set, &w->err), SS_ERR_HTTP);
	assert_non_null(strstr(w->err.data, "HTTP 400"));
	/* No region, no credentials: said plainly, nothing sent. */
	ss_buf_reset(&w->err);
	w->f.calls[OP_LIST] = 0;
	w->sc.region = NULL;
	assert_int_equal(ss_sm_list(&w->sc, &flt, &set, &w->err), SS_ERR_INVALID);
	assert_non_null(strstr(w->err.data, "no region"));
	w->sc.region = "eu-west-1";
	w->sc.creds = NULL;
	assert_int_equal(ss_sm_list(&w->sc, &flt, &set, &w->err), SS_ERR_AUTH);
	assert_non_null(strstr(w->err.data, "no AWS credentials"));
	assert_int_equal(w->f.calls[OP_LIST], 0);
}

/* --- batch reads --- */

static void names(char out[][32], const char *prefix, int n, const char **ptrs)
{
	int i;

	for (i = 0; i < n; i++) {
		snprintf(out[i], 32, "%.20s%03d", prefix, i);
		ptrs[i] = out[i];
	}
}

static void check_values(const struct ss_sm_set *set, const char *prefix, int n)
{
	char name[64], value[96];
	int i;

	assert_int_equal(set->n, (size_t)n);
	for (i = 0; i < n; i++) {
		const struct ss_sm_secret *s;

		snprintf(name, sizeof(name), "%.40s%03d", prefix, i);
		snprintf(value, sizeof(value), "{\"pw\":\"value-of-%s\"}", name);
		s = ss_sm_set_find(set, name);
		assert_non_null(s);
		assert_int_equal(s->kind, SS_SM_STRING);
		assert_string_equal(s->value, value);
		assert_int_equal(s->value_len, strlen(value));
		assert_non_null(s->version_id);
		assert_non_null(s->arn);
		/* Masked as it arrived: the whole value and its leaves. */
		assert_true(ss_mask_contains(ss_mask_global(), value, strlen(value)));
		assert_true(ss_mask_contains(ss_mask_global(), value + 7, strlen(value) - 9));
	}
}

static void test_batch_45(void **state)
{
	struct world *w = *state;
	char buf[45][32];
	const char *ids[46];
	struct ss_sm_set *set = NULL;
	struct ss_sm_read *op = NULL;
	struct ss_sm_counts n;

	seed(&w->f, "b45/s", 45, 0);
	names(buf, "b45/s", 45, ids);
	ids[45] = "b45/s003"; /* a repeat is read once */
	assert_int_equal(ss_sm_batch_get_start(&w->sc, ids, 46, &op), SS_OK);
	assert_int_equal(ss_http_run(w->h), SS_OK);
	ss_sm_read_counts(op, &n);
	assert_int_equal(n.batch_calls, 3); /* 20 + 20 + 5 */
	assert_int_equal(n.get_calls, 0);
	assert_int_equal(n.list_calls, 0);
	assert_int_equal(ss_sm_read_finish(op, &set, &w->err), SS_OK);
	check_values(set, "b45/s", 45);
	ss_sm_set_free(set);
}

static void test_batch_pages_and_missing(void **state)
{
	struct world *w = *state;
	char buf[20][32];
	const char *ids[20];
	struct ss_sm_set *set = NULL;

	seed(&w->f, "bp/s", 19, 0);
	names(buf, "bp/s", 20, ids); /* bp/s19 does not exist */
	w->f.batch_page_cap = 6;
	assert_int_equal(ss_sm_batch_get(&w->sc, ids, 20, &set, &w->err), SS_OK);
	assert_int_equal(w->f.calls[OP_BATCH], 4); /* 6 + 6 + 6 + 2 */
	assert_int_equal(w->f.calls[OP_GET], 0);
	check_values(set, "bp/s", 19);
	assert_null(ss_sm_set_find(set, "bp/s019"));
	ss_sm_set_free(set);
}

static void test_batch_errors_entry_retried_alone(void **state)
{
	struct world *w = *state;
	char buf[5][32];
	const char *ids[5];
	struct ss_sm_set *set = NULL;

	seed(&w->f, "be/s", 5, 0);
	names(buf, "be/s", 5, ids);
	w->f.errors_name = "be/s002";
	w->f.errors_code = "InternalServiceError";
	assert_int_equal(ss_sm_batch_get(&w->sc, ids, 5, &set, &w->err), SS_OK);
	assert_int_equal(w->f.calls[OP_BATCH], 1);
	assert_int_equal(w->f.calls[OP_GET], 1); /* be/s2 alone */
	check_values(set, "be/s", 5);
	ss_sm_set_free(set);

	/* An Errors entry that stays an error names the secret. */
	w->f.errors_name = "be/s004";
	w->f.errors_code = "DecryptionFailure";
	w->f.fail_op = OP_GET;
	w->f.fail_count = 1;
	w->f.fail_code = "DecryptionFailure";
	w->f.fail_msg = "Secrets Manager can't decrypt the protected secret text using the provided KMS key.";
	assert_int_equal(ss_sm_batch_get(&w->sc, ids, 5, &set, &w->err), SS_ERR_AUTH);
	assert_null(set);
	assert_non_null(strstr(w->err.data, "secretsmanager: GetSecretValue be/s004 (eu-west-1): "
					    "DecryptionFailure"));
	assert_non_null(strstr(w->err.data, "kms:Decrypt"));
}

static void test_batch_refused_falls_back(void **state)
{
	static const char *const refusals[] = {"AccessDeniedException", "UnknownOperationException"};
	struct world *w = *state;
	char buf[45][32];
	const char *ids[45];
	struct ss_sm_set *set = NULL;
	struct ss_sm_read *op = NULL;
	struct ss_sm_counts n;
	size_t i;

	seed(&w->f, "bf/s", 45, 0);
	names(buf, "bf/s", 45, ids);
	for (i = 0; i < 2; i++) {
		w->f.batch_refusal = refusals[i];
		assert_int_equal(ss_sm_batch_get_start(&w->sc, ids, 45, &op), SS_OK);
		assert_int_equal(ss_http_run(w->h), SS_OK);
		ss_sm_read_counts(op, &n);
		assert_int_equal(n.batch_calls, 1); /* the probe only */
		assert_int_equal(n.get_calls, 45);
		assert_int_equal(ss_sm_read_finish(op, &set, &w->err), SS_OK);
		check_values(set, "bf/s", 45);
		ss_sm_set_free(set);
	}
	assert_int_equal(w->err.len, 0);

	/* A plain failure of the batch is an error, not a fallback. */
	w->f.batch_refusal = "ValidationException";
	assert_int_equal(ss_sm_batch_get(&w->sc, ids, 45, &set, &w->err), SS_ERR_INVALID);
	assert_non_null(strstr(w->err.data, "BatchGetSecretValue"));
}

static void test_batch_fallback_denied_secret(void **state)
{
	struct world *w = *state;
	const char *ids[2] = {"fd/a", "fd/b"};
	struct ss_sm_set *set = NULL;

	fake_add(&w->f, "fd/a", "aaaa-value");
	fake_add(&w->f, "fd/b", "bbbb-value");
	w->f.batch_refusal = "AccessDeniedException";
	w->f.fail_op = OP_GET;
	w->f.fail_count = 1;
	w->f.fail_code = "AccessDeniedException";
	w->f.fail_msg = "not authorized to perform: secretsmanager:GetSecretValue";
	assert_int_equal(ss_sm_batch_get(&w->sc, ids, 2, &set, &w->err), SS_ERR_AUTH);
	assert_non_null(strstr(w->err.data, "secretsmanager: GetSecretValue fd/a (eu-west-1): "
					    "AccessDeniedException"));
	assert_non_null(strstr(w->err.data, "role arn:aws:iam::111111111111:role/secretsync must "
					    "allow secretsmanager:GetSecretValue on "
					    "arn:aws:secretsmanager:eu-west-1:111111111111:secret:fd/a-*"));
	assert_null(strstr(w->err.data, "bbbb-value"));
}

/* --- a target's state --- */

static void test_state(void **state)
{
	struct world *w = *state;
	static const char *const want[] = {"app/s001", "app/s002", "app/s003", "app/none"};
	struct ss_sm_filter flt;
	struct ss_sm_set *set = NULL;
	struct ss_sm_read *op = NULL;
	struct ss_sm_counts n;
	const struct ss_sm_secret *s;

	seed(&w->f, "app/s", 30, 1);
	seed(&w->f, "other/s", 5, 0);
	w->f.s[3].deleted = 1;  /* app/s003 */
	w->f.s[2].binary = 1;   /* app/s002 */
	memset(&flt, 0, sizeof(flt));
	flt.name_prefix = "app/";
	assert_int_equal(ss_sm_state_start(&w->sc, &flt, want, 4, &op), SS_OK);
	assert_int_equal(ss_http_run(w->h), SS_OK);
	ss_sm_read_counts(op, &n);
	assert_int_equal(n.list_calls, 1);
	assert_int_equal(n.batch_calls, 1);
	assert_int_equal(n.get_calls, 0);
	assert_int_equal(ss_sm_read_finish(op, &set, &w->err), SS_OK);
	assert_int_equal(set->n, 30);
	/* Batch reads go by ARN, from the listing. */
	assert_non_null(strstr(w->f.last_body, "arn:aws:secretsmanager:eu-west-1:111111111111:"
					       "secret:app/s001-AbCdEf"));
	s = ss_sm_set_find(set, "app/s001");
	assert_int_equal(s->kind, SS_SM_STRING);
	assert_string_equal(s->value, "{\"pw\":\"value-of-app/s001\"}");
	assert_string_equal(s->version_id, w->f.s[1].v[0].id);
	assert_true(ss_sm_is_managed(s, "staging"));
	s = ss_sm_set_find(set, "app/s002");
	assert_int_equal(s->kind, SS_SM_BINARY);
	assert_null(s->value);
	s = ss_sm_set_find(set, "app/s003");
	assert_true(s->deleted);
	assert_int_equal(s->kind, SS_SM_NO_VALUE);
	s = ss_sm_set_find(set, "app/s004"); /* listed, not wanted */
	assert_int_equal(s->kind, SS_SM_NO_VALUE);
	assert_non_null(s->version_id);
	assert_null(ss_sm_set_find(set, "app/none"));
	assert_null(ss_sm_set_find(set, "other/s000"));
	ss_sm_set_free(set);

	/* want NULL: every listed live secret; 29 values over 2 batch calls. */
	w->f.calls[OP_BATCH] = 0;
	assert_int_equal(ss_sm_state(&w->sc, &flt, NULL, 0, &set, &w->err), SS_OK);
	assert_int_equal(w->f.calls[OP_BATCH], 2);
	assert_int_equal(ss_sm_set_find(set, "app/s029")->kind, SS_SM_STRING);
	ss_sm_set_free(set);

	/* want empty: the listing only. */
	w->f.calls[OP_BATCH] = 0;
	assert_int_equal(ss_sm_state(&w->sc, &flt, want, 0, &set, &w->err), SS_OK);
	assert_int_equal(w->f.calls[OP_BATCH], 0);
	ss_sm_set_free(set);
}

static void test_state_secret_without_value(void **state)
{
	struct world *w = *state;
	struct ss_sm_set *set = NULL;

	/* Created without a value: listed, no AWSCURRENT version. */
	fake_add(&w->f, "app/empty", NULL);
	fake_add(&w->f, "app/full", "full-value");
	assert_int_equal(ss_sm_state(&w->sc, NULL, NULL, 0, &set, &w->err), SS_OK);
	assert_int_equal(ss_sm_set_find(set, "app/empty")->kind, SS_SM_NO_VALUE);
	assert_null(ss_sm_set_find(set, "app/empty")->version_id);
	assert_int_equal(ss_sm_set_find(set, "app/full")->kind, SS_SM_STRING);
	ss_sm_set_free(set);
}

static void test_two_targets_one_loop(void **state)
{
	struct world *w = *state;
	struct ss_sm_read *a = NULL, *b = NULL;
	struct ss_sm_set *sa = NULL, *sb = NULL;
	struct ss_sm_filter fa, fb;
	struct ss_http_stats st;

	seed(&w->f, "ta/s", 40, 0);
	seed(&w->f, "tb/s", 40, 0);
	memset(&fa, 0, sizeof(fa));
	memset(&fb, 0, sizeof(fb));
	fa.name_prefix = "ta/";
	fb.name_prefix = "tb/";
	assert_int_equal(ss_sm_state_start(&w->sc, &fa, NULL, 0, &a), SS_OK);
	assert_int_equal(ss_sm_state_start(&w->sc, &fb, NULL, 0, &b), SS_OK);
	assert_int_equal(ss_http_run(w->h), SS_OK);
	assert_int_equal(ss_sm_read_finish(a, &sa, &w->err), SS_OK);
	assert_int_equal(ss_sm_read_finish(b, &sb, &w->err), SS_OK);
	check_values(sa, "ta/s", 40);
	check_values(sb, "tb/s", 40);
	ss_http_get_stats(w->h, &st);
	assert_true(st.max_in_flight >= 2);
	ss_sm_set_free(sa);
	ss_sm_set_free(sb);
}

/* --- writes --- */

static int versions_of(struct world *w, const char *name)
{
	struct fsecret *s = fake_find(&w->f, name);

	return s ? s->nv : -1;
}

static void test_create_put_revert(void **state)
{
	struct world *w = *state;
	struct ss_sm_write x;
	struct ss_sm_secret *r = NULL, *d = NULL;
	char tok[SS_SM_TOKEN_LEN + 1], v1[80], v2[80], v3[80];
	struct fsecret *s;

	x = wr("app/new", "staging", "{\"a\":\"AAAA\"}", NULL);
	assert_int_equal(ss_sm_create(&w->sc, &x, &r, &w->err), SS_OK);
	ss_sm_token("staging", "app/new", NULL, x.value, x.value_len, tok);
	assert_string_equal(r->version_id, tok);
	assert_string_equal(r->name, "app/new");
	assert_non_null(r->arn);
	snprintf(v1, sizeof(v1), "%s", r->version_id);
	ss_sm_secret_free(r);
	/* Created with both ownership tags and the token. */
	assert_non_null(strstr(w->f.last_body, "\"ClientRequestToken\":\""));
	assert_non_null(strstr(w->f.last_body, "{\"Key\":\"managed-by\",\"Value\":\"secretsync\"}"));
	assert_non_null(strstr(w->f.last_body, "{\"Key\":\"secretsync:target\",\"Value\":\"staging\"}"));
	s = fake_find(&w->f, "app/new");
	assert_int_equal(s->ntags, 2);

	/* A -> B: a new version. */
	x = wr("app/new", "staging", "{\"a\":\"BBBB\"}", v1);
	assert_int_equal(ss_sm_put(&w->sc, &x, &r, &w->err), SS_OK);
	snprintf(v2, sizeof(v2), "%s", r->version_id);
	assert_string_not_equal(v1, v2);
	ss_sm_secret_free(r);
	assert_int_equal(versions_of(w, "app/new"), 2);
	/* The same write again (a retry): no new version. */
	assert_int_equal(ss_sm_put(&w->sc, &x, &r, &w->err), SS_OK);
	assert_string_equal(r->version_id, v2);
	ss_sm_secret_free(r);
	assert_int_equal(versions_of(w, "app/new"), 2);
	/* B -> A: lands as a third version although A was written before. */
	x = wr("app/new", "staging", "{\"a\":\"AAAA\"}", v2);
	assert_int_equal(ss_sm_put(&w->sc, &x, &r, &w->err), SS_OK);
	snprintf(v3, sizeof(v3), "%s", r->version_id);
	assert_string_not_equal(v3, v1);
	ss_sm_secret_free(r);
	assert_int_equal(versions_of(w, "app/new"), 3);
	/* Describe sees the current version and the tags. */
	assert_int_equal(ss_sm_describe(&w->sc, "app/new", &d, &w->err), SS_OK);
	assert_string_equal(d->version_id, v3);
	assert_true(ss_sm_is_managed(d, "staging"));
	assert_false(d->deleted);
	ss_sm_secret_free(d);
	assert_int_equal(ss_sm_get(&w->sc, "app/new", &d, &w->err), SS_OK);
	assert_string_equal(d->value, "{\"a\":\"AAAA\"}");
	assert_string_equal(d->version_id, v3);
	ss_sm_secret_free(d);
	assert_int_equal(w->err.len, 0);
	/* A keyed write carries the keyed token. */
	x = wr("app/new", "staging", "{\"a\":\"CCCC\"}", v3);
	x.token_key = "per-run-key";
	x.token_key_len = 11;
	assert_int_equal(ss_sm_put(&w->sc, &x, &r, &w->err), SS_OK);
	ss_sm_token_keyed("per-run-key", 11, "staging", "app/new", v3, x.value, x.value_len, tok);
	assert_string_equal(r->version_id, tok);
	ss_sm_token("staging", "app/new", v3, x.value, x.value_len, tok);
	assert_string_not_equal(r->version_id, tok);
	ss_sm_secret_free(r);
	assert_int_equal(versions_of(w, "app/new"), 4);
	/* A create retried (same token, same value) is not an error. */
	x = wr("app/new", "staging", "{\"a\":\"AAAA\"}", NULL);
	assert_int_equal(ss_sm_create(&w->sc, &x, NULL, &w->err), SS_OK);
	assert_int_equal(versions_of(w, "app/new"), 4);
}

static void test_write_answer_lost(void **state)
{
	struct world *w = *state;
	struct ss_sm_write x;
	struct ss_sm_secret *r = NULL;
	char tok[SS_SM_TOKEN_LEN + 1];

	fake_add(&w->f, "app/lost", "old-value");
	w->f.drop_after_op = OP_PUT;
	w->f.drop_after_count = 1;
	x = wr("app/lost", "staging", "new-value", w->f.s[0].v[0].id);
	assert_int_equal(ss_sm_put(&w->sc, &x, &r, &w->err), SS_OK);
	assert_int_equal(w->f.calls[OP_PUT], 2); /* retried ... */
	assert_int_equal(versions_of(w, "app/lost"), 2); /* ... and one version made */
	ss_sm_token("staging", "app/lost", w->f.s[0].v[0].id, "new-value", 9, tok);
	assert_string_equal(r->version_id, tok);
	ss_sm_secret_free(r);

	/* A delete whose answer is lost: the retry finds it deleted: done. */
	w->f.drop_after_op = OP_DELETE;
	w->f.drop_after_count = 1;
	assert_int_equal(ss_sm_delete(&w->sc, "app/lost", 7, &r, &w->err), SS_OK);
	assert_true(r->deleted);
	assert_int_equal(w->f.calls[OP_DELETE], 2);
	ss_sm_secret_free(r);
	assert_int_equal(w->err.len, 0);
}

static void test_write_conflicts(void **state)
{
	struct world *w = *state;
	struct ss_sm_write x;
	struct ss_sm_secret *r = NULL;
	char tok[SS_SM_TOKEN_LEN + 1];
	struct fsecret *s;

	/* A version already holds the token with other content. */
	s = fake_add(&w->f, "app/c", "first");
	ss_sm_token("staging", "app/c", s->v[0].id, "second-value", 12, tok);
	snprintf(s->v[1].id, sizeof(s->v[1].id), "%s", tok);
	s->v[1].value = strdup("something else");
	s->nv = 2;
	x = wr("app/c", "staging", "second-value", s->v[0].id);
	assert_int_equal(ss_sm_put(&w->sc, &x, &r, &w->err), SS_ERR_CONFLICT);
	assert_null(r);
	assert_non_null(strstr(w->err.data, "secretsmanager: PutSecretValue app/c (eu-west-1): "
					    "ResourceExistsException"));
	assert_non_null(strstr(w->err.data, "ClientRequestToken already exists with other content"));
	assert_null(strstr(w->err.data, "second-value"));

	/* Create of a secret that exists (made after the listing). */
	ss_buf_reset(&w->err);
	x = wr("app/c", "staging", "third-value", NULL);
	assert_int_equal(ss_sm_create(&w->sc, &x, NULL, &w->err), SS_ERR_CONFLICT);
	assert_non_null(strstr(w->err.data, "CreateSecret app/c"));
	assert_non_null(strstr(w->err.data, "already exists"));
	assert_null(strstr(w->err.data, "third-value"));

	/* Scheduled for deletion: put and create say how to restore it. */
	s->deleted = 1;
	ss_buf_reset(&w->err);
	x = wr("app/c", "staging", "fourth-value", s->v[0].id);
	assert_int_equal(ss_sm_put(&w->sc, &x, NULL, &w->err), SS_ERR_INVALID);
	assert_non_null(strstr(w->err.data, "InvalidRequestException"));
	assert_non_null(strstr(w->err.data, "aws secretsmanager restore-secret --secret-id app/c "
					    "--region eu-west-1"));
	ss_buf_reset(&w->err);
	x = wr("app/c", "staging", "fourth-value", NULL);
	assert_int_equal(ss_sm_create(&w->sc, &x, NULL, &w->err), SS_ERR_INVALID);
	assert_non_null(strstr(w->err.data, "restore-secret"));
	ss_buf_reset(&w->err);
	assert_int_equal(ss_sm_explain_deleted(&w->err, "app/c", "eu-west-1"), SS_OK);
	assert_non_null(strstr(w->err.data, "app/c (eu-west-1) is scheduled for deletion"));
	assert_null(strstr(w->err.data, "fourth-value"));
}

static void test_write_errors(void **state)
{
	struct world *w = *state;
	struct ss_sm_write x;
	struct ss_sm_scope base;
	char *big;

	fake_add(&w->f, "app/e", "old-value");
	/* AccessDenied names the action, the secret and the role. */
	w->f.fail_op = OP_PUT;
	w->f.fail_count = 1;
	w->f.fail_code = "AccessDeniedException";
	w->f.fail_msg = "User: arn:aws:sts::111111111111:assumed-role/secretsync/s is not authorized "
			"to perform: secretsmanager:PutSecretValue on resource: app/e";
	x = wr("app/e", "staging", "new-value", w->f.s[0].v[0].id);
	assert_int_equal(ss_sm_put(&w->sc, &x, NULL, &w->err), SS_ERR_AUTH);
	assert_non_null(strstr(w->err.data, "secretsmanager: PutSecretValue app/e (eu-west-1): "
					    "AccessDeniedException: User: "));
	assert_non_null(strstr(w->err.data, "(the IAM policy of role "
					    "arn:aws:iam::111111111111:role/secretsync must allow "
					    "secretsmanager:PutSecretValue on "
					    "arn:aws:secretsmanager:eu-west-1:111111111111:secret:app/e-*)"));
	/* Without a role: "these credentials". */
	ss_buf_reset(&w->err);
	base = w->sc;
	base.role_arn = NULL;
	w->f.fail_count = 1;
	assert_int_equal(ss_sm_put(&base, &x, NULL, &w->err), SS_ERR_AUTH);
	assert_non_null(strstr(w->err.data, "the IAM policy of these credentials must allow "
					    "secretsmanager:PutSecretValue on "
					    "arn:aws:secretsmanager:eu-west-1:*:secret:app/e-*"));

	/* Not found. */
	ss_buf_reset(&w->err);
	x = wr("app/missing", "staging", "new-value", "v0v0v0v0v0v0v0v0v0v0v0v0v0v0v0v0");
	assert_int_equal(ss_sm_put(&w->sc, &x, NULL, &w->err), SS_ERR_NOTFOUND);
	assert_int_equal(ss_sm_get(&w->sc, "app/missing", NULL, &w->err), SS_ERR_NOTFOUND);
	assert_int_equal(ss_sm_describe(&w->sc, "app/missing", NULL, &w->err), SS_ERR_NOTFOUND);
	assert_non_null(strstr(w->err.data, "ResourceNotFoundException"));

	/* The 64 KiB limit: refused before sending, naming the secret. */
	ss_buf_reset(&w->err);
	w->f.calls[OP_PUT] = 0;
	big = malloc(SS_SM_MAX_VALUE + 2);
	memset(big, 'x', SS_SM_MAX_VALUE + 1);
	big[SS_SM_MAX_VALUE + 1] = '\0';
	x = wr("app/e", "staging", big, w->f.s[0].v[0].id);
	assert_int_equal(ss_sm_put(&w->sc, &x, NULL, &w->err), SS_ERR_TOOBIG);
	assert_int_equal(ss_sm_create(&w->sc, &x, NULL, &w->err), SS_ERR_TOOBIG);
	assert_int_equal(w->f.calls[OP_PUT] + w->f.calls[OP_CREATE], 0);
	assert_non_null(strstr(w->err.data, "secretsmanager: app/e: the value is 65537 bytes, over "
					    "Secrets Manager's limit of 65536 bytes"));
	/* Exactly 65,536 bytes is fine. */
	big[SS_SM_MAX_VALUE] = '\0';
	x = wr("app/e", "staging", big, w->f.s[0].v[0].id);
	assert_int_equal(ss_sm_put(&w->sc, &x, NULL, &w->err), SS_OK);
	assert_int_equal(w->f.calls[OP_PUT], 1);
	free(big);

	/* A bad name: refused before sending, naming it. */
	ss_buf_reset(&w->err);
	x = wr("app/bad name", "staging", "v", NULL);
	assert_int_equal(ss_sm_create(&w->sc, &x, NULL, &w->err), SS_ERR_INVALID);
	assert_int_equal(ss_sm_delete(&w->sc, "bad*name", 7, NULL, &w->err), SS_ERR_INVALID);
	assert_int_equal(ss_sm_tag(&w->sc, "", "staging", &w->err), SS_ERR_INVALID);
	assert_int_equal(w->f.calls[OP_CREATE] + w->f.calls[OP_DELETE] + w->f.calls[OP_TAG], 0);
	assert_non_null(strstr(w->err.data, "'app/bad name' is not a valid secret name"));
	assert_non_null(strstr(w->err.data, "'bad*name' is not a valid secret name"));
	/* A write needs its target (tags and token). */
	ss_buf_reset(&w->err);
	x = wr("app/e", NULL, "v", NULL);
	assert_int_equal(ss_sm_create(&w->sc, &x, NULL, &w->err), SS_ERR_INVALID);
}

static void test_throttling(void **state)
{
	struct world *w = *state;
	struct ss_sm_write x;
	struct ss_sm_set *set = NULL;

	fake_add(&w->f, "app/t", "old-value");
	/* Throttled twice, then through: the transport retried. */
	w->f.fail_op = OP_PUT;
	w->f.fail_count = 2;
	w->f.fail_code = "ThrottlingException";
	w->f.fail_msg = "Rate exceeded";
	x = wr("app/t", "staging", "new-value", w->f.s[0].v[0].id);
	assert_int_equal(ss_sm_put(&w->sc, &x, NULL, &w->err), SS_OK);
	assert_int_equal(w->f.calls[OP_PUT], 3);
	assert_int_equal(versions_of(w, "app/t"), 2);
	/* A storm longer than the attempts (4 here): an error that says so. */
	w->f.fail_op = OP_LIST;
	w->f.fail_count = 10;
	assert_int_equal(ss_sm_list(&w->sc, NULL, &set, &w->err), SS_ERR_HTTP);
	assert_int_equal(w->f.calls[OP_LIST], 4);
	assert_non_null(strstr(w->err.data, "ThrottlingException: Rate exceeded (gave up after 4 "
					    "attempts"));
	/* 5xx on a read: retried too. */
	ss_buf_reset(&w->err);
	w->f.fail_op = OP_GET;
	w->f.fail_count = 1;
	w->f.fail_status = 503;
	assert_int_equal(ss_sm_get(&w->sc, "app/t", NULL, &w->err), SS_OK);
	assert_int_equal(w->f.calls[OP_GET], 2);
}

static void test_tag_and_delete(void **state)
{
	struct world *w = *state;
	struct ss_sm_secret *r = NULL;
	struct fsecret *s;

	s = fake_add(&w->f, "app/d", "value-d");
	assert_int_equal(ss_sm_tag(&w->sc, "app/d", "staging", &w->err), SS_OK);
	assert_int_equal(s->ntags, 2);
	assert_string_equal(s->tk[0], "managed-by");
	assert_string_equal(s->tv[1], "staging");
	assert_int_equal(ss_sm_delete(&w->sc, "app/d", 7, &r, &w->err), SS_OK);
	assert_true(r->deleted);
	assert_true(r->deleted_date > 1.7e9);
	assert_non_null(strstr(w->f.last_body, "\"RecoveryWindowInDays\":7"));
	assert_int_equal(w->f.force_delete_seen, 0);
	ss_sm_secret_free(r);
	assert_true(s->deleted);
	/* Deleting it again: AWS refuses; the message says what state it is in. */
	assert_int_equal(ss_sm_delete(&w->sc, "app/d", 30, NULL, &w->err), SS_ERR_INVALID);
	assert_non_null(strstr(w->err.data, "restore-secret"));
	/* A window outside 7..30 never goes out. */
	ss_buf_reset(&w->err);
	w->f.calls[OP_DELETE] = 0;
	assert_int_equal(ss_sm_delete(&w->sc, "app/d", 0, NULL, &w->err), SS_ERR_INVALID);
	assert_int_equal(ss_sm_delete(&w->sc, "app/d", 31, NULL, &w->err), SS_ERR_INVALID);
	assert_int_equal(w->f.calls[OP_DELETE], 0);
	assert_non_null(strstr(w->err.data, "7 to 30 days"));
	/* DeleteSecret AccessDenied mentions the managed-by rule. */
	ss_buf_reset(&w->err);
	fake_add(&w->f, "app/d2", "value-d2");
	w->f.fail_op = OP_DELETE;
	w->f.fail_count = 1;
	w->f.fail_code = "AccessDeniedException";
	assert_int_equal(ss_sm_delete(&w->sc, "app/d2", 7, NULL, &w->err), SS_ERR_AUTH);
	assert_non_null(strstr(w->err.data, "secretsmanager:DeleteSecret"));
	assert_non_null(strstr(w->err.data, "managed-by=secretsync"));
}

static void test_auth_errors(void **state)
{
	struct world *w = *state;

	w->f.fail_op = OP_GET;
	w->f.fail_count = 1;
	w->f.fail_code = "UnrecognizedClientException";
	w->f.fail_msg = "The security token included in the request is invalid.";
	assert_int_equal(ss_sm_get(&w->sc, "app/x", NULL, &w->err), SS_ERR_AUTH);
	assert_non_null(strstr(w->err.data, "AWS_ACCESS_KEY_ID"));
	w->f.fail_count = 1;
	w->f.fail_code = "ExpiredTokenException";
	assert_int_equal(ss_sm_get(&w->sc, "app/x", NULL, &w->err), SS_ERR_AUTH);
	assert_non_null(strstr(w->err.data, "expired"));
}

static void test_endpoint_and_region(void **state)
{
	struct world *w = *state;
	struct ss_sm_set *set = NULL;

	fake_add(&w->f, "app/r", "1");
	unsetenv("AWS_ENDPOINT_URL_SECRETS_MANAGER");
	setenv("AWS_ENDPOINT_URL", "http://all.test:4566/", 1);
	snprintf(w->f.expect_url, sizeof(w->f.expect_url), "http://all.test:4566/");
	assert_int_equal(ss_sm_list(&w->sc, NULL, &set, &w->err), SS_OK);
	ss_sm_set_free(set);
	unsetenv("AWS_ENDPOINT_URL");
	w->sc.region = "ap-southeast-2";
	snprintf(w->f.expect_url, sizeof(w->f.expect_url),
		 "https://secretsmanager.ap-southeast-2.amazonaws.com/");
	snprintf(w->f.expect_region, sizeof(w->f.expect_region), "ap-southeast-2");
	assert_int_equal(ss_sm_list(&w->sc, NULL, &set, &w->err), SS_OK);
	assert_int_equal(set->n, 1);
	ss_sm_set_free(set);
	assert_int_equal(w->f.violations, 0);
	setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://sm.test", 1);
}

static void test_finish_without_run(void **state)
{
	struct world *w = *state;
	struct ss_sm_op *op = NULL;
	struct ss_sm_read *rd = NULL;
	struct ss_sm_set *set = NULL;

	/* An op that failed at start needs no loop. */
	assert_int_equal(ss_sm_get_start(&w->sc, "bad name", &op), SS_OK);
	assert_int_equal(ss_sm_op_finish(op, NULL, &w->err), SS_ERR_INVALID);
	/* One with a request queued may not be finished before the loop. */
	assert_int_equal(ss_sm_get_start(&w->sc, "app/q", &op), SS_OK);
	assert_int_equal(ss_sm_op_finish(op, NULL, &w->err), SS_ERR_INTERNAL);
	assert_int_equal(ss_sm_list_start(&w->sc, NULL, &rd), SS_OK);
	assert_int_equal(ss_sm_read_finish(rd, &set, &w->err), SS_ERR_INTERNAL);
	assert_int_equal(ss_http_run(w->h), SS_OK);
	/* (both ops are leaked by design: their requests pointed at them) */
}

/* --- the AWS source --- */

static void test_source_value(void **state)
{
	static const struct {
		const char *text;
		const char *json; /* the value, as compact JSON */
	} cases[] = {
		{"{\"a\":1,\"b\":[true]}", "{\"a\":1,\"b\":[true]}"},
		{"[1,2]", "[1,2]"},
		{"  {\"x\":\"y\"}  ", "{\"x\":\"y\"}"},
		{"plain text", "\"plain text\""},
		{"123", "\"123\""},
		{"true", "\"true\""},
		{"\"quoted\"", "\"\\\"quoted\\\"\""},
		{"{broken", "\"{broken\""},
		{"", "\"\""},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *v = NULL;
		char *t = NULL;

		assert_int_equal(ss_aws_source_value(cases[i].text, strlen(cases[i].text), &v), SS_OK);
		assert_int_equal(ss_json_print(v, &t), SS_OK);
		assert_string_equal(t, cases[i].json);
		free(t);
		ss_json_delete_secret(v);
	}
}

static void test_source_read(void **state)
{
	struct world *w = *state;
	struct ss_aws_source_settings s;
	cJSON *out = NULL;
	char *text = NULL;
	struct fsecret *f;

	fake_add(&w->f, "legacy/db", "{\"user\":\"u\",\"password\":\"legacy-db-pw\"}");
	fake_add(&w->f, "legacy/team/api", "legacy-api-token");
	fake_add(&w->f, "legacy/list", "[\"a\",\"b\"]");
	f = fake_add(&w->f, "legacy/gone", "gone-value");
	f->deleted = 1;
	f = fake_add(&w->f, "legacy/bin", "x");
	f->binary = 1;
	fake_add(&w->f, "legacy/", "named-as-the-prefix");
	fake_add(&w->f, "legacyx", "not under the prefix");
	fake_add(&w->f, "other/x", "other");
	memset(&s, 0, sizeof(s));
	s.name = "legacy";
	s.region = "eu-west-1";
	s.prefix = "legacy/";
	s.role_arn = "arn:aws:iam::333333333333:role/read";
	assert_int_equal(ss_aws_source_read(w->h, &w->creds, &s, &out, &w->err), SS_OK);
	assert_int_equal(ss_json_print(out, &text), SS_OK);
	assert_string_equal(text, "{\"db\":{\"user\":\"u\",\"password\":\"legacy-db-pw\"},"
				  "\"list\":[\"a\",\"b\"],\"team/api\":\"legacy-api-token\"}");
	assert_true(ss_mask_contains(ss_mask_global(), "legacy-db-pw", 12));
	assert_true(ss_mask_contains(ss_mask_global(), "legacy-api-token", 16));
	free(text);
	ss_json_delete_secret(out);
	assert_null(strstr(w->f.last_body, "gone")); /* deleted: not read */

	/* Errors carry the source's name. */
	w->f.fail_op = OP_LIST;
	w->f.fail_count = 1;
	w->f.fail_code = "AccessDeniedException";
	w->f.fail_msg = "denied";
	assert_int_equal(ss_aws_source_read(w->h, &w->creds, &s, &out, &w->err), SS_ERR_AUTH);
	assert_null(out);
	assert_non_null(strstr(w->err.data, "source legacy: secretsmanager: ListSecrets of names "
					    "starting with 'legacy/' (eu-west-1): AccessDeniedException"));
	assert_non_null(strstr(w->err.data, "role arn:aws:iam::333333333333:role/read"));
	/* No prefix: every secret, names unchanged. */
	s.prefix = NULL;
	assert_int_equal(ss_aws_source_read(w->h, &w->creds, &s, &out, &w->err), SS_OK);
	assert_non_null(cJSON_GetObjectItemCaseSensitive(out, "other/x"));
	assert_non_null(cJSON_GetObjectItemCaseSensitive(out, "legacyx"));
	assert_non_null(cJSON_GetObjectItemCaseSensitive(out, "legacy/db"));
	ss_json_delete_secret(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_validation),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_source_value),
		cmocka_unit_test_setup_teardown(test_set_helpers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_prefix_kept_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_tag_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_45, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_pages_and_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_errors_entry_retried_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_refused_falls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_fallback_denied_secret, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_secret_without_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_targets_one_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_put_revert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_answer_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_conflicts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_throttling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tag_and_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auth_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_endpoint_and_region, setup, teardown),
		cmocka_unit_test_setup_teardown(test_finish_without_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_read, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
