/* SPDX-License-Identifier: MIT */
/* Running a scenario text in a test: the run, its operations, and the soundness checks. */
#ifndef PVIR_TEST_SIM_HELPERS_H
#define PVIR_TEST_SIM_HELPERS_H

#include <string.h>

#include "pvir/scenario.h"
#include "pvir/sim.h"
#include "test.h"

struct run {
	struct scenario *sc;
	struct sim_report r;
};

static inline struct run run_design(const char *text, enum sim_design d,
				    const struct sim_options *o)
{
	struct run run = {0};
	char err[SC_ERR_MAX];

	if (scenario_parse(text, strlen(text), "t.yaml", &run.sc, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(sim_run(run.sc, d, o, &run.r), 0);
	return run;
}

static inline struct run run_text(const char *text, const struct sim_options *o)
{
	return run_design(text, SIM_DESIGN_HCALL, o);
}

static inline void run_free(struct run *run)
{
	sim_report_done(&run->r);
	scenario_free(run->sc);
}

static inline const struct sim_op_result *op(const struct run *run, size_t i)
{
	assert_true(i < run->r.nops);
	return &run->r.ops[i];
}

static inline void assert_sound(const struct run *run)
{
	for (unsigned i = 0; i < run->r.nviolations; i++)
		print_error("violation: %s\n", run->r.violations[i]);
	assert_int_equal(run->r.nviolations, 0);
	assert_int_equal(run->r.irq.lost, 0);
	assert_int_equal(run->r.irq.misdelivered, 0);
}

#endif
