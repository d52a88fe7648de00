/* config_file.h - read a config file from disk and load it.
 *
 * The I/O half of the config loader (core/config.h is pure): every
 * command that needs the config calls ss_config_load_file().
 */
#ifndef SS_CONFIG_FILE_H
#define SS_CONFIG_FILE_H

#include "core/buf.h"
#include "core/config.h"
#include "core/rc.h"

/* Read the file at path (at most SS_CONFIG_MAX_SIZE bytes) and parse it
 * with variables looked up by getenv. Messages name the file as path was
 * given.
 * SS_OK: *out is the config (ss_config_free it); its Vault token,
 * role_id and secret_id are registered with ss_mask_global().
 * SS_ERR_INVALID: errors holds one "FILE:LINE:COL: message" line per
 * problem. SS_ERR_NOTFOUND (no such file), SS_ERR_IO (unreadable, a
 * directory) and SS_ERR_TOOBIG (over the size cap): errors holds one line
 * "FILE: message" saying how to fix it. *out is NULL on every failure. */
enum ss_rc ss_config_load_file(const char *path, struct ss_config **out,
			       struct ss_buf *errors) SS_MUST_CHECK;

/* The same with a caller-supplied environment lookup (env may be NULL:
 * every variable unset). */
enum ss_rc ss_config_load_file_env(const char *path, ss_config_env_fn *env, void *env_ctx,
				   struct ss_config **out,
				   struct ss_buf *errors) SS_MUST_CHECK;

/* An ss_config_env_fn that calls getenv (ctx is ignored). */
const char *ss_config_getenv(const char *name, void *ctx);

#endif
