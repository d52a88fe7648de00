#include "aws_sm.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/json.h"
#include "core/log.h"
#include "core/mask.h"
#include "core/strset.h"
#include "core/banned.h"

/* A ListSecrets page of 100 secrets with tags is well under 1 MiB; a
 * batch of 20 values of 64 KiB is 1.3 MiB before JSON escaping, which
 * at worst multiplies it by six. */
#define SM_MAX_LIST_RESPONSE ((size_t)8 * 1024 * 1024)
#define SM_MAX_BATCH_RESPONSE ((size_t)16 * 1024 * 1024)
#define SM_MAX_ONE_RESPONSE ((size_t)2 * 1024 * 1024)
#define SM_MAX_ARN 2048

/* --- small helpers --- */

static void op_fail_rc(enum ss_rc *cur, enum ss_rc rc)
{
	if (*cur == SS_OK)
		*cur = rc;
}

static int name_char_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '/' || c == '_' || c == '+' || c == '=' || c == '.' || c == '@' || c == '-';
}

int ss_sm_name_ok(const char *name)
{
	size_t i;

	if (name == NULL || *name == '\0')
		return 0;
	for (i = 0; name[i] != '\0'; i++)
		if (i >= SS_SM_MAX_NAME || !name_char_ok((unsigned char)name[i]))
			return 0;
	return 1;
}

/* Append s for a message: printable ASCII as is, anything else as \xNN,
 * at most max characters of it. */
static enum ss_rc add_shown(struct ss_buf *b, const char *s, size_t max)
{
	enum ss_rc rc = SS_OK;
	size_t i;

	for (i = 0; rc == SS_OK && s[i] != '\0' && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\'')
			rc = ss_buf_addc(b, (char)c);
		else
			rc = ss_buf_addf(b, "\\x%02x", c);
	}
	if (rc == SS_OK && s[i] != '\0')
		rc = ss_buf_adds(b, "...");
	return rc;
}

enum ss_rc ss_sm_check_name(const char *name, struct ss_buf *err)
{
	enum ss_rc rc;
	size_t i, len;

	if (ss_sm_name_ok(name))
		return SS_OK;
	if (name == NULL || *name == '\0')
		return ss_buf_adds(err, "secretsmanager: an empty secret name is not valid (names "
					"are 1 to 512 characters of letters, digits and /_+=.@-)\n") ==
			       SS_OK
		       ? SS_ERR_INVALID
		       : SS_ERR_NOMEM;
	len = strlen(name);
	rc = ss_buf_adds(err, "secretsmanager: '");
	if (rc == SS_OK)
		rc = add_shown(err, name, 80);
	if (rc == SS_OK)
		rc = ss_buf_adds(err, "' is not a valid secret name: ");
	if (rc == SS_OK && len > SS_SM_MAX_NAME)
		rc = ss_buf_addf(err, "it is %zu characters long, the limit is %d", len,
				 SS_SM_MAX_NAME);
	for (i = 0; rc == SS_OK && len <= SS_SM_MAX_NAME && i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (name_char_ok(c))
			continue;
		if (c > 0x20 && c < 0x7f)
			rc = ss_buf_addf(err, "'%c' at position %zu is not allowed", c, i + 1);
		else
			rc = ss_buf_addf(err, "the byte 0x%02x at position %zu is not allowed", c,
					 i + 1);
		break;
	}
	if (rc == SS_OK)
		rc = ss_buf_adds(err, " (names are 1 to 512 characters of letters, digits and "
				      "/_+=.@-; check secret_prefix and the secret's path)\n");
	return rc == SS_OK ? SS_ERR_INVALID : SS_ERR_NOMEM;
}

/* An id is a name or an ARN ("arn:PARTITION:secretsmanager:..."). */
static int id_ok(const char *id)
{
	size_t i;

	if (id == NULL)
		return 0;
	if (strncmp(id, "arn:", 4) != 0)
		return ss_sm_name_ok(id);
	for (i = 0; id[i] != '\0'; i++)
		if (i >= SM_MAX_ARN || (unsigned char)id[i] <= 0x20 || (unsigned char)id[i] >= 0x7f)
			return 0;
	return 1;
}

static enum ss_rc check_id(const char *id, struct ss_buf *err)
{
	if (id != NULL && strncmp(id, "arn:", 4) == 0 && !id_ok(id)) {
		enum ss_rc rc = ss_buf_adds(err, "secretsmanager: '");

		if (rc == SS_OK)
			rc = add_shown(err, id, 120);
		if (rc == SS_OK)
			rc = ss_buf_adds(err, "' is not a valid secret ARN\n");
		return rc == SS_OK ? SS_ERR_INVALID : SS_ERR_NOMEM;
	}
	return ss_sm_check_name(id, err);
}

/* Feed the token's message: target NUL name NUL previous NUL content. */
static void token_message(struct ss_sha256 *h, const char *target, const char *name,
			  const char *previous_version, const char *content, size_t content_len)
{
	static const char zero = '\0';
	const char *prev = previous_version != NULL && *previous_version != '\0'
				   ? previous_version
				   : "create";

	ss_hash_sha256_update(h, target ? target : "", target ? strlen(target) : 0);
	ss_hash_sha256_update(h, &zero, 1);
	ss_hash_sha256_update(h, name ? name : "", name ? strlen(name) : 0);
	ss_hash_sha256_update(h, &zero, 1);
	ss_hash_sha256_update(h, prev, strlen(prev));
	ss_hash_sha256_update(h, &zero, 1);
	ss_hash_sha256_update(h, content, content_len);
}

void ss_sm_token_keyed(const void *key, size_t key_len, const char *target, const char *name,
		       const char *previous_version, const char *content, size_t content_len,
		       char out[SS_SM_TOKEN_LEN + 1])
{
	struct ss_sha256 h;
	unsigned char d[SS_SHA256_LEN], k0[64], pad[64];
	size_t i;

	if (key == NULL || key_len == 0) {
		ss_hash_sha256_init(&h);
		token_message(&h, target, name, previous_version, content, content_len);
		ss_hash_sha256_final(&h, d);
	} else {
		/* HMAC-SHA256 (RFC 2104), fed incrementally: the content is
		 * never copied. */
		memset(k0, 0, sizeof(k0));
		if (key_len > sizeof(k0))
			ss_hash_sha256(key, key_len, k0);
		else
			memcpy(k0, key, key_len);
		for (i = 0; i < sizeof(pad); i++)
			pad[i] = (unsigned char)(k0[i] ^ 0x36);
		ss_hash_sha256_init(&h);
		ss_hash_sha256_update(&h, pad, sizeof(pad));
		token_message(&h, target, name, previous_version, content, content_len);
		ss_hash_sha256_final(&h, d);
		for (i = 0; i < sizeof(pad); i++)
			pad[i] = (unsigned char)(k0[i] ^ 0x5c);
		ss_hash_sha256_init(&h);
		ss_hash_sha256_update(&h, pad, sizeof(pad));
		ss_hash_sha256_update(&h, d, sizeof(d));
		ss_hash_sha256_final(&h, d);
		ss_memzero(k0, sizeof(k0));
		ss_memzero(pad, sizeof(pad));
	}
	ss_hash_hex(d, sizeof(d), out);
	out[SS_SM_TOKEN_LEN] = '\0';
	ss_memzero(d, sizeof(d));
}

void ss_sm_token(const char *target, const char *name, const char *previous_version,
		 const char *content, size_t content_len, char out[SS_SM_TOKEN_LEN + 1])
{
	ss_sm_token_keyed(NULL, 0, target, name, previous_version, content, content_len, out);
}

enum ss_rc ss_sm_explain_deleted(struct ss_buf *err, const char *name, const char *region)
{
	return ss_buf_addf(err,
			   "secretsmanager: %s (%s) is scheduled for deletion: restore it with "
			   "`aws secretsmanager restore-secret --secret-id %s --region %s`, or wait "
			   "until its recovery window ends and run again\n",
			   name, region ? region : "?", name, region ? region : "?");
}

/* --- secrets and sets --- */

static void secret_clear(struct ss_sm_secret *s)
{
	size_t i;

	free(s->name);
	free(s->arn);
	free(s->version_id);
	for (i = 0; i < s->ntags; i++) {
		free(s->tags[i].key);
		free(s->tags[i].value);
	}
	free(s->tags);
	if (s->value != NULL) {
		ss_memzero(s->value, s->value_len);
		free(s->value);
	}
	memset(s, 0, sizeof(*s));
}

void ss_sm_secret_free(struct ss_sm_secret *sec)
{
	if (sec == NULL)
		return;
	secret_clear(sec);
	free(sec);
}

void ss_sm_set_free(struct ss_sm_set *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		secret_clear(&s->items[i]);
	free(s->items);
	free(s);
}

static int cmp_secret(const void *a, const void *b)
{
	const struct ss_sm_secret *x = a, *y = b;

	return strcmp(x->name, y->name);
}

const struct ss_sm_secret *ss_sm_set_find(const struct ss_sm_set *s, const char *name)
{
	struct ss_sm_secret key;

	if (s == NULL || name == NULL || s->n == 0)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.name = (char *)(uintptr_t)name; /* bsearch's key; never written */
	return bsearch(&key, s->items, s->n, sizeof(*s->items), cmp_secret);
}

const char *ss_sm_tag_get(const struct ss_sm_secret *sec, const char *key)
{
	size_t i;

	for (i = 0; sec != NULL && i < sec->ntags; i++)
		if (strcmp(sec->tags[i].key, key) == 0)
			return sec->tags[i].value;
	return NULL;
}

int ss_sm_is_managed(const struct ss_sm_secret *sec, const char *target)
{
	const char *m = ss_sm_tag_get(sec, SS_SM_TAG_MANAGED_BY);
	const char *t = ss_sm_tag_get(sec, SS_SM_TAG_TARGET);

	if (m == NULL || strcmp(m, SS_SM_TAG_MANAGED_VALUE) != 0)
		return 0;
	return target == NULL || (t != NULL && strcmp(t, target) == 0);
}

/* A new zeroed item at the end of s; its index in *idx. */
static enum ss_rc set_append(struct ss_sm_set *s, const char *name, size_t *idx)
{
	struct ss_sm_secret *it;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct ss_sm_secret *p = realloc(s->items, cap * sizeof(*p));

		if (p == NULL)
			return SS_ERR_NOMEM;
		s->items = p;
		s->cap = cap;
	}
	it = &s->items[s->n];
	memset(it, 0, sizeof(*it));
	it->name = ss_strdup(name);
	if (it->name == NULL)
		return SS_ERR_NOMEM;
	*idx = s->n++;
	return SS_OK;
}

static enum ss_rc replace_str(char **dst, const char *src)
{
	char *c;

	if (src == NULL)
		return SS_OK;
	c = ss_strdup(src);
	if (c == NULL)
		return SS_ERR_NOMEM;
	free(*dst);
	*dst = c;
	return SS_OK;
}

/* Tags from a [{"Key":..,"Value":..}] array (replacing any). */
static enum ss_rc take_tags(struct ss_sm_secret *s, const cJSON *arr)
{
	const cJSON *t;
	size_t n = 0, i;

	for (i = 0; i < s->ntags; i++) {
		free(s->tags[i].key);
		free(s->tags[i].value);
	}
	free(s->tags);
	s->tags = NULL;
	s->ntags = 0;
	s->tags_known = 1;
	if (!cJSON_IsArray(arr))
		return SS_OK;
	cJSON_ArrayForEach(t, arr)
		n++;
	if (n == 0)
		return SS_OK;
	s->tags = calloc(n, sizeof(*s->tags));
	if (s->tags == NULL)
		return SS_ERR_NOMEM;
	cJSON_ArrayForEach(t, arr)
	{
		const char *k = ss_json_get_string(t, "Key");
		const char *v = ss_json_get_string(t, "Value");

		if (k == NULL)
			continue;
		s->tags[s->ntags].key = ss_strdup(k);
		s->tags[s->ntags].value = ss_strdup(v ? v : "");
		if (s->tags[s->ntags].key == NULL || s->tags[s->ntags].value == NULL) {
			free(s->tags[s->ntags].key);
			free(s->tags[s->ntags].value);
			return SS_ERR_NOMEM;
		}
		s->ntags++;
	}
	return SS_OK;
}

/* The version holding AWSCURRENT in a {"vid": ["AWSCURRENT", ...]} map. */
static const char *current_version(const cJSON *map)
{
	const cJSON *v, *stage;

	if (!cJSON_IsObject(map))
		return NULL;
	cJSON_ArrayForEach(v, map)
	{
		if (!cJSON_IsArray(v))
			continue;
		cJSON_ArrayForEach(stage, v)
			if (cJSON_IsString(stage) && strcmp(stage->valuestring, "AWSCURRENT") == 0)
				return v->string;
	}
	return NULL;
}

/* Fill s from a ListSecrets / DescribeSecret entry. */
static enum ss_rc take_metadata(struct ss_sm_secret *s, const cJSON *e)
{
	const cJSON *del = cJSON_GetObjectItemCaseSensitive(e, "DeletedDate");
	const cJSON *map = cJSON_GetObjectItemCaseSensitive(e, "SecretVersionsToStages");
	enum ss_rc rc;

	if (map == NULL)
		map = cJSON_GetObjectItemCaseSensitive(e, "VersionIdsToStages");
	rc = replace_str(&s->arn, ss_json_get_string(e, "ARN"));
	if (rc == SS_OK)
		rc = replace_str(&s->version_id, current_version(map));
	if (rc == SS_OK)
		rc = take_tags(s, cJSON_GetObjectItemCaseSensitive(e, "Tags"));
	/* moto writes "DeletedDate": null for a live secret. */
	if (cJSON_IsNumber(del)) {
		s->deleted = 1;
		s->deleted_date = del->valuedouble;
	} else if (cJSON_IsString(del) && del->valuestring[0] != '\0') {
		s->deleted = 1;
	}
	return rc;
}

/* Fill s from a GetSecretValue / BatchGetSecretValue entry. The value
 * is registered with the mask registry before anything else. */
static enum ss_rc take_value(struct ss_sm_secret *s, const cJSON *e)
{
	const cJSON *str = cJSON_GetObjectItemCaseSensitive(e, "SecretString");
	const cJSON *bin = cJSON_GetObjectItemCaseSensitive(e, "SecretBinary");
	enum ss_rc rc = SS_OK;

	if (cJSON_IsString(str)) {
		rc = ss_mask_add(ss_mask_global(), str->valuestring);
		if (rc != SS_OK)
			return rc;
	} else if (cJSON_IsString(bin)) {
		rc = ss_mask_add(ss_mask_global(), bin->valuestring);
		if (rc != SS_OK)
			return rc;
	}
	rc = replace_str(&s->arn, ss_json_get_string(e, "ARN"));
	if (rc == SS_OK)
		rc = replace_str(&s->version_id, ss_json_get_string(e, "VersionId"));
	if (rc != SS_OK)
		return rc;
	if (s->value != NULL) {
		ss_memzero(s->value, s->value_len);
		free(s->value);
		s->value = NULL;
		s->value_len = 0;
	}
	s->kind = SS_SM_NO_VALUE;
	if (cJSON_IsString(str)) {
		s->value_len = strlen(str->valuestring);
		s->value = ss_strndup(str->valuestring, s->value_len);
		if (s->value == NULL) {
			s->value_len = 0;
			return SS_ERR_NOMEM;
		}
		s->kind = SS_SM_STRING;
	} else if (cJSON_IsString(bin)) {
		s->kind = SS_SM_BINARY;
	}
	return SS_OK;
}

/* --- where calls go --- */

struct scope {
	struct ss_http *h;
	struct ss_aws_creds creds;
	char *region;
	char *role_arn;
	char *url; /* endpoint + "/" */
	int deleting_live;
};

static void scope_clear(struct scope *s)
{
	ss_aws_creds_clear(&s->creds);
	free(s->region);
	free(s->role_arn);
	free(s->url);
	memset(s, 0, sizeof(*s));
}

/* Copy in; a missing setting is reported on err with SS_ERR_INVALID. */
static enum ss_rc scope_init(struct scope *s, const struct ss_sm_scope *in, struct ss_buf *err)
{
	char *base = NULL;
	int custom;
	enum ss_rc rc;

	memset(s, 0, sizeof(*s));
	if (in == NULL || in->h == NULL)
		return SS_ERR_INTERNAL;
	s->h = in->h;
	s->deleting_live = in->deleting_live;
	if (in->region == NULL || *in->region == '\0') {
		rc = ss_buf_adds(err, "secretsmanager: no region: set aws.region, the target's "
				      "region, or AWS_REGION\n");
		return rc == SS_OK ? SS_ERR_INVALID : rc;
	}
	if (in->creds == NULL || in->creds->access_key_id == NULL ||
	    in->creds->secret_access_key == NULL) {
		rc = ss_buf_adds(err, "secretsmanager: no AWS credentials to sign the requests "
				      "with\n");
		return rc == SS_OK ? SS_ERR_AUTH : rc;
	}
	rc = ss_aws_creds_copy(&s->creds, in->creds);
	if (rc != SS_OK)
		return rc;
	s->region = ss_strdup(in->region);
	if (in->role_arn != NULL && (s->role_arn = ss_strdup(in->role_arn)) == NULL)
		return SS_ERR_NOMEM;
	base = ss_aws_endpoint(SS_AWS_SECRETS_MANAGER, in->region, &custom);
	if (base != NULL) {
		size_t n = strlen(base);

		s->url = malloc(n + 2);
		if (s->url != NULL) {
			memcpy(s->url, base, n);
			s->url[n] = '/';
			s->url[n + 1] = '\0';
		}
	}
	free(base);
	return s->region != NULL && s->url != NULL ? SS_OK : SS_ERR_NOMEM;
}

/* One request. */
struct sm_call {
	const char *action;  /* "ListSecrets" */
	const char *subject; /* the secret, for the log label; NULL = none */
	const char *body;    /* JSON */
	int secret_body;
	int secret_response;
	int idempotent;
	size_t max_response;
	ss_aws_done_fn done;
	void *ctx;
};

static enum ss_rc sm_submit(const struct scope *s, const struct sm_call *c)
{
	struct ss_aws_call call;
	char target[96];
	struct ss_buf label;
	enum ss_rc rc;

	ss_buf_init(&label, 1024);
	snprintf(target, sizeof(target), "secretsmanager.%s", c->action);
	rc = ss_buf_addf(&label, "secretsmanager %s", c->action);
	if (rc == SS_OK && c->subject != NULL)
		rc = ss_buf_addf(&label, " %.300s", c->subject);
	if (rc != SS_OK) {
		ss_buf_free(&label);
		return rc;
	}
	memset(&call, 0, sizeof(call));
	call.service = SS_AWS_SECRETS_MANAGER;
	call.region = s->region;
	call.creds = &s->creds;
	call.method = "POST";
	call.url = s->url;
	call.content_type = "application/x-amz-json-1.1";
	call.target = target;
	call.body = c->body;
	call.body_len = strlen(c->body);
	call.idempotent = c->idempotent;
	call.secret_body = c->secret_body;
	call.secret_response = c->secret_response;
	call.max_response = c->max_response;
	call.label = label.data;
	call.done = c->done;
	call.ctx = c->ctx;
	rc = ss_aws_submit(s->h, &call);
	ss_buf_free(&label);
	return rc;
}

/* The account of a role ARN ("arn:aws:iam::111111111111:role/x"), and
 * its partition, for a resource in a message. */
static void role_account(const char *role, char *acct, size_t asz, char *part, size_t psz)
{
	const char *p;
	size_t n;

	snprintf(acct, asz, "*");
	snprintf(part, psz, "aws");
	if (role == NULL || strncmp(role, "arn:", 4) != 0)
		return;
	p = role + 4;
	n = strcspn(p, ":");
	if (p[n] == '\0')
		return;
	snprintf(part, psz, "%.*s", (int)n, p);
	p = strchr(p + n + 1, ':'); /* after the service */
	if (p == NULL)
		return;
	p = strchr(p + 1, ':'); /* after the region (empty for IAM) */
	if (p == NULL)
		return;
	p++;
	n = strcspn(p, ":");
	if (n == 12)
		snprintf(acct, asz, "%.*s", (int)n, p);
}

static int has_word(const char *msg, const char *word)
{
	return msg != NULL && strstr(msg, word) != NULL;
}

/* Append the line for a failed call and return the result code it maps
 * to (SS_ERR_NOMEM if err is full). action is the operation, name the
 * secret (NULL for ListSecrets), detail more words after them (may be
 * NULL), conflict a hint for ResourceExistsException (may be NULL). */
static enum ss_rc describe_failure(struct ss_buf *err, const struct scope *s, const char *action,
				   const char *name, const char *detail,
				   const struct ss_http_resp *resp, const struct ss_aws_error *e,
				   const char *conflict)
{
	const char *code = e->code;
	enum ss_rc mapped = SS_ERR_HTTP, rc;
	char acct[16], part[32];

	rc = ss_buf_addf(err, "secretsmanager: %s%s", action, name ? " " : "");
	if (rc == SS_OK && name != NULL)
		rc = add_shown(err, name, 600);
	if (rc == SS_OK && detail != NULL)
		rc = ss_buf_addf(err, " %s", detail);
	if (rc == SS_OK)
		rc = ss_buf_addf(err, " (%s): ", s->region);
	if (rc != SS_OK)
		return SS_ERR_NOMEM;
	if (resp->rc != SS_OK) {
		rc = ss_buf_addf(err, "%s", resp->error[0] ? resp->error : ss_strerror(resp->rc));
		if (rc == SS_OK && resp->attempts > 1)
			rc = ss_buf_addf(err, " (gave up after %d attempts)", resp->attempts);
		if (rc == SS_OK)
			rc = ss_buf_addc(err, '\n');
		return rc == SS_OK ? (resp->rc == SS_ERR_NOMEM ? SS_ERR_NOMEM : SS_ERR_NET)
				   : SS_ERR_NOMEM;
	}
	if (code[0] == '\0')
		rc = ss_buf_addf(err, "HTTP %ld", resp->status);
	else
		rc = ss_buf_addf(err, "%s%s%s", code, e->message[0] ? ": " : "", e->message);
	if (rc != SS_OK)
		return SS_ERR_NOMEM;
	if (strcmp(code, "AccessDeniedException") == 0 || strcmp(code, "AccessDenied") == 0) {
		mapped = SS_ERR_AUTH;
		role_account(s->role_arn, acct, sizeof(acct), part, sizeof(part));
		rc = ss_buf_adds(err, " (the IAM policy of ");
		if (rc == SS_OK && s->role_arn != NULL)
			rc = ss_buf_addf(err, "role %s", s->role_arn);
		else if (rc == SS_OK)
			rc = ss_buf_adds(err, "these credentials");
		if (rc == SS_OK)
			rc = ss_buf_addf(err, " must allow secretsmanager:%s on ", action);
		if (rc == SS_OK && name == NULL)
			rc = ss_buf_adds(err, "\"*\"");
		else if (rc == SS_OK && strncmp(name, "arn:", 4) == 0)
			rc = ss_buf_adds(err, name);
		else if (rc == SS_OK)
			rc = ss_buf_addf(err, "arn:%s:secretsmanager:%s:%s:secret:%s-*", part,
					 s->region, acct, name);
		if (rc == SS_OK && (strcmp(action, "CreateSecret") == 0 ||
				    strcmp(action, "TagResource") == 0))
			rc = ss_buf_addf(err, " with the tags %s=%s and %s",
					 SS_SM_TAG_MANAGED_BY, SS_SM_TAG_MANAGED_VALUE,
					 SS_SM_TAG_TARGET);
		else if (rc == SS_OK && strcmp(action, "DeleteSecret") == 0)
			rc = ss_buf_adds(err, " (secretsync deletes only secrets tagged "
					      SS_SM_TAG_MANAGED_BY "=" SS_SM_TAG_MANAGED_VALUE ")");
		if (rc == SS_OK)
			rc = ss_buf_addc(err, ')');
	} else if (strcmp(code, "ResourceNotFoundException") == 0) {
		mapped = SS_ERR_NOTFOUND;
	} else if (strcmp(code, "ResourceExistsException") == 0) {
		mapped = SS_ERR_CONFLICT;
		if (conflict != NULL)
			rc = ss_buf_addf(err, " (%s)", conflict);
	} else if (strcmp(code, "InvalidRequestException") == 0) {
		mapped = SS_ERR_INVALID;
		if (name != NULL && (has_word(e->message, "deleted") ||
				     has_word(e->message, "deletion")))
			rc = ss_buf_addf(err,
					 " (the secret is scheduled for deletion: restore it with "
					 "`aws secretsmanager restore-secret --secret-id %s --region "
					 "%s`, or wait until its recovery window ends)",
					 name, s->region);
	} else if (strcmp(code, "InvalidParameterException") == 0 ||
		   strcmp(code, "ValidationException") == 0) {
		mapped = SS_ERR_INVALID;
	} else if (strcmp(code, "DecryptionFailure") == 0 ||
		   strcmp(code, "EncryptionFailure") == 0) {
		mapped = SS_ERR_AUTH;
		rc = ss_buf_adds(err, " (the KMS key of the secret must allow kms:Decrypt and "
				      "kms:GenerateDataKey to this identity)");
	} else if (strcmp(code, "UnrecognizedClientException") == 0 ||
		   strcmp(code, "InvalidSignatureException") == 0 ||
		   strcmp(code, "IncompleteSignature") == 0 ||
		   strcmp(code, "InvalidClientTokenId") == 0 ||
		   strcmp(code, "SignatureDoesNotMatch") == 0) {
		mapped = SS_ERR_AUTH;
		rc = ss_buf_adds(err, " (the AWS credentials are not valid: check "
				      "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN)");
	} else if (strcmp(code, "ExpiredTokenException") == 0 ||
		   strcmp(code, "ExpiredToken") == 0) {
		mapped = SS_ERR_AUTH;
		rc = ss_buf_adds(err, " (the session credentials have expired)");
	} else if (ss_aws_code_retryable(code) || resp->status == 429 || resp->status >= 500) {
		rc = ss_buf_addf(err, " (gave up after %d attempt%s; lower --parallel or try "
				      "again later)",
				 resp->attempts, resp->attempts == 1 ? "" : "s");
	}
	if (rc == SS_OK)
		rc = ss_buf_addc(err, '\n');
	return rc == SS_OK ? mapped : SS_ERR_NOMEM;
}

#define WHY_NOT_JSON "the answer is not JSON (malformed or cut short)"
#define WHY_NOT_OBJECT "the answer is not a JSON object"

/* The parsed body of a 2xx answer, or NULL (a parse failure; *why says
 * what is wrong). */
static cJSON *parse_answer(const struct ss_http_resp *resp, const char **why)
{
	cJSON *doc = NULL;

	*why = NULL;
	if (resp->body.len == 0)
		return cJSON_CreateObject();
	if (ss_json_parse(resp->body.data, resp->body.len, &doc) != SS_OK || doc == NULL) {
		*why = WHY_NOT_JSON;
		return NULL;
	}
	if (!cJSON_IsObject(doc)) {
		*why = WHY_NOT_OBJECT;
		ss_json_delete_secret(doc);
		return NULL;
	}
	return doc;
}

/* Append the line for a 2xx answer that cannot be used: why says what
 * is wrong with it (a field missing or of the wrong type...). */
static enum ss_rc describe_unparsable(struct ss_buf *err, const struct scope *s,
				      const char *action, const char *name, const char *detail,
				      const char *why)
{
	enum ss_rc rc = ss_buf_addf(err, "secretsmanager: %s%s", action, name ? " " : "");

	if (rc == SS_OK && name != NULL)
		rc = add_shown(err, name, 600);
	if (rc == SS_OK && detail != NULL)
		rc = ss_buf_addf(err, " %s", detail);
	if (rc == SS_OK)
		rc = ss_buf_addf(err, " (%s): %s; not what Secrets Manager sends (is the "
				      "endpoint %s right?)\n",
				 s->region, why ? why : "the answer has an unexpected shape", s->url);
	return rc == SS_OK ? SS_ERR_PARSE : SS_ERR_NOMEM;
}

/* The JSON text of body, freed with ss_free_secret. */
static enum ss_rc body_text(cJSON *body, char **out)
{
	*out = NULL;
	if (body == NULL)
		return SS_ERR_NOMEM;
	return ss_json_print(body, out);
}

static cJSON *add_tags(cJSON *obj, const char *target)
{
	cJSON *arr = cJSON_AddArrayToObject(obj, "Tags");
	cJSON *t;

	if (arr == NULL)
		return NULL;
	t = cJSON_CreateObject();
	if (t == NULL || !cJSON_AddItemToArray(arr, t))
		return NULL;
	if (cJSON_AddStringToObject(t, "Key", SS_SM_TAG_MANAGED_BY) == NULL ||
	    cJSON_AddStringToObject(t, "Value", SS_SM_TAG_MANAGED_VALUE) == NULL)
		return NULL;
	t = cJSON_CreateObject();
	if (t == NULL || !cJSON_AddItemToArray(arr, t))
		return NULL;
	if (cJSON_AddStringToObject(t, "Key", SS_SM_TAG_TARGET) == NULL ||
	    cJSON_AddStringToObject(t, "Value", target) == NULL)
		return NULL;
	return arr;
}

/* --- read ops: ListSecrets, BatchGetSecretValue, GetSecretValue --- */

enum read_mode { MODE_LIST, MODE_BATCH, MODE_STATE };
enum batch_state { BATCH_UNKNOWN, BATCH_PROBING, BATCH_OK, BATCH_OFF };

/* One secret to read: id as sent (an ARN or a name), name for messages,
 * idx its item in the set (-1: add it when the answer comes). */
struct entry {
	char *id;
	char *name;
	long idx;
};

struct ss_sm_read {
	struct scope sc;
	enum read_mode mode;
	char *prefix;
	char *tag_key;
	char *tag_value;
	int exclude_deleted;
	char *next_token; /* of ListSecrets */
	struct ss_strset want;
	int want_all;
	struct ss_strset seen; /* names in set */
	struct entry *todo;    /* to read */
	size_t ntodo;
	size_t todo_pos;       /* entries submitted so far */
	enum batch_state batch;
	struct ss_sm_set *set;
	struct ss_sm_counts counts;
	int outstanding;
	int orphan; /* finished too early: the last callback frees it */
	enum ss_rc rc;
	struct ss_buf err;
};

struct chunk {
	struct ss_sm_read *op;
	struct entry *e; /* borrowed from op->todo */
	size_t n;
	unsigned char *answered; /* per entry: a value or an error came back */
	char *next_token;
	int probe;
};

struct get_req {
	struct ss_sm_read *op;
	struct entry *e; /* borrowed from op->todo */
};

static void read_fail(struct ss_sm_read *op, enum ss_rc rc)
{
	op_fail_rc(&op->rc, rc);
}

static void read_free(struct ss_sm_read *op);

/* At the end of every callback: an op its caller gave up on is freed
 * once nothing points at it any more. */
static void read_release(struct ss_sm_read *op)
{
	if (op->orphan && op->outstanding == 0)
		read_free(op);
}

static void entry_clear(struct entry *e)
{
	free(e->id);
	free(e->name);
}

static enum ss_rc submit_list_page(struct ss_sm_read *op);
static enum ss_rc submit_more(struct ss_sm_read *op);
static enum ss_rc submit_get(struct ss_sm_read *op, struct entry *e);

/* The item for name: existing (idx >= 0, or already seen) or new. */
static enum ss_rc item_for(struct ss_sm_read *op, long idx, const char *name, size_t *out)
{
	int added;
	size_t i;
	enum ss_rc rc;

	if (idx >= 0) {
		*out = (size_t)idx;
		return SS_OK;
	}
	rc = ss_strset_add(&op->seen, name, &added);
	if (rc != SS_OK)
		return rc;
	if (added)
		return set_append(op->set, name, out);
	for (i = 0; i < op->set->n; i++)
		if (strcmp(op->set->items[i].name, name) == 0) {
			*out = i;
			return SS_OK;
		}
	return SS_ERR_INTERNAL;
}

/* --- ListSecrets --- */

static enum ss_rc list_body(struct ss_sm_read *op, char **out)
{
	cJSON *body = cJSON_CreateObject(), *filters = NULL;
	enum ss_rc rc = SS_ERR_NOMEM;
	const char *keys[3], *vals[3];
	size_t n = 0, i;

	if (op->prefix != NULL && *op->prefix != '\0') {
		keys[n] = "name";
		vals[n++] = op->prefix;
	}
	if (op->tag_key != NULL) {
		keys[n] = "tag-key";
		vals[n++] = op->tag_key;
	}
	if (op->tag_value != NULL) {
		keys[n] = "tag-value";
		vals[n++] = op->tag_value;
	}
	if (body == NULL || cJSON_AddNumberToObject(body, "MaxResults", SS_SM_PAGE_SIZE) == NULL)
		goto out;
	if (!op->exclude_deleted && cJSON_AddTrueToObject(body, "IncludePlannedDeletion") == NULL)
		goto out;
	if (n > 0 && (filters = cJSON_AddArrayToObject(body, "Filters")) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		cJSON *f = cJSON_CreateObject(), *v;

		if (f == NULL || !cJSON_AddItemToArray(filters, f))
			goto out;
		if (cJSON_AddStringToObject(f, "Key", keys[i]) == NULL ||
		    (v = cJSON_AddArrayToObject(f, "Values")) == NULL ||
		    !cJSON_AddItemToArray(v, cJSON_CreateString(vals[i])))
			goto out;
	}
	if (op->next_token != NULL &&
	    cJSON_AddStringToObject(body, "NextToken", op->next_token) == NULL)
		goto out;
	rc = body_text(body, out);
out:
	cJSON_Delete(body);
	return rc;
}

/* After the listing: which secrets to read (STATE). */
static enum ss_rc plan_reads(struct ss_sm_read *op)
{
	size_t i, n = 0;

	op->todo = calloc(op->set->n ? op->set->n : 1, sizeof(*op->todo));
	if (op->todo == NULL)
		return SS_ERR_NOMEM;
	for (i = 0; i < op->set->n; i++) {
		const struct ss_sm_secret *s = &op->set->items[i];
		struct entry *e = &op->todo[n];

		if (s->deleted || (!op->want_all && !ss_strset_has(&op->want, s->name)))
			continue;
		e->id = ss_strdup(s->arn ? s->arn : s->name);
		e->name = ss_strdup(s->name);
		e->idx = (long)i;
		if (e->id == NULL || e->name == NULL) {
			entry_clear(e);
			return SS_ERR_NOMEM;
		}
		n++;
	}
	op->ntodo = n;
	return SS_OK;
}

static enum ss_rc take_list_page(struct ss_sm_read *op, const cJSON *doc, const char **why)
{
	const cJSON *list = ss_json_get_array(doc, "SecretList"), *e;
	const cJSON *nt = cJSON_GetObjectItemCaseSensitive(doc, "NextToken");
	const char *next = ss_json_get_string(doc, "NextToken");
	size_t plen = op->prefix ? strlen(op->prefix) : 0;
	enum ss_rc rc = SS_OK;

	/* AWS always sends SecretList (empty when nothing matches): an
	 * answer without it is broken, not "no secrets". */
	if (list == NULL) {
		*why = cJSON_GetObjectItemCaseSensitive(doc, "SecretList") != NULL
			   ? "the answer's SecretList is not a list"
			   : "the answer has no SecretList";
		return SS_ERR_PARSE;
	}
	if (nt != NULL && !cJSON_IsNull(nt) && next == NULL) {
		*why = "the answer's NextToken is not a string";
		return SS_ERR_PARSE;
	}
	cJSON_ArrayForEach(e, list)
	{
		const char *name = ss_json_get_string(e, "Name");
		const cJSON *del = cJSON_GetObjectItemCaseSensitive(e, "DeletedDate");
		size_t idx;
		int added;

		if (name == NULL || *name == '\0') {
			*why = "an entry of the answer's SecretList has no Name string";
			return SS_ERR_PARSE;
		}
		/* AWS's name filter is a prefix match; keep it exact here. */
		if (plen > 0 && strncmp(name, op->prefix, plen) != 0)
			continue;
		if (op->exclude_deleted && del != NULL && !cJSON_IsNull(del))
			continue;
		rc = ss_strset_add(&op->seen, name, &added);
		if (rc != SS_OK)
			return rc;
		if (!added)
			continue; /* a secret repeated across pages */
		rc = set_append(op->set, name, &idx);
		if (rc == SS_OK)
			rc = take_metadata(&op->set->items[idx], e);
		if (rc != SS_OK)
			return rc;
	}
	free(op->next_token);
	op->next_token = NULL;
	if (next != NULL && *next != '\0') {
		op->next_token = ss_strdup(next);
		if (op->next_token == NULL)
			return SS_ERR_NOMEM;
		return submit_list_page(op);
	}
	if (op->mode != MODE_STATE)
		return SS_OK;
	rc = plan_reads(op);
	if (rc == SS_OK)
		rc = submit_more(op);
	return rc;
}

static void on_list(struct ss_http_resp *resp, const struct ss_aws_error *e, void *ctx)
{
	struct ss_sm_read *op = ctx;
	cJSON *doc = NULL;
	const char *why = NULL;
	char what[640];
	enum ss_rc rc;

	op->outstanding--;
	if (op->rc != SS_OK)
		goto out;
	what[0] = '\0';
	if (op->prefix != NULL && *op->prefix != '\0')
		snprintf(what, sizeof(what), "of names starting with '%.500s'", op->prefix);
	if (!ss_aws_ok(resp)) {
		read_fail(op, describe_failure(&op->err, &op->sc, "ListSecrets", NULL,
					       what[0] ? what : NULL, resp, e, NULL));
		goto out;
	}
	doc = parse_answer(resp, &why);
	rc = doc ? take_list_page(op, doc, &why) : SS_ERR_PARSE;
	if (rc == SS_ERR_PARSE)
		rc = describe_unparsable(&op->err, &op->sc, "ListSecrets", NULL,
					 what[0] ? what : NULL, why);
	if (rc != SS_OK)
		read_fail(op, rc);
out:
	ss_json_delete_secret(doc);
	read_release(op);
}

static enum ss_rc submit_list_page(struct ss_sm_read *op)
{
	struct sm_call c;
	char *body = NULL;
	enum ss_rc rc;

	rc = list_body(op, &body);
	if (rc != SS_OK)
		return rc;
	memset(&c, 0, sizeof(c));
	c.action = "ListSecrets";
	c.subject = op->prefix;
	c.body = body;
	c.idempotent = 1;
	c.max_response = SM_MAX_LIST_RESPONSE;
	c.done = on_list;
	c.ctx = op;
	op->outstanding++;
	op->counts.list_calls++;
	rc = sm_submit(&op->sc, &c);
	if (rc != SS_OK)
		op->outstanding--;
	ss_free_secret(body);
	return rc;
}

/* --- BatchGetSecretValue --- */

static enum ss_rc submit_chunk(struct chunk *ch);

/* Batch reads refused or unknown here: read one by one instead. */
static int batch_unavailable(const struct ss_http_resp *resp, const struct ss_aws_error *e)
{
	static const char *const codes[] = {"AccessDeniedException", "AccessDenied",
					    "UnknownOperationException", "InvalidAction",
					    "NotImplemented", "NotImplementedException",
					    "UnsupportedOperation", "UnsupportedOperationException"};
	size_t i;

	if (resp->rc != SS_OK)
		return 0;
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(e->code, codes[i]) == 0)
			return 1;
	return e->code[0] == '\0' && (resp->status == 404 || resp->status == 501);
}

static struct entry *chunk_match(struct chunk *ch, const char *arn, const char *name)
{
	size_t i;

	for (i = 0; i < ch->n; i++) {
		struct entry *e = &ch->e[i];

		if ((arn != NULL && strcmp(e->id, arn) == 0) ||
		    (name != NULL && (strcmp(e->id, name) == 0 || strcmp(e->name, name) == 0))) {
			ch->answered[i] = 1;
			return e;
		}
	}
	return NULL;
}

/* A member that must be a string when present. */
static int bad_string(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return v != NULL && !cJSON_IsNull(v) && !cJSON_IsString(v);
}

static enum ss_rc take_batch_page(struct chunk *ch, const cJSON *doc, const char **why)
{
	struct ss_sm_read *op = ch->op;
	const cJSON *vals = ss_json_get_array(doc, "SecretValues");
	const cJSON *errs = ss_json_get_array(doc, "Errors");
	const char *next = ss_json_get_string(doc, "NextToken");
	const cJSON *v;
	size_t i;
	enum ss_rc rc = SS_OK;

	if (vals == NULL) {
		*why = cJSON_GetObjectItemCaseSensitive(doc, "SecretValues") != NULL
			   ? "the answer's SecretValues is not a list"
			   : "the answer has no SecretValues";
		return SS_ERR_PARSE;
	}
	if (errs == NULL && cJSON_GetObjectItemCaseSensitive(doc, "Errors") != NULL &&
	    !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(doc, "Errors"))) {
		*why = "the answer's Errors is not a list";
		return SS_ERR_PARSE;
	}
	if (bad_string(doc, "NextToken")) {
		*why = "the answer's NextToken is not a string";
		return SS_ERR_PARSE;
	}
	cJSON_ArrayForEach(v, vals)
	{
		const char *name = ss_json_get_string(v, "Name");
		struct entry *e = chunk_match(ch, ss_json_get_string(v, "ARN"), name);
		size_t idx;

		if (name == NULL || bad_string(v, "SecretString") || bad_string(v, "SecretBinary") ||
		    bad_string(v, "VersionId")) {
			/* Mask the value anyway before giving up on the answer. */
			const char *str = ss_json_get_string(v, "SecretString");

			if (str != NULL && ss_mask_add(ss_mask_global(), str) != SS_OK)
				return SS_ERR_NOMEM;
			*why = name == NULL ? "an entry of the answer's SecretValues has no Name "
					      "string"
					    : "an entry of the answer's SecretValues has a field of "
					      "the wrong type";
			return SS_ERR_PARSE;
		}
		rc = item_for(op, e ? e->idx : -1, name, &idx);
		if (rc == SS_OK)
			rc = take_value(&op->set->items[idx], v);
		if (rc != SS_OK)
			return rc;
	}
	cJSON_ArrayForEach(v, errs)
	{
		const char *id = ss_json_get_string(v, "SecretId");
		const char *code = ss_json_get_string(v, "ErrorCode");
		struct entry *e = chunk_match(ch, id, id);

		if (e == NULL)
			continue;
		if (code != NULL && strcmp(code, "ResourceNotFoundException") == 0)
			continue; /* gone, or no current value: nothing to read */
		/* Anything else is read alone, so it is retried when transient
		 * and reported in full when not. */
		rc = submit_get(op, e);
		if (rc != SS_OK)
			return rc;
	}
	free(ch->next_token);
	ch->next_token = NULL;
	if (next != NULL && *next != '\0') {
		ch->next_token = ss_strdup(next);
		if (ch->next_token == NULL)
			return SS_ERR_NOMEM;
		return SS_OK;
	}
	/* The last page: every secret asked for must have come back, as a
	 * value or an error. One left out would look unreadable, and be
	 * overwritten (a new version) or taken as empty: read it alone,
	 * which answers or fails in full. */
	for (i = 0; i < ch->n; i++) {
		if (ch->answered[i])
			continue;
		ss_debug("secretsmanager: BatchGetSecretValue left out %s; reading it with "
			 "GetSecretValue",
			 ch->e[i].name);
		ch->answered[i] = 1;
		rc = submit_get(op, &ch->e[i]);
		if (rc != SS_OK)
			return rc;
	}
	return SS_OK;
}

static void chunk_free(struct chunk *ch)
{
	free(ch->answered);
	free(ch->next_token);
	free(ch);
}

static void on_chunk(struct ss_http_resp *resp, const struct ss_aws_error *e, void *ctx)
{
	struct chunk *ch = ctx;
	struct ss_sm_read *op = ch->op;
	const char *why = NULL;
	cJSON *doc = NULL;
	size_t i;
	enum ss_rc rc = SS_OK;

	op->outstanding--;
	if (op->rc != SS_OK)
		goto out;
	if (!ss_aws_ok(resp)) {
		if (!batch_unavailable(resp, e)) {
			read_fail(op, describe_failure(&op->err, &op->sc, "BatchGetSecretValue",
						       ch->n == 1 ? ch->e[0].name : NULL, NULL, resp,
						       e, NULL));
			goto out;
		}
		if (op->batch != BATCH_OFF)
			ss_debug("secretsmanager: BatchGetSecretValue refused in %s (%s); reading "
				 "the secrets one by one with GetSecretValue",
				 op->sc.region, e->code[0] ? e->code : "no code");
		op->batch = BATCH_OFF;
		for (i = 0; rc == SS_OK && i < ch->n; i++)
			rc = submit_get(op, &ch->e[i]);
		if (rc == SS_OK && ch->probe)
			rc = submit_more(op);
		if (rc != SS_OK)
			read_fail(op, rc);
		goto out;
	}
	doc = parse_answer(resp, &why);
	rc = doc ? take_batch_page(ch, doc, &why) : SS_ERR_PARSE;
	if (rc == SS_ERR_PARSE)
		rc = describe_unparsable(&op->err, &op->sc, "BatchGetSecretValue",
					 ch->n == 1 ? ch->e[0].name : NULL, NULL, why);
	if (rc == SS_OK && ch->probe) {
		ch->probe = 0;
		op->batch = BATCH_OK;
		rc = submit_more(op);
	}
	if (rc == SS_OK && ch->next_token != NULL) {
		rc = submit_chunk(ch); /* owns ch from now on, even on failure */
		ch = NULL;
	}
	if (rc != SS_OK)
		read_fail(op, rc);
out:
	ss_json_delete_secret(doc);
	if (ch != NULL)
		chunk_free(ch);
	read_release(op);
}

static enum ss_rc chunk_body(const struct chunk *ch, char **out)
{
	cJSON *body = cJSON_CreateObject(), *ids;
	enum ss_rc rc = SS_ERR_NOMEM;
	size_t i;

	if (body == NULL || (ids = cJSON_AddArrayToObject(body, "SecretIdList")) == NULL)
		goto out;
	for (i = 0; i < ch->n; i++)
		if (!cJSON_AddItemToArray(ids, cJSON_CreateString(ch->e[i].id)))
			goto out;
	if (ch->next_token != NULL &&
	    cJSON_AddStringToObject(body, "NextToken", ch->next_token) == NULL)
		goto out;
	rc = body_text(body, out);
out:
	cJSON_Delete(body);
	return rc;
}

/* Submit ch; on failure ch is freed. */
static enum ss_rc submit_chunk(struct chunk *ch)
{
	struct ss_sm_read *op = ch->op;
	struct sm_call c;
	char *body = NULL;
	enum ss_rc rc;

	rc = chunk_body(ch, &body);
	if (rc != SS_OK) {
		chunk_free(ch);
		return rc;
	}
	memset(&c, 0, sizeof(c));
	c.action = "BatchGetSecretValue";
	c.subject = ch->n == 1 ? ch->e[0].name : NULL;
	c.body = body;
	c.secret_response = 1;
	c.idempotent = 1;
	c.max_response = SM_MAX_BATCH_RESPONSE;
	c.done = on_chunk;
	c.ctx = ch;
	op->outstanding++;
	op->counts.batch_calls++;
	rc = sm_submit(&op->sc, &c);
	if (rc != SS_OK) {
		op->outstanding--;
		chunk_free(ch);
	}
	ss_free_secret(body);
	return rc;
}

static enum ss_rc new_chunk(struct ss_sm_read *op, size_t from, size_t n, int probe)
{
	struct chunk *ch = calloc(1, sizeof(*ch));

	if (ch == NULL)
		return SS_ERR_NOMEM;
	ch->answered = calloc(n ? n : 1, 1);
	if (ch->answered == NULL) {
		free(ch);
		return SS_ERR_NOMEM;
	}
	ch->op = op;
	ch->e = &op->todo[from];
	ch->n = n;
	ch->probe = probe;
	return submit_chunk(ch);
}

/* Submit what is left to read: the probe chunk first while it is not
 * known whether batch reads work, then everything at once. */
static enum ss_rc submit_more(struct ss_sm_read *op)
{
	enum ss_rc rc = SS_OK;

	while (rc == SS_OK && op->todo_pos < op->ntodo) {
		size_t left = op->ntodo - op->todo_pos;
		size_t n = left < SS_SM_BATCH_MAX ? left : SS_SM_BATCH_MAX;

		switch (op->batch) {
		case BATCH_PROBING:
			return SS_OK; /* wait for the probe */
		case BATCH_UNKNOWN:
			op->batch = BATCH_PROBING;
			rc = new_chunk(op, op->todo_pos, n, 1);
			op->todo_pos += n;
			break;
		case BATCH_OK:
			rc = new_chunk(op, op->todo_pos, n, 0);
			op->todo_pos += n;
			break;
		case BATCH_OFF:
			rc = submit_get(op, &op->todo[op->todo_pos]);
			op->todo_pos++;
			break;
		}
	}
	return rc;
}

/* --- GetSecretValue (one secret of a read op) --- */

static void on_get(struct ss_http_resp *resp, const struct ss_aws_error *e, void *ctx)
{
	struct get_req *g = ctx;
	struct ss_sm_read *op = g->op;
	const char *why = NULL;
	cJSON *doc = NULL;
	size_t idx;
	enum ss_rc rc = SS_OK;

	op->outstanding--;
	if (op->rc != SS_OK)
		goto out;
	if (!ss_aws_ok(resp)) {
		if (resp->rc == SS_OK && strcmp(e->code, "ResourceNotFoundException") == 0)
			goto out; /* gone, or no current value */
		if (resp->rc == SS_OK && strcmp(e->code, "InvalidRequestException") == 0 &&
		    (has_word(e->message, "deleted") || has_word(e->message, "deletion"))) {
			/* Scheduled for deletion since it was listed. */
			if (g->e->idx >= 0)
				op->set->items[g->e->idx].deleted = 1;
			goto out;
		}
		read_fail(op, describe_failure(&op->err, &op->sc, "GetSecretValue", g->e->name,
					       NULL, resp, e, NULL));
		goto out;
	}
	doc = parse_answer(resp, &why);
	if (doc == NULL || ss_json_get_string(doc, "Name") == NULL ||
	    bad_string(doc, "SecretString") || bad_string(doc, "SecretBinary")) {
		const char *str = ss_json_get_string(doc, "SecretString");

		if (doc != NULL)
			why = ss_json_get_string(doc, "Name") == NULL
				  ? "the answer has no Name string"
				  : "the answer has a field of the wrong type";
		if (str != NULL && ss_mask_add(ss_mask_global(), str) != SS_OK)
			rc = SS_ERR_NOMEM;
		else
			rc = describe_unparsable(&op->err, &op->sc, "GetSecretValue", g->e->name,
						 NULL, why);
	} else {
		rc = item_for(op, g->e->idx, ss_json_get_string(doc, "Name"), &idx);
		if (rc == SS_OK)
			rc = take_value(&op->set->items[idx], doc);
	}
	if (rc != SS_OK)
		read_fail(op, rc);
out:
	ss_json_delete_secret(doc);
	free(g);
	read_release(op);
}

static enum ss_rc submit_get(struct ss_sm_read *op, struct entry *e)
{
	struct get_req *g = calloc(1, sizeof(*g));
	struct sm_call c;
	char *body = NULL;
	cJSON *b;
	enum ss_rc rc;

	if (g == NULL)
		return SS_ERR_NOMEM;
	g->op = op;
	g->e = e;
	b = cJSON_CreateObject();
	if (b == NULL || cJSON_AddStringToObject(b, "SecretId", e->id) == NULL)
		rc = SS_ERR_NOMEM;
	else
		rc = body_text(b, &body);
	cJSON_Delete(b);
	if (rc != SS_OK) {
		free(g);
		return rc;
	}
	memset(&c, 0, sizeof(c));
	c.action = "GetSecretValue";
	c.subject = e->name;
	c.body = body;
	c.secret_response = 1;
	c.idempotent = 1;
	c.max_response = SM_MAX_ONE_RESPONSE;
	c.done = on_get;
	c.ctx = g;
	op->outstanding++;
	op->counts.get_calls++;
	rc = sm_submit(&op->sc, &c);
	if (rc != SS_OK) {
		op->outstanding--;
		free(g);
	}
	ss_free_secret(body);
	return rc;
}

/* --- read op lifecycle --- */

static struct ss_sm_read *read_new(enum read_mode mode)
{
	struct ss_sm_read *op = calloc(1, sizeof(*op));

	if (op == NULL)
		return NULL;
	op->mode = mode;
	ss_strset_init(&op->want);
	ss_strset_init(&op->seen);
	ss_buf_init(&op->err, 0);
	op->set = calloc(1, sizeof(*op->set));
	if (op->set == NULL) {
		ss_buf_free(&op->err);
		free(op);
		return NULL;
	}
	return op;
}

static void read_free(struct ss_sm_read *op)
{
	size_t i;

	if (op == NULL)
		return;
	scope_clear(&op->sc);
	free(op->prefix);
	free(op->tag_key);
	free(op->tag_value);
	free(op->next_token);
	ss_strset_free(&op->want);
	ss_strset_free(&op->seen);
	for (i = 0; i < op->ntodo; i++)
		entry_clear(&op->todo[i]);
	free(op->todo);
	ss_sm_set_free(op->set);
	ss_buf_free(&op->err);
	free(op);
}

/* Copy the filter in, checking it. */
static enum ss_rc read_filter(struct ss_sm_read *op, const struct ss_sm_filter *f)
{
	enum ss_rc rc;

	if (f == NULL)
		return SS_OK;
	op->exclude_deleted = f->exclude_deleted;
	if (f->name_prefix != NULL && *f->name_prefix != '\0') {
		/* A prefix is the start of a name: the same characters, and
		 * never a leading '!' (a negation filter to AWS). */
		rc = ss_sm_check_name(f->name_prefix, &op->err);
		if (rc != SS_OK)
			return rc;
		if ((op->prefix = ss_strdup(f->name_prefix)) == NULL)
			return SS_ERR_NOMEM;
	}
	if (f->tag_key != NULL && (op->tag_key = ss_strdup(f->tag_key)) == NULL)
		return SS_ERR_NOMEM;
	if (f->tag_value != NULL && (op->tag_value = ss_strdup(f->tag_value)) == NULL)
		return SS_ERR_NOMEM;
	if ((op->tag_key && (*op->tag_key == '!' || strlen(op->tag_key) > 512)) ||
	    (op->tag_value && (*op->tag_value == '!' || strlen(op->tag_value) > 512))) {
		rc = ss_buf_adds(&op->err, "secretsmanager: a tag filter must not start with '!' "
					   "or be longer than 512 characters\n");
		return rc == SS_OK ? SS_ERR_INVALID : rc;
	}
	return SS_OK;
}

/* The start common to every read: on a failure the op records it and
 * is handed back all the same, so finish reports it. */
static enum ss_rc read_start(struct ss_sm_read *op, const struct ss_sm_scope *sc,
			     const struct ss_sm_filter *f)
{
	enum ss_rc rc = scope_init(&op->sc, sc, &op->err);

	if (rc == SS_OK)
		rc = read_filter(op, f);
	if (rc == SS_OK && op->mode != MODE_BATCH)
		rc = submit_list_page(op);
	else if (rc == SS_OK)
		rc = submit_more(op);
	if (rc != SS_OK)
		read_fail(op, rc);
	return op->rc == SS_ERR_NOMEM || op->rc == SS_ERR_INTERNAL ? op->rc : SS_OK;
}

enum ss_rc ss_sm_list_start(const struct ss_sm_scope *sc, const struct ss_sm_filter *f,
			    struct ss_sm_read **opp)
{
	struct ss_sm_read *op = read_new(MODE_LIST);
	enum ss_rc rc;

	*opp = NULL;
	if (op == NULL)
		return SS_ERR_NOMEM;
	rc = read_start(op, sc, f);
	if (rc != SS_OK && op->outstanding == 0) {
		read_free(op);
		return rc;
	}
	*opp = op;
	return SS_OK;
}

enum ss_rc ss_sm_state_start(const struct ss_sm_scope *sc, const struct ss_sm_filter *f,
			     const char *const *want, size_t nwant, struct ss_sm_read **opp)
{
	struct ss_sm_read *op = read_new(MODE_STATE);
	size_t i;
	enum ss_rc rc = SS_OK;

	*opp = NULL;
	if (op == NULL)
		return SS_ERR_NOMEM;
	op->want_all = want == NULL;
	for (i = 0; rc == SS_OK && want != NULL && i < nwant; i++)
		rc = ss_strset_add(&op->want, want[i], NULL);
	if (rc == SS_OK)
		rc = read_start(op, sc, f);
	if (rc != SS_OK && op->outstanding == 0) {
		read_free(op);
		return rc;
	}
	*opp = op;
	return SS_OK;
}

enum ss_rc ss_sm_batch_get_start(const struct ss_sm_scope *sc, const char *const *ids, size_t n,
				 struct ss_sm_read **opp)
{
	struct ss_sm_read *op = read_new(MODE_BATCH);
	struct ss_strset dup;
	size_t i;
	int added;
	enum ss_rc rc = SS_OK;

	*opp = NULL;
	if (op == NULL)
		return SS_ERR_NOMEM;
	ss_strset_init(&dup);
	op->todo = calloc(n ? n : 1, sizeof(*op->todo));
	if (op->todo == NULL)
		rc = SS_ERR_NOMEM;
	for (i = 0; rc == SS_OK && i < n; i++) {
		struct entry *e = &op->todo[op->ntodo];

		rc = check_id(ids[i], &op->err);
		if (rc == SS_ERR_INVALID) {
			read_fail(op, rc);
			rc = SS_OK;
			continue;
		}
		if (rc == SS_OK)
			rc = ss_strset_add(&dup, ids[i], &added);
		if (rc != SS_OK || !added)
			continue;
		e->id = ss_strdup(ids[i]);
		e->name = ss_strdup(ids[i]);
		e->idx = -1;
		if (e->id == NULL || e->name == NULL) {
			entry_clear(e);
			rc = SS_ERR_NOMEM;
			break;
		}
		op->ntodo++;
	}
	ss_strset_free(&dup);
	if (rc == SS_OK && op->rc == SS_OK)
		rc = read_start(op, sc, NULL);
	if (rc != SS_OK && op->outstanding == 0) {
		read_free(op);
		return rc;
	}
	*opp = op;
	return SS_OK;
}

void ss_sm_read_counts(const struct ss_sm_read *op, struct ss_sm_counts *out)
{
	*out = op->counts;
}

enum ss_rc ss_sm_read_finish(struct ss_sm_read *op, struct ss_sm_set **out, struct ss_buf *err)
{
	enum ss_rc rc;

	*out = NULL;
	if (op == NULL)
		return SS_ERR_INTERNAL;
	rc = op->rc;
	if (rc == SS_OK && op->outstanding != 0)
		rc = SS_ERR_INTERNAL; /* finished before the loop ran */
	if (rc == SS_OK) {
		if (op->set->n > 1)
			qsort(op->set->items, op->set->n, sizeof(*op->set->items), cmp_secret);
		*out = op->set;
		op->set = NULL;
	} else if (op->err.len > 0 && ss_buf_add(err, op->err.data, op->err.len) != SS_OK) {
		rc = SS_ERR_NOMEM;
	} else if (op->err.len == 0 && rc != SS_ERR_NOMEM &&
		   ss_buf_addf(err, "secretsmanager: reading secrets in %s failed: %s\n",
			       op->sc.region ? op->sc.region : "?", ss_strerror(rc)) != SS_OK) {
		rc = SS_ERR_NOMEM;
	}
	if (op->outstanding != 0) {
		/* Requests still queued point at op (a caller bug, reported
		 * above): the last of their callbacks frees it. */
		op->orphan = 1;
		read_fail(op, SS_ERR_INTERNAL);
		return rc;
	}
	read_free(op);
	return rc;
}

static enum ss_rc run_read(const struct ss_sm_scope *sc, enum ss_rc rc, struct ss_sm_read *op,
			   struct ss_sm_set **out, struct ss_buf *err)
{
	*out = NULL;
	if (rc != SS_OK)
		return rc;
	if (op->outstanding > 0) {
		rc = ss_http_run(sc->h);
		if (rc != SS_OK)
			read_fail(op, rc);
	}
	return ss_sm_read_finish(op, out, err);
}

enum ss_rc ss_sm_list(const struct ss_sm_scope *sc, const struct ss_sm_filter *f,
		      struct ss_sm_set **out, struct ss_buf *err)
{
	struct ss_sm_read *op = NULL;
	enum ss_rc rc = ss_sm_list_start(sc, f, &op);

	return run_read(sc, rc, op, out, err);
}

enum ss_rc ss_sm_batch_get(const struct ss_sm_scope *sc, const char *const *ids, size_t n,
			   struct ss_sm_set **out, struct ss_buf *err)
{
	struct ss_sm_read *op = NULL;
	enum ss_rc rc = ss_sm_batch_get_start(sc, ids, n, &op);

	return run_read(sc, rc, op, out, err);
}

enum ss_rc ss_sm_state(const struct ss_sm_scope *sc, const struct ss_sm_filter *f,
		       const char *const *want, size_t nwant, struct ss_sm_set **out,
		       struct ss_buf *err)
{
	struct ss_sm_read *op = NULL;
	enum ss_rc rc = ss_sm_state_start(sc, f, want, nwant, &op);

	return run_read(sc, rc, op, out, err);
}

/* --- one-secret ops --- */

enum one_kind { ONE_GET, ONE_DESCRIBE, ONE_CREATE, ONE_PUT, ONE_TAG, ONE_DELETE };

struct ss_sm_op {
	struct scope sc;
	enum one_kind kind;
	char *id;
	char *token;
	int pending;
	int orphan; /* finished too early: the callback frees it */
	enum ss_rc rc;
	struct ss_sm_secret *result;
	struct ss_buf err;
};

static const char *one_action(enum one_kind k)
{
	switch (k) {
	case ONE_GET: return "GetSecretValue";
	case ONE_DESCRIBE: return "DescribeSecret";
	case ONE_CREATE: return "CreateSecret";
	case ONE_PUT: return "PutSecretValue";
	case ONE_TAG: return "TagResource";
	case ONE_DELETE: return "DeleteSecret";
	}
	return "?";
}

static void one_free(struct ss_sm_op *op)
{
	if (op == NULL)
		return;
	scope_clear(&op->sc);
	free(op->id);
	free(op->token);
	ss_sm_secret_free(op->result);
	ss_buf_free(&op->err);
	free(op);
}

/* The answer of a one-secret call. A write's answer must name what it
 * did (the ARN, and the version or the deletion date): a 2xx without
 * them is not proof that the write happened, and taking it for one
 * would report a change that was never made. */
static enum ss_rc one_result(struct ss_sm_op *op, const cJSON *doc, const char **why)
{
	struct ss_sm_secret *r = calloc(1, sizeof(*r));
	const char *name = ss_json_get_string(doc, "Name");
	const char *arn = ss_json_get_string(doc, "ARN");
	enum ss_rc rc = SS_OK;

	if (r == NULL)
		return SS_ERR_NOMEM;
	op->result = r;
	r->name = ss_strdup(name ? name : op->id);
	if (r->name == NULL)
		return SS_ERR_NOMEM;
	if (bad_string(doc, "Name") || bad_string(doc, "ARN") || bad_string(doc, "VersionId") ||
	    bad_string(doc, "SecretString")) {
		*why = "the answer has a field of the wrong type";
		return SS_ERR_PARSE;
	}
	if ((op->kind == ONE_CREATE || op->kind == ONE_PUT || op->kind == ONE_DELETE) &&
	    (arn == NULL || *arn == '\0')) {
		*why = "the answer has no ARN: the write may not have happened";
		return SS_ERR_PARSE;
	}
	switch (op->kind) {
	case ONE_GET:
		if (name == NULL) {
			*why = "the answer has no Name string";
			return SS_ERR_PARSE;
		}
		rc = take_value(r, doc);
		break;
	case ONE_DESCRIBE:
		if (name == NULL) {
			*why = "the answer has no Name string";
			return SS_ERR_PARSE;
		}
		rc = take_metadata(r, doc);
		break;
	case ONE_CREATE:
	case ONE_PUT:
		rc = replace_str(&r->arn, ss_json_get_string(doc, "ARN"));
		if (rc == SS_OK)
			rc = replace_str(&r->version_id, ss_json_get_string(doc, "VersionId"));
		/* AWS answers a repeated token with the version it made. */
		if (rc == SS_OK && r->version_id == NULL)
			rc = replace_str(&r->version_id, op->token);
		break;
	case ONE_DELETE: {
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(doc, "DeletionDate");

		if (!cJSON_IsNumber(d)) {
			*why = d == NULL ? "the answer has no DeletionDate: the deletion may not "
					   "have been scheduled"
					 : "the answer's DeletionDate is not a number";
			return SS_ERR_PARSE;
		}
		rc = replace_str(&r->arn, ss_json_get_string(doc, "ARN"));
		r->deleted = 1;
		if (cJSON_IsNumber(d))
			r->deleted_date = d->valuedouble;
		break;
	}
	case ONE_TAG:
		break;
	}
	return rc;
}

static void on_one(struct ss_http_resp *resp, const struct ss_aws_error *e, void *ctx)
{
	struct ss_sm_op *op = ctx;
	cJSON *doc = NULL;
	const char *conflict = NULL, *why = NULL;
	enum ss_rc rc;

	op->pending = 0;
	if (op->orphan) {
		one_free(op);
		return;
	}
	if (op->kind == ONE_DELETE && resp->rc == SS_OK &&
	    (resp->attempts > 1 || op->sc.deleting_live) &&
	    strcmp(e->code, "InvalidRequestException") == 0 &&
	    (has_word(e->message, "deleted") || has_word(e->message, "deletion"))) {
		/* An earlier attempt landed but its answer was lost: the
		 * secret is scheduled for deletion, as asked. With
		 * deleting_live the caller saw it live, so the same holds on
		 * a first attempt too: curl re-sends a request by itself when
		 * a reused connection turns out dead, and another run may
		 * have got there first. */
		op->result = calloc(1, sizeof(*op->result));
		if (op->result == NULL || (op->result->name = ss_strdup(op->id)) == NULL) {
			op->rc = SS_ERR_NOMEM;
			return;
		}
		op->result->deleted = 1;
		op->rc = SS_OK;
		return;
	}
	if (!ss_aws_ok(resp)) {
		if (op->kind == ONE_PUT)
			conflict = "a version with this ClientRequestToken already exists with "
				   "other content. The token is derived from the target, the "
				   "secret, the new value and the version it replaces, so the "
				   "same token always carries the same value: someone else used "
				   "it. Run again to read the current state";
		else if (op->kind == ONE_CREATE)
			conflict = "the secret already exists: it was created after it was listed "
				   "(by another run or by hand). Run again to read the current "
				   "state";
		op->rc = describe_failure(&op->err, &op->sc, one_action(op->kind), op->id, NULL,
					  resp, e, conflict);
		return;
	}
	doc = parse_answer(resp, &why);
	if (doc == NULL) {
		op->rc = describe_unparsable(&op->err, &op->sc, one_action(op->kind), op->id, NULL,
					     why);
		return;
	}
	rc = one_result(op, doc, &why);
	if (rc == SS_ERR_PARSE) {
		const char *str = ss_json_get_string(doc, "SecretString");

		rc = str != NULL && ss_mask_add(ss_mask_global(), str) != SS_OK
			     ? SS_ERR_NOMEM
			     : describe_unparsable(&op->err, &op->sc, one_action(op->kind), op->id,
						   NULL, why);
	}
	op->rc = rc;
	ss_json_delete_secret(doc);
}

/* Build and submit the request of op; body_obj is consumed. */
static enum ss_rc one_submit(struct ss_sm_op *op, cJSON *body_obj, int secret_body)
{
	struct sm_call c;
	char *body = NULL;
	enum ss_rc rc;

	rc = body_text(body_obj, &body);
	ss_json_delete_secret(body_obj);
	if (rc != SS_OK)
		return rc;
	memset(&c, 0, sizeof(c));
	c.action = one_action(op->kind);
	c.subject = op->id;
	c.body = body;
	c.secret_body = secret_body;
	c.secret_response = op->kind == ONE_GET;
	/* Reads repeat harmlessly; writes carry a ClientRequestToken (or,
	 * for tags and deletion, set a state that a repeat sets again). */
	c.idempotent = 1;
	c.max_response = SM_MAX_ONE_RESPONSE;
	c.done = on_one;
	c.ctx = op;
	op->pending = 1;
	rc = sm_submit(&op->sc, &c);
	if (rc != SS_OK)
		op->pending = 0;
	ss_free_secret(body);
	return rc;
}

static struct ss_sm_op *one_new(enum one_kind kind, const struct ss_sm_scope *sc, const char *id)
{
	struct ss_sm_op *op = calloc(1, sizeof(*op));

	if (op == NULL)
		return NULL;
	op->kind = kind;
	ss_buf_init(&op->err, 0);
	op->id = ss_strdup(id ? id : "");
	if (op->id == NULL) {
		one_free(op);
		return NULL;
	}
	op->rc = scope_init(&op->sc, sc, &op->err);
	if (op->rc == SS_OK)
		op->rc = check_id(id, &op->err);
	return op;
}

/* Hand op out; a start-time failure other than memory stays in op for
 * finish to report. */
static enum ss_rc one_out(struct ss_sm_op *op, enum ss_rc rc, struct ss_sm_op **opp)
{
	if (rc != SS_OK && op->rc == SS_OK)
		op->rc = rc;
	if (op->rc == SS_ERR_NOMEM || op->rc == SS_ERR_INTERNAL) {
		rc = op->rc;
		one_free(op);
		return rc;
	}
	*opp = op;
	return SS_OK;
}

static enum ss_rc simple_start(enum one_kind kind, const struct ss_sm_scope *sc, const char *id,
			       struct ss_sm_op **opp)
{
	struct ss_sm_op *op;
	cJSON *b;
	enum ss_rc rc = SS_OK;

	*opp = NULL;
	op = one_new(kind, sc, id);
	if (op == NULL)
		return SS_ERR_NOMEM;
	if (op->rc == SS_OK) {
		b = cJSON_CreateObject();
		if (b == NULL || cJSON_AddStringToObject(b, "SecretId", id) == NULL) {
			cJSON_Delete(b);
			rc = SS_ERR_NOMEM;
		} else {
			rc = one_submit(op, b, 0);
		}
	}
	return one_out(op, rc, opp);
}

enum ss_rc ss_sm_get_start(const struct ss_sm_scope *sc, const char *id, struct ss_sm_op **op)
{
	return simple_start(ONE_GET, sc, id, op);
}

enum ss_rc ss_sm_describe_start(const struct ss_sm_scope *sc, const char *id,
				struct ss_sm_op **op)
{
	return simple_start(ONE_DESCRIBE, sc, id, op);
}

/* Check a write before anything is sent. */
static enum ss_rc check_write(struct ss_sm_op *op, const struct ss_sm_write *w)
{
	enum ss_rc rc;

	if (w->value == NULL) {
		rc = ss_buf_addf(&op->err, "secretsmanager: %s: no value to write\n", op->id);
		return rc == SS_OK ? SS_ERR_INVALID : rc;
	}
	if (w->value_len > SS_SM_MAX_VALUE) {
		rc = ss_buf_addf(&op->err,
				 "secretsmanager: %s: the value is %zu bytes, over Secrets "
				 "Manager's limit of %d bytes per secret; split it into smaller "
				 "secrets\n",
				 op->id, w->value_len, SS_SM_MAX_VALUE);
		return rc == SS_OK ? SS_ERR_TOOBIG : rc;
	}
	if (memchr(w->value, '\0', w->value_len) != NULL) {
		rc = ss_buf_addf(&op->err, "secretsmanager: %s: the value holds a NUL byte, which "
					   "a SecretString cannot carry\n",
				 op->id);
		return rc == SS_OK ? SS_ERR_INVALID : rc;
	}
	if (w->target == NULL || *w->target == '\0') {
		rc = ss_buf_addf(&op->err, "secretsmanager: %s: a write needs the target it is "
					   "for\n",
				 op->id);
		return rc == SS_OK ? SS_ERR_INVALID : rc;
	}
	return SS_OK;
}

static enum ss_rc write_start(enum one_kind kind, const struct ss_sm_scope *sc,
			      const struct ss_sm_write *w, struct ss_sm_op **opp)
{
	struct ss_sm_op *op;
	char token[SS_SM_TOKEN_LEN + 1];
	cJSON *b = NULL;
	char *value = NULL;
	enum ss_rc rc = SS_OK;

	*opp = NULL;
	op = one_new(kind, sc, w->name);
	if (op == NULL)
		return SS_ERR_NOMEM;
	if (op->rc == SS_OK)
		op->rc = check_write(op, w);
	if (op->rc != SS_OK)
		return one_out(op, SS_OK, opp);
	ss_sm_token_keyed(w->token_key, w->token_key_len, w->target, w->name,
			  kind == ONE_CREATE ? NULL : w->previous_version, w->value, w->value_len,
			  token);
	op->token = ss_strdup(token);
	value = ss_strndup(w->value, w->value_len);
	b = cJSON_CreateObject();
	if (op->token == NULL || value == NULL || b == NULL)
		goto nomem;
	if (kind == ONE_CREATE) {
		if (cJSON_AddStringToObject(b, "Name", w->name) == NULL ||
		    cJSON_AddStringToObject(b, "ClientRequestToken", token) == NULL ||
		    cJSON_AddStringToObject(b, "SecretString", value) == NULL ||
		    add_tags(b, w->target) == NULL ||
		    (w->description != NULL &&
		     cJSON_AddStringToObject(b, "Description", w->description) == NULL) ||
		    (w->kms_key_id != NULL &&
		     cJSON_AddStringToObject(b, "KmsKeyId", w->kms_key_id) == NULL))
			goto nomem;
	} else if (cJSON_AddStringToObject(b, "SecretId", w->name) == NULL ||
		   cJSON_AddStringToObject(b, "ClientRequestToken", token) == NULL ||
		   cJSON_AddStringToObject(b, "SecretString", value) == NULL) {
		goto nomem;
	}
	ss_free_secret(value);
	rc = one_submit(op, b, 1);
	return one_out(op, rc, opp);
nomem:
	ss_json_delete_secret(b);
	ss_free_secret(value);
	return one_out(op, SS_ERR_NOMEM, opp);
}

enum ss_rc ss_sm_create_start(const struct ss_sm_scope *sc, const struct ss_sm_write *w,
			      struct ss_sm_op **op)
{
	return write_start(ONE_CREATE, sc, w, op);
}

enum ss_rc ss_sm_put_start(const struct ss_sm_scope *sc, const struct ss_sm_write *w,
			   struct ss_sm_op **op)
{
	return write_start(ONE_PUT, sc, w, op);
}

enum ss_rc ss_sm_tag_start(const struct ss_sm_scope *sc, const char *id, const char *target,
			   struct ss_sm_op **opp)
{
	struct ss_sm_op *op;
	cJSON *b;
	enum ss_rc rc = SS_OK;

	*opp = NULL;
	op = one_new(ONE_TAG, sc, id);
	if (op == NULL)
		return SS_ERR_NOMEM;
	if (op->rc == SS_OK && (target == NULL || *target == '\0')) {
		rc = ss_buf_addf(&op->err, "secretsmanager: %s: tagging needs the target name\n",
				 op->id);
		op->rc = rc == SS_OK ? SS_ERR_INVALID : rc;
	}
	if (op->rc == SS_OK) {
		b = cJSON_CreateObject();
		if (b == NULL || cJSON_AddStringToObject(b, "SecretId", id) == NULL ||
		    add_tags(b, target) == NULL) {
			cJSON_Delete(b);
			rc = SS_ERR_NOMEM;
		} else {
			rc = one_submit(op, b, 0);
		}
	}
	return one_out(op, rc, opp);
}

enum ss_rc ss_sm_delete_start(const struct ss_sm_scope *sc, const char *id, int recovery_days,
			      struct ss_sm_op **opp)
{
	struct ss_sm_op *op;
	cJSON *b;
	enum ss_rc rc = SS_OK;

	*opp = NULL;
	op = one_new(ONE_DELETE, sc, id);
	if (op == NULL)
		return SS_ERR_NOMEM;
	if (op->rc == SS_OK && (recovery_days < 7 || recovery_days > 30)) {
		rc = ss_buf_addf(&op->err,
				 "secretsmanager: %s: the recovery window must be 7 to 30 days "
				 "(got %d); secretsync never deletes without one\n",
				 op->id, recovery_days);
		op->rc = rc == SS_OK ? SS_ERR_INVALID : rc;
	}
	if (op->rc == SS_OK) {
		b = cJSON_CreateObject();
		if (b == NULL || cJSON_AddStringToObject(b, "SecretId", id) == NULL ||
		    cJSON_AddNumberToObject(b, "RecoveryWindowInDays", recovery_days) == NULL) {
			cJSON_Delete(b);
			rc = SS_ERR_NOMEM;
		} else {
			rc = one_submit(op, b, 0);
		}
	}
	return one_out(op, rc, opp);
}

enum ss_rc ss_sm_op_finish(struct ss_sm_op *op, struct ss_sm_secret **out, struct ss_buf *err)
{
	enum ss_rc rc;

	if (out != NULL)
		*out = NULL;
	if (op == NULL)
		return SS_ERR_INTERNAL;
	if (op->pending) {
		/* The loop has not run: the queued request points at op, so
		 * its callback frees it. */
		op->orphan = 1;
		return SS_ERR_INTERNAL;
	}
	rc = op->rc;
	if (rc == SS_OK && op->result == NULL)
		rc = SS_ERR_INTERNAL;
	if (rc == SS_OK) {
		if (out != NULL) {
			*out = op->result;
			op->result = NULL;
		}
	} else if (op->err.len > 0 && ss_buf_add(err, op->err.data, op->err.len) != SS_OK) {
		rc = SS_ERR_NOMEM;
	}
	one_free(op);
	return rc;
}

static enum ss_rc run_one(const struct ss_sm_scope *sc, enum ss_rc rc, struct ss_sm_op *op,
			  struct ss_sm_secret **out, struct ss_buf *err)
{
	if (out != NULL)
		*out = NULL;
	if (rc != SS_OK)
		return rc;
	if (op->pending) {
		rc = ss_http_run(sc->h);
		if (rc != SS_OK && op->pending)
			return rc; /* cannot free op while its request is queued */
	}
	return ss_sm_op_finish(op, out, err);
}

enum ss_rc ss_sm_get(const struct ss_sm_scope *sc, const char *id, struct ss_sm_secret **out,
		     struct ss_buf *err)
{
	struct ss_sm_op *op = NULL;
	enum ss_rc rc = ss_sm_get_start(sc, id, &op);

	return run_one(sc, rc, op, out, err);
}

enum ss_rc ss_sm_describe(const struct ss_sm_scope *sc, const char *id,
			  struct ss_sm_secret **out, struct ss_buf *err)
{
	struct ss_sm_op *op = NULL;
	enum ss_rc rc = ss_sm_describe_start(sc, id, &op);

	return run_one(sc, rc, op, out, err);
}

enum ss_rc ss_sm_create(const struct ss_sm_scope *sc, const struct ss_sm_write *w,
			struct ss_sm_secret **out, struct ss_buf *err)
{
	struct ss_sm_op *op = NULL;
	enum ss_rc rc = ss_sm_create_start(sc, w, &op);

	return run_one(sc, rc, op, out, err);
}

enum ss_rc ss_sm_put(const struct ss_sm_scope *sc, const struct ss_sm_write *w,
		     struct ss_sm_secret **out, struct ss_buf *err)
{
	struct ss_sm_op *op = NULL;
	enum ss_rc rc = ss_sm_put_start(sc, w, &op);

	return run_one(sc, rc, op, out, err);
}

enum ss_rc ss_sm_tag(const struct ss_sm_scope *sc, const char *id, const char *target,
		     struct ss_buf *err)
{
	struct ss_sm_op *op = NULL;
	enum ss_rc rc = ss_sm_tag_start(sc, id, target, &op);

	return run_one(sc, rc, op, NULL, err);
}

enum ss_rc ss_sm_delete(const struct ss_sm_scope *sc, const char *id, int recovery_days,
			struct ss_sm_secret **out, struct ss_buf *err)
{
	struct ss_sm_op *op = NULL;
	enum ss_rc rc = ss_sm_delete_start(sc, id, recovery_days, &op);

	return run_one(sc, rc, op, out, err);
}
