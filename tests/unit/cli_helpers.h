/* SPDX-License-Identifier: MIT */
/* Calling a subcommand in a test, with its output and diagnostics captured. */
#ifndef PVIR_TEST_CLI_HELPERS_H
#define PVIR_TEST_CLI_HELPERS_H

#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

struct cli_out {
	int rc;
	char *out;
	char *err;
};

static inline struct cli_out cli_call(int (*cmd)(int, char **, FILE *, FILE *), int argc,
				      char **argv)
{
	struct cli_out r = {0};
	size_t ol, el;
	FILE *out = open_memstream(&r.out, &ol), *err = open_memstream(&r.err, &el);

	r.rc = cmd(argc, argv, out, err);
	fclose(out);
	fclose(err);
	return r;
}

static inline void cli_free(struct cli_out *r)
{
	free(r->out);
	free(r->err);
}

#endif
