/* unbuilt.c - the commands whose back ends are not built yet.
 *
 * Their command lines are parsed and checked by main.c already; running
 * them says so plainly and fails, instead of pretending to work.
 */
#include <stdio.h>

#include "cli.h"
#include "core/log.h"
#include "core/banned.h"

static int unbuilt(const char *name)
{
	ss_error("'%s' is not available in this build yet (see the project's open issues)", name);
	return SS_EXIT_FAILURE;
}

int ss_cmd_verify(const struct ss_cli *cli)
{
	(void)cli;
	return unbuilt("verify");
}
