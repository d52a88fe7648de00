/* pipeline.h - the plan of a run, for other commands (verify). */
#ifndef SS_PIPELINE_H
#define SS_PIPELINE_H

#include "cli.h"
#include "core/config.h"
#include "core/report.h"
#include "core/rc.h"

/* Compute the plan of every selected target exactly as `plan` would
 * (authenticate, read, merge, read AWS state, diff) with no write and
 * nothing published. cfg stays the caller's. *out is the report (free
 * with ss_report_free) whenever one could be made, also on failure:
 * SS_ERR_AUTH when authentication failed (every target skipped). */
enum ss_rc ss_pipeline_plan(const struct ss_cli *cli, struct ss_config *cfg,
			    struct ss_report **out) SS_MUST_CHECK;

/* The targets a run selects: want[i] for the targets of --targets (all
 * when absent) within --shard I/N; need[i] for those and every target
 * they import (merged, not written). Both arrays hold cfg->ntargets
 * bytes. Returns SS_EXIT_OK, or SS_EXIT_USAGE after printing an unknown
 * target name (with the list of targets), or SS_EXIT_FAILURE. */
int ss_pipeline_select(const struct ss_cli *cli, const struct ss_config *cfg,
		       unsigned char *want, unsigned char *need);

#endif
