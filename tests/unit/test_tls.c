/* test_tls.c - CA bundle choice per service and the IP-address check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "net/tls.h"

static void clear_env(void)
{
	unsetenv("VAULT_CACERT");
	unsetenv("AWS_CA_BUNDLE");
	unsetenv("SSL_CERT_FILE");
}

static void test_bundle_order(void **state)
{
	(void)state;
	clear_env();
	setenv("SSL_CERT_FILE", "/tmp/ssl.pem", 1);
	setenv("AWS_CA_BUNDLE", "/tmp/aws.pem", 1);
	setenv("VAULT_CACERT", "/tmp/vault.pem", 1);
	assert_string_equal(ss_tls_ca_bundle(SS_TLS_VAULT), "/tmp/vault.pem");
	assert_string_equal(ss_tls_ca_bundle(SS_TLS_AWS), "/tmp/aws.pem");
	assert_string_equal(ss_tls_ca_bundle(SS_TLS_GITHUB), "/tmp/ssl.pem");
	unsetenv("VAULT_CACERT");
	assert_string_equal(ss_tls_ca_bundle(SS_TLS_VAULT), "/tmp/ssl.pem");
	setenv("AWS_CA_BUNDLE", "", 1);
	assert_string_equal(ss_tls_ca_bundle(SS_TLS_AWS), "/tmp/ssl.pem");
	clear_env();
	/* the system bundle of this Debian machine */
	assert_string_equal(ss_tls_ca_bundle(SS_TLS_GITHUB), "/etc/ssl/certs/ca-certificates.crt");
}

struct ip_case {
	const char *host;
	int is_ip;
};

static const struct ip_case ip_cases[] = {
	{"127.0.0.1", 1}, {"10.1.2.3", 1},   {"[::1]", 1},          {"::1", 1},
	{"vault.example.com", 0}, {"localhost", 0}, {"1.2.3", 0}, {"", 0},
	{"256.1.1.1", 0}, {"vault-10.0.0.1.nip.io", 0},
};

static void test_host_is_ip(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ip_cases) / sizeof(ip_cases[0]); i++)
		assert_int_equal(ss_tls_host_is_ip(ip_cases[i].host, strlen(ip_cases[i].host)),
				 ip_cases[i].is_ip);
}

struct url_case {
	const char *url;
	const char *what;
	const char *server_name;
	enum ss_rc rc;
	const char *msg_part;
};

static const struct url_case url_cases[] = {
	{"https://vault.example.com:8200", "VAULT_ADDR", NULL, SS_OK, NULL},
	{"http://127.0.0.1:8200", "VAULT_ADDR", NULL, SS_OK, NULL},
	{"https://127.0.0.1:8200", "VAULT_ADDR", NULL, SS_ERR_INVALID, "VAULT_TLS_SERVER_NAME"},
	{"https://127.0.0.1:8200", "VAULT_ADDR", "vault.internal", SS_OK, NULL},
	{"https://[::1]:443/x", "AWS_ENDPOINT_URL", NULL, SS_ERR_INVALID, "use the server's DNS name"},
	{"HTTPS://10.0.0.5", "GITHUB_API_URL", NULL, SS_ERR_INVALID, "cannot verify"},
	{"https://user:pw@host.example.com", "VAULT_ADDR", NULL, SS_ERR_INVALID, "user information"},
};

static void test_check_url(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(url_cases) / sizeof(url_cases[0]); i++) {
		const struct url_case *c = &url_cases[i];
		struct ss_buf err;

		ss_buf_init(&err, 0);
		assert_int_equal(ss_tls_check_url(c->url, c->what, c->server_name, &err), c->rc);
		if (c->msg_part != NULL) {
			assert_non_null(strstr(err.data, c->msg_part));
			assert_non_null(strstr(err.data, c->what));
			/* never echo credentials from the URL */
			assert_null(strstr(err.data, "pw@"));
		} else {
			assert_int_equal(err.len, 0);
		}
		ss_buf_free(&err);
	}
}

static void test_versions(void **state)
{
	(void)state;
	assert_non_null(ss_tls_curl_version());
	assert_true(strlen(ss_tls_backend_version()) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bundle_order),
		cmocka_unit_test(test_host_is_ip),
		cmocka_unit_test(test_check_url),
		cmocka_unit_test(test_versions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
