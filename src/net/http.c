#include "http.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>

#include "core/log.h"
#include "core/banned.h"

#ifndef SS_VERSION
#define SS_VERSION "0.0.0"
#endif

#define SS_HTTP_RETRY_AFTER_CAP_MS 60000L
#define SS_HTTP_BACKOFF_CAP_MS 20000L
#define SS_HTTP_MAX_HEADER_BYTES 65536

/* One submitted request through all its attempts. */
struct job {
	struct ss_http_req *req;
	struct ss_http_resp resp;
	struct ss_http *h;
	CURL *easy;
	struct curl_slist *hdrs;
	struct curl_slist *connect_to;
	int attempt;
	int toobig;
	int refused; /* failed at submission: report without an attempt */
	size_t header_bytes;
	long long first_ms;
	long long attempt_ms;
	long long ready_ms;
	struct job *next;
	struct job *inext; /* in the in-flight list */
};

struct ss_http {
	CURLM *multi;
	int parallel;
	int active;
	int attempts;
	long timeout_ms;
	long connect_timeout_ms;
	long backoff_ms;
	struct job *queue;   /* ready to start, FIFO */
	struct job *qtail;
	struct job *delayed; /* waiting for a retry, sorted by ready_ms */
	struct job *fake_done; /* fake transfers finished, not yet reported */
	struct job *inflight;  /* transfers running in curl */
	ss_http_fake_fn fake;
	void *fake_ctx;
	volatile sig_atomic_t cancelled;
	unsigned long long rng;
	struct ss_http_stats stats;
};

/* Set by a signal handler (ss_http_interrupt): every transport stops. */
static volatile sig_atomic_t interrupted;

void ss_http_interrupt(void)
{
	interrupted = 1;
}

int ss_http_interrupted(void)
{
	return interrupted != 0;
}

void ss_http_clear_interrupt(void)
{
	interrupted = 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long env_long(const char *name, long def, long lo, long hi)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (v == NULL || *v == '\0')
		return def;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < lo || n > hi)
		return def;
	return n;
}

static unsigned long next_random(struct ss_http *h)
{
	/* xorshift64*: jitter needs spread, not secrecy. */
	h->rng ^= h->rng >> 12;
	h->rng ^= h->rng << 25;
	h->rng ^= h->rng >> 27;
	return (unsigned long)((h->rng * 2685821657736338717ULL) >> 16);
}

long ss_http_backoff_ms(long base_ms, long cap_ms, int attempt, unsigned long rnd)
{
	long ceiling = base_ms;
	int i;

	for (i = 1; i < attempt && ceiling < cap_ms; i++)
		ceiling *= 2;
	if (ceiling > cap_ms)
		ceiling = cap_ms;
	if (ceiling <= 0)
		return 0;
	return (long)(rnd % (unsigned long)(ceiling + 1));
}

static void free_headers(struct ss_http_header *hs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		ss_free_secret(hs[i].name);
		ss_free_secret(hs[i].value);
		hs[i].name = hs[i].value = NULL;
	}
}

static void resp_reset(struct ss_http_resp *resp)
{
	ss_buf_free(&resp->body);
	free_headers(resp->headers, resp->nheaders);
	resp->nheaders = 0;
	resp->status = 0;
	resp->rc = SS_OK;
	resp->fail = SS_HTTP_FAIL_NONE;
	resp->error[0] = '\0';
}

struct ss_http_req *ss_http_req_new(const char *method, const char *url)
{
	struct ss_http_req *req = calloc(1, sizeof(*req));

	if (req == NULL)
		return NULL;
	req->method = ss_strdup(method);
	req->url = ss_strdup(url);
	if (req->method == NULL || req->url == NULL) {
		ss_http_req_free(req);
		return NULL;
	}
	req->idempotent = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
			  strcmp(method, "LIST") == 0 || strcmp(method, "PUT") == 0 ||
			  strcmp(method, "DELETE") == 0;
	return req;
}

void ss_http_req_free(struct ss_http_req *req)
{
	if (req == NULL)
		return;
	free(req->method);
	free(req->url);
	free_headers(req->headers, req->nheaders);
	if (req->body != NULL) {
		ss_memzero(req->body, req->body_len);
		free(req->body);
	}
	free(req->connect_to);
	free(req);
}

enum ss_rc ss_http_req_header(struct ss_http_req *req, const char *name, const char *value)
{
	struct ss_http_header *hd;

	if (req->nheaders >= SS_HTTP_MAX_HEADERS)
		return SS_ERR_TOOBIG;
	hd = &req->headers[req->nheaders];
	hd->name = ss_strdup(name);
	hd->value = ss_strdup(value);
	if (hd->name == NULL || hd->value == NULL) {
		free_headers(hd, 1);
		return SS_ERR_NOMEM;
	}
	req->nheaders++;
	return SS_OK;
}

enum ss_rc ss_http_req_body(struct ss_http_req *req, const void *body, size_t len)
{
	char *copy = ss_strndup(body, len);

	if (copy == NULL)
		return SS_ERR_NOMEM;
	if (req->body != NULL) {
		ss_memzero(req->body, req->body_len);
		free(req->body);
	}
	req->body = copy;
	req->body_len = len;
	return SS_OK;
}

enum ss_rc ss_http_resp_add_header(struct ss_http_resp *resp, const char *name, size_t nlen,
				   const char *value, size_t vlen)
{
	struct ss_http_header *hd;

	if (resp->nheaders >= SS_HTTP_MAX_HEADERS)
		return SS_ERR_TOOBIG;
	hd = &resp->headers[resp->nheaders];
	hd->name = ss_strndup(name, nlen);
	hd->value = ss_strndup(value, vlen);
	if (hd->name == NULL || hd->value == NULL) {
		free_headers(hd, 1);
		return SS_ERR_NOMEM;
	}
	resp->nheaders++;
	return SS_OK;
}

const char *ss_http_resp_header(const struct ss_http_resp *resp, const char *name)
{
	size_t i;

	for (i = 0; i < resp->nheaders; i++)
		if (strcasecmp(resp->headers[i].name, name) == 0)
			return resp->headers[i].value;
	return NULL;
}

long ss_http_retry_after_ms(const struct ss_http_resp *resp)
{
	const char *v = ss_http_resp_header(resp, "Retry-After");
	char *end;
	long s;

	if (v == NULL)
		return -1;
	errno = 0;
	s = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || s < 0)
		return -1;
	if (s > SS_HTTP_RETRY_AFTER_CAP_MS / 1000)
		return SS_HTTP_RETRY_AFTER_CAP_MS;
	return s * 1000;
}

enum ss_rc ss_http_urlencode(struct ss_buf *out, const char *s, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	enum ss_rc rc = SS_OK;

	for (p = (const unsigned char *)s; *p != '\0' && rc == SS_OK; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' ||
		    *p == '~' || (keep_slash && *p == '/')) {
			rc = ss_buf_addc(out, (char)*p);
		} else {
			char enc[3] = {'%', hex[*p >> 4], hex[*p & 15]};

			rc = ss_buf_add(out, enc, 3);
		}
	}
	return rc;
}

static void zero_free(void *p)
{
	if (p == NULL)
		return;
	ss_memzero(p, malloc_usable_size(p));
	free(p);
}

/* realloc that never leaves the old block's bytes behind. */
static void *zero_realloc(void *p, size_t n)
{
	size_t old;
	void *q;

	if (p == NULL)
		return malloc(n);
	if (n == 0) {
		zero_free(p);
		return NULL;
	}
	old = malloc_usable_size(p);
	q = malloc(n);
	if (q == NULL)
		return NULL;
	memcpy(q, p, old < n ? old : n);
	zero_free(p);
	return q;
}

struct ss_http *ss_http_new(int parallel)
{
	static int curl_ready;
	struct ss_http *h;

	if (!curl_ready) {
		/* libcurl's own buffers hold requests and answers (tokens,
		 * values): zero each block it frees. */
		if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, zero_free, zero_realloc,
					 strdup, calloc) != CURLE_OK)
			return NULL;
		curl_ready = 1;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	h->multi = curl_multi_init();
	if (h->multi == NULL) {
		free(h);
		return NULL;
	}
	h->parallel = parallel > 0 ? parallel : SS_HTTP_DEFAULT_PARALLEL;
	h->attempts = (int)env_long("SECRETSYNC_HTTP_ATTEMPTS", SS_HTTP_DEFAULT_ATTEMPTS, 1, 20);
	h->timeout_ms = env_long("SECRETSYNC_HTTP_TIMEOUT_MS", SS_HTTP_DEFAULT_TIMEOUT_MS, 100,
				 600000);
	h->connect_timeout_ms = env_long("SECRETSYNC_HTTP_CONNECT_TIMEOUT_MS",
					 SS_HTTP_DEFAULT_CONNECT_TIMEOUT_MS, 100, 600000);
	h->backoff_ms = env_long("SECRETSYNC_HTTP_BACKOFF_MS", 200, 0, 60000);
	if (getrandom(&h->rng, sizeof(h->rng), 0) != (ssize_t)sizeof(h->rng) || h->rng == 0)
		h->rng = (unsigned long long)now_ms() * 0x9E3779B97F4A7C15ULL + 1;
	curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)h->parallel);
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)h->parallel);
	return h;
}

/* Free a header list curl built from the request's headers: it holds
 * copies of the tokens (Authorization, X-Vault-Token...), so zero them
 * first, as every other copy of a secret is. */
static void slist_free_secret(struct curl_slist *l)
{
	struct curl_slist *p;

	for (p = l; p != NULL; p = p->next)
		if (p->data != NULL)
			ss_memzero(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

static void job_free(struct job *j)
{
	if (j == NULL)
		return;
	if (j->easy != NULL) {
		if (j->h != NULL && j->h->multi != NULL)
			curl_multi_remove_handle(j->h->multi, j->easy);
		curl_easy_cleanup(j->easy);
	}
	slist_free_secret(j->hdrs);
	curl_slist_free_all(j->connect_to);
	resp_reset(&j->resp);
	ss_http_req_free(j->req);
	free(j);
}

/* Report a job as finished to its callback and free it. */
static void job_complete(struct job *j)
{
	struct ss_http_req *req = j->req;

	j->resp.attempts = j->attempt;
	j->resp.elapsed_ms = (double)(now_ms() - j->first_ms);
	j->h->stats.completed++;
	if (req->done != NULL)
		req->done(&j->resp, req->ctx);
	job_free(j);
}

static void job_fail(struct job *j, enum ss_rc rc, const char *msg)
{
	j->resp.rc = rc;
	j->resp.fail = SS_HTTP_FAIL_REFUSED;
	snprintf(j->resp.error, sizeof(j->resp.error), "%s", msg);
	job_complete(j);
}

static void enqueue(struct ss_http *h, struct job *j)
{
	j->next = NULL;
	if (h->qtail != NULL)
		h->qtail->next = j;
	else
		h->queue = j;
	h->qtail = j;
}

static void schedule(struct ss_http *h, struct job *j)
{
	struct job **pp = &h->delayed;

	while (*pp != NULL && (*pp)->ready_ms <= j->ready_ms)
		pp = &(*pp)->next;
	j->next = *pp;
	*pp = j;
}

enum ss_rc ss_http_submit(struct ss_http *h, struct ss_http_req *req)
{
	struct ss_buf err;
	struct job *j;
	enum ss_rc rc;

	ss_buf_init(&err, 1024);
	j = calloc(1, sizeof(*j));
	if (j == NULL) {
		ss_http_req_free(req);
		return SS_ERR_NOMEM;
	}
	j->req = req;
	j->h = h;
	ss_buf_init(&j->resp.body, req->max_response ? req->max_response
						     : SS_HTTP_DEFAULT_MAX_RESPONSE);
	req->base_headers = req->nheaders;
	j->first_ms = now_ms();
	/* BearSSL cannot verify an IP-address host: say so before trying. */
	rc = ss_tls_check_url(req->url, req->label ? req->label : req->url,
			      req->connect_to, &err);
	if (rc != SS_OK) {
		j->attempt = 0;
		j->resp.rc = rc;
		j->resp.fail = SS_HTTP_FAIL_REFUSED;
		snprintf(j->resp.error, sizeof(j->resp.error), "%s", err.data);
		ss_buf_free(&err);
		/* Report through the loop so callbacks never run re-entrantly. */
		j->ready_ms = 0;
		j->refused = 1;
		schedule(h, j);
		return SS_OK;
	}
	ss_buf_free(&err);
	enqueue(h, j);
	return SS_OK;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct job *j = ud;
	size_t n = size * nmemb;

	if (ss_buf_add(&j->resp.body, ptr, n) != SS_OK) {
		j->toobig = 1;
		return 0;
	}
	return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct job *j = ud;
	size_t n = size * nmemb, len = n, nlen;
	const char *colon, *v;

	j->header_bytes += n;
	if (j->header_bytes > SS_HTTP_MAX_HEADER_BYTES)
		return 0;
	if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
		/* A new status line (after 1xx): forget earlier headers. */
		free_headers(j->resp.headers, j->resp.nheaders);
		j->resp.nheaders = 0;
		return n;
	}
	while (len > 0 && (ptr[len - 1] == '\r' || ptr[len - 1] == '\n'))
		len--;
	colon = memchr(ptr, ':', len);
	if (colon == NULL)
		return n;
	nlen = (size_t)(colon - ptr);
	v = colon + 1;
	while (v < ptr + len && (*v == ' ' || *v == '\t'))
		v++;
	/* Past the slot limit, extra headers are dropped, not an error. */
	if (ss_http_resp_add_header(&j->resp, ptr, nlen, v, (size_t)(ptr + len - v)) != SS_OK)
		return n;
	return n;
}

static int sensitive_header(const char *name)
{
	return strcasecmp(name, "Authorization") == 0 || strcasecmp(name, "X-Vault-Token") == 0 ||
	       strcasecmp(name, "X-Amz-Security-Token") == 0 || strcasecmp(name, "Cookie") == 0;
}

static void log_request(const struct job *j)
{
	const struct ss_http_req *req = j->req;
	struct ss_buf line;
	size_t i;
	int ok = 1;

	if (ss_log_get_level() > SS_LOG_DEBUG)
		return;
	ss_buf_init(&line, 0);
	ok = ss_buf_addf(&line, "http: > %s %s (attempt %d/%d)", req->method, req->url, j->attempt,
			 j->h->attempts) == SS_OK;
	for (i = 0; ok && i < req->nheaders; i++)
		ok = ss_buf_addf(&line, "\n  %s: %s", req->headers[i].name,
				 sensitive_header(req->headers[i].name) ? "[redacted]"
									: req->headers[i].value) ==
		     SS_OK;
	if (ok && req->body_len > 0)
		ok = ss_buf_addf(&line, "\n  (body: %zu bytes%s)", req->body_len,
				 req->secret_body ? ", redacted" : "") == SS_OK;
	if (ok)
		ss_debug("%s", line.data);
	ss_buf_free(&line);
}

static enum ss_rc start_easy(struct ss_http *h, struct job *j)
{
	struct ss_http_req *req = j->req;
	struct curl_slist *l;
	struct ss_buf line;
	const char *ca;
	size_t i;
	enum ss_rc rc = SS_OK;

	ss_buf_init(&line, 0);
	j->easy = curl_easy_init();
	if (j->easy == NULL)
		return SS_ERR_NOMEM;
	for (i = 0; i < req->nheaders; i++) {
		ss_buf_reset(&line);
		rc = ss_buf_addf(&line, "%s: %s", req->headers[i].name, req->headers[i].value);
		if (rc != SS_OK)
			goto out;
		l = curl_slist_append(j->hdrs, line.data);
		if (l == NULL) {
			rc = SS_ERR_NOMEM;
			goto out;
		}
		j->hdrs = l;
	}
	/* No "Expect: 100-continue": send headers and body in one go. */
	l = curl_slist_append(j->hdrs, "Expect:");
	if (l == NULL) {
		rc = SS_ERR_NOMEM;
		goto out;
	}
	j->hdrs = l;
	if (req->connect_to != NULL) {
		j->connect_to = curl_slist_append(NULL, req->connect_to);
		if (j->connect_to == NULL) {
			rc = SS_ERR_NOMEM;
			goto out;
		}
		curl_easy_setopt(j->easy, CURLOPT_CONNECT_TO, j->connect_to);
	}
	curl_easy_setopt(j->easy, CURLOPT_URL, req->url);
	curl_easy_setopt(j->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(j->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(j->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(j->easy, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(j->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(j->easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(j->easy, CURLOPT_SSL_VERIFYHOST, 2L);
	ca = ss_tls_ca_bundle(req->service);
	if (ca != NULL)
		curl_easy_setopt(j->easy, CURLOPT_CAINFO, ca);
	curl_easy_setopt(j->easy, CURLOPT_USERAGENT, "secretsync/" SS_VERSION);
	curl_easy_setopt(j->easy, CURLOPT_HTTPHEADER, j->hdrs);
	curl_easy_setopt(j->easy, CURLOPT_TIMEOUT_MS, h->timeout_ms);
	curl_easy_setopt(j->easy, CURLOPT_CONNECTTIMEOUT_MS, h->connect_timeout_ms);
	curl_easy_setopt(j->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(j->easy, CURLOPT_WRITEDATA, j);
	curl_easy_setopt(j->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(j->easy, CURLOPT_HEADERDATA, j);
	curl_easy_setopt(j->easy, CURLOPT_PRIVATE, j);
	/* On a reused connection that turns out dead before any answer,
	 * curl silently sends the request again on a new one. That must not
	 * happen to a request that may not be repeated: give it a new
	 * connection, where curl never does that. */
	if (!req->idempotent)
		curl_easy_setopt(j->easy, CURLOPT_FRESH_CONNECT, 1L);
	if (strcmp(req->method, "HEAD") == 0) {
		curl_easy_setopt(j->easy, CURLOPT_NOBODY, 1L);
	} else if (strcmp(req->method, "GET") != 0 || req->body != NULL) {
		if (strcmp(req->method, "POST") != 0)
			curl_easy_setopt(j->easy, CURLOPT_CUSTOMREQUEST, req->method);
		if (req->body != NULL || strcmp(req->method, "POST") == 0 ||
		    strcmp(req->method, "PUT") == 0) {
			curl_easy_setopt(j->easy, CURLOPT_POSTFIELDS, req->body ? req->body : "");
			curl_easy_setopt(j->easy, CURLOPT_POSTFIELDSIZE_LARGE,
					 (curl_off_t)req->body_len);
		}
	}
	if (curl_multi_add_handle(h->multi, j->easy) != CURLM_OK)
		rc = SS_ERR_INTERNAL;
out:
	ss_buf_free(&line);
	return rc;
}

/* Begin the next attempt of j: prepare, then a transfer or the fake. */
static void start_attempt(struct ss_http *h, struct job *j)
{
	enum ss_rc rc;
	size_t i;

	j->attempt++;
	j->attempt_ms = now_ms();
	j->toobig = 0;
	j->header_bytes = 0;
	/* Headers added by prepare() belong to one attempt only. */
	for (i = j->req->base_headers; i < j->req->nheaders; i++)
		free_headers(&j->req->headers[i], 1);
	j->req->nheaders = j->req->base_headers;
	resp_reset(&j->resp);
	if (j->req->prepare != NULL) {
		rc = j->req->prepare(j->req, j->req->ctx);
		if (rc != SS_OK) {
			job_fail(j, rc, "could not prepare the request");
			return;
		}
	}
	h->stats.requests++;
	log_request(j);
	if (h->fake != NULL) {
		h->fake(j->req, &j->resp, h->fake_ctx);
		j->next = h->fake_done;
		h->fake_done = j;
		h->active++;
		if (h->active > h->stats.max_in_flight)
			h->stats.max_in_flight = h->active;
		return;
	}
	rc = start_easy(h, j);
	if (rc != SS_OK) {
		job_fail(j, rc, "could not start the request");
		return;
	}
	h->active++;
	if (h->active > h->stats.max_in_flight)
		h->stats.max_in_flight = h->active;
	j->inext = h->inflight;
	h->inflight = j;
}

static void inflight_remove(struct ss_http *h, struct job *j)
{
	struct job **pp;

	for (pp = &h->inflight; *pp != NULL; pp = &(*pp)->inext)
		if (*pp == j) {
			*pp = j->inext;
			return;
		}
}

static enum ss_http_fail classify_curl(CURLcode code)
{
	switch (code) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return SS_HTTP_FAIL_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return SS_HTTP_FAIL_TIMEOUT;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return SS_HTTP_FAIL_DROPPED;
	case CURLE_PARTIAL_FILE:
		return SS_HTTP_FAIL_TRUNCATED;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		return SS_HTTP_FAIL_TLS;
	case CURLE_WRITE_ERROR:
		return SS_HTTP_FAIL_TOOBIG;
	default:
		return SS_HTTP_FAIL_OTHER;
	}
}

static const char *fail_name(enum ss_http_fail f)
{
	switch (f) {
	case SS_HTTP_FAIL_NONE: return "no failure";
	case SS_HTTP_FAIL_CONNECT: return "connection refused";
	case SS_HTTP_FAIL_TIMEOUT: return "timeout";
	case SS_HTTP_FAIL_DROPPED: return "connection dropped";
	case SS_HTTP_FAIL_TRUNCATED: return "truncated response";
	case SS_HTTP_FAIL_TLS: return "TLS failure";
	case SS_HTTP_FAIL_TOOBIG: return "response too large";
	case SS_HTTP_FAIL_REFUSED: return "refused";
	case SS_HTTP_FAIL_OTHER: break;
	}
	return "transport error";
}

static void explain_transport(struct job *j, CURLcode code, char *out, size_t size)
{
	const char *s = curl_easy_strerror(code);

	switch (code) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		snprintf(out, size,
			 "TLS certificate of %s could not be verified (%s); check the CA bundle "
			 "(SSL_CERT_FILE, AWS_CA_BUNDLE, VAULT_CACERT) and that the name matches",
			 j->req->url, s);
		break;
	case CURLE_SSL_CONNECT_ERROR:
		snprintf(out, size,
			 "TLS handshake with %s failed (%s); the server must offer TLS 1.2", j->req->url,
			 s);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(out, size, "%s timed out after %ld ms", j->req->url, j->h->timeout_ms);
		break;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		snprintf(out, size, "cannot connect to %s (%s)", j->req->url, s);
		break;
	case CURLE_PARTIAL_FILE:
		snprintf(out, size, "%s: the response was cut short (truncated body)", j->req->url);
		break;
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		snprintf(out, size, "%s: the connection was dropped before an answer came (%s)",
			 j->req->url, s);
		break;
	default:
		snprintf(out, size, "%s: %s", j->req->url, s);
		break;
	}
}

/* An attempt of j has ended (code is the curl result; the fake gives
 * CURLE_OK and sets resp->rc/fail itself). Retry it or report it. */
static void finish_attempt(struct ss_http *h, struct job *j, CURLcode code)
{
	struct ss_http_resp *resp = &j->resp;
	enum ss_http_verdict verdict = SS_HTTP_DEFAULT;
	char reason[128];
	int retry = 0;
	long delay;

	h->active--;
	if (j->easy != NULL) {
		inflight_remove(h, j);
		if (code == CURLE_OK)
			curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &resp->status);
		curl_multi_remove_handle(h->multi, j->easy);
		curl_easy_cleanup(j->easy);
		j->easy = NULL;
		slist_free_secret(j->hdrs);
		j->hdrs = NULL;
		curl_slist_free_all(j->connect_to);
		j->connect_to = NULL;
		if (j->toobig) {
			resp->rc = SS_ERR_TOOBIG;
			resp->fail = SS_HTTP_FAIL_TOOBIG;
			resp->status = 0;
			snprintf(resp->error, sizeof(resp->error),
				 "%s: the response is larger than the %zu-byte limit", j->req->url,
				 resp->body.max);
		} else if (code != CURLE_OK) {
			resp->rc = SS_ERR_NET;
			resp->fail = classify_curl(code);
			resp->status = 0;
			explain_transport(j, code, resp->error, sizeof(resp->error));
		}
	} else if (resp->rc != SS_OK && resp->error[0] == '\0') {
		snprintf(resp->error, sizeof(resp->error), "%s: %s", j->req->url,
			 fail_name(resp->fail));
	}
	ss_debug("http: < %s %s -> %ld%s%s in %lld ms (attempt %d)", j->req->method, j->req->url,
		 resp->status, resp->rc != SS_OK ? ": " : "", resp->rc != SS_OK ? resp->error : "",
		 now_ms() - j->attempt_ms, j->attempt);

	if (resp->rc != SS_OK) {
		switch (resp->fail) {
		case SS_HTTP_FAIL_CONNECT:
			retry = 1; /* nothing was sent: always safe */
			break;
		case SS_HTTP_FAIL_TIMEOUT:
		case SS_HTTP_FAIL_DROPPED:
		case SS_HTTP_FAIL_TRUNCATED:
			retry = j->req->idempotent;
			break;
		default:
			retry = 0;
			break;
		}
		snprintf(reason, sizeof(reason), "%s", fail_name(resp->fail));
	} else {
		if (j->req->classify != NULL)
			verdict = j->req->classify(resp, j->req->ctx);
		if (verdict == SS_HTTP_RETRY)
			retry = 1;
		else if (verdict == SS_HTTP_DEFAULT)
			retry = resp->status == 429 ||
				(resp->status >= 500 && resp->status <= 599 &&
				 (j->req->idempotent || resp->status == 503));
		snprintf(reason, sizeof(reason), "HTTP %ld", resp->status);
	}
	if (retry && j->attempt < h->attempts && !h->cancelled && !interrupted) {
		delay = ss_http_retry_after_ms(resp);
		if (delay < 0)
			delay = ss_http_backoff_ms(h->backoff_ms, SS_HTTP_BACKOFF_CAP_MS, j->attempt,
						   next_random(h));
		ss_info("retrying %s after %s (attempt %d of %d) in %ld ms",
			j->req->label ? j->req->label : j->req->url, reason, j->attempt + 1,
			h->attempts, delay);
		h->stats.retries++;
		j->ready_ms = now_ms() + delay;
		schedule(h, j);
		return;
	}
	job_complete(j);
}

static void fail_all(struct ss_http *h, const char *why)
{
	struct job *j;

	while ((j = h->queue) != NULL) {
		h->queue = j->next;
		job_fail(j, SS_ERR_NET, why);
	}
	h->qtail = NULL;
	while ((j = h->delayed) != NULL) {
		h->delayed = j->next;
		job_fail(j, SS_ERR_NET, why);
	}
	while ((j = h->fake_done) != NULL) {
		h->fake_done = j->next;
		h->active--;
		job_fail(j, SS_ERR_NET, why);
	}
}

static void abort_active(struct ss_http *h, const char *why)
{
	struct job *j;

	while ((j = h->inflight) != NULL) {
		h->inflight = j->inext;
		h->active--;
		job_fail(j, SS_ERR_NET, why);
	}
}

enum ss_rc ss_http_run(struct ss_http *h)
{
	struct job *j;
	CURLMsg *msg;
	long long now, wait;
	int running, left, finished;

	for (;;) {
		if (h->cancelled || interrupted) {
			fail_all(h, interrupted ? "interrupted by a signal" : "cancelled");
			abort_active(h, interrupted ? "interrupted by a signal" : "cancelled");
			return SS_OK;
		}
		now = now_ms();
		while ((j = h->delayed) != NULL && j->ready_ms <= now) {
			h->delayed = j->next;
			if (j->refused) {
				job_complete(j);
				continue;
			}
			enqueue(h, j);
		}
		while (h->active < h->parallel && (j = h->queue) != NULL) {
			h->queue = j->next;
			if (h->queue == NULL)
				h->qtail = NULL;
			start_attempt(h, j);
		}
		while ((j = h->fake_done) != NULL) {
			h->fake_done = j->next;
			finish_attempt(h, j, CURLE_OK);
		}
		if (h->active == 0 && h->queue == NULL && h->delayed == NULL &&
		    h->fake_done == NULL)
			return SS_OK;
		if (h->fake != NULL && h->active == 0 && h->queue == NULL) {
			/* Only retries are waiting: sleep until the first is due. */
			wait = h->delayed->ready_ms - now_ms();
			if (wait > 0) {
				struct timespec ts = {wait / 1000, (wait % 1000) * 1000000};

				nanosleep(&ts, NULL);
			}
			continue;
		}
		if (h->fake != NULL)
			continue;
		if (curl_multi_perform(h->multi, &running) != CURLM_OK)
			return SS_ERR_INTERNAL;
		finished = 0;
		while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			j = NULL;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
			if (j != NULL) {
				finish_attempt(h, j, msg->data.result);
				finished++;
			}
		}
		/* A completion may have been the last one, or its callback may
		 * have queued more: look again before sleeping. */
		if (finished > 0 || (h->queue != NULL && h->active < h->parallel))
			continue;
		wait = 1000;
		if (h->delayed != NULL) {
			wait = h->delayed->ready_ms - now_ms();
			if (wait < 0)
				wait = 0;
			if (wait > 1000)
				wait = 1000;
		}
		if (h->active > 0 || wait > 0)
			if (curl_multi_poll(h->multi, NULL, 0, (int)wait, NULL) != CURLM_OK)
				return SS_ERR_INTERNAL;
	}
}

void ss_http_cancel(struct ss_http *h)
{
	/* Only a flag: the loop polls at most a second at a time. */
	h->cancelled = 1;
}

void ss_http_free(struct ss_http *h)
{
	if (h == NULL)
		return;
	fail_all(h, "transport closed");
	abort_active(h, "transport closed");
	curl_multi_cleanup(h->multi);
	free(h);
}

void ss_http_get_stats(const struct ss_http *h, struct ss_http_stats *out)
{
	*out = h->stats;
}

void ss_http_set_fake(struct ss_http *h, ss_http_fake_fn fn, void *ctx)
{
	h->fake = fn;
	h->fake_ctx = ctx;
}
