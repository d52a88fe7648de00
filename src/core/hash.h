/* hash.h - SHA-256, HMAC-SHA256 and hex helpers (on BearSSL).
 *
 * Pure functions with no I/O and no allocation. Every function that
 * holds key material in a local context zeroes that context before it
 * returns, so a caller only has to zero what it owns (its keys and the
 * digests it asked for).
 */
#ifndef SS_HASH_H
#define SS_HASH_H

#include <stdbool.h>
#include <stddef.h>

#include <bearssl.h>

#include "rc.h"

#define SS_SHA256_LEN	  32 /* bytes in a SHA-256 digest */
#define SS_SHA256_HEX_LEN 64 /* hex characters in one, without the NUL */

/* An incremental SHA-256 computation. */
struct ss_sha256 {
	br_sha256_context ctx;
};

/* Start a new digest in h. */
void ss_hash_sha256_init(struct ss_sha256 *h);

/* Feed len bytes at p (p may be NULL when len is 0). */
void ss_hash_sha256_update(struct ss_sha256 *h, const void *p, size_t len);

/* Write the digest of everything fed so far to out and zero h. */
void ss_hash_sha256_final(struct ss_sha256 *h, unsigned char out[SS_SHA256_LEN]);

/* One-shot SHA-256 of len bytes at p (p may be NULL when len is 0). */
void ss_hash_sha256(const void *p, size_t len, unsigned char out[SS_SHA256_LEN]);

/* One-shot SHA-256 of len bytes at p, written as 64 lowercase hex
 * characters and a NUL terminator. */
void ss_hash_sha256_hex(const void *p, size_t len, char out[SS_SHA256_HEX_LEN + 1]);

/* HMAC-SHA256 (RFC 2104) of msg under key; any key length (a key longer
 * than the block is hashed first, as the RFC says). The key-derived
 * contexts are zeroed before returning; out is the caller's to zero if
 * it is itself a key. */
void ss_hash_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
			 unsigned char out[SS_SHA256_LEN]);

/* Write len bytes at p as 2*len lowercase hex characters plus a NUL into
 * out, which must hold 2*len+1 bytes. */
void ss_hash_hex(const void *p, size_t len, char *out);

/* Decode exactly 2*out_len hex characters (either case) from hex into
 * out_len bytes at out. SS_ERR_INVALID if hex is not 2*out_len long or
 * holds a non-hex character (out is then zeroed). */
enum ss_rc ss_hash_unhex(const char *hex, unsigned char *out, size_t out_len) SS_MUST_CHECK;

/* Compare len bytes in time that depends only on len; true if equal. */
bool ss_hash_equal_ct(const void *a, const void *b, size_t len);

#endif
