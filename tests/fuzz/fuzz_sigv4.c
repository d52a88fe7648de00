/* fuzz_sigv4.c - libFuzzer harness for SigV4 canonicalisation.
 *
 * Input: one flags byte, then an HTTP/1.1 request message as in the AWS
 * suite's .req files (the suite makes a good seed corpus). The message
 * is parsed and signed; beyond "no crash, no leak, no UB" the harness
 * checks properties of the canonical request:
 * - the URI and query lines hold only unreserved characters, the
 *   separators and well-formed uppercase %XX escapes;
 * - canonicalising the canonical query again changes nothing, and so
 *   does canonicalising an S3 (unnormalised) canonical URI again;
 * - a normalised URI has no empty, "." or ".." segment;
 * - signing is deterministic and the signature is 64 lowercase hex.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		abort();
}

static bool is_hex_upper(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* Only unreserved bytes, the given separators and "%XX" (uppercase). */
static bool well_encoded(const char *s, size_t n, const char *seps)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~' || (c != '\0' && strchr(seps, c)))
			continue;
		if (c == '%' && i + 2 < n && is_hex_upper(s[i + 1]) && is_hex_upper(s[i + 2])) {
			i += 2;
			continue;
		}
		return false;
	}
	return true;
}

/* The n-th line (0-based) of the canonical request, copied. */
static char *creq_line(const char *creq, int n)
{
	const char *end;

	while (n-- > 0) {
		creq = strchr(creq, '\n');
		check(creq != NULL);
		creq++;
	}
	end = strchr(creq, '\n');
	return ss_strndup(creq, end ? (size_t)(end - creq) : strlen(creq));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ss_sigv4_msg m;
	struct ss_sigv4_out out, again;
	struct ss_sigv4_creds creds = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
				       NULL};
	struct ss_sigv4_params p = {"us-east-1", "service", 1440938160, true, false, false};
	struct ss_sigv4_req req;
	char *uri = NULL, *query = NULL, *uri2 = NULL, *query2 = NULL;
	size_t i;
	uint8_t flags;

	if (size < 1)
		return 0;
	flags = data[0];
	p.normalize_path = (flags & 1) == 0;
	p.sign_content_sha256 = (flags & 2) != 0;
	p.token_after_signing = (flags & 4) != 0;
	if (flags & 8)
		creds.session_token = "AQoDYXdzEPT//////////wEXAMPLE";
	ss_sigv4_out_init(&out);
	ss_sigv4_out_init(&again);
	if (ss_sigv4_msg_parse(&m, (const char *)data + 1, size - 1) != SS_OK)
		goto out;
	req = m.req;
	if (flags & 16)
		req.payload_hash = SS_SIGV4_UNSIGNED_PAYLOAD;
	if (ss_sigv4_sign(&req, &creds, &p, &out) != SS_OK)
		goto out;

	check(strlen(out.signature) == SS_SHA256_HEX_LEN);
	for (i = 0; i < SS_SHA256_HEX_LEN; i++)
		check((out.signature[i] >= '0' && out.signature[i] <= '9') ||
		      (out.signature[i] >= 'a' && out.signature[i] <= 'f'));
	check(out.nheaders >= 2 && out.nheaders <= SS_SIGV4_MAX_OUT_HEADERS);

	uri = creq_line(out.canonical_request.data, 1);
	query = creq_line(out.canonical_request.data, 2);
	check(uri != NULL && query != NULL && uri[0] == '/');
	check(well_encoded(uri, strlen(uri), "/"));
	check(well_encoded(query, strlen(query), "=&"));
	if (p.normalize_path) {
		check(strstr(uri, "//") == NULL && strstr(uri, "/./") == NULL &&
		      strstr(uri, "/../") == NULL);
		i = strlen(uri);
		check(!(i >= 2 && strcmp(uri + i - 2, "/.") == 0));
		check(!(i >= 3 && strcmp(uri + i - 3, "/..") == 0));
	}

	/* Deterministic, and canonical forms are fixed points. */
	if (!p.normalize_path)
		req.path = uri;
	req.query = query;
	check(ss_sigv4_sign(&req, &creds, &p, &again) == SS_OK);
	uri2 = creq_line(again.canonical_request.data, 1);
	query2 = creq_line(again.canonical_request.data, 2);
	check(uri2 != NULL && query2 != NULL);
	check(strcmp(query, query2) == 0);
	check(strcmp(uri, uri2) == 0);
	check(strcmp(out.canonical_request.data, again.canonical_request.data) == 0);
	check(strcmp(out.authorization.data, again.authorization.data) == 0);
out:
	free(uri);
	free(query);
	free(uri2);
	free(query2);
	ss_sigv4_out_free(&out);
	ss_sigv4_out_free(&again);
	ss_sigv4_msg_free(&m);
	return 0;
}
