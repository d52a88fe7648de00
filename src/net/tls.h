/* tls.h - TLS trust settings and the limits of the TLS backend.
 *
 * The static build uses libcurl with BearSSL, which speaks TLS 1.2 at
 * most and cannot verify a certificate for an IP-address host. These
 * helpers choose the CA bundle per service and turn the IP-address case
 * into a plain error before any connection is tried. There is no way to
 * turn verification off.
 */
#ifndef SS_TLS_H
#define SS_TLS_H

#include <stddef.h>

#include "core/buf.h"
#include "core/rc.h"

enum ss_tls_service {
	SS_TLS_AWS,
	SS_TLS_VAULT,
	SS_TLS_GITHUB
};

/* The CA bundle path for a service: VAULT_CACERT (Vault only) or
 * AWS_CA_BUNDLE (AWS only), then SSL_CERT_FILE, then the first existing
 * of the Debian and RHEL system bundles. NULL when none exists (then the
 * TLS library's built-in default is used). The pointer is borrowed from
 * the environment or static storage. */
const char *ss_tls_ca_bundle(enum ss_tls_service svc);

/* Nonzero if host (as found in a URL: "[::1]", "10.0.0.1") is an IP
 * address literal rather than a DNS name. */
int ss_tls_host_is_ip(const char *host, size_t len);

/* Check that url can be used for a verified TLS connection. For an
 * https URL whose host is an IP address and no server name is set (for
 * Vault: VAULT_TLS_SERVER_NAME), appends an error naming the problem and
 * the fix to err and returns SS_ERR_INVALID. Plain http and DNS names
 * pass. what names the setting in messages, e.g. "VAULT_ADDR". */
enum ss_rc ss_tls_check_url(const char *url, const char *what, const char *server_name,
			    struct ss_buf *err) SS_MUST_CHECK;

/* libcurl's version string ("7.88.1"). */
const char *ss_tls_curl_version(void);

/* The TLS backend libcurl was built with ("BearSSL", "OpenSSL/3.0.x"). */
const char *ss_tls_backend_version(void);

#endif
