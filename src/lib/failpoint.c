// SPDX-License-Identifier: MIT
/* Fail the Nth call of one kind (pvir/failpoint.h). */
#include "pvir/failpoint.h"

struct failpoints {
	bool armed;
	enum failpoint fp;
	uint64_t nth;
	uint64_t calls[FAILPOINT_COUNT];
	bool fired;
	bool sticky;
};

static _Thread_local struct failpoints state;

void failpoint_arm(enum failpoint fp, uint64_t nth)
{
	state = (struct failpoints){.armed = nth != 0, .fp = fp, .nth = nth};
}

void failpoint_arm_sticky(enum failpoint fp, uint64_t nth)
{
	failpoint_arm(fp, nth);
	state.sticky = true;
}

void failpoint_disarm(void)
{
	state.armed = false;
}

bool failpoint_hit(enum failpoint fp)
{
	if (!state.armed || fp != state.fp)
		return false;
	if (++state.calls[fp] < state.nth || (state.calls[fp] > state.nth && !state.sticky))
		return false;
	state.fired = true;
	return true;
}

uint64_t failpoint_calls(enum failpoint fp)
{
	return fp < FAILPOINT_COUNT ? state.calls[fp] : 0;
}

bool failpoint_fired(enum failpoint fp)
{
	return state.fired && state.fp == fp;
}

const char *failpoint_name(enum failpoint fp)
{
	static const char *const names[FAILPOINT_COUNT] = {
	    [FAILPOINT_ALLOC] = "alloc",
	    [FAILPOINT_IRTE_WRITE] = "irte-write",
	    [FAILPOINT_INVALIDATION] = "invalidation",
	    [FAILPOINT_GUEST_READ] = "guest-read",
	};

	return fp < FAILPOINT_COUNT ? names[fp] : "?";
}
