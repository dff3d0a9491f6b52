# Command-line tools built on the public API only (linked to the shared
# library, like any user program).
TOOLS := $(B)/bin/sipsess-ua

$(B)/bin/sipsess-ua: tools/sipsess_ua.c $(SO_DEV) $(PUB_HDR)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -Ilibsipsess/include $(WARN) $(OPT) $(EXTRA_CFLAGS) -o $@ $< \
	    -L$(B)/lib -lsipsess -Wl,-rpath,'$$ORIGIN/../lib'

.PHONY: tools
tools: $(TOOLS)
