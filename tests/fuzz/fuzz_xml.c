/* fuzz_xml.c - the XML text extractor and the STS answer parsers built on
 * it. Beyond "no crash, no leak, no UB": a walk is deterministic (the same
 * queries twice give the same verdict and text), a failed walk reports
 * nothing found, a found element's text respects the output cap, and the
 * STS parsers either fill every required field or leave their output
 * empty. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/aws_sts.h"
#include "core/mask.h"
#include "core/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const paths[] = {
	    "Credentials/SessionToken", "/Error/Code", "Code", "a/b", "/a", "Message"};
	enum { N = sizeof(paths) / sizeof(paths[0]) };
	const char *xml = (const char *)data;
	struct ss_xml_query q1[N], q2[N];
	struct ss_buf b1[N], b2[N];
	struct ss_sts_session s;
	struct ss_sts_identity id;
	struct ss_mask *m;
	enum ss_rc r1, r2;
	size_t i;

	for (i = 0; i < N; i++) {
		ss_buf_init(&b1[i], 4096);
		ss_buf_init(&b2[i], 4096);
		q1[i] = (struct ss_xml_query){paths[i], &b1[i], 0};
		q2[i] = (struct ss_xml_query){paths[i], &b2[i], 0};
	}
	r1 = ss_xml_extract(xml, size, q1, N);
	r2 = ss_xml_extract(xml, size, q2, N);
	check(r1 == r2);
	check(r1 == SS_OK || r1 == SS_ERR_PARSE || r1 == SS_ERR_TOOBIG);
	for (i = 0; i < N; i++) {
		check(q1[i].found == q2[i].found);
		check(r1 == SS_OK || !q1[i].found);
		check(b1[i].len <= 4096);
		if (r1 == SS_OK)
			check(b1[i].len == b2[i].len &&
			      memcmp(b1[i].data, b2[i].data, b1[i].len) == 0);
		if (r1 == SS_OK && !q1[i].found)
			check(b1[i].len == 0);
		ss_buf_free(&b1[i]);
		ss_buf_free(&b2[i]);
	}

	m = ss_mask_new();
	if (m == NULL)
		return 0;
	if (ss_sts_parse_session(xml, size, m, &s) == SS_OK) {
		check(s.creds.access_key_id && *s.creds.access_key_id);
		check(s.creds.secret_access_key && *s.creds.secret_access_key);
		check(s.creds.session_token && *s.creds.session_token);
		check(ss_mask_count(m) > 0);
	} else {
		check(s.creds.access_key_id == NULL && s.expiration == NULL);
	}
	ss_sts_session_clear(&s);
	ss_mask_free(m);
	if (ss_sts_parse_identity(xml, size, &id) == SS_OK)
		check(id.account && strlen(id.account) == 12 && id.arn);
	else
		check(id.account == NULL && id.arn == NULL);
	ss_sts_identity_clear(&id);
	return 0;
}
