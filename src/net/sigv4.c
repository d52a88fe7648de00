#include "sigv4.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/banned.h"

#define SCOPE_TERMINATOR "aws4_request"

/* The headers the signer owns: a caller giving one of them would end up
 * with the header twice or with a signature over the wrong value. */
static const char *const reserved_headers[] = {
    "authorization",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
};

/* One header on its way into the canonical form: its lowercased name
 * (an offset into a shared buffer until the buffer stops moving) and its
 * position in the input, which keeps repeated names in order. */
struct canon_hdr {
	size_t name_off;
	const char *name;
	const char *value;
	size_t seq;
};

/* One query parameter, encoded: name and value are offsets into a shared
 * buffer, turned into pointers once the buffer is complete. */
struct canon_param {
	size_t key_off, val_off;
	const char *key, *val;
};

static bool is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

/* RFC 9110 tchar: what a header name or a method may be made of. */
static bool is_tchar(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool is_token(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!is_tchar((unsigned char)*s))
			return false;
	return true;
}

/* A credential scope part or an access key id: visible ASCII that cannot
 * break the Authorization syntax or the scope. */
static bool is_scope_word(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= 0x20 || c >= 0x7f || strchr("/,;=\"\\", c) != NULL)
			return false;
	}
	return true;
}

/* A value that goes into a header line as is: no control characters. */
static bool is_header_safe(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static enum ss_rc add_encoded_byte(struct ss_buf *out, unsigned char c)
{
	static const char digits[] = "0123456789ABCDEF";
	char esc[3];

	if (is_unreserved(c))
		return ss_buf_addc(out, (char)c);
	esc[0] = '%';
	esc[1] = digits[c >> 4];
	esc[2] = digits[c & 0x0f];
	return ss_buf_add(out, esc, sizeof(esc));
}

enum ss_rc ss_sigv4_uri_encode(struct ss_buf *out, const char *s, size_t len, bool keep_slash)
{
	enum ss_rc rc = SS_OK;
	size_t i;

	for (i = 0; i < len && rc == SS_OK; i++) {
		if (keep_slash && s[i] == '/')
			rc = ss_buf_addc(out, '/');
		else
			rc = add_encoded_byte(out, (unsigned char)s[i]);
	}
	return rc;
}

/* Append s[0..len) decoded once ("%XX" to its byte, and '+' to a space
 * when plus_is_space) and then encoded, so that input that was already
 * encoded is not encoded twice and "%2f" and "%2F" come out the same. A
 * '%' not followed by two hex digits is taken literally. */
static enum ss_rc add_reencoded(struct ss_buf *out, const char *s, size_t len, bool plus_is_space)
{
	enum ss_rc rc = SS_OK;
	size_t i = 0;
	unsigned char c;
	int hi, lo;

	while (i < len && rc == SS_OK) {
		c = (unsigned char)s[i];
		if (c == '%' && len - i >= 3 && (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
		    (lo = hexval((unsigned char)s[i + 2])) >= 0) {
			c = (unsigned char)(hi << 4 | lo);
			i += 3;
		} else {
			if (c == '+' && plus_is_space)
				c = ' ';
			i++;
		}
		rc = add_encoded_byte(out, c);
	}
	return rc;
}

/* Non-S3 canonical URI: remove dot and empty segments (RFC 3986 section
 * 5.2.4 as the AWS SDKs apply it), keep a trailing '/' if the path had
 * one and a segment is left, then encode each segment once more. */
static enum ss_rc add_normalized_path(struct ss_buf *out, const char *path)
{
	enum ss_rc rc = SS_ERR_NOMEM;
	size_t len = strlen(path), nseg = 0, max = 1, i, start, n;
	struct {
		const char *p;
		size_t len;
	} *seg = NULL;

	for (i = 0; i < len; i++)
		if (path[i] == '/')
			max++;
	seg = calloc(max, sizeof(*seg));
	if (seg == NULL)
		goto out;
	for (start = 0; start <= len; start = i + 1) {
		for (i = start; i < len && path[i] != '/'; i++)
			;
		n = i - start;
		if (n == 0 || (n == 1 && path[start] == '.'))
			continue;
		if (n == 2 && path[start] == '.' && path[start + 1] == '.') {
			if (nseg > 0)
				nseg--;
			continue;
		}
		seg[nseg].p = path + start;
		seg[nseg].len = n;
		nseg++;
	}
	rc = ss_buf_addc(out, '/');
	for (i = 0; i < nseg && rc == SS_OK; i++) {
		if (i > 0)
			rc = ss_buf_addc(out, '/');
		if (rc == SS_OK)
			rc = ss_sigv4_uri_encode(out, seg[i].p, seg[i].len, false);
	}
	if (rc == SS_OK && nseg > 0 && path[len - 1] == '/')
		rc = ss_buf_addc(out, '/');
out:
	free(seg);
	return rc;
}

/* S3 canonical URI: the path as sent, each segment encoded exactly once. */
static enum ss_rc add_s3_path(struct ss_buf *out, const char *path)
{
	enum ss_rc rc = SS_OK;
	const char *seg = path, *slash;

	for (;;) {
		slash = strchr(seg, '/');
		rc = add_reencoded(out, seg, slash ? (size_t)(slash - seg) : strlen(seg), false);
		if (rc != SS_OK || slash == NULL)
			break;
		rc = ss_buf_addc(out, '/');
		if (rc != SS_OK)
			break;
		seg = slash + 1;
	}
	return rc;
}

static enum ss_rc add_canonical_uri(struct ss_buf *out, const char *path, bool normalize)
{
	if (path == NULL || *path == '\0')
		path = "/";
	if (path[0] != '/')
		return SS_ERR_INVALID;
	return normalize ? add_normalized_path(out, path) : add_s3_path(out, path);
}

static int param_cmp(const void *a, const void *b)
{
	const struct canon_param *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c != 0 ? c : strcmp(x->val, y->val);
}

static enum ss_rc add_canonical_query(struct ss_buf *out, const char *query)
{
	enum ss_rc rc = SS_OK;
	struct ss_buf enc;
	struct canon_param *params = NULL;
	size_t n = 0, max = 1, i;
	const char *piece, *end, *eq;

	ss_buf_init(&enc, SS_SIGV4_MAX_CANONICAL);
	if (query == NULL || *query == '\0')
		goto out;
	for (i = 0; query[i] != '\0'; i++)
		if (query[i] == '&')
			max++;
	params = calloc(max, sizeof(*params));
	if (params == NULL) {
		rc = SS_ERR_NOMEM;
		goto out;
	}
	/* Encode every name and value into one buffer, NUL-separated. */
	for (piece = query; rc == SS_OK; piece = end + 1) {
		end = strchr(piece, '&');
		if (end == NULL)
			end = piece + strlen(piece);
		if (end > piece) {
			eq = memchr(piece, '=', (size_t)(end - piece));
			params[n].key_off = enc.len;
			rc = add_reencoded(&enc, piece, (size_t)((eq ? eq : end) - piece), true);
			if (rc == SS_OK)
				rc = ss_buf_addc(&enc, '\0');
			params[n].val_off = enc.len;
			if (rc == SS_OK && eq != NULL)
				rc = add_reencoded(&enc, eq + 1, (size_t)(end - eq - 1), true);
			if (rc == SS_OK)
				rc = ss_buf_addc(&enc, '\0');
			n++;
		}
		if (*end == '\0')
			break;
	}
	if (rc != SS_OK)
		goto out;
	for (i = 0; i < n; i++) {
		params[i].key = enc.data + params[i].key_off;
		params[i].val = enc.data + params[i].val_off;
	}
	qsort(params, n, sizeof(*params), param_cmp);
	for (i = 0; i < n && rc == SS_OK; i++)
		rc = ss_buf_addf(out, "%s%s=%s", i > 0 ? "&" : "", params[i].key, params[i].val);
out:
	free(params);
	ss_buf_free(&enc);
	return rc;
}

static int hdr_cmp(const void *a, const void *b)
{
	const struct canon_hdr *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Append a header value in canonical form: each line trimmed, runs of
 * blanks inside it collapsed to one space, non-empty lines joined by
 * ',' (the suite's get-header-value-multiline). */
static enum ss_rc add_canonical_value(struct ss_buf *out, const char *v)
{
	enum ss_rc rc = SS_OK;
	bool first_line = true, pending_space;
	const char *line = v, *eol;

	while (rc == SS_OK && *line != '\0') {
		eol = line + strcspn(line, "\r\n");
		while (line < eol && is_blank(*line))
			line++;
		if (line < eol && !first_line)
			rc = ss_buf_addc(out, ',');
		if (line < eol)
			first_line = false;
		pending_space = false;
		for (; line < eol && rc == SS_OK; line++) {
			if (is_blank(*line)) {
				pending_space = true;
				continue;
			}
			if (pending_space)
				rc = ss_buf_addc(out, ' ');
			pending_space = false;
			if (rc == SS_OK)
				rc = ss_buf_addc(out, *line);
		}
		line = eol;
		while (*line == '\r' || *line == '\n')
			line++;
	}
	return rc;
}

/* Append the canonical headers block (each "name:value\n") to out and the
 * signed header list to signed_headers. extra[0..nextra) are the
 * signer's own headers, signed like the caller's. */
static enum ss_rc add_canonical_headers(struct ss_buf *out, struct ss_buf *signed_headers,
					const struct ss_sigv4_req *req,
					const struct ss_sigv4_header *extra, size_t nextra)
{
	enum ss_rc rc = SS_OK;
	struct ss_buf names;
	struct canon_hdr *h = NULL;
	size_t n = req->nheaders + nextra, i, j;
	const struct ss_sigv4_header *src;
	bool have_host = false;

	ss_buf_init(&names, SS_SIGV4_MAX_CANONICAL);
	if (req->nheaders > 0 && req->headers == NULL) {
		rc = SS_ERR_INVALID;
		goto out;
	}
	h = calloc(n > 0 ? n : 1, sizeof(*h));
	if (h == NULL) {
		rc = SS_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < n && rc == SS_OK; i++) {
		src = i < req->nheaders ? &req->headers[i] : &extra[i - req->nheaders];
		if (!is_token(src->name) || src->value == NULL) {
			rc = SS_ERR_INVALID;
			break;
		}
		if (i < req->nheaders) {
			for (j = 0; j < sizeof(reserved_headers) / sizeof(reserved_headers[0]); j++)
				if (strcasecmp(src->name, reserved_headers[j]) == 0)
					rc = SS_ERR_INVALID;
			if (strcasecmp(src->name, "host") == 0)
				have_host = true;
		}
		h[i].name_off = names.len;
		h[i].value = src->value;
		h[i].seq = i;
		for (j = 0; src->name[j] != '\0' && rc == SS_OK; j++) {
			unsigned char c = (unsigned char)src->name[j];

			rc =
			    ss_buf_addc(&names, (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c));
		}
		if (rc == SS_OK)
			rc = ss_buf_addc(&names, '\0');
	}
	if (rc == SS_OK && !have_host)
		rc = SS_ERR_INVALID;
	if (rc != SS_OK)
		goto out;
	for (i = 0; i < n; i++)
		h[i].name = names.data + h[i].name_off;
	qsort(h, n, sizeof(*h), hdr_cmp);
	for (i = 0; i < n && rc == SS_OK; i++) {
		if (i > 0 && strcmp(h[i].name, h[i - 1].name) == 0) {
			rc = ss_buf_addc(out, ',');
		} else {
			if (i > 0)
				rc = ss_buf_addc(out, '\n');
			if (rc == SS_OK)
				rc = ss_buf_addf(out, "%s:", h[i].name);
			if (rc == SS_OK)
				rc = ss_buf_addf(signed_headers, "%s%s", i > 0 ? ";" : "",
						 h[i].name);
		}
		if (rc == SS_OK)
			rc = add_canonical_value(out, h[i].value);
	}
	if (rc == SS_OK && n > 0)
		rc = ss_buf_addc(out, '\n');
out:
	free(h);
	ss_buf_free(&names);
	return rc;
}

static bool is_lower_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < SS_SHA256_HEX_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[SS_SHA256_HEX_LEN] == '\0';
}

static enum ss_rc set_payload_hash(struct ss_sigv4_out *out, const struct ss_sigv4_req *req)
{
	const char *h = req->payload_hash;

	if (h == NULL) {
		if (req->body == NULL && req->body_len > 0)
			return SS_ERR_INVALID;
		ss_hash_sha256_hex(req->body, req->body_len, out->payload_hash);
		return SS_OK;
	}
	if (strcmp(h, SS_SIGV4_UNSIGNED_PAYLOAD) != 0 && !is_lower_hex64(h))
		return SS_ERR_INVALID;
	/* Both fit: 16 or 64 characters. */
	memcpy(out->payload_hash, h, strlen(h) + 1);
	return SS_OK;
}

/* The signing key: HMAC chain from "AWS4" + secret over the date stamp,
 * region, service and "aws4_request". Every intermediate is zeroed. */
static enum ss_rc derive_key(const char *secret, const char *datestamp, const char *region,
			     const char *service, unsigned char key[SS_SHA256_LEN])
{
	enum ss_rc rc = SS_ERR_NOMEM;
	size_t slen = strlen(secret);
	unsigned char *k0 = NULL, tmp[SS_SHA256_LEN];

	k0 = malloc(slen + 4);
	if (k0 == NULL)
		goto out;
	memcpy(k0, "AWS4", 4);
	memcpy(k0 + 4, secret, slen);
	ss_hash_hmac_sha256(k0, slen + 4, datestamp, strlen(datestamp), key);
	ss_hash_hmac_sha256(key, SS_SHA256_LEN, region, strlen(region), tmp);
	ss_hash_hmac_sha256(tmp, SS_SHA256_LEN, service, strlen(service), key);
	ss_hash_hmac_sha256(key, SS_SHA256_LEN, SCOPE_TERMINATOR, strlen(SCOPE_TERMINATOR), tmp);
	memcpy(key, tmp, SS_SHA256_LEN);
	rc = SS_OK;
out:
	ss_memzero(tmp, sizeof(tmp));
	if (k0 != NULL) {
		ss_memzero(k0, slen + 4);
		free(k0);
	}
	return rc;
}

void ss_sigv4_out_init(struct ss_sigv4_out *out)
{
	memset(out, 0, sizeof(*out));
	ss_buf_init(&out->authorization, SS_SIGV4_MAX_CANONICAL);
	ss_buf_init(&out->signed_headers, SS_SIGV4_MAX_CANONICAL);
	ss_buf_init(&out->canonical_request, SS_SIGV4_MAX_CANONICAL);
	ss_buf_init(&out->string_to_sign, SS_SIGV4_MAX_CANONICAL);
}

void ss_sigv4_out_free(struct ss_sigv4_out *out)
{
	if (out == NULL)
		return;
	ss_free_secret(out->session_token);
	ss_buf_free(&out->authorization);
	ss_buf_free(&out->signed_headers);
	ss_buf_free(&out->canonical_request);
	ss_buf_free(&out->string_to_sign);
	ss_memzero(out, sizeof(*out));
	ss_sigv4_out_init(out);
}

static bool params_valid(const struct ss_sigv4_req *req, const struct ss_sigv4_creds *creds,
			 const struct ss_sigv4_params *p)
{
	return req != NULL && creds != NULL && p != NULL && is_token(req->method) &&
	       is_scope_word(p->region) && is_scope_word(p->service) &&
	       is_scope_word(creds->access_key_id) && creds->secret_access_key != NULL &&
	       creds->secret_access_key[0] != '\0' &&
	       (creds->session_token == NULL || is_header_safe(creds->session_token));
}

enum ss_rc ss_sigv4_sign(const struct ss_sigv4_req *req, const struct ss_sigv4_creds *creds,
			 const struct ss_sigv4_params *p, struct ss_sigv4_out *out)
{
	enum ss_rc rc = SS_ERR_INVALID;
	struct ss_sigv4_header extra[3];
	size_t nextra = 0;
	char datestamp[9], creq_hash[SS_SHA256_HEX_LEN + 1];
	unsigned char key[SS_SHA256_LEN], sig[SS_SHA256_LEN];
	struct ss_buf *creq = &out->canonical_request;

	ss_sigv4_out_free(out);
	if (!params_valid(req, creds, p))
		goto out;
	rc = ss_sigv4_format_time(p->when, out->amz_date);
	if (rc != SS_OK)
		goto out;
	memcpy(datestamp, out->amz_date, 8);
	datestamp[8] = '\0';
	rc = set_payload_hash(out, req);
	if (rc != SS_OK)
		goto out;
	if (creds->session_token != NULL) {
		out->session_token = ss_strdup(creds->session_token);
		if (out->session_token == NULL) {
			rc = SS_ERR_NOMEM;
			goto out;
		}
	}

	/* The headers the signer adds and signs. */
	extra[nextra].name = "x-amz-date";
	extra[nextra++].value = out->amz_date;
	if (out->session_token != NULL && !p->token_after_signing) {
		extra[nextra].name = "x-amz-security-token";
		extra[nextra++].value = out->session_token;
	}
	if (p->sign_content_sha256) {
		extra[nextra].name = "x-amz-content-sha256";
		extra[nextra++].value = out->payload_hash;
	}

	/* Task 1: the canonical request. */
	rc = ss_buf_addf(creq, "%s\n", req->method);
	if (rc == SS_OK)
		rc = add_canonical_uri(creq, req->path, p->normalize_path);
	if (rc == SS_OK)
		rc = ss_buf_addc(creq, '\n');
	if (rc == SS_OK)
		rc = add_canonical_query(creq, req->query);
	if (rc == SS_OK)
		rc = ss_buf_addc(creq, '\n');
	if (rc == SS_OK)
		rc = add_canonical_headers(creq, &out->signed_headers, req, extra, nextra);
	if (rc == SS_OK)
		rc = ss_buf_addf(creq, "\n%s\n%s", out->signed_headers.data, out->payload_hash);
	if (rc != SS_OK)
		goto out;

	/* Task 2: the string to sign. */
	ss_hash_sha256_hex(creq->data, creq->len, creq_hash);
	rc = ss_buf_addf(&out->string_to_sign,
			 SS_SIGV4_ALGORITHM "\n%s\n%s/%s/%s/" SCOPE_TERMINATOR "\n%s",
			 out->amz_date, datestamp, p->region, p->service, creq_hash);
	if (rc != SS_OK)
		goto out;

	/* Task 3: the signature. */
	rc = derive_key(creds->secret_access_key, datestamp, p->region, p->service, key);
	if (rc != SS_OK)
		goto out;
	ss_hash_hmac_sha256(key, sizeof(key), out->string_to_sign.data, out->string_to_sign.len,
			    sig);
	ss_hash_hex(sig, sizeof(sig), out->signature);

	/* Task 4: the Authorization header and the list to add. */
	rc = ss_buf_addf(&out->authorization,
			 SS_SIGV4_ALGORITHM " Credential=%s/%s/%s/%s/" SCOPE_TERMINATOR
					    ", SignedHeaders=%s, Signature=%s",
			 creds->access_key_id, datestamp, p->region, p->service,
			 out->signed_headers.data, out->signature);
	if (rc != SS_OK)
		goto out;
	out->headers[out->nheaders].name = "X-Amz-Date";
	out->headers[out->nheaders++].value = out->amz_date;
	if (out->session_token != NULL) {
		out->headers[out->nheaders].name = "X-Amz-Security-Token";
		out->headers[out->nheaders++].value = out->session_token;
	}
	if (p->sign_content_sha256) {
		out->headers[out->nheaders].name = "x-amz-content-sha256";
		out->headers[out->nheaders++].value = out->payload_hash;
	}
	out->headers[out->nheaders].name = "Authorization";
	out->headers[out->nheaders++].value = out->authorization.data;
out:
	ss_memzero(key, sizeof(key));
	ss_memzero(sig, sizeof(sig));
	if (rc != SS_OK)
		ss_sigv4_out_free(out);
	return rc;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12):
 * count from a year starting in March so the leap day is last. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Largest accepted time: 9999-12-31T23:59:59Z. */
#define MAX_EPOCH INT64_C(253402300799)

enum ss_rc ss_sigv4_format_time(time_t t, char out[SS_SIGV4_DATE_LEN + 1])
{
	struct tm tm;

	if (t < 0 || (int64_t)t > MAX_EPOCH || gmtime_r(&t, &tm) == NULL)
		return SS_ERR_INVALID;
	if (strftime(out, SS_SIGV4_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm) != SS_SIGV4_DATE_LEN)
		return SS_ERR_INVALID;
	return SS_OK;
}

static bool digits_value(const char *s, size_t n, int64_t *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

enum ss_rc ss_sigv4_parse_time(const char *s, time_t *out)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int64_t y, mo, d, h, mi, sec, v;
	size_t len;

	if (s == NULL)
		return SS_ERR_INVALID;
	len = strlen(s);
	if (len == SS_SIGV4_DATE_LEN && s[8] == 'T' && s[15] == 'Z') {
		if (!digits_value(s, 4, &y) || !digits_value(s + 4, 2, &mo) ||
		    !digits_value(s + 6, 2, &d) || !digits_value(s + 9, 2, &h) ||
		    !digits_value(s + 11, 2, &mi) || !digits_value(s + 13, 2, &sec))
			return SS_ERR_INVALID;
		if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
		    d > mdays[mo - 1] + (mo == 2 && is_leap(y)) || h > 23 || mi > 59 || sec > 59)
			return SS_ERR_INVALID;
		v = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	} else {
		/* 12 digits already exceed MAX_EPOCH, so no overflow below. */
		if (len == 0 || len > 12 || !digits_value(s, len, &v) || v > MAX_EPOCH)
			return SS_ERR_INVALID;
	}
	if ((int64_t)(time_t)v != v)
		return SS_ERR_INVALID;
	*out = (time_t)v;
	return SS_OK;
}

enum ss_rc ss_sigv4_now(time_t *out)
{
	const char *fake = getenv("SECRETSYNC_FAKE_TIME");
	time_t t;

	if (fake != NULL && *fake != '\0')
		return ss_sigv4_parse_time(fake, out);
	t = time(NULL);
	if (t == (time_t)-1)
		return SS_ERR_INTERNAL;
	*out = t;
	return SS_OK;
}

void ss_sigv4_msg_free(struct ss_sigv4_msg *m)
{
	if (m == NULL)
		return;
	if (m->text != NULL) {
		ss_memzero(m->text, m->text_len);
		free(m->text);
	}
	free(m->hdrs);
	memset(m, 0, sizeof(*m));
}

/* Find the line starting at *pos in text[0..len): its start and its
 * length without the line ending (LF or CRLF); *pos moves past the LF.
 * False at the end of the text. */
static bool line_at(const char *text, size_t len, size_t *pos, size_t *start, size_t *llen)
{
	const char *nl;
	size_t end;

	if (*pos >= len)
		return false;
	*start = *pos;
	nl = memchr(text + *pos, '\n', len - *pos);
	end = nl != NULL ? (size_t)(nl - text) : len;
	*pos = nl != NULL ? end + 1 : len;
	if (end > *start && text[end - 1] == '\r')
		end--;
	*llen = end - *start;
	return true;
}

enum ss_rc ss_sigv4_msg_parse(struct ss_sigv4_msg *m, const char *buf, size_t len)
{
	enum ss_rc rc = SS_ERR_INVALID;
	size_t pos = 0, maxh = 1, nh = 0, i, start, llen, value_end = 0;
	char *t, *line, *sp, *q, *colon, *end;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < len; i++)
		if (buf[i] == '\n')
			maxh++;
	m->text = ss_strndup(buf, len);
	m->hdrs = calloc(maxh, sizeof(*m->hdrs));
	if (m->text == NULL || m->hdrs == NULL) {
		rc = SS_ERR_NOMEM;
		goto out;
	}
	m->text_len = len;
	t = m->text;

	/* "METHOD TARGET HTTP/x": the target may hold spaces (the suite's
	 * get-space), so the version is after the last space. */
	if (!line_at(t, len, &pos, &start, &llen) || memchr(t + start, '\0', llen) != NULL)
		goto out;
	line = t + start;
	line[llen] = '\0';
	sp = strchr(line, ' ');
	end = strrchr(line, ' ');
	if (sp == NULL || sp == line || end == sp || strncmp(end + 1, "HTTP/", 5) != 0)
		goto out;
	*sp = '\0';
	*end = '\0';
	m->req.method = line;
	q = strchr(sp + 1, '?');
	if (q != NULL)
		*q = '\0';
	m->req.path = sp + 1;
	m->req.query = q != NULL ? q + 1 : NULL;

	/* Headers up to an empty line. A line starting with a blank
	 * continues the previous value, which then spans several lines and
	 * is cut only once it is complete. */
	while (line_at(t, len, &pos, &start, &llen) && llen > 0) {
		if (memchr(t + start, '\0', llen) != NULL)
			goto out;
		if (t[start] == ' ' || t[start] == '\t') {
			if (nh == 0)
				goto out;
			value_end = start + llen;
			continue;
		}
		if (nh > 0)
			t[value_end] = '\0';
		colon = memchr(t + start, ':', llen);
		if (colon == NULL || colon == t + start)
			goto out;
		*colon = '\0';
		m->hdrs[nh].name = t + start;
		m->hdrs[nh].value = colon + 1;
		nh++;
		value_end = start + llen;
	}
	if (nh > 0)
		t[value_end] = '\0';
	m->req.headers = m->hdrs;
	m->req.nheaders = nh;
	m->req.body = t + pos;
	m->req.body_len = len - pos;
	rc = SS_OK;
out:
	if (rc != SS_OK)
		ss_sigv4_msg_free(m);
	return rc;
}
