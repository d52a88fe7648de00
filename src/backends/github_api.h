/* github_api.h - the GitHub REST client: commit statuses, the sticky PR
 * comment, and the Actions event context (SPEC §7, §8).
 *
 * The context comes from the runner's environment: GITHUB_API_URL
 * (github.com or a GHES ".../api/v3" base), GITHUB_REPOSITORY,
 * GITHUB_SHA, GITHUB_EVENT_NAME and, on pull request events, the PR
 * number and head SHA from the GITHUB_EVENT_PATH payload.
 *
 * Every request carries "Authorization: Bearer TOKEN", Accept
 * "application/vnd.github+json", "X-GitHub-Api-Version: 2022-11-28" and
 * the transport's "User-Agent: secretsync/VERSION". The token is only
 * ever sent to URLs under GITHUB_API_URL: a pagination link that points
 * anywhere else is refused, not followed. The client never calls
 * GET /user (the Actions token cannot).
 *
 * Retries: a status POST is safe to repeat (the same state for the same
 * context just lands again), a comment PATCH too (the same body); a
 * comment POST is not, so a 5xx on it is not retried (a 429 is, by the
 * transport). A 403 rate limit is explained, not retried.
 *
 * Errors are appended to an ss_buf as one line each, subject first, with
 * what the user needs to fix them; GitHub's own message is shown through
 * the mask:
 *   github: POST /repos/octo/app/statuses/89ab...: 403 Resource not
 *   accessible by integration (the token needs the "statuses: write"
 *   permission: add "permissions: statuses: write" to the job)
 */
#ifndef SS_GITHUB_API_H
#define SS_GITHUB_API_H

#include <stddef.h>

#include "core/buf.h"
#include "core/rc.h"
#include "net/http.h"

#define SS_GITHUB_DEFAULT_API_URL "https://api.github.com"
#define SS_GITHUB_API_VERSION	  "2022-11-28"
/* GitHub's limits, in characters (Unicode code points). */
#define SS_GITHUB_COMMENT_MAX	  65536
#define SS_GITHUB_DESCRIPTION_MAX 140
/* The largest event payload read from GITHUB_EVENT_PATH. */
#define SS_GITHUB_EVENT_MAX ((size_t)16 * 1024 * 1024)
/* The most comment pages read (100 comments each) looking for a marker. */
#define SS_GITHUB_MAX_PAGES 100

/* The run's context. Strings are owned (free with
 * ss_github_context_free); NULL when the variable is unset. */
struct ss_github_context {
	char *api_url;	  /* GITHUB_API_URL without a trailing '/'; never NULL once loaded */
	char *repository; /* "owner/repo" */
	char *event_name; /* "push", "pull_request", ... */
	char *sha;	  /* GITHUB_SHA */
	long pr_number;	  /* > 0 on a pull request event, else 0 */
	char *head_sha;	  /* the PR head SHA on a pull request event */
	char *target_url; /* GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID */
};

/* Fill ctx from the environment. On a pull_request, pull_request_target
 * (or pull_request_review[_comment]) event the payload at
 * GITHUB_EVENT_PATH must be readable and name the PR number and head
 * SHA. A malformed GITHUB_API_URL, GITHUB_REPOSITORY or GITHUB_SHA, or a
 * missing / unreadable / oversized / malformed event file is an error
 * (SS_ERR_INVALID, SS_ERR_IO, SS_ERR_TOOBIG) with a line in err. Unset
 * variables are not errors here: the operation that needs one says so.
 * Free ctx with ss_github_context_free whatever the result. */
enum ss_rc ss_github_context_load(struct ss_github_context *ctx, struct ss_buf *err) SS_MUST_CHECK;

/* Free the strings of ctx and zero it. NULL is fine. */
void ss_github_context_free(struct ss_github_context *ctx);

/* The commit a status belongs to: the PR head SHA on a pull request
 * event, else GITHUB_SHA; NULL when neither is known. Borrowed. */
const char *ss_github_context_sha(const struct ss_github_context *ctx);

/* Parse an event payload (len bytes at buf) for .pull_request.number
 * (*number > 0) and .pull_request.head.sha (*head_sha, malloc'd, 7 to 64
 * hex digits). SS_ERR_PARSE for text that is not JSON, SS_ERR_INVALID
 * when a field is missing or malformed; err gets a line (prefixed
 * "github: GITHUB_EVENT_PATH: "). On failure *head_sha is NULL. */
enum ss_rc ss_github_event_parse(const char *buf, size_t len, long *number, char **head_sha,
				 struct ss_buf *err) SS_MUST_CHECK;

struct ss_github;

/* A client on transport h (borrowed) for ctx (borrowed: it must outlive
 * the client) with token (copied, and registered with the mask before
 * anything else). NULL when the token is empty or holds white space or
 * control characters, ctx has no repository, or memory runs out; err
 * says why (never showing the token). */
struct ss_github *ss_github_new(struct ss_http *h, const struct ss_github_context *ctx,
				const char *token, struct ss_buf *err);

/* Zero the token and free the client. NULL is fine. */
void ss_github_free(struct ss_github *g);

/* POST /repos/O/R/statuses/SHA. sha NULL = ss_github_context_sha(ctx).
 * state: "pending", "success", "failure" or "error". context: the
 * status name (non-empty). description (may be NULL) is redacted through
 * the mask and cut with ss_github_cut_description. target_url NULL = ctx->target_url (none
 * when that is NULL too); "" = none. Runs the loop. SS_OK on 201. */
enum ss_rc ss_github_status(struct ss_github *g, const char *sha, const char *state,
			    const char *context, const char *description, const char *target_url,
			    struct ss_buf *err) SS_MUST_CHECK;

/* The hidden marker of a sticky comment, appended to out:
 *   <!-- secretsync:sticky config=CONFIG command=COMMAND -->
 * Both values are percent-encoded except [A-Za-z0-9._/~] and a '-' not
 * next to another '-', so they cannot hold a space, "--" or '>' and can
 * never end the comment or make one marker a part of another. */
enum ss_rc ss_github_marker(const char *config_path, const char *command,
			    struct ss_buf *out) SS_MUST_CHECK;

/* The most bytes of body ss_github_sticky_comment accepts with marker:
 * render the Markdown with this cap (ss_report_markdown max_len). */
size_t ss_github_comment_room(const char *marker);

/* What ss_github_sticky_comment did. */
struct ss_github_comment {
	long long id;	    /* the comment's id */
	int updated;	    /* 1: an existing comment was edited (or already equal) */
	int unchanged;	    /* 1: it already had this exact body: nothing sent */
	char html_url[512]; /* its web address ("" if GitHub sent none) */
};

/* Keep one comment per marker on pull request pr (0 = ctx->pr_number):
 * the body sent is marker + "\n" + body, with body redacted through the
 * mask (it should hold no value in the first place). The PR's issue comments are
 * read page by page (per_page=100, following Link rel="next" only under
 * GITHUB_API_URL, at most SS_GITHUB_MAX_PAGES pages); among those whose
 * author has user.type "Bot" and whose body contains marker, the newest
 * (the last listed) is edited in place (PATCH), others are left alone;
 * with none, a comment is created (POST). SS_ERR_TOOBIG, without any
 * request, when the body would pass SS_GITHUB_COMMENT_MAX characters;
 * SS_ERR_INVALID when it is not UTF-8, the marker is empty, or there is
 * no PR. out (may be NULL) says what happened. Runs the loop. */
enum ss_rc ss_github_sticky_comment(struct ss_github *g, long pr, const char *marker,
				    const char *body, struct ss_github_comment *out,
				    struct ss_buf *err) SS_MUST_CHECK;

/* Append a commit status description made from in to out: at most
 * SS_GITHUB_DESCRIPTION_MAX characters, cut on a character boundary
 * (ending in "..." as U+2026 when cut), control characters turned into
 * spaces and invalid UTF-8 bytes into '?'. NULL in gives "". */
enum ss_rc ss_github_cut_description(const char *in, struct ss_buf *out) SS_MUST_CHECK;

/* The number of characters in s (UTF-8), or -1 when s is not valid
 * UTF-8 (overlong forms, surrogates and code points past U+10FFFF are
 * invalid). */
long ss_github_utf8_chars(const char *s, size_t len);

/* The URL of the rel="next" link of a Link header value, malloc'd in
 * *out. SS_ERR_NOTFOUND when there is none, SS_ERR_PARSE for a
 * malformed header. *out is NULL on failure. */
enum ss_rc ss_github_link_next(const char *link, char **out) SS_MUST_CHECK;

#endif
