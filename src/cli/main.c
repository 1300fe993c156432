// SPDX-License-Identifier: MIT
/* The pvir program. */
#include <stdio.h>

#include "cli.h"

int main(int argc, char **argv)
{
	return cli_main(argc, argv, stdout, stderr);
}
