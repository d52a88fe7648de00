/* sm_tool - the Secrets Manager client as a command, for the integration
 * tests.
 *
 *   sm_tool [options] list [PREFIX]          ListSecrets (deleted included)
 *   sm_tool [options] state PREFIX [NAME...] list + read NAMEs (all if none)
 *   sm_tool [options] batch ID...            BatchGetSecretValue (+ fallback)
 *   sm_tool [options] get ID                 GetSecretValue
 *   sm_tool [options] describe ID            DescribeSecret
 *   sm_tool [options] create NAME TARGET     CreateSecret, the value on stdin
 *   sm_tool [options] put NAME TARGET PREV   PutSecretValue, the value on
 *                                            stdin; PREV "-" = none
 *   sm_tool [options] tag ID TARGET          TagResource (ownership tags)
 *   sm_tool [options] delete ID DAYS         DeleteSecret with a recovery window
 *   sm_tool [options] token TARGET NAME PREV the ClientRequestToken of the
 *                                            value on stdin (no network)
 *   sm_tool [options] source PREFIX          the AWS source object
 *
 * options: --out FILE (the values read, as JSON {"name": "value"}, or the
 * source object; never printed), --region R (default AWS_REGION, then
 * AWS_DEFAULT_REGION), --role-arn ARN (named in messages), --parallel N,
 * --token-key K (key the ClientRequestToken of create, put and token).
 *
 * Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 * AWS_SESSION_TOKEN; the endpoint from AWS_ENDPOINT_URL_SECRETS_MANAGER /
 * AWS_ENDPOINT_URL; SECRETSYNC_LOG_LEVEL and SECRETSYNC_HTTP_* as for the
 * binary.
 *
 * stdout gets one JSON object without any value: the secrets' names,
 * ARNs, version ids, tags, deletion marks and value kinds, and the
 * request counters. Errors go to stderr through the mask. Exit codes:
 * 0 ok, 1 other failure, 2 not found, 3 conflict, 4 access/auth, 5
 * invalid, 6 too big, 64 bad command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/aws_sm.h"
#include "backends/aws_source.h"
#include "core/json.h"
#include "core/log.h"
#include "core/mask.h"
#include "net/http.h"
#include "core/banned.h"

static int usage(void)
{
	fputs("usage: sm_tool [--out FILE] [--region R] [--role-arn ARN] [--parallel N]\n"
	      "               [--token-key K]\n"
	      "               list [PREFIX] | state PREFIX [NAME...] | batch ID... | get ID |\n"
	      "               describe ID | create NAME TARGET | put NAME TARGET PREV |\n"
	      "               tag ID TARGET | delete ID DAYS | token TARGET NAME PREV |\n"
	      "               source PREFIX\n",
	      stderr);
	return 64;
}

static int exit_code(enum ss_rc rc)
{
	switch (rc) {
	case SS_OK: return 0;
	case SS_ERR_NOTFOUND: return 2;
	case SS_ERR_CONFLICT: return 3;
	case SS_ERR_AUTH: return 4;
	case SS_ERR_INVALID: return 5;
	case SS_ERR_TOOBIG: return 6;
	default: return 1;
	}
}

static char *read_stdin(size_t *len)
{
	struct ss_buf b;
	char chunk[4096];
	size_t n;
	char *out = NULL;

	*len = 0;
	ss_buf_init(&b, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		if (ss_buf_add(&b, chunk, n) != SS_OK)
			break;
	ss_memzero(chunk, sizeof(chunk));
	*len = b.len;
	if (ss_buf_take(&b, &out) != SS_OK)
		out = NULL;
	ss_buf_free(&b);
	return out;
}

static const char *kind_name(enum ss_sm_value_kind k)
{
	return k == SS_SM_STRING ? "string" : k == SS_SM_BINARY ? "binary" : "none";
}

/* The metadata of s (no value). */
static cJSON *meta(const struct ss_sm_secret *s)
{
	cJSON *o = cJSON_CreateObject(), *tags;
	size_t i;

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "name", s->name);
	if (s->arn)
		cJSON_AddStringToObject(o, "arn", s->arn);
	if (s->version_id)
		cJSON_AddStringToObject(o, "version_id", s->version_id);
	cJSON_AddBoolToObject(o, "deleted", s->deleted);
	if (s->deleted_date > 0)
		cJSON_AddNumberToObject(o, "deleted_date", s->deleted_date);
	cJSON_AddStringToObject(o, "kind", kind_name(s->kind));
	if (s->kind == SS_SM_STRING)
		cJSON_AddNumberToObject(o, "value_len", (double)s->value_len);
	if (s->tags_known) {
		tags = cJSON_AddObjectToObject(o, "tags");
		for (i = 0; tags != NULL && i < s->ntags; i++)
			cJSON_AddStringToObject(tags, s->tags[i].key, s->tags[i].value);
		cJSON_AddBoolToObject(o, "managed", ss_sm_is_managed(s, NULL));
	}
	return o;
}

static int write_file(const char *path, const cJSON *v)
{
	char *text = NULL;
	FILE *f;
	int ok;

	if (path == NULL)
		return 0;
	if (ss_json_print(v, &text) != SS_OK)
		return 1;
	f = fopen(path, "w");
	if (f == NULL) {
		ss_free_secret(text);
		ss_error("sm_tool: cannot write %s", path);
		return 1;
	}
	ok = fputs(text, f) >= 0;
	ok = fclose(f) == 0 && ok;
	ss_free_secret(text);
	return ok ? 0 : 1;
}

/* Print the set's metadata to stdout; its values to out (a file). */
static int emit_set(const struct ss_sm_set *set, const struct ss_sm_counts *n, const char *out)
{
	cJSON *doc = cJSON_CreateObject(), *arr, *vals = cJSON_CreateObject(), *c;
	char *text = NULL;
	size_t i;
	int code = 0;

	arr = cJSON_AddArrayToObject(doc, "secrets");
	for (i = 0; i < set->n; i++) {
		cJSON_AddItemToArray(arr, meta(&set->items[i]));
		if (set->items[i].kind == SS_SM_STRING)
			cJSON_AddStringToObject(vals, set->items[i].name, set->items[i].value);
	}
	if (n != NULL) {
		c = cJSON_AddObjectToObject(doc, "counts");
		cJSON_AddNumberToObject(c, "list_calls", n->list_calls);
		cJSON_AddNumberToObject(c, "batch_calls", n->batch_calls);
		cJSON_AddNumberToObject(c, "get_calls", n->get_calls);
	}
	if (ss_json_print(doc, &text) == SS_OK) {
		ss_print(stdout, text);
		ss_print(stdout, "\n");
	} else {
		code = 1;
	}
	if (write_file(out, vals) != 0)
		code = 1;
	ss_free_secret(text);
	cJSON_Delete(doc);
	ss_json_delete_secret(vals);
	return code;
}

static int emit_one(const struct ss_sm_secret *s, const char *token, const char *out)
{
	cJSON *o = meta(s);
	char *text = NULL;
	int code = 0;

	if (o == NULL)
		return 1;
	if (token != NULL)
		cJSON_AddStringToObject(o, "token", token);
	if (ss_json_print(o, &text) == SS_OK) {
		ss_print(stdout, text);
		ss_print(stdout, "\n");
	} else {
		code = 1;
	}
	cJSON_Delete(o);
	ss_free_secret(text);
	if (out != NULL && s->kind == SS_SM_STRING) {
		cJSON *v = cJSON_CreateObject();

		cJSON_AddStringToObject(v, s->name, s->value);
		code |= write_file(out, v);
		ss_json_delete_secret(v);
	}
	return code;
}

/* A read op run to the end, with its counters. */
static enum ss_rc run_read(struct ss_http *h, enum ss_rc rc, struct ss_sm_read *op,
			   struct ss_sm_set **set, struct ss_sm_counts *n, struct ss_buf *err)
{
	enum ss_rc frc;

	*set = NULL;
	memset(n, 0, sizeof(*n));
	if (rc != SS_OK)
		return rc;
	rc = ss_http_run(h);
	ss_sm_read_counts(op, n);
	frc = ss_sm_read_finish(op, set, err);
	return rc != SS_OK ? rc : frc;
}

int main(int argc, char **argv)
{
	struct ss_aws_creds creds;
	struct ss_sm_scope sc;
	struct ss_sm_set *set = NULL;
	struct ss_sm_secret *one = NULL;
	struct ss_sm_counts n;
	struct ss_http *h = NULL;
	struct ss_buf err;
	const char *out = NULL, *region = NULL, *role = NULL, *key = NULL, *cmd, *lvl;
	char *value = NULL;
	size_t vlen = 0;
	int i, level, parallel = 0, code = 1, nargs;
	enum ss_rc rc = SS_OK;

	memset(&creds, 0, sizeof(creds));
	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (i + 1 >= argc)
			return usage();
		if (strcmp(argv[i], "--out") == 0)
			out = argv[++i];
		else if (strcmp(argv[i], "--region") == 0)
			region = argv[++i];
		else if (strcmp(argv[i], "--role-arn") == 0)
			role = argv[++i];
		else if (strcmp(argv[i], "--token-key") == 0)
			key = argv[++i];
		else if (strcmp(argv[i], "--parallel") == 0)
			parallel = atoi(argv[++i]);
		else
			return usage();
	}
	if (i >= argc)
		return usage();
	cmd = argv[i++];
	nargs = argc - i;
	lvl = getenv("SECRETSYNC_LOG_LEVEL");
	if (lvl != NULL && (level = ss_log_parse_level(lvl)) >= 0)
		ss_log_set_level((enum ss_log_level)level);
	if (region == NULL)
		region = getenv("AWS_REGION");
	if (region == NULL || *region == '\0')
		region = getenv("AWS_DEFAULT_REGION");
	ss_buf_init(&err, 0);

	if (strcmp(cmd, "token") == 0) {
		char tok[SS_SM_TOKEN_LEN + 1];

		if (nargs != 3)
			return usage();
		value = read_stdin(&vlen);
		if (value == NULL)
			goto out;
		ss_sm_token_keyed(key, key ? strlen(key) : 0, argv[i], argv[i + 1],
				  strcmp(argv[i + 2], "-") ? argv[i + 2] : NULL, value, vlen, tok);
		printf("%s\n", tok);
		code = 0;
		goto out;
	}

	creds.access_key_id = ss_strdup(getenv("AWS_ACCESS_KEY_ID"));
	creds.secret_access_key = ss_strdup(getenv("AWS_SECRET_ACCESS_KEY"));
	creds.session_token = ss_strdup(getenv("AWS_SESSION_TOKEN"));
	creds.source = ss_strdup("environment");
	if (ss_aws_creds_mask(&creds) != SS_OK)
		goto out;
	h = ss_http_new(parallel);
	if (h == NULL)
		goto out;
	memset(&sc, 0, sizeof(sc));
	sc.h = h;
	sc.creds = creds.access_key_id ? &creds : NULL;
	sc.region = region;
	sc.role_arn = role;

	if (strcmp(cmd, "list") == 0 && nargs <= 1) {
		struct ss_sm_filter f;
		struct ss_sm_read *op = NULL;

		memset(&f, 0, sizeof(f));
		f.name_prefix = nargs == 1 ? argv[i] : NULL;
		rc = ss_sm_list_start(&sc, &f, &op);
		rc = run_read(h, rc, op, &set, &n, &err);
		if (rc == SS_OK)
			code = emit_set(set, &n, out);
	} else if (strcmp(cmd, "state") == 0 && nargs >= 1) {
		struct ss_sm_filter f;
		struct ss_sm_read *op = NULL;

		memset(&f, 0, sizeof(f));
		f.name_prefix = argv[i];
		rc = ss_sm_state_start(&sc, &f, nargs > 1 ? (const char *const *)&argv[i + 1] : NULL,
				       (size_t)(nargs - 1), &op);
		rc = run_read(h, rc, op, &set, &n, &err);
		if (rc == SS_OK)
			code = emit_set(set, &n, out);
	} else if (strcmp(cmd, "batch") == 0 && nargs >= 1) {
		struct ss_sm_read *op = NULL;

		rc = ss_sm_batch_get_start(&sc, (const char *const *)&argv[i], (size_t)nargs, &op);
		rc = run_read(h, rc, op, &set, &n, &err);
		if (rc == SS_OK)
			code = emit_set(set, &n, out);
	} else if (strcmp(cmd, "get") == 0 && nargs == 1) {
		rc = ss_sm_get(&sc, argv[i], &one, &err);
		if (rc == SS_OK)
			code = emit_one(one, NULL, out);
	} else if (strcmp(cmd, "describe") == 0 && nargs == 1) {
		rc = ss_sm_describe(&sc, argv[i], &one, &err);
		if (rc == SS_OK)
			code = emit_one(one, NULL, NULL);
	} else if ((strcmp(cmd, "create") == 0 && nargs == 2) ||
		   (strcmp(cmd, "put") == 0 && nargs == 3)) {
		struct ss_sm_write w;
		char tok[SS_SM_TOKEN_LEN + 1];
		int create = strcmp(cmd, "create") == 0;

		value = read_stdin(&vlen);
		if (value == NULL)
			goto out;
		memset(&w, 0, sizeof(w));
		w.name = argv[i];
		w.target = argv[i + 1];
		w.value = value;
		w.value_len = vlen;
		w.previous_version = !create && strcmp(argv[i + 2], "-") != 0 ? argv[i + 2] : NULL;
		w.token_key = key;
		w.token_key_len = key ? strlen(key) : 0;
		ss_sm_token_keyed(key, w.token_key_len, w.target, w.name, w.previous_version, value,
				  vlen, tok);
		rc = create ? ss_sm_create(&sc, &w, &one, &err) : ss_sm_put(&sc, &w, &one, &err);
		if (rc == SS_OK)
			code = emit_one(one, tok, NULL);
	} else if (strcmp(cmd, "tag") == 0 && nargs == 2) {
		rc = ss_sm_tag(&sc, argv[i], argv[i + 1], &err);
		if (rc == SS_OK) {
			printf("{\"tagged\":true}\n");
			code = 0;
		}
	} else if (strcmp(cmd, "delete") == 0 && nargs == 2) {
		rc = ss_sm_delete(&sc, argv[i], atoi(argv[i + 1]), &one, &err);
		if (rc == SS_OK)
			code = emit_one(one, NULL, NULL);
	} else if (strcmp(cmd, "source") == 0 && nargs == 1) {
		struct ss_aws_source_settings s;
		cJSON *obj = NULL, *keys, *k;
		char *text = NULL;

		memset(&s, 0, sizeof(s));
		s.name = "cli";
		s.region = region;
		s.prefix = argv[i];
		s.role_arn = role;
		rc = ss_aws_source_read(h, sc.creds, &s, &obj, &err);
		if (rc == SS_OK) {
			keys = cJSON_CreateArray();
			cJSON_ArrayForEach(k, obj)
				cJSON_AddItemToArray(keys, cJSON_CreateString(k->string));
			if (ss_json_print(keys, &text) == SS_OK) {
				ss_print(stdout, "{\"keys\":");
				ss_print(stdout, text);
				ss_print(stdout, "}\n");
				code = write_file(out, obj);
			}
			free(text);
			cJSON_Delete(keys);
			ss_json_delete_secret(obj);
		}
	} else {
		code = usage();
		goto out;
	}
	if (rc != SS_OK) {
		if (err.len > 0)
			ss_print(stderr, err.data);
		else
			ss_error("sm_tool: %s failed: %s", cmd, ss_strerror(rc));
		code = exit_code(rc);
	}
out:
	fflush(stdout);
	ss_sm_set_free(set);
	ss_sm_secret_free(one);
	if (value != NULL) {
		ss_memzero(value, vlen);
		free(value);
	}
	ss_http_free(h);
	ss_aws_creds_clear(&creds);
	ss_buf_free(&err);
	return code;
}
