/* ghcmd_tool.c - drive ghcmd.c and the mask emitter from a test script.
 *
 *   ghcmd_tool PATH     stdin [["NAME","VALUE"], ...]: ss_ghfile_append
 *                       each pair to PATH; prints "ok" or "error: WHY"
 *                       per pair
 *   ghcmd_tool --cmd    stdin [["CMD", [["K","V"], ...] | null, "MSG"], ...]:
 *                       prints each ss_ghcmd_format line, or
 *                       "error: WHY" on a line of its own
 *   ghcmd_tool --mask   stdin ["VALUE", ...]: a registry with stdout as
 *                       emitter; ss_mask_add each value
 *
 * Exit status 0, or 2 for bad usage or input. Strings are C strings: a
 * JSON "\u0000" ends one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/buf.h"
#include "core/ghcmd.h"
#include "core/mask.h"
#include "core/banned.h"

static cJSON *read_stdin_json(void)
{
	struct ss_buf in;
	char chunk[65536];
	size_t n;
	cJSON *j = NULL;

	ss_buf_init(&in, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
		if (ss_buf_add(&in, chunk, n) != SS_OK)
			goto out;
	}
	if (ferror(stdin))
		goto out;
	j = cJSON_ParseWithLength(in.data, in.len);
out:
	ss_buf_free(&in);
	return j;
}

static int do_file(const char *path, const cJSON *pairs)
{
	const cJSON *p, *name, *value;
	enum ss_rc rc;

	cJSON_ArrayForEach(p, pairs)
	{
		name = cJSON_GetArrayItem(p, 0);
		value = cJSON_GetArrayItem(p, 1);
		if (!cJSON_IsString(name) || !cJSON_IsString(value))
			return 2;
		rc = ss_ghfile_append(path, name->valuestring, value->valuestring,
				      strlen(value->valuestring));
		if (rc == SS_OK)
			puts("ok");
		else
			printf("error: %s\n", ss_strerror(rc));
	}
	return 0;
}

static int do_cmd(const cJSON *cmds)
{
	const cJSON *c, *cmd, *props, *msg, *kv;
	const char **pv = NULL;
	struct ss_buf out;
	size_t n, i;
	enum ss_rc rc;
	int ret = 0;

	ss_buf_init(&out, 0);
	cJSON_ArrayForEach(c, cmds)
	{
		cmd = cJSON_GetArrayItem(c, 0);
		props = cJSON_GetArrayItem(c, 1);
		msg = cJSON_GetArrayItem(c, 2);
		if (!cJSON_IsString(cmd) || !cJSON_IsString(msg)) {
			ret = 2;
			goto out;
		}
		n = cJSON_IsArray(props) ? (size_t)cJSON_GetArraySize(props) : 0;
		free(pv);
		pv = calloc(2 * n + 1, sizeof(*pv));
		if (pv == NULL) {
			ret = 2;
			goto out;
		}
		for (i = 0; i < n; i++) {
			kv = cJSON_GetArrayItem(props, (int)i);
			pv[2 * i] = cJSON_GetStringValue(cJSON_GetArrayItem(kv, 0));
			pv[2 * i + 1] = cJSON_GetStringValue(cJSON_GetArrayItem(kv, 1));
			if (pv[2 * i] == NULL) {
				ret = 2;
				goto out;
			}
		}
		ss_buf_reset(&out);
		rc = ss_ghcmd_format(&out, cmd->valuestring, cJSON_IsArray(props) ? pv : NULL,
				     msg->valuestring);
		if (rc == SS_OK)
			fwrite(out.data, 1, out.len, stdout);
		else
			printf("error: %s\n", ss_strerror(rc));
	}
out:
	free(pv);
	ss_buf_free(&out);
	return ret;
}

static int do_mask(const cJSON *values)
{
	struct ss_mask *m = ss_mask_new();
	const cJSON *v;
	int ret = 0;

	if (m == NULL)
		return 2;
	ss_mask_set_emitter(m, stdout);
	cJSON_ArrayForEach(v, values)
	{
		if (!cJSON_IsString(v) || ss_mask_add(m, v->valuestring) != SS_OK) {
			ret = 2;
			break;
		}
	}
	ss_mask_free(m);
	return ret;
}

int main(int argc, char **argv)
{
	cJSON *in;
	int ret;

	if (argc != 2) {
		fputs("usage: ghcmd_tool PATH | --cmd | --mask  (JSON on stdin)\n", stderr);
		return 2;
	}
	in = read_stdin_json();
	if (!cJSON_IsArray(in)) {
		fputs("ghcmd_tool: stdin is not a JSON array\n", stderr);
		cJSON_Delete(in);
		return 2;
	}
	if (strcmp(argv[1], "--cmd") == 0)
		ret = do_cmd(in);
	else if (strcmp(argv[1], "--mask") == 0)
		ret = do_mask(in);
	else
		ret = do_file(argv[1], in);
	cJSON_Delete(in);
	if (fflush(stdout) != 0)
		ret = 2;
	return ret;
}
