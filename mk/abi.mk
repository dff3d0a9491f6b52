# ABI hygiene and install checks (tests/abi/). Both use the shared library
# of this build directory.
.PHONY: test-abi test-install
test-abi: lib
	CC='$(CC)' tests/abi/check.sh $(B) $(VERSION)

test-install: lib
	CC='$(CC)' MAKE='$(MAKE)' tests/abi/install_test.sh $(B) $(VERSION)
