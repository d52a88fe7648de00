/* publish.h - showing a finished report: stdout in the chosen format,
 * the step summary, the step outputs (SPEC §8), the sticky PR comment
 * and the commit status.
 */
#ifndef SS_PUBLISH_H
#define SS_PUBLISH_H

#include "cli.h"
#include "core/config.h"
#include "core/report.h"
#include "net/http.h"

/* Where the run reports to GitHub; filled by ss_publish_begin. */
struct ss_publish {
	const struct ss_cli *cli;
	const struct ss_config *cfg; /* may be NULL */
	const char *command;         /* "plan", "pipeline", "verify" */
	int comment;                 /* resolved from flag and config */
	int status;
	const char *status_context;
	struct ss_github *gh;        /* NULL when neither comment nor status */
	struct ss_github_context *ctx;
};

/* Resolve --comment/--status against the config, and when either is on,
 * set up the GitHub client (token: --github-token, GITHUB_TOKEN, else
 * the AWS secret github.token_secret, read with aws_base when given)
 * and post a "pending" status. Failures to set up are logged and turn
 * reporting off; they do not fail the run. */
void ss_publish_begin(struct ss_publish *p, const struct ss_cli *cli, const struct ss_config *cfg,
		      const char *command, struct ss_http *h, const void *aws_base);

/* Print r to stdout per --output (text, json, github), append the step
 * summary, write the step outputs, update the comment and the status.
 * failed_run: the run failed as a whole (error status). Returns nonzero
 * when writing an output failed, or when the PR comment or the commit
 * status asked for could not be set (the run must then fail: a green
 * step whose plan never reached the PR would mislead). The "pending"
 * status of ss_publish_begin is a courtesy: its failure is a warning. */
int ss_publish_report(struct ss_publish *p, const struct ss_report *r, int verbose);

/* Free what begin set up. */
void ss_publish_end(struct ss_publish *p);

#endif
