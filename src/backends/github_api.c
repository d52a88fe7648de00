#include "github_api.h"
#include "core/utf8.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/json.h"
#include "core/log.h"
#include "core/mask.h"
#include "core/banned.h"

/* A page of 100 comments of up to 65,536 characters each, JSON-escaped. */
#define GH_MAX_LIST_RESPONSE ((size_t)48 * 1024 * 1024)
#define GH_MAX_RESPONSE	     ((size_t)4 * 1024 * 1024)
/* How much of GitHub's own error text is shown. */
#define GH_SAYS_MAX 400

struct ss_github {
	struct ss_http *h;
	const struct ss_github_context *ctx;
	char *token; /* a secret */
	char *owner;
	char *repo;
};

/* What a request is about, for the permission hint of its errors. */
enum gh_kind { GH_STATUS, GH_COMMENT_READ, GH_COMMENT_WRITE };

/* The answer of one synchronous call. */
struct call {
	enum ss_rc rc;
	long status;
	int attempts;
	cJSON *doc;	    /* parsed JSON body, or NULL */
	char *text;	    /* the raw body when it is not JSON, or NULL */
	char *link;	    /* the Link header, or NULL */
	char remaining[24]; /* X-RateLimit-Remaining */
	char reset[24];	    /* X-RateLimit-Reset (epoch seconds) */
	long retry_after_ms;
	char error[256];
};

/* ---- small helpers ---- */

static int is_hex_sha(const char *s)
{
	size_t i, n = s ? strlen(s) : 0;

	if (n < 7 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return 1;
}

static int name_char(char ch, int repo)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || (repo && (ch == '.' || ch == '_'));
}

/* "owner/repo" with GitHub's name characters; splits into o and r. */
static int split_repository(const char *full, char **o, char **r)
{
	const char *slash = full ? strchr(full, '/') : NULL;
	const char *p;

	*o = *r = NULL;
	if (slash == NULL || slash == full || slash[1] == '\0' || strchr(slash + 1, '/') != NULL)
		return 0;
	for (p = full; p < slash; p++)
		if (!name_char(*p, 0))
			return 0;
	for (p = slash + 1; *p != '\0'; p++)
		if (!name_char(*p, 1))
			return 0;
	if (strcmp(slash + 1, ".") == 0 || strcmp(slash + 1, "..") == 0)
		return 0;
	*o = ss_strndup(full, (size_t)(slash - full));
	*r = ss_strdup(slash + 1);
	if (*o == NULL || *r == NULL) {
		free(*o);
		free(*r);
		*o = *r = NULL;
		return -1;
	}
	return 1;
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}


long ss_github_utf8_chars(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;
	long n = 0;

	while (i < len) {
		k = ss_utf8_char(p + i, len - i, NULL);
		if (k == 0)
			return -1;
		i += k;
		n++;
	}
	return n;
}

enum ss_rc ss_github_cut_description(const char *in, struct ss_buf *out)
{
	const unsigned char *p = (const unsigned char *)(in ? in : "");
	size_t n = strlen((const char *)p), i = 0, k, keep_bytes = 0;
	size_t start = out->len;
	long chars = 0;
	enum ss_rc rc = SS_OK;

	/* One pass: copy sanitised characters; remember where the 139th
	 * ended, so a cut can end in an ellipsis within the limit. */
	while (i < n && rc == SS_OK) {
		k = ss_utf8_char(p + i, n - i, NULL);
		if (chars == SS_GITHUB_DESCRIPTION_MAX) {
			/* A 141st character: cut back and add the ellipsis. */
			ss_buf_truncate(out, start + keep_bytes);
			return ss_buf_adds(out, "\xe2\x80\xa6");
		}
		if (k == 0) {
			rc = ss_buf_addc(out, '?');
			k = 1;
		} else if (k == 1 && (p[i] < 0x20 || p[i] == 0x7f)) {
			rc = ss_buf_addc(out, ' ');
		} else {
			rc = ss_buf_add(out, p + i, k);
		}
		i += k;
		chars++;
		if (chars == SS_GITHUB_DESCRIPTION_MAX - 1)
			keep_bytes = out->len - start;
	}
	return rc;
}

/* ---- the context ---- */

static int is_pr_event(const char *name)
{
	return name != NULL &&
	       (strcmp(name, "pull_request") == 0 || strcmp(name, "pull_request_target") == 0 ||
		strcmp(name, "pull_request_review") == 0 ||
		strcmp(name, "pull_request_review_comment") == 0);
}

enum ss_rc ss_github_event_parse(const char *buf, size_t len, long *number, char **head_sha,
				 struct ss_buf *err)
{
	const cJSON *pr, *head;
	const char *sha;
	cJSON *doc = NULL;
	long long num = 0;
	enum ss_rc rc;

	*number = 0;
	*head_sha = NULL;
	rc = ss_json_parse(buf, len, &doc);
	if (rc != SS_OK) {
		if (rc != SS_ERR_NOMEM &&
		    ss_buf_addf(err,
				"github: GITHUB_EVENT_PATH: the event payload is not JSON (%s)\n",
				ss_strerror(rc)) != SS_OK)
			rc = SS_ERR_NOMEM;
		goto out;
	}
	pr = ss_json_get_object(doc, "pull_request");
	head = ss_json_get_object(pr, "head");
	sha = ss_json_get_string(head, "sha");
	if (pr == NULL || ss_json_get_int64(pr, "number", &num) != SS_OK || num <= 0 ||
	    num > 2147483647LL) {
		rc = SS_ERR_INVALID;
		if (ss_buf_adds(err, "github: GITHUB_EVENT_PATH: a pull request event without a "
				     "valid pull_request.number\n") != SS_OK)
			rc = SS_ERR_NOMEM;
		goto out;
	}
	if (!is_hex_sha(sha)) {
		rc = SS_ERR_INVALID;
		if (ss_buf_adds(err, "github: GITHUB_EVENT_PATH: a pull request event without a "
				     "valid pull_request.head.sha\n") != SS_OK)
			rc = SS_ERR_NOMEM;
		goto out;
	}
	*head_sha = ss_strdup(sha);
	if (*head_sha == NULL) {
		rc = SS_ERR_NOMEM;
		goto out;
	}
	*number = (long)num;
out:
	ss_json_delete_secret(doc);
	return rc;
}

/* Read at most SS_GITHUB_EVENT_MAX bytes of a regular file. */
static enum ss_rc read_event_file(const char *path, struct ss_buf *data, struct ss_buf *err)
{
	struct stat st;
	char chunk[8192];
	ssize_t n;
	int fd;
	enum ss_rc rc = SS_OK;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = SS_ERR_IO;
		if (ss_buf_addf(err, "github: cannot read GITHUB_EVENT_PATH %s: %s\n", path,
				strerror(errno)) != SS_OK)
			rc = SS_ERR_NOMEM;
		return rc;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = SS_ERR_IO;
		if (ss_buf_addf(err, "github: GITHUB_EVENT_PATH %s is not a regular file\n",
				path) != SS_OK)
			rc = SS_ERR_NOMEM;
		goto out;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = SS_ERR_IO;
			if (ss_buf_addf(err, "github: cannot read GITHUB_EVENT_PATH %s: %s\n", path,
					strerror(errno)) != SS_OK)
				rc = SS_ERR_NOMEM;
			goto out;
		}
		if (n == 0)
			break;
		rc = ss_buf_add(data, chunk, (size_t)n);
		if (rc == SS_ERR_TOOBIG) {
			if (ss_buf_addf(
				err,
				"github: GITHUB_EVENT_PATH %s is larger than %zu bytes; not "
				"read\n",
				path, SS_GITHUB_EVENT_MAX) != SS_OK)
				rc = SS_ERR_NOMEM;
			goto out;
		}
		if (rc != SS_OK)
			goto out;
	}
out:
	close(fd);
	return rc;
}

/* Check and normalise GITHUB_API_URL: http(s), a host, no query or
 * fragment, no trailing '/'. */
static enum ss_rc api_url(const char *url, char **out, struct ss_buf *err)
{
	const char *host;
	size_t n;
	enum ss_rc rc;

	*out = NULL;
	if (strncasecmp(url, "https://", 8) == 0)
		host = url + 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		host = url + 7;
	else
		host = NULL;
	if (host == NULL || *host == '\0' || *host == '/' || strpbrk(url, "?#@ \t\r\n\\") != NULL) {
		rc = SS_ERR_INVALID;
		if (ss_buf_addf(
			err,
			"github: GITHUB_API_URL '%s' is not a URL like https://api.github.com "
			"or https://ghe.example.com/api/v3\n",
			url) != SS_OK)
			rc = SS_ERR_NOMEM;
		return rc;
	}
	rc = ss_tls_check_url(url, "GITHUB_API_URL", NULL, err);
	if (rc != SS_OK)
		return rc;
	n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	*out = ss_strndup(url, n);
	return *out == NULL ? SS_ERR_NOMEM : SS_OK;
}

static enum ss_rc load_target_url(struct ss_github_context *ctx)
{
	const char *server = env("GITHUB_SERVER_URL"), *run = env("GITHUB_RUN_ID");
	struct ss_buf b;
	size_t n;
	enum ss_rc rc;

	if (server == NULL || run == NULL || ctx->repository == NULL ||
	    strspn(run, "0123456789") != strlen(run) ||
	    (strncmp(server, "https://", 8) != 0 && strncmp(server, "http://", 7) != 0) ||
	    strpbrk(server, " \t\r\n\"<>\\") != NULL)
		return SS_OK;
	n = strlen(server);
	while (n > 0 && server[n - 1] == '/')
		n--;
	ss_buf_init(&b, 0);
	rc = ss_buf_addf(&b, "%.*s/%s/actions/runs/%s", (int)n, server, ctx->repository, run);
	if (rc == SS_OK)
		rc = ss_buf_take(&b, &ctx->target_url);
	ss_buf_free(&b);
	return rc;
}

enum ss_rc ss_github_context_load(struct ss_github_context *ctx, struct ss_buf *err)
{
	const char *v, *path;
	char *o = NULL, *r = NULL;
	struct ss_buf data;
	enum ss_rc rc;
	int ok;

	memset(ctx, 0, sizeof(*ctx));
	ss_buf_init(&data, SS_GITHUB_EVENT_MAX);
	v = env("GITHUB_API_URL");
	rc = api_url(v ? v : SS_GITHUB_DEFAULT_API_URL, &ctx->api_url, err);
	if (rc != SS_OK)
		goto out;
	if ((v = env("GITHUB_REPOSITORY")) != NULL) {
		ok = split_repository(v, &o, &r);
		free(o);
		free(r);
		if (ok < 0) {
			rc = SS_ERR_NOMEM;
			goto out;
		}
		if (ok == 0) {
			rc = SS_ERR_INVALID;
			if (ss_buf_addf(err, "github: GITHUB_REPOSITORY '%s' is not OWNER/REPO\n",
					v) != SS_OK)
				rc = SS_ERR_NOMEM;
			goto out;
		}
		if ((ctx->repository = ss_strdup(v)) == NULL) {
			rc = SS_ERR_NOMEM;
			goto out;
		}
	}
	if ((v = env("GITHUB_SHA")) != NULL) {
		if (!is_hex_sha(v)) {
			rc = SS_ERR_INVALID;
			if (ss_buf_addf(err, "github: GITHUB_SHA '%s' is not a commit SHA\n", v) !=
			    SS_OK)
				rc = SS_ERR_NOMEM;
			goto out;
		}
		if ((ctx->sha = ss_strdup(v)) == NULL) {
			rc = SS_ERR_NOMEM;
			goto out;
		}
	}
	if ((v = env("GITHUB_EVENT_NAME")) != NULL && (ctx->event_name = ss_strdup(v)) == NULL) {
		rc = SS_ERR_NOMEM;
		goto out;
	}
	rc = load_target_url(ctx);
	if (rc != SS_OK || !is_pr_event(ctx->event_name))
		goto out;
	path = env("GITHUB_EVENT_PATH");
	if (path == NULL) {
		rc = SS_ERR_INVALID;
		if (ss_buf_addf(
			err,
			"github: GITHUB_EVENT_NAME is %s but GITHUB_EVENT_PATH is not set (the "
			"PR number and head SHA come from the event payload)\n",
			ctx->event_name) != SS_OK)
			rc = SS_ERR_NOMEM;
		goto out;
	}
	rc = read_event_file(path, &data, err);
	if (rc == SS_OK)
		rc = ss_github_event_parse(data.data, data.len, &ctx->pr_number, &ctx->head_sha,
					   err);
out:
	ss_buf_free(&data);
	return rc;
}

void ss_github_context_free(struct ss_github_context *ctx)
{
	if (ctx == NULL)
		return;
	free(ctx->api_url);
	free(ctx->repository);
	free(ctx->event_name);
	free(ctx->sha);
	free(ctx->head_sha);
	free(ctx->target_url);
	memset(ctx, 0, sizeof(*ctx));
}

const char *ss_github_context_sha(const struct ss_github_context *ctx)
{
	if (ctx->pr_number > 0 && ctx->head_sha != NULL)
		return ctx->head_sha;
	return ctx->sha;
}

/* ---- the client ---- */

struct ss_github *ss_github_new(struct ss_http *h, const struct ss_github_context *ctx,
				const char *token, struct ss_buf *err)
{
	struct ss_github *g = NULL;
	const char *why = NULL;
	const unsigned char *p;
	int ok;

	if (token == NULL || *token == '\0')
		why =
		    "github: no token: pass --github-token (the action's github-token input), set "
		    "GITHUB_TOKEN, or set github.token_secret\n";
	for (p = (const unsigned char *)token; why == NULL && *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			why =
			    "github: the token holds white space or control characters (check how "
			    "it was passed)\n";
	if (why == NULL && ctx->api_url == NULL)
		why = "github: the context was not loaded\n";
	if (why == NULL && ctx->repository == NULL)
		why = "github: GITHUB_REPOSITORY is not set (OWNER/REPO)\n";
	if (why != NULL) {
		if (ss_buf_adds(err, why) != SS_OK)
			return NULL;
		return NULL;
	}
	/* Mask first: nothing else has seen the token yet. */
	if (ss_mask_add(ss_mask_global(), token) != SS_OK)
		return NULL;
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return NULL;
	g->h = h;
	g->ctx = ctx;
	g->token = ss_strdup(token);
	ok = split_repository(ctx->repository, &g->owner, &g->repo);
	if (g->token == NULL || ok <= 0) {
		if (ok == 0 &&
		    ss_buf_addf(err, "github: GITHUB_REPOSITORY '%s' is not OWNER/REPO\n",
				ctx->repository) != SS_OK) {
			/* out of memory: nothing more to say */
		}
		ss_github_free(g);
		return NULL;
	}
	return g;
}

void ss_github_free(struct ss_github *g)
{
	if (g == NULL)
		return;
	ss_free_secret(g->token);
	free(g->owner);
	free(g->repo);
	free(g);
}

/* Nonzero when url lies under the API base: the only place the token
 * may go. The base ends the authority or a path segment. */
static int url_under_base(const struct ss_github *g, const char *url)
{
	size_t n = strlen(g->ctx->api_url);

	if (strncasecmp(url, g->ctx->api_url, n) != 0 || url[n] != '/')
		return 0;
	for (; *url != '\0'; url++)
		if ((unsigned char)*url <= 0x20 || (unsigned char)*url >= 0x7f || *url == '\\')
			return 0;
	return 1;
}

static void on_call(struct ss_http_resp *resp, void *ctx)
{
	struct call *c = ctx;
	const char *v;

	c->rc = resp->rc;
	c->status = resp->status;
	c->attempts = resp->attempts;
	snprintf(c->error, sizeof(c->error), "%s", resp->error);
	if (resp->rc != SS_OK)
		return;
	/* A lost Link would end the search early (and duplicate the sticky
	 * comment): fail instead. */
	if ((v = ss_http_resp_header(resp, "Link")) != NULL && (c->link = ss_strdup(v)) == NULL) {
		c->rc = SS_ERR_NOMEM;
		snprintf(c->error, sizeof(c->error), "out of memory");
		return;
	}
	if ((v = ss_http_resp_header(resp, "X-RateLimit-Remaining")) != NULL)
		snprintf(c->remaining, sizeof(c->remaining), "%s", v);
	if ((v = ss_http_resp_header(resp, "X-RateLimit-Reset")) != NULL)
		snprintf(c->reset, sizeof(c->reset), "%s", v);
	c->retry_after_ms = ss_http_retry_after_ms(resp);
	if (resp->body.len > 0 &&
	    ss_json_parse(resp->body.data, resp->body.len, &c->doc) != SS_OK) {
		c->doc = NULL;
		c->text =
		    ss_strndup(resp->body.data, resp->body.len < 1024 ? resp->body.len : 1024);
	}
}

static void call_free(struct call *c)
{
	cJSON_Delete(c->doc);
	free(c->text);
	free(c->link);
	memset(c, 0, sizeof(*c));
}

/* Run one request to completion. url is a path under the base ("/repos/
 * ...") or a full URL, which must lie under the base. body (may be NULL)
 * is the JSON to send. */
static enum ss_rc gh_call(struct ss_github *g, const char *method, const char *url,
			  const char *label, const char *body, int idempotent, size_t max_response,
			  struct call *c)
{
	struct ss_http_req *req = NULL;
	struct ss_buf full, auth;
	enum ss_rc rc;

	memset(c, 0, sizeof(*c));
	c->rc = SS_ERR_INTERNAL;
	c->retry_after_ms = -1;
	ss_buf_init(&full, 0);
	ss_buf_init(&auth, 0);
	rc = url[0] == '/' ? ss_buf_addf(&full, "%s%s", g->ctx->api_url, url)
			   : ss_buf_adds(&full, url);
	if (rc != SS_OK)
		goto out;
	if (!url_under_base(g, full.data)) {
		rc = SS_ERR_INTERNAL; /* callers check first: a bug */
		goto out;
	}
	req = ss_http_req_new(method, full.data);
	if (req == NULL) {
		rc = SS_ERR_NOMEM;
		goto out;
	}
	req->service = SS_TLS_GITHUB;
	req->label = label;
	req->idempotent = idempotent;
	req->max_response = max_response;
	req->done = on_call;
	req->ctx = c;
	rc = ss_buf_addf(&auth, "Bearer %s", g->token);
	if (rc == SS_OK)
		rc = ss_http_req_header(req, "Authorization", auth.data);
	if (rc == SS_OK)
		rc = ss_http_req_header(req, "Accept", "application/vnd.github+json");
	if (rc == SS_OK)
		rc = ss_http_req_header(req, "X-GitHub-Api-Version", SS_GITHUB_API_VERSION);
	if (rc == SS_OK && body != NULL) {
		rc = ss_http_req_header(req, "Content-Type", "application/json; charset=utf-8");
		if (rc == SS_OK)
			rc = ss_http_req_body(req, body, strlen(body));
	}
	if (rc != SS_OK)
		goto out;
	rc = ss_http_submit(g->h, req);
	req = NULL; /* the transport owns it now, even on failure */
	if (rc != SS_OK)
		goto out;
	rc = ss_http_run(g->h);
	if (rc == SS_OK)
		rc = c->rc;
out:
	ss_http_req_free(req);
	ss_buf_free(&full);
	ss_buf_free(&auth);
	return rc;
}

/* Append text to out as one line: control characters as spaces, at most
 * max bytes (cut on a character boundary), redacted through the mask. */
static enum ss_rc add_says(struct ss_buf *out, const char *text, size_t max)
{
	struct ss_buf line;
	size_t i, k, n = strlen(text);
	enum ss_rc rc = SS_OK;

	ss_buf_init(&line, 0);
	for (i = 0; i < n && rc == SS_OK && line.len < max; i += k) {
		k = ss_utf8_char((const unsigned char *)text + i, n - i, NULL);
		if (k == 0) {
			rc = ss_buf_addc(&line, '?');
			k = 1;
		} else if (k == 1 && ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)) {
			if (line.len > 0 && line.data[line.len - 1] != ' ')
				rc = ss_buf_addc(&line, ' ');
		} else {
			rc = ss_buf_add(&line, text + i, k);
		}
	}
	while (rc == SS_OK && line.len > 0 && line.data[line.len - 1] == ' ')
		ss_buf_truncate(&line, line.len - 1);
	if (rc == SS_OK && i < n)
		rc = ss_buf_adds(&line, "...");
	if (rc == SS_OK)
		rc = ss_mask_redact(ss_mask_global(), line.data, line.len, out);
	ss_buf_free(&line);
	return rc;
}

/* GitHub's words: "message", with a 422's "errors" (objects with a
 * message, or resource/field/code, or one string). */
static enum ss_rc github_says(const struct call *c, struct ss_buf *out)
{
	const char *msg = ss_json_get_string(c->doc, "message");
	const cJSON *errs = cJSON_GetObjectItemCaseSensitive(c->doc, "errors");
	const cJSON *e;
	struct ss_buf raw;
	int first = 1;
	enum ss_rc rc = SS_OK;

	ss_buf_init(&raw, 0);
	if (msg != NULL)
		rc = ss_buf_adds(&raw, msg);
	else if (c->doc == NULL && c->text != NULL)
		rc = ss_buf_adds(&raw, c->text);
	if (rc == SS_OK && cJSON_IsString(errs))
		rc = ss_buf_addf(&raw, "%s%s", raw.len ? ": " : "", errs->valuestring);
	if (cJSON_IsArray(errs)) {
		cJSON_ArrayForEach(e, errs)
		{
			const char *m = ss_json_get_string(e, "message");
			const char *field = ss_json_get_string(e, "field");
			const char *code = ss_json_get_string(e, "code");

			if (rc != SS_OK)
				break;
			rc = ss_buf_adds(&raw, first ? (raw.len ? ": " : "") : "; ");
			first = 0;
			if (rc != SS_OK)
				break;
			if (cJSON_IsString(e))
				rc = ss_buf_adds(&raw, e->valuestring);
			else if (m != NULL)
				rc = ss_buf_adds(&raw, m);
			else
				rc = ss_buf_addf(&raw, "%s %s", field ? field : "a field",
						 code ? code : "is invalid");
		}
	}
	if (rc == SS_OK)
		rc = add_says(out, raw.data, GH_SAYS_MAX);
	ss_buf_free(&raw);
	return rc;
}

static const char *permission_hint(enum gh_kind kind)
{
	switch (kind) {
	case GH_STATUS:
		return "the token needs the \"statuses: write\" permission: add "
		       "\"permissions: statuses: write\" to the job";
	case GH_COMMENT_READ:
		return "the token needs \"pull-requests: read\" (or \"issues: read\") on this "
		       "repository, and the pull request must exist";
	case GH_COMMENT_WRITE:
		return "the token needs the \"pull-requests: write\" (or \"issues: write\") "
		       "permission: add \"permissions: pull-requests: write\" to the job";
	}
	return "";
}

/* Append "github: WHAT: STATUS message (hint)" for a failed call and
 * return the rc it maps to. */
static enum ss_rc call_error(struct ss_buf *err, const char *what, const struct call *c,
			     enum gh_kind kind)
{
	struct ss_buf says;
	int rate_limited;
	enum ss_rc rc, mapped;

	if (c->rc != SS_OK) {
		if (ss_buf_addf(err, "github: %s: %s\n", what, c->error) != SS_OK)
			return SS_ERR_NOMEM;
		return c->rc;
	}
	ss_buf_init(&says, 0);
	rc = github_says(c, &says);
	if (rc != SS_OK)
		goto out;
	rate_limited = (c->status == 403 || c->status == 429) &&
		       (strcmp(c->remaining, "0") == 0 || c->retry_after_ms >= 0 ||
			strstr(says.data, "rate limit") != NULL);
	if (rate_limited) {
		long long reset = strtoll(c->reset, NULL, 10);
		long long wait = reset > 0 ? reset - (long long)time(NULL) : -1;

		mapped = SS_ERR_HTTP;
		if (c->retry_after_ms >= 0)
			rc = ss_buf_addf(err,
					 "github: %s: %ld %s (a GitHub rate limit: it asks to wait "
					 "%ld s; gave up after %d attempt%s)\n",
					 what, c->status, says.len ? says.data : "rate limited",
					 (c->retry_after_ms + 999) / 1000, c->attempts,
					 c->attempts == 1 ? "" : "s");
		else if (wait >= 0)
			rc = ss_buf_addf(
			    err,
			    "github: %s: %ld %s (the token's API rate limit is used up; "
			    "it resets in %lld s)\n",
			    what, c->status, says.len ? says.data : "rate limited", wait);
		else
			rc = ss_buf_addf(
			    err, "github: %s: %ld %s (the token's API rate limit is used up)\n",
			    what, c->status, says.len ? says.data : "rate limited");
	} else if (c->status == 401) {
		mapped = SS_ERR_AUTH;
		rc = ss_buf_addf(err,
				 "github: %s: 401 %s (the token is invalid or expired: check "
				 "--github-token / GITHUB_TOKEN)\n",
				 what, says.len ? says.data : "Bad credentials");
	} else if (c->status == 403 || c->status == 404) {
		mapped = c->status == 403 ? SS_ERR_AUTH : SS_ERR_NOTFOUND;
		rc = ss_buf_addf(
		    err, "github: %s: %ld %s (%s%s)\n", what, c->status,
		    says.len ? says.data : (c->status == 403 ? "Forbidden" : "Not Found"),
		    c->status == 404 ? "the repository or pull request is not visible to "
				       "the token, or "
				     : "",
		    permission_hint(kind));
	} else if (c->status == 422) {
		mapped = SS_ERR_INVALID;
		rc = ss_buf_addf(err, "github: %s: 422 %s\n", what,
				 says.len ? says.data : "Validation Failed");
	} else {
		mapped = SS_ERR_HTTP;
		rc = ss_buf_addf(err, "github: %s: HTTP %ld%s%s\n", what, c->status,
				 says.len ? " " : "", says.data);
	}
out:
	ss_buf_free(&says);
	return rc != SS_OK ? rc : mapped;
}

/* "/repos/O/R" + rest, percent-encoded parts. */
static enum ss_rc repo_path(const struct ss_github *g, struct ss_buf *out)
{
	enum ss_rc rc = ss_buf_adds(out, "/repos/");

	if (rc == SS_OK)
		rc = ss_http_urlencode(out, g->owner, 0);
	if (rc == SS_OK)
		rc = ss_buf_addc(out, '/');
	if (rc == SS_OK)
		rc = ss_http_urlencode(out, g->repo, 0);
	return rc;
}

static enum ss_rc add_invalid(struct ss_buf *err, const char *msg)
{
	if (ss_buf_adds(err, msg) != SS_OK)
		return SS_ERR_NOMEM;
	return SS_ERR_INVALID;
}

/* ---- commit status ---- */

enum ss_rc ss_github_status(struct ss_github *g, const char *sha, const char *state,
			    const char *context, const char *description, const char *target_url,
			    struct ss_buf *err)
{
	struct ss_buf path, what, desc;
	cJSON *body = NULL;
	char *text = NULL, *masked = NULL;
	struct call c;
	enum ss_rc rc;

	memset(&c, 0, sizeof(c));
	ss_buf_init(&path, 0);
	ss_buf_init(&what, 0);
	ss_buf_init(&desc, 0);
	if (sha == NULL)
		sha = ss_github_context_sha(g->ctx);
	if (target_url == NULL)
		target_url = g->ctx->target_url;
	if (sha == NULL) {
		rc = add_invalid(err, "github: commit status: no commit SHA (GITHUB_SHA is not set "
				      "and this is not a pull request event)\n");
		goto out;
	}
	if (!is_hex_sha(sha)) {
		rc = SS_ERR_INVALID;
		if (ss_buf_addf(err, "github: commit status: '%s' is not a commit SHA\n", sha) !=
		    SS_OK)
			rc = SS_ERR_NOMEM;
		goto out;
	}
	if (state == NULL || (strcmp(state, "pending") != 0 && strcmp(state, "success") != 0 &&
			      strcmp(state, "failure") != 0 && strcmp(state, "error") != 0)) {
		rc = add_invalid(err, "github: commit status: the state must be pending, success, "
				      "failure or error\n");
		goto out;
	}
	if (context == NULL || *context == '\0') {
		rc =
		    add_invalid(err, "github: commit status: the context (status name) is empty\n");
		goto out;
	}
	if (description != NULL) {
		masked = ss_mask_redact_str(ss_mask_global(), description);
		if (masked == NULL) {
			rc = SS_ERR_NOMEM;
			goto out;
		}
	}
	rc = ss_github_cut_description(masked, &desc);
	if (rc != SS_OK)
		goto out;
	body = cJSON_CreateObject();
	if (body == NULL || cJSON_AddStringToObject(body, "state", state) == NULL ||
	    cJSON_AddStringToObject(body, "context", context) == NULL ||
	    cJSON_AddStringToObject(body, "description", desc.data) == NULL ||
	    (target_url != NULL && *target_url != '\0' &&
	     cJSON_AddStringToObject(body, "target_url", target_url) == NULL)) {
		rc = SS_ERR_NOMEM;
		goto out;
	}
	rc = ss_json_print(body, &text);
	if (rc == SS_OK)
		rc = repo_path(g, &path);
	if (rc == SS_OK)
		rc = ss_buf_addf(&path, "/statuses/%s", sha);
	if (rc == SS_OK)
		rc = ss_buf_addf(&what, "POST %s", path.data);
	if (rc != SS_OK)
		goto out;
	/* Safe to repeat: the same state for the same context lands again. */
	rc = gh_call(g, "POST", path.data, "github commit status", text, 1, GH_MAX_RESPONSE, &c);
	if (rc == SS_ERR_NOMEM || rc == SS_ERR_INTERNAL || (rc != SS_OK && c.rc == SS_OK))
		goto out;
	if (c.rc == SS_OK && (c.status == 201 || c.status == 200)) {
		long long id = 0;

		/* The answer is the status made (201 Created): without it,
		 * nothing says the status was set. */
		if ((ss_json_get_int64(c.doc, "id", &id) == SS_OK && id > 0) ||
		    (c.status == 201 && cJSON_IsObject(c.doc))) {
			rc = SS_OK;
			goto out;
		}
		rc = SS_ERR_PARSE;
		if (ss_buf_addf(err, "github: %s: the answer (HTTP %ld) %s: the status may not "
				     "have been set\n",
				what.data, c.status,
				c.doc == NULL ? "is not JSON (malformed or cut short)"
					      : "is not the status made (no status id)") != SS_OK)
			rc = SS_ERR_NOMEM;
		goto out;
	}
	rc = call_error(err, what.data, &c, GH_STATUS);
out:
	cJSON_Delete(body);
	free(text);
	free(masked);
	call_free(&c);
	ss_buf_free(&path);
	ss_buf_free(&what);
	ss_buf_free(&desc);
	return rc;
}

/* ---- the sticky comment ---- */

/* Percent-encode v for a marker: see ss_github_marker. */
static enum ss_rc marker_value(struct ss_buf *out, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)v;
	enum ss_rc rc = SS_OK;
	size_t i;

	for (i = 0; p[i] != '\0' && rc == SS_OK; i++) {
		unsigned char ch = p[i];
		int keep = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			   (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '/' ||
			   ch == '~';

		if (ch == '-')
			keep = (i == 0 || p[i - 1] != '-') && p[i + 1] != '-';
		if (keep)
			rc = ss_buf_addc(out, (char)ch);
		else
			rc = ss_buf_addf(out, "%%%c%c", hex[ch >> 4], hex[ch & 15]);
	}
	return rc;
}

enum ss_rc ss_github_marker(const char *config_path, const char *command, struct ss_buf *out)
{
	enum ss_rc rc = ss_buf_adds(out, "<!-- secretsync:sticky config=");

	if (rc == SS_OK)
		rc = marker_value(out, config_path ? config_path : "");
	if (rc == SS_OK)
		rc = ss_buf_adds(out, " command=");
	if (rc == SS_OK)
		rc = marker_value(out, command ? command : "");
	if (rc == SS_OK)
		rc = ss_buf_adds(out, " -->");
	return rc;
}

size_t ss_github_comment_room(const char *marker)
{
	size_t n = strlen(marker) + 1;

	return n >= SS_GITHUB_COMMENT_MAX ? 0 : SS_GITHUB_COMMENT_MAX - n;
}

/* Fill out from a comment object GitHub returned. */
static void comment_info(const cJSON *doc, struct ss_github_comment *out)
{
	const char *url = ss_json_get_string(doc, "html_url");
	long long id;

	if (ss_json_get_int64(doc, "id", &id) == SS_OK)
		out->id = id;
	snprintf(out->html_url, sizeof(out->html_url), "%s", url ? url : "");
}

/* Look through the PR's comments for the newest bot comment holding
 * marker: *id (0 when none) and a copy of its body in *old. */
static enum ss_rc find_sticky(struct ss_github *g, long pr, const char *marker, long long *id,
			      char **old, struct ss_buf *err)
{
	struct ss_buf url, what;
	char *next = NULL;
	const cJSON *item;
	struct call c;
	int page;
	enum ss_rc rc;

	*id = 0;
	*old = NULL;
	memset(&c, 0, sizeof(c));
	ss_buf_init(&url, 0);
	ss_buf_init(&what, 0);
	rc = ss_buf_adds(&url, g->ctx->api_url);
	if (rc == SS_OK)
		rc = repo_path(g, &url);
	if (rc == SS_OK)
		rc = ss_buf_addf(&url, "/issues/%ld/comments?per_page=100", pr);
	if (rc != SS_OK)
		goto out;
	for (page = 1;; page++) {
		/* url is always under the base here: name it by its path. */
		ss_buf_reset(&what);
		rc = ss_buf_addf(&what, "GET %s", url.data + strlen(g->ctx->api_url));
		if (rc != SS_OK)
			goto out;
		call_free(&c);
		rc = gh_call(g, "GET", url.data, "github list comments", NULL, 1,
			     GH_MAX_LIST_RESPONSE, &c);
		if (rc == SS_ERR_NOMEM || rc == SS_ERR_INTERNAL || (rc != SS_OK && c.rc == SS_OK))
			goto out;
		if (c.rc != SS_OK || c.status != 200) {
			rc = call_error(err, what.data, &c, GH_COMMENT_READ);
			goto out;
		}
		if (!cJSON_IsArray(c.doc)) {
			rc = SS_ERR_PARSE;
			if (ss_buf_addf(err, "github: %s: the answer is not %s\n", what.data,
					c.doc == NULL ? "JSON (malformed or cut short)"
						      : "a list of comments") != SS_OK)
				rc = SS_ERR_NOMEM;
			goto out;
		}
		cJSON_ArrayForEach(item, c.doc)
		{
			const char *type =
			    ss_json_get_string(ss_json_get_object(item, "user"), "type");
			const char *body = ss_json_get_string(item, "body");
			long long cid;

			if (type == NULL || strcmp(type, "Bot") != 0 || body == NULL ||
			    strstr(body, marker) == NULL ||
			    ss_json_get_int64(item, "id", &cid) != SS_OK || cid <= 0)
				continue;
			/* Listed oldest first: the last match is the newest. */
			free(*old);
			*old = ss_strdup(body);
			if (*old == NULL) {
				rc = SS_ERR_NOMEM;
				goto out;
			}
			*id = cid;
		}
		if (c.link == NULL)
			break;
		free(next);
		next = NULL;
		rc = ss_github_link_next(c.link, &next);
		if (rc == SS_ERR_NOTFOUND) {
			rc = SS_OK;
			break;
		}
		if (rc != SS_OK) {
			if (rc == SS_ERR_PARSE &&
			    ss_buf_addf(err, "github: %s: a malformed Link header\n", what.data) !=
				SS_OK)
				rc = SS_ERR_NOMEM;
			goto out;
		}
		if (!url_under_base(g, next)) {
			rc = SS_ERR_INVALID;
			if (ss_buf_addf(err, "github: %s: the next page is at ", what.data) !=
				SS_OK ||
			    add_says(err, next, 300) != SS_OK ||
			    ss_buf_addf(err,
					", not under GITHUB_API_URL %s; not following it (the "
					"token is only sent to GITHUB_API_URL)\n",
					g->ctx->api_url) != SS_OK)
				rc = SS_ERR_NOMEM;
			goto out;
		}
		if (strcmp(next, url.data) == 0 || page >= SS_GITHUB_MAX_PAGES) {
			rc = SS_ERR_TOOBIG;
			if (ss_buf_addf(
				err,
				"github: GET comments of pull request #%ld: %s; stopped after "
				"%d pages\n",
				pr,
				page >= SS_GITHUB_MAX_PAGES ? "too many pages"
							    : "the next page is this page",
				page) != SS_OK)
				rc = SS_ERR_NOMEM;
			goto out;
		}
		ss_buf_reset(&url);
		rc = ss_buf_adds(&url, next);
		if (rc != SS_OK)
			goto out;
	}
out:
	if (rc != SS_OK) {
		free(*old);
		*old = NULL;
		*id = 0;
	}
	free(next);
	call_free(&c);
	ss_buf_free(&url);
	ss_buf_free(&what);
	return rc;
}

/* Edit comment id (id > 0) or create one on pr with the JSON text. The
 * answer must be the comment: a 2xx without it is not proof that the
 * comment was written. On failure err says why. */
static enum ss_rc write_comment(struct ss_github *g, long pr, long long id, const char *text,
				struct ss_github_comment *info, struct ss_buf *err)
{
	struct ss_buf path, what;
	long long got = 0;
	struct call c;
	enum ss_rc rc;

	memset(&c, 0, sizeof(c));
	ss_buf_init(&path, 0);
	ss_buf_init(&what, 0);
	rc = repo_path(g, &path);
	if (rc != SS_OK)
		goto out;
	if (id > 0) {
		rc = ss_buf_addf(&path, "/issues/comments/%lld", id);
		if (rc == SS_OK)
			rc = ss_buf_addf(&what, "PATCH %s (the comment on pull request #%ld)",
					 path.data, pr);
		if (rc != SS_OK)
			goto out;
		/* Safe to repeat: the same body lands again. */
		rc = gh_call(g, "PATCH", path.data, "github update comment", text, 1,
			     GH_MAX_RESPONSE, &c);
		if (rc == SS_ERR_NOMEM || rc == SS_ERR_INTERNAL || (rc != SS_OK && c.rc == SS_OK))
			goto out;
		if (c.rc == SS_OK && c.status == 200 &&
		    ss_json_get_int64(c.doc, "id", &got) == SS_OK && got == id) {
			rc = SS_OK;
			info->id = id;
			info->updated = 1;
			comment_info(c.doc, info);
			goto out;
		}
		if (c.rc == SS_OK && c.status == 200) {
			rc = SS_ERR_PARSE;
			if (ss_buf_addf(err, "github: %s: the answer (HTTP 200) %s: the edit may "
					     "not have landed\n",
					what.data,
					c.doc == NULL ? "is not JSON (malformed or cut short)"
						      : "is not the comment edited (no matching id)") !=
			    SS_OK)
				rc = SS_ERR_NOMEM;
			goto out;
		}
		if (c.rc != SS_OK || c.status != 404) {
			rc = call_error(err, what.data, &c, GH_COMMENT_WRITE);
			goto out;
		}
		/* Deleted since it was listed: create a new one. */
		ss_info("github: comment %lld is gone; creating a new one", id);
		call_free(&c);
		ss_buf_reset(&path);
		ss_buf_reset(&what);
		rc = repo_path(g, &path);
		if (rc != SS_OK)
			goto out;
	}
	rc = ss_buf_addf(&path, "/issues/%ld/comments", pr);
	if (rc == SS_OK)
		rc = ss_buf_addf(&what, "POST %s", path.data);
	if (rc != SS_OK)
		goto out;
	/* Not idempotent: a retried POST after a 5xx could make two. */
	rc = gh_call(g, "POST", path.data, "github create comment", text, 0, GH_MAX_RESPONSE, &c);
	if (rc == SS_ERR_NOMEM || rc == SS_ERR_INTERNAL || (rc != SS_OK && c.rc == SS_OK))
		goto out;
	if (c.rc == SS_OK && c.status == 201 && ss_json_get_int64(c.doc, "id", &got) == SS_OK &&
	    got > 0) {
		rc = SS_OK;
		comment_info(c.doc, info);
		goto out;
	}
	if (c.rc == SS_OK && c.status >= 200 && c.status < 300) {
		rc = SS_ERR_PARSE;
		if (ss_buf_addf(err, "github: %s: the answer (HTTP %ld) %s: the comment may not "
				     "have been created\n",
				what.data, c.status,
				c.doc == NULL ? "is not JSON (malformed or cut short)"
					      : "has no comment id") != SS_OK)
			rc = SS_ERR_NOMEM;
		goto out;
	}
	rc = call_error(err, what.data, &c, GH_COMMENT_WRITE);
out:
	call_free(&c);
	ss_buf_free(&path);
	ss_buf_free(&what);
	return rc;
}

enum ss_rc ss_github_sticky_comment(struct ss_github *g, long pr, const char *marker,
				    const char *body, struct ss_github_comment *out,
				    struct ss_buf *err)
{
	struct ss_github_comment info;
	struct ss_buf full;
	cJSON *req = NULL;
	char *text = NULL, *old = NULL;
	long long id = 0;
	long chars;
	enum ss_rc rc;

	memset(&info, 0, sizeof(info));
	ss_buf_init(&full, 0);
	if (pr <= 0)
		pr = g->ctx->pr_number;
	if (pr <= 0) {
		rc = SS_ERR_INVALID;
		if (ss_buf_addf(
			err,
			"github: PR comment: not a pull request event (GITHUB_EVENT_NAME=%s): "
			"no pull request to comment on\n",
			g->ctx->event_name ? g->ctx->event_name : "unset") != SS_OK)
			rc = SS_ERR_NOMEM;
		goto out;
	}
	if (marker == NULL || *marker == '\0') {
		rc = add_invalid(err, "github: PR comment: the marker is empty\n");
		goto out;
	}
	/* The body should hold no value; redact it anyway (SPEC §6). */
	rc = ss_buf_addf(&full, "%s\n", marker);
	if (rc == SS_OK && body != NULL)
		rc = ss_mask_redact(ss_mask_global(), body, strlen(body), &full);
	if (rc != SS_OK)
		goto out;
	chars = ss_github_utf8_chars(full.data, full.len);
	if (chars < 0) {
		rc = add_invalid(err, "github: PR comment: the body is not valid UTF-8\n");
		goto out;
	}
	if (chars > SS_GITHUB_COMMENT_MAX) {
		rc = SS_ERR_TOOBIG;
		if (ss_buf_addf(err,
				"github: PR comment: the body is %ld characters with its marker; "
				"GitHub's limit is %d (render it with a smaller cap); not sent\n",
				chars, SS_GITHUB_COMMENT_MAX) != SS_OK)
			rc = SS_ERR_NOMEM;
		goto out;
	}
	req = cJSON_CreateObject();
	if (req == NULL || cJSON_AddStringToObject(req, "body", full.data) == NULL) {
		rc = SS_ERR_NOMEM;
		goto out;
	}
	rc = ss_json_print(req, &text);
	if (rc != SS_OK)
		goto out;
	rc = find_sticky(g, pr, marker, &id, &old, err);
	if (rc != SS_OK)
		goto out;
	if (id > 0 && strcmp(old, full.data) == 0) {
		info.id = id;
		info.updated = 1;
		info.unchanged = 1;
		goto out;
	}
	rc = write_comment(g, pr, id, text, &info, err);
out:
	if (out != NULL)
		*out = info;
	cJSON_Delete(req);
	free(text);
	free(old);
	ss_buf_free(&full);
	return rc;
}

/* ---- Link headers (RFC 8288) ---- */

static const char *skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static int token_char(char ch)
{
	return ch != '\0' && strchr(" \t\"(),/:;<=>?@[\\]{}", ch) == NULL &&
	       (unsigned char)ch > 0x20 && (unsigned char)ch < 0x7f;
}

/* Nonzero when the space-separated rel list v[0..n) holds "next". */
static int rel_has_next(const char *v, size_t n)
{
	size_t i = 0, j;

	while (i < n) {
		while (i < n && v[i] == ' ')
			i++;
		j = i;
		while (j < n && v[j] != ' ')
			j++;
		if (j - i == 4 && strncasecmp(v + i, "next", 4) == 0)
			return 1;
		i = j;
	}
	return 0;
}

enum ss_rc ss_github_link_next(const char *link, char **out)
{
	const char *p = link, *u, *ue, *name, *v;
	size_t nlen, vlen;
	int is_next;

	*out = NULL;
	for (;;) {
		p = skip_ows(p);
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return SS_ERR_NOTFOUND;
		if (*p != '<')
			return SS_ERR_PARSE;
		u = p + 1;
		ue = strchr(u, '>');
		if (ue == NULL)
			return SS_ERR_PARSE;
		p = ue + 1;
		is_next = 0;
		for (;;) {
			p = skip_ows(p);
			if (*p != ';')
				break;
			p = skip_ows(p + 1);
			name = p;
			while (token_char(*p))
				p++;
			nlen = (size_t)(p - name);
			if (nlen == 0)
				return SS_ERR_PARSE;
			p = skip_ows(p);
			v = "";
			vlen = 0;
			if (*p == '=') {
				p = skip_ows(p + 1);
				if (*p == '"') {
					v = ++p;
					while (*p != '\0' && *p != '"')
						p += p[0] == '\\' && p[1] != '\0' ? 2 : 1;
					if (*p != '"')
						return SS_ERR_PARSE;
					vlen = (size_t)(p - v);
					p++;
				} else {
					v = p;
					while (token_char(*p))
						p++;
					vlen = (size_t)(p - v);
				}
			}
			if (nlen == 3 && strncasecmp(name, "rel", 3) == 0 && rel_has_next(v, vlen))
				is_next = 1;
		}
		if (*p != ',' && *p != '\0')
			return SS_ERR_PARSE;
		if (is_next) {
			*out = ss_strndup(u, (size_t)(ue - u));
			return *out == NULL ? SS_ERR_NOMEM : SS_OK;
		}
	}
}
