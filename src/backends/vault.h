/* vault.h - the HashiCorp Vault client: auth, KV v1/v2, recursive reads.
 *
 * All requests go through the shared transport (net/http.h), so lists
 * and reads of a tree run concurrently up to its bound. Every value read
 * is registered with the mask registry before it is handed over or
 * anything else sees it. A token this client obtained by login is
 * revoked by ss_vault_logout (call it on every exit path).
 *
 * Errors are written to an ss_buf as one line each, subject first, with
 * what the user needs to fix them:
 *   vault: LIST kv/metadata/team/: 403 permission denied (policy needs
 *   "list" on kv/metadata/team/ and below)
 * Vault's own words in them pass the mask first (they may echo what was
 * sent), since such lines also reach reports and step outputs.
 *
 * Every request is idempotent for the transport: reads, logins (a repeat
 * makes one more short-lived token at worst), revoke-self, and KV writes
 * (the whole secret is replaced: a repeat leaves the same data, in KV v2
 * as one more version at worst).
 */
#ifndef SS_VAULT_H
#define SS_VAULT_H

#include <cjson/cJSON.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/rc.h"
#include "net/http.h"

/* Borrowed settings; they must outlive the client. */
struct ss_vault_settings {
	const char *address;         /* https://vault.example.com:8200 */
	const char *namespace;       /* NULL = none */
	const char *tls_server_name; /* VAULT_TLS_SERVER_NAME; NULL = none */
	enum ss_vault_auth auth;      /* from core/config.h */
	const char *token;           /* TOKEN */
	const char *approle_mount;   /* APPROLE, default "approle" */
	const char *role_id;
	const char *secret_id;
	const char *jwt_mount;       /* JWT, default "jwt" */
	const char *jwt_role;        /* NULL = the mount's default role */
	const char *jwt_audience;    /* audience asked of GitHub OIDC */
	long max_depth;              /* folder levels below a start path */
	long max_secrets;            /* per tree read */
};

struct ss_vault;

/* A new client on transport h (borrowed). NULL on allocation failure or
 * a bad address (err says why). */
struct ss_vault *ss_vault_new(struct ss_http *h, const struct ss_vault_settings *s,
			      struct ss_buf *err);

/* Free the client (does not revoke: call ss_vault_logout first). */
void ss_vault_free(struct ss_vault *v);

/* Authenticate: a token is used as given; AppRole and JWT log in (the
 * JWT is GitHub's OIDC token for jwt_audience). Runs the loop. */
enum ss_rc ss_vault_login(struct ss_vault *v, struct ss_buf *err) SS_MUST_CHECK;

/* Revoke a token obtained by login (no-op for a given token). Runs the
 * loop; failures are logged as warnings, never fatal. */
void ss_vault_logout(struct ss_vault *v);

/* The KV version of mount (1 or 2), from sys/internal/ui/mounts, cached
 * per mount. Runs the loop. */
enum ss_rc ss_vault_kv_version(struct ss_vault *v, const char *mount, int *version,
			       struct ss_buf *err) SS_MUST_CHECK;

/* A recursive read of a mount: for each start path (a folder ending in
 * '/', a secret, or "" for the whole mount; a path without '/' that is
 * not a secret is listed as a folder), breadth-first LIST with a visited
 * set (each folder listed and each secret read once), key validation (a
 * bad key is skipped with a warning naming it), the depth cap (folders
 * more than max_depth levels below a start path are not listed: a
 * warning) and the count cap (more than max_secrets secrets fails the
 * op before they are read). Lists and reads run concurrently; at most
 * 256 requests of one op are queued on the transport at a time, the rest
 * wait as paths. A read or list that fails fails the op (a secret
 * deleted between LIST and read is a warning).
 *
 * ss_vault_tree_start queues the work on the transport (kv_version 0 =
 * detect it from sys/internal/ui/mounts; a version given is checked
 * against the mount when a start path answers 404 or 403, so a wrong
 * kv_version is named as such); after ss_http_run, ss_vault_tree_finish
 * hands over an object {"<path relative to the mount>": <value>, ...}
 * sorted by name, or fails with err filled (a 403 from a dead token is
 * reported as that). The op is freed by finish. */
struct ss_vault_tree;
enum ss_rc ss_vault_tree_start(struct ss_vault *v, const char *mount, int kv_version,
			       const char *const *paths, size_t npaths,
			       struct ss_vault_tree **op) SS_MUST_CHECK;
enum ss_rc ss_vault_tree_finish(struct ss_vault_tree *op, cJSON **out,
				struct ss_buf *err) SS_MUST_CHECK;
/* Counters of a finished or running op. */
void ss_vault_tree_counts(const struct ss_vault_tree *op, long *lists, long *reads);
/* How many keys the walk left out as unsafe (named in warnings): a tree
 * with skipped keys may be missing secrets, so it must not drive
 * deletes. Call before ss_vault_tree_finish; NULL gives 0. */
long ss_vault_tree_skipped(const struct ss_vault_tree *op);

/* Read one secret (the data of its latest version). SS_ERR_NOTFOUND
 * when it does not exist or its latest version is deleted. Runs the
 * loop. */
enum ss_rc ss_vault_read(struct ss_vault *v, const char *mount, const char *path,
			 cJSON **out, struct ss_buf *err) SS_MUST_CHECK;

/* One secret of a batch read. */
struct ss_vault_ref {
	const char *mount; /* borrowed */
	const char *path;  /* borrowed, below the mount */
	cJSON *value;      /* out: the data (free with ss_json_delete_secret), or NULL */
	enum ss_rc rc;     /* out: SS_OK, SS_ERR_NOTFOUND, SS_ERR_AUTH, ... */
};

/* Read n secrets concurrently: first the KV version of each mount not
 * known yet (all at once), then every secret (all at once, up to the
 * transport's bound). Each value is masked before this returns. Every
 * failed ref appends one line to err (a dead token: one line for all)
 * and keeps its own rc. Returns SS_OK when all were read, else the rc
 * of the first failed ref in order (or SS_ERR_NOMEM). Runs the loop. */
enum ss_rc ss_vault_read_many(struct ss_vault *v, struct ss_vault_ref *refs, size_t n,
			      struct ss_buf *err) SS_MUST_CHECK;

/* Write data (an object) as the new version of mount/path. Runs the
 * loop. */
enum ss_rc ss_vault_write(struct ss_vault *v, const char *mount, const char *path,
			  const cJSON *data, struct ss_buf *err) SS_MUST_CHECK;

/* Delete mount/path entirely (KV v2: its metadata, so every version;
 * KV v1: the secret). A secret that is already gone is no error. Runs
 * the loop. */
enum ss_rc ss_vault_delete(struct ss_vault *v, const char *mount, const char *path,
			   struct ss_buf *err) SS_MUST_CHECK;

/* The same two, queued: *op is set (free it with ss_vault_op_finish
 * after ss_http_run) unless allocation fails. The mount's KV version is
 * looked up first when it is not cached (that runs the loop). finish
 * reports the outcome as the synchronous calls do. */
struct ss_vault_op;
enum ss_rc ss_vault_write_start(struct ss_vault *v, const char *mount, const char *path,
				const cJSON *data, struct ss_vault_op **op,
				struct ss_buf *err) SS_MUST_CHECK;
enum ss_rc ss_vault_delete_start(struct ss_vault *v, const char *mount, const char *path,
				 struct ss_vault_op **op, struct ss_buf *err) SS_MUST_CHECK;
enum ss_rc ss_vault_op_finish(struct ss_vault_op *op, struct ss_buf *err) SS_MUST_CHECK;

/* Check that the token works (auth/token/lookup-self). */
enum ss_rc ss_vault_lookup_self(struct ss_vault *v, struct ss_buf *err) SS_MUST_CHECK;

/* Nonzero if key (one entry of a LIST answer) is safe to follow: no
 * "..", NUL, "//", leading '/', '/' other than a final one, control
 * characters, or emptiness. */
int ss_vault_key_ok(const char *key, size_t len);

#endif
