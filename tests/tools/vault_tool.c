/* vault_tool - the Vault client as a command, for the integration tests
 * and the benchmark.
 *
 *   vault_tool [options] tree MOUNT [PATH...]   recursive read
 *   vault_tool [options] read MOUNT PATH        one secret
 *   vault_tool [options] write MOUNT PATH       data (a JSON object) on stdin
 *   vault_tool [options] version MOUNT          the KV version
 *   vault_tool [options] login                  log in, look the token up
 *   vault_tool [options] http METHOD URL        one raw request through the
 *                                               transport (body on stdin for
 *                                               POST/PUT), no Vault logic
 *
 * options: --out FILE (the JSON result; never printed), --kv-version N,
 * --max-depth N, --max-secrets N, --parallel N, --no-logout,
 * --not-idempotent / --idempotent (http: whether the request may be
 * repeated after it was sent; default: GET, HEAD, PUT, DELETE may),
 * --warm (http: GET the URL first, so the request goes on a kept-alive
 * connection).
 *
 * Settings come from the environment as for the binary: VAULT_ADDR,
 * VAULT_TOKEN, or VAULT_ROLE_ID + VAULT_SECRET_ID (VAULT_APPROLE_MOUNT),
 * or VAULT_ROLE + the GitHub OIDC variables (VAULT_JWT_MOUNT,
 * VAULT_JWT_AUDIENCE), VAULT_NAMESPACE, VAULT_CACERT,
 * VAULT_TLS_SERVER_NAME, SECRETSYNC_LOG_LEVEL, SECRETSYNC_HTTP_*.
 *
 * stdout gets counters only, one "name=value" per line: lists, reads,
 * secrets, requests, retries, max_in_flight, ms (http: status, attempts,
 * bytes). Errors go to stderr
 * through the logger (masked). Exit 0 on success, 1 on failure, 64 on a
 * bad command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/vault.h"
#include "commands/common.h"
#include "core/json.h"
#include "core/log.h"
#include "core/mask.h"
#include "net/http.h"
#include "core/banned.h"

struct opts {
	const char *out;
	int kv_version;
	long max_depth;
	long max_secrets;
	int parallel;
	int no_logout;
	int idempotent; /* http: -1 the method's default, 0 or 1 */
	int warm;       /* http: a GET of the URL first, to have a kept-alive connection */
};

static int usage(void)
{
	fputs("usage: vault_tool [--out FILE] [--kv-version N] [--max-depth N] [--max-secrets N]\n"
	      "                  [--parallel N] [--no-logout] [--[not-]idempotent] [--warm]\n"
	      "                  tree MOUNT [PATH...] | read MOUNT PATH | write MOUNT PATH |\n"
	      "                  version MOUNT | login | http METHOD URL\n",
	      stderr);
	return 64;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int write_json(const char *path, const cJSON *v)
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
		ss_error("vault_tool: cannot write %s", path);
		return 1;
	}
	ok = fputs(text, f) >= 0;
	ok = fclose(f) == 0 && ok;
	ss_free_secret(text);
	return ok ? 0 : 1;
}

static char *read_stdin(void)
{
	struct ss_buf b;
	char chunk[4096];
	size_t n;
	char *out = NULL;

	ss_buf_init(&b, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		if (ss_buf_add(&b, chunk, n) != SS_OK)
			break;
	ss_memzero(chunk, sizeof(chunk));
	if (ss_buf_take(&b, &out) != SS_OK)
		out = NULL;
	ss_buf_free(&b);
	return out;
}

struct raw {
	long status;
	int attempts;
	size_t bytes;
	enum ss_rc rc;
	char error[256];
};

static void on_raw(struct ss_http_resp *resp, void *ctx)
{
	struct raw *r = ctx;

	r->rc = resp->rc;
	r->status = resp->status;
	r->attempts = resp->attempts;
	r->bytes = resp->body.len;
	snprintf(r->error, sizeof(r->error), "%s", resp->error);
}

/* One request straight through the transport: its retry rules seen
 * from outside, without any Vault client logic. */
static int raw_request(struct ss_http *h, const char *method, const char *url, int idempotent,
		       int quiet)
{
	struct ss_http_req *req = ss_http_req_new(method, url);
	struct raw r;
	char *body = NULL;
	enum ss_rc rc = SS_OK;

	memset(&r, 0, sizeof(r));
	r.rc = SS_ERR_INTERNAL;
	if (req == NULL)
		return 1;
	req->service = SS_TLS_VAULT;
	req->label = "raw request";
	req->done = on_raw;
	req->ctx = &r;
	if (idempotent >= 0)
		req->idempotent = idempotent;
	if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
		body = read_stdin();
		rc = body == NULL ? SS_ERR_IO : ss_http_req_body(req, body, strlen(body));
		if (rc == SS_OK)
			rc = ss_http_req_header(req, "Content-Type", "application/json");
	}
	ss_free_secret(body);
	if (rc != SS_OK) {
		ss_http_req_free(req);
		return 1;
	}
	if (ss_http_submit(h, req) != SS_OK || ss_http_run(h) != SS_OK)
		return 1;
	if (quiet)
		return r.rc == SS_OK ? 0 : 1;
	printf("status=%ld\nattempts=%d\nbytes=%zu\n", r.status, r.attempts, r.bytes);
	if (r.rc != SS_OK)
		ss_error("raw request: %s", r.error);
	return r.rc == SS_OK ? 0 : 1;
}

static int parse_num(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	struct ss_vault_settings vs;
	struct ss_http_stats st;
	struct ss_vault *v = NULL;
	struct ss_http *h = NULL;
	struct ss_cli cli;
	struct ss_buf err;
	struct opts o;
	cJSON *result = NULL;
	const char *cmd, *lvl;
	double t0;
	long lists = 0, reads = 0, n;
	int i, code = 1, level;
	enum ss_rc rc = SS_OK;

	memset(&o, 0, sizeof(o));
	memset(&cli, 0, sizeof(cli));
	o.max_depth = -1;
	o.idempotent = -1;
	o.max_secrets = -1;
	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--no-logout") == 0)
			o.no_logout = 1;
		else if (strcmp(argv[i], "--not-idempotent") == 0)
			o.idempotent = 0;
		else if (strcmp(argv[i], "--idempotent") == 0)
			o.idempotent = 1;
		else if (strcmp(argv[i], "--warm") == 0)
			o.warm = 1;
		else if (i + 1 >= argc)
			return usage();
		else if (strcmp(argv[i], "--out") == 0)
			o.out = argv[++i];
		else if (strcmp(argv[i], "--kv-version") == 0 && parse_num(argv[++i], 1, 2, &n) == 0)
			o.kv_version = (int)n;
		else if (strcmp(argv[i], "--max-depth") == 0 &&
			 parse_num(argv[++i], 0, 100000, &n) == 0)
			o.max_depth = n;
		else if (strcmp(argv[i], "--max-secrets") == 0 &&
			 parse_num(argv[++i], 0, 100000000, &n) == 0)
			o.max_secrets = n;
		else if (strcmp(argv[i], "--parallel") == 0 && parse_num(argv[++i], 1, 256, &n) == 0)
			o.parallel = (int)n;
		else
			return usage();
	}
	if (i >= argc)
		return usage();
	cmd = argv[i++];
	lvl = getenv("SECRETSYNC_LOG_LEVEL");
	if (lvl != NULL && (level = ss_log_parse_level(lvl)) >= 0)
		ss_log_set_level((enum ss_log_level)level);

	ss_buf_init(&err, 0);
	ss_cmd_vault_settings(NULL, &cli, &vs);
	if (o.max_depth >= 0)
		vs.max_depth = o.max_depth;
	if (o.max_secrets >= 0)
		vs.max_secrets = o.max_secrets;
	h = ss_http_new(o.parallel);
	if (h == NULL)
		goto out;
	t0 = now_ms();
	if (strcmp(cmd, "http") == 0) {
		if (argc - i != 2) {
			code = usage();
			goto out;
		}
		if (o.warm && raw_request(h, "GET", argv[i + 1], 1, 1) != 0)
			goto out;
		code = raw_request(h, argv[i], argv[i + 1], o.idempotent, 0);
		ss_http_get_stats(h, &st);
		printf("requests=%lu\nretries=%lu\nms=%.1f\n", st.requests, st.retries,
		       now_ms() - t0);
		goto out;
	}
	v = ss_vault_new(h, &vs, &err);
	if (v == NULL)
		goto out;
	rc = ss_vault_login(v, &err);
	if (rc != SS_OK)
		goto out;
	if (strcmp(cmd, "tree") == 0 && i < argc) {
		struct ss_vault_tree *op = NULL;
		const char *mount = argv[i++];

		rc = ss_vault_tree_start(v, mount, o.kv_version, (const char *const *)&argv[i],
					 (size_t)(argc - i), &op);
		if (rc == SS_OK)
			rc = ss_http_run(h);
		if (op != NULL) {
			enum ss_rc frc;

			ss_vault_tree_counts(op, &lists, &reads);
			frc = ss_vault_tree_finish(op, &result, &err);
			if (rc == SS_OK)
				rc = frc;
		}
		if (rc == SS_OK)
			printf("secrets=%d\n", cJSON_GetArraySize(result));
	} else if (strcmp(cmd, "read") == 0 && argc - i == 2) {
		rc = ss_vault_read(v, argv[i], argv[i + 1], &result, &err);
	} else if (strcmp(cmd, "write") == 0 && argc - i == 2) {
		char *text = read_stdin();
		cJSON *data = NULL;

		rc = text == NULL ? SS_ERR_IO : ss_json_parse(text, strlen(text), &data);
		if (rc == SS_OK && ss_mask_add_json(ss_mask_global(), data) != SS_OK)
			rc = SS_ERR_NOMEM;
		if (rc == SS_OK)
			rc = ss_vault_write(v, argv[i], argv[i + 1], data, &err);
		else
			ss_error("vault_tool: stdin is not JSON");
		ss_json_delete_secret(data);
		ss_free_secret(text);
	} else if (strcmp(cmd, "version") == 0 && argc - i == 1) {
		int ver = 0;

		rc = ss_vault_kv_version(v, argv[i], &ver, &err);
		if (rc == SS_OK)
			printf("version=%d\n", ver);
	} else if (strcmp(cmd, "login") == 0 && argc == i) {
		rc = ss_vault_lookup_self(v, &err);
	} else {
		code = usage();
		goto out;
	}
	if (rc == SS_OK && result != NULL && write_json(o.out, result) != 0)
		rc = SS_ERR_IO;
	ss_http_get_stats(h, &st);
	printf("lists=%ld\nreads=%ld\nrequests=%lu\nretries=%lu\nmax_in_flight=%d\nms=%.1f\n",
	       lists, reads, st.requests, st.retries, st.max_in_flight, now_ms() - t0);
	code = rc == SS_OK ? 0 : 1;
out:
	fflush(stdout);
	if (err.len > 0)
		ss_cmd_log_errors(err.data);
	if (v != NULL && !o.no_logout)
		ss_vault_logout(v);
	ss_vault_free(v);
	ss_http_free(h);
	ss_json_delete_secret(result);
	ss_buf_free(&err);
	return code;
}
