#include "aws_source.h"

#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/log.h"
#include "core/banned.h"

struct ss_aws_source {
	char *name;
	char *prefix;
	struct ss_sm_read *read;
};

enum ss_rc ss_aws_source_value(const char *text, size_t len, cJSON **out)
{
	cJSON *v = NULL;
	char *copy;
	enum ss_rc rc;

	*out = NULL;
	rc = ss_json_parse(text, len, &v);
	if (rc == SS_ERR_NOMEM)
		return rc;
	if (rc == SS_OK && (cJSON_IsObject(v) || cJSON_IsArray(v))) {
		*out = v;
		return SS_OK;
	}
	/* A scalar, or not JSON at all: the string as it is. */
	ss_json_delete_secret(v);
	if (memchr(text, '\0', len) != NULL)
		return SS_ERR_INVALID;
	copy = ss_strndup(text, len);
	if (copy == NULL)
		return SS_ERR_NOMEM;
	v = cJSON_CreateString(copy);
	ss_free_secret(copy);
	if (v == NULL)
		return SS_ERR_NOMEM;
	*out = v;
	return SS_OK;
}

enum ss_rc ss_aws_source_build(const struct ss_sm_set *set, const char *prefix,
			       const char *source, cJSON **out)
{
	size_t plen = prefix ? strlen(prefix) : 0, i;
	cJSON *obj = cJSON_CreateObject();
	enum ss_rc rc = SS_OK;

	*out = NULL;
	if (obj == NULL)
		return SS_ERR_NOMEM;
	for (i = 0; set != NULL && i < set->n; i++) {
		const struct ss_sm_secret *s = &set->items[i];
		const char *key = s->name + plen;
		cJSON *v = NULL;

		if (plen > 0 && strncmp(s->name, prefix, plen) != 0)
			continue;
		if (s->deleted)
			continue;
		if (*key == '\0') {
			ss_warn("source %s: the secret %s is named exactly the prefix, so it has no "
				"name in the source; skipped",
				source ? source : "?", s->name);
			continue;
		}
		if (s->kind == SS_SM_BINARY) {
			ss_warn("source %s: the secret %s holds binary data (SecretBinary), which "
				"cannot be merged; skipped",
				source ? source : "?", s->name);
			continue;
		}
		if (s->kind != SS_SM_STRING)
			continue; /* no current value */
		rc = ss_aws_source_value(s->value, s->value_len, &v);
		if (rc != SS_OK)
			break;
		/* set is sorted and unique, so no key repeats. */
		if (!cJSON_AddItemToObject(obj, key, v)) {
			ss_json_delete_secret(v);
			rc = SS_ERR_NOMEM;
			break;
		}
	}
	if (rc != SS_OK) {
		ss_json_delete_secret(obj);
		return rc;
	}
	*out = obj;
	return SS_OK;
}

static void source_free(struct ss_aws_source *op)
{
	if (op == NULL)
		return;
	free(op->name);
	free(op->prefix);
	free(op);
}

enum ss_rc ss_aws_source_start(struct ss_http *h, const struct ss_aws_creds *creds,
			       const struct ss_aws_source_settings *s,
			       struct ss_aws_source **opp)
{
	struct ss_aws_source *op = calloc(1, sizeof(*op));
	struct ss_sm_scope sc;
	struct ss_sm_filter f;
	enum ss_rc rc;

	*opp = NULL;
	if (op == NULL)
		return SS_ERR_NOMEM;
	op->name = ss_strdup(s->name ? s->name : "aws");
	op->prefix = ss_strdup(s->prefix ? s->prefix : "");
	if (op->name == NULL || op->prefix == NULL) {
		source_free(op);
		return SS_ERR_NOMEM;
	}
	memset(&sc, 0, sizeof(sc));
	sc.h = h;
	sc.creds = creds;
	sc.region = s->region;
	sc.role_arn = s->role_arn;
	memset(&f, 0, sizeof(f));
	f.name_prefix = op->prefix;
	f.exclude_deleted = 1;
	rc = ss_sm_state_start(&sc, &f, NULL, 0, &op->read);
	if (rc != SS_OK) {
		source_free(op);
		return rc;
	}
	*opp = op;
	return SS_OK;
}

/* Append src's lines to err, each prefixed with "source NAME: ". */
static enum ss_rc prefixed(struct ss_buf *err, const char *name, const struct ss_buf *src)
{
	const char *p = src->data, *end = src->data + src->len;
	enum ss_rc rc = SS_OK;

	while (rc == SS_OK && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		rc = ss_buf_addf(err, "source %s: %.*s\n", name, (int)n, p);
		p += n + (nl ? 1 : 0);
	}
	return rc;
}

enum ss_rc ss_aws_source_finish(struct ss_aws_source *op, cJSON **out, struct ss_buf *err)
{
	struct ss_sm_set *set = NULL;
	struct ss_buf e;
	enum ss_rc rc;

	*out = NULL;
	if (op == NULL)
		return SS_ERR_INTERNAL;
	ss_buf_init(&e, 0);
	rc = ss_sm_read_finish(op->read, &set, &e);
	if (rc == SS_OK)
		rc = ss_aws_source_build(set, op->prefix, op->name, out);
	if (e.len > 0 && prefixed(err, op->name, &e) != SS_OK)
		rc = SS_ERR_NOMEM;
	ss_sm_set_free(set);
	ss_buf_free(&e);
	source_free(op);
	return rc;
}

enum ss_rc ss_aws_source_read(struct ss_http *h, const struct ss_aws_creds *creds,
			      const struct ss_aws_source_settings *s, cJSON **out,
			      struct ss_buf *err)
{
	struct ss_aws_source *op = NULL;
	enum ss_rc rc;

	*out = NULL;
	rc = ss_aws_source_start(h, creds, s, &op);
	if (rc != SS_OK)
		return rc;
	rc = ss_http_run(h);
	if (rc != SS_OK)
		return rc; /* the op's requests may still be queued: keep it */
	return ss_aws_source_finish(op, out, err);
}
