# SPDX-License-Identifier: MIT
# The two commands a new user types: `make run` and `make test`.
# Meson does the building; this file only wires set-up, build and tests together.

BUILD     := build
BUILD_REL := build-rel
BUILD_SAN := build-san
BUILD_TSAN := build-tsan
BUILD_CSAN := build-clang-san
BUILD_FUZZ := build-fuzz
FUZZ_TIME ?= 60
FUZZ_TARGETS := abi scenario decode
PVIR      := $(BUILD_REL)/pvir
SAN_OPTS  := -Db_sanitize=address,undefined -Db_lundef=false \
             -Dc_args=-fno-sanitize-recover=all

.PHONY: all deps build build-rel build-san build-csan build-tsan build-fuzz run test check-long fuzz \
	format check-format clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja: | deps
	meson setup $(BUILD) --buildtype=debug

# What `make run` runs: optimised across files (LTO: the hot path is many small
# functions in several worlds), warnings still errors (meson.build sets werror).
$(BUILD_REL)/build.ninja: | deps
	meson setup $(BUILD_REL) --buildtype=release -Db_lto=true

build-rel: deps $(BUILD_REL)/build.ninja
	ninja -C $(BUILD_REL)

$(BUILD_SAN)/build.ninja: | deps
	meson setup $(BUILD_SAN) --buildtype=debug $(SAN_OPTS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

build-san: deps $(BUILD_SAN)/build.ninja
	ninja -C $(BUILD_SAN)

# The same sanitizers under clang: its UBSan catches what gcc's does not
# (pointer arithmetic past an array, for one).
$(BUILD_CSAN)/build.ninja: | deps
	CC=clang meson setup $(BUILD_CSAN) --buildtype=debug $(SAN_OPTS)

build-csan: deps $(BUILD_CSAN)/build.ninja
	ninja -C $(BUILD_CSAN)

$(BUILD_TSAN)/build.ninja: | deps
	meson setup $(BUILD_TSAN) --buildtype=debug -Db_sanitize=thread -Db_lundef=false

build-tsan: deps $(BUILD_TSAN)/build.ninja
	ninja -C $(BUILD_TSAN)

# The default scenario (scenarios/default.yaml, embedded in the binary), by
# the release build: a heavy scenario runs several times faster than debug.
run: build-rel
	$(PVIR) run

# Every unit test, then the same tests built with ASan+UBSan by gcc and by
# clang, then with TSan the tests that run on threads (suite `threads`: the
# posted path in test_stress.c, test_pi_desc.c, test_ir_driver.c; nothing
# else starts a thread, so TSan would see nothing there). Timeouts (tests/meson.build) are for the plain build; the
# sanitizer builds, 3x (ASan+UBSan) and 5x (TSan) slower on a loaded 2-core
# machine, multiply them. The last line is the total over all builds, as
# "N passed, N failed".
SAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1

test: build build-san build-csan build-tsan
	@rc=0; \
	meson test -C $(BUILD) --print-errorlogs || rc=1; \
	$(SAN_ENV) meson test -C $(BUILD_SAN) --timeout-multiplier 3 --print-errorlogs || rc=1; \
	$(SAN_ENV) meson test -C $(BUILD_CSAN) --timeout-multiplier 3 --print-errorlogs || rc=1; \
	TSAN_OPTIONS=halt_on_error=1 meson test -C $(BUILD_TSAN) --timeout-multiplier 5 \
		--suite threads --print-errorlogs || rc=1; \
	python3 scripts/test-summary $(BUILD) $(BUILD_SAN) $(BUILD_CSAN) $(BUILD_TSAN) || rc=1; \
	exit $$rc

# The full sizes of what make test samples (PVIR_LONG=1): failure injection
# at every N with more vectors per operation; the spray over every handle
# with SHV off and on and every compatibility destination x vector, under
# each design; the posted-path stress over 10M interrupts. Under ASan+UBSan
# and, for the stress, TSan; no timeout.
check-long: build-san build-tsan
	PVIR_LONG=1 $(SAN_ENV) meson test -C $(BUILD_SAN) --timeout-multiplier 0 \
		--print-errorlogs inject spray
	PVIR_LONG=1 TSAN_OPTIONS=halt_on_error=1 meson test -C $(BUILD_TSAN) \
		--timeout-multiplier 0 --print-errorlogs stress

# libFuzzer with ASan+UBSan (clang): each target for FUZZ_TIME seconds
# (make fuzz FUZZ_TIME=600), one after the other. New inputs go to
# build-fuzz/corpus-TARGET; the committed seeds (tests/fuzz/corpus/) are
# read, never written. A finding is left as build-fuzz/crash-*.
$(BUILD_FUZZ)/build.ninja: | deps
	CC=clang meson setup $(BUILD_FUZZ) --buildtype=debugoptimized -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false \
		"-Dc_args=-fno-sanitize-recover=all -fsanitize=fuzzer-no-link"

build-fuzz: deps $(BUILD_FUZZ)/build.ninja
	ninja -C $(BUILD_FUZZ)

fuzz: build-fuzz
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(BUILD_FUZZ)/corpus-$$t || exit 1; \
		echo "== fuzz_$$t for $(FUZZ_TIME) s"; \
		$(SAN_ENV) $(BUILD_FUZZ)/tests/libfuzzer_$$t -max_total_time=$(FUZZ_TIME) \
			-max_len=4096 -print_final_stats=1 -artifact_prefix=$(BUILD_FUZZ)/ \
			$(BUILD_FUZZ)/corpus-$$t tests/fuzz/corpus/$$t || exit 1; \
	done

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

check-format:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_REL) $(BUILD_SAN) $(BUILD_CSAN) $(BUILD_TSAN) $(BUILD_FUZZ)
