#include "aws_sts.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/oidc.h"
#include "core/log.h"
#include "core/xml.h"
#include "net/sigv4.h"
#include "core/banned.h"

/* STS answers are a few kilobytes. */
#define STS_MAX_RESPONSE ((size_t)64 * 1024)
/* Caps on single fields of an answer (a session token is ~1-2 KiB). */
#define STS_MAX_FIELD ((size_t)16 * 1024)

enum sts_kind { STS_ASSUME, STS_WEB, STS_IDENTITY };

/* A queued call, until its completion. */
struct sts_op {
	enum sts_kind kind;
	char *what;	/* the subject of messages */
	char *role_arn; /* NULL for GetCallerIdentity */
	char *region;
	char *source; /* where the caller's credentials or token came from */
	char *claims; /* web identity: the token's non-secret claims */
	ss_sts_session_fn sdone;
	ss_sts_identity_fn idone;
	void *ctx;
};

static const char *nz(const char *s, const char *def)
{
	return s != NULL && *s != '\0' ? s : def;
}

void ss_sts_session_clear(struct ss_sts_session *s)
{
	if (s == NULL)
		return;
	ss_aws_creds_clear(&s->creds);
	free(s->expiration);
	free(s->assumed_role_arn);
	memset(s, 0, sizeof(*s));
}

void ss_sts_session_move(struct ss_sts_session *dst, struct ss_sts_session *src)
{
	ss_sts_session_clear(dst);
	*dst = *src;
	memset(src, 0, sizeof(*src));
}

void ss_sts_identity_clear(struct ss_sts_identity *id)
{
	if (id == NULL)
		return;
	free(id->account);
	free(id->arn);
	free(id->user_id);
	memset(id, 0, sizeof(*id));
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

static int digits(const char *s, int n, unsigned *out)
{
	int i;

	*out = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		*out = *out * 10 + (unsigned)(s[i] - '0');
	}
	return 1;
}

enum ss_rc ss_sts_parse_time(const char *s, time_t *out)
{
	static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned y, mo, d, h, mi, se;
	const char *p;
	long long days;

	if (s == NULL || strlen(s) < 20)
		return SS_ERR_INVALID;
	if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &se))
		return SS_ERR_INVALID;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
	    se > 60)
		return SS_ERR_INVALID;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return SS_ERR_INVALID;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return SS_ERR_INVALID;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (!(strcmp(p, "Z") == 0 || strcmp(p, "z") == 0 || strcmp(p, "+00:00") == 0))
		return SS_ERR_INVALID;
	days = days_from_civil(y, mo, d);
	*out = (time_t)(days * 86400 + h * 3600 + mi * 60 + se);
	return SS_OK;
}

static enum ss_rc add_param(struct ss_buf *out, const char *name, const char *value)
{
	enum ss_rc rc = ss_buf_addf(out, "&%s=", name);

	if (rc == SS_OK)
		rc = ss_sigv4_uri_encode(out, value, strlen(value), false);
	return rc;
}

enum ss_rc ss_sts_form(const struct ss_sts_assume *a, struct ss_buf *out)
{
	int web = a->web_identity_token != NULL;
	enum ss_rc rc;

	rc = ss_buf_addf(out, "Action=%s&Version=%s",
			 web ? "AssumeRoleWithWebIdentity" : "AssumeRole", SS_STS_API_VERSION);
	if (rc == SS_OK)
		rc = add_param(out, "RoleArn", nz(a->role_arn, ""));
	if (rc == SS_OK)
		rc = add_param(out, "RoleSessionName", nz(a->session_name, ""));
	if (rc == SS_OK && a->duration_seconds > 0)
		rc = ss_buf_addf(out, "&DurationSeconds=%d", a->duration_seconds);
	if (rc == SS_OK && web)
		rc = add_param(out, "WebIdentityToken", a->web_identity_token);
	return rc;
}

/* Take the text of a query as a malloc'd string, or NULL if absent. */
static enum ss_rc take_field(struct ss_xml_query *q, char **out)
{
	*out = NULL;
	if (!q->found)
		return SS_OK;
	return ss_buf_take(q->out, out);
}

enum ss_rc ss_sts_parse_session(const char *xml, size_t len, struct ss_mask *mask,
				struct ss_sts_session *out)
{
	enum { F_KEY, F_SECRET, F_TOKEN, F_EXP, F_ARN, F_N };
	static const char *const paths[F_N] = {
	    "Credentials/AccessKeyId", "Credentials/SecretAccessKey", "Credentials/SessionToken",
	    "Credentials/Expiration", "AssumedRoleUser/Arn"};
	struct ss_xml_query q[F_N];
	struct ss_buf b[F_N];
	enum ss_rc rc;
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < F_N; i++) {
		ss_buf_init(&b[i], STS_MAX_FIELD);
		q[i].path = paths[i];
		q[i].out = &b[i];
		q[i].found = 0;
	}
	rc = ss_xml_extract(xml, len, q, F_N);
	if (rc == SS_ERR_TOOBIG || rc == SS_ERR_INVALID)
		rc = SS_ERR_PARSE;
	if (rc != SS_OK)
		goto out;
	if (!q[F_KEY].found || !q[F_SECRET].found || !q[F_TOKEN].found || b[F_KEY].len == 0 ||
	    b[F_SECRET].len == 0 || b[F_TOKEN].len == 0 ||
	    memchr(b[F_KEY].data, '\0', b[F_KEY].len) ||
	    memchr(b[F_SECRET].data, '\0', b[F_SECRET].len) ||
	    memchr(b[F_TOKEN].data, '\0', b[F_TOKEN].len)) {
		rc = SS_ERR_PARSE;
		goto out;
	}
	/* Mask before anything else can see them. */
	if (mask != NULL) {
		rc = ss_mask_add(mask, b[F_SECRET].data);
		if (rc == SS_OK)
			rc = ss_mask_add(mask, b[F_TOKEN].data);
		if (rc == SS_OK)
			rc = ss_mask_add(mask, b[F_KEY].data);
		if (rc == SS_ERR_IO)
			rc = SS_OK; /* registered; only the announcement failed */
		if (rc != SS_OK)
			goto out;
	}
	if (q[F_EXP].found && ss_sts_parse_time(b[F_EXP].data, &out->creds.expiration) != SS_OK) {
		rc = SS_ERR_PARSE;
		goto out;
	}
	rc = take_field(&q[F_KEY], &out->creds.access_key_id);
	if (rc == SS_OK)
		rc = take_field(&q[F_SECRET], &out->creds.secret_access_key);
	if (rc == SS_OK)
		rc = take_field(&q[F_TOKEN], &out->creds.session_token);
	if (rc == SS_OK)
		rc = take_field(&q[F_EXP], &out->expiration);
	if (rc == SS_OK)
		rc = take_field(&q[F_ARN], &out->assumed_role_arn);
out:
	for (i = 0; i < F_N; i++)
		ss_buf_free(&b[i]);
	if (rc != SS_OK)
		ss_sts_session_clear(out);
	return rc;
}

static int account_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return i == 12;
}

enum ss_rc ss_sts_parse_identity(const char *xml, size_t len, struct ss_sts_identity *out)
{
	enum { F_ACCOUNT, F_ARN, F_USER, F_N };
	static const char *const paths[F_N] = {"GetCallerIdentityResult/Account",
					       "GetCallerIdentityResult/Arn",
					       "GetCallerIdentityResult/UserId"};
	struct ss_xml_query q[F_N];
	struct ss_buf b[F_N];
	enum ss_rc rc;
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < F_N; i++) {
		ss_buf_init(&b[i], 4096);
		q[i].path = paths[i];
		q[i].out = &b[i];
		q[i].found = 0;
	}
	rc = ss_xml_extract(xml, len, q, F_N);
	if (rc == SS_ERR_TOOBIG || rc == SS_ERR_INVALID)
		rc = SS_ERR_PARSE;
	if (rc != SS_OK)
		goto out;
	if (!q[F_ACCOUNT].found || !q[F_ARN].found || !account_ok(b[F_ACCOUNT].data) ||
	    strncmp(b[F_ARN].data, "arn:", 4) != 0 || strlen(b[F_ARN].data) != b[F_ARN].len) {
		rc = SS_ERR_PARSE;
		goto out;
	}
	rc = take_field(&q[F_ACCOUNT], &out->account);
	if (rc == SS_OK)
		rc = take_field(&q[F_ARN], &out->arn);
	if (rc == SS_OK && b[F_USER].len == strlen(b[F_USER].data))
		rc = take_field(&q[F_USER], &out->user_id);
out:
	for (i = 0; i < F_N; i++)
		ss_buf_free(&b[i]);
	if (rc != SS_OK)
		ss_sts_identity_clear(out);
	return rc;
}

static void op_free(struct sts_op *op)
{
	if (op == NULL)
		return;
	free(op->what);
	free(op->role_arn);
	free(op->region);
	free(op->source);
	free(op->claims);
	free(op);
}

static int code_is(const struct ss_aws_error *e, const char *a, const char *b)
{
	return strcmp(e->code, a) == 0 || (b != NULL && strcmp(e->code, b) == 0);
}

static int auth_code(const struct ss_aws_error *e)
{
	static const char *const codes[] = {
	    "AccessDenied",	    "AccessDeniedException",
	    "InvalidIdentityToken", "IDPRejectedClaim",
	    "ExpiredToken",	    "ExpiredTokenException",
	    "InvalidClientTokenId", "SignatureDoesNotMatch",
	    "IncompleteSignature",  "UnrecognizedClientException",
	    "InvalidAccessKeyId",   "MissingAuthenticationToken",
	};
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(e->code, codes[i]) == 0)
			return 1;
	return 0;
}

/* The message lines for a failed call; returns the call's rc. */
static enum ss_rc describe(const struct sts_op *op, const struct ss_http_resp *resp,
			   const struct ss_aws_error *e, struct ss_buf *msg)
{
	enum ss_rc rc, result;
	int web = op->kind == STS_WEB;

	if (resp->rc != SS_OK) {
		rc = ss_buf_addf(msg, "%s: %s", op->what, resp->error);
		if (rc == SS_OK && resp->attempts > 1)
			rc = ss_buf_addf(msg, " (after %d attempts)", resp->attempts);
		if (rc == SS_OK)
			rc = ss_buf_addc(msg, '\n');
		return rc != SS_OK ? rc : resp->rc;
	}
	if (e->code[0] == '\0') {
		rc = ss_buf_addf(msg, "%s: HTTP %ld%s\n", op->what, resp->status,
				 resp->status == 403 ? " (access denied)" : "");
		return rc != SS_OK ? rc : (resp->status == 403 ? SS_ERR_AUTH : SS_ERR_HTTP);
	}
	result = auth_code(e) ? SS_ERR_AUTH : SS_ERR_HTTP;
	rc = ss_buf_addf(msg, "%s: %s%s%s\n", op->what, e->code, e->message[0] ? ": " : "",
			 e->message);
	if (rc == SS_OK && web &&
	    (code_is(e, "InvalidIdentityToken", "IDPRejectedClaim") ||
	     code_is(e, "AccessDenied", "AccessDeniedException") ||
	     code_is(e, "ExpiredTokenException", "ExpiredToken")) &&
	    op->claims != NULL && op->claims[0] != '\0')
		rc = ss_buf_addf(msg, "  the token's claims: %s (role %s)\n", op->claims,
				 op->role_arn);
	if (rc != SS_OK)
		return rc;
	if (web && code_is(e, "InvalidIdentityToken", NULL))
		rc = ss_buf_addf(msg,
				 "  (the account of %s needs an IAM OIDC identity provider for "
				 "the token's issuer with the token's aud among its client ids "
				 "(the audience asked for is set with --audience / the audience "
				 "input, default sts.amazonaws.com))\n",
				 op->role_arn);
	else if (web && (code_is(e, "AccessDenied", "AccessDeniedException") ||
			 code_is(e, "IDPRejectedClaim", NULL)))
		rc = ss_buf_addf(msg,
				 "  (the trust policy of %s must allow "
				 "sts:AssumeRoleWithWebIdentity for the GitHub OIDC provider "
				 "with :aud and :sub conditions these claims meet, e.g. "
				 "\"token.actions.githubusercontent.com:sub\": "
				 "\"repo:OWNER/REPO:*\")\n",
				 op->role_arn);
	else if (web && code_is(e, "ExpiredTokenException", "ExpiredToken"))
		rc = ss_buf_adds(msg,
				 "  (the web identity token has expired: it is valid for "
				 "minutes only; fetch it right before use and check the clock)\n");
	else if (op->kind == STS_ASSUME && code_is(e, "AccessDenied", "AccessDeniedException"))
		rc = ss_buf_addf(msg,
				 "  (the identity of %s needs an IAM policy allowing "
				 "sts:AssumeRole on %s, and the trust policy of %s must name "
				 "that identity as a principal)\n",
				 op->source, op->role_arn, op->role_arn);
	else if (code_is(e, "ExpiredToken", "ExpiredTokenException"))
		rc = ss_buf_addf(msg,
				 "  (the credentials from %s have expired: get new ones, "
				 "e.g. with `secretsync credentials`)\n",
				 op->source);
	else if (code_is(e, "InvalidClientTokenId", "SignatureDoesNotMatch") ||
		 code_is(e, "IncompleteSignature", "UnrecognizedClientException"))
		rc =
		    ss_buf_addf(msg,
				"  (the credentials from %s are not valid: check "
				"AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN)\n",
				op->source);
	else if (code_is(e, "RegionDisabledException", NULL))
		rc = ss_buf_addf(msg,
				 "  (STS is not activated in %s for this account: activate it "
				 "in IAM's account settings or use another region)\n",
				 op->region);
	else if (code_is(e, "ValidationError", NULL) && strstr(e->message, "DurationSeconds"))
		rc = ss_buf_adds(msg, "  (role-duration-seconds must not exceed the role's maximum "
				      "session duration; a role assumed with temporary credentials "
				      "allows 3600 at most)\n");
	else if (ss_aws_code_retryable(e->code))
		rc = ss_buf_addf(msg, "  (STS still answered %s after %d attempts)\n", e->code,
				 resp->attempts);
	return rc != SS_OK ? rc : result;
}

/* Why a 2xx answer was refused, for the message: what is missing or
 * wrong in it (never a value from it). */
static void answer_problem(enum sts_kind kind, const char *xml, size_t len, char *out,
			   size_t size)
{
	static const char *const session[] = {"Credentials/AccessKeyId",
					      "Credentials/SecretAccessKey",
					      "Credentials/SessionToken", "Credentials/Expiration"};
	static const char *const identity[] = {"GetCallerIdentityResult/Account",
					       "GetCallerIdentityResult/Arn"};
	const char *const *paths = kind == STS_IDENTITY ? identity : session;
	size_t n = kind == STS_IDENTITY ? 2 : 4, i;
	struct ss_xml_query q[4];
	struct ss_buf b[4];
	enum ss_rc rc;
	time_t t;

	for (i = 0; i < n; i++) {
		ss_buf_init(&b[i], STS_MAX_FIELD);
		q[i].path = paths[i];
		q[i].out = &b[i];
		q[i].found = 0;
	}
	snprintf(out, size, "its content is not what STS sends");
	rc = ss_xml_extract(xml, len, q, n);
	if (rc == SS_ERR_PARSE) {
		snprintf(out, size, "it is not well-formed XML (malformed or cut short)");
		goto done;
	}
	if (rc != SS_OK) {
		snprintf(out, size, "it is too large or too deeply nested");
		goto done;
	}
	for (i = 0; i < n; i++) {
		if (kind != STS_IDENTITY && i == 3)
			continue; /* Expiration is optional */
		if (!q[i].found || b[i].len == 0 || strlen(b[i].data) != b[i].len) {
			snprintf(out, size, "it has no %s", paths[i]);
			goto done;
		}
	}
	if (kind == STS_IDENTITY && !account_ok(b[0].data))
		snprintf(out, size, "its Account is not a 12-digit account id");
	else if (kind == STS_IDENTITY && strncmp(b[1].data, "arn:", 4) != 0)
		snprintf(out, size, "its Arn is not an ARN");
	else if (kind != STS_IDENTITY && q[3].found && ss_sts_parse_time(b[3].data, &t) != SS_OK)
		snprintf(out, size, "its Credentials/Expiration is not an ISO 8601 UTC time");
done:
	for (i = 0; i < n; i++)
		ss_buf_free(&b[i]);
}

static void on_answer(struct ss_http_resp *resp, const struct ss_aws_error *e, void *ctx)
{
	struct sts_op *op = ctx;
	struct ss_sts_session s;
	struct ss_sts_identity id;
	struct ss_buf msg;
	enum ss_rc rc;

	memset(&s, 0, sizeof(s));
	memset(&id, 0, sizeof(id));
	ss_buf_init(&msg, 0);
	if (!ss_aws_ok(resp)) {
		rc = describe(op, resp, e, &msg);
	} else if (op->kind == STS_IDENTITY) {
		rc = ss_sts_parse_identity(resp->body.data, resp->body.len, &id);
	} else {
		rc = ss_sts_parse_session(resp->body.data, resp->body.len, ss_mask_global(), &s);
		if (rc == SS_OK) {
			struct ss_buf src;

			ss_buf_init(&src, 0);
			rc = ss_buf_addf(&src, "role %s (%s from %s)", op->role_arn,
					 op->kind == STS_WEB ? "AssumeRoleWithWebIdentity"
							     : "AssumeRole",
					 op->source);
			if (rc == SS_OK)
				rc = ss_buf_take(&src, &s.creds.source);
			ss_buf_free(&src);
		}
	}
	if (rc == SS_ERR_PARSE && ss_aws_ok(resp)) {
		char why[128];

		answer_problem(op->kind, resp->body.data, resp->body.len, why, sizeof(why));
		if (ss_buf_addf(&msg, "%s: the answer (HTTP %ld, %zu bytes) is not the XML STS "
				"sends: refused (%s)\n",
				op->what, resp->status, resp->body.len, why) != SS_OK)
			rc = SS_ERR_NOMEM;
	}
	if (rc == SS_ERR_NOMEM && msg.len == 0 &&
	    ss_buf_addf(&msg, "%s: out of memory\n", op->what) != SS_OK)
		rc = SS_ERR_NOMEM;
	if (rc != SS_OK) {
		ss_sts_session_clear(&s);
		ss_sts_identity_clear(&id);
	}
	if (op->kind == STS_IDENTITY)
		op->idone(rc, &id, msg.data, op->ctx);
	else
		op->sdone(rc, &s, msg.data, op->ctx);
	ss_sts_session_clear(&s);
	ss_sts_identity_clear(&id);
	ss_buf_free(&msg);
	op_free(op);
}

static enum ss_rc bad_request(struct ss_buf *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static enum ss_rc bad_request(struct ss_buf *err, const char *fmt, ...)
{
	va_list ap;
	enum ss_rc rc = SS_OK;

	if (err != NULL) {
		va_start(ap, fmt);
		rc = ss_buf_vaddf(err, fmt, ap);
		va_end(ap);
	}
	return rc != SS_OK ? SS_ERR_NOMEM : SS_ERR_INVALID;
}

/* Queue op with form body on h. Takes op (freed on failure). */
static enum ss_rc submit(struct ss_http *h, struct sts_op *op, const struct ss_aws_creds *creds,
			 const struct ss_buf *form, int secret_body)
{
	struct ss_aws_call call;
	char *url = NULL;
	struct ss_buf u, label;
	int custom = 0;
	enum ss_rc rc;

	ss_buf_init(&u, 0);
	ss_buf_init(&label, 0);
	url = ss_aws_endpoint(SS_AWS_STS, op->region, &custom);
	if (url == NULL) {
		rc = SS_ERR_NOMEM;
		goto out;
	}
	rc = ss_buf_addf(&u, "%s/", url);
	if (rc == SS_OK)
		rc = ss_buf_addf(&label, "sts %s%s%s",
				 op->kind == STS_IDENTITY ? "GetCallerIdentity"
				 : op->kind == STS_WEB	  ? "AssumeRoleWithWebIdentity"
							  : "AssumeRole",
				 op->role_arn ? " " : "", op->role_arn ? op->role_arn : "");
	if (rc != SS_OK)
		goto out;
	memset(&call, 0, sizeof(call));
	call.service = SS_AWS_STS;
	call.region = op->region;
	call.creds = creds;
	call.method = "POST";
	call.url = u.data;
	call.content_type = "application/x-www-form-urlencoded; charset=utf-8";
	call.body = form->data;
	call.body_len = form->len;
	call.idempotent = 1;
	call.secret_body = secret_body;
	call.secret_response = op->kind != STS_IDENTITY;
	call.max_response = STS_MAX_RESPONSE;
	call.label = label.data;
	call.done = on_answer;
	call.ctx = op;
	rc = ss_aws_submit(h, &call);
out:
	if (rc != SS_OK)
		op_free(op);
	free(url);
	ss_buf_free(&u);
	ss_buf_free(&label);
	return rc;
}

enum ss_rc ss_sts_assume_submit(struct ss_http *h, const struct ss_sts_assume *a,
				ss_sts_session_fn done, void *ctx, struct ss_buf *err)
{
	int web = a->web_identity_token != NULL;
	struct sts_op *op = NULL;
	struct ss_buf form, what;
	enum ss_rc rc;

	if (a->role_arn == NULL || *a->role_arn == '\0')
		return bad_request(err, "sts: no role ARN to assume\n");
	if (a->session_name == NULL || *a->session_name == '\0')
		return bad_request(err, "sts: AssumeRole into %s: no session name\n", a->role_arn);
	if (a->duration_seconds != 0 && (a->duration_seconds < SS_STS_MIN_DURATION ||
					 a->duration_seconds > SS_STS_MAX_DURATION))
		return bad_request(
		    err,
		    "sts: AssumeRole into %s: the duration must be from 900 to 43200 "
		    "seconds\n",
		    a->role_arn);
	if (web && *a->web_identity_token == '\0')
		return bad_request(err,
				   "sts: AssumeRoleWithWebIdentity into %s: the token is empty\n",
				   a->role_arn);
	if (!web && (a->source == NULL || a->source->access_key_id == NULL ||
		     a->source->secret_access_key == NULL))
		return bad_request(err, "sts: AssumeRole into %s: no source credentials\n",
				   a->role_arn);
	ss_buf_init(&form, 0);
	ss_buf_init(&what, 0);
	op = calloc(1, sizeof(*op));
	if (op == NULL) {
		rc = SS_ERR_NOMEM;
		goto out;
	}
	op->kind = web ? STS_WEB : STS_ASSUME;
	op->sdone = done;
	op->ctx = ctx;
	op->role_arn = ss_strdup(a->role_arn);
	op->region = ss_strdup(nz(a->region, "us-east-1"));
	op->source = ss_strdup(web ? nz(a->token_origin, "a web identity token")
				   : nz(a->source->source, "the given credentials"));
	rc = op->role_arn && op->region && op->source ? SS_OK : SS_ERR_NOMEM;
	if (rc == SS_OK && web) {
		struct ss_buf claims;

		ss_buf_init(&claims, 4096);
		rc = ss_oidc_describe_claims(a->web_identity_token, &claims);
		if (rc == SS_ERR_TOOBIG)
			rc = SS_OK; /* the claims are a courtesy */
		if (rc == SS_OK)
			rc = ss_buf_take(&claims, &op->claims);
		ss_buf_free(&claims);
	}
	if (rc == SS_OK)
		rc = web ? ss_buf_addf(&what,
				       "sts: AssumeRoleWithWebIdentity into %s (token from %s)",
				       op->role_arn, op->source)
			 : ss_buf_addf(&what, "sts: AssumeRole into %s (as %s)", op->role_arn,
				       op->source);
	if (rc == SS_OK)
		rc = ss_buf_take(&what, &op->what);
	if (rc == SS_OK)
		rc = ss_sts_form(a, &form);
	if (rc != SS_OK) {
		op_free(op);
		goto out;
	}
	rc = submit(h, op, web ? NULL : a->source, &form, web);
out:
	ss_buf_free(&form);
	ss_buf_free(&what);
	return rc;
}

enum ss_rc ss_sts_identity_submit(struct ss_http *h, const char *region,
				  const struct ss_aws_creds *creds, ss_sts_identity_fn done,
				  void *ctx)
{
	static const char body[] = "Action=GetCallerIdentity&Version=" SS_STS_API_VERSION;
	struct sts_op *op;
	struct ss_buf form, what;
	enum ss_rc rc;

	if (creds == NULL || creds->access_key_id == NULL || creds->secret_access_key == NULL)
		return SS_ERR_INVALID;
	ss_buf_init(&form, 0);
	ss_buf_init(&what, 0);
	op = calloc(1, sizeof(*op));
	if (op == NULL)
		return SS_ERR_NOMEM;
	op->kind = STS_IDENTITY;
	op->idone = done;
	op->ctx = ctx;
	op->region = ss_strdup(nz(region, "us-east-1"));
	op->source = ss_strdup(nz(creds->source, "the given credentials"));
	rc = op->region && op->source ? SS_OK : SS_ERR_NOMEM;
	if (rc == SS_OK)
		rc = ss_buf_addf(&what, "sts: GetCallerIdentity (credentials from %s)", op->source);
	if (rc == SS_OK)
		rc = ss_buf_take(&what, &op->what);
	if (rc == SS_OK)
		rc = ss_buf_adds(&form, body);
	if (rc != SS_OK) {
		op_free(op);
		goto out;
	}
	rc = submit(h, op, creds, &form, 0);
out:
	ss_buf_free(&form);
	ss_buf_free(&what);
	return rc;
}

/* The synchronous forms: one request, run to completion. */
struct sync {
	enum ss_rc rc;
	struct ss_sts_session *session;
	struct ss_sts_identity *identity;
	struct ss_buf *err;
};

static void sync_session(enum ss_rc rc, struct ss_sts_session *s, const char *error, void *ctx)
{
	struct sync *y = ctx;

	y->rc = rc;
	if (rc == SS_OK)
		ss_sts_session_move(y->session, s);
	else if (ss_buf_adds(y->err, error) != SS_OK)
		y->rc = SS_ERR_NOMEM;
}

static void sync_identity(enum ss_rc rc, struct ss_sts_identity *id, const char *error, void *ctx)
{
	struct sync *y = ctx;

	y->rc = rc;
	if (rc == SS_OK) {
		*y->identity = *id;
		memset(id, 0, sizeof(*id));
	} else if (ss_buf_adds(y->err, error) != SS_OK) {
		y->rc = SS_ERR_NOMEM;
	}
}

enum ss_rc ss_sts_assume(struct ss_http *h, const struct ss_sts_assume *a,
			 struct ss_sts_session *out, struct ss_buf *err)
{
	struct sync y = {SS_ERR_INTERNAL, out, NULL, err};
	enum ss_rc rc;

	memset(out, 0, sizeof(*out));
	rc = ss_sts_assume_submit(h, a, sync_session, &y, err);
	if (rc == SS_OK)
		rc = ss_http_run(h);
	if (rc == SS_OK)
		rc = y.rc;
	if (rc != SS_OK)
		ss_sts_session_clear(out);
	return rc;
}

enum ss_rc ss_sts_get_caller_identity(struct ss_http *h, const char *region,
				      const struct ss_aws_creds *creds, struct ss_sts_identity *out,
				      struct ss_buf *err)
{
	struct sync y = {SS_ERR_INTERNAL, NULL, out, err};
	enum ss_rc rc;

	memset(out, 0, sizeof(*out));
	rc = ss_sts_identity_submit(h, region, creds, sync_identity, &y);
	if (rc == SS_ERR_INVALID &&
	    ss_buf_adds(err, "sts: GetCallerIdentity: no credentials to call it with\n") != SS_OK)
		rc = SS_ERR_NOMEM;
	if (rc == SS_OK)
		rc = ss_http_run(h);
	if (rc == SS_OK)
		rc = y.rc;
	if (rc != SS_OK)
		ss_sts_identity_clear(out);
	return rc;
}
