#include "hash.h"

#include <string.h>

#include "buf.h"

#include "banned.h"

void ss_hash_sha256_init(struct ss_sha256 *h)
{
	br_sha256_init(&h->ctx);
}

void ss_hash_sha256_update(struct ss_sha256 *h, const void *p, size_t len)
{
	if (len > 0)
		br_sha256_update(&h->ctx, p, len);
}

void ss_hash_sha256_final(struct ss_sha256 *h, unsigned char out[SS_SHA256_LEN])
{
	br_sha256_out(&h->ctx, out);
	ss_memzero(h, sizeof(*h));
}

void ss_hash_sha256(const void *p, size_t len, unsigned char out[SS_SHA256_LEN])
{
	struct ss_sha256 h;

	ss_hash_sha256_init(&h);
	ss_hash_sha256_update(&h, p, len);
	ss_hash_sha256_final(&h, out);
}

void ss_hash_sha256_hex(const void *p, size_t len, char out[SS_SHA256_HEX_LEN + 1])
{
	unsigned char d[SS_SHA256_LEN];

	ss_hash_sha256(p, len, d);
	ss_hash_hex(d, sizeof(d), out);
	ss_memzero(d, sizeof(d));
}

void ss_hash_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
			 unsigned char out[SS_SHA256_LEN])
{
	br_hmac_key_context kc;
	br_hmac_context hc;

	/* Both contexts hold hash states derived from the key (the inner
	 * and outer pads), which are as good as the key itself. */
	br_hmac_key_init(&kc, &br_sha256_vtable, key, key_len);
	br_hmac_init(&hc, &kc, 0);
	if (msg_len > 0)
		br_hmac_update(&hc, msg, msg_len);
	br_hmac_out(&hc, out);
	ss_memzero(&hc, sizeof(hc));
	ss_memzero(&kc, sizeof(kc));
}

void ss_hash_hex(const void *p, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[s[i] >> 4];
		out[2 * i + 1] = digits[s[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum ss_rc ss_hash_unhex(const char *hex, unsigned char *out, size_t out_len)
{
	enum ss_rc rc = SS_ERR_INVALID;
	size_t i;
	int hi, lo;

	if (strlen(hex) != 2 * out_len)
		goto out;
	for (i = 0; i < out_len; i++) {
		hi = hexval(hex[2 * i]);
		lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			goto out;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	rc = SS_OK;
out:
	if (rc != SS_OK)
		ss_memzero(out, out_len);
	return rc;
}

bool ss_hash_equal_ct(const void *a, const void *b, size_t len)
{
	const volatile unsigned char *x = a;
	const volatile unsigned char *y = b;
	unsigned char acc = 0;
	size_t i;

	for (i = 0; i < len; i++)
		acc |= (unsigned char)(x[i] ^ y[i]);
	return acc == 0;
}
