// SPDX-License-Identifier: MIT
/*
 * The scenario loader and the engine. Any input either parses or is refused
 * with "FILE:LINE: KEY: ..."; one that parses, and is small enough to run in
 * a few milliseconds, runs under the design its length picks, and must come
 * out sound: no invariant violated, nothing lost, nothing misdelivered.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvir/scenario.h"
#include "pvir/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What one input may cost: beyond these it is parsed only. */
#define RUN_MAX_RAISES	 2000
#define RUN_MAX_MEMORY	 (UINT64_C(64) << 20)
#define RUN_MAX_VECTORS	 4096
#define RUN_MAX_DURATION UINT64_C(50000000) /* 50 ms virtual */

static void violation(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_scenario: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

static bool cheap(const struct scenario *sc)
{
	uint64_t raises = 0, memory = 0, vectors = 0;

	for (unsigned i = 0; i < sc->nops; i++) {
		const struct sc_op *op = &sc->ops[i];

		if (op->kind == OP_TRAFFIC && op->until > op->at)
			raises += op->rate / 1000 * ((op->until - op->at) / 1000000 + 1);
		if (op->kind == OP_ACTIVATE)
			vectors += op->count;
	}
	for (unsigned v = 0; v < sc->nvms; v++) {
		memory += sc->vms[v].memory;
		for (unsigned d = 0; d < sc->vms[v].ndevs; d++)
			vectors += sc->vms[v].devs[d].msix + sc->vms[v].devs[d].ims;
	}
	return raises <= RUN_MAX_RAISES && memory <= RUN_MAX_MEMORY && vectors <= RUN_MAX_VECTORS &&
	       sc->duration <= RUN_MAX_DURATION;
}

static void check_report(const struct sim_report *r)
{
	if (r->nviolations)
		violation("invariant violated", r->violations[0]);
	if (r->irq.lost)
		violation("interrupts lost", NULL);
	if (r->irq.misdelivered)
		violation("interrupts misdelivered", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[SC_ERR_MAX] = "";
	struct scenario *sc = NULL;
	struct sim_report r;
	int rc = scenario_parse((const char *)data, size, "fuzz.yaml", &sc, err, sizeof(err));

	if (rc) {
		if (strncmp(err, "fuzz.yaml", 9))
			violation("an error that does not name the file", err);
		return 0;
	}
	if (cheap(sc)) {
		if (sim_run(sc, (enum sim_design)(size % SIM_DESIGN_COUNT), NULL, &r) == 0) {
			check_report(&r);
			sim_report_done(&r);
		}
	}
	scenario_free(sc);
	return 0;
}
