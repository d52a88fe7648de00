/* gh_tool - the GitHub client as a command, for the integration tests.
 *
 *   gh_tool [--token T] status SHA STATE CONTEXT DESCRIPTION [TARGET_URL]
 *                                     SHA "-" = the context's (PR head or GITHUB_SHA)
 *   gh_tool [--token T] comment MARKER [PR]   the body on stdin; PR 0/absent = the event's
 *   gh_tool marker CONFIG COMMAND             print the sticky marker
 *   gh_tool context                           print the event context as JSON
 *
 * Settings come from the environment as for the binary (SPEC §7):
 * GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_SHA, GITHUB_EVENT_NAME,
 * GITHUB_EVENT_PATH, GITHUB_SERVER_URL, GITHUB_RUN_ID; the token from
 * --token, else GITHUB_TOKEN. SECRETSYNC_LOG_LEVEL and SECRETSYNC_HTTP_*
 * apply.
 *
 * stdout: "created id=N url=U", "updated id=N url=U" or "unchanged id=N"
 * for comment, "ok" for status, the marker, or the context JSON. Errors go
 * to stderr through the logger (masked). Exit 0 on success, 1 on
 * failure, 64 on a bad command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backends/github_api.h"
#include "commands/common.h"
#include "core/json.h"
#include "core/log.h"
#include "core/mask.h"
#include "net/http.h"
#include "core/banned.h"

static int usage(void)
{
	fputs("usage: gh_tool [--token T] status SHA|- STATE CONTEXT DESCRIPTION [TARGET_URL]\n"
	      "       gh_tool [--token T] comment MARKER [PR]   (body on stdin)\n"
	      "       gh_tool marker CONFIG COMMAND\n"
	      "       gh_tool context\n",
	      stderr);
	return 64;
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
	if (ss_buf_take(&b, &out) != SS_OK)
		out = NULL;
	ss_buf_free(&b);
	return out;
}

static int add_str(cJSON *o, const char *key, const char *v)
{
	return (v ? cJSON_AddStringToObject(o, key, v) : cJSON_AddNullToObject(o, key)) != NULL;
}

static int print_context(const struct ss_github_context *ctx)
{
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;
	int ok;

	ok = o != NULL && add_str(o, "api_url", ctx->api_url) &&
	     add_str(o, "repository", ctx->repository) &&
	     add_str(o, "event_name", ctx->event_name) && add_str(o, "sha", ctx->sha) &&
	     (ctx->pr_number > 0 ? cJSON_AddNumberToObject(o, "pr_number", (double)ctx->pr_number)
				 : cJSON_AddNullToObject(o, "pr_number")) != NULL &&
	     add_str(o, "head_sha", ctx->head_sha) &&
	     add_str(o, "status_sha", ss_github_context_sha(ctx)) &&
	     add_str(o, "target_url", ctx->target_url) && ss_json_print(o, &text) == SS_OK;
	if (ok) {
		ss_print(stdout, text);
		ss_print(stdout, "\n");
	}
	free(text);
	cJSON_Delete(o);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct ss_github_context ctx;
	struct ss_github_comment info;
	struct ss_github *g = NULL;
	struct ss_http *h = NULL;
	struct ss_buf err, line;
	const char *token = getenv("GITHUB_TOKEN"), *cmd, *lvl;
	char *body = NULL;
	int i = 1, code = 1, level;
	enum ss_rc rc = SS_OK;

	memset(&ctx, 0, sizeof(ctx));
	ss_buf_init(&err, 0);
	ss_buf_init(&line, 0);
	lvl = getenv("SECRETSYNC_LOG_LEVEL");
	if (lvl != NULL && (level = ss_log_parse_level(lvl)) >= 0)
		ss_log_set_level((enum ss_log_level)level);
	if (i + 1 < argc && strcmp(argv[i], "--token") == 0) {
		token = argv[i + 1];
		i += 2;
	}
	if (i >= argc)
		return usage();
	cmd = argv[i++];
	if (strcmp(cmd, "marker") == 0) {
		if (argc - i != 2)
			return usage();
		if (ss_github_marker(argv[i], argv[i + 1], &line) != SS_OK)
			return 1;
		puts(line.data);
		ss_buf_free(&line);
		return 0;
	}
	if (!((strcmp(cmd, "context") == 0 && argc == i) ||
	      (strcmp(cmd, "status") == 0 && (argc - i == 4 || argc - i == 5)) ||
	      (strcmp(cmd, "comment") == 0 && (argc - i == 1 || argc - i == 2))))
		return usage();
	/* Mask the token before anything could print it. */
	if (token != NULL && ss_mask_add(ss_mask_global(), token) != SS_OK)
		goto out;
	rc = ss_github_context_load(&ctx, &err);
	if (rc != SS_OK)
		goto out;
	if (strcmp(cmd, "context") == 0) {
		code = print_context(&ctx);
		goto out;
	}
	h = ss_http_new(0);
	if (h == NULL)
		goto out;
	g = ss_github_new(h, &ctx, token ? token : "", &err);
	if (g == NULL)
		goto out;
	if (strcmp(cmd, "status") == 0) {
		rc = ss_github_status(g, strcmp(argv[i], "-") == 0 ? NULL : argv[i], argv[i + 1],
				      argv[i + 2], argv[i + 3], argc - i == 5 ? argv[i + 4] : NULL,
				      &err);
		if (rc == SS_OK)
			puts("ok");
	} else {
		long pr = argc - i == 2 ? strtol(argv[i + 1], NULL, 10) : 0;

		body = read_stdin();
		if (body == NULL) {
			ss_error("gh_tool: cannot read the body from stdin");
			goto out;
		}
		rc = ss_github_sticky_comment(g, pr, argv[i], body, &info, &err);
		if (rc == SS_OK &&
		    ss_buf_addf(&line, "%s id=%lld%s%s\n",
				info.unchanged ? "unchanged"
				: info.updated ? "updated"
					       : "created",
				info.id, info.html_url[0] ? " url=" : "", info.html_url) == SS_OK)
			ss_print(stdout, line.data);
	}
	code = rc == SS_OK ? 0 : 1;
out:
	fflush(stdout);
	if (err.len > 0)
		ss_cmd_log_errors(err.data);
	ss_github_free(g);
	ss_http_free(h);
	ss_github_context_free(&ctx);
	free(body);
	ss_buf_free(&err);
	ss_buf_free(&line);
	return code;
}
