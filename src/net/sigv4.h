/* sigv4.h - AWS Signature Version 4 (AWS4-HMAC-SHA256, Authorization
 * header form).
 *
 * Pure code: the caller describes the request it is about to send, the
 * signer returns the headers to add. Nothing here does I/O except
 * ss_sigv4_now(), which reads the clock (or SECRETSYNC_FAKE_TIME).
 *
 * Canonicalisation, as AWS's published test suite and the S3 API
 * reference describe it:
 * - method: as given (case kept);
 * - URI: the path as sent on the wire. With normalize_path (every
 *   service but S3) "." and ".." segments and empty segments ("//") are
 *   removed (a trailing '/' is kept while a segment remains) and then
 *   every byte except the unreserved A-Z a-z 0-9 - _ . ~ and '/' is
 *   percent-encoded again, so an already-encoded wire path ends up
 *   encoded twice, as AWS requires outside S3. Without normalize_path
 *   (S3) the path is kept as sent, "//" and ".." included, and each
 *   segment is decoded once and re-encoded, so it is encoded exactly
 *   once ("%2F" inside a key stays "%2F");
 * - query: split on '&' (empty pieces dropped), each name and value
 *   decoded ('%XX', and '+' as a space) then encoded, "name=" for a
 *   piece without a value, sorted by encoded name then encoded value;
 * - headers: names lowercased, values trimmed with inner runs of blanks
 *   collapsed to one space, a value spanning several lines (obs-fold)
 *   has its lines joined by ',', repeated names joined by ',' in the
 *   order given, sorted by name. Every header in the request is signed.
 *
 * Ownership: every pointer in the input structures is borrowed for the
 * duration of the call. The output owns its storage (struct ss_sigv4_out,
 * released with ss_sigv4_out_free). The signing key and every value
 * derived from the secret access key are zeroed before ss_sigv4_sign
 * returns.
 */
#ifndef SS_SIGV4_H
#define SS_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/buf.h"
#include "core/hash.h"
#include "core/rc.h"

#define SS_SIGV4_ALGORITHM	  "AWS4-HMAC-SHA256"
#define SS_SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
/* Length of an X-Amz-Date value, YYYYMMDDTHHMMSSZ, without the NUL. */
#define SS_SIGV4_DATE_LEN 16
/* The headers the signer adds at most: X-Amz-Date,
 * X-Amz-Security-Token, x-amz-content-sha256, Authorization. */
#define SS_SIGV4_MAX_OUT_HEADERS 4
/* Cap on the canonical request (the body is hashed, not included). */
#define SS_SIGV4_MAX_CANONICAL ((size_t)1024 * 1024)

struct ss_sigv4_header {
	const char *name;
	const char *value;
};

/* The request to sign. path is the path exactly as it goes on the wire
 * (percent-encoded by the caller, see ss_sigv4_uri_encode; NULL or ""
 * means "/"; otherwise it must start with '/'). query is the raw query
 * string without the '?' (NULL or "" for none). headers are the headers
 * that will be sent verbatim and must be signed; they must include Host
 * and must not include Authorization, X-Amz-Date, X-Amz-Security-Token
 * or x-amz-content-sha256, which the signer adds. payload_hash NULL
 * means the lowercase hex SHA-256 of the body; otherwise it is
 * SS_SIGV4_UNSIGNED_PAYLOAD or a precomputed 64-character lowercase hex
 * digest (the body is then not read). */
struct ss_sigv4_req {
	const char *method;
	const char *path;
	const char *query;
	const struct ss_sigv4_header *headers;
	size_t nheaders;
	const void *body;
	size_t body_len;
	const char *payload_hash;
};

/* session_token may be NULL (long-term credentials). */
struct ss_sigv4_creds {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token;
};

struct ss_sigv4_params {
	const char *region;  /* e.g. "us-east-1" */
	const char *service; /* signing name: "secretsmanager", "sts", "s3" */
	time_t when;	     /* signing time, UTC seconds (see ss_sigv4_now) */
	/* Normalise and double-encode the path: true for every service but
	 * S3, false for S3. */
	bool normalize_path;
	/* Add a signed x-amz-content-sha256 header carrying the payload
	 * hash (S3). */
	bool sign_content_sha256;
	/* Add X-Amz-Security-Token after signing instead of signing it
	 * (the suite's post-sts-header-after; a few services want this).
	 * The default, false, signs it as most services require. */
	bool token_after_signing;
};

/* The result of a signature. headers[0..nheaders) are the headers to add
 * to the request, in this order: X-Amz-Date, X-Amz-Security-Token (when
 * the credentials have a session token), x-amz-content-sha256 (with
 * sign_content_sha256), Authorization. Their names are static strings
 * and their values point into this structure, valid until
 * ss_sigv4_out_free. The other fields are there for tests and debug
 * output (never print session_token). */
struct ss_sigv4_out {
	struct ss_sigv4_header headers[SS_SIGV4_MAX_OUT_HEADERS];
	size_t nheaders;
	char amz_date[SS_SIGV4_DATE_LEN + 1];
	char payload_hash[SS_SHA256_HEX_LEN + 1];
	char *session_token;		 /* a copy, zeroed on free; may be NULL */
	struct ss_buf authorization;	 /* the Authorization value */
	struct ss_buf signed_headers;	 /* "host;x-amz-date" */
	struct ss_buf canonical_request; /* exactly what was hashed */
	struct ss_buf string_to_sign;	 /* exactly what was signed */
	char signature[SS_SHA256_HEX_LEN + 1];
};

/* Initialise out empty (safe to free). */
void ss_sigv4_out_init(struct ss_sigv4_out *out);

/* Zero and release everything out holds; out is left empty. NULL is
 * fine. */
void ss_sigv4_out_free(struct ss_sigv4_out *out);

/* Sign req with creds for p->region/p->service at p->when and fill out
 * (which must have been initialised; its previous content is released).
 * SS_ERR_INVALID for a malformed request, credentials or parameters
 * (no Host header, a reserved header given, a bad header name, a path
 * not starting with '/', an unusable time...), SS_ERR_TOOBIG when the
 * canonical request exceeds SS_SIGV4_MAX_CANONICAL, SS_ERR_NOMEM. On
 * failure out is left empty. */
enum ss_rc ss_sigv4_sign(const struct ss_sigv4_req *req, const struct ss_sigv4_creds *creds,
			 const struct ss_sigv4_params *p, struct ss_sigv4_out *out) SS_MUST_CHECK;

/* Append len bytes at s to out percent-encoded the SigV4 way: the
 * unreserved A-Z a-z 0-9 - _ . ~ are kept, '/' is kept when keep_slash,
 * every other byte becomes %XX (uppercase hex). Use it to build wire
 * paths (keep_slash, e.g. an S3 key) and query values. */
enum ss_rc ss_sigv4_uri_encode(struct ss_buf *out, const char *s, size_t len,
			       bool keep_slash) SS_MUST_CHECK;

/* Write t as an X-Amz-Date value (YYYYMMDDTHHMMSSZ, UTC) into out.
 * SS_ERR_INVALID if t is not in years 1970..9999. */
enum ss_rc ss_sigv4_format_time(time_t t, char out[SS_SIGV4_DATE_LEN + 1]) SS_MUST_CHECK;

/* Parse a time given either as YYYYMMDDTHHMMSSZ (UTC) or as decimal
 * epoch seconds, up to 9999-12-31T23:59:59Z. SS_ERR_INVALID otherwise
 * (*out untouched). */
enum ss_rc ss_sigv4_parse_time(const char *s, time_t *out) SS_MUST_CHECK;

/* The signing time: SECRETSYNC_FAKE_TIME parsed as ss_sigv4_parse_time
 * does when that variable is set and non-empty (SS_ERR_INVALID if it
 * does not parse: a test clock is never silently replaced by the real
 * one), else time(NULL). */
enum ss_rc ss_sigv4_now(time_t *out) SS_MUST_CHECK;

/* A request parsed from HTTP/1.1 message text, the format of the AWS
 * suite's .req files: "METHOD TARGET HTTP/1.1", header lines "Name:value"
 * (a line starting with a space or tab continues the previous value,
 * kept with its line break), an empty line, the body. Lines end in LF
 * or CRLF. req's pointers point into storage owned by the message. */
struct ss_sigv4_msg {
	struct ss_sigv4_req req;
	/* private */
	char *text;
	size_t text_len;
	struct ss_sigv4_header *hdrs;
};

/* Parse len bytes at buf into m (which the caller need not initialise).
 * SS_ERR_INVALID for a malformed message (no request line, no HTTP
 * version, a header line without ':', a NUL before the body...),
 * SS_ERR_NOMEM. On failure m is left empty (safe to free). */
enum ss_rc ss_sigv4_msg_parse(struct ss_sigv4_msg *m, const char *buf, size_t len) SS_MUST_CHECK;

/* Zero and release m's storage. NULL is fine. */
void ss_sigv4_msg_free(struct ss_sigv4_msg *m);

#endif
