# Parse benchmark (never part of `make test`). The library of this build
# directory is built with OPT (-O2 by default); the benchmark itself with -O2.
BENCH_BIN := $(B)/bench/parse_bench
BENCH_DIR ?= $(SHARED)/bench-corpus
CFLAGS_BENCH := -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -g -Ilibsipsess/include $(WARN) \
	-DBENCH_DEFAULT_DIR='"$(abspath $(SHARED))/bench-corpus"'

$(BENCH_BIN): bench/parse_bench.c bench/msg_walk.c bench/msg_walk.h $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BENCH) -o $@ bench/parse_bench.c bench/msg_walk.c $(STATIC)

# Idle-session cost over the in-memory network (bench/sessions_bench.c),
# linked like the parse benchmark to this build's static library.
SESS_BENCH_BIN := $(B)/bench/sessions_bench
$(SESS_BENCH_BIN): bench/sessions_bench.c $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BENCH) -D_GNU_SOURCE -o $@ bench/sessions_bench.c $(STATIC)

# uas_c, uas_python, uas_lua: SIPp's uac against sipsess-ua, bench/uas.py and
# bench/uas.lua under sipsess-lua (bench/uas_bench.sh);
# sessions: SESS_BENCH_MAX idle sessions at most (default 100000).
SESS_BENCH_MAX ?= 100000
bench: $(BENCH_BIN) $(SESS_BENCH_BIN) $(B)/bin/sipsess-ua python lua
	@$(BENCH_BIN) $(BENCH_DIR)
	@PYTHON=$(PYTHON) bash bench/uas_bench.sh $(B)
	@$(SESS_BENCH_BIN) $(SESS_BENCH_MAX)
