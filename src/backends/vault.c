#include "vault.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backends/oidc.h"
#include "core/json.h"
#include "core/log.h"
#include "core/mask.h"
#include "core/strset.h"
#include "core/banned.h"

/* LIST answers of big folders are large; reads are small. */
#define VAULT_MAX_LIST_RESPONSE ((size_t)10 * 1024 * 1024)
#define VAULT_MAX_READ_RESPONSE ((size_t)4 * 1024 * 1024)

struct mount_ver {
	char *mount;
	int version;
	struct mount_ver *next;
};

struct ss_vault {
	struct ss_http *h;
	const struct ss_vault_settings *s;
	char *base;       /* scheme://host[:port], no trailing slash */
	char *connect_to; /* for VAULT_TLS_SERVER_NAME */
	char *token;      /* a secret */
	int token_from_login;
	struct mount_ver *versions;
};

/* The answer of one synchronous call. */
struct call {
	enum ss_rc rc;
	enum ss_http_fail fail; /* why no answer arrived (rc != SS_OK) */
	long status;
	int attempts;
	cJSON *doc; /* parsed body, or NULL */
	const char *bad_json; /* why the body is not JSON (a static phrase), or NULL */
	char error[256];
};

static const char *nz(const char *s, const char *def)
{
	return s != NULL && *s != '\0' ? s : def;
}

/* Split "scheme://host:port/..." and build the base URL, rewriting the
 * host to the TLS server name when one is set (connect-to keeps the
 * connection going to the address given). */
static enum ss_rc parse_address(struct ss_vault *v, const char *addr, const char *sni,
				struct ss_buf *err)
{
	const char *scheme_end, *host, *host_end, *port, *end;
	struct ss_buf b;
	enum ss_rc rc = SS_OK;
	int https;

	ss_buf_init(&b, 4096);
	scheme_end = strstr(addr, "://");
	if (scheme_end == NULL) {
		rc = SS_ERR_INVALID;
		goto bad;
	}
	https = (size_t)(scheme_end - addr) == 5 && strncasecmp(addr, "https", 5) == 0;
	if (!https && !((size_t)(scheme_end - addr) == 4 && strncasecmp(addr, "http", 4) == 0)) {
		rc = SS_ERR_INVALID;
		goto bad;
	}
	host = scheme_end + 3;
	end = host + strcspn(host, "/?#");
	if (*host == '[') {
		host_end = memchr(host, ']', (size_t)(end - host));
		if (host_end == NULL) {
			rc = SS_ERR_INVALID;
			goto bad;
		}
		host_end++;
	} else {
		host_end = memchr(host, ':', (size_t)(end - host));
		if (host_end == NULL)
			host_end = end;
	}
	if (host_end == host) {
		rc = SS_ERR_INVALID;
		goto bad;
	}
	port = host_end < end && *host_end == ':' ? host_end + 1 : NULL;
	if (sni != NULL && *sni != '\0') {
		const char *p = port ? port : (https ? "443" : "80");
		size_t plen = port ? (size_t)(end - port) : strlen(p);

		rc = ss_buf_addf(&b, "%s:%.*s:%.*s:%.*s", sni, (int)plen, p,
				 (int)(host_end - host), host, (int)plen, p);
		if (rc == SS_OK && (v->connect_to = ss_strdup(b.data)) == NULL)
			rc = SS_ERR_NOMEM;
		ss_buf_reset(&b);
		if (rc == SS_OK)
			rc = ss_buf_addf(&b, "%.*s://%s%s%.*s", (int)(scheme_end - addr), addr, sni,
					 port ? ":" : "", port ? (int)(end - port) : 0,
					 port ? port : "");
	} else {
		rc = ss_buf_addf(&b, "%.*s", (int)(end - addr), addr);
	}
	if (rc == SS_OK && (v->base = ss_strdup(b.data)) == NULL)
		rc = SS_ERR_NOMEM;
	ss_buf_free(&b);
	return rc;
bad:
	ss_buf_free(&b);
	if (ss_buf_addf(err,
			"vault: address '%s' is not a URL like https://vault.example.com:8200 "
			"(set vault.address or VAULT_ADDR)",
			addr) != SS_OK)
		return SS_ERR_NOMEM;
	return rc;
}

struct ss_vault *ss_vault_new(struct ss_http *h, const struct ss_vault_settings *s,
			      struct ss_buf *err)
{
	struct ss_vault *v;
	struct ss_buf why;

	if (s->address == NULL || *s->address == '\0') {
		if (ss_buf_adds(err, "vault: no address: set vault.address in the config or "
				     "VAULT_ADDR\n") != SS_OK)
			return NULL;
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return NULL;
	v->h = h;
	v->s = s;
	if (parse_address(v, s->address, s->tls_server_name, err) != SS_OK) {
		ss_vault_free(v);
		return NULL;
	}
	/* Say before any request which setting is wrong: the transport's
	 * own check would only name the request. */
	ss_buf_init(&why, 0);
	if (ss_tls_check_url(v->base, "VAULT_ADDR", s->tls_server_name, &why) != SS_OK) {
		ss_vault_free(v);
		v = NULL;
		if (ss_buf_addf(err, "vault: %s\n", why.data) != SS_OK)
			v = NULL; /* out of memory: no message */
	}
	ss_buf_free(&why);
	return v;
}

void ss_vault_free(struct ss_vault *v)
{
	struct mount_ver *m, *n;

	if (v == NULL)
		return;
	for (m = v->versions; m != NULL; m = n) {
		n = m->next;
		free(m->mount);
		free(m);
	}
	free(v->base);
	free(v->connect_to);
	ss_free_secret(v->token);
	free(v);
}

/* A request for "/v1/" + path (path already URL-encoded). */
static struct ss_http_req *vreq(struct ss_vault *v, const char *method, const char *path,
				const char *label)
{
	struct ss_http_req *req;
	struct ss_buf url;
	enum ss_rc rc;

	ss_buf_init(&url, 0);
	if (ss_buf_addf(&url, "%s/v1/%s", v->base, path) != SS_OK) {
		ss_buf_free(&url);
		return NULL;
	}
	req = ss_http_req_new(method, url.data);
	ss_buf_free(&url);
	if (req == NULL)
		return NULL;
	req->service = SS_TLS_VAULT;
	req->label = label;
	rc = ss_http_req_header(req, "Accept", "application/json");
	if (rc == SS_OK && v->token != NULL)
		rc = ss_http_req_header(req, "X-Vault-Token", v->token);
	if (rc == SS_OK && v->s->namespace != NULL && *v->s->namespace != '\0')
		rc = ss_http_req_header(req, "X-Vault-Namespace", v->s->namespace);
	if (rc == SS_OK && v->connect_to != NULL &&
	    (req->connect_to = ss_strdup(v->connect_to)) == NULL)
		rc = SS_ERR_NOMEM;
	if (rc != SS_OK) {
		ss_http_req_free(req);
		return NULL;
	}
	return req;
}

/* Vault answers 412 while a standby catches up: retry it too. */
static enum ss_http_verdict vault_classify(const struct ss_http_resp *resp, void *ctx)
{
	(void)ctx;
	return resp->status == 412 ? SS_HTTP_RETRY : SS_HTTP_DEFAULT;
}

static void on_call(struct ss_http_resp *resp, void *ctx)
{
	struct call *c = ctx;

	c->rc = resp->rc;
	c->fail = resp->fail;
	c->status = resp->status;
	c->attempts = resp->attempts;
	snprintf(c->error, sizeof(c->error), "%s", resp->error);
	if (resp->rc == SS_OK && resp->body.len > 0 &&
	    ss_json_parse(resp->body.data, resp->body.len, &c->doc) != SS_OK) {
		c->doc = NULL;
		c->bad_json = ss_json_parse_reason(resp->body.data, resp->body.len);
	}
}

/* Queue one request whose answer lands in c; body (may be NULL) is the
 * JSON to send. */
static enum ss_rc submit_call(struct ss_vault *v, const char *method, const char *path,
			      const char *label, const char *body, int secret_body,
			      struct call *c)
{
	struct ss_http_req *req;
	enum ss_rc rc;

	memset(c, 0, sizeof(*c));
	c->rc = SS_ERR_INTERNAL;
	req = vreq(v, method, path, label);
	if (req == NULL)
		return SS_ERR_NOMEM;
	req->classify = vault_classify;
	req->secret_body = secret_body;
	req->secret_response = 1;
	req->idempotent = 1;
	req->max_response = VAULT_MAX_READ_RESPONSE;
	req->done = on_call;
	req->ctx = c;
	if (body != NULL) {
		rc = ss_http_req_body(req, body, strlen(body));
		if (rc == SS_OK)
			rc = ss_http_req_header(req, "Content-Type", "application/json");
		if (rc != SS_OK) {
			ss_http_req_free(req);
			return rc;
		}
	}
	return ss_http_submit(v->h, req);
}

/* Run one request to completion (see submit_call). */
static enum ss_rc vcall(struct ss_vault *v, const char *method, const char *path,
			const char *label, const char *body, int secret_body, struct call *c)
{
	enum ss_rc rc = submit_call(v, method, path, label, body, secret_body, c);

	if (rc != SS_OK)
		return rc;
	rc = ss_http_run(v->h);
	return rc != SS_OK ? rc : c->rc;
}

static void call_free(struct call *c)
{
	ss_json_delete_secret(c->doc);
	c->doc = NULL;
}

/* Vault's own words from {"errors": [...]}, for messages. */
static void vault_says(const cJSON *doc, char *out, size_t size)
{
	const cJSON *errs = ss_json_get_array(doc, "errors");
	const cJSON *first = errs ? cJSON_GetArrayItem(errs, 0) : NULL;
	size_t i, j = 0;

	out[0] = '\0';
	if (first == NULL || !cJSON_IsString(first) || first->valuestring == NULL)
		return;
	/* One line: Vault's multi-error text has tabs and newlines. */
	for (i = 0; first->valuestring[i] != '\0' && j + 1 < size; i++) {
		char ch = first->valuestring[i];

		if (ch == '\n' || ch == '\t' || ch == '\r') {
			if (j > 0 && out[j - 1] != ' ')
				out[j++] = ' ';
			continue;
		}
		if (ch == '*' && (j == 0 || out[j - 1] == ' '))
			continue;
		out[j++] = ch;
	}
	while (j > 0 && out[j - 1] == ' ')
		j--;
	out[j] = '\0';
	if (strcmp(out, "1 error occurred: permission denied") == 0 ||
	    strcmp(out, "1 error occurred:  permission denied") == 0)
		snprintf(out, size, "permission denied");
	/* The server's words may echo what it was sent: messages built from
	 * them go into reports and outputs too, not only through the logger. */
	if (ss_mask_contains(ss_mask_global(), out, strlen(out))) {
		char *red = ss_mask_redact_str(ss_mask_global(), out);

		snprintf(out, size, "%s", red != NULL ? red : "(message withheld)");
		ss_free_secret(red);
	}
}

/* Append "vault: WHAT: STATUS reason (hint)" for a failed call. */
static enum ss_rc call_error(struct ss_buf *err, const char *what, const struct call *c,
			     const char *capability, const char *policy_path)
{
	char says[200];

	if (c->rc != SS_OK)
		return ss_buf_addf(err, "vault: %s: %s%s\n", what, c->error,
				   c->fail == SS_HTTP_FAIL_CONNECT || c->fail == SS_HTTP_FAIL_TIMEOUT
					   ? "; check vault.address / VAULT_ADDR and that Vault is "
					     "reachable"
					   : "");
	vault_says(c->doc, says, sizeof(says));
	if (c->status == 403 && capability != NULL)
		return ss_buf_addf(err, "vault: %s: 403 %s (policy needs \"%s\" on %s)\n", what,
				   nz(says, "permission denied"), capability, policy_path);
	if (c->status == 403)
		return ss_buf_addf(err, "vault: %s: 403 %s\n", what, nz(says, "permission denied"));
	if (c->status == 404)
		return ss_buf_addf(err, "vault: %s: 404 not found%s%s\n", what, says[0] ? ": " : "",
				   says);
	return ss_buf_addf(err, "vault: %s: HTTP %ld%s%s\n", what, c->status, says[0] ? " " : "",
			   says);
}

/* Nonzero when a 404 answer says the mount itself does not exist. */
static int says_no_mount(const struct call *c)
{
	char says[200];

	if (c->rc != SS_OK || c->status != 404)
		return 0;
	vault_says(c->doc, says, sizeof(says));
	return strstr(says, "no handler for route") != NULL;
}

/* Nonzero when Vault warns that a KV v1 path was used on a KV v2 mount
 * (a 404 with "Invalid path for a versioned K/V secrets engine"). */
static int says_versioned(const struct call *c)
{
	const cJSON *w;

	if (c->rc != SS_OK || c->status != 404)
		return 0;
	cJSON_ArrayForEach(w, ss_json_get_array(c->doc, "warnings"))
	{
		if (cJSON_IsString(w) &&
		    strstr(w->valuestring, "Invalid path for a versioned K/V") != NULL)
			return 1;
	}
	return 0;
}

static enum ss_rc no_mount_error(struct ss_buf *err, const char *mount)
{
	return ss_buf_addf(err,
			   "vault: mount '%s' does not exist (Vault: no handler for route "
			   "\"%s/\"); check the mount name\n",
			   mount, mount);
}

static enum ss_rc wrong_version_error(struct ss_buf *err, const char *mount, int actual,
				      int configured)
{
	return ss_buf_addf(err,
			   "vault: mount '%s' is KV v%d, but kv_version %d is configured: set "
			   "kv_version: %d in the source, or leave it out to detect it\n",
			   mount, actual, configured, actual);
}

#define VAULT_DEAD_TOKEN                                                                   \
	"vault: the token is invalid, expired or revoked (auth/token/lookup-self: 403); "  \
	"give a valid VAULT_TOKEN or check the login\n"

/* After a 403: nonzero when the token itself is dead (lookup-self is
 * refused too), not just short of a policy. Runs the loop. */
static int token_dead(struct ss_vault *v)
{
	struct call c;
	int dead;

	if (v->token == NULL)
		return 0;
	dead = vcall(v, "GET", "auth/token/lookup-self", "vault token lookup", NULL, 0, &c) ==
		       SS_OK &&
	       c.status == 403;
	call_free(&c);
	return dead;
}

/* After a 403 that added messages to err since mark: when the token is
 * dead, say that instead. Returns the rc to report. */
static enum ss_rc explain_403(struct ss_vault *v, struct ss_buf *err, size_t mark,
			      enum ss_rc rc)
{
	if (!token_dead(v))
		return rc;
	ss_buf_truncate(err, mark);
	return ss_buf_adds(err, VAULT_DEAD_TOKEN) == SS_OK ? SS_ERR_AUTH : SS_ERR_NOMEM;
}

static enum ss_rc take_login_token(struct ss_vault *v, const struct call *c)
{
	const char *tok = ss_json_get_string(ss_json_get_object(c->doc, "auth"), "client_token");

	if (tok == NULL || *tok == '\0')
		return SS_ERR_PARSE;
	if (ss_mask_add(ss_mask_global(), tok) != SS_OK)
		return SS_ERR_NOMEM;
	ss_free_secret(v->token);
	v->token = ss_strdup(tok);
	if (v->token == NULL)
		return SS_ERR_NOMEM;
	v->token_from_login = 1;
	return SS_OK;
}

static enum ss_rc login_approle(struct ss_vault *v, struct ss_buf *err)
{
	const char *mount = nz(v->s->approle_mount, "approle");
	struct ss_buf path, what;
	cJSON *body = NULL;
	char *text = NULL;
	struct call c;
	enum ss_rc rc;

	memset(&c, 0, sizeof(c));
	ss_buf_init(&path, 0);
	ss_buf_init(&what, 0);
	if (v->s->role_id == NULL || v->s->secret_id == NULL) {
		rc = SS_ERR_INVALID;
		if (ss_buf_adds(err, "vault: AppRole auth needs role_id and secret_id\n") != SS_OK)
			rc = SS_ERR_NOMEM;
		goto out;
	}
	if (ss_mask_add(ss_mask_global(), v->s->role_id) != SS_OK ||
	    ss_mask_add(ss_mask_global(), v->s->secret_id) != SS_OK) {
		rc = SS_ERR_NOMEM;
		goto out;
	}
	body = cJSON_CreateObject();
	if (body == NULL || cJSON_AddStringToObject(body, "role_id", v->s->role_id) == NULL ||
	    cJSON_AddStringToObject(body, "secret_id", v->s->secret_id) == NULL) {
		rc = SS_ERR_NOMEM;
		goto out;
	}
	rc = ss_json_print(body, &text);
	if (rc == SS_OK)
		rc = ss_buf_adds(&path, "auth/");
	if (rc == SS_OK)
		rc = ss_http_urlencode(&path, mount, 1);
	if (rc == SS_OK)
		rc = ss_buf_adds(&path, "/login");
	if (rc == SS_OK)
		rc = ss_buf_addf(&what, "AppRole login at %s", path.data);
	if (rc != SS_OK)
		goto out;
	rc = vcall(v, "POST", path.data, "vault approle login", text, 1, &c);
	if (rc == SS_OK && c.status == 200) {
		rc = take_login_token(v, &c);
		if (rc == SS_ERR_PARSE &&
		    ss_buf_addf(err, "vault: %s: %s\n", what.data,
				c.doc == NULL ? "the answer is not JSON (malformed or cut short)"
					      : "the answer has no auth.client_token") != SS_OK)
			rc = SS_ERR_NOMEM;
		goto out;
	}
	if (rc == SS_OK)
		rc = c.status == 400 || c.status == 403 ? SS_ERR_AUTH : SS_ERR_HTTP;
	if (call_error(err, what.data, &c, NULL, NULL) != SS_OK)
		rc = SS_ERR_NOMEM;
	else if (c.status == 400 &&
		 ss_buf_addf(err, "  (check role_id and secret_id, and that the AppRole "
				  "is enabled at auth/%s)\n",
			     mount) != SS_OK)
		rc = SS_ERR_NOMEM;
out:
	call_free(&c);
	ss_json_delete_secret(body);
	ss_free_secret(text);
	ss_buf_free(&path);
	ss_buf_free(&what);
	return rc;
}

static enum ss_rc login_jwt(struct ss_vault *v, struct ss_buf *err)
{
	const char *mount = nz(v->s->jwt_mount, "jwt");
	struct ss_buf path, what, claims;
	cJSON *body = NULL;
	char *jwt = NULL, *text = NULL;
	struct call c;
	enum ss_rc rc;

	memset(&c, 0, sizeof(c));
	ss_buf_init(&path, 0);
	ss_buf_init(&what, 0);
	ss_buf_init(&claims, 0);
	rc = ss_oidc_fetch(v->h, v->s->jwt_audience, &jwt, err);
	if (rc != SS_OK) {
		if (ss_buf_adds(err, " (needed for Vault JWT auth)\n") != SS_OK)
			rc = SS_ERR_NOMEM;
		goto out;
	}
	body = cJSON_CreateObject();
	if (body == NULL || cJSON_AddStringToObject(body, "jwt", jwt) == NULL ||
	    (v->s->jwt_role != NULL &&
	     cJSON_AddStringToObject(body, "role", v->s->jwt_role) == NULL)) {
		rc = SS_ERR_NOMEM;
		goto out;
	}
	rc = ss_json_print(body, &text);
	if (rc == SS_OK)
		rc = ss_buf_adds(&path, "auth/");
	if (rc == SS_OK)
		rc = ss_http_urlencode(&path, mount, 1);
	if (rc == SS_OK)
		rc = ss_buf_adds(&path, "/login");
	if (rc == SS_OK)
		rc = ss_buf_addf(&what, "JWT login at %s as role '%s'", path.data,
				 nz(v->s->jwt_role, "(default)"));
	if (rc != SS_OK)
		goto out;
	rc = vcall(v, "POST", path.data, "vault jwt login", text, 1, &c);
	if (rc == SS_OK && c.status == 200) {
		rc = take_login_token(v, &c);
		if (rc == SS_ERR_PARSE &&
		    ss_buf_addf(err, "vault: %s: %s\n", what.data,
				c.doc == NULL ? "the answer is not JSON (malformed or cut short)"
					      : "the answer has no auth.client_token") != SS_OK)
			rc = SS_ERR_NOMEM;
		goto out;
	}
	if (rc == SS_OK)
		rc = c.status == 400 || c.status == 403 ? SS_ERR_AUTH : SS_ERR_HTTP;
	if (call_error(err, what.data, &c, NULL, NULL) != SS_OK ||
	    ss_oidc_describe_claims(jwt, &claims) != SS_OK) {
		rc = SS_ERR_NOMEM;
		goto out;
	}
	if (c.rc == SS_OK && claims.len > 0 &&
	    ss_buf_addf(err, "  (the role's bound_audiences/bound_claims must match the token: %s)\n",
			claims.data) != SS_OK)
		rc = SS_ERR_NOMEM;
out:
	call_free(&c);
	ss_json_delete_secret(body);
	ss_free_secret(text);
	ss_free_secret(jwt);
	ss_buf_free(&path);
	ss_buf_free(&what);
	ss_buf_free(&claims);
	return rc;
}

enum ss_rc ss_vault_login(struct ss_vault *v, struct ss_buf *err)
{
	switch (v->s->auth) {
	case SS_VAULT_AUTH_TOKEN:
		if (v->s->token == NULL || *v->s->token == '\0')
			break;
		if (ss_mask_add(ss_mask_global(), v->s->token) != SS_OK)
			return SS_ERR_NOMEM;
		ss_free_secret(v->token);
		v->token = ss_strdup(v->s->token);
		return v->token ? SS_OK : SS_ERR_NOMEM;
	case SS_VAULT_AUTH_APPROLE:
		return login_approle(v, err);
	case SS_VAULT_AUTH_JWT:
		return login_jwt(v, err);
	case SS_VAULT_AUTH_NONE:
		break;
	}
	if (ss_buf_adds(err, "vault: no credentials: configure vault.auth (token, approle or jwt) "
			     "or set VAULT_TOKEN\n") != SS_OK)
		return SS_ERR_NOMEM;
	return SS_ERR_AUTH;
}

/* Nonzero when a 403 answer says the token itself is invalid (expired,
 * revoked), not merely short of a policy. */
static int says_invalid_token(const struct call *c)
{
	char says[200];

	vault_says(c->doc, says, sizeof(says));
	return strstr(says, "invalid token") != NULL;
}

void ss_vault_logout(struct ss_vault *v)
{
	struct call c;
	enum ss_rc rc;

	if (v == NULL || !v->token_from_login || v->token == NULL)
		return;
	/* After a signal the revocation must still go out. */
	ss_http_clear_interrupt();
	rc = vcall(v, "POST", "auth/token/revoke-self", "vault token revoke", NULL, 0, &c);
	/* A 403 on a repeated attempt, or one saying "invalid token": an
	 * earlier attempt revoked it (its answer was lost; the transport
	 * may have re-sent the request on a new connection by itself). */
	if (rc == SS_OK && (c.status == 204 || c.status == 200 ||
			    (c.status == 403 && (c.attempts > 1 || says_invalid_token(&c)))))
		ss_debug("vault: login token revoked");
	else if (rc == SS_OK)
		ss_warn("vault: could not revoke the login token (auth/token/revoke-self: HTTP "
			"%ld); it expires with its TTL",
			c.status);
	else
		ss_warn("vault: could not revoke the login token (auth/token/revoke-self: %s); it "
			"expires with its TTL",
			c.error[0] ? c.error : ss_strerror(rc));
	call_free(&c);
	v->token_from_login = 0;
	ss_free_secret(v->token);
	v->token = NULL;
}

enum ss_rc ss_vault_lookup_self(struct ss_vault *v, struct ss_buf *err)
{
	struct call c;
	enum ss_rc rc;

	rc = vcall(v, "GET", "auth/token/lookup-self", "vault token lookup", NULL, 0, &c);
	if (rc == SS_OK && c.status == 200) {
		call_free(&c);
		return SS_OK;
	}
	if (rc == SS_OK)
		rc = SS_ERR_AUTH;
	if (c.rc == SS_OK && c.status == 403) {
		if (ss_buf_adds(err, VAULT_DEAD_TOKEN) != SS_OK)
			rc = SS_ERR_NOMEM;
	} else if (call_error(err, "GET auth/token/lookup-self", &c, NULL, NULL) != SS_OK) {
		rc = SS_ERR_NOMEM;
	}
	call_free(&c);
	return rc;
}

static int cached_version(struct ss_vault *v, const char *mount)
{
	struct mount_ver *m;

	for (m = v->versions; m != NULL; m = m->next)
		if (strcmp(m->mount, mount) == 0)
			return m->version;
	return 0;
}

static enum ss_rc cache_version(struct ss_vault *v, const char *mount, int version)
{
	struct mount_ver *m;

	if (cached_version(v, mount) != 0)
		return SS_OK;
	m = calloc(1, sizeof(*m));
	if (m == NULL || (m->mount = ss_strdup(mount)) == NULL) {
		free(m);
		return SS_ERR_NOMEM;
	}
	m->version = version;
	m->next = v->versions;
	v->versions = m;
	return SS_OK;
}

/* Interpret a sys/internal/ui/mounts answer. */
static enum ss_rc version_from_answer(const struct call *c, const char *mount, int *version,
				      struct ss_buf *err)
{
	const cJSON *data = ss_json_get_object(c->doc, "data");
	const char *type = ss_json_get_string(data, "type");
	const char *ver = ss_json_get_string(ss_json_get_object(data, "options"), "version");

	if (c->rc == SS_OK && c->status == 200 && type != NULL) {
		const cJSON *vi = cJSON_GetObjectItemCaseSensitive(
		    ss_json_get_object(data, "options"), "version");

		if (strcmp(type, "kv") != 0 && strcmp(type, "generic") != 0) {
			if (ss_buf_addf(err, "vault: mount '%s' is a '%s' secrets engine, not KV\n",
					mount, type) != SS_OK)
				return SS_ERR_NOMEM;
			return SS_ERR_INVALID;
		}
		/* Vault sends the version as a string, "1" or "2" (none: v1). */
		if ((vi != NULL && !cJSON_IsNull(vi) && ver == NULL) ||
		    (ver != NULL && strcmp(ver, "1") != 0 && strcmp(ver, "2") != 0)) {
			if (ss_buf_addf(err,
					"vault: GET sys/internal/ui/mounts/%s: the answer has an "
					"unexpected options.version (not \"1\" or \"2\"); set "
					"kv_version in the source\n",
					mount) != SS_OK)
				return SS_ERR_NOMEM;
			return SS_ERR_PARSE;
		}
		*version = ver != NULL && strcmp(ver, "2") == 0 ? 2 : 1;
		return SS_OK;
	}
	if (c->rc == SS_OK && c->status == 200) {
		if (ss_buf_addf(err, "vault: GET sys/internal/ui/mounts/%s: %s\n", mount,
				c->doc == NULL ? "the answer is not JSON (malformed or cut short)"
				: data == NULL ? "the answer has no data object"
					       : "the answer has no data.type string") != SS_OK)
			return SS_ERR_NOMEM;
		return SS_ERR_PARSE;
	}
	if (c->rc == SS_OK && (c->status == 403 || c->status == 404 || c->status == 400)) {
		if (ss_buf_addf(err,
				"vault: mount '%s' not found, or the token cannot see it "
				"(sys/internal/ui/mounts/%s: %ld); check the mount name and the "
				"policy, or set kv_version in the source\n",
				mount, mount, c->status) != SS_OK)
			return SS_ERR_NOMEM;
		return c->status == 403 ? SS_ERR_AUTH : SS_ERR_NOTFOUND;
	}
	{
		char what[256];

		snprintf(what, sizeof(what), "GET sys/internal/ui/mounts/%s", mount);
		if (call_error(err, what, c, NULL, NULL) != SS_OK)
			return SS_ERR_NOMEM;
	}
	return c->rc != SS_OK ? c->rc : SS_ERR_PARSE;
}

static enum ss_rc mounts_path(struct ss_buf *path, const char *mount)
{
	enum ss_rc rc = ss_buf_adds(path, "sys/internal/ui/mounts/");

	return rc == SS_OK ? ss_http_urlencode(path, mount, 1) : rc;
}

enum ss_rc ss_vault_kv_version(struct ss_vault *v, const char *mount, int *version,
			       struct ss_buf *err)
{
	struct ss_buf path;
	struct call c;
	size_t mark = err->len;
	enum ss_rc rc;

	*version = cached_version(v, mount);
	if (*version != 0)
		return SS_OK;
	memset(&c, 0, sizeof(c));
	c.rc = SS_ERR_INTERNAL;
	ss_buf_init(&path, 0);
	rc = mounts_path(&path, mount);
	if (rc == SS_OK)
		rc = vcall(v, "GET", path.data, "vault mount info", NULL, 0, &c);
	/* An answer or a transport failure arrived: describe it. */
	if (rc == SS_OK || c.rc != SS_ERR_INTERNAL)
		rc = version_from_answer(&c, mount, version, err);
	if (rc == SS_ERR_AUTH)
		rc = explain_403(v, err, mark, rc);
	if (rc == SS_OK)
		rc = cache_version(v, mount, *version);
	call_free(&c);
	ss_buf_free(&path);
	return rc;
}

/* --- the recursive tree read --- */

enum item_kind {
	ITEM_VERSION,
	ITEM_LIST,
	ITEM_READ,     /* a secret found by a LIST */
	ITEM_START,    /* a start path without '/': read, else list it */
	ITEM_CHECK     /* a start path was empty: is kv_version right? */
};

struct ss_vault_tree {
	struct ss_vault *v;
	char *mount;
	int version;
	char **starts;
	size_t nstarts;
	cJSON *result;
	struct ss_strset folders;
	struct ss_strset secrets;
	long lists, reads;
	struct item *pending, *pending_tail; /* FIFO: breadth-first */
	int in_transport;
	int version_given; /* kv_version came from the caller, not detected */
	int checking;      /* an ITEM_CHECK after a 403 is under way */
	int outstanding;
	enum ss_rc rc;
	int saw_403;
	long skipped; /* unsafe keys left out: the tree may be partial */
	struct ss_buf err;
};

struct item {
	struct ss_vault_tree *op;
	enum item_kind kind;
	char *path;  /* relative to the mount; folders end in '/' */
	long depth;
	struct item *next; /* waiting to be sent */
};

/* At most this many requests of one walk are handed to the transport at
 * once (the transport runs up to --parallel, at most 256, of them); the
 * rest wait as an item each. A folder of 10,000 secrets then costs
 * 10,000 small items, not 10,000 queued requests of 2 KiB each. */
#define VAULT_TREE_WINDOW 256

static void on_item(struct ss_http_resp *resp, void *ctx);

static void op_fail(struct ss_vault_tree *op, enum ss_rc rc)
{
	if (op->rc == SS_OK)
		op->rc = rc;
}

/* The API path of a folder listing or a secret read. */
static enum ss_rc api_path(int version, const char *mount, enum item_kind kind, const char *path,
			   struct ss_buf *out)
{
	enum ss_rc rc = ss_http_urlencode(out, mount, 1);

	if (kind == ITEM_START)
		kind = ITEM_READ;
	if (rc == SS_OK && version == 2)
		rc = ss_buf_adds(out, kind == ITEM_LIST ? "/metadata/" : "/data/");
	else if (rc == SS_OK)
		rc = ss_buf_addc(out, '/');
	if (rc == SS_OK)
		rc = ss_http_urlencode(out, path, 1);
	return rc;
}

/* Hand item it to the transport; on failure it is freed. */
static enum ss_rc send_item(struct ss_vault_tree *op, struct item *it)
{
	struct ss_http_req *req = NULL;
	struct ss_buf p;
	enum ss_rc rc;

	ss_buf_init(&p, 0);
	if (it->kind == ITEM_VERSION || it->kind == ITEM_CHECK)
		rc = mounts_path(&p, op->mount);
	else
		rc = api_path(op->version, op->mount, it->kind, it->path, &p);
	if (rc == SS_OK && it->kind == ITEM_LIST)
		rc = ss_buf_adds(&p, "?list=true");
	if (rc == SS_OK) {
		req = vreq(op->v, "GET", p.data,
			   it->kind == ITEM_LIST ? "vault LIST"
			   : it->kind == ITEM_VERSION || it->kind == ITEM_CHECK ? "vault mount info"
										: "vault read");
		if (req == NULL)
			rc = SS_ERR_NOMEM;
	}
	ss_buf_free(&p);
	if (rc != SS_OK) {
		free(it->path);
		free(it);
		return rc;
	}
	req->classify = vault_classify;
	req->secret_response = 1;
	req->max_response =
		it->kind == ITEM_LIST ? VAULT_MAX_LIST_RESPONSE : VAULT_MAX_READ_RESPONSE;
	req->done = on_item;
	req->ctx = it;
	if (it->kind == ITEM_LIST)
		op->lists++;
	else if (it->kind == ITEM_READ || it->kind == ITEM_START)
		op->reads++;
	op->in_transport++;
	rc = ss_http_submit(op->v->h, req); /* frees req on failure */
	if (rc != SS_OK) {
		op->in_transport--;
		free(it->path);
		free(it);
	}
	return rc;
}

/* Send waiting items while the window has room. After a failure the
 * waiting items are dropped, except a version check (which explains
 * the failure). */
static void drain(struct ss_vault_tree *op)
{
	struct item *it;

	while ((it = op->pending) != NULL) {
		int drop = op->rc != SS_OK && it->kind != ITEM_CHECK;

		if (!drop && op->in_transport >= VAULT_TREE_WINDOW)
			break;
		op->pending = it->next;
		if (op->pending == NULL)
			op->pending_tail = NULL;
		if (drop) {
			op->outstanding--;
			free(it->path);
			free(it);
			continue;
		}
		if (send_item(op, it) != SS_OK) {
			op->outstanding--;
			op_fail(op, SS_ERR_NOMEM);
		}
	}
}

/* Queue a LIST, a read or a mount-info request of the walk. */
static enum ss_rc submit_item(struct ss_vault_tree *op, enum item_kind kind, const char *path,
			      long depth)
{
	struct item *it = calloc(1, sizeof(*it));

	if (it == NULL)
		return SS_ERR_NOMEM;
	it->op = op;
	it->kind = kind;
	it->depth = depth;
	it->path = ss_strdup(path);
	if (it->path == NULL) {
		free(it);
		return SS_ERR_NOMEM;
	}
	op->outstanding++;
	if (op->pending_tail != NULL)
		op->pending_tail->next = it;
	else
		op->pending = it;
	op->pending_tail = it;
	drain(op);
	return SS_OK;
}

/* Describe a failed list or read; returns the rc the failure maps to. */
static enum ss_rc read_error(struct ss_buf *err, int version, const char *mount,
			     enum item_kind kind, const char *path, const struct call *c)
{
	struct ss_buf what, pol;
	const char *cap = kind == ITEM_LIST ? "list" : "read";
	enum ss_rc rc;

	ss_buf_init(&what, 0);
	ss_buf_init(&pol, 0);
	rc = ss_buf_addf(&what, "%s ", kind == ITEM_LIST ? "LIST" : "GET");
	if (rc == SS_OK)
		rc = api_path(version, mount, kind, path, &what);
	if (rc == SS_OK)
		rc = api_path(version, mount, kind, path, &pol);
	if (rc == SS_OK && kind == ITEM_LIST)
		rc = ss_buf_addc(&pol, '*');
	if (rc == SS_OK)
		rc = call_error(err, what.data, c, cap, pol.data);
	ss_buf_free(&what);
	ss_buf_free(&pol);
	if (rc != SS_OK)
		return rc;
	if (c->rc != SS_OK)
		return c->rc;
	return c->status == 403 ? SS_ERR_AUTH : c->status == 404 ? SS_ERR_NOTFOUND : SS_ERR_HTTP;
}

static void item_error(struct ss_vault_tree *op, const struct item *it, const struct call *c)
{
	if (c->rc == SS_OK && c->status == 403)
		op->saw_403 = 1;
	op_fail(op, read_error(&op->err, op->version, op->mount, it->kind, it->path, c));
	/* A policy written for the other KV version's paths refuses the
	 * start path before Vault routes it: check the version given. */
	if (c->rc == SS_OK && c->status == 403 && it->depth == 0 && op->version_given &&
	    !op->checking && (it->kind == ITEM_LIST || it->kind == ITEM_START)) {
		op->checking = 1;
		if (submit_item(op, ITEM_CHECK, "", 0) != SS_OK)
			op->checking = 0; /* no check: the 403 stands */
	}
}

static enum ss_rc count_error(struct ss_vault_tree *op)
{
	return ss_buf_addf(&op->err,
			   "vault: mount '%s' has more than max_secrets_per_mount (%ld) secrets "
			   "under the configured paths; raise the cap or narrow the paths\n",
			   op->mount, op->v->s->max_secrets);
}

/* Nonzero (and the op failed) when the new secrets of a LIST answer
 * would pass the count cap: checked before any of them is read, so a
 * huge folder costs one request, not max_secrets reads. */
static int over_count(struct ss_vault_tree *op, const struct item *it, const cJSON *keys)
{
	const cJSON *k;
	struct ss_buf child;
	size_t fresh = 0;
	enum ss_rc rc = SS_OK;

	ss_buf_init(&child, 0);
	cJSON_ArrayForEach(k, keys)
	{
		const char *key = cJSON_IsString(k) ? k->valuestring : NULL;
		size_t klen = key ? strlen(key) : 0;

		if (key == NULL || !ss_vault_key_ok(key, klen) || key[klen - 1] == '/')
			continue;
		ss_buf_reset(&child);
		rc = ss_buf_addf(&child, "%s%s", it->path, key);
		if (rc != SS_OK)
			break;
		if (!ss_strset_has(&op->secrets, child.data))
			fresh++;
	}
	ss_buf_free(&child);
	if (rc == SS_OK && (long)(op->secrets.count + fresh) <= op->v->s->max_secrets)
		return 0;
	op_fail(op, rc != SS_OK ? rc : SS_ERR_TOOBIG);
	if (rc == SS_OK && count_error(op) != SS_OK)
		op_fail(op, SS_ERR_NOMEM);
	return 1;
}

static void handle_list(struct ss_vault_tree *op, struct item *it, const struct call *c)
{
	const cJSON *keys = ss_json_get_array(ss_json_get_object(c->doc, "data"), "keys");
	const cJSON *k;
	struct ss_buf child;
	int added;
	enum ss_rc rc = SS_OK;

	ss_buf_init(&child, 0);
	if (keys == NULL || cJSON_GetArraySize(keys) == 0) {
		const cJSON *data = ss_json_get_object(c->doc, "data");
		const char *why = "the answer has no data.keys list";

		if (c->doc == NULL)
			why = "the answer is not JSON (malformed or cut short)";
		else if (data != NULL && cJSON_GetObjectItemCaseSensitive(data, "keys") != NULL &&
			 keys == NULL)
			why = "the answer's data.keys is not a list";
		else if (keys != NULL)
			/* Vault answers 404 for an empty folder: an empty
			 * list is a broken answer, and taken as "nothing
			 * here" it would let delete_orphans delete. */
			why = "the answer's data.keys is an empty list (Vault answers an empty "
			      "folder with 404)";
		op_fail(op, SS_ERR_PARSE);
		if (ss_buf_addf(&op->err, "vault: LIST %s/%s: %s\n", op->mount, it->path, why) !=
		    SS_OK)
			op_fail(op, SS_ERR_NOMEM);
		return;
	}
	if (over_count(op, it, keys))
		return;
	cJSON_ArrayForEach(k, keys)
	{
		const char *key = cJSON_IsString(k) ? k->valuestring : NULL;
		size_t klen = key ? strlen(key) : 0;

		if (op->rc != SS_OK)
			break;
		if (key == NULL || !ss_vault_key_ok(key, klen)) {
			char *shown = NULL;

			if (key == NULL || ss_json_print(k, &shown) != SS_OK)
				shown = NULL;
			ss_warn("vault: LIST %s/%s returned an unsafe key %s; skipped", op->mount,
				it->path, shown ? shown : "(not a string)");
			op->skipped++;
			free(shown);
			continue;
		}
		ss_buf_reset(&child);
		rc = ss_buf_addf(&child, "%s%s", it->path, key);
		if (rc != SS_OK)
			break;
		if (key[klen - 1] == '/') {
			if (it->depth + 1 > op->v->s->max_depth) {
				/* Fail rather than return a partial tree: with
				 * delete_orphans a partial source would delete the
				 * secrets it missed. A looping server makes the path
				 * long: show its start. */
				rc = ss_buf_addf(&op->err,
						 "vault: %s/%.*s%s is deeper than "
						 "max_traversal_depth (%ld): raise "
						 "vault.max_traversal_depth or narrow the source's "
						 "paths\n",
						 op->mount, (int)(child.len > 160 ? 160 : child.len),
						 child.data, child.len > 160 ? "..." : "",
						 op->v->s->max_depth);
				op_fail(op, rc == SS_OK ? SS_ERR_TOOBIG : rc);
				break;
			}
			rc = ss_strset_add(&op->folders, child.data, &added);
			if (rc == SS_OK && added)
				rc = submit_item(op, ITEM_LIST, child.data, it->depth + 1);
		} else {
			rc = ss_strset_add(&op->secrets, child.data, &added);
			if (rc != SS_OK || !added)
				continue;
			rc = submit_item(op, ITEM_READ, child.data, it->depth);
		}
		if (rc != SS_OK)
			break;
	}
	if (rc != SS_OK)
		op_fail(op, rc);
	ss_buf_free(&child);
}

/* A 200 answer to a read that is not JSON, or whose data is not an
 * object: a broken server or proxy. SS_OK when the answer is sound. */
static enum ss_rc bad_answer(struct ss_buf *err, int version, const char *mount,
			     const char *path, const struct call *c, const cJSON *value)
{
	const cJSON *doc = c->doc;
	/* Why it is not JSON, when that is more than "malformed". */
	const char *why = doc == NULL && c->bad_json != NULL &&
				  strstr(c->bad_json, "well-formed") == NULL
			      ? c->bad_json
			      : NULL;
	struct ss_buf p;
	enum ss_rc rc;

	if (doc != NULL && cJSON_IsObject(value))
		return SS_OK;
	ss_buf_init(&p, 0);
	rc = api_path(version, mount, ITEM_READ, path, &p);
	if (rc == SS_OK && why != NULL)
		rc = ss_buf_addf(err, "vault: GET %s: the answer is not JSON: %s\n", p.data, why);
	else if (rc == SS_OK)
		rc = ss_buf_addf(err, "vault: GET %s: %s\n", p.data,
				 doc == NULL ? "the answer is not JSON"
				 : value == NULL || cJSON_IsNull(value)
				     ? (version == 2 ? "the answer has no data.data object"
						     : "the answer has no data object")
				     : "the secret's data is not a JSON object");
	ss_buf_free(&p);
	return rc == SS_OK ? SS_ERR_PARSE : rc;
}

/* A KV v2 answer without data whose metadata says the version was
 * deleted or destroyed. Anything else without data is a broken answer:
 * skipping it would leave the secret out (and delete_orphans would
 * delete it in AWS). */
static int marked_deleted(int version, const cJSON *data)
{
	const cJSON *meta = ss_json_get_object(data, "metadata");
	const char *when = ss_json_get_string(meta, "deletion_time");

	if (version != 2 || meta == NULL)
		return 0;
	return (when != NULL && *when != '\0') ||
	       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(meta, "destroyed"));
}

static void handle_read(struct ss_vault_tree *op, struct item *it, struct call *c)
{
	cJSON *data = cJSON_GetObjectItemCaseSensitive(c->doc, "data");
	cJSON *value = data;
	enum ss_rc rc;

	if (op->version == 2)
		value = data ? cJSON_GetObjectItemCaseSensitive(data, "data") : NULL;
	if (c->doc != NULL && (value == NULL || cJSON_IsNull(value)) &&
	    marked_deleted(op->version, data)) {
		ss_warn("vault: %s/%s has no current data (deleted or destroyed); skipped",
			op->mount, it->path);
		return;
	}
	rc = bad_answer(&op->err, op->version, op->mount, it->path, c, value);
	if (rc != SS_OK) {
		op_fail(op, rc);
		return;
	}
	/* Mask first: nothing else has seen the value yet. */
	if (ss_mask_add_json(ss_mask_global(), value) != SS_OK) {
		op_fail(op, SS_ERR_NOMEM);
		return;
	}
	cJSON_DetachItemViaPointer(op->version == 2 ? data : c->doc, value);
	/* Each path is read once (the visited set), so no look-up for a
	 * duplicate: that was a linear scan per secret, quadratic overall. */
	if (!cJSON_AddItemToObject(op->result, it->path, value)) {
		ss_json_delete_secret(value);
		op_fail(op, SS_ERR_NOMEM);
	}
}

/* A start path answered 404. Say so when the mount is missing or the
 * KV version is wrong; when the version was given rather than detected,
 * check it against the mount (ITEM_CHECK) before calling the path empty.
 * Returns nonzero when the 404 was handled here. */
static int empty_start(struct ss_vault_tree *op, struct item *it, const struct call *c)
{
	enum ss_rc rc = SS_OK;

	if (c->rc != SS_OK || c->status != 404)
		return 0;
	if (says_no_mount(c)) {
		op_fail(op, SS_ERR_NOTFOUND);
		rc = no_mount_error(&op->err, op->mount);
	} else if (says_versioned(c)) {
		op_fail(op, SS_ERR_INVALID);
		rc = wrong_version_error(&op->err, op->mount, 2, op->version);
	} else if (op->version_given && it->kind == ITEM_LIST) {
		rc = submit_item(op, ITEM_CHECK, it->path, 0);
	} else {
		return 0;
	}
	if (rc != SS_OK)
		op_fail(op, rc);
	return 1;
}

/* The answer to ITEM_CHECK: the mount's real KV version. */
static void check_version(struct ss_vault_tree *op, const struct item *it, const struct call *c)
{
	struct ss_buf ignored;
	int actual = 0;

	ss_buf_init(&ignored, 0);
	if (version_from_answer(c, op->mount, &actual, &ignored) != SS_OK)
		actual = 0; /* cannot tell: the token may not see the mount info */
	ss_buf_free(&ignored);
	if (actual != 0 && actual != op->version) {
		/* The cause of any 403 or 404 seen: say only that. */
		ss_buf_reset(&op->err);
		op->rc = SS_ERR_INVALID;
		op->saw_403 = 0;
		if (wrong_version_error(&op->err, op->mount, actual, op->version) != SS_OK)
			op->rc = SS_ERR_NOMEM;
		return;
	}
	if (op->rc != SS_OK)
		return; /* the check after a 403: the 403 stands */
	if (it->path[0] != '\0')
		ss_warn("vault: nothing found at %s/%s (no secret or folder there%s)", op->mount,
			it->path,
			actual == 0 && op->version == 2 ? "; if the mount is KV v1, set kv_version: 1"
							: "");
}

static void on_item(struct ss_http_resp *resp, void *ctx)
{
	struct item *it = ctx;
	struct ss_vault_tree *op = it->op;
	struct call c;
	size_t i;
	int added;

	memset(&c, 0, sizeof(c));
	op->outstanding--;
	op->in_transport--;
	on_call(resp, &c);
	if (op->rc != SS_OK && it->kind != ITEM_CHECK)
		goto out; /* draining after a failure */
	switch (it->kind) {
	case ITEM_VERSION: {
		enum ss_rc vrc = version_from_answer(&c, op->mount, &op->version, &op->err);

		if (vrc != SS_OK) {
			if (c.rc == SS_OK && c.status == 403)
				op->saw_403 = 1;
			op_fail(op, vrc);
			break;
		}
		if (cache_version(op->v, op->mount, op->version) != SS_OK) {
			op_fail(op, SS_ERR_NOMEM);
			break;
		}
		for (i = 0; i < op->nstarts && op->rc == SS_OK; i++) {
			const char *p = op->starts[i];
			size_t n = strlen(p);
			enum ss_rc rc;

			if (n == 0 || p[n - 1] == '/') {
				rc = ss_strset_add(&op->folders, p, &added);
				if (rc == SS_OK && added)
					rc = submit_item(op, ITEM_LIST, p, 0);
			} else {
				/* Visited: a folder listing that holds it skips it. */
				rc = ss_strset_add(&op->secrets, p, &added);
				if (rc == SS_OK && added)
					rc = submit_item(op, ITEM_START, p, 0);
			}
			if (rc != SS_OK)
				op_fail(op, rc);
		}
		break;
	}
	case ITEM_START:
		if (c.rc == SS_OK && c.status == 200) {
			handle_read(op, it, &c);
			break;
		}
		if (empty_start(op, it, &c))
			break;
		if (c.rc == SS_OK && c.status == 404 &&
		    ss_json_get_object(ss_json_get_object(c.doc, "data"), "metadata") != NULL) {
			ss_warn("vault: %s/%s has no current data (deleted or destroyed); skipped",
				op->mount, it->path);
			break;
		}
		if (c.rc == SS_OK && c.status == 404) {
			/* Not a secret: list it as a folder. */
			struct ss_buf folder;
			enum ss_rc rc;

			ss_buf_init(&folder, 0);
			rc = ss_buf_addf(&folder, "%s/", it->path);
			if (rc == SS_OK)
				rc = ss_strset_add(&op->folders, folder.data, &added);
			if (rc == SS_OK && added)
				rc = submit_item(op, ITEM_LIST, folder.data, 0);
			if (rc != SS_OK)
				op_fail(op, rc);
			ss_buf_free(&folder);
			break;
		}
		item_error(op, it, &c);
		break;
	case ITEM_LIST:
		if (c.rc == SS_OK && c.status == 200) {
			handle_list(op, it, &c);
		} else if (c.rc == SS_OK && c.status == 404) {
			if (it->depth == 0 && !empty_start(op, it, &c) && it->path[0] != '\0')
				ss_warn("vault: nothing found at %s/%s (no secret or folder there)",
					op->mount, it->path);
			/* an empty mount or a folder emptied meanwhile: nothing */
		} else {
			item_error(op, it, &c);
		}
		break;
	case ITEM_READ:
		if (c.rc == SS_OK && c.status == 200)
			handle_read(op, it, &c);
		else if (c.rc == SS_OK && c.status == 404)
			ss_warn("vault: %s/%s was listed but is gone or deleted; skipped",
				op->mount, it->path);
		else
			item_error(op, it, &c);
		break;
	case ITEM_CHECK:
		check_version(op, it, &c);
		break;
	}
out:
	call_free(&c);
	free(it->path);
	free(it);
	drain(op);
}

enum ss_rc ss_vault_tree_start(struct ss_vault *v, const char *mount, int kv_version,
			       const char *const *paths, size_t npaths,
			       struct ss_vault_tree **opp)
{
	struct ss_vault_tree *op;
	static const char *const whole[] = {""};
	size_t i;
	enum ss_rc rc;

	*opp = NULL;
	op = calloc(1, sizeof(*op));
	if (op == NULL)
		return SS_ERR_NOMEM;
	op->v = v;
	ss_strset_init(&op->folders);
	ss_strset_init(&op->secrets);
	ss_buf_init(&op->err, 0);
	op->mount = ss_strdup(mount);
	op->result = cJSON_CreateObject();
	if (npaths == 0) {
		paths = whole;
		npaths = 1;
	}
	op->starts = calloc(npaths, sizeof(*op->starts));
	if (op->mount == NULL || op->result == NULL || op->starts == NULL) {
		rc = SS_ERR_NOMEM;
		goto fail;
	}
	for (i = 0; i < npaths; i++) {
		op->starts[i] = ss_strdup(paths[i]);
		if (op->starts[i] == NULL) {
			rc = SS_ERR_NOMEM;
			goto fail;
		}
		op->nstarts++;
	}
	op->version_given = kv_version != 0;
	op->version = kv_version ? kv_version : cached_version(v, mount);
	if (op->version != 0) {
		/* Run the start step as if the version answer had come. */
		struct item *it = calloc(1, sizeof(*it));
		struct ss_http_resp fake;

		if (it == NULL || (it->path = ss_strdup("")) == NULL) {
			free(it);
			rc = SS_ERR_NOMEM;
			goto fail;
		}
		it->op = op;
		it->kind = ITEM_VERSION;
		memset(&fake, 0, sizeof(fake));
		ss_buf_init(&fake.body, 0);
		fake.status = 200;
		rc = ss_buf_addf(&fake.body,
				 "{\"data\":{\"type\":\"kv\",\"options\":{\"version\":\"%d\"}}}",
				 op->version);
		op->outstanding++;
		op->in_transport++;
		if (rc == SS_OK)
			on_item(&fake, it);
		else {
			free(it->path);
			free(it);
		}
		ss_buf_free(&fake.body);
		if (rc != SS_OK)
			goto fail;
	} else {
		rc = submit_item(op, ITEM_VERSION, "", 0);
		if (rc != SS_OK)
			goto fail;
	}
	*opp = op;
	return SS_OK;
fail:
	op->outstanding = 0;
	{
		cJSON *dummy = NULL;
		struct ss_buf e;

		ss_buf_init(&e, 0);
		if (ss_vault_tree_finish(op, &dummy, &e) != SS_OK) {
			/* freed */
		}
		ss_buf_free(&e);
	}
	return rc;
}

static int cmp_items(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a;
	const cJSON *y = *(const cJSON *const *)b;

	return strcmp(x->string, y->string);
}

/* Sort an object's members by key (relinking, no copies). */
static enum ss_rc sort_object(cJSON *obj)
{
	cJSON **v, *c;
	size_t n = 0, i;

	for (c = obj->child; c != NULL; c = c->next)
		n++;
	if (n < 2)
		return SS_OK;
	v = malloc(n * sizeof(*v));
	if (v == NULL)
		return SS_ERR_NOMEM;
	for (i = 0, c = obj->child; c != NULL; c = c->next)
		v[i++] = c;
	qsort(v, n, sizeof(*v), cmp_items);
	for (i = 0; i < n; i++) {
		v[i]->prev = i == 0 ? v[n - 1] : v[i - 1];
		v[i]->next = i + 1 < n ? v[i + 1] : NULL;
	}
	obj->child = v[0];
	free(v);
	return SS_OK;
}

void ss_vault_tree_counts(const struct ss_vault_tree *op, long *lists, long *reads)
{
	*lists = op->lists;
	*reads = op->reads;
}

long ss_vault_tree_skipped(const struct ss_vault_tree *op)
{
	return op != NULL ? op->skipped : 0;
}

enum ss_rc ss_vault_tree_finish(struct ss_vault_tree *op, cJSON **out, struct ss_buf *err)
{
	enum ss_rc rc;
	size_t i;

	*out = NULL;
	if (op == NULL)
		return SS_ERR_INTERNAL;
	rc = op->rc;
	if (rc == SS_OK && op->outstanding != 0)
		rc = SS_ERR_INTERNAL; /* finish before the loop ran */
	if (rc == SS_OK)
		rc = sort_object(op->result);
	if (rc == SS_OK) {
		*out = op->result;
		op->result = NULL;
	} else {
		/* A 403 may come from a dead token: say that instead. */
		if (op->saw_403)
			rc = explain_403(op->v, &op->err, 0, rc);
		if (op->err.len > 0 && ss_buf_add(err, op->err.data, op->err.len) != SS_OK)
			rc = SS_ERR_NOMEM;
	}
	ss_json_delete_secret(op->result);
	while (op->pending != NULL) {
		struct item *it = op->pending;

		op->pending = it->next;
		free(it->path);
		free(it);
	}
	for (i = 0; op->starts != NULL && i < op->nstarts; i++)
		free(op->starts[i]);
	free(op->starts);
	free(op->mount);
	ss_strset_free(&op->folders);
	ss_strset_free(&op->secrets);
	ss_buf_free(&op->err);
	free(op);
	return rc;
}

/* The answer to one read of ss_vault_read_many: the value, or a message. */
static enum ss_rc take_read(struct ss_vault_ref *ref, int version, struct call *c,
			    struct ss_buf *err)
{
	cJSON *data, *value;

	if (c->rc == SS_OK && c->status == 200) {
		enum ss_rc rc;

		data = cJSON_GetObjectItemCaseSensitive(c->doc, "data");
		value = version == 2 && data ? cJSON_GetObjectItemCaseSensitive(data, "data")
					     : data;
		rc = c->doc == NULL || (value != NULL && !cJSON_IsNull(value))
			     ? bad_answer(err, version, ref->mount, ref->path, c, value)
			     : SS_OK;
		if (rc != SS_OK)
			return rc;
		if (value == NULL || cJSON_IsNull(value)) {
			if (ss_buf_addf(err, "vault: %s/%s has no current data (deleted or "
					     "destroyed)\n",
					ref->mount, ref->path) != SS_OK)
				return SS_ERR_NOMEM;
			return SS_ERR_NOTFOUND;
		}
		/* Mask first: nothing else has seen the value yet. */
		if (ss_mask_add_json(ss_mask_global(), value) != SS_OK)
			return SS_ERR_NOMEM;
		cJSON_DetachItemViaPointer(version == 2 ? data : c->doc, value);
		ref->value = value;
		return SS_OK;
	}
	if (says_no_mount(c))
		return no_mount_error(err, ref->mount) == SS_OK ? SS_ERR_NOTFOUND : SS_ERR_NOMEM;
	if (says_versioned(c))
		return wrong_version_error(err, ref->mount, 2, version) == SS_OK ? SS_ERR_INVALID
										 : SS_ERR_NOMEM;
	if (c->rc == SS_OK && c->status == 404) {
		const cJSON *meta =
			ss_json_get_object(ss_json_get_object(c->doc, "data"), "metadata");

		if (ss_buf_addf(err, "vault: %s/%s: %s\n", ref->mount, ref->path,
				meta ? "its latest version is deleted or destroyed"
				     : "no such secret") != SS_OK)
			return SS_ERR_NOMEM;
		return SS_ERR_NOTFOUND;
	}
	return read_error(err, version, ref->mount, ITEM_READ, ref->path, c);
}

enum ss_rc ss_vault_read_many(struct ss_vault *v, struct ss_vault_ref *refs, size_t n,
			      struct ss_buf *err)
{
	struct call *calls = NULL;
	struct ss_buf path;
	int *vers = NULL;
	size_t i, j, mark = err->len;
	int denied = 0;
	enum ss_rc rc = SS_OK;

	ss_buf_init(&path, 0);
	for (i = 0; i < n; i++) {
		refs[i].value = NULL;
		refs[i].rc = SS_ERR_INTERNAL;
	}
	calls = calloc(n + 1, sizeof(*calls));
	vers = calloc(n + 1, sizeof(*vers));
	if (calls == NULL || vers == NULL) {
		rc = SS_ERR_NOMEM;
		goto out;
	}
	/* The KV version of every mount not known yet, all at once. */
	for (i = 0; i < n && rc == SS_OK; i++) {
		calls[i].rc = SS_ERR_INTERNAL;
		vers[i] = cached_version(v, refs[i].mount);
		for (j = 0; j < i && strcmp(refs[j].mount, refs[i].mount) != 0; j++)
			;
		if (vers[i] != 0 || j < i)
			continue;
		ss_buf_reset(&path);
		rc = mounts_path(&path, refs[i].mount);
		if (rc == SS_OK)
			rc = submit_call(v, "GET", path.data, "vault mount info", NULL, 0, &calls[i]);
	}
	if (rc == SS_OK)
		rc = ss_http_run(v->h);
	if (rc != SS_OK)
		goto out;
	for (i = 0; i < n; i++) {
		for (j = 0; j < i && strcmp(refs[j].mount, refs[i].mount) != 0; j++)
			;
		if (j < i) {
			vers[i] = vers[j];
			if (vers[i] == 0)
				refs[i].rc = refs[j].rc;
			continue;
		}
		if (vers[i] != 0)
			continue;
		refs[i].rc = version_from_answer(&calls[i], refs[i].mount, &vers[i], err);
		if (refs[i].rc == SS_OK)
			refs[i].rc = cache_version(v, refs[i].mount, vers[i]);
		if (refs[i].rc != SS_OK)
			vers[i] = 0;
		denied |= refs[i].rc == SS_ERR_AUTH;
		call_free(&calls[i]);
		memset(&calls[i], 0, sizeof(calls[i]));
		if (refs[i].rc == SS_ERR_NOMEM) {
			rc = SS_ERR_NOMEM;
			goto out;
		}
	}
	/* Every secret at once. */
	for (i = 0; i < n && rc == SS_OK; i++) {
		calls[i].rc = SS_ERR_INTERNAL;
		if (vers[i] == 0)
			continue;
		ss_buf_reset(&path);
		rc = api_path(vers[i], refs[i].mount, ITEM_READ, refs[i].path, &path);
		if (rc == SS_OK)
			rc = submit_call(v, "GET", path.data, "vault read", NULL, 0, &calls[i]);
	}
	if (rc == SS_OK)
		rc = ss_http_run(v->h);
	if (rc != SS_OK)
		goto out;
	for (i = 0; i < n; i++) {
		if (vers[i] == 0)
			continue;
		refs[i].rc = take_read(&refs[i], vers[i], &calls[i], err);
		denied |= calls[i].rc == SS_OK && calls[i].status == 403;
		if (refs[i].rc == SS_ERR_NOMEM)
			rc = SS_ERR_NOMEM;
	}
	if (rc == SS_OK && denied && token_dead(v)) {
		/* One message for all: the token is dead. */
		ss_buf_truncate(err, mark);
		rc = ss_buf_adds(err, VAULT_DEAD_TOKEN);
		for (i = 0; i < n; i++)
			if (refs[i].rc != SS_OK)
				refs[i].rc = SS_ERR_AUTH;
	}
	for (i = 0; i < n && rc == SS_OK; i++)
		rc = refs[i].rc;
out:
	if (calls != NULL)
		for (i = 0; i < n; i++)
			call_free(&calls[i]);
	free(calls);
	free(vers);
	ss_buf_free(&path);
	return rc;
}

enum ss_rc ss_vault_read(struct ss_vault *v, const char *mount, const char *path, cJSON **out,
			 struct ss_buf *err)
{
	struct ss_vault_ref ref;
	enum ss_rc rc;

	memset(&ref, 0, sizeof(ref));
	ref.mount = mount;
	ref.path = path;
	rc = ss_vault_read_many(v, &ref, 1, err);
	*out = ref.value;
	return rc;
}

/* A queued write or delete. */
struct ss_vault_op {
	struct call c;
	int is_delete;
	int version;
	int submitted;
	enum ss_rc start_rc; /* a failure before anything was sent */
	char *mount;
	char *path;
	char *api;           /* the API path, for messages */
};

static struct ss_vault_op *op_new(struct ss_vault *v, const char *mount, const char *path,
				  int is_delete, struct ss_buf *err)
{
	struct ss_vault_op *op = calloc(1, sizeof(*op));
	struct ss_buf p;

	if (op == NULL)
		return NULL;
	ss_buf_init(&p, 0);
	op->is_delete = is_delete;
	op->mount = ss_strdup(mount);
	op->path = ss_strdup(path);
	op->start_rc = op->mount && op->path ? SS_OK : SS_ERR_NOMEM;
	if (op->start_rc == SS_OK)
		op->start_rc = ss_vault_kv_version(v, mount, &op->version, err);
	/* KV v2 deletes go to the metadata path: every version goes. */
	if (op->start_rc == SS_OK)
		op->start_rc = api_path(op->version, mount,
					is_delete && op->version == 2 ? ITEM_LIST : ITEM_READ, path,
					&p);
	if (op->start_rc == SS_OK && ss_buf_take(&p, &op->api) != SS_OK)
		op->start_rc = SS_ERR_NOMEM;
	ss_buf_free(&p);
	return op;
}

enum ss_rc ss_vault_write_start(struct ss_vault *v, const char *mount, const char *path,
				const cJSON *data, struct ss_vault_op **opp, struct ss_buf *err)
{
	struct ss_vault_op *op;
	cJSON *wrap = NULL;
	char *text = NULL;
	enum ss_rc rc;

	*opp = op = op_new(v, mount, path, 0, err);
	if (op == NULL)
		return SS_ERR_NOMEM;
	if (op->start_rc != SS_OK)
		return SS_OK; /* reported by finish */
	if (op->version == 2) {
		wrap = cJSON_CreateObject();
		/* A reference: cJSON_Delete(wrap) leaves data alone. */
		rc = wrap != NULL &&
			     cJSON_AddItemReferenceToObject(wrap, "data", (cJSON *)(uintptr_t)data)
			     ? ss_json_print(wrap, &text)
			     : SS_ERR_NOMEM;
	} else {
		rc = ss_json_print(data, &text);
	}
	if (rc == SS_OK)
		rc = submit_call(v, "POST", op->api, "vault write", text, 1, &op->c);
	if (rc == SS_OK)
		op->submitted = 1;
	else
		op->start_rc = rc;
	cJSON_Delete(wrap);
	ss_free_secret(text);
	return SS_OK;
}

enum ss_rc ss_vault_delete_start(struct ss_vault *v, const char *mount, const char *path,
				 struct ss_vault_op **opp, struct ss_buf *err)
{
	struct ss_vault_op *op;
	enum ss_rc rc;

	*opp = op = op_new(v, mount, path, 1, err);
	if (op == NULL)
		return SS_ERR_NOMEM;
	if (op->start_rc != SS_OK)
		return SS_OK;
	rc = submit_call(v, "DELETE", op->api, "vault delete", NULL, 0, &op->c);
	if (rc == SS_OK)
		op->submitted = 1;
	else
		op->start_rc = rc;
	return SS_OK;
}

enum ss_rc ss_vault_op_finish(struct ss_vault_op *op, struct ss_buf *err)
{
	const struct call *c;
	enum ss_rc rc;

	if (op == NULL)
		return SS_ERR_INTERNAL;
	c = &op->c;
	rc = op->start_rc;
	if (rc != SS_OK || !op->submitted) {
		if (rc == SS_OK)
			rc = SS_ERR_INTERNAL;
		goto out;
	}
	if (c->rc == SS_OK && (c->status == 200 || c->status == 204 ||
			       (op->is_delete && c->status == 404))) {
		rc = SS_OK;
	} else if (c->rc == SS_OK && c->status == 403) {
		rc = SS_ERR_AUTH;
		if (ss_buf_addf(err, "vault: %s %s: 403 permission denied (policy needs %s on %s)\n",
				op->is_delete ? "DELETE" : "write", op->api,
				op->is_delete ? "\"delete\"" : "\"create\" and \"update\"",
				op->api) != SS_OK)
			rc = SS_ERR_NOMEM;
	} else {
		rc = read_error(err, op->version, op->mount, ITEM_READ, op->path, c);
	}
out:
	call_free(&op->c);
	free(op->mount);
	free(op->path);
	free(op->api);
	free(op);
	return rc;
}

enum ss_rc ss_vault_write(struct ss_vault *v, const char *mount, const char *path,
			  const cJSON *data, struct ss_buf *err)
{
	struct ss_vault_op *op = NULL;
	enum ss_rc rc = ss_vault_write_start(v, mount, path, data, &op, err);

	if (rc != SS_OK)
		return rc;
	if (op->submitted && ss_http_run(v->h) != SS_OK)
		op->start_rc = SS_ERR_INTERNAL;
	return ss_vault_op_finish(op, err);
}

enum ss_rc ss_vault_delete(struct ss_vault *v, const char *mount, const char *path,
			   struct ss_buf *err)
{
	struct ss_vault_op *op = NULL;
	enum ss_rc rc = ss_vault_delete_start(v, mount, path, &op, err);

	if (rc != SS_OK)
		return rc;
	if (op->submitted && ss_http_run(v->h) != SS_OK)
		op->start_rc = SS_ERR_INTERNAL;
	return ss_vault_op_finish(op, err);
}

int ss_vault_key_ok(const char *key, size_t len)
{
	size_t i;

	if (key == NULL || len == 0 || strlen(key) != len)
		return 0;
	if (key[0] == '/')
		return 0;
	if (strcmp(key, "..") == 0 || strcmp(key, "../") == 0 || strcmp(key, ".") == 0 ||
	    strcmp(key, "./") == 0)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)key[i];

		if (ch < 0x20 || ch == 0x7f)
			return 0;
		if (ch == '/' && i + 1 != len)
			return 0;
	}
	return strstr(key, "..") == NULL;
}
