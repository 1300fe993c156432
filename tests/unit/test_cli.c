// SPDX-License-Identifier: MIT
/*
 * The command line keeps the conventions users bring from other tools:
 * -h/--help everywhere, --version, --opt=value, options after operands,
 * "-" for stdout, an error for each mistake that says what to do, and no
 * option silently overriding another.
 */
#include <unistd.h>

#include "cli_helpers.h"
#include "progress.h"

#define MAIN(...) call_main((char *[]){"pvir", __VA_ARGS__, NULL})

static struct cli_out call_main(char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	return cli_call(cli_main, argc, argv);
}

static void expect(struct cli_out r, int rc, const char *out_has, const char *err_has)
{
	assert_int_equal(r.rc, rc);
	if (out_has)
		assert_non_null(strstr(r.out, out_has));
	else
		assert_string_equal(r.out, "");
	if (err_has)
		assert_non_null(strstr(r.err, err_has));
	else
		assert_string_equal(r.err, "");
	cli_free(&r);
}

static void help_and_version(void **state)
{
	(void)state;
	expect(MAIN("--version"), CLI_EXIT_OK, "pvir 0.1.0\n", NULL);
	expect(MAIN("-h"), CLI_EXIT_OK, "usage: pvir COMMAND", NULL);
	expect(MAIN("--help"), CLI_EXIT_OK, "  compare  ", NULL);
	expect(MAIN("help", "decode"), CLI_EXIT_OK, "usage: pvir decode [OPTIONS] irte", NULL);
	expect(MAIN("help", "nope"), CLI_EXIT_USAGE, NULL, "pvir help: no command 'nope'");
	expect(MAIN("run", "-h"), CLI_EXIT_OK, "  --design=DESIGN", NULL);
	expect(MAIN("compare", "--help"), CLI_EXIT_OK, "  --sweep=N,N,...", NULL);
	expect(MAIN("bench", "--help"), CLI_EXIT_OK, "  --rounds=N", NULL);
	expect(MAIN("decode", "--help"), CLI_EXIT_OK, "  --xapic", NULL);
	/* help wins even after another option, as in getopt tools */
	expect(MAIN("run", "--json", "--help"), CLI_EXIT_OK, "usage: pvir run", NULL);
	expect(MAIN("frobnicate"), CLI_EXIT_USAGE, NULL, "pvir: unknown command 'frobnicate'");
	expect(call_main((char *[]){"pvir", NULL}), CLI_EXIT_USAGE, NULL, "usage: pvir COMMAND");
}

static void options_anywhere_and_with_equals(void **state)
{
	(void)state;
	expect(MAIN("decode", "msi", "0xfee00000", "0x21", "--json"), CLI_EXIT_OK, "\"vector\":33",
	       NULL);
	expect(MAIN("decode", "--json", "msi", "0xfee00000", "0x21"), CLI_EXIT_OK, "\"vector\":33",
	       NULL);
	expect(MAIN("run", "--design=trap", "--kernel=tuned", "--seed=7", "--quiet", "--json"),
	       CLI_EXIT_OK, "\"seed\":7,\"iommu\":\"vtd\",\"host_kernel\":\"tuned\"", NULL);
	expect(MAIN("run", "--des", "trap", "--quiet", "--json"), CLI_EXIT_OK,
	       "\"designs\":{\"trap\":", NULL); /* a unique prefix is the option */
}

static void mistakes_are_named(void **state)
{
	(void)state;
	expect(MAIN("run", "--trace"), CLI_EXIT_USAGE, NULL,
	       "pvir run: option '--trace' requires an argument\nusage: pvir run");
	expect(MAIN("run", "--quiet=yes"), CLI_EXIT_USAGE, NULL,
	       "option '--quiet' takes no argument");
	expect(MAIN("run", "--frob"), CLI_EXIT_USAGE, NULL,
	       "unknown option '--frob'\nusage: pvir run [OPTIONS] [SCENARIO.yaml | -]\n"
	       "Try 'pvir run --help' for more.");
	expect(MAIN("run", "--design", "trap", "--design", "hcall"), CLI_EXIT_USAGE, NULL,
	       "--design given twice; give it once (--design=all runs the three)");
	expect(MAIN("run", "--seed", "1", "--seed=2"), CLI_EXIT_USAGE, NULL, "--seed given twice");
	expect(MAIN("compare", "--kernel", "stock", "--kernel", "tuned"), CLI_EXIT_USAGE, NULL,
	       "--kernel given twice");
	expect(MAIN("compare", "--sweep", "64,"), CLI_EXIT_USAGE, NULL,
	       "--sweep '64,': expected up to 16 sizes");
	expect(MAIN("compare", "--sweep", ""), CLI_EXIT_USAGE, NULL,
	       "--sweep '': expected up to 16 sizes");
	expect(MAIN("compare", "--sweep=64", "--sweep=128"), CLI_EXIT_USAGE, NULL,
	       "--sweep given twice; list every size in one");
	expect(MAIN("compare", "--sweep=64", "--seed=3"), CLI_EXIT_USAGE, NULL,
	       "--seed would change nothing; drop it");
	expect(MAIN("bench", "--rounds=0"), CLI_EXIT_USAGE, NULL,
	       "--rounds '0' is not a whole number from 1 to 1000000000");
	expect(MAIN("bench", "extra"), CLI_EXIT_USAGE, NULL, "takes no operands, not 'extra'");
}

/* --trace - puts the trace on stdout, so the report moves to stderr. */
/* A migrate_vm: run and compare show the move; the JSON has its migrations. */
static void migrations_are_reported(void **state)
{
	static const char text[] =
	    "duration: 2ms\nhosts: [{name: a, pcpus: 2}, {name: b, pcpus: 2}]\nvms:\n"
	    "  - name: v\n    vcpus: 2\n    devices:\n"
	    "      - {name: n, bdf: \"03:00.0\", guest_bdf: \"00:04.0\", msix: 4}\n"
	    "workload:\n  - {at: 0ms, do: activate, dev: v/n, count: 4}\n"
	    "  - {at: 0ms, do: traffic, dev: v/n, rate: 100K/s, until: 2ms}\n"
	    "  - {at: 0.5ms, do: migrate_vm, vm: v, to: b, downtime: 0.3ms}\n";
	char path[] = "/tmp/pvir-migrate-XXXXXX";

	(void)state;
	temp_scenario(path, text);
	expect(MAIN("run", path), CLI_EXIT_OK,
	       "migrated   v a -> b at 0.500 ms: downtime 0.300 ms,", NULL);
	expect(MAIN("run", path, "--json"), CLI_EXIT_OK, "\"handles_moved\":0", NULL);
	expect(MAIN("compare", path), CLI_EXIT_OK, "handles moved, re-synced", NULL);
	unlink(path);
}

static void trace_to_stdout(void **state)
{
	struct cli_out r = MAIN("run", "--trace", "-", "--quiet");

	(void)state;
	assert_int_equal(r.rc, CLI_EXIT_OK);
	assert_true(!strncmp(r.out, "{\"traceEvents\":[", 16));
	assert_non_null(strstr(r.out, "\n]}\n"));
	assert_non_null(strstr(r.err, "pvir run: scenario default, design hcall"));
	cli_free(&r);
}

/* A write that fails says why, with the errno of the write: /dev/full is full. */
static void trace_write_failure_named(void **state)
{
	(void)state;
	expect(MAIN("run", "--trace=/dev/full", "--quiet"), CLI_EXIT_USAGE, NULL,
	       "pvir run: --trace /dev/full: No space left on device");
}

/* A sweep's setup takes no virtual time: its progress line counts points and designs. */
static void sweep_progress_moves(void **state)
{
	struct sim_options o = {0};
	struct progress p;
	char *text = NULL;
	size_t len;
	FILE *err = open_memstream(&text, &len);

	(void)state;
	progress_init(&p, false, err);
	p.on = true;	      /* as on a terminal */
	p.start.tv_sec -= 10; /* and past the first second */
	progress_attach(&p, &o);
	progress_point(&p, 2, 5, 256);
	o.progress(o.progress_ctx, SIM_DESIGN_VIR_EMUL, 0, 0);
	progress_point(&p, 3, 5, 1024);
	o.progress(o.progress_ctx, SIM_DESIGN_HCALL, 0, 0);
	progress_done(&p);
	fclose(err);
	assert_non_null(strstr(text, "point 2 of 5 (N=256), design 2 of 3 (vir-emul)"));
	assert_non_null(strstr(text, "point 3 of 5 (N=1024), design 3 of 3 (hcall)"));
	free(text);
}

/* A scenario of @nic MSI-X vectors in one VM and @ims IMS entries in another. */
static bool wants_huge_pages(unsigned nic, unsigned ims)
{
	char text[512], msg[256];
	struct scenario *sc;
	bool wants;

	snprintf(text, sizeof(text),
		 "name: t\nduration: 1us\nhost: {pcpus: 4}\nvms:\n"
		 "  - {name: a, vcpus: 2, devices: [{name: n, bdf: \"03:00.0\", "
		 "guest_bdf: \"00:04.0\", msix: %u}]}\n"
		 "  - {name: b, vcpus: 2, devices: [{name: x, bdf: \"04:00.0\", "
		 "guest_bdf: \"00:05.0\", ims: %u}]}\n",
		 nic, ims);
	assert_int_equal(scenario_parse(text, strlen(text), "t.yaml", &sc, msg, sizeof(msg)), 0);
	wants = cli_heap_wants_huge_pages(sc);
	scenario_free(sc);
	return wants;
}

/* The heap goes to huge pages from 8,192 interrupts, counted over every VM's devices. */
static void huge_heap_from_8192_interrupts(void **state)
{
	(void)state;
	assert_false(wants_huge_pages(64, 8127));
	assert_true(wants_huge_pages(64, 8128));
	assert_true(wants_huge_pages(2048, 65535));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(help_and_version),
	    cmocka_unit_test(huge_heap_from_8192_interrupts),
	    cmocka_unit_test(options_anywhere_and_with_equals),
	    cmocka_unit_test(mistakes_are_named),
	    cmocka_unit_test(trace_to_stdout),
	    cmocka_unit_test(migrations_are_reported),
	    cmocka_unit_test(trace_write_failure_named),
	    cmocka_unit_test(sweep_progress_moves),
	};

	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
