# ABI hygiene and install checks (tests/abi/). Both use the shared library
# of this build directory.
.PHONY: test-abi test-install
test-abi: lib
	CC='$(CC)' tests/abi/check.sh $(B) $(VERSION)

# MAKE_PROG, not $(MAKE): a line naming $(MAKE) would run even under make -n.
MAKE_PROG := $(MAKE)
test-install: lib
	CC='$(CC)' MAKE='$(MAKE_PROG)' tests/abi/install_test.sh $(B) $(VERSION)
