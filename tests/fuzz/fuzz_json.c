/* fuzz_json.c - the strict JSON parser, printer, equality and merge:
 * parse, print, parse again and compare; merge the value with itself. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/merge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *v = NULL, *again = NULL, *merged = NULL;
	struct ss_merge_opts opts = {0};
	char *text = NULL;

	if (ss_json_parse((const char *)data, size, &v) != SS_OK)
		return 0;
	if (ss_json_print(v, &text) == SS_OK) {
		if (ss_json_parse(text, strlen(text), &again) != SS_OK || !ss_json_equal(v, again))
			abort();
	}
	if (ss_merge(v, v, &opts, &merged) == SS_OK && merged == NULL)
		abort();
	ss_json_delete_secret(merged);
	ss_json_delete_secret(again);
	ss_json_delete_secret(v);
	ss_free_secret(text);
	return 0;
}
