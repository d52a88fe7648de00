#include "tls.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <curl/curl.h>

#include "core/banned.h"

static const char *const system_bundles[] = {
	"/etc/ssl/certs/ca-certificates.crt",                /* Debian, Ubuntu, Alpine */
	"/etc/pki/tls/certs/ca-bundle.crt",                  /* RHEL, Fedora */
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", /* RHEL 7+ */
	"/etc/ssl/ca-bundle.pem",                            /* openSUSE */
	"/etc/ssl/cert.pem",                                 /* Alpine, macOS */
};

static const char *env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

const char *ss_tls_ca_bundle(enum ss_tls_service svc)
{
	const char *v = NULL;
	size_t i;

	if (svc == SS_TLS_VAULT)
		v = env_nonempty("VAULT_CACERT");
	else if (svc == SS_TLS_AWS)
		v = env_nonempty("AWS_CA_BUNDLE");
	if (v == NULL)
		v = env_nonempty("SSL_CERT_FILE");
	if (v != NULL)
		return v;
	for (i = 0; i < sizeof(system_bundles) / sizeof(system_bundles[0]); i++)
		if (access(system_bundles[i], R_OK) == 0)
			return system_bundles[i];
	return NULL;
}

int ss_tls_host_is_ip(const char *host, size_t len)
{
	char tmp[64];
	unsigned char addr[16];

	if (len >= 2 && host[0] == '[')
		return 1;
	if (len == 0 || len >= sizeof(tmp))
		return 0;
	memcpy(tmp, host, len);
	tmp[len] = '\0';
	return inet_pton(AF_INET, tmp, addr) == 1 || inet_pton(AF_INET6, tmp, addr) == 1;
}

enum ss_rc ss_tls_check_url(const char *url, const char *what, const char *server_name,
			    struct ss_buf *err)
{
	const char *host, *end;

	if (strncasecmp(url, "https://", 8) != 0)
		return SS_OK;
	host = url + 8;
	end = host + strcspn(host, "/?#");
	if (memchr(host, '@', (size_t)(end - host)) != NULL) {
		if (ss_buf_addf(err, "%s: a URL with user information is not supported", what) != SS_OK)
			return SS_ERR_NOMEM;
		return SS_ERR_INVALID;
	}
	if (*host == '[') {
		end = strchr(host, ']');
		end = end ? end + 1 : host + strlen(host);
	} else {
		end = host + strcspn(host, ":/?#");
	}
	if (!ss_tls_host_is_ip(host, (size_t)(end - host)))
		return SS_OK;
	if (server_name != NULL && *server_name != '\0')
		return SS_OK;
	if (ss_buf_addf(err,
			"%s: https://%.*s is an IP address, and the TLS library (BearSSL) cannot "
			"verify a certificate for an IP address; use the server's DNS name%s",
			what, (int)(end - host), host,
			strcmp(what, "VAULT_ADDR") == 0
				? ", or set VAULT_TLS_SERVER_NAME to the name in its certificate"
				: "") != SS_OK)
		return SS_ERR_NOMEM;
	return SS_ERR_INVALID;
}

const char *ss_tls_curl_version(void)
{
	return curl_version_info(CURLVERSION_NOW)->version;
}

const char *ss_tls_backend_version(void)
{
	const char *v = curl_version_info(CURLVERSION_NOW)->ssl_version;

	return v ? v : "none";
}
