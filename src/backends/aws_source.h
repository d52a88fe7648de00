/* aws_source.h - reading an AWS source (`sources.X.aws`, SPEC §4/§5).
 *
 * Every secret in the region whose name starts with the source's prefix
 * is listed (ListSecrets, name filter) and read (BatchGetSecretValue,
 * with GetSecretValue as the fallback; see aws_sm.h). The result is one
 * JSON object {"<name minus prefix>": value, ...} sorted by name, where a
 * SecretString that is a JSON object or array becomes that JSON and any
 * other SecretString stays a string. Secrets scheduled for deletion, and
 * secrets holding SecretBinary (warned about), are left out. Values are
 * registered with the mask registry as they arrive.
 */
#ifndef SS_AWS_SOURCE_H
#define SS_AWS_SOURCE_H

#include <cjson/cJSON.h>

#include "backends/aws.h"
#include "backends/aws_sm.h"
#include "core/buf.h"
#include "core/rc.h"
#include "net/http.h"

/* What to read; strings are copied by start. */
struct ss_aws_source_settings {
	const char *name;     /* the source's name in the config, for messages */
	const char *region;   /* required */
	const char *prefix;   /* NULL or "" = every secret in the region */
	const char *role_arn; /* the role creds belong to (messages); NULL = base */
};

struct ss_aws_source;

/* Queue the listing and the reads on h with creds (copied; the caller
 * got them for role_arn). After ss_http_run, ss_aws_source_finish hands
 * over the object (the caller frees it with ss_json_delete_secret) or
 * appends the errors, each line prefixed with "source NAME: ". Finish
 * frees the op. */
enum ss_rc ss_aws_source_start(struct ss_http *h, const struct ss_aws_creds *creds,
			       const struct ss_aws_source_settings *s,
			       struct ss_aws_source **op) SS_MUST_CHECK;
enum ss_rc ss_aws_source_finish(struct ss_aws_source *op, cJSON **out,
				struct ss_buf *err) SS_MUST_CHECK;

/* Start, ss_http_run, finish. */
enum ss_rc ss_aws_source_read(struct ss_http *h, const struct ss_aws_creds *creds,
			      const struct ss_aws_source_settings *s, cJSON **out,
			      struct ss_buf *err) SS_MUST_CHECK;

/* The object built from a read set (pure, no I/O): each secret whose
 * name starts with prefix (NULL = ""), is longer than it and has a
 * string value, keyed by the name minus the prefix. source names the
 * source in warnings. */
enum ss_rc ss_aws_source_build(const struct ss_sm_set *set, const char *prefix,
			       const char *source, cJSON **out) SS_MUST_CHECK;

/* The value of one SecretString: a JSON object or array as that JSON,
 * anything else as a string. *out is freed with ss_json_delete_secret. */
enum ss_rc ss_aws_source_value(const char *text, size_t len, cJSON **out) SS_MUST_CHECK;

#endif
