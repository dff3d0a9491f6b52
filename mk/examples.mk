# Examples (examples/*.c) built on the public API only, the demo, and the
# check that they build and run (part of `make test`). Linked with the
# static library so they run from the build tree. `make tools` builds them
# together with the command-line tools of mk/tools.mk.
EXAMPLE_BINS := $(B)/bin/sipsess-parse $(B)/bin/parse_example
CFLAGS_EXAMPLE := -std=c11 -Ilibsipsess/include $(WARN) $(OPT) $(EXTRA_CFLAGS)

$(B)/bin/sipsess-parse: examples/sipsess_parse.c $(STATIC) $(PUB_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_EXAMPLE) -o $@ $< $(STATIC)

$(B)/bin/parse_example: examples/parse_example.c $(STATIC) $(PUB_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_EXAMPLE) -o $@ $< $(STATIC)

.PHONY: examples tools test-examples
examples: $(EXAMPLE_BINS)
tools: examples

DEMO_FILES = $(sort $(wildcard $(SHARED)/conformance/rfc4475/*.dat)) \
	$(sort $(wildcard $(SHARED)/conformance/rfc5118/wire/*.dat))

demo: deps
	+@$(MAKE) --no-print-directory lib examples tools python lua
	@test -n "$(DEMO_FILES)" || { echo "no conformance messages under SHARED=$(SHARED)" >&2; exit 1; }
	@echo "== the parser over the $(words $(DEMO_FILES)) RFC 4475 and RFC 5118 (wire/) torture-test messages"
	@$(B)/bin/sipsess-parse -q $(DEMO_FILES) | tail -n 1
	@echo
	@echo "== a whole call between two C user agents in one process (examples/call_example.c)"
	@$(B)/bin/call_example | tail -n 3
	@echo
	@echo "== a Python UAS (examples/demo/callee.py) and a Lua caller run by sipsess-lua"
	@echo "   (examples/demo/caller.lua) place a real call over UDP on 127.0.0.1"
	@echo
	@scripts/demo-bindings.sh $(B) $(PYTHON)

# The demo's call runs in `make test` too, so the README's main job stays
# working.
.PHONY: test-demo
test-demo: python lua
	@mkdir -p $(B)/logs
	@scripts/demo-bindings.sh $(B) $(PYTHON) > $(B)/logs/demo.txt 2>&1 || { cat $(B)/logs/demo.txt; exit 1; }
	@tail -n 1 $(B)/logs/demo.txt
TEST_SUITES += test-demo

# The README's C example is examples/parse_example.c, and it runs;
# sipsess-parse reads every conformance message in both modes without failing.
test-examples: $(EXAMPLE_BINS)
	@scripts/check-readme-example.sh
	$(B)/bin/parse_example
	@test -n "$(DEMO_FILES)" || { echo "no conformance messages under SHARED=$(SHARED)" >&2; exit 1; }
	@mkdir -p $(B)/logs
	@echo "$(B)/bin/sipsess-parse -q [-l] <$(words $(DEMO_FILES)) conformance messages>"
	@$(B)/bin/sipsess-parse -q $(DEMO_FILES) > $(B)/logs/sipsess-parse-strict.txt
	@tail -n 1 $(B)/logs/sipsess-parse-strict.txt
	@$(B)/bin/sipsess-parse -q -l $(DEMO_FILES) > $(B)/logs/sipsess-parse-lenient.txt
	@tail -n 1 $(B)/logs/sipsess-parse-lenient.txt

# A whole call between two UAs over the in-memory network on a virtual
# clock (session API); make test runs it under the same checks.
$(B)/bin/call_example: examples/call_example.c $(STATIC) $(PUB_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_EXAMPLE) -o $@ $< $(STATIC)

examples: $(B)/bin/call_example
test-examples: test-call-example
.PHONY: test-call-example
test-call-example: $(B)/bin/call_example
	$(B)/bin/call_example
