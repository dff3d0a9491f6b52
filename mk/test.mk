# C test suite (Criterion) and the `make test` sequence.
#
# One binary holds every tests/c/*.c file; it links the static library so
# tests can reach private functions too. The same binary is built three
# ways: gcc (plain run, then under valgrind) and clang with ASan+UBSan.

CTEST_SRC := $(sort $(wildcard tests/c/*.c))
CTEST_BIN := $(B)/tests/c_tests
CTEST_JOBS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ "$$n" -ge 2 ] && echo $$n || echo 2)
CFLAGS_TEST := -std=c11 -D_GNU_SOURCE -Ilibsipsess/include -Ilibsipsess/src -Itests/c \
	$(WARN) -Wno-missing-prototypes $(OPT) $(EXTRA_CFLAGS) -DSHARED_DIR='"$(abspath $(SHARED))"'

$(CTEST_BIN): $(CTEST_SRC) $(wildcard tests/c/*.h) $(STATIC) $(FLAGS_STAMP)
	@test -n "$(CTEST_SRC)" || { echo "no tests/c/*.c files" >&2; exit 1; }
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_TEST) -o $@ $(CTEST_SRC) $(STATIC) -lcriterion

# Sanitizer build of the suite (clang; see `test` below for its build dir).
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_OPT := -O1 -g

.PHONY: test-c test-c-asan test-c-valgrind
test-c: $(CTEST_BIN)
	$(CTEST_BIN) --jobs $(CTEST_JOBS)

# Criterion forks a child per test and ignores a child's exit status once
# the test has passed, so leak reports written at child exit would be lost.
# scripts/memcheck.sh sends every report to a log file per process and
# fails when any report was written.
test-c-asan: $(CTEST_BIN)
	scripts/memcheck.sh asan $(B)/logs/asan -- $(CTEST_BIN) --jobs $(CTEST_JOBS)

# Valgrind restarts for every test process Criterion spawns (~1 s each on
# a 2-core machine): this step dominates `make test`. VALGRIND_CTEST_ARGS
# (e.g. --filter 'conformance/*') narrows it when iterating.
VALGRIND_CTEST_ARGS ?=
test-c-valgrind: $(CTEST_BIN)
	scripts/memcheck.sh valgrind $(B)/logs/valgrind -- $(CTEST_BIN) --jobs $(CTEST_JOBS) \
	    --timeout 300 $(VALGRIND_CTEST_ARGS)

# ---------------------------------------------------------------------
# make test: every suite, in order, each under a header. Each step is a
# sub-make so its build directory and compiler are explicit; the first
# failing step stops the run with a non-zero status.

# Other suites (interop, bindings, ...) join `make test` by adding their
# phony target in their own mk/*.mk: `TEST_SUITES += test-interop`. They
# run after the nine steps, in the order added, with the gcc build.
TEST_SUITES ?=

B_CLANG := $(B)/clang
B_ASAN := $(B)/asan
T0 := $(shell date +%s)
section = @printf '\n=== %s  [+%ss] ===\n' '$(1)' "$$(( $$(date +%s) - $(T0) ))"
SUBMAKE := $(MAKE) --no-print-directory

test: deps
	$(call section,1/9 gcc build: library and tools (-Werror))
	+$(SUBMAKE) CC=$(GCC) lib tools
	$(call section,2/9 clang build: library and tools (-Werror) in $(B_CLANG))
	+$(SUBMAKE) B=$(B_CLANG) CC=$(CLANG) lib tools
	$(call section,3/9 C suite (gcc))
	+$(SUBMAKE) CC=$(GCC) test-c
	$(call section,4/9 C suite (clang ASan+UBSan) in $(B_ASAN))
	+$(SUBMAKE) B=$(B_ASAN) CC=$(CLANG) OPT='$(SAN_OPT)' EXTRA_CFLAGS='$(SAN_FLAGS)' test-c-asan
	$(call section,5/9 C suite under valgrind)
	+$(SUBMAKE) CC=$(GCC) test-c-valgrind
	$(call section,6/9 ABI checks)
	+$(SUBMAKE) CC=$(GCC) test-abi
	$(call section,7/9 install + pkg-config user)
	+$(SUBMAKE) CC=$(GCC) test-install
	$(call section,8/9 examples)
	+$(SUBMAKE) CC=$(GCC) test-examples
	$(call section,9/9 fuzz targets over the conformance set)
	+$(SUBMAKE) fuzz-replay
	+@for t in $(TEST_SUITES); do \
	    printf '\n=== %s  [+%ss] ===\n' "more: $$t" "$$(( $$(date +%s) - $(T0) ))"; \
	    $(SUBMAKE) CC=$(GCC) $$t || exit 1; \
	done
	$(call section,make test: all passed)
