# libsipsess — top-level build.
#   make            library (.so + .a + pkg-config file) and tools (build/bin/)
#   make test       installs missing Debian packages, builds, runs every suite
#   make demo       parses and pretty-prints the RFC 4475/5118 messages
#   make bench      parser, UAS (SIPp) and idle-session figures (never pass/fail)
#   make fuzz       bounded libFuzzer runs (FUZZ_SECONDS per target)
#   make install    PREFIX=/usr/local DESTDIR=
#   make deps       only install the missing Debian packages
#
# SHARED points at the shared folder (conformance messages, bench corpus);
# it is only read, never written.

VERSION_MAJOR := 0
VERSION_MINOR := 1
VERSION_PATCH := 0
VERSION := $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)

SHARED ?= ../shared
PREFIX ?= /usr/local
DESTDIR ?=
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PYTHON ?= /usr/bin/python3

GCC ?= gcc
CLANG ?= clang
# The default build uses gcc, the compiler `make test` checks first (and the
# one its steps share objects with); CC=... on the command line or in the
# environment wins.
ifeq ($(origin CC),default)
CC := $(GCC)
endif
B ?= build
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith -Wvla
OPT ?= -O2 -g
CFLAGS_LIB := -std=c11 -D_GNU_SOURCE -fPIC -fvisibility=hidden -DSIPSESS_BUILDING \
	-Ilibsipsess/include -Ilibsipsess/src $(WARN) $(OPT) $(EXTRA_CFLAGS)
LDFLAGS_SO := -shared -Wl,-soname,libsipsess.so.$(VERSION_MAJOR) \
	-Wl,--version-script=libsipsess/sipsess.map -Wl,--no-undefined -Wl,-z,defs

LIB_SRC := $(sort $(wildcard libsipsess/src/*/*.c))
LIB_OBJ := $(patsubst libsipsess/src/%.c,$(B)/obj/%.o,$(LIB_SRC))
LIB_PRIV_HDR := $(wildcard libsipsess/src/*/*.h)
VERSION_H := libsipsess/include/sipsess/version.h
PUB_HDR := $(sort $(wildcard libsipsess/include/sipsess/*.h) $(VERSION_H))

SO_REAL := $(B)/lib/libsipsess.so.$(VERSION)
SO_MAJOR := $(B)/lib/libsipsess.so.$(VERSION_MAJOR)
SO_DEV := $(B)/lib/libsipsess.so
STATIC := $(B)/lib/libsipsess.a
PC := $(B)/lib/pkgconfig/sipsess.pc

# Compiler and flags of this build directory. The file only changes when
# they change, so switching CC or flags on the same B rebuilds everything.
FLAGS_STAMP := $(B)/.flags
FLAGS_NOW = $(CC) | $(CFLAGS_LIB) | $(CFLAGS_TEST) | $(LDFLAGS_SO)
shq = '$(subst ','\'',$(1))'

.PHONY: all lib tools test demo bench fuzz install uninstall clean deps FORCE
all: lib tools

lib: $(SO_DEV) $(STATIC) $(PC)

deps:
	@scripts/deps.sh

$(FLAGS_STAMP): FORCE
	@mkdir -p $(dir $@)
	@printf '%s\n' $(call shq,$(FLAGS_NOW)) | cmp -s - $@ || \
	    printf '%s\n' $(call shq,$(FLAGS_NOW)) > $@

$(VERSION_H): libsipsess/include/sipsess/version.h.in Makefile
	sed -e 's/@MAJOR@/$(VERSION_MAJOR)/g' -e 's/@MINOR@/$(VERSION_MINOR)/g' \
	    -e 's/@PATCH@/$(VERSION_PATCH)/g' $< > $@

$(B)/obj/%.o: libsipsess/src/%.c $(PUB_HDR) $(LIB_PRIV_HDR) $(FLAGS_STAMP) | $(VERSION_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_LIB) -c $< -o $@

$(SO_REAL): $(LIB_OBJ) libsipsess/sipsess.map
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_SO) $(EXTRA_CFLAGS) -o $@ $(LIB_OBJ)

$(SO_MAJOR): $(SO_REAL)
	ln -sf $(notdir $<) $@
$(SO_DEV): $(SO_MAJOR)
	ln -sf $(notdir $<) $@

$(STATIC): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

# pkg-config text for a given prefix: $(call pc_text,prefix,libdir,includedir)
pc_sed = sed -e 's|@PREFIX@|$(1)|g' -e 's|@LIBDIR@|$(2)|g' \
	-e 's|@INCLUDEDIR@|$(3)|g' -e 's|@VERSION@|$(VERSION)|g' libsipsess/sipsess.pc.in

$(PC): libsipsess/sipsess.pc.in Makefile
	@mkdir -p $(dir $@)
	$(call pc_sed,$(PREFIX),$(LIBDIR),$(INCLUDEDIR)) > $@

# The .pc file is written at install time so it always names the PREFIX
# given to `make install`, whatever PREFIX the build used.
install: lib
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/sipsess
	install -m 0755 $(SO_REAL) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(SO_REAL)) $(DESTDIR)$(LIBDIR)/$(notdir $(SO_MAJOR))
	ln -sf $(notdir $(SO_MAJOR)) $(DESTDIR)$(LIBDIR)/$(notdir $(SO_DEV))
	install -m 0644 $(STATIC) $(DESTDIR)$(LIBDIR)/
	install -m 0644 $(PUB_HDR) $(DESTDIR)$(INCLUDEDIR)/sipsess/
	$(call pc_sed,$(PREFIX),$(LIBDIR),$(INCLUDEDIR)) > $(DESTDIR)$(LIBDIR)/pkgconfig/sipsess.pc
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then ldconfig; fi

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/$(notdir $(SO_REAL)) $(DESTDIR)$(LIBDIR)/$(notdir $(SO_MAJOR)) \
	      $(DESTDIR)$(LIBDIR)/$(notdir $(SO_DEV)) $(DESTDIR)$(LIBDIR)/$(notdir $(STATIC)) \
	      $(DESTDIR)$(LIBDIR)/pkgconfig/sipsess.pc
	rm -rf $(DESTDIR)$(INCLUDEDIR)/sipsess

-include $(sort $(wildcard mk/*.mk))

clean:
	rm -rf $(B) $(VERSION_H)
