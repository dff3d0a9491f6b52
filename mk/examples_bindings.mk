# The same three SIP programs in C, Python and Lua (examples/{c,python,lua}/):
# uas (auto-answering, follows REFER), hold (hold/unhold re-INVITEs) and
# transfer (blind transfer by REFER). The C ones use the public API only
# and link the static library, like mk/examples.mk.
#
#   make examples                  also builds build/bin/example-{uas,hold,transfer}
#   make test-examples-bindings    runs them against each other, across
#                                  languages, over UDP on loopback
#                                  (scripts/check-examples.sh; part of `make test`)
EXB_COMMON := examples/c/common.c examples/c/common.h
EXB_BINS := $(B)/bin/example-uas $(B)/bin/example-hold $(B)/bin/example-transfer

$(B)/bin/example-%: examples/c/%.c $(EXB_COMMON) $(STATIC) $(PUB_HDR)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -Ilibsipsess/include $(WARN) $(OPT) $(EXTRA_CFLAGS) -o $@ \
	    $< examples/c/common.c $(STATIC)

examples: $(EXB_BINS)

.PHONY: test-examples-bindings
test-examples-bindings: examples python lua tools
	PYTHON=$(PYTHON) LUA=$(LUA) scripts/check-examples.sh $(B)

TEST_SUITES += test-examples-bindings
