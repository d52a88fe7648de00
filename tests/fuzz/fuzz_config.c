/* fuzz_config.c - libFuzzer harness for the config loader.
 *
 * The input is a config file. Beyond "no crash, no leak, no UB, no
 * runaway on aliases" the harness checks the loader's contract:
 * - a success has no error text, and the targets are in dependency order
 *   (every target import points at an earlier target, with the same
 *   name);
 * - a failure has error text, every line "fuzz.yaml:LINE:COL: message";
 * - the value of a variable from the environment never appears in an
 *   error message unless the input itself holds it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

#define SECRET "Zq7-fuzz-secret-value-Zq7"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

static const char *fake_env(const char *name, void *ctx)
{
	(void)ctx;
	if (name[0] == 'S' || strcmp(name, "VAULT_TOKEN") == 0)
		return SECRET;
	if (name[0] == 'A')
		return "111111111111";
	if (name[0] == 'R')
		return "us-east-1";
	if (name[0] == 'E')
		return "";
	return NULL;
}

static void check_lines(const char *text)
{
	static const char prefix[] = "fuzz.yaml:";
	const char *line = text;

	while (*line != '\0') {
		const char *p = line + sizeof(prefix) - 1;
		const char *end = strchr(line, '\n');

		check(end != NULL);
		check(strncmp(line, prefix, sizeof(prefix) - 1) == 0);
		check(*p >= '1' && *p <= '9');
		p += strspn(p, "0123456789");
		check(*p++ == ':');
		check(*p >= '1' && *p <= '9');
		p += strspn(p, "0123456789");
		check(p[0] == ':' && p[1] == ' ' && p + 2 < end);
		line = end + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ss_config *cfg = NULL;
	struct ss_buf errs;
	enum ss_rc rc;
	size_t i, j;

	ss_buf_init(&errs, 0);
	rc = ss_config_parse((const char *)data, size, "fuzz.yaml", fake_env, NULL, &cfg, &errs);
	if (rc == SS_OK) {
		unsigned char *all, *need;

		check(cfg != NULL && errs.len == 0);
		for (i = 0; i < cfg->ntargets; i++) {
			const struct ss_config_target *t = &cfg->targets[i];

			check(t->nimports > 0);
			for (j = 0; j < t->nimports; j++) {
				const struct ss_config_import *im = &t->imports[j];

				if (im->is_target) {
					check(im->index < i);
					check(strcmp(cfg->targets[im->index].name, im->name) == 0);
				} else {
					check(im->index < cfg->nsources);
					check(strcmp(cfg->sources[im->index].name, im->name) == 0);
				}
			}
			check(ss_config_find_target(cfg, t->name) == t);
		}
		all = malloc(cfg->ntargets + 1);
		need = malloc(cfg->ntargets + 1);
		check(all != NULL && need != NULL);
		memset(all, 1, cfg->ntargets);
		ss_config_closure(cfg, all, need);
		for (i = 0; i < cfg->ntargets; i++)
			check(need[i] == 1);
		free(all);
		free(need);
		ss_config_free(cfg);
	} else if (rc == SS_ERR_INVALID) {
		check(cfg == NULL && errs.len > 0);
		check_lines(errs.data);
		if (memmem(data, size, SECRET, sizeof(SECRET) - 1) == NULL)
			check(strstr(errs.data, SECRET) == NULL);
	} else {
		check(cfg == NULL);
	}
	ss_buf_free(&errs);
	return 0;
}
