#include "aws_creds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backends/aws_sts.h"
#include "backends/oidc.h"
#include "core/log.h"
#include "core/mask.h"
#include "core/banned.h"

/* A web identity token file is a JWT: a few kilobytes. */
#define TOKEN_FILE_MAX ((size_t)64 * 1024)

struct role_entry {
	char *role_arn;
	struct ss_sts_session s;
	struct role_entry *next;
};

struct ss_aws_chain {
	struct ss_http *h;
	char *region;
	char *role_arn; /* NULL = none */
	char *audience;
	char session_name[SS_AWS_SESSION_NAME_MAX + 1];
	int duration;
	struct ss_aws_creds given; /* explicit keys; access_key_id NULL = none */
	int resolved;
	struct ss_sts_session base; /* creds, and expiration/ARN when assumed */
	struct role_entry *roles;
};

static const char *env_nz(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

static int session_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '+' || c == '=' || c == ',' || c == '.' || c == '@' || c == '-';
}

void ss_aws_session_name(const char *given, char *out, size_t size)
{
	char raw[256];
	size_t i, n, max = size - 1;

	if (size == 0)
		return;
	if (max > SS_AWS_SESSION_NAME_MAX)
		max = SS_AWS_SESSION_NAME_MAX;
	if (given != NULL && *given != '\0') {
		snprintf(raw, sizeof(raw), "%s", given);
	} else {
		const char *run = env_nz("GITHUB_RUN_ID");
		const char *attempt = env_nz("GITHUB_RUN_ATTEMPT");

		if (run != NULL && attempt != NULL && strcmp(attempt, "1") != 0)
			snprintf(raw, sizeof(raw), "secretsync-%s-%s", run, attempt);
		else if (run != NULL)
			snprintf(raw, sizeof(raw), "secretsync-%s", run);
		else
			snprintf(raw, sizeof(raw), "secretsync-%ld-%lld", (long)getpid(),
				 (long long)time(NULL));
	}
	n = strlen(raw);
	if (n > max)
		n = max;
	for (i = 0; i < n; i++)
		out[i] = session_char(raw[i]) ? raw[i] : '-';
	while (i < 2 && i < max)
		out[i++] = '-';
	out[i] = '\0';
}

enum ss_rc ss_aws_role_for_account(const char *pattern, const char *account_id, char **out)
{
	static const char ph[] = "{account_id}";
	struct ss_buf b;
	const char *p, *hit;
	size_t i;
	int n = 0;
	enum ss_rc rc = SS_OK;

	*out = NULL;
	if (pattern == NULL || account_id == NULL)
		return SS_ERR_INVALID;
	for (i = 0; account_id[i] != '\0'; i++)
		if (account_id[i] < '0' || account_id[i] > '9')
			return SS_ERR_INVALID;
	if (i != 12)
		return SS_ERR_INVALID;
	ss_buf_init(&b, 4096);
	for (p = pattern; rc == SS_OK && (hit = strstr(p, ph)) != NULL; p = hit + sizeof(ph) - 1) {
		rc = ss_buf_add(&b, p, (size_t)(hit - p));
		if (rc == SS_OK)
			rc = ss_buf_adds(&b, account_id);
		n++;
	}
	if (rc == SS_OK && n == 0 && (hit = strstr(pattern, "%s")) != NULL &&
	    strstr(hit + 2, "%s") == NULL) {
		rc = ss_buf_add(&b, pattern, (size_t)(hit - pattern));
		if (rc == SS_OK)
			rc = ss_buf_adds(&b, account_id);
		p = hit + 2;
		n++;
	}
	if (rc == SS_OK && n == 0)
		rc = SS_ERR_INVALID;
	if (rc == SS_OK)
		rc = ss_buf_adds(&b, p);
	if (rc == SS_OK)
		rc = ss_buf_take(&b, out);
	ss_buf_free(&b);
	return rc;
}

static enum ss_rc mask_creds(const struct ss_aws_creds *cr)
{
	enum ss_rc rc = ss_aws_creds_mask(cr);

	if (rc == SS_OK && cr->access_key_id != NULL)
		rc = ss_mask_add(ss_mask_global(), cr->access_key_id);
	return rc == SS_ERR_IO ? SS_OK : rc;
}

static enum ss_rc set_creds(struct ss_aws_creds *dst, const char *key, const char *secret,
			    const char *token, const char *source)
{
	ss_aws_creds_clear(dst);
	dst->access_key_id = ss_strdup(key);
	dst->secret_access_key = ss_strdup(secret);
	dst->session_token = ss_strdup(token);
	dst->source = ss_strdup(source);
	if (dst->access_key_id == NULL || dst->secret_access_key == NULL ||
	    (token != NULL && dst->session_token == NULL) || dst->source == NULL) {
		ss_aws_creds_clear(dst);
		return SS_ERR_NOMEM;
	}
	return SS_OK;
}

struct ss_aws_chain *ss_aws_chain_new(struct ss_http *h, const struct ss_aws_creds_opts *o,
				      struct ss_buf *err)
{
	struct ss_aws_chain *c;
	int given_key = o->access_key_id != NULL && *o->access_key_id != '\0';
	int given_secret = o->secret_access_key != NULL && *o->secret_access_key != '\0';

	if (o->region == NULL || *o->region == '\0') {
		if (ss_buf_adds(err, "aws: no region: set --aws-region (the aws-region input), "
				     "aws.region in the config, or AWS_REGION\n") != SS_OK)
			return NULL;
		return NULL;
	}
	if (o->duration_seconds != 0 && (o->duration_seconds < SS_STS_MIN_DURATION ||
					 o->duration_seconds > SS_STS_MAX_DURATION)) {
		if (ss_buf_addf(err, "aws: role duration %d s is out of bounds (900 to 43200)\n",
				o->duration_seconds) != SS_OK)
			return NULL;
		return NULL;
	}
	if (given_key != given_secret) {
		if (ss_buf_adds(err, "aws: an access key id needs its secret access key (and the "
				     "other way round)\n") != SS_OK)
			return NULL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->h = h;
	c->duration = o->duration_seconds ? o->duration_seconds : SS_STS_DEFAULT_DURATION;
	c->region = ss_strdup(o->region);
	c->audience =
	    ss_strdup(o->audience && *o->audience ? o->audience : SS_AWS_DEFAULT_AUDIENCE);
	if (o->role_arn != NULL && *o->role_arn != '\0')
		c->role_arn = ss_strdup(o->role_arn);
	ss_aws_session_name(o->session_name, c->session_name, sizeof(c->session_name));
	if (c->region == NULL || c->audience == NULL ||
	    (o->role_arn != NULL && *o->role_arn != '\0' && c->role_arn == NULL) ||
	    (given_key && set_creds(&c->given, o->access_key_id, o->secret_access_key,
				    o->session_token && *o->session_token ? o->session_token : NULL,
				    "the given access keys") != SS_OK) ||
	    (given_key && mask_creds(&c->given) != SS_OK)) {
		ss_aws_chain_free(c);
		return NULL;
	}
	return c;
}

void ss_aws_chain_free(struct ss_aws_chain *c)
{
	struct role_entry *r, *n;

	if (c == NULL)
		return;
	for (r = c->roles; r != NULL; r = n) {
		n = r->next;
		free(r->role_arn);
		ss_sts_session_clear(&r->s);
		free(r);
	}
	ss_aws_creds_clear(&c->given);
	ss_sts_session_clear(&c->base);
	free(c->region);
	free(c->role_arn);
	free(c->audience);
	ss_memzero(c, sizeof(*c));
	free(c);
}

const char *ss_aws_chain_expiration(const struct ss_aws_chain *c)
{
	return c->resolved ? c->base.expiration : NULL;
}

const char *ss_aws_chain_session_name(const struct ss_aws_chain *c)
{
	return c->session_name;
}

/* Read the token file into a masked secret. */
static enum ss_rc read_token_file(const char *path, char **out, struct ss_buf *err)
{
	struct ss_buf b;
	char chunk[4096];
	ssize_t n;
	int fd;
	enum ss_rc rc = SS_OK;

	*out = NULL;
	ss_buf_init(&b, TOKEN_FILE_MAX);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = SS_ERR_IO;
		if (ss_buf_addf(err, "aws: AWS_WEB_IDENTITY_TOKEN_FILE %s: %s\n", path,
				strerror(errno)) != SS_OK)
			rc = SS_ERR_NOMEM;
		goto out;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = SS_ERR_IO;
			break;
		}
		rc = ss_buf_add(&b, chunk, (size_t)n);
		if (rc != SS_OK)
			break;
	}
	ss_memzero(chunk, sizeof(chunk));
	close(fd);
	while (rc == SS_OK && b.len > 0 && strchr(" \t\r\n", b.data[b.len - 1]) != NULL)
		ss_buf_truncate(&b, b.len - 1);
	if (rc == SS_OK && (b.len == 0 || strlen(b.data) != b.len))
		rc = SS_ERR_INVALID;
	if (rc != SS_OK) {
		if (ss_buf_addf(err, "aws: AWS_WEB_IDENTITY_TOKEN_FILE %s: %s\n", path,
				rc == SS_ERR_TOOBIG    ? "larger than 64 KiB: not a token"
				: rc == SS_ERR_INVALID ? "empty or not text: not a token"
						       : "cannot be read") != SS_OK)
			rc = SS_ERR_NOMEM;
		goto out;
	}
	rc = ss_mask_add(ss_mask_global(), b.data);
	if (rc == SS_ERR_IO)
		rc = SS_OK;
	if (rc == SS_OK)
		rc = ss_buf_take(&b, out);
out:
	ss_buf_free(&b);
	return rc;
}

/* Make sure an error text ends its line. */
static enum ss_rc end_line(struct ss_buf *err)
{
	if (err->len > 0 && err->data[err->len - 1] != '\n')
		return ss_buf_addc(err, '\n');
	return SS_OK;
}

static enum ss_rc assume_web(struct ss_aws_chain *c, const char *role, const char *token,
			     const char *origin, struct ss_sts_session *out, struct ss_buf *err)
{
	struct ss_sts_assume a;

	memset(&a, 0, sizeof(a));
	a.region = c->region;
	a.role_arn = role;
	a.session_name = c->session_name;
	a.duration_seconds = c->duration;
	a.web_identity_token = token;
	a.token_origin = origin;
	return ss_sts_assume(c->h, &a, out, err);
}

static enum ss_rc assume_from(struct ss_aws_chain *c, const char *role,
			      const struct ss_aws_creds *source, int duration,
			      struct ss_sts_session *out, struct ss_buf *err)
{
	struct ss_sts_assume a;

	memset(&a, 0, sizeof(a));
	a.region = c->region;
	a.role_arn = role;
	a.session_name = c->session_name;
	a.duration_seconds = duration;
	a.source = source;
	return ss_sts_assume(c->h, &a, out, err);
}

/* Use keys as the base, or as the source to assume the chain's role. */
static enum ss_rc from_keys(struct ss_aws_chain *c, const struct ss_aws_creds *keys,
			    struct ss_buf *err)
{
	if (c->role_arn == NULL)
		return ss_aws_creds_copy(&c->base.creds, keys);
	return assume_from(c, c->role_arn, keys, c->duration, &c->base, err);
}

static enum ss_rc from_oidc(struct ss_aws_chain *c, struct ss_buf *err)
{
	struct ss_buf origin;
	char *jwt = NULL;
	enum ss_rc rc;

	ss_buf_init(&origin, 0);
	rc = ss_oidc_fetch(c->h, c->audience, &jwt, err);
	if (rc != SS_OK) {
		if (end_line(err) != SS_OK)
			rc = SS_ERR_NOMEM;
		goto out;
	}
	rc = ss_buf_addf(&origin, "GitHub OIDC, audience %s", c->audience);
	if (rc == SS_OK)
		rc = assume_web(c, c->role_arn, jwt, origin.data, &c->base, err);
out:
	ss_free_secret(jwt);
	ss_buf_free(&origin);
	return rc;
}

static enum ss_rc from_token_file(struct ss_aws_chain *c, const char *file, const char *env_role,
				  struct ss_buf *err)
{
	const char *role = env_role ? env_role : c->role_arn;
	struct ss_sts_session web;
	char *token = NULL;
	enum ss_rc rc;

	memset(&web, 0, sizeof(web));
	rc = read_token_file(file, &token, err);
	if (rc != SS_OK)
		goto out;
	rc = assume_web(c, role, token, "AWS_WEB_IDENTITY_TOKEN_FILE", &web, err);
	if (rc != SS_OK)
		goto out;
	if (c->role_arn != NULL && strcmp(c->role_arn, role) != 0) {
		int dur = c->duration > SS_STS_CHAINED_MAX_DURATION ? SS_STS_CHAINED_MAX_DURATION
								    : c->duration;

		rc = assume_from(c, c->role_arn, &web.creds, dur, &c->base, err);
	} else {
		ss_sts_session_move(&c->base, &web);
	}
out:
	ss_sts_session_clear(&web);
	ss_free_secret(token);
	return rc;
}

static enum ss_rc no_source(struct ss_aws_chain *c, struct ss_buf *err)
{
	char *jwt = NULL;
	enum ss_rc rc;

	if (c->role_arn == NULL) {
		rc = ss_buf_adds(err, "aws: no credentials: set AWS_ACCESS_KEY_ID and "
				      "AWS_SECRET_ACCESS_KEY, or give a role to assume with GitHub "
				      "OIDC (--role-to-assume / the role-to-assume input, and "
				      "`permissions: id-token: write` in the workflow), or set "
				      "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN\n");
		return rc != SS_OK ? rc : SS_ERR_AUTH;
	}
	rc = ss_buf_addf(err, "aws: no credentials to assume %s with:\n", c->role_arn);
	if (rc != SS_OK)
		return rc;
	/* Not available: this only writes oidc's own explanation, which
	 * names the missing `id-token: write` permission. */
	rc = ss_oidc_fetch(c->h, c->audience, &jwt, err);
	ss_free_secret(jwt);
	if (rc == SS_OK)
		return SS_ERR_INTERNAL;
	if (end_line(err) != SS_OK ||
	    ss_buf_adds(err, "  (outside GitHub Actions, set AWS_ACCESS_KEY_ID and "
			     "AWS_SECRET_ACCESS_KEY to assume the role with them)\n") != SS_OK)
		return SS_ERR_NOMEM;
	return SS_ERR_AUTH;
}

static enum ss_rc resolve(struct ss_aws_chain *c, struct ss_buf *err)
{
	const char *key = env_nz("AWS_ACCESS_KEY_ID");
	const char *secret = env_nz("AWS_SECRET_ACCESS_KEY");
	const char *file = env_nz("AWS_WEB_IDENTITY_TOKEN_FILE");
	const char *env_role = env_nz("AWS_ROLE_ARN");
	struct ss_aws_creds env;
	enum ss_rc rc;

	memset(&env, 0, sizeof(env));
	if (c->given.access_key_id != NULL) {
		rc = from_keys(c, &c->given, err);
	} else if (c->role_arn != NULL && ss_oidc_available()) {
		ss_debug("aws: credentials from GitHub OIDC for %s", c->role_arn);
		rc = from_oidc(c, err);
	} else if (key != NULL && secret != NULL) {
		rc = set_creds(&env, key, secret, env_nz("AWS_SESSION_TOKEN"),
			       "environment (AWS_ACCESS_KEY_ID)");
		if (rc == SS_OK)
			rc = mask_creds(&env);
		if (rc == SS_OK)
			rc = from_keys(c, &env, err);
	} else if ((key != NULL) != (secret != NULL)) {
		rc = ss_buf_addf(err, "aws: %s is set but %s is not\n",
				 key ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
				 key ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
		if (rc == SS_OK)
			rc = SS_ERR_AUTH;
	} else if (file != NULL && (env_role != NULL || c->role_arn != NULL)) {
		rc = from_token_file(c, file, env_role, err);
	} else {
		rc = no_source(c, err);
	}
	ss_aws_creds_clear(&env);
	if (rc != SS_OK) {
		ss_sts_session_clear(&c->base);
		return rc;
	}
	c->resolved = 1;
	ss_debug("aws: base credentials from %s",
		 c->base.creds.source ? c->base.creds.source : "?");
	return SS_OK;
}

enum ss_rc ss_aws_chain_base(struct ss_aws_chain *c, const struct ss_aws_creds **out,
			     struct ss_buf *err)
{
	enum ss_rc rc = SS_OK;

	*out = NULL;
	if (!c->resolved)
		rc = resolve(c, err);
	if (rc == SS_OK)
		*out = &c->base.creds;
	return rc;
}

static struct role_entry *find_role(struct ss_aws_chain *c, const char *role)
{
	struct role_entry *r;

	for (r = c->roles; r != NULL; r = r->next)
		if (strcmp(r->role_arn, role) == 0)
			return r;
	return NULL;
}

/* One AssumeRole of a prefetch. */
struct pending {
	struct ss_aws_chain *c;
	char *role;
	enum ss_rc rc;
	struct ss_buf *err;
};

static void on_role(enum ss_rc rc, struct ss_sts_session *s, const char *error, void *ctx)
{
	struct pending *p = ctx;
	struct role_entry *r;

	p->rc = rc;
	if (rc != SS_OK) {
		if (ss_buf_adds(p->err, error) != SS_OK)
			p->rc = SS_ERR_NOMEM;
		return;
	}
	if (find_role(p->c, p->role) != NULL)
		return; /* asked twice in one batch */
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		p->rc = SS_ERR_NOMEM;
		return;
	}
	r->role_arn = p->role;
	p->role = NULL;
	ss_sts_session_move(&r->s, s);
	r->next = p->c->roles;
	p->c->roles = r;
}

static int is_base_role(const struct ss_aws_chain *c, const char *role)
{
	return role == NULL || *role == '\0' || (c->role_arn && strcmp(role, c->role_arn) == 0);
}

enum ss_rc ss_aws_creds_prefetch(struct ss_aws_chain *c, const char *const *roles, size_t n,
				 struct ss_buf *err)
{
	const struct ss_aws_creds *base;
	struct pending *p = NULL;
	size_t i, queued = 0;
	enum ss_rc rc, first = SS_OK;
	int dur;

	rc = ss_aws_chain_base(c, &base, err);
	if (rc != SS_OK)
		return rc;
	dur = c->duration;
	if (base->session_token != NULL && dur > SS_STS_CHAINED_MAX_DURATION)
		dur = SS_STS_CHAINED_MAX_DURATION;
	p = calloc(n ? n : 1, sizeof(*p));
	if (p == NULL)
		return SS_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		struct ss_sts_assume a;
		size_t j;
		int dup = 0;

		p[i].rc = SS_OK;
		if (is_base_role(c, roles[i]) || find_role(c, roles[i]) != NULL)
			continue;
		for (j = 0; j < i; j++)
			dup |= p[j].role != NULL && strcmp(p[j].role, roles[i]) == 0;
		if (dup)
			continue;
		p[i].c = c;
		p[i].err = err;
		p[i].role = ss_strdup(roles[i]);
		if (p[i].role == NULL) {
			first = SS_ERR_NOMEM;
			break;
		}
		memset(&a, 0, sizeof(a));
		a.region = c->region;
		a.role_arn = roles[i];
		a.session_name = c->session_name;
		a.duration_seconds = dur;
		a.source = base;
		p[i].rc = SS_ERR_INTERNAL;
		rc = ss_sts_assume_submit(c->h, &a, on_role, &p[i], err);
		if (rc != SS_OK) {
			p[i].rc = rc;
			free(p[i].role);
			p[i].role = NULL;
			continue;
		}
		queued++;
	}
	if (queued > 0) {
		rc = ss_http_run(c->h);
		if (rc != SS_OK && first == SS_OK)
			first = rc;
	}
	for (i = 0; i < n; i++) {
		if (p[i].rc != SS_OK && first == SS_OK)
			first = p[i].rc;
		free(p[i].role);
	}
	free(p);
	return first;
}

enum ss_rc ss_aws_creds_for_role(struct ss_aws_chain *c, const char *role_arn,
				 const struct ss_aws_creds **out, struct ss_buf *err)
{
	struct role_entry *r;
	enum ss_rc rc;

	*out = NULL;
	if (is_base_role(c, role_arn))
		return ss_aws_chain_base(c, out, err);
	rc = ss_aws_creds_prefetch(c, &role_arn, 1, err);
	if (rc != SS_OK)
		return rc;
	r = find_role(c, role_arn);
	if (r == NULL)
		return SS_ERR_INTERNAL;
	*out = &r->s.creds;
	return SS_OK;
}
