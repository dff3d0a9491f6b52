# libFuzzer targets: build/fuzz/msg_fuzzer and build/fuzz/uri_fuzzer.
# The library sources are compiled here again, with coverage and the same
# sanitizers, and without -fvisibility=hidden; they are linked directly,
# not through libsipsess.so.
#
#   make fuzz                 run each target for FUZZ_SECONDS (default 60)
#   make fuzz-replay          run each target once over the conformance set
#                             and fuzz/corpus/ (part of `make test`)
#   make fuzz-build           only build
# Corpora grow under build/fuzz/corpus/<target>/ (seeded from $(SHARED)
# and fuzz/corpus/); crashes land in build/fuzz/artifacts/.

FUZZ_B := $(B)/fuzz
FUZZ_SECONDS ?= 60
FUZZ_FLAGS ?=
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -DSIPSESS_BUILDING -Ilibsipsess/include -Ilibsipsess/src \
	-Ibench $(WARN) -O1 -g $(FUZZ_SAN)
FUZZ_LIB_OBJ := $(patsubst libsipsess/src/%.c,$(FUZZ_B)/obj/%.o,$(LIB_SRC))
FUZZERS := $(FUZZ_B)/msg_fuzzer $(FUZZ_B)/uri_fuzzer
FUZZ_CONFORMANCE = $(sort $(wildcard $(SHARED)/conformance/rfc4475/*.dat \
	$(SHARED)/conformance/rfc5118/*.dat $(SHARED)/conformance/rfc5118/wire/*.dat))

$(FUZZ_B)/obj/%.o: libsipsess/src/%.c $(PUB_HDR) $(LIB_PRIV_HDR) | $(VERSION_H)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_B)/obj/msg_walk.o: bench/msg_walk.c bench/msg_walk.h $(PUB_HDR)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

# An archive, so a target links only the objects it uses.
FUZZ_LIB_A := $(FUZZ_B)/libsipsess_fuzz.a
$(FUZZ_LIB_A): $(FUZZ_LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_B)/%_fuzzer: fuzz/%_fuzzer.c fuzz/fuzz_util.h $(FUZZ_B)/obj/msg_walk.o $(FUZZ_LIB_A)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_B)/obj/msg_walk.o $(FUZZ_LIB_A)

.PHONY: fuzz-build fuzz-replay fuzz-seed
fuzz-build: $(FUZZERS)

# Replay: libFuzzer runs each file given as an argument once (files, never
# directories: a directory argument would start fuzzing into it).
fuzz-replay: $(FUZZERS)
	@test -n "$(FUZZ_CONFORMANCE)" || { echo "no conformance messages under SHARED=$(SHARED)" >&2; exit 1; }
	@echo "scripts/fuzz-replay.sh: each target over $(SHARED)/conformance and fuzz/corpus/"
	@scripts/fuzz-replay.sh $(FUZZ_B)/logs $(FUZZ_B)/msg_fuzzer $(FUZZ_CONFORMANCE) $(sort $(wildcard fuzz/corpus/msg/*))
	@scripts/fuzz-replay.sh $(FUZZ_B)/logs $(FUZZ_B)/uri_fuzzer $(sort $(wildcard fuzz/corpus/uri/*)) $(FUZZ_CONFORMANCE)

# Working corpora under build/: $(SHARED) is read-only and fuzz/corpus/
# holds only the committed seeds. Existing corpus files are kept.
fuzz-seed:
	@mkdir -p $(FUZZ_B)/corpus/msg $(FUZZ_B)/corpus/uri $(FUZZ_B)/artifacts
	@for f in $(FUZZ_CONFORMANCE); do \
	    d=$$(basename $$(dirname $$f)); cp -n $$f $(FUZZ_B)/corpus/msg/$$d-$$(basename $$f); done
	@cp -n fuzz/corpus/msg/* $(FUZZ_B)/corpus/msg/
	@cp -n fuzz/corpus/uri/* $(FUZZ_B)/corpus/uri/
	@scripts/extract-uris.sh $(FUZZ_B)/corpus/uri $(FUZZ_CONFORMANCE)

# Both targets run even when the first one finds something; the status
# says whether either did.
fuzz: $(FUZZERS) fuzz-seed
	@failed=""; for t in msg uri; do \
	    echo "== $${t}_fuzzer for $(FUZZ_SECONDS)s (corpus $(FUZZ_B)/corpus/$$t)"; \
	    $(FUZZ_B)/$${t}_fuzzer -max_total_time=$(FUZZ_SECONDS) -dict=fuzz/sip.dict \
	        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	        -artifact_prefix=$(FUZZ_B)/artifacts/$$t- $(FUZZ_FLAGS) \
	        $(FUZZ_B)/corpus/$$t || failed="$$failed $${t}_fuzzer"; \
	done; \
	if [ -n "$$failed" ]; then \
	    echo "fuzz: findings from$$failed; inputs in $(FUZZ_B)/artifacts/" >&2; \
	    echo "      reproduce: $(FUZZ_B)/<target> <artifact>" >&2; exit 1; \
	fi
	@echo "fuzz: no finding in $(FUZZ_SECONDS)s per target; corpora in $(FUZZ_B)/corpus/"
