/* config_expand.c - "${VAR}" expansion and the value checks of the
 * config loader (account ids, regions, role ARNs). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

/* Variable names quoted in messages are cut to this many bytes. */
#define NAME_SHOWN_MAX 64

static int is_name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

static int shown(size_t nlen)
{
	return (int)(nlen > NAME_SHOWN_MAX ? NAME_SHOWN_MAX : nlen);
}

enum ss_rc ss_config_expand(const char *in, size_t len, ss_config_env_fn *env,
			    void *env_ctx, char **out, char *why, size_t why_size)
{
	struct ss_buf b;
	enum ss_rc rc = SS_OK;
	char name[256];
	size_t i = 0;

	*out = NULL;
	ss_buf_init(&b, 0);
	while (i < len && rc == SS_OK) {
		const char *dollar = memchr(in + i, '$', len - i);
		size_t n, nstart, nlen, dstart = 0, dlen = 0;
		int has_default = 0;
		const char *val;

		if (dollar == NULL) {
			rc = ss_buf_add(&b, in + i, len - i);
			break;
		}
		n = (size_t)(dollar - (in + i));
		rc = ss_buf_add(&b, in + i, n);
		if (rc != SS_OK)
			break;
		i += n;
		if (i + 1 < len && in[i + 1] == '$') {
			rc = ss_buf_addc(&b, '$');
			i += 2;
			continue;
		}
		if (i + 1 >= len || in[i + 1] != '{') {
			rc = ss_buf_addc(&b, '$');
			i++;
			continue;
		}
		/* "${" NAME [":-" DEFAULT] "}" */
		nstart = i + 2;
		nlen = 0;
		while (nstart + nlen < len && is_name_char(in[nstart + nlen]))
			nlen++;
		if (nlen == 0 || !is_name_start(in[nstart])) {
			if (why_size > 0)
				snprintf(why, why_size, "\"${\" is not followed by a variable name "
					 "(write ${NAME} or ${NAME:-default}; $$ is a literal $)");
			rc = SS_ERR_INVALID;
			break;
		}
		n = nstart + nlen;
		if (n + 1 < len && in[n] == ':' && in[n + 1] == '-') {
			has_default = 1;
			dstart = n + 2;
			while (dstart + dlen < len && in[dstart + dlen] != '}')
				dlen++;
			n = dstart + dlen;
		}
		if (n >= len || in[n] != '}') {
			if (why_size > 0)
				snprintf(why, why_size, "\"${%.*s\" is not closed by \"}\" (write "
					 "${NAME} or ${NAME:-default}; $$ is a literal $)",
					 shown(nlen), in + nstart);
			rc = SS_ERR_INVALID;
			break;
		}
		if (nlen >= sizeof(name)) {
			if (why_size > 0)
				snprintf(why, why_size, "the variable name \"%.*s...\" is too long",
					 shown(nlen), in + nstart);
			rc = SS_ERR_INVALID;
			break;
		}
		memcpy(name, in + nstart, nlen);
		name[nlen] = '\0';
		val = env != NULL ? env(name, env_ctx) : NULL;
		if (val != NULL && (val[0] != '\0' || !has_default)) {
			rc = ss_buf_adds(&b, val);
		} else if (has_default) {
			rc = ss_buf_add(&b, in + dstart, dlen);
		} else {
			if (why_size > 0)
				snprintf(why, why_size, "${%.*s} is not set (export %.*s, or write "
					 "${%.*s:-default})", shown(nlen), name,
					 shown(nlen), name, shown(nlen), name);
			rc = SS_ERR_INVALID;
		}
		i = n + 1;
	}
	if (rc == SS_OK)
		rc = ss_buf_take(&b, out);
	ss_buf_free(&b);
	return rc;
}

int ss_config_is_account_id(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; i < 12; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return s[12] == '\0';
}

/* "us-east-1", "eu-central-2", "us-gov-west-1", "us-iso-east-1",
 * "cn-northwest-1": two letters, one or two words, one or two digits. */
int ss_config_is_region(const char *s)
{
	size_t parts = 0, i = 0, start;

	if (s == NULL || strlen(s) > 32)
		return 0;
	for (;;) {
		start = i;
		while (s[i] != '\0' && s[i] != '-')
			i++;
		if (i == start)
			return 0;
		if (parts == 0) {
			if (i - start != 2 || s[0] < 'a' || s[0] > 'z' ||
			    s[1] < 'a' || s[1] > 'z')
				return 0;
		} else if (s[i] == '\0') {
			size_t j;

			if (parts < 2 || i - start > 2)
				return 0;
			for (j = start; j < i; j++)
				if (s[j] < '0' || s[j] > '9')
					return 0;
			return parts <= 3;
		} else {
			size_t j;

			for (j = start; j < i; j++)
				if (s[j] < 'a' || s[j] > 'z')
					return 0;
		}
		if (s[i] == '\0')
			return 0;
		parts++;
		i++;
	}
}

static int is_role_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || strchr("+=,.@_-/", c) != NULL;
}

/* arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME */
int ss_config_is_role_arn(const char *s)
{
	const char *p, *name;
	size_t i;

	if (s == NULL || strncmp(s, "arn:aws", 7) != 0)
		return 0;
	p = s + 7;
	while ((*p >= 'a' && *p <= 'z') || *p == '-')
		p++;
	if (strncmp(p, ":iam::", 6) != 0)
		return 0;
	p += 6;
	for (i = 0; i < 12; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	p += 12;
	if (strncmp(p, ":role/", 6) != 0)
		return 0;
	p += 6;
	name = p;
	if (*p == '\0' || *p == '/' || strlen(p) > 512)
		return 0;
	for (; *p != '\0'; p++)
		if (!is_role_char(*p) || (*p == '/' && p[1] == '/'))
			return 0;
	return p[-1] != '/' && p > name;
}
