# Interop against SIPp (Debian sip-tester), an independent SIP stack, on
# loopback only: OPTIONS over UDP/TCP and IPv4/IPv6, retransmission, loss,
# the RFC 4475 torture set sent to a live sipsess-ua, and our client
# transactions against SIPp as a server (plus the session scenarios).
.PHONY: test-interop
test-interop: lib tools
	PYTHON=$(PYTHON) bash tests/interop/run.sh $(B) $(abspath $(SHARED))

TEST_SUITES += test-interop
