// SPDX-License-Identifier: MIT
/*
 * scripts/embed-text copes with any size: fleet.yaml, five times the 4095
 * characters a C11 string literal may be, is embedded at build time (under
 * -Wpedantic -Werror) and must come back byte for byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

const char *embedded_fleet_text(void);

static void fleet_scenario_comes_back_whole(void **state)
{
	const char *dir = getenv("PVIR_SCENARIOS");
	char path[4096], *file;
	FILE *f;
	long n;

	(void)state;
	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/fleet.yaml", dir);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	assert_true(n > 4095);
	file = malloc((size_t)n);
	assert_non_null(file);
	assert_int_equal(fread(file, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	assert_int_equal(strlen(embedded_fleet_text()), (size_t)n);
	assert_memory_equal(embedded_fleet_text(), file, (size_t)n);
	free(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(fleet_scenario_comes_back_whole),
	};

	return cmocka_run_group_tests_name("embed", tests, NULL, NULL);
}
