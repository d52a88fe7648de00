/* mergetool - the deep merge as a filter, for the differential test.
 *
 * Reads JSON lines from stdin, each an array [a, b], and writes one line
 * per input line: the compact JSON of ss_merge(a, b), or "!error: ..."
 * when the line is not such an array or the merge fails.
 *
 *   mergetool [--lists append|replace|union] [--nulls override|keep]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/merge.h"
#include "core/banned.h"

static int usage(void)
{
	fputs("usage: mergetool [--lists append|replace|union] [--nulls override|keep]\n", stderr);
	return 64;
}

static void merge_line(const char *line, size_t len, const struct ss_merge_opts *o)
{
	cJSON *pair = NULL, *r = NULL;
	char *text = NULL;
	enum ss_rc rc;

	rc = ss_json_parse(line, len, &pair);
	if (rc != SS_OK) {
		printf("!error: parse: %s\n", ss_strerror(rc));
		goto out;
	}
	if (!cJSON_IsArray(pair) || cJSON_GetArraySize(pair) != 2) {
		printf("!error: not a pair\n");
		goto out;
	}
	rc = ss_merge(cJSON_GetArrayItem(pair, 0), cJSON_GetArrayItem(pair, 1), o, &r);
	if (rc == SS_OK)
		rc = ss_json_print(r, &text);
	if (rc != SS_OK) {
		printf("!error: merge: %s\n", ss_strerror(rc));
		goto out;
	}
	printf("%s\n", text);
out:
	ss_free_secret(text);
	ss_json_delete_secret(r);
	ss_json_delete_secret(pair);
}

int main(int argc, char **argv)
{
	struct ss_merge_opts o;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int i;

	memset(&o, 0, sizeof(o));
	for (i = 1; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "--lists") == 0) {
			if (ss_merge_lists_parse(argv[++i], &o.lists) != SS_OK)
				return usage();
		} else if (i + 1 < argc && strcmp(argv[i], "--nulls") == 0) {
			if (ss_merge_nulls_parse(argv[++i], &o.nulls) != SS_OK)
				return usage();
		} else {
			return usage();
		}
	}
	while ((n = getline(&line, &cap, stdin)) > 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		if (n == 0) {
			printf("!error: empty line\n");
			continue;
		}
		merge_line(line, (size_t)n, &o);
	}
	if (line != NULL)
		ss_memzero(line, cap);
	free(line);
	return fflush(stdout) == 0 ? 0 : 1;
}
