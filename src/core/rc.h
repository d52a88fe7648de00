/* rc.h - the one result code type of secretsync.
 *
 * Every fallible function returns enum ss_rc (SS_OK is 0) and is marked
 * SS_MUST_CHECK so a forgotten check is a compile error under -Werror.
 */
#ifndef SS_RC_H
#define SS_RC_H

#define SS_MUST_CHECK __attribute__((warn_unused_result))

enum ss_rc {
	SS_OK = 0,
	SS_ERR_NOMEM,    /* allocation failed */
	SS_ERR_TOOBIG,   /* a bounded buffer or input exceeded its cap */
	SS_ERR_INVALID,  /* bad input: config, argument, malformed data */
	SS_ERR_IO,       /* local file or stream failure */
	SS_ERR_NET,      /* connection, TLS or timeout failure */
	SS_ERR_HTTP,     /* remote answered with an error status */
	SS_ERR_AUTH,     /* authentication or authorization refused */
	SS_ERR_NOTFOUND, /* the thing asked for does not exist */
	SS_ERR_PARSE,    /* a remote answer could not be parsed */
	SS_ERR_CONFLICT, /* a concurrent or duplicate change was refused */
	SS_ERR_INTERNAL  /* a bug: an invariant did not hold */
};

/* A static English description of rc; never NULL. */
const char *ss_strerror(enum ss_rc rc);

#endif
