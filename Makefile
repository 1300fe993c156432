# SPDX-License-Identifier: MIT
# The two commands a new user types: `make run` and `make test`.
# Meson does the building; this file only wires set-up, build and tests together.

BUILD     := build
BUILD_SAN := build-san
BUILD_TSAN := build-tsan
BUILD_CSAN := build-clang-san
PVIR      := $(BUILD)/pvir
SAN_OPTS  := -Db_sanitize=address,undefined -Db_lundef=false \
             -Dc_args=-fno-sanitize-recover=all

.PHONY: all deps build build-san build-csan build-tsan run test check-long format check-format clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja: | deps
	meson setup $(BUILD) --buildtype=debug

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

# The default scenario (scenarios/default.yaml, embedded in the binary).
run: build
	$(PVIR) run

# Every unit test, then the same tests built with ASan+UBSan by gcc and by
# clang, then with TSan (the posted-interrupt descriptor is shared between
# threads). Timeouts (tests/meson.build) are for the plain build; the
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
		--print-errorlogs || rc=1; \
	python3 scripts/test-summary $(BUILD) $(BUILD_SAN) $(BUILD_CSAN) $(BUILD_TSAN) || rc=1; \
	exit $$rc

# The full sizes of what make test samples (PVIR_LONG=1): failure injection
# at every N with more vectors per operation. Under ASan+UBSan, no timeout.
check-long: build-san
	PVIR_LONG=1 $(SAN_ENV) meson test -C $(BUILD_SAN) --timeout-multiplier 0 \
		--print-errorlogs inject

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

check-format:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_SAN) $(BUILD_CSAN) $(BUILD_TSAN)
