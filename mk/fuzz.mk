# libFuzzer targets, build/fuzz/<name>_fuzzer, one per fuzz/<name>_fuzzer.c:
#   msg     message parser, printer, lookups, framer over one datagram
#   uri     URI parser, printer, comparison, unescaping
#   framer  stream framer fed in chunks chosen by the input
#   digest  Authorization / WWW-Authenticate / ... parameters
#   ua      a whole UA on a memnet and a virtual clock fed datagrams
# The library sources are compiled here again, with coverage and the same
# sanitizers, and without -fvisibility=hidden; they are linked directly,
# not through libsipsess.so.
#
#   make fuzz                 run each target for FUZZ_SECONDS (default 60)
#   make fuzz-replay          run each target once over the conformance set
#                             and fuzz/corpus/<name>/ (part of `make test`)
#   make fuzz-build           only build
# FUZZ_TARGETS="framer ua" narrows any of them to some targets.
# Corpora grow under build/fuzz/corpus/<target>/ (seeded from $(SHARED)
# and fuzz/corpus/); crashes land in build/fuzz/artifacts/.

FUZZ_B := $(B)/fuzz
FUZZ_SECONDS ?= 60
FUZZ_FLAGS ?=
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -DSIPSESS_BUILDING -Ilibsipsess/include -Ilibsipsess/src \
	-Ibench $(WARN) -O1 -g $(FUZZ_SAN)
FUZZ_LIB_OBJ := $(patsubst libsipsess/src/%.c,$(FUZZ_B)/obj/%.o,$(LIB_SRC))
FUZZ_TARGETS ?= msg uri framer digest ua
FUZZERS := $(patsubst %,$(FUZZ_B)/%_fuzzer,$(FUZZ_TARGETS))
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

$(FUZZ_B)/%_fuzzer: fuzz/%_fuzzer.c fuzz/fuzz_util.h $(PUB_HDR) $(LIB_PRIV_HDR) $(FUZZ_B)/obj/msg_walk.o \
		$(FUZZ_LIB_A)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_B)/obj/msg_walk.o $(FUZZ_LIB_A)

.PHONY: fuzz-build fuzz-replay fuzz-seed
fuzz-build: $(FUZZERS)

# Replay: libFuzzer runs each file given as an argument once (files, never
# directories: a directory argument would start fuzzing into it).
fuzz-replay: $(FUZZERS)
	@test -n "$(FUZZ_CONFORMANCE)" || { echo "no conformance messages under SHARED=$(SHARED)" >&2; exit 1; }
	@echo "scripts/fuzz-replay.sh: each target over $(SHARED)/conformance and fuzz/corpus/"
	@$(foreach t,$(FUZZ_TARGETS),scripts/fuzz-replay.sh $(FUZZ_B)/logs $(FUZZ_B)/$(t)_fuzzer \
	    $(sort $(wildcard fuzz/corpus/$(t)/*)) $(FUZZ_CONFORMANCE) &&) true

# Working corpora under build/: $(SHARED) is read-only and fuzz/corpus/
# holds only the committed seeds. Existing corpus files are kept.
fuzz-seed:
	@for t in $(FUZZ_TARGETS); do mkdir -p $(FUZZ_B)/corpus/$$t; \
	    if [ -d fuzz/corpus/$$t ]; then cp -n fuzz/corpus/$$t/* $(FUZZ_B)/corpus/$$t/; fi; done
	@mkdir -p $(FUZZ_B)/artifacts
	@for t in $(filter msg framer ua,$(FUZZ_TARGETS)); do for f in $(FUZZ_CONFORMANCE); do \
	    d=$$(basename $$(dirname $$f)); cp -n $$f $(FUZZ_B)/corpus/$$t/$$d-$$(basename $$f); done; done
	@$(if $(filter uri,$(FUZZ_TARGETS)),scripts/extract-uris.sh $(FUZZ_B)/corpus/uri $(FUZZ_CONFORMANCE))

# Every target runs even when an earlier one finds something; the status
# says whether any did.
fuzz: $(FUZZERS) fuzz-seed
	@failed=""; for t in $(FUZZ_TARGETS); do \
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
