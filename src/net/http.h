/* http.h - the one HTTP transport (the only code that includes curl).
 *
 * A struct ss_http runs many requests at once on curl's multi interface,
 * at most `parallel` in flight, with connections kept alive and reused
 * per host. Requests are submitted with a completion callback and run by
 * ss_http_run(), an event loop on the calling thread; a callback may
 * submit more requests (a breadth-first listing does), which run in the
 * same loop.
 *
 * Each request is retried on retryable failures only: connection errors,
 * timeouts, HTTP 429 and 5xx, and whatever the request's classify hook
 * adds (Vault's 412, AWS throttling codes in a 400 body). The delay is
 * exponential backoff with full jitter, or the server's Retry-After when
 * it says so, and the number of attempts is bounded. A plain 4xx is never
 * retried. A request that is not idempotent is retried after a failure
 * only when nothing was sent (the connection could not be made), unless
 * the caller marks it safe to repeat (a write with a ClientRequestToken).
 *
 * Redirects are never followed; TLS is always verified (the CA bundle is
 * chosen per service by tls.h); only http and https are spoken.
 *
 * For unit tests a fake responder can replace the network: the whole
 * retry and queueing logic runs, only the transfer is simulated.
 */
#ifndef SS_HTTP_H
#define SS_HTTP_H

#include <stddef.h>

#include "core/buf.h"
#include "core/rc.h"
#include "net/tls.h"

/* Limits and defaults; the environment may lower them for tests. */
#define SS_HTTP_DEFAULT_PARALLEL 16
#define SS_HTTP_DEFAULT_ATTEMPTS 5
#define SS_HTTP_DEFAULT_TIMEOUT_MS 30000
#define SS_HTTP_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define SS_HTTP_DEFAULT_MAX_RESPONSE ((size_t)16 * 1024 * 1024)
#define SS_HTTP_MAX_HEADERS 32

struct ss_http;

struct ss_http_header {
	char *name;
	char *value;
};

/* Why no HTTP answer arrived (resp->rc != SS_OK). */
enum ss_http_fail {
	SS_HTTP_FAIL_NONE = 0,
	SS_HTTP_FAIL_CONNECT,   /* could not connect: nothing was sent */
	SS_HTTP_FAIL_TIMEOUT,   /* the attempt ran past its timeout */
	SS_HTTP_FAIL_DROPPED,   /* the connection broke after sending */
	SS_HTTP_FAIL_TRUNCATED, /* the body was cut short */
	SS_HTTP_FAIL_TLS,       /* TLS handshake or verification failed */
	SS_HTTP_FAIL_TOOBIG,    /* the response passed the size cap */
	SS_HTTP_FAIL_REFUSED,   /* refused before sending (bad URL, cancelled) */
	SS_HTTP_FAIL_OTHER
};

/* A finished request, handed to the completion callback. Valid only
 * during the callback; the callback may take the body with ss_buf_take. */
struct ss_http_resp {
	enum ss_rc rc;      /* SS_OK when an HTTP answer arrived (any status) */
	enum ss_http_fail fail; /* the transport failure when rc != SS_OK */
	long status;        /* HTTP status, 0 when none arrived */
	struct ss_buf body; /* the response body (capped) */
	struct ss_http_header headers[SS_HTTP_MAX_HEADERS];
	size_t nheaders;
	char error[256];    /* transport error text when rc != SS_OK */
	int attempts;       /* attempts made, 1 or more */
	double elapsed_ms;  /* wall time of all attempts and waits */
};

/* The verdict of a classify hook. */
enum ss_http_verdict {
	SS_HTTP_DEFAULT = 0, /* use the built-in rules */
	SS_HTTP_RETRY,       /* retryable (e.g. a throttling code in a 400 body) */
	SS_HTTP_FINAL        /* not retryable, whatever the status */
};

struct ss_http_req;

/* Called before every attempt to add per-attempt headers (a SigV4
 * signature with a fresh date). Returns SS_OK or fails the request. */
typedef enum ss_rc (*ss_http_prepare_fn)(struct ss_http_req *req, void *ctx);
/* Decides whether a finished attempt is retryable (see the verdicts). */
typedef enum ss_http_verdict (*ss_http_classify_fn)(const struct ss_http_resp *resp, void *ctx);
/* Completion: called exactly once per submitted request. */
typedef void (*ss_http_done_fn)(struct ss_http_resp *resp, void *ctx);

/* A request. Build it with ss_http_req_new, fill it, submit it; the
 * transport owns it from submission on and frees it after completion. */
struct ss_http_req {
	char *method;
	char *url;
	struct ss_http_header headers[SS_HTTP_MAX_HEADERS];
	size_t nheaders;
	size_t base_headers; /* headers before prepare(): kept across attempts */
	char *body;          /* may be NULL; zeroed before free */
	size_t body_len;
	enum ss_tls_service service;
	const char *label;     /* what the request is, for logs: "vault LIST kv/" */
	int idempotent;        /* safe to repeat after a failure mid-request */
	int secret_body;       /* never log the request body */
	int secret_response;   /* never log the response body */
	size_t max_response;   /* 0 = SS_HTTP_DEFAULT_MAX_RESPONSE */
	char *connect_to;      /* curl CONNECT_TO entry "HOST:PORT:CONNECT-HOST:PORT" */
	ss_http_prepare_fn prepare;
	ss_http_classify_fn classify;
	ss_http_done_fn done;
	void *ctx;
};

/* A new transport with at most parallel requests in flight (0 = the
 * default 16). The environment may set SECRETSYNC_HTTP_TIMEOUT_MS,
 * SECRETSYNC_HTTP_CONNECT_TIMEOUT_MS, SECRETSYNC_HTTP_ATTEMPTS and
 * SECRETSYNC_HTTP_BACKOFF_MS (the base delay, default 200). NULL on
 * failure. */
struct ss_http *ss_http_new(int parallel);

/* Free the transport; requests not run yet complete with SS_ERR_NET.
 * NULL is fine. */
void ss_http_free(struct ss_http *h);

/* A new request for method and url (copied), or NULL. */
struct ss_http_req *ss_http_req_new(const char *method, const char *url);

/* Free a request that was never submitted. NULL is fine. */
void ss_http_req_free(struct ss_http_req *req);

/* Add a header (name and value copied). SS_ERR_TOOBIG past the limit. */
enum ss_rc ss_http_req_header(struct ss_http_req *req, const char *name, const char *value)
	SS_MUST_CHECK;

/* Set the body (copied). */
enum ss_rc ss_http_req_body(struct ss_http_req *req, const void *body, size_t len) SS_MUST_CHECK;

/* Queue req. On failure req is freed and done() is NOT called. */
enum ss_rc ss_http_submit(struct ss_http *h, struct ss_http_req *req) SS_MUST_CHECK;

/* Run until every submitted request (and every request submitted by a
 * callback) has completed. Returns SS_OK, or SS_ERR_INTERNAL if curl
 * itself failed; request failures are reported to their callbacks. */
enum ss_rc ss_http_run(struct ss_http *h) SS_MUST_CHECK;

/* Ask the loop to stop early (e.g. on SIGTERM): queued requests complete
 * with SS_ERR_NET "cancelled", in-flight ones are aborted. Safe to call
 * from a signal handler. */
void ss_http_cancel(struct ss_http *h);

/* Process-wide interruption (SIGTERM/SIGINT): ss_http_interrupt is safe
 * in a signal handler; every running loop then fails its queued and
 * in-flight requests with "interrupted by a signal" and returns, and no
 * retry is scheduled. ss_http_clear_interrupt lets cleanup requests (a
 * token revocation) run afterwards. */
void ss_http_interrupt(void);
int ss_http_interrupted(void);
void ss_http_clear_interrupt(void);

/* A response header's value (case-insensitive name), or NULL. */
const char *ss_http_resp_header(const struct ss_http_resp *resp, const char *name);

/* Counters for benchmarks and tests. */
struct ss_http_stats {
	unsigned long requests; /* attempts sent */
	unsigned long retries;
	unsigned long completed;
	int max_in_flight;
};
void ss_http_get_stats(const struct ss_http *h, struct ss_http_stats *out);

/* The fake responder for unit tests: instead of a transfer, fn fills
 * resp (status, body, headers) or sets resp->rc to a transport error. */
typedef void (*ss_http_fake_fn)(const struct ss_http_req *req, struct ss_http_resp *resp,
				void *ctx);
void ss_http_set_fake(struct ss_http *h, ss_http_fake_fn fn, void *ctx);

/* Add a header to a response (for fakes and the transport itself). */
enum ss_rc ss_http_resp_add_header(struct ss_http_resp *resp, const char *name, size_t nlen,
				   const char *value, size_t vlen) SS_MUST_CHECK;

/* The delay before attempt (1-based attempt that failed), full jitter:
 * uniform in [0, min(cap, base * 2^(attempt-1))]; exposed for tests. */
long ss_http_backoff_ms(long base_ms, long cap_ms, int attempt, unsigned long rnd);

/* Parse Retry-After (delta seconds only); -1 when absent or invalid. */
long ss_http_retry_after_ms(const struct ss_http_resp *resp);

/* URL-encode s per RFC 3986 (unreserved kept), appending to out;
 * keep_slash leaves '/' as is (for paths). */
enum ss_rc ss_http_urlencode(struct ss_buf *out, const char *s, int keep_slash) SS_MUST_CHECK;

#endif
