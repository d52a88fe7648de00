/* oidc.h - the GitHub Actions OIDC token (the JWT for AWS and Vault).
 *
 * GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=AUD with
 * "Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" answers
 * {"value": JWT}. The token is registered with the mask before it is
 * returned. A workflow without `permissions: id-token: write` has no
 * request URL: that case is recognised and named.
 */
#ifndef SS_OIDC_H
#define SS_OIDC_H

#include "core/buf.h"
#include "core/rc.h"
#include "net/http.h"

/* Nonzero when the runner offers an OIDC token (both variables set). */
int ss_oidc_available(void);

/* Fetch a token for audience (NULL: the runner's default). On SS_OK *jwt
 * is a malloc'd secret (free with ss_free_secret); on failure err holds
 * a message naming the cause and the fix. Runs h's loop. */
enum ss_rc ss_oidc_fetch(struct ss_http *h, const char *audience, char **jwt,
			 struct ss_buf *err) SS_MUST_CHECK;

/* The JWT's non-secret claims (sub, aud, repository, ref, environment)
 * as "sub=..., aud=..." for error messages that help fix a trust
 * policy. Appends nothing when the token cannot be decoded. */
enum ss_rc ss_oidc_describe_claims(const char *jwt, struct ss_buf *out) SS_MUST_CHECK;

#endif
