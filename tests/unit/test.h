/* SPDX-License-Identifier: MIT */
/*
 * What every unit test includes: cmocka and a way to name table rows.
 * A table row becomes its own case, "<group>/<row name>", so a failure
 * names the spec vector that broke (kvm-unit-tests style).
 */
#ifndef PVIR_TEST_H
#define PVIR_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define TEST(fn) cmocka_unit_test(fn)
/* A case that runs @fn with *state = @row, named @name. */
#define TEST_ROW(name_, fn, row)                                                               \
	{                                                                                      \
		.name = (name_), .test_func = (fn), .setup_func = NULL, .teardown_func = NULL, \
		.initial_state = (void *)(row)                                                 \
	}

#endif
