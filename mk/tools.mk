# Command-line tools built on the public API only (linked to the shared
# library, like any user program). sipsess-ua keeps its SDP builder in a
# file of its own; both are compiled in one command, they are small.
TOOLS := $(B)/bin/sipsess-ua
SIPSESS_UA_SRC := tools/sipsess_ua.c tools/ua_sdp.c

$(B)/bin/sipsess-ua: $(SIPSESS_UA_SRC) tools/ua_sdp.h $(SO_DEV) $(PUB_HDR)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -Ilibsipsess/include $(WARN) $(OPT) $(EXTRA_CFLAGS) -o $@ \
	    $(SIPSESS_UA_SRC) -L$(B)/lib -lsipsess -Wl,-rpath,'$$ORIGIN/../lib'

.PHONY: tools
tools: $(TOOLS)
