# Robustness on loopback (tests/interop/robust.sh): packet loss at SIPp and
# on our side of the wire, 5,000 simultaneous calls and 50,000 cycled with
# VmRSS measured between phases, malformed traffic over UDP and TCP, and
# the sessions/transactions/TCP/size limits refusing work (503 +
# Retry-After, 513) while the UA goes on serving. About two minutes.
.PHONY: test-robust
test-robust: lib tools
	PYTHON=$(PYTHON) bash tests/interop/robust.sh $(B) $(abspath $(SHARED))

TEST_SUITES += test-robust
