/* test_report.c - the JSON report (SPEC §5), text plan, Markdown with a
 * size cap, and the commit status line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/json.h"
#include "core/report.h"

static void add(struct ss_diff *d, const char *secret, const char *aws, const char *want,
		const char *cur)
{
	assert_int_equal(ss_diff_add(d, secret, aws, want, strlen(want), cur, cur ? strlen(cur) : 0),
			 SS_OK);
}

static struct ss_report *sample(int dry_run)
{
	struct ss_report *r = ss_report_new("plan", dry_run);
	struct ss_report_target *t;

	assert_non_null(r);
	assert_int_equal(ss_report_add_target(r, "staging", "111111111111", "eu-west-1", &t), SS_OK);
	t->diff = ss_diff_new();
	add(t->diff, "team/app/db", "app/team/app/db", "{\"password\":\"new-pw-SECRET\",\"host\":\"h\"}",
	    "{\"password\":\"old-pw-SECRET\"}");
	add(t->diff, "team/app/new", "app/team/app/new", "\"v-SECRET\"", NULL);
	add(t->diff, "same", "app/same", "{\"a\":1}", "{\"a\":1.0}");
	assert_int_equal(ss_report_add_target(r, "prod|<x>", NULL, "us-east-1", &t), SS_OK);
	assert_int_equal(ss_report_fail(t, SS_TARGET_FAILED, "AccessDenied on ListSecrets"), SS_OK);
	return r;
}

static void test_json_schema(void **state)
{
	struct ss_report *r = sample(1);
	struct ss_buf b;
	cJSON *doc = NULL;
	const cJSON *t0, *ch, *counts;

	(void)state;
	ss_buf_init(&b, 0);
	assert_int_equal(ss_report_json(r, &b), SS_OK);
	assert_null(strstr(b.data, "SECRET"));
	assert_int_equal(ss_json_parse(b.data, b.len, &doc), SS_OK);
	assert_int_equal(cJSON_GetObjectItem(doc, "version")->valueint, 1);
	assert_string_equal(ss_json_get_string(doc, "command"), "plan");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(doc, "dry_run")));
	t0 = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "targets"), 0);
	assert_string_equal(ss_json_get_string(t0, "name"), "staging");
	assert_string_equal(ss_json_get_string(t0, "account_id"), "111111111111");
	assert_string_equal(ss_json_get_string(t0, "status"), "ok");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(t0, "error")));
	ch = cJSON_GetArrayItem(cJSON_GetObjectItem(t0, "changes"), 0);
	assert_string_equal(ss_json_get_string(ch, "secret"), "team/app/db");
	assert_string_equal(ss_json_get_string(ch, "aws_name"), "app/team/app/db");
	assert_string_equal(ss_json_get_string(ch, "action"), "update");
	assert_string_equal(
		cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(ch, "keys"), "added"), 0)
			->valuestring,
		"host");
	assert_string_equal(
		cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(ch, "keys"), "changed"), 0)
			->valuestring,
		"password");
	counts = cJSON_GetObjectItem(doc, "counts");
	assert_int_equal(cJSON_GetObjectItem(counts, "create")->valueint, 1);
	assert_int_equal(cJSON_GetObjectItem(counts, "update")->valueint, 1);
	assert_int_equal(cJSON_GetObjectItem(counts, "unchanged")->valueint, 1);
	assert_int_equal(cJSON_GetObjectItem(counts, "failed")->valueint, 1);
	t0 = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "targets"), 1);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(t0, "account_id")));
	assert_string_equal(ss_json_get_string(t0, "status"), "failed");
	ss_json_delete_secret(doc);
	ss_buf_free(&b);
	ss_report_free(r);
}

static void test_text(void **state)
{
	struct ss_report *r = sample(1);
	struct ss_buf b;

	(void)state;
	ss_buf_init(&b, 0);
	assert_int_equal(ss_report_text(r, 0, &b), SS_OK);
	assert_non_null(strstr(b.data, "~ app/team/app/db update (keys: password changed, +host)"));
	assert_non_null(strstr(b.data, "+ app/team/app/new create"));
	assert_null(strstr(b.data, "app/same"));
	assert_non_null(strstr(b.data, "failed: AccessDenied on ListSecrets"));
	assert_non_null(strstr(b.data, "Plan: 1 to create, 1 to update, 0 to delete, 1 unchanged, 1 failed target."));
	assert_null(strstr(b.data, "SECRET"));
	ss_buf_reset(&b);
	assert_int_equal(ss_report_text(r, 1, &b), SS_OK);
	assert_non_null(strstr(b.data, "= app/same unchanged"));
	ss_buf_free(&b);
	ss_report_free(r);
}

static void test_markdown_and_cap(void **state)
{
	struct ss_report *r = sample(1);
	struct ss_report_target *t;
	struct ss_buf b;
	char name[64];
	size_t i;

	(void)state;
	ss_buf_init(&b, 0);
	assert_int_equal(ss_report_markdown(r, "secretsync plan", 0, &b), SS_OK);
	assert_non_null(strstr(b.data, "### secretsync plan"));
	assert_non_null(strstr(b.data, "| prod\\|&lt;x&gt; |"));
	assert_non_null(strstr(b.data, "<details><summary>staging: 2 changes</summary>"));
	assert_null(strstr(b.data, "SECRET"));
	/* many targets with changes: the output stays under the cap */
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "target-%03zu", i);
		assert_int_equal(ss_report_add_target(r, name, "222222222222", "us-east-1", &t), SS_OK);
		t->diff = ss_diff_new();
		for (size_t k = 0; k < 20; k++) {
			char s[64];

			snprintf(s, sizeof(s), "svc/%zu/secret-with-a-long-name", k);
			add(t->diff, s, s, "{}", NULL);
		}
	}
	ss_buf_reset(&b);
	assert_int_equal(ss_report_markdown(r, "secretsync plan", 65536, &b), SS_OK);
	assert_true(b.len <= 65536);
	assert_non_null(strstr(b.data, "were left out to fit"));
	ss_buf_reset(&b);
	assert_int_equal(ss_report_markdown(r, "secretsync plan", 2000, &b), SS_OK);
	assert_true(b.len <= 2000);
	assert_non_null(strstr(b.data, "cut to fit"));
	ss_buf_free(&b);
	ss_report_free(r);
}

static void test_status_line(void **state)
{
	struct ss_report *r = sample(1);
	struct ss_buf b;

	(void)state;
	ss_buf_init(&b, 0);
	assert_int_equal(ss_report_status_line(r, &b), SS_OK);
	assert_string_equal(b.data, "1 to create, 1 to update, 0 to delete, 1 target failed");
	assert_true(b.len <= 140);
	ss_buf_free(&b);
	r->dry_run = 0;
	ss_buf_init(&b, 0);
	assert_int_equal(ss_report_status_line(r, &b), SS_OK);
	assert_string_equal(b.data, "1 created, 1 updated, 0 deleted, 1 target failed");
	ss_buf_free(&b);
	assert_true(ss_report_has_changes(r));
	ss_report_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_schema),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_markdown_and_cap),
		cmocka_unit_test(test_status_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
