/* test_xml.c - the XML text extractor: paths, entities, CDATA, and the
 * refusal of malformed or hostile documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/xml.h"

static const char sts_answer[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
    "  <AssumeRoleWithWebIdentityResult>\n"
    "    <Audience>sts.amazonaws.com</Audience>\n"
    "    <AssumedRoleUser>\n"
    "      <AssumedRoleId>AROA:secretsync-1</AssumedRoleId>\n"
    "      <Arn>arn:aws:sts::123456789012:assumed-role/gh/secretsync-1</Arn>\n"
    "    </AssumedRoleUser>\n"
    "    <Credentials>\n"
    "      <AccessKeyId>ASIAEXAMPLE</AccessKeyId>\n"
    "      <SecretAccessKey>s3cr3t/Key+with&amp;amp</SecretAccessKey>\n"
    "      <SessionToken>tok&lt;en&gt;&#65;&#x42;&#x20AC;</SessionToken>\n"
    "      <Expiration>2030-01-02T03:04:05Z</Expiration>\n"
    "    </Credentials>\n"
    "  </AssumeRoleWithWebIdentityResult>\n"
    "  <ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata>\n"
    "</AssumeRoleWithWebIdentityResponse>\n";

struct lookup {
	const char *path;
	enum ss_rc rc;
	const char *text;
};

static void test_sts_paths(void **state)
{
	static const struct lookup cases[] = {
	    {"Credentials/AccessKeyId", SS_OK, "ASIAEXAMPLE"},
	    {"Credentials/SecretAccessKey", SS_OK, "s3cr3t/Key+with&amp"},
	    {"Credentials/SessionToken", SS_OK, "tok<en>AB\xe2\x82\xac"},
	    {"Expiration", SS_OK, "2030-01-02T03:04:05Z"},
	    {"AssumedRoleUser/Arn", SS_OK,
	     "arn:aws:sts::123456789012:assumed-role/gh/secretsync-1"},
	    {"/AssumeRoleWithWebIdentityResponse/AssumeRoleWithWebIdentityResult/Audience", SS_OK,
	     "sts.amazonaws.com"},
	    {"/AssumeRoleWithWebIdentityResult/Audience", SS_ERR_NOTFOUND, NULL},
	    {"Credentials/Arn", SS_ERR_NOTFOUND, NULL},
	    {"Missing", SS_ERR_NOTFOUND, NULL},
	    {"RequestId", SS_OK, "r-1"},
	    {"", SS_ERR_INVALID, NULL},
	    {"/", SS_ERR_INVALID, NULL},
	    {"a//b", SS_ERR_INVALID, NULL},
	    {"a/", SS_ERR_INVALID, NULL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ss_buf out;
		enum ss_rc rc;

		ss_buf_init(&out, 0);
		rc = ss_xml_text(sts_answer, strlen(sts_answer), cases[i].path, &out);
		if (rc != cases[i].rc)
			fail_msg("path '%s': rc %d, want %d", cases[i].path, rc, cases[i].rc);
		if (cases[i].text != NULL)
			assert_string_equal(out.data, cases[i].text);
		ss_buf_free(&out);
	}
}

static void test_multi_query(void **state)
{
	struct ss_buf a, b, c;
	struct ss_xml_query q[3];

	(void)state;
	ss_buf_init(&a, 0);
	ss_buf_init(&b, 0);
	ss_buf_init(&c, 0);
	q[0] = (struct ss_xml_query){"Credentials/AccessKeyId", &a, 0};
	q[1] = (struct ss_xml_query){"Nope", &b, 0};
	q[2] = (struct ss_xml_query){"Expiration", &c, 0};
	assert_int_equal(ss_xml_extract(sts_answer, strlen(sts_answer), q, 3), SS_OK);
	assert_int_equal(q[0].found, 1);
	assert_int_equal(q[1].found, 0);
	assert_int_equal(q[2].found, 1);
	assert_string_equal(a.data, "ASIAEXAMPLE");
	assert_string_equal(b.data, "");
	assert_string_equal(c.data, "2030-01-02T03:04:05Z");
	ss_buf_free(&a);
	ss_buf_free(&b);
	ss_buf_free(&c);
}

/* Documents with their verdict and, when well formed, the text of "X". */
struct doc {
	const char *xml;
	enum ss_rc rc;
	const char *x;
};

static void test_documents(void **state)
{
	static const struct doc cases[] = {
	    {"<X>a</X>", SS_OK, "a"},
	    {"<r><X/></r>", SS_OK, ""},
	    {"<r><X></X></r>", SS_OK, ""},
	    {"<r><p:X xmlns:p=\"u\">ns</p:X></r>", SS_OK, "ns"},
	    {"<r><X a='1' b=\"2&amp;\">v</X></r>", SS_OK, "v"},
	    {"<r><X>a<![CDATA[<b>&amp;]]>c</X></r>", SS_OK, "a<b>&amp;c"},
	    {"<r><X>a<i>skip</i>b</X></r>", SS_OK, "ab"},
	    {"<r><X>a<!-- c --><?pi x?>b</X></r>", SS_OK, "ab"},
	    {"<r><X>first</X><X>second</X></r>", SS_OK, "first"},
	    {"\xef\xbb\xbf<?xml version='1.0'?><!-- c -->\n<X>bom</X>\n<!-- after -->\n", SS_OK,
	     "bom"},
	    {"<r><X>&#10;&#x9;</X></r>", SS_OK, "\n\t"},
	    {"<r><X>\xc3\xa9</X></r>", SS_OK, "\xc3\xa9"},
	    {"<r>\r\n<X>crlf</X>\r\n</r>", SS_OK, "crlf"},
	    /* malformed */
	    {"", SS_ERR_PARSE, NULL},
	    {"   ", SS_ERR_PARSE, NULL},
	    {"<r><X>a</X>", SS_ERR_PARSE, NULL},
	    {"<r><X>a</Y></r>", SS_ERR_PARSE, NULL},
	    {"<r><X>a</r></X>", SS_ERR_PARSE, NULL},
	    {"<r></r><r></r>", SS_ERR_PARSE, NULL},
	    {"text<r/>", SS_ERR_PARSE, NULL},
	    {"<r/>text", SS_ERR_PARSE, NULL},
	    {"<r><X>&bogus;</X></r>", SS_ERR_PARSE, NULL},
	    {"<r><X>&amp</X></r>", SS_ERR_PARSE, NULL},
	    {"<r><X>&#0;</X></r>", SS_ERR_PARSE, NULL},
	    {"<r><X>&#xD800;</X></r>", SS_ERR_PARSE, NULL},
	    {"<r><X>&#x110000;</X></r>", SS_ERR_PARSE, NULL},
	    {"<r><X>&#;</X></r>", SS_ERR_PARSE, NULL},
	    {"<r><X>&#x;</X></r>", SS_ERR_PARSE, NULL},
	    {"<!DOCTYPE r [<!ENTITY e \"boom\">]><r>&e;</r>", SS_ERR_PARSE, NULL},
	    {"<r><!ENTITY x></r>", SS_ERR_PARSE, NULL},
	    {"<r><X a=1>v</X></r>", SS_ERR_PARSE, NULL},
	    {"<r><X a=\"1\"b=\"2\">v</X></r>", SS_ERR_PARSE, NULL},
	    {"<r><X a=\"<\">v</X></r>", SS_ERR_PARSE, NULL},
	    {"<r><X a=\"1>v</X></r>", SS_ERR_PARSE, NULL},
	    {"<r><X>a<![CDATA[b</X></r>", SS_ERR_PARSE, NULL},
	    {"<![CDATA[x]]><r/>", SS_ERR_PARSE, NULL},
	    {"<r><!-- open </r>", SS_ERR_PARSE, NULL},
	    {"<r><?pi </r>", SS_ERR_PARSE, NULL},
	    {"<r><X>\x01</X></r>", SS_ERR_PARSE, NULL},
	    {"<r><>x</></r>", SS_ERR_PARSE, NULL},
	    {"<r></ r>", SS_ERR_PARSE, NULL},
	    {"<r", SS_ERR_PARSE, NULL},
	    {"<r/", SS_ERR_PARSE, NULL},
	    {"</r>", SS_ERR_PARSE, NULL},
	    {"<r><X>trunc", SS_ERR_PARSE, NULL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ss_buf out;
		struct ss_xml_query q;
		enum ss_rc rc;

		ss_buf_init(&out, 0);
		q = (struct ss_xml_query){"X", &out, 0};
		rc = ss_xml_extract(cases[i].xml, strlen(cases[i].xml), &q, 1);
		if (rc != cases[i].rc)
			fail_msg("case %zu '%s': rc %d, want %d", i, cases[i].xml, rc, cases[i].rc);
		if (cases[i].x != NULL) {
			assert_int_equal(q.found, 1);
			assert_string_equal(out.data, cases[i].x);
		} else {
			assert_int_equal(q.found, 0);
		}
		ss_buf_free(&out);
	}
}

static void test_nul_byte_refused(void **state)
{
	static const char doc[] = "<r><X>a\0b</X></r>";
	struct ss_buf out;

	(void)state;
	ss_buf_init(&out, 0);
	assert_int_equal(ss_xml_text(doc, sizeof(doc) - 1, "X", &out), SS_ERR_PARSE);
	ss_buf_free(&out);
}

static void test_depth_cap(void **state)
{
	struct ss_buf doc, out;
	int i;

	(void)state;
	ss_buf_init(&doc, 0);
	ss_buf_init(&out, 0);
	for (i = 0; i < SS_XML_MAX_DEPTH; i++)
		assert_int_equal(ss_buf_adds(&doc, "<a>"), SS_OK);
	assert_int_equal(ss_buf_adds(&doc, "x"), SS_OK);
	for (i = 0; i < SS_XML_MAX_DEPTH; i++)
		assert_int_equal(ss_buf_adds(&doc, "</a>"), SS_OK);
	assert_int_equal(ss_xml_text(doc.data, doc.len, "a", &out), SS_OK);
	ss_buf_reset(&doc);
	for (i = 0; i <= SS_XML_MAX_DEPTH; i++)
		assert_int_equal(ss_buf_adds(&doc, "<a>"), SS_OK);
	for (i = 0; i <= SS_XML_MAX_DEPTH; i++)
		assert_int_equal(ss_buf_adds(&doc, "</a>"), SS_OK);
	assert_int_equal(ss_xml_text(doc.data, doc.len, "a", &out), SS_ERR_TOOBIG);
	ss_buf_free(&doc);
	ss_buf_free(&out);
}

static void test_name_cap_and_output_cap(void **state)
{
	struct ss_buf doc, out;
	int i;

	(void)state;
	ss_buf_init(&doc, 0);
	ss_buf_init(&out, 8);
	assert_int_equal(ss_buf_adds(&doc, "<"), SS_OK);
	for (i = 0; i <= SS_XML_MAX_NAME; i++)
		assert_int_equal(ss_buf_addc(&doc, 'n'), SS_OK);
	assert_int_equal(ss_buf_adds(&doc, "/>"), SS_OK);
	assert_int_equal(ss_xml_text(doc.data, doc.len, "n", &out), SS_ERR_TOOBIG);
	/* The output buffer's cap bounds the text copied. */
	assert_int_equal(ss_xml_text("<X>0123456789</X>", 17, "X", &out), SS_ERR_TOOBIG);
	ss_buf_reset(&out);
	assert_int_equal(ss_xml_text("<X>01234567</X>", 15, "X", &out), SS_OK);
	assert_string_equal(out.data, "01234567");
	ss_buf_free(&doc);
	ss_buf_free(&out);
}

static void test_too_many_queries(void **state)
{
	struct ss_xml_query q[SS_XML_MAX_QUERIES + 1];
	size_t i;

	(void)state;
	for (i = 0; i < SS_XML_MAX_QUERIES + 1; i++)
		q[i] = (struct ss_xml_query){"X", NULL, 0};
	assert_int_equal(ss_xml_extract("<X/>", 4, q, SS_XML_MAX_QUERIES), SS_OK);
	assert_int_equal(q[0].found, 1);
	assert_int_equal(ss_xml_extract("<X/>", 4, q, SS_XML_MAX_QUERIES + 1), SS_ERR_INVALID);
}

/* A failed walk reports nothing as found, even what came before the
 * error. */
static void test_failure_clears_found(void **state)
{
	static const char doc[] = "<r><X>early</X><broken></r>";
	struct ss_buf out;
	struct ss_xml_query q;

	(void)state;
	ss_buf_init(&out, 0);
	q = (struct ss_xml_query){"X", &out, 0};
	assert_int_equal(ss_xml_extract(doc, sizeof(doc) - 1, &q, 1), SS_ERR_PARSE);
	assert_int_equal(q.found, 0);
	ss_buf_free(&out);
}

/* Every truncation of a real answer is refused, never half-read. */
static void test_truncations(void **state)
{
	size_t n, len = strlen(sts_answer);
	struct ss_buf out;

	(void)state;
	ss_buf_init(&out, 0);
	for (n = 0; n < len; n++) {
		enum ss_rc rc;

		/* Cuts inside the trailing white space leave a whole document. */
		if (n >= len - 1)
			break;
		ss_buf_reset(&out);
		rc = ss_xml_text(sts_answer, n, "SessionToken", &out);
		if (rc != SS_ERR_PARSE)
			fail_msg("truncated at %zu: rc %d", n, rc);
	}
	ss_buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sts_paths),	     cmocka_unit_test(test_multi_query),
	    cmocka_unit_test(test_documents),	     cmocka_unit_test(test_nul_byte_refused),
	    cmocka_unit_test(test_depth_cap),	     cmocka_unit_test(test_name_cap_and_output_cap),
	    cmocka_unit_test(test_too_many_queries), cmocka_unit_test(test_failure_clears_found),
	    cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
