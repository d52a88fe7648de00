/* test_hash.c - SHA-256 (FIPS 180-2 / NIST examples) and HMAC-SHA256
 * (RFC 4231 test cases 1-7), the hex helpers and the constant-time
 * comparison. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/hash.h"

static void check_digest(const unsigned char d[SS_SHA256_LEN], const char *want_hex)
{
	char hex[SS_SHA256_HEX_LEN + 1];

	ss_hash_hex(d, SS_SHA256_LEN, hex);
	assert_string_equal(hex, want_hex);
}

static void test_sha256_vectors(void **state)
{
	static const struct {
		const char *msg;
		const char *want;
	} cases[] = {
	    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
	    {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
	     "klmnopqrlmnopqrsmnopqrstnopqrstu",
	     "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
	};
	unsigned char d[SS_SHA256_LEN];
	char hex[SS_SHA256_HEX_LEN + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ss_hash_sha256(cases[i].msg, strlen(cases[i].msg), d);
		check_digest(d, cases[i].want);
		ss_hash_sha256_hex(cases[i].msg, strlen(cases[i].msg), hex);
		assert_string_equal(hex, cases[i].want);
	}
	/* NULL with length 0 is the empty message. */
	ss_hash_sha256(NULL, 0, d);
	check_digest(d, cases[0].want);
}

/* One million 'a' fed in uneven pieces through the incremental API. */
static void test_sha256_million_a(void **state)
{
	struct ss_sha256 h;
	unsigned char d[SS_SHA256_LEN], zero[sizeof(h)];
	char *buf = malloc(1000000);
	size_t off = 0, step = 1;

	(void)state;
	assert_non_null(buf);
	memset(buf, 'a', 1000000);
	ss_hash_sha256_init(&h);
	while (off < 1000000) {
		size_t n = step < 1000000 - off ? step : 1000000 - off;

		ss_hash_sha256_update(&h, buf + off, n);
		off += n;
		step = step * 7 % 1021 + 1;
	}
	ss_hash_sha256_update(&h, NULL, 0);
	ss_hash_sha256_final(&h, d);
	check_digest(d, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	/* final zeroes the state */
	memset(zero, 0, sizeof(zero));
	assert_memory_equal(&h, zero, sizeof(h));
	ss_hash_sha256(buf, 1000000, d);
	check_digest(d, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(buf);
}

/* RFC 4231 section 4. A key or data given as {byte, count} is that byte
 * repeated; otherwise the string is used. */
struct bytes_spec {
	const char *str;
	unsigned char fill;
	size_t count;
};

static unsigned char *make_bytes(const struct bytes_spec *s, size_t *len)
{
	unsigned char *p;
	size_t i;

	*len = s->str != NULL ? strlen(s->str) : s->count;
	p = malloc(*len + 1);
	assert_non_null(p);
	for (i = 0; i < *len; i++)
		p[i] = s->str != NULL ? (unsigned char)s->str[i] : s->fill;
	return p;
}

static void test_hmac_rfc4231(void **state)
{
	static const struct {
		struct bytes_spec key, data;
		size_t out_len; /* test case 5 compares the first 128 bits */
		const char *want;
	} cases[] = {
	    {{NULL, 0x0b, 20},
	     {"Hi There", 0, 0},
	     32,
	     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
	    {{"Jefe", 0, 0},
	     {"what do ya want for nothing?", 0, 0},
	     32,
	     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
	    {{NULL, 0xaa, 20},
	     {NULL, 0xdd, 50},
	     32,
	     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
	    {{NULL, 0, 0},
	     {NULL, 0xcd, 50},
	     32, /* key 0x01..0x19, set below */
	     "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
	    {{NULL, 0x0c, 20},
	     {"Test With Truncation", 0, 0},
	     16,
	     "a3b6167473100ee06e0c796c2955552b"},
	    {{NULL, 0xaa, 131},
	     {"Test Using Larger Than Block-Size Key - Hash Key First", 0, 0},
	     32,
	     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
	    {{NULL, 0xaa, 131},
	     {"This is a test using a larger than block-size key and a larger than "
	      "block-size data. The key needs to be hashed before being used by the HMAC "
	      "algorithm.",
	      0, 0},
	     32,
	     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
	};
	static const char case4_key[] = "0102030405060708090a0b0c0d0e0f10111213141516171819";
	unsigned char out[SS_SHA256_LEN], key4[25], want[SS_SHA256_LEN];
	char hex[SS_SHA256_HEX_LEN + 1];
	size_t i, klen, dlen;

	(void)state;
	assert_int_equal(ss_hash_unhex(case4_key, key4, sizeof(key4)), SS_OK);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char *key = make_bytes(&cases[i].key, &klen);
		unsigned char *data = make_bytes(&cases[i].data, &dlen);

		if (i == 3) {
			free(key);
			key = malloc(sizeof(key4));
			assert_non_null(key);
			memcpy(key, key4, sizeof(key4));
			klen = sizeof(key4);
		}
		ss_hash_hmac_sha256(key, klen, data, dlen, out);
		ss_hash_hex(out, cases[i].out_len, hex);
		if (strcmp(hex, cases[i].want) != 0)
			fail_msg("RFC 4231 test case %zu: got %s", i + 1, hex);
		/* And through unhex + constant-time compare. */
		assert_int_equal(ss_hash_unhex(cases[i].want, want, cases[i].out_len), SS_OK);
		assert_true(ss_hash_equal_ct(out, want, cases[i].out_len));
		free(key);
		free(data);
	}
	/* An empty key and message is still an HMAC. */
	ss_hash_hmac_sha256("", 0, NULL, 0, out);
	check_digest(out, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

static void test_hex_helpers(void **state)
{
	static const unsigned char raw[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
	unsigned char back[sizeof(raw)];
	char hex[2 * sizeof(raw) + 1];

	(void)state;
	ss_hash_hex(raw, sizeof(raw), hex);
	assert_string_equal(hex, "00017f80abff");
	assert_int_equal(ss_hash_unhex("00017F80ABff", back, sizeof(back)), SS_OK);
	assert_memory_equal(back, raw, sizeof(raw));
	ss_hash_hex(raw, 0, hex);
	assert_string_equal(hex, "");

	/* Wrong length or a non-hex character: refused, output zeroed. */
	memset(back, 0x55, sizeof(back));
	assert_int_equal(ss_hash_unhex("00017f80ab", back, sizeof(back)), SS_ERR_INVALID);
	assert_int_equal(back[0], 0);
	memset(back, 0x55, sizeof(back));
	assert_int_equal(ss_hash_unhex("00017f80abfg", back, sizeof(back)), SS_ERR_INVALID);
	assert_int_equal(back[5], 0);
	assert_int_equal(ss_hash_unhex("00017f80abff00", back, sizeof(back)), SS_ERR_INVALID);
	assert_int_equal(ss_hash_unhex(" 0017f80abff", back, sizeof(back)), SS_ERR_INVALID);
	assert_int_equal(ss_hash_unhex("", back, 0), SS_OK);
}

static void test_equal_ct(void **state)
{
	(void)state;
	assert_true(ss_hash_equal_ct("abcdef", "abcdef", 6));
	assert_false(ss_hash_equal_ct("abcdef", "abcdeg", 6));
	assert_false(ss_hash_equal_ct("xbcdef", "abcdef", 6));
	assert_true(ss_hash_equal_ct("abc", "abd", 2));
	assert_true(ss_hash_equal_ct("", "", 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sha256_vectors), cmocka_unit_test(test_sha256_million_a),
	    cmocka_unit_test(test_hmac_rfc4231),   cmocka_unit_test(test_hex_helpers),
	    cmocka_unit_test(test_equal_ct),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
