# Parse benchmark (never part of `make test`). The library of this build
# directory is built with OPT (-O2 by default); the benchmark itself with -O2.
BENCH_BIN := $(B)/bench/parse_bench
BENCH_DIR ?= $(SHARED)/bench-corpus
CFLAGS_BENCH := -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -g -Ilibsipsess/include $(WARN) \
	-DBENCH_DEFAULT_DIR='"$(abspath $(SHARED))/bench-corpus"'

$(BENCH_BIN): bench/parse_bench.c bench/msg_walk.c bench/msg_walk.h $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BENCH) -o $@ bench/parse_bench.c bench/msg_walk.c $(STATIC)

bench: $(BENCH_BIN)
	@$(BENCH_BIN) $(BENCH_DIR)
