#include "oidc.h"

#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/log.h"
#include "core/mask.h"
#include "core/banned.h"

struct fetch {
	enum ss_rc rc;
	char *jwt;
	struct ss_buf *err;
	const char *what; /* the call, for messages */
};

int ss_oidc_available(void)
{
	const char *url = getenv("ACTIONS_ID_TOKEN_REQUEST_URL");
	const char *tok = getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN");

	return url != NULL && *url != '\0' && tok != NULL && *tok != '\0';
}

static void on_token(struct ss_http_resp *resp, void *ctx)
{
	struct fetch *f = ctx;
	cJSON *doc = NULL;
	const cJSON *v;
	const char *why = NULL;

	if (resp->rc != SS_OK) {
		f->rc = resp->rc;
		if (ss_buf_addf(f->err, "github oidc: %s: %s%s", f->what, resp->error,
				resp->attempts > 1 ? " (gave up after retries)" : "") != SS_OK)
			f->rc = SS_ERR_NOMEM;
		return;
	}
	if (resp->status != 200) {
		int auth = resp->status == 401 || resp->status == 403;

		f->rc = auth ? SS_ERR_AUTH : SS_ERR_HTTP;
		if (ss_buf_addf(f->err, "github oidc: %s: HTTP %ld%s%s", f->what, resp->status,
				auth ? " (the request token may have expired; the job needs "
				       "`permissions: id-token: write`)"
				     : "",
				!auth && (resp->status == 429 || resp->status >= 500)
					? " (the token service still failed after retries)"
					: "") != SS_OK)
			f->rc = SS_ERR_NOMEM;
		return;
	}
	if (ss_json_parse(resp->body.data, resp->body.len, &doc) != SS_OK || doc == NULL)
		why = "the answer is not valid JSON (malformed or cut short)";
	else if (!cJSON_IsObject(doc))
		why = "the answer is not a JSON object";
	else if ((v = cJSON_GetObjectItemCaseSensitive(doc, "value")) == NULL)
		why = "the answer has no \"value\" (the token)";
	else if (!cJSON_IsString(v) || v->valuestring == NULL)
		why = "the answer's \"value\" is not a string";
	else if (v->valuestring[0] == '\0')
		why = "the answer's \"value\" is empty";
	if (why != NULL) {
		f->rc = SS_ERR_PARSE;
		if (ss_buf_addf(f->err, "github oidc: %s: %s", f->what, why) != SS_OK)
			f->rc = SS_ERR_NOMEM;
		goto out;
	}
	/* Mask before the token goes anywhere else. */
	if (ss_mask_add(ss_mask_global(), v->valuestring) != SS_OK ||
	    (f->jwt = ss_strdup(v->valuestring)) == NULL) {
		f->rc = SS_ERR_NOMEM;
		goto out;
	}
	f->rc = SS_OK;
out:
	ss_json_delete_secret(doc);
}

enum ss_rc ss_oidc_fetch(struct ss_http *h, const char *audience, char **jwt,
			 struct ss_buf *err)
{
	const char *url = getenv("ACTIONS_ID_TOKEN_REQUEST_URL");
	const char *tok = getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN");
	struct fetch f = {SS_ERR_INTERNAL, NULL, err, NULL};
	struct ss_http_req *req = NULL;
	struct ss_buf u, auth, what;
	enum ss_rc rc;

	*jwt = NULL;
	ss_buf_init(&u, 0);
	ss_buf_init(&auth, 0);
	ss_buf_init(&what, 0);
	if (!ss_oidc_available() || url == NULL || tok == NULL) {
		rc = SS_ERR_AUTH;
		if (ss_buf_adds(err, "github oidc: ACTIONS_ID_TOKEN_REQUEST_URL and "
				     "ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set: give the job "
				     "`permissions: id-token: write` (and run it in GitHub Actions)") !=
		    SS_OK)
			rc = SS_ERR_NOMEM;
		goto out;
	}
	if (ss_mask_add(ss_mask_global(), tok) != SS_OK) {
		rc = SS_ERR_NOMEM;
		goto out;
	}
	rc = ss_buf_adds(&u, url);
	if (rc == SS_OK && audience != NULL && *audience != '\0') {
		rc = ss_buf_adds(&u, strchr(url, '?') ? "&audience=" : "?audience=");
		if (rc == SS_OK)
			rc = ss_http_urlencode(&u, audience, 0);
	}
	if (rc == SS_OK)
		rc = ss_buf_addf(&auth, "Bearer %s", tok);
	/* Named by its URL without the query (which holds nothing secret,
	 * but is long): "the Actions ID token request GET https://...". */
	if (rc == SS_OK)
		rc = ss_buf_addf(&what, "the Actions ID token request (GET %.*s, "
					"ACTIONS_ID_TOKEN_REQUEST_URL)",
				 (int)strcspn(url, "?"), url);
	if (rc != SS_OK)
		goto out;
	f.what = what.data;
	req = ss_http_req_new("GET", u.data);
	if (req == NULL) {
		rc = SS_ERR_NOMEM;
		goto out;
	}
	req->service = SS_TLS_GITHUB;
	req->label = "github oidc token";
	req->secret_response = 1;
	req->done = on_token;
	req->ctx = &f;
	rc = ss_http_req_header(req, "Authorization", auth.data);
	if (rc == SS_OK)
		rc = ss_http_req_header(req, "Accept", "application/json");
	if (rc != SS_OK) {
		ss_http_req_free(req);
		goto out;
	}
	rc = ss_http_submit(h, req);
	if (rc != SS_OK)
		goto out;
	rc = ss_http_run(h);
	if (rc == SS_OK)
		rc = f.rc;
	if (rc == SS_OK) {
		*jwt = f.jwt;
		f.jwt = NULL;
	}
out:
	ss_free_secret(f.jwt);
	ss_buf_free(&u);
	ss_buf_free(&auth);
	ss_buf_free(&what);
	return rc;
}

/* Decode base64url into out; SS_ERR_PARSE on a bad character. */
static enum ss_rc b64url_decode(const char *s, size_t len, struct ss_buf *out)
{
	unsigned acc = 0;
	int bits = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		char c = s[i];
		int v;

		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '-' || c == '+')
			v = 62;
		else if (c == '_' || c == '/')
			v = 63;
		else if (c == '=')
			break;
		else
			return SS_ERR_PARSE;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (ss_buf_addc(out, (char)((acc >> bits) & 0xff)) != SS_OK)
				return SS_ERR_NOMEM;
		}
	}
	return SS_OK;
}

enum ss_rc ss_oidc_describe_claims(const char *jwt, struct ss_buf *out)
{
	static const char *const names[] = {"sub", "aud", "repository", "ref", "environment"};
	const char *dot1, *dot2;
	struct ss_buf payload;
	cJSON *doc = NULL;
	enum ss_rc rc = SS_OK;
	size_t i;
	int first = 1;

	ss_buf_init(&payload, 65536);
	if (jwt == NULL || (dot1 = strchr(jwt, '.')) == NULL ||
	    (dot2 = strchr(dot1 + 1, '.')) == NULL)
		goto out;
	if (b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &payload) != SS_OK ||
	    ss_json_parse(payload.data, payload.len, &doc) != SS_OK)
		goto out;
	for (i = 0; i < sizeof(names) / sizeof(names[0]) && rc == SS_OK; i++) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(doc, names[i]);
		char *text = NULL;

		if (c == NULL || cJSON_IsNull(c))
			continue;
		if (cJSON_IsString(c))
			rc = ss_buf_addf(out, "%s%s=%s", first ? "" : ", ", names[i], c->valuestring);
		else if (ss_json_print(c, &text) == SS_OK)
			rc = ss_buf_addf(out, "%s%s=%s", first ? "" : ", ", names[i], text);
		free(text);
		first = 0;
	}
out:
	ss_json_delete_secret(doc);
	ss_buf_free(&payload);
	return rc;
}
