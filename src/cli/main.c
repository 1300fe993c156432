// SPDX-License-Identifier: MIT
/* The pvir program. */
#include <stdio.h>

#include "cli.h"
#include "pvir/zmem.h"

/*
 * Address space for the heap, in huge pages where the kernel offers them: a
 * machine of fleet.yaml's size holds 46 MiB, and its 11,000 faults of 4 KiB
 * were half of what building it cost (README, `pvir bench`).
 */
#define HEAP_RESERVE ((size_t)256 << 20)

int main(int argc, char **argv)
{
	(void)heap_prefer_huge_pages(HEAP_RESERVE);
	return cli_main(argc, argv, stdout, stderr);
}
