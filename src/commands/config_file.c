/* config_file.c - read a config file and hand it to the pure loader. */
#include "config_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/mask.h"
#include "core/banned.h"

const char *ss_config_getenv(const char *name, void *ctx)
{
	(void)ctx;
	return getenv(name);
}

/* One "PATH: message" line; a failure to add it leaves the rc as is. */
static enum ss_rc file_error(struct ss_buf *errors, enum ss_rc rc, const char *path,
			     const char *what, int err)
{
	enum ss_rc arc;

	if (err != 0)
		arc = ss_buf_addf(errors, "%s: %s: %s\n", path, what, strerror(err));
	else
		arc = ss_buf_addf(errors, "%s: %s\n", path, what);
	return arc != SS_OK ? arc : rc;
}

/* The config's own credentials are secrets like any value read later:
 * registered before anything could print them. */
static enum ss_rc mask_secrets(const struct ss_config *cfg)
{
	const char *const vals[] = { cfg->vault.token, cfg->vault.role_id, cfg->vault.secret_id };
	struct ss_mask *m = ss_mask_global();
	enum ss_rc rc = SS_OK;
	size_t i;

	if (m == NULL)
		return SS_ERR_NOMEM;
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]) && rc == SS_OK; i++)
		if (vals[i] != NULL)
			rc = ss_mask_add(m, vals[i]);
	return rc;
}

enum ss_rc ss_config_load_file_env(const char *path, ss_config_env_fn *env, void *env_ctx,
				   struct ss_config **out, struct ss_buf *errors)
{
	struct ss_buf data;
	struct stat st;
	char chunk[16384];
	enum ss_rc rc = SS_OK;
	int fd = -1;

	*out = NULL;
	/* one byte over the cap tells "too big" from "exactly at the cap" */
	ss_buf_init(&data, SS_CONFIG_MAX_SIZE + 1);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			rc = file_error(errors, SS_ERR_NOTFOUND, path,
					"config file not found (give its path with -c FILE or "
					"SECRETSYNC_CONFIG, or create ./secretsync.yaml)", 0);
		else
			rc = file_error(errors, SS_ERR_IO, path, "cannot open the config file",
					errno);
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		rc = file_error(errors, SS_ERR_IO, path, "cannot read the config file", errno);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = file_error(errors, SS_ERR_IO, path,
				"is a directory, not a config file (give the YAML file with -c)",
				0);
		goto out;
	}
	if (S_ISREG(st.st_mode) && (size_t)st.st_size > SS_CONFIG_MAX_SIZE) {
		rc = file_error(errors, SS_ERR_TOOBIG, path,
				"the config file is larger than 4 MiB; refusing to read it", 0);
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = file_error(errors, SS_ERR_IO, path, "cannot read the config file",
					errno);
			goto out;
		}
		if (n == 0)
			break;
		if (ss_buf_add(&data, chunk, (size_t)n) != SS_OK) {
			rc = file_error(errors, SS_ERR_TOOBIG, path,
					"the config file is larger than 4 MiB; refusing to read it",
					0);
			goto out;
		}
	}
	if (data.len > SS_CONFIG_MAX_SIZE) {
		rc = file_error(errors, SS_ERR_TOOBIG, path,
				"the config file is larger than 4 MiB; refusing to read it", 0);
		goto out;
	}
	rc = ss_config_parse(data.data, data.len, path, env, env_ctx, out, errors);
	if (rc == SS_OK)
		rc = mask_secrets(*out);
	if (rc != SS_OK && *out != NULL) {
		ss_config_free(*out);
		*out = NULL;
	}
out:
	ss_memzero(chunk, sizeof(chunk));
	if (fd >= 0)
		close(fd);
	ss_buf_free(&data);
	return rc;
}

enum ss_rc ss_config_load_file(const char *path, struct ss_config **out,
			       struct ss_buf *errors)
{
	return ss_config_load_file_env(path, ss_config_getenv, NULL, out, errors);
}
